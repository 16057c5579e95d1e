"""DB-API writes as sinks: one sink per (table, column) with the bound value as payload.

Shared by sqlite3, psycopg and SQLAlchemy. ``executemany`` records at most ``max_rows`` rows (setting
``sql_max_rows``, default 100) and only when its parameters are a list or tuple: a generator would be consumed
by looking at it, which would change what the host writes.
"""

from __future__ import annotations

from typing import Any

from flowscope import naming
from flowscope_probes.context import sink
from flowscope_probes.instrumentations import sqlmap

DEFAULT_MAX_ROWS = 100


def record(namespace: str, qualify: Any, sql: object, params: object) -> None:
    """Sinks of one ``execute(sql, params)``; ``qualify(table)`` turns the SQL's table into the dataset name."""
    if not params or not isinstance(sql, str):
        return  # no bound values, nothing to map (and SQL with inline literals is never parsed or cached)
    p = sqlmap.plan(sql)
    if p is None:
        return
    name = qualify(p.table)
    for column, value in sqlmap.values(p, params):
        sink(naming.table(namespace, name, column), value)


def record_many(
    namespace: str, qualify: Any, sql: object, rows: object, max_rows: int = DEFAULT_MAX_ROWS
) -> None:
    if not isinstance(rows, list | tuple) or not isinstance(sql, str):
        return
    p = sqlmap.plan(sql)
    if p is None:
        return
    name = qualify(p.table)
    for params in rows[:max_rows]:
        for column, value in sqlmap.values(p, params):
            sink(naming.table(namespace, name, column), value)


def same(table: str) -> str:
    return table
