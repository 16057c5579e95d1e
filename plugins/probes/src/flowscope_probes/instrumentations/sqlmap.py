"""Which bound parameter of a write statement lands in which column, parsed once per SQL text.

``plan(sql)`` returns the table and, per target column, the parameters whose values reach it, for
``INSERT ... VALUES``, ``INSERT ... SELECT``, ``REPLACE`` and ``UPDATE ... SET``. Everything else (SELECT,
DDL, DELETE) gives None. Parsing uses sqlglot when it can be imported and a small regex otherwise; both
results are cached per SQL text (an LRU of 2,048 statements), so a hot statement costs one dict lookup.

Placeholders: ``?`` and ``%s`` are positional (their order in the text), ``:name``, ``%(name)s`` and
``@name`` are named, ``:1`` / ``$1`` are 1-based positions. A column gets every placeholder of its value
expression (``lower(?)`` still lands in the column); a column fed by a literal or another column gets none.
An ``INSERT`` without a column list names no columns: its values land in the table as a whole (field None).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

try:  # pragma: no cover - depends on the environment
    import sqlglot
    from sqlglot import exp
except ImportError:  # pragma: no cover
    sqlglot = None  # type: ignore[assignment]

Key = int | str


def parser() -> Any:
    """sqlglot when it could be imported, else None (the regex fallbacks run)."""
    return sqlglot


@dataclass(frozen=True, slots=True)
class WritePlan:
    table: str
    columns: tuple[tuple[str | None, tuple[Key, ...]], ...]  # (column or None, parameter keys)


_WRITE_START = ("INSERT", "UPDATE", "REPLACE", "UPSERT", "WITH")
_PCT_NAMED = re.compile(r"%\((\w+)\)s")
_PCT = re.compile(r"%s")
_QMARK = re.compile(r"\?")
_DOLLAR = re.compile(r"\$(\d+)")


# quoted strings and identifiers ('' and "" escapes) and comments: placeholders inside them are text
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|--[^\n]*|/\*.*?\*/", re.S)


def _code_parts(sql: str) -> list[tuple[bool, str]]:
    """``sql`` cut into (is code, text) parts: quoted strings and comments are not code."""
    parts: list[tuple[bool, str]] = []
    at = 0
    for m in _QUOTED.finditer(sql):
        parts.append((True, sql[at : m.start()]))
        parts.append((False, m.group()))
        at = m.end()
    parts.append((True, sql[at:]))
    return parts


def _numbered(sql: str) -> str:
    """``?`` / ``%s`` -> ``:__p0``, ``:__p1`` ... and ``%(x)s`` -> ``:x``, so every placeholder has a name.
    A ``?`` or ``%s`` inside a quoted string or a comment is text, not a placeholder."""
    counter = iter(range(1 << 30))
    out = []
    for code, text in _code_parts(sql):
        if code:
            text = _PCT_NAMED.sub(lambda m: ":" + m.group(1), _DOLLAR.sub(lambda m: ":" + m.group(1), text))
            text = _PCT.sub(lambda m: f":__p{next(counter)}", text)
            text = _QMARK.sub(lambda m: f":__p{next(counter)}", text)
        out.append(text.replace("%%", "%"))
    return "".join(out)


def _split_values(text: str) -> list[str]:
    """A VALUES list or SET clause cut at its top-level commas (not inside parentheses or quotes)."""
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for code, part in _code_parts(text):
        if not code:
            current.append(part)
            continue
        start = 0
        for i, ch in enumerate(part):
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "," and depth == 0:
                current.append(part[start:i])
                items.append("".join(current))
                current, start = [], i + 1
        current.append(part[start:])
    items.append("".join(current))
    return items


def _params_in(value: str) -> tuple[Key, ...]:
    """The placeholders of one value expression, outside its quoted strings."""
    return tuple(_key(k) for code, text in _code_parts(value) if code for k in _PARAM.findall(text))


def _key(name: str) -> Key:
    if name.startswith("__p") and name[3:].isdigit():
        return int(name[3:])
    if name.isdigit():
        return int(name) - 1
    return name


@lru_cache(maxsize=2048)
def plan(sql: str) -> WritePlan | None:
    """The write plan of one statement, or None when it writes no columns we can name."""
    head = sql.lstrip()[:7].upper()
    if not head.startswith(_WRITE_START):
        return None
    text = _numbered(sql)
    if sqlglot is not None:
        try:
            return _plan_sqlglot(text)
        except Exception:
            pass
    return _plan_regex(text)


def _placeholders(node: exp.Expression) -> tuple[Key, ...]:
    keys: list[Key] = []
    for sub in node.walk(bfs=False):
        if isinstance(sub, exp.Placeholder | exp.Parameter):
            keys.append(_key(str(sub.name)))
    return tuple(keys)


def _table_name(table: exp.Expression) -> str:
    parts = [p.name for p in table.parts] if isinstance(table, exp.Table) else [table.name]
    return ".".join(p for p in parts if p)


def _plan_sqlglot(text: str) -> WritePlan | None:
    tree = sqlglot.parse_one(text)
    if isinstance(tree, exp.Insert):
        target = tree.this
        names: list[str | None] = []
        if isinstance(target, exp.Schema):
            names = [c.name for c in target.expressions]
            target = target.this
        source = tree.expression
        rows: list[list[exp.Expression]] = []
        if isinstance(source, exp.Values):
            rows = [list(t.expressions) if isinstance(t, exp.Tuple) else [t] for t in source.expressions]
        elif isinstance(source, exp.Select):
            rows = [list(source.expressions)]
        cols: list[tuple[str | None, tuple[Key, ...]]] = []
        for row in rows:
            for i, value in enumerate(row):
                keys = _placeholders(value)
                if keys:
                    cols.append((names[i] if i < len(names) else None, keys))
        return WritePlan(_table_name(target), tuple(cols)) if cols else None
    if isinstance(tree, exp.Update):
        cols = []
        for assign in tree.expressions:
            if isinstance(assign, exp.EQ):
                keys = _placeholders(assign.expression)
                if keys:
                    cols.append((assign.this.name, keys))
        return WritePlan(_table_name(tree.this), tuple(cols)) if cols else None
    return None


_INSERT = re.compile(
    r"^\s*(?:INSERT(?:\s+OR\s+\w+)?|REPLACE)\s+INTO\s+([\w.`\"\[\]]+)\s*(?:\(([^)]*)\))?\s*VALUES\s*\((.*)\)",
    re.I | re.S,
)
_UPDATE = re.compile(r"^\s*UPDATE\s+([\w.`\"\[\]]+)\s+SET\s+(.*?)(?:\s+WHERE\s|$)", re.I | re.S)
_PARAM = re.compile(r"(?<![:\w]):(\w+)")


def _bare(name: str) -> str:
    return ".".join(p.strip().strip('`"[]') for p in name.split("."))


def _plan_regex(text: str) -> WritePlan | None:
    """The fallback without sqlglot: flat ``INSERT ... (cols) VALUES (...)`` and ``UPDATE ... SET``."""
    m = _INSERT.match(text)
    if m:
        names = [_bare(c) for c in (m.group(2) or "").split(",") if c.strip()]
        values = _split_values(m.group(3))
        cols = []
        for i, value in enumerate(values):
            keys = _params_in(value)
            if keys:
                cols.append((names[i] if i < len(names) else None, keys))
        return WritePlan(_bare(m.group(1)), tuple(cols)) if cols else None
    m = _UPDATE.match(text)
    if m:
        cols = []
        for part in _split_values(m.group(2)):
            col, eq, value = part.partition("=")
            keys = _params_in(value)
            if eq and keys:
                cols.append((_bare(col), keys))
        return WritePlan(_bare(m.group(1)), tuple(cols)) if cols else None
    return None


def _get(params: object, key: Key) -> tuple[bool, object]:
    if isinstance(params, Mapping):
        return (True, params[key]) if key in params else (False, None)
    if isinstance(key, int) and isinstance(params, Sequence) and not isinstance(params, str | bytes):
        return (True, params[key]) if key < len(params) else (False, None)
    return False, None


def values(p: WritePlan, params: object) -> list[tuple[str | None, object]]:
    """(column, bound value) pairs of one execution; parameters a key does not find are skipped."""
    out: list[tuple[str | None, object]] = []
    for column, keys in p.columns:
        for key in keys:
            found, value = _get(params, key)
            if found:
                out.append((column, value))
    return out
