"""Data elements as sources: a value whose name says it is personal data (``user.email``, ``$cookie``,
``dto->phone_number``, ``getValueOfEmail()``) is a source even when no model names where it came from.

Its asset is the code that holds it (``code://default/<file>#<name>``, flowscope.naming's ``code`` kind)
and its category (:mod:`classify`) rides on the first evidence of its flows as ``data_category``, so
every signal says what kind of personal data it moves. Values a modelled source already labels (the
request's ``email``) keep that source: the element adds a label only where the value had none.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from flowscope import naming
from flowscope.model import Asset, Evidence
from flowscope_hack_static.classify import (
    CONTENT,
    PERSON,
    classify,
    of_a_thing,
    request_field,
    technical,
    words,
)
from flowscope_hack_static.taint import PARAM_NS, Label, with_field

CATEGORY = "data_category"


def tagged(ev: Evidence, category: str | None) -> Evidence:
    """``ev`` carrying the category of the data it starts a flow of."""
    return replace(ev, detail=((CATEGORY, category),)) if category else ev


def category_of(hops: tuple[Evidence, ...]) -> str | None:
    for ev in hops[:1]:
        for key, value in ev.detail:
            if key == CATEGORY:
                return value
    return None


@lru_cache(maxsize=65536)
def element_asset(path: str, name: str) -> Asset:
    return naming.code(path, variable=name)


def element(path: str, name: str, qualifier: str, ev: Evidence) -> Label | None:
    """The label of a personal data element read here, or None when ``name`` is not personal data."""
    form = name.startswith(("form-", "form_"))  # an HTML form's field (form-post): what a person sent
    category = request_category(name) if form else classify(name, qualifier)
    if category is None:
        return None
    field = "_".join(words(name.removeprefix("form-").removeprefix("form_"))) or name
    return Label(element_asset(path, field), (tagged(ev, category),), narrow=False)


def request_category(field: str | None, strict: bool = True) -> str | None:
    """A modelled input's field: its category, or None when the field is no source.

    A field is personal by its name (``email``, a form's ``name``), by being what a person writes
    (``body``, ``comment``: user content), a search (``q``) or a reference to a person (``owner``). With
    ``strict`` (the built-in framework models) any other field is about the request, not the person
    (``page``, ``amount``, ``tmp_name``): no source. A pack that declares its own sources without
    ``classify_fields`` (the estate's endpoints, Pysa's sources) means every field: user content."""
    if field is None:
        return CONTENT
    if field.isupper():  # REMOTE_ADDR, HTTP_USER_AGENT: a CGI variable's name, not a constant
        field = field.lower()
    name = field.removeprefix("form-").removeprefix("form_")  # an HTML form's form-username
    if technical(name) or (strict and of_a_thing(name)):
        return None
    found = classify(name, "user")  # what a person sends: a form's "name" is theirs
    if found is None:
        found = request_field(name)
    if found is None and not strict:
        found = CONTENT
    return found


# members of a C++ request holding what the client sent whole (Crow's ``req.body``, Pistache's ``body()``)
REQUEST_PARTS = frozenset(("body", "json", "form", "params", "url_params", "query", "payload"))


_RECORDS = PERSON | {"profile", "info", "details"}


def request_record(key: str) -> bool:
    """A member of a request holding more than one value: its whole body (``req.body``), or a nested
    message or object about a person (gRPC's ``request->user()``, JSON's ``json["profile"]``)."""
    if key in REQUEST_PARTS:
        return True
    ws = words(key)
    return bool(ws) and ws[-1] in _RECORDS and classify(key) is None


def request_part(lb: Label, key: str) -> Label:
    """A request's member holding its whole body or a nested record: its content when used whole, and
    still narrowed by the key read next (``crow::json::load(req.body)["username"]`` is the request's
    ``username``, ``request->user().email()`` its ``email``)."""
    category = CONTENT if key in REQUEST_PARTS else request_category(key) or CONTENT
    hops = (tagged(lb.hops[0], category), *lb.hops[1:]) if lb.hops else lb.hops
    return Label(with_field(lb.source, key), hops, lb.masked, lb.transformed, True, lb.opaque)


def only_params(labels: frozenset[Label]) -> bool:
    """Nothing but parameters' stand-ins (or nothing): no modelled source labels this value yet."""
    return all(lb.source.namespace == PARAM_NS for lb in labels)
