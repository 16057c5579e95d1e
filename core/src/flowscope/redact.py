"""Credentials in URLs are never printed or written: ``user:password@``, ``?token=``, ``?apikey=`` and kin.

They arrive from configs (a transport URL), from other people's files (a connection string as an asset's
namespace, a webhook's ``?token=`` in a name) and from the command line. Three layers keep them in:

- :func:`strip_url` at naming time (:func:`flowscope.merge.normalize_namespace`): an asset's identity never
  includes credentials (OpenLineage names a database ``postgres://host:port``), so nothing stored, emitted
  or spooled carries them, and the same table with or without a password in the config is one asset;
- :func:`redact` on text: user-info becomes ``***@``, a sensitive query value ``***``, an
  ``Authorization`` header's credential ``***``;
- :func:`protect_output`: ``flowscope``'s stdout and stderr pass every write through :func:`redact`, so
  errors, warnings, tables, JSON, ``--debug`` logs and tracebacks are covered without each print site
  having to remember.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flowscope.model import Evidence

# scheme://user[:password]@ — user-info ends at the first '@' before the path
_USERINFO = re.compile(r"(?<=://)[^/@\s'\"<>?#]+@")
# a query or fragment parameter whose name says it holds a credential; its value up to the next separator
_PARAM = re.compile(
    r"(?i)([?&;#](?:[\w.\-\[\]]*?)(?:token|key|secret|passw|pwd|auth|signature|sig|credential|session|sas)"
    r"[\w.\-\[\]]*=)([^&;#\s'\"<>]+)"
)
# an HTTP header or a config key that holds a credential: Authorization: Bearer x, apiKey: 'x', x-api-key=x
_HEADER = re.compile(
    r"(?i)\b((?:authorization|x-api-key|api[-_]?key)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+|basic\s+)?)(?!\*\*\*)([^\s'\",}&;#]+)"
)
MASK = "***"


def redact(text: str) -> str:
    """``text`` with URL credentials masked. Cheap when there is nothing to mask (one scan per pattern)."""
    if "://" in text and "@" in text:
        text = _USERINFO.sub(MASK + "@", text)
    if "=" in text:
        text = _PARAM.sub(lambda m: m.group(1) + MASK, text)
    if ":" in text or "=" in text:
        text = _HEADER.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_evidence(ev: Evidence) -> Evidence:
    """The evidence with credentials masked in its snippet, location and details (a code snippet can hold
    a connection string); the same object when there is nothing to mask."""
    fields = (ev.snippet, ev.location, *(v for _, v in ev.detail))
    if not any(("@" in f or "=" in f or ":" in f) and redact(f) != f for f in fields):
        return ev
    return replace(
        ev,
        snippet=redact(ev.snippet),
        location=redact(ev.location),
        detail=tuple((k, redact(v)) for k, v in ev.detail),
    )


def strip_url(text: str) -> str:
    """``text`` with URL user-info removed and sensitive query values masked: for names that identify
    something (an asset's namespace or name), where ``***@`` would make a second spelling of the asset."""
    if "://" in text and "@" in text:
        text = _USERINFO.sub("", text)
    if "=" in text:
        text = _PARAM.sub(lambda m: m.group(1) + MASK, text)
    return text


_SENSITIVE_KEY = re.compile(r"(?i)token|key|secret|passw|pwd|auth|signature|sig|credential|session|sas")


def url_without_credentials(url: str) -> str:
    """``url`` without user-info and without sensitive query parameters (dropped, not masked): a URL to
    keep and use again later, such as an emit spool's target, which authenticates from the environment."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return strip_url(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _SENSITIVE_KEY.search(k)
    ]
    return urlunsplit(
        (
            parts.scheme,
            parts.netloc.rpartition("@")[2],
            parts.path,
            urlencode(query),
            strip_url(parts.fragment),
        )
    )


class RedactingStream:
    """A text stream that masks credentials in everything written to it; everything else is delegated."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # a text stream refuses bytes; so does this one (click probes it)
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._stream.write(redact(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def protect_output() -> None:
    """Route ``sys.stdout`` and ``sys.stderr`` through :class:`RedactingStream` (once; the CLI's entry)."""
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr)
