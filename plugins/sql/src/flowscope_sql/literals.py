"""Literals out of logged queries: the text that is kept (:func:`redact`) and the query's shape
(:func:`fingerprint`), both from one regular expression per dialect, built from sqlglot's own tokenizer
settings (its quotes, identifier quotes, string prefixes, escapes, comments).

Logged queries carry users' values (emails, ids, addresses) in every literal form SQL has: quoted strings
with any prefix (``E'..'``, ``U&'..'``, ``X'..'``, ``b'..'``, ``r'..'``, ``N'..'``), triple-quoted and dollar-quoted
strings, numbers, and comments (``/* alice@x.com */``, ``-- ...``, ``# ...``, ``// ...``). :func:`redact` replaces
every literal with ``?`` and drops every comment, keeping identifiers (``"quoted"``, `` `back` ``, ``[bracketed]``)
as written; nothing else of the query is ever stored, printed or emitted.

:func:`fingerprint` runs once per log entry, so it is one C-speed ``re.sub`` pass (no sqlglot tokens) plus two
collapses: a list of placeholders (``IN (?, ?, ?)``) becomes ``(?)`` and so do repeated ``VALUES`` rows, so one
query shape is one job however many values a run listed.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache

from sqlglot.dialects.dialect import Dialect

_IN_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_ROWS = re.compile(r"\(\?\)(?:\s*,\s*\(\?\))+")
_SPACE = re.compile(r"\s+")


def _quoted(open_: str, close: str, escapes: list[str]) -> str:
    """A quoted run from ``open_`` to ``close`` (doubled close and escaped characters inside), or to the
    end of the text when it never closes (its rest is a literal too: nothing of it may leak)."""
    o, c = re.escape(open_), re.escape(close)
    esc = [e for e in escapes if e != close and len(e) == 1]
    if len(close) == 1:  # the common case, in bulk: runs of ordinary characters, doubled quotes, escapes
        stop = re.escape(close + "".join(esc))
        alts = [rf"[^{stop}]+", rf"{c}{c}", *[rf"{re.escape(e)}[\s\S]" for e in esc]]
        return rf"{o}(?:{'|'.join(alts)})*(?:{c}|\Z)"
    alts = [*[rf"{re.escape(e)}[\s\S]" for e in esc], rf"(?!{c})[\s\S]"]
    return rf"{o}(?:{'|'.join(alts)})*?(?:{c}|\Z)"


def _prefixed(tok: type) -> list[str]:
    """Strings with a prefix (``E'..'``, ``U&'..'``, ``X'..'``, ``b'..'``, ``r'..'``), longest first, each with the
    escapes it honours: E-strings take backslashes, raw strings nothing, the rest the dialect's escapes."""
    escapes = [e for e in getattr(tok, "STRING_ESCAPES", ["'"]) if e not in ("'", '"')]
    found: list[tuple[str, str, list[str]]] = []
    for attr in ("BYTE_STRINGS", "UNICODE_STRINGS", "HEX_STRINGS", "BIT_STRINGS", "RAW_STRINGS"):
        for spec in getattr(tok, attr, []) or []:
            if isinstance(spec, str) or not spec[1]:
                continue  # 0x1F-style numbers are matched as numbers
            opener, close = spec
            esc = [] if attr == "RAW_STRINGS" else ["\\"] if attr == "BYTE_STRINGS" else escapes
            found.append((opener, close, esc))
    found.sort(key=lambda f: len(f[0]), reverse=True)
    return [
        re.escape(opener[: -len(close)]) + _quoted(close, close, esc)
        for opener, close, esc in found
        if opener.endswith(close) and len(opener) > len(close)
    ]


@cache
def _pattern(dialect: str) -> re.Pattern[str]:
    tok = Dialect.get_or_raise(dialect).tokenizer_class
    escapes = [e for e in getattr(tok, "STRING_ESCAPES", ["'"]) if e not in ("'", '"')]
    idents: list[str] = []
    ident_opens = set()
    for spec in getattr(tok, "IDENTIFIERS", ['"']):
        o, c = (spec, spec) if isinstance(spec, str) else spec
        if o == "'":
            continue  # DAX names tables in single quotes; treated as a literal here: better hidden than leaked
        idents.append(_quoted(o, c, []))
        ident_opens.add(o)
    literals = [*_prefixed(tok), r"\$\$[\s\S]*?(?:\$\$|\Z)"]  # $$...$$ in every dialect that has it
    if "$" in (getattr(tok, "HEREDOC_STRINGS", []) or []):
        literals.append(r"\$(?P<tag>[A-Za-z_]\w*)\$[\s\S]*?(?:\$(?P=tag)\$|\Z)")
    quotes = {q for q in getattr(tok, "QUOTES", ["'"]) if isinstance(q, str)} | {"'"}
    for q in sorted(quotes - ident_opens, key=len, reverse=True):  # T-SQL's "x" is a name (QUOTED_IDENTIFIER)
        literals.append(r"[Nn]?" + _quoted(q, q, escapes))
    literals.append(r"(?<![\w$@#.])(?:0[xXbB][0-9A-Fa-f]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w$])")
    comments = [r"--[^\n]*", r"/\*[\s\S]*?(?:\*/|\Z)"]
    for spec in getattr(tok, "COMMENTS", []):
        if spec in ("#", "//", "#!"):
            comments.append(re.escape(spec) + r"[^\n]*")
    # Most characters start nothing: a lookahead on the characters that can start a match lets the scan
    # skip them with one set test instead of trying every alternative (fingerprints run once per log entry)
    starts = set("0123456789.Nn$'-/") | {q[0] for q in quotes} | {o[0] for o in ident_opens}
    starts |= {c[0] for c in getattr(tok, "COMMENTS", []) if isinstance(c, str)}
    for attr in ("BYTE_STRINGS", "UNICODE_STRINGS", "HEX_STRINGS", "BIT_STRINGS", "RAW_STRINGS"):
        starts |= {
            spec[0][0] for spec in getattr(tok, attr, []) or [] if not isinstance(spec, str) and spec[0]
        }
    lead = "(?=[" + "".join(re.escape(c) for c in sorted(starts)) + "])"
    return re.compile(
        lead
        + "(?:(?P<comment>"
        + "|".join(comments)
        + ")|(?P<lit>"
        + "|".join(literals)
        + ")|(?P<ident>"
        + "|".join(idents)
        + "))"
    )


def _replace(m: re.Match[str]) -> str:
    if m.group("ident") is not None:
        return m.group(0)
    if m.group("comment") is not None:
        return " "
    return "?"


def _shape(m: re.Match[str]) -> str:
    if m.group("ident") is not None:  # kept exactly, case included, whatever upper() does to the rest
        return "\x00" + m.group(0).encode("utf-8", "surrogatepass").hex() + "\x00"
    if m.group("comment") is not None:
        return " "
    return "?"


def redact(sql: str, dialect: str) -> str:
    """``sql`` with every literal replaced by ``?`` and every comment dropped; identifiers as written."""
    return _pattern(dialect).sub(_replace, sql).strip()


def fingerprint(sql: str, dialect: str) -> str:
    """The query's shape: literals as ``?``, comments and spacing gone, case folded outside quoted names,
    placeholder lists and repeated VALUES rows collapsed; 16 hex characters. Case is folded except in
    quoted names (``"Users"`` and ``"users"`` are different tables)."""
    shape = _SPACE.sub(" ", _pattern(dialect).sub(_shape, sql)).strip().upper()
    shape = _ROWS.sub("(?)", _IN_LIST.sub("(?)", shape))
    return hashlib.sha1(shape.encode("utf-8", "surrogatepass")).hexdigest()[:16]
