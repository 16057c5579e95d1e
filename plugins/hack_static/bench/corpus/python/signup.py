import hashlib
import logging

import requests
from flask import request

DEBUG = False
log = logging.getLogger(__name__)
R = "service://python-app/request"


def signup(conn):
    email = request.form["email"]
    name = request.form.get("name")
    cur = conn.cursor()
    cur.execute("INSERT INTO users (email, name) VALUES (%s, %s)", (email, name))
    # FLOW service://python-app/request#email -> postgres://default:5432/users#email
    # FLOW service://python-app/request#name -> postgres://default:5432/users#name
    logging.info("new user %s", name)
    # FLOW service://python-app/request#name -> log://python/root#name
    digest = hashlib.sha256(email.encode()).hexdigest()
    log.info("digest %s", digest)
    # NOFLOW service://python-app/request#email -> log://python/signup#email
    if DEBUG:
        log.debug("raw %s", email)
    requests.post("https://crm.internal/api/contacts", json={"contact": email})
    # FLOW service://python-app/request#email -> https://crm.internal//api/contacts#contact


def update_profile(conn):
    bio = request.json["bio"]
    city = request.json["city"]
    conn.execute("UPDATE profiles SET bio = %s, city = %s WHERE id = 1", (bio, city))
    # FLOW service://python-app/request#bio -> postgres://default:5432/profiles#bio
    # FLOW service://python-app/request#city -> postgres://default:5432/profiles#city
    status = "updated"
    logging.warning("profile %s", status)
    # NOFLOW service://python-app/request#bio -> log://python/root#bio
    # NOFLOW service://python-app/request#city -> log://python/root#city
