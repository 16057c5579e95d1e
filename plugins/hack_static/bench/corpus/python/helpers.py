import hashlib
import logging


def save_user(cur, email, phone):
    cur.execute("INSERT INTO contacts (email, phone) VALUES (%s, %s)", (email, phone))
    # parameters named as personal data are sources of their own (beside what each caller passes)
    # FLOW code://default/helpers.py#email -> postgres://default:5432/contacts#email
    # FLOW code://default/helpers.py#phone -> postgres://default:5432/contacts#phone


def audit(message):
    logging.info("audit: %s", message)


def anonymize(value):
    return hashlib.sha256(value.encode()).hexdigest()


def clean(value):
    return value.strip()
