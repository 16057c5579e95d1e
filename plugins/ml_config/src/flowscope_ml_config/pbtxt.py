"""Protocol-buffer text format (Triton's ``config.pbtxt``) read as data, with a bounded parser.

No protobuf schema is needed for what lineage uses (names, maps, steps): a message becomes a dict of
field name -> list of values (fields may repeat), a value a string, number, enum word or message. Depth
and token count are capped so a hostile file fails alone.
"""

from __future__ import annotations

import re
from typing import Any

from flowscope_ml_config.source import SkipFile

_TOKEN = re.compile(
    r'\s+|#[^\n]*|(?P<str>"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')|(?P<punct>[{}\[\]:,;<>])'
    r"|(?P<word>[A-Za-z0-9_.+\-/]+)"
)
MAX_DEPTH = 64
MAX_TOKENS = 2_000_000

Message = dict[str, list[Any]]


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos, line = 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SkipFile(f"invalid protobuf text: unexpected {text[pos]!r}", line)
        kind = m.lastgroup
        if kind is not None:
            out.append((kind, m.group(kind), line))
            if len(out) > MAX_TOKENS:
                raise SkipFile(f"protobuf text has more than {MAX_TOKENS} tokens")
        line += m.group(0).count("\n")
        pos = m.end()
    return out


def parse(text: str) -> Message:
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str, int] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str, int]:
        nonlocal pos
        if pos >= len(tokens):
            raise SkipFile("invalid protobuf text: unexpected end of file", tokens[-1][2] if tokens else 1)
        pos += 1
        return tokens[pos - 1]

    def scalar(tok: tuple[str, str, int]) -> Any:
        kind, value, line = tok
        if kind == "str":
            return bytes(value[1:-1], "utf-8").decode("unicode_escape", errors="replace")
        if kind != "word":
            raise SkipFile(f"invalid protobuf text: unexpected {value!r}", line)
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value

    def value(depth: int) -> Any:
        tok = peek()
        if tok is not None and tok[1] in "{<":
            take()
            return message(depth + 1, "}" if tok[1] == "{" else ">")
        return scalar(take())

    def message(depth: int, close: str | None) -> Message:
        if depth > MAX_DEPTH:
            at = peek()
            raise SkipFile(f"protobuf text nests deeper than {MAX_DEPTH} levels", at[2] if at else None)
        out: Message = {}
        while True:
            tok = peek()
            if tok is None:
                if close is None:
                    return out
                raise SkipFile(
                    "invalid protobuf text: a message is not closed", tokens[-1][2] if tokens else 1
                )
            if tok[1] == close:
                take()
                return out
            if tok[1] in ",;":
                take()
                continue
            kind, name, line = take()
            if kind != "word":
                raise SkipFile(f"invalid protobuf text: expected a field name, found {name!r}", line)
            nxt = peek()
            if nxt is not None and nxt[1] == ":":
                take()
                nxt = peek()
            values = out.setdefault(name, [])
            if nxt is not None and nxt[1] == "[":
                take()
                while peek() is not None and peek()[1] != "]":  # type: ignore[index]
                    if peek()[1] == ",":  # type: ignore[index]
                        take()
                        continue
                    values.append(value(depth + 1))
                take()
            else:
                values.append(value(depth))

    return message(0, None)


def one(msg: Any, name: str) -> Any:
    """The first value of field ``name`` (None when absent or ``msg`` is not a message)."""
    if not isinstance(msg, dict):
        return None
    values = msg.get(name)
    return values[0] if values else None


def all_of(msg: Any, name: str) -> list[Any]:
    return list(msg.get(name, [])) if isinstance(msg, dict) else []
