"""Normalization shared by sources and sinks, so that equal data compares equal:

- case: ``str.lower()`` on both sides;
- whitespace: in a value, runs of any Unicode whitespace become one space and the ends are stripped; in a sink
  the text is left as is and the search takes any whitespace run for that space (:mod:`.search`);
- numbers: ints as decimal digits, floats without a trailing ``.0`` when integral (``42.0`` -> ``42``), else
  ``repr`` (shortest round-trip form); ``Decimal`` likewise; booleans as ``true``/``false`` (JSON's spelling);
- bytes: decoded as UTF-8 (undecodable bytes replaced, so binary payloads are searched but rarely match);
- JSON encoding: a source value is also searched in its JSON-escaped forms (``\\"``, ``\\\\``, ``\\u00e9``), so
  it is found inside JSON text that was not decoded (a JSON body quoted in a log line); JSON text that *is*
  a whole sink string is decoded and walked by :mod:`.leaves`.

Tokens are maximal runs of alphanumeric characters (``str.isalnum``); everything else separates them. They
drive both the token-boundary rule of CONTAINS and the token-set prefilter of the plain search path.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import hashlib
import json
import math
import re
import uuid

_TOKEN_RE = re.compile(r"[^\W_]+")  # str.isalnum() runs: \w is isalnum() or "_"
_ASCII_SEP = bytes(32 if i < 128 and not chr(i).isalnum() else i for i in range(256))
_NUMERIC_RE = re.compile(r"[+-]?[\d.,]*\d[\d.,]*")
_SIMPLE_SCALARS = (uuid.UUID, _dt.date, _dt.time)


def norm_text(text: str) -> str:
    """Lower case, whitespace runs collapsed to one space, ends stripped."""
    low = text.lower()
    parts = low.split()
    if len(parts) == 1:
        return parts[0]
    return " ".join(parts)


def number_text(value: float | decimal.Decimal) -> str | None:
    """Canonical text of a float or Decimal; None for NaN and infinities."""
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        if value == value.to_integral_value():
            return str(int(value))
        return str(value.normalize())
    if not math.isfinite(value):
        return None
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def scalar_text(value: object) -> str | None:
    """Text of a scalar as it is compared (not yet lower-cased), or None when the type is not searched."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than int->str allows
            return None
    if isinstance(value, float | decimal.Decimal):
        return number_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, _SIMPLE_SCALARS):
        return str(value)
    return None


def source_text(value: object) -> tuple[str, bool] | None:
    """(normalized text, is a number) of a source value; None for types that are not source leaves."""
    if value is None or isinstance(value, bool):
        return None
    text = scalar_text(value)
    if text is None:
        return None
    norm = norm_text(text) if isinstance(value, str | bytes | bytearray | memoryview) else text
    if isinstance(value, int | float | decimal.Decimal):
        return norm, True
    return norm, bool(norm) and _NUMERIC_RE.fullmatch(norm) is not None


def digit_count(text: str) -> int:
    """Digits of a numeric text (digits, sign, ``.``, ``,`` and, for floats, an exponent)."""
    if text.isdigit():
        return len(text)
    return sum(map(str.isdigit, text))


def json_variants(norm: str) -> list[str]:
    """The JSON-escaped spellings of ``norm`` that differ from it (non-ASCII kept, and ``\\uXXXX``)."""
    if norm.isascii() and norm.isprintable() and '"' not in norm and "\\" not in norm:
        return []
    out = []
    for ascii_only in (False, True):
        esc = json.dumps(norm, ensure_ascii=ascii_only)[1:-1].lower()
        if esc != norm and esc not in out:
            out.append(esc)
    return out


def tokens(text: str) -> set[bytes]:
    """The set of tokens of ``text`` (as UTF-8 bytes, so ASCII text takes the fast ``bytes`` path)."""
    if text.isascii():
        return set(text.encode().translate(_ASCII_SEP).split())
    return {t.encode() for t in _TOKEN_RE.findall(text)}


def key_token(needle: str) -> bytes | None:
    """The longest token of ``needle`` (the rarest guess), or None when it has no alphanumeric character."""
    toks = tokens(needle)
    return max(toks, key=len) if toks else None


def hash_key(salt: bytes) -> bytes:
    """blake2b keys are at most 64 bytes: a longer salt is hashed down to 64 bytes first."""
    return salt if len(salt) <= 64 else hashlib.blake2b(salt).digest()


def value_hash(norm: str, key: bytes) -> str:
    """Salted hash of a normalized value: blake2b keyed with the deployment salt, 8 bytes = 16 hex chars."""
    return hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=8, key=key).hexdigest()
