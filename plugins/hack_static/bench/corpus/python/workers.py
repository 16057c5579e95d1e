import logging

import redis
import requests
from flask import request

kv = redis.Redis()
audit_logger = logging.getLogger("audit")
SEND_RAW = False


def enrich(conn):
    user = request.get_json()
    lat = user["lat"]
    lng = user["lng"]
    point = f"{lat},{lng}"
    kv.setex(f"geo:{user['id']}", 3600, point)
    # FLOW service://python-app/request#lat -> cache://redis/geo:{}#lat
    # FLOW service://python-app/request#lng -> cache://redis/geo:{}#lng
    requests.put("https://maps.internal/v3/points", json={"point": point, "source": "app"})
    # FLOW service://python-app/request#lat -> https://maps.internal//v3/points#point
    # FLOW service://python-app/request#lng -> https://maps.internal//v3/points#point
    audit_logger.info("enriched %s", user.get("id"))
    # FLOW service://python-app/request#id -> log://python/audit#id
    if SEND_RAW:
        requests.post("https://raw.internal/dump", json={"user": user})
    # NOFLOW service://python-app/request -> https://raw.internal//dump#user


def import_contacts(conn):
    rows = request.json["contacts"]
    cur = conn.cursor()
    for row in rows:
        cur.execute("INSERT INTO address_book (entry) VALUES (%s)", (row,))
    # FLOW service://python-app/request#contacts -> postgres://default:5432/address_book#entry
    owner = request.args["owner"]
    count = 0
    cur.execute("INSERT INTO imports (owner, total) VALUES (%s, %s)", (owner, count))
    # FLOW service://python-app/request#owner -> postgres://default:5432/imports#owner
    # NOFLOW service://python-app/request#contacts -> postgres://default:5432/imports#total
