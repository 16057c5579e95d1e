import hashlib
import json

from confluent_kafka import Producer
from flask import request
from kafka import KafkaProducer
from orm_models import Customer, Newsletter, Review, orders
from sqlalchemy import insert

producer = KafkaProducer(bootstrap_servers="kafka:9092")


def place_order(conn):
    email = request.form["email"]
    note = request.form["note"]
    conn.execute(insert(orders).values(email=email, status="new"))
    # FLOW service://python-app/request#email -> postgres://default:5432/orders#email
    # NOFLOW service://python-app/request#note -> postgres://default:5432/orders#status


def register_customer(session):
    email = request.form["email"]
    session.add(Customer(email=email))
    # FLOW service://python-app/request#email -> postgres://default:5432/customers#email
    session.add(Customer(email="system@example.com"))


def post_review(request):
    text = request.POST["text"]
    Review.objects.create(text=text)
    # FLOW service://python-app/request#text -> postgres://default:5432/shop_reviews#text


def subscribe(request):
    email = request.POST["email"]
    sub = Newsletter(email=email)
    sub.save()
    # FLOW service://python-app/request#email -> postgres://default:5432/newsletter_signups#email
    digest = hashlib.sha256(email.encode()).hexdigest()
    Newsletter.objects.filter(email=email).update(email_hash=digest)
    # NOFLOW service://python-app/request#email -> postgres://default:5432/newsletter_signups#email_hash


def publish(request):
    body = request.get_json()
    producer.send("signups", value=json.dumps({"email": body["email"]}))
    # FLOW service://python-app/request#email -> kafka://kafka:9092/signups#email


def publish_views(request):
    p = Producer({"bootstrap.servers": "kafka:9092"})
    user = request.args["user"]
    p.produce("page_views", user)
    # FLOW service://python-app/request#user -> kafka://kafka:9092/page_views#user
    p.produce("heartbeats", "ok")


def upload_image(request, storage):
    name = request.form["name"]
    image = storage.open_image()
    image.save(name)
    # NOFLOW service://python-app/request#name -> postgres://default:5432/unresolved:storage.open_image#name
