"""Table and columns of the INSERT/UPDATE SQL literals that code passes to DB-API ``execute``.

When flowscope-sql is installed its sqlglot-based parser would give the same answer for every dialect; this
module needs no dependency and covers the shapes application code writes: ``INSERT INTO t (a, b) VALUES``,
``REPLACE INTO``, ``UPDATE t SET a = %s, b = ?``.
"""

from __future__ import annotations

import re

_INSERT = re.compile(
    r"^\s*(?:INSERT(?:\s+OR\s+\w+)?|REPLACE)\s+INTO\s+([\w.`\"]+)\s*\(([^)]*)\)", re.I | re.S
)
_UPDATE = re.compile(r"^\s*UPDATE\s+([\w.`\"]+)\s+SET\s+(.*?)(?:\s+WHERE\s|$)", re.I | re.S)


def insert_columns(sql: str) -> tuple[str | None, list[str]]:
    """(table, columns in parameter order) of a write statement, or (None, []) when it is not one."""
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
