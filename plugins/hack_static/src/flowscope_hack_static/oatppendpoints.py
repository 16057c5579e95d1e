"""oatpp's ``ENDPOINT(...)`` controller macros, read as the methods they expand to.

``ENDPOINT("POST", "users", createUser, BODY_DTO(Object<UserDto>, userDto), QUERY(String, email))`` declares
a handler ``createUser`` whose parameters come from the request: tree-sitter cannot parse the macro as a
function header, so each one is rewritten, in place and at the same length, to ``void createUser(BodyRequest
userDto, String email)`` before the file is parsed (its newlines moved after the header, so every line
after it keeps its number and every byte its offset). The body (``BODY_DTO``, ``BODY_STRING``) is the
request's content, read by field; ``QUERY``, ``PATH`` and ``HEADER`` parameters keep their declared type
and are sources by their names (``email``), like any parameter.
"""

from __future__ import annotations

import re

_ENDPOINT = re.compile(rb"\bENDPOINT\s*\(")
_BODY = frozenset((b"BODY_DTO", b"BODY_STRING"))
_PARAMS = frozenset((b"QUERY", b"PATH", b"HEADER"))
_ITEM = re.compile(rb"^\s*(\w+)\s*\((.*)\)\s*$", re.S)
_NAME = re.compile(rb"^[A-Za-z_]\w*$")


def _close(data: bytes, start: int) -> int:
    """The index of the parenthesis closing the one before ``start`` (-1 when unbalanced)."""
    depth, quote, i = 1, 0, start
    while i < len(data):
        ch = data[i]
        if quote:
            if ch == 0x5C:  # backslash
                i += 1
            elif ch == quote:
                quote = 0
        elif ch in (0x22, 0x27):
            quote = ch
        elif ch == 0x28:
            depth += 1
        elif ch == 0x29:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _split(args: bytes) -> list[bytes]:
    """Top-level comma-separated items (commas inside ``()`` and ``<>`` and strings stay)."""
    out, cur, depth, quote = [], bytearray(), 0, 0
    for ch in args:
        if quote:
            quote = 0 if ch == quote else quote
        elif ch in (0x22, 0x27):
            quote = ch
        elif ch in (0x28, 0x3C):
            depth += 1
        elif ch in (0x29, 0x3E):
            depth -= 1
        elif ch == 0x2C and depth == 0:
            out.append(bytes(cur))
            cur = bytearray()
            continue
        cur.append(ch)
    out.append(bytes(cur))
    return out


def _header(args: bytes) -> bytes | None:
    items = _split(args)
    if len(items) < 3 or not _NAME.match(items[2].strip()):
        return None
    params = []
    for item in items[3:]:
        m = _ITEM.match(item)
        if m is None:
            continue
        kind, inner = m.group(1), _split(m.group(2))
        if len(inner) < 2 or not _NAME.match(inner[1].strip()):
            continue
        if kind in _BODY:
            params.append(b"BodyRequest " + inner[1].strip())
        elif kind in _PARAMS:
            params.append(b" ".join(inner[0].split()) + b" " + inner[1].strip())
    return b"void " + items[2].strip() + b"(" + b", ".join(params) + b")"


def endpoints(source: bytes) -> bytes:
    """``source`` with each ``ENDPOINT(...)`` header rewritten as a method header of the same length."""
    out = bytearray(source)
    for m in _ENDPOINT.finditer(source):
        end = _close(source, m.end())
        if end < 0:
            continue
        header = _header(source[m.end() : end])
        span = source[m.start() : end + 1]
        if header is None:
            continue
        newlines = span.count(b"\n")
        if len(header) + newlines > len(span):
            continue
        out[m.start() : end + 1] = header + b" " * (len(span) - len(header) - newlines) + b"\n" * newlines
    return bytes(out)
