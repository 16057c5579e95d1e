"""Table and columns of the INSERT/UPDATE SQL literals that code passes to DB-API ``execute`` or ``queryf``.

When flowscope-sql is installed, its parser (sqlglot, the same ``writes_of`` its own lineage uses) reads
the statement: comments, quoting, ``INSERT ... SELECT``, ``INSERT`` without a column list (table only),
``UPDATE`` with expressions, schema-qualified names. Without it — or when it cannot parse the text — a
small built-in reader covers the shapes application code usually writes: ``INSERT INTO t (a, b) VALUES``,
``REPLACE INTO``, ``UPDATE t SET a = %s, b = ?``. flowscope-sql is imported lazily, on the first literal.
"""

from __future__ import annotations

import logging
import re
from functools import cache, lru_cache
from typing import Any

_INSERT = re.compile(
    r"^\s*(?:INSERT(?:\s+OR\s+\w+)?|REPLACE)\s+INTO\s+([\w.`\"]+)\s*\(([^)]*)\)", re.I | re.S
)
_UPDATE = re.compile(r"^\s*UPDATE\s+([\w.`\"]+)\s+SET\s+(.*?)(?:\s+WHERE\s|$)", re.I | re.S)
_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|(?<![:\w]):\w+|\$\d+")  # pyformat, format, named, numeric
# every kind of parameter, also Hack's queryf (%s %d %C %=s ...) and qmark (?)
_PLACEHOLDER_ANY = re.compile(r"%\(\w+\)s|%=?[a-zA-Z]|\?|(?<![:\w]):\w+(?:\.\w+)?|\$\d+")
PLACEHOLDERS = re.compile(r"(?<![:\w])[:@$]\w+|\?")  # a prepared statement's parameters, by name or not
_WRITE_WORD = re.compile(r"\b(?:INSERT|REPLACE|UPDATE|MERGE)\b", re.I)


def writes(sql: str) -> bool:
    """Whether a statement's text can write (a SELECT, SHOW or DDL text cannot: no flow)."""
    return _WRITE_WORD.search(sql) is not None


def insert_columns(sql: str) -> tuple[str | None, list[str]]:
    """(table, columns in parameter order) of a write statement, or (None, []) when it is not one.

    Each parameter goes to the column whose value holds it: in ``INSERT INTO t (ts, text) SELECT NOW(),
    %s`` the one parameter is ``text``'s, not ``ts``'s."""
    table, columns = _read(sql)
    return table, by_placeholder(sql, list(columns))


_VALUES = re.compile(r"\bVALUES\s*\((.*)\)", re.I | re.S)
_SELECT = re.compile(r"\bSELECT\s+(.*?)(?:\s+FROM\b|\s+LIMIT\b|\s+WHERE\b|\)\s*(?:LIMIT\b|$)|$)", re.I | re.S)
_SET = re.compile(r"\bSET\s+(.*?)(?:\s+WHERE\b|$)", re.I | re.S)


def _items(text: str) -> list[str]:
    """``a, f(b, c), 'x,y'`` -> its top-level comma-separated items."""
    out: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


def by_placeholder(sql: str, columns: list[str]) -> list[str]:
    """The columns in the order of the statement's parameters (a column once per parameter in its value;
    one with no parameter, ``NOW()``, takes none). The columns as given when the values cannot be read."""
    if not columns:
        return columns
    values = _VALUES.search(sql) or _SELECT.search(sql)
    if values is not None:
        items = _items(values.group(1))
        if len(items) != len(columns):
            return columns
        pairs = list(zip(columns, items, strict=True))
    else:
        m = _SET.search(sql)
        if m is None:
            return columns
        pairs = []
        for item in _items(m.group(1)):
            column, eq, value = item.partition("=")
            if not eq:
                return columns
            pairs.append((_bare(column), value))
    out = []
    for column, value in pairs:
        out += [column] * len(_PLACEHOLDER_ANY.findall(value))
    return out


@lru_cache(maxsize=4096)
def _read(sql: str) -> tuple[str | None, tuple[str, ...]]:
    """Each distinct statement text is parsed once per process (code repeats its SQL)."""
    if not _WRITE_WORD.search(sql):
        return None, ()
    parsed = with_sql_plugin(sql)
    table, columns = parsed if parsed is not None else builtin(sql)
    return table, tuple(columns)


@cache
def _sql_plugin() -> tuple[Any, Any] | None:
    try:
        import sqlglot

        from flowscope_sql.statements import writes_of
    except ImportError:
        return None
    return sqlglot, writes_of


def with_sql_plugin(sql: str) -> tuple[str | None, list[str]] | None:
    """flowscope-sql's reading, or None when it is not installed or cannot parse the statement."""
    plugin = _sql_plugin()
    if plugin is None:
        return None
    sqlglot, writes_of = plugin
    log = logging.getLogger("sqlglot")
    quiet, log.disabled = log.disabled, True  # its warnings would quote the statement
    try:
        tree = sqlglot.parse_one(_PLACEHOLDER.sub("?", sql), read="mysql")
        writes = writes_of(tree)
    except Exception:  # sqlglot's ParseError and friends, flowscope-sql's Unsupported
        return None
    finally:
        log.disabled = quiet
    if not isinstance(writes, list) or not writes or writes[0].target is None:
        return None, []
    w = writes[0]
    if w.operation.upper().split()[0] not in ("INSERT", "UPDATE", "MERGE", "REPLACE"):
        return None, []
    table = ".".join(str(p) for p in (w.target.catalog, w.target.db, w.target.name) if p)
    columns = list(w.columns or [])
    if not columns and w.operation.upper().startswith("UPDATE"):
        columns = [e.alias_or_name for e in getattr(w.query, "expressions", [])]
    return table, columns


def builtin(sql: str) -> tuple[str | None, list[str]]:
    m = _INSERT.match(sql)
    if m:
        return _bare(m.group(1)), [_bare(c) for c in m.group(2).split(",") if c.strip()]
    m = _UPDATE.match(sql)
    if m:
        cols = [_bare(part.split("=")[0]) for part in m.group(2).split(",") if "=" in part]
        return _bare(m.group(1)), cols
    return None, []


def _bare(name: str) -> str:
    return name.strip().strip('`"[]')
