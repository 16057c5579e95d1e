import hashlib
import logging


def save_user(cur, email, phone):
    cur.execute("INSERT INTO contacts (email, phone) VALUES (%s, %s)", (email, phone))


def audit(message):
    logging.info("audit: %s", message)


def anonymize(value):
    return hashlib.sha256(value.encode()).hexdigest()


def clean(value):
    return value.strip()
