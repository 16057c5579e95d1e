import hashlib
import logging

import redis
import requests as rq
from flask import Flask, request

app = Flask(__name__)
DEBUG_MODE = False
log = logging.getLogger(__name__)
cache = redis.Redis()


@app.route("/signup", methods=["POST"])
def signup(conn):
    email = request.form["email"]
    city = request.args.get("city")
    cur = conn.cursor()
    cur.execute("INSERT INTO users (email, city) VALUES (%s, %s)", (email, city))
    logging.info("signup from %s", city)
    rq.post(f"https://geo.internal/api/v1/cities/{city}", json={"city": city})
    cache.set(f"user:{email}", city)
    email_hash = hashlib.sha256(email.encode()).hexdigest()
    log.info("hashed %s", email_hash)
    if DEBUG_MODE:
        log.debug("raw email %s", email)
    unrelated = "ok"
    logging.warning("status %s", unrelated)
