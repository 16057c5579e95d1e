"""Personal data recognised by what it is: identifiers, keys, columns and members classified by their words.

Privacy code scanners (Bearer, Privado) find personal data in unseen code by *data element*: a name such
as ``email``, ``phoneNumber``, ``date_of_birth``, ``m_homeCity`` or ``getValueOfEmail`` is split into
words (case styles, sigils, getter prefixes dropped) and matched against a curated vocabulary, longest
phrase first; a word that makes the name about something else (``email_template``, ``phone_prefix``,
``email_enabled``, ``DEFAULT_FROM_EMAIL``: a constant) excludes it. Ambiguous words (``name``, ``id``)
count only on a person (``user.name``, ``customer.id``). Each category is a fideslang data category name
(https://ethyca.github.io/fideslang/): this module is the only place that names them, as plain strings, so
the plugin does not depend on fideslang; ``tests/test_static_classify.py`` checks them against fideslang's
default taxonomy when it is installed.
"""

from __future__ import annotations

import re
from functools import lru_cache

# fideslang data categories used here (the default taxonomy's keys)
CONTACT = "user.contact"
EMAIL = "user.contact.email"
PHONE = "user.contact.phone_number"
FAX = "user.contact.fax_number"
ADDRESS = "user.contact.address"
STREET = "user.contact.address.street"
CITY = "user.contact.address.city"
POSTAL = "user.contact.address.postal_code"
COUNTRY = "user.contact.address.country"
STATE = "user.contact.address.state"
URL = "user.contact.url"
NAME = "user.name"
FIRST_NAME = "user.name.first"
LAST_NAME = "user.name.last"
USERNAME = "user.account.username"
CREDENTIALS = "user.authorization.credentials"
PASSWORD = "user.authorization.password"
UNIQUE_ID = "user.unique_id"
GOV_ID = "user.government_id.national_identification_number"
PASSPORT = "user.government_id.passport_number"
LICENSE = "user.government_id.drivers_license_number"
BIRTH = "user.demographic.date_of_birth"
AGE = "user.demographic.age_range"
GENDER = "user.demographic.gender"
LANGUAGE = "user.demographic.language"
RACE = "user.demographic.race_ethnicity"
RELIGION = "user.demographic.religious_belief"
POLITICS = "user.demographic.political_opinion"
SEXUALITY = "user.demographic.sexual_orientation"
PROFILE = "user.demographic.profile"
IP = "user.device.ip_address"
DEVICE_ID = "user.device.device_id"
COOKIE = "user.device.cookie_id"
DEVICE = "user.device"
PRECISE = "user.location.precise"
IMPRECISE = "user.location.imprecise"
LOCATION = "user.location"
CARD = "user.financial.credit_card"
BANK = "user.financial.bank_account"
FINANCIAL = "user.financial"
HEALTH = "user.health_and_medical"
BIOMETRIC = "user.biometric"
CONTENT = "user.content"
SEARCH = "user.behavior.search_history"
BROWSING = "user.behavior.browsing_history"
PURCHASES = "user.behavior.purchase_history"
JOB = "user.job_title"
WORKPLACE = "user.workplace"

CATEGORIES = tuple(
    v for k, v in dict(globals()).items() if k.isupper() and isinstance(v, str) and v.startswith("user")
)

# phrase (words joined by spaces) -> category; the longest phrase found in a name wins
VOCABULARY: dict[str, str] = {
    "email": EMAIL,
    "e mail": EMAIL,
    "mail address": EMAIL,
    "email address": EMAIL,
    "emails": EMAIL,
    "phone": PHONE,
    "phone number": PHONE,
    "mobile": PHONE,
    "telephone": PHONE,
    "tel": PHONE,
    "msisdn": PHONE,
    "cellphone": PHONE,
    "cell phone": PHONE,
    "phones": PHONE,
    "fax": FAX,
    "address": ADDRESS,
    "street": STREET,
    "address line": STREET,
    "address1": STREET,
    "address2": STREET,
    "street address": STREET,
    "city": CITY,
    "home city": CITY,
    "hometown": CITY,
    "town": CITY,
    "postal code": POSTAL,
    "postcode": POSTAL,
    "zip": POSTAL,
    "zipcode": POSTAL,
    "zip code": POSTAL,
    "country": COUNTRY,
    "country area": STATE,
    "province": STATE,
    "first name": FIRST_NAME,
    "firstname": FIRST_NAME,
    "given name": FIRST_NAME,
    "forename": FIRST_NAME,
    "fname": FIRST_NAME,
    "last name": LAST_NAME,
    "lastname": LAST_NAME,
    "surname": LAST_NAME,
    "lname": LAST_NAME,
    "family name": LAST_NAME,
    "full name": NAME,
    "fullname": NAME,
    "display name": NAME,
    "legal name": NAME,
    "middle name": NAME,
    "nickname": NAME,
    "maiden name": NAME,
    "real name": NAME,
    "contact name": NAME,
    "username": USERNAME,
    "user name": USERNAME,
    "uname": USERNAME,
    "login": USERNAME,
    "screen name": USERNAME,
    "handle": USERNAME,
    "userid": UNIQUE_ID,
    "user id": UNIQUE_ID,
    "uid": UNIQUE_ID,
    "customer id": UNIQUE_ID,
    "member id": UNIQUE_ID,
    "account id": UNIQUE_ID,
    "person id": UNIQUE_ID,
    "author id": UNIQUE_ID,
    "owner id": UNIQUE_ID,
    "patient id": UNIQUE_ID,
    "viewer id": UNIQUE_ID,
    "user pk": UNIQUE_ID,
    "password": PASSWORD,
    "passwd": PASSWORD,
    "pwd": PASSWORD,
    "passphrase": PASSWORD,
    "password hash": CREDENTIALS,
    "token": CREDENTIALS,
    "access token": CREDENTIALS,
    "refresh token": CREDENTIALS,
    "auth token": CREDENTIALS,
    "api key": CREDENTIALS,
    "secret": CREDENTIALS,
    "otp": CREDENTIALS,
    "pin": CREDENTIALS,
    "credentials": CREDENTIALS,
    "sync key": CREDENTIALS,
    "ssn": GOV_ID,
    "social security": GOV_ID,
    "national id": GOV_ID,
    "tax id": GOV_ID,
    "nin": GOV_ID,
    "passport": PASSPORT,
    "drivers license": LICENSE,
    "driver license": LICENSE,
    "licence": LICENSE,
    "birth date": BIRTH,
    "birthdate": BIRTH,
    "date of birth": BIRTH,
    "dob": BIRTH,
    "birthday": BIRTH,
    "age": AGE,
    "gender": GENDER,
    "sex": GENDER,
    "race": RACE,
    "ethnicity": RACE,
    "religion": RELIGION,
    "political": POLITICS,
    "sexual orientation": SEXUALITY,
    "bio": PROFILE,
    "about me": PROFILE,
    "avatar": PROFILE,
    "ip": IP,
    "ip address": IP,
    "ipaddress": IP,
    "remote addr": IP,
    "remote address": IP,
    "peer addr": IP,
    "peer address": IP,
    "client address": IP,
    "client addr": IP,
    "client ip": IP,
    "user ip": IP,
    "x forwarded for": IP,
    "device id": DEVICE_ID,
    "device token": DEVICE_ID,
    "udid": DEVICE_ID,
    "idfa": DEVICE_ID,
    "advertising id": DEVICE_ID,
    "imei": DEVICE_ID,
    "push token": DEVICE_ID,
    "cookie": COOKIE,
    "cookies": COOKIE,
    "session id": COOKIE,
    "sessionid": COOKIE,
    "user agent": DEVICE,
    "useragent": DEVICE,
    "fingerprint": DEVICE,
    "latitude": PRECISE,
    "longitude": PRECISE,
    "lat": PRECISE,
    "lng": PRECISE,
    "lon": PRECISE,
    "geo": PRECISE,
    "geolocation": PRECISE,
    "coordinates": PRECISE,
    "gps": PRECISE,
    "credit card": CARD,
    "card number": CARD,
    "cc number": CARD,
    "pan": CARD,
    "cvv": CARD,
    "cvc": CARD,
    "card": CARD,
    "card token": CARD,
    "payment token": CARD,
    "stripe token": CARD,
    "iban": BANK,
    "bank account": BANK,
    "account number": BANK,
    "routing number": BANK,
    "sort code": BANK,
    "salary": FINANCIAL,
    "income": FINANCIAL,
    "diagnosis": HEALTH,
    "medical": HEALTH,
    "health": HEALTH,
    "allergies": HEALTH,
    "special needs": HEALTH,
    "disability": HEALTH,
    "disabilities": HEALTH,
    "medication": HEALTH,
    "blood type": HEALTH,
    "biometric": BIOMETRIC,
    "job title": JOB,
    "employer": WORKPLACE,
    "search query": SEARCH,
    "search term": SEARCH,
    "browsing history": BROWSING,
    "order history": PURCHASES,
}

# words that make a name about something other than the person's data
EXCLUDE = frozenset(
    [
        "template",
        "templates",
        "prefix",
        "suffix",
        "format",
        "regex",
        "pattern",
        "validator",
        "validation",
        "valid",
        "field",
        "fields",
        "label",
        "placeholder",
        "type",
        "kind",
        "count",
        "counts",
        "total",
        "enabled",
        "disabled",
        "verified",
        "required",
        "confirmed",
        "confirmation",
        "is",
        "has",
        "should",
        "can",
        "allow",
        "allowed",
        "max",
        "min",
        "length",
        "len",
        "status",
        "config",
        "configuration",
        "configurations",
        "save",  # save_billing_address, save_card: whether to keep it, a flag
        "settings",
        "setting",
        "backend",
        "server",
        "host",
        "port",
        "subject",
        "from",
        "domain",
        "header",
        "headers",
        "error",
        "errors",
        "widget",
        "column",
        "class",
        "key",
        "keys",
        "hash",
        "hashed",
        "digest",
        "md5",
        "sha",
        "sha1",
        "sha256",
        "salt",
        "csrf",  # anti-forgery values: random per session or form, about no one
        "xsrf",
        "nonce",
        "mask",
        "masked",
        "policy",
        "policies",
        "expire",
        "expires",
        "expiry",
        "expiration",
        "timeout",
        "ttl",
        "sent",
        "changed",
        "change",
        "reset",
        "url",
        "urls",
        "link",
        "verify",
        "check",
        "checked",
        "regexp",
        "schema",
        "index",
        "mode",
        "provider",
        "providers",
        "plugin",
        "plugins",
        "form",
        "forms",
        "view",
        "views",
        "handler",
        "model",
        "models",
        "table",
        "path",
        "query",
        "filter",
        "filters",
        "sort",
        "order",
        "cache",
        "queue",
        "topic",
        "event",
        "events",
        "signal",
        "signals",
        "task",
        "tasks",
        "job",
        "jobs",
    ]
)
# ambiguous on their own, personal on a person
# ("names": ``pk_names``, ``middleware_names``, ``file_names`` are things' names, ``user_names`` people's)
AMBIGUOUS = {"name": NAME, "names": NAME, "id": UNIQUE_ID, "pk": UNIQUE_ID, "location": LOCATION}
# phrases that name no one's data although a word of theirs does: an application's own credentials (an
# OAuth app's ``client_secret``, a signing key) and store credit (a ``gift_card`` is no payment card)
NOT_PERSONAL = frozenset(
    (
        "client secret",
        "app secret",
        "consumer secret",
        "secret key",
        "webhook secret",
        "signing secret",
        "gift card",
        "gift cards",
    )
)
PERSON = frozenset(
    [
        "user",
        "users",
        "customer",
        "customers",
        "person",
        "people",
        "member",
        "members",
        "author",
        "owner",
        "account",
        "profile",
        "contact",
        "employee",
        "patient",
        "student",
        "buyer",
        "seller",
        "recipient",
        "applicant",
        "guest",
        "attendee",
        "subscriber",
        "donor",
        "hero",
        "client",
        "viewer",
        "player",
        "team",
        "teams",
        "requester",
        "creator",
        "staff",
        "sender",
        "receiver",
    ]
)
# request fields that are about the request, not the person: not a source at all
TECHNICAL = frozenset(
    [
        "page",
        "pages",
        "limit",
        "offset",
        "per",
        "size",
        "sort",
        "order",
        "by",
        "next",
        "redirect",
        "csrf",
        "csrfmiddlewaretoken",
        "format",
        "callback",
        "action",
        "submit",
        "lang",
        "locale",
        "debug",
        "mode",
        "interval",
        "type",
        "kind",
        "method",
        "version",
        "v",
        "cursor",
        "before",
        "after",
        "from",
        "to",
        "start",
        "end",
        "count",
        "include",
        "expand",
        "fields",
        "q_op",
        "nonce",
        "state",
        "code_challenge",
    ]
)
THINGS = frozenset(("amount", "quantity", "qty", "price", "currency", "total", "frequency", "interval"))

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_GETTER = re.compile(r"^(?:get_?[Vv]alue_?[Oo]f|get|fetch|set|m_|_+)(?=[A-Z_]|$)")
_MAX_PHRASE = 3


@lru_cache(maxsize=65536)
def words(name: str) -> tuple[str, ...]:
    """``getValueOfEmail`` -> (email,); ``m_homeCity`` -> (home, city); ``$user->phone_number`` -> (phone, number)."""
    name = name.rpartition(".")[2].rpartition(">")[2].lstrip("$")
    name = _GETTER.sub("", name) or name
    return tuple(w.lower() for w in _WORD.findall(name))


@lru_cache(maxsize=65536)
def classify(name: str, qualifier: str = "") -> str | None:
    """The fideslang category of a data element named ``name`` (on an object named ``qualifier``), or None.

    An all-caps name is a constant (``DEFAULT_FROM_EMAIL``): a setting, not someone's data."""
    bare = name.rpartition(".")[2].rpartition(">")[2].lstrip("$")
    if not bare or (bare.isupper() and len(bare) > 3):
        return None
    ws = words(bare)
    if not ws:
        return None
    for size in range(min(_MAX_PHRASE, len(ws)), 0, -1):
        for i in range(len(ws) - size + 1):
            phrase = " ".join(ws[i : i + size])
            if phrase in NOT_PERSONAL:
                return None
            hit = VOCABULARY.get(phrase)
            if hit is not None:  # an excluding word outside the phrase: ``email_template``
                rest = ws[:i] + ws[i + size :]
                return None if any(w in EXCLUDE for w in rest) else hit
    if any(w in EXCLUDE for w in ws):
        return None
    if len(ws) == 1 and ws[0] in AMBIGUOUS:
        q = words(qualifier)
        if q and q[-1] in PERSON:
            return AMBIGUOUS[ws[0]]
        if len(ws) == 1 and ws[0] == "name" and not qualifier:
            return None
    if len(ws) == 2 and ws[0] in PERSON and ws[1] in AMBIGUOUS:  # customer_name, user_pk
        return AMBIGUOUS[ws[1]]
    return None


# what a person writes, as a request field or a model's column (not any variable so named: a ``body``
# in code is as often an HTTP body as someone's message)
CONTENT_WORDS = frozenset(
    (
        "body",
        "message",
        "messages",
        "comment",
        "comments",
        "text",
        "content",
        "title",
        "description",
        "note",
        "notes",
        "post",
        "review",
        "feedback",
        "reply",
        "answer",
        "question",
        "caption",
        "story",
        "bio",
        "about",
        "signature",
        "letter",
        "essay",
        "motivation",
        "reason",
        "rating",
    )
)


SEARCH_WORDS = frozenset(("q", "query", "search", "keyword", "keywords", "term", "terms"))


def content(name: str) -> bool:
    """A field named as what a person writes (``body``, ``comment_text``, ``message``)."""
    ws = words(name)
    return bool(ws) and ws[-1] in CONTENT_WORDS and not any(w in EXCLUDE for w in ws)


def request_field(name: str) -> str | None:
    """A request field the vocabulary does not place: what a person writes (user content), a search
    (``q``), a person referred to (``owner``, ``contacts``)."""
    ws = words(name)
    if not ws:
        return None
    if content(name) or ws[-1] in ("rating", "ratings"):
        return CONTENT
    if ws[-1] in SEARCH_WORDS:
        return SEARCH
    if ws[-1] in ("contacts", "recipients", "friends", "followers", "invitees"):
        return CONTACT
    if len(ws) == 1 and ws[0] in PERSON:
        return UNIQUE_ID
    return None


def technical(name: str) -> bool:
    """A request field about the request itself (``page``, ``csrf_token``, ``next``), not about a person."""
    ws = words(name)
    return bool(ws) and (all(w in TECHNICAL for w in ws) or "csrf" in ws)


def of_a_thing(name: str) -> bool:
    """A field about a thing, not a person: the id of a thing (``donation_id``, not ``user_id``), an
    amount or a price."""
    ws = words(name)
    if len(ws) >= 2 and ws[-1] in ("id", "ids", "pk") and ws[-2] not in PERSON:
        return True
    return bool(ws) and all(w in THINGS for w in ws)
