import json
import logging

import httpx
import redis

logger = logging.getLogger("views")
cache = redis.Redis()
TRACE = False


def checkout(request, cursor):
    card = request.POST["card_number"]
    amount = request.POST.get("amount")
    address = request.POST["address"]
    cursor.execute("INSERT INTO orders (amount, address) VALUES (%s, %s)", [amount, address])
    # NOFLOW service://python-app/request#amount -> postgres://default:5432/orders#amount (an amount: no personal data)
    # FLOW service://python-app/request#address -> postgres://default:5432/orders#address
    # NOFLOW service://python-app/request#card_number -> postgres://default:5432/orders#amount
    payload = {"card": card, "total": amount}
    httpx.post("https://payments.internal/v2/charge", json=payload)
    # FLOW service://python-app/request#card_number -> https://payments.internal//v2/charge#card
    # NOFLOW service://python-app/request#amount -> https://payments.internal//v2/charge#total (an amount)
    cache.set(f"order:{amount}", json.dumps({"addr": address}))
    # FLOW service://python-app/request#address -> cache://redis/order:{}#address
    if TRACE:
        logger.info("card %s", card)
    # NOFLOW service://python-app/request#card_number -> log://python/views#card_number


def search(request):
    query = request.GET.get("q")
    page = request.GET.get("page")
    normalized = query.strip().lower()
    logger.info("search %s", normalized)
    # FLOW service://python-app/request#q -> log://python/views#q
    label = "page"
    logger.info("%s", label)
    # NOFLOW service://python-app/request#page -> log://python/views#page
