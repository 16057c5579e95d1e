"""Turn transport exceptions into one-line messages that never carry a secret.

The OpenLineage client raises whatever its transport's library raised (requests, confluent-kafka, OS
errors), often several layers deep and with the whole request in the text. Users need one line: which
transport, where it tried to deliver, and why it failed.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

_SENSITIVE = re.compile(r"key|token|secret|passw|auth|credential|sasl|header|cert|session", re.IGNORECASE)
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def secrets_in(config: object, sensitive: bool = False) -> set[str]:
    """Every string value in ``config`` under a key that looks like it holds a credential."""
    found: set[str] = set()
    if isinstance(config, Mapping):
        for key, value in config.items():
            found |= secrets_in(value, sensitive or bool(_SENSITIVE.search(str(key))))
    elif isinstance(config, list | tuple):
        for value in config:
            found |= secrets_in(value, sensitive)
    elif isinstance(config, str) and sensitive:
        found.add(config)
    elif isinstance(config, str) and "://" in config:
        parts = urlsplit(config)  # tokens in a URL: user-info and query values
        found |= {parts.netloc.rpartition("@")[0], *(v for _, v in parse_qsl(parts.query))}
    return {s for s in found if len(s) >= 4}


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with known secrets and URL user-info replaced by ``***``."""
    text = _USERINFO.sub("***@", text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Masked, and only the first line: what a one-line ``error:`` message can hold."""
    lines = mask(text, secrets).strip().splitlines()
    return lines[0] if lines else ""


def public_url(url: str) -> str:
    """The URL without user-info, query or fragment (where tokens tend to hide)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps: causes, contexts, exception args, urllib3's ``reason``."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        cur = todo.pop(0)
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        nested = [cur.__cause__, cur.__context__, getattr(cur, "reason", None), *cur.args]
        todo.extend(e for e in nested if isinstance(e, BaseException))


def connection_reason(exc: BaseException) -> str:
    chain = list(_chain(exc))
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
        if isinstance(e, socket.gaierror):
            return "cannot resolve the host name"
        if isinstance(e, ssl.SSLError):
            return f"TLS error: {e.reason or e}"
        if isinstance(e, TimeoutError | socket.timeout):
            return "timed out"
    text = " ".join(str(e) for e in chain)
    for needle, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "cannot resolve the host name"),
        ("Failed to resolve", "cannot resolve the host name"),
        ("timed out", "timed out"),
        ("too many", "gave up after retries on error responses"),
    ):
        if needle in text:
            return reason
    return f"{type(chain[-1]).__name__}: {chain[-1]}"


def describe_http(exc: BaseException, transport: Any) -> str:
    """One line for a failure of the client's HTTP transport."""
    import requests

    request = getattr(exc, "request", None)
    url = getattr(request, "url", None) or urljoin(
        str(getattr(transport, "url", "")), getattr(transport, "endpoint", "")
    )
    where = public_url(str(url))
    response = getattr(exc, "response", None)
    if isinstance(exc, requests.HTTPError) and response is not None:
        return f"openlineage http transport: {where} answered HTTP {response.status_code} {response.reason or ''}".rstrip()
    if isinstance(exc, requests.Timeout):
        return f"openlineage http transport: cannot reach {where}: timed out after {getattr(transport, 'timeout', '?')}s"
    if isinstance(exc, requests.RequestException):
        return f"openlineage http transport: cannot reach {where}: {connection_reason(exc)}"
    return f"openlineage http transport: delivery to {where} failed: {type(exc).__name__}: {exc}"


def describe(exc: BaseException, transport: Any) -> str:
    """One line naming the transport kind and the cause, for any transport."""
    kind = getattr(transport, "kind", None) or type(transport).__name__
    if kind in ("http", "async_http"):
        return describe_http(exc, transport)
    return (
        f"openlineage {kind} transport: {exc}"
        if str(exc)
        else f"openlineage {kind} transport: {type(exc).__name__}"
    )
