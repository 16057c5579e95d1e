import logging

import helpers
from fastapi import Request


async def register(request: Request, cur):
    body = await request.json()
    email = helpers.clean(body["email"])
    helpers.save_user(cur, email, body["phone"])
    # FLOW service://python-app/request#email -> postgres://default:5432/contacts#email
    # FLOW service://python-app/request#phone -> postgres://default:5432/contacts#phone
    helpers.audit(body["username"])
    # FLOW service://python-app/request#username -> log://python/root#username
    helpers.audit(helpers.anonymize(body["ssn"]))
    # NOFLOW service://python-app/request#ssn -> log://python/root#ssn
    logging.info("registered %s", helpers.clean(body["country"]))
    # FLOW service://python-app/request#country -> log://python/root#country


async def feedback(request: Request):
    form = await request.form()
    text = form["text"]
    rating = form["rating"]
    logging.info(f"feedback {rating}")
    # FLOW service://python-app/request#rating -> log://python/root#rating
    # NOFLOW service://python-app/request#text -> log://python/root#text
    text = "redacted"
    logging.info(text)
