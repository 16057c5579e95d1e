"""Asset names at runtime, chosen to equal what the static plugin names the same sink.

Key prefixes and path templates
    A concrete key, URL path or file path becomes a template by replacing its *variable segments* with
    ``{}``, the way the static plugin renders an f-string (``f"last_location:{user_id}"`` ->
    ``last_location:{}``). Segments are the parts between the separators ``: / | # = , ;``. A segment is
    variable when it holds anything but ASCII letters, digits, ``_``, ``-`` and ``.`` (an e-mail address, a
    name with a space, a phone number with ``+``, percent-encoded or non-ASCII text: these are values, and
    the whole segment goes); otherwise its dot-separated parts are judged one by one, and a part is variable
    when it is an integer (optionally signed), holds five digits in a row, is a UUID, hex of 8+ characters
    with a digit in it, or an opaque token of 16+ letters/digits/``-_`` that mixes letters and digits
    within its ``_``/``-`` pieces (``test_case_2`` is words, ``aB3kd9xYq2Lm0pZz`` a token).
    Everything else (words, ``v2``, ``user42``, ``photo.jpg``) is kept. ``last_location:42`` ->
    ``last_location:{}``, ``/api/users/42/photos`` -> ``/api/users/{}/photos``, ``session:3f2a...c1`` ->
    ``session:{}``, ``seen:bob.smith@example.org`` -> ``seen:{}``, ``img/42.jpg`` -> ``img/{}.jpg``. So no
    value a client sends can survive into an asset name whole, whatever the key or path it is put in.

Cache clusters
    ``cluster_of(host, settings)``: the probes setting ``cache_clusters`` (a ``{host: system}`` map) wins;
    otherwise the first DNS label of the host (``nearby-cache.internal`` -> ``nearby-cache``); an IP address
    or an empty host gives ``default``. The same rule names the system of a kafka bootstrap server only where
    OpenLineage has no rule (it does for kafka: ``kafka://host:port``), so it is used for caches only.

HTTP
    ``naming.http(template(path), host)``: host is the URL's ``host[:port]`` without any user info (the port
    only when it is not the scheme's default), the scheme is kept (http/https).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flowscope import naming
from flowscope.model import Asset

_SEP = re.compile(r"([:/|#=,;]+)")
_NAME = re.compile(r"[A-Za-z0-9_.-]*")
_DIGITS = re.compile(r"[0-9]{5}")
_INT = re.compile(r"[+-]?\d+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]{8,}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,}")
_PIECES = re.compile(r"[_-]")


def variable(segment: str) -> bool:
    """True when a key or path segment (a dot-separated part) is a value (an id, a uuid, a hash, a token,
    anything but letters, digits, ``_`` and ``-``), not a name."""
    if _INT.fullmatch(segment) or _UUID.fullmatch(segment) or _DIGITS.search(segment):
        return True
    if not _NAME.fullmatch(segment) or "." in segment:
        return True
    has_digit = any(c.isdigit() for c in segment)
    if has_digit and _HEX.fullmatch(segment):
        return True
    if not (has_digit and _TOKEN.fullmatch(segment) and any(c.isalpha() for c in segment)):
        return False
    # a token mixes letters and digits within its pieces; words joined by _ or - (test_case_2) do not
    return any(not (w.isalpha() or w.isdigit()) for w in _PIECES.split(segment) if w)


def template(text: str) -> str:
    """``last_location:42`` -> ``last_location:{}`` (see the module docstring for the rule).

    Not cached: keys and paths carry user ids, and a cache of them would keep personal data around.
    """
    parts = _SEP.split(text)
    return "".join(_segment(p) if i % 2 == 0 and p else p for i, p in enumerate(parts))


def _segment(segment: str) -> str:
    if not _NAME.fullmatch(segment):
        return "{}"
    if "." not in segment:
        return "{}" if variable(segment) else segment
    return ".".join("{}" if part and variable(part) else part for part in segment.split("."))


def cluster_of(host: str | None, settings: dict[str, Any] | None = None) -> str:
    """The cache cluster name of a host: the ``cache_clusters`` setting, else its first DNS label."""
    host = (host or "").strip().lower()
    mapping = (settings or {}).get("cache_clusters") or {}
    if host in mapping:
        return str(mapping[host])
    if not host or host.startswith("/"):
        return naming.DEFAULT_SYSTEM
    try:
        ipaddress.ip_address(host.strip("[]"))
        return naming.DEFAULT_SYSTEM
    except ValueError:
        pass
    return host.split(".", 1)[0] or naming.DEFAULT_SYSTEM


def cache_asset(key: object, host: str | None, settings: dict[str, Any] | None = None) -> Asset:
    text = key.decode("utf-8", "replace") if isinstance(key, bytes | bytearray) else str(key)
    return naming.cache(template(text) or "{}", cluster_of(host, settings))


def http_asset(url: str) -> Asset:
    """The asset of an absolute URL: ``http://host:port`` + the path template."""
    parts = urlsplit(url)
    scheme = parts.scheme if parts.scheme in ("http", "https") else "http"
    host = parts.hostname or naming.DEFAULT_SYSTEM
    if parts.port is not None and (scheme, parts.port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{parts.port}"
    return naming.http(template(parts.path or "/"), host, scheme=scheme)


def query_payload(url: str) -> dict[str, Any] | None:
    """The query string of a URL as ``{key: value}`` (a repeated key keeps a list), or None when empty."""
    query = urlsplit(url).query
    if not query:
        return None
    out: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    return out


def body_payload(body: object, content_type: str | None, limit: int = 1 << 62) -> object | None:
    """A request body as the matcher wants it: form bodies as ``{key: value}``, JSON and text as text. Text
    and bytes are cut to ``limit`` bytes *before* they are decoded or parsed, so a 10 MB upload costs the
    request the same as a ``limit``-sized one."""
    if body is None:
        return None
    if isinstance(body, bytes | bytearray | memoryview):
        try:
            view = memoryview(body).cast("B")
        except (TypeError, ValueError):
            return None
        raw = view[:limit].tobytes()
        if not raw:
            return None
        ctype = (content_type or "").lower()
        if "x-www-form-urlencoded" in ctype:
            return query_payload("?" + raw.decode("latin-1"))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    if isinstance(body, str):
        body = body[:limit]
        if body and "x-www-form-urlencoded" in (content_type or "").lower():
            return query_payload("?" + body)
        return body or None
    if isinstance(body, dict | list | tuple | int | float):
        return body
    return None  # files, generators, streams: reading them would change what the host sends
