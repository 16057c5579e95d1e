"""DB-API writes as sinks: one sink per (table, column) with the bound value as payload; and the rows a
sampled request reads with a SELECT as sources, one per (table, column) (``readmap``).

Shared by sqlite3, psycopg and SQLAlchemy. ``executemany`` records at most ``max_rows`` rows (setting
``sql_max_rows``, default 100) and only when its parameters are a list or tuple: a generator would be consumed
by looking at it, which would change what the host writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flowscope import naming
from flowscope.model import Asset
from flowscope_probes.context import sink, source
from flowscope_probes.instrumentations import readmap, sqlmap

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


def read_assets(namespace: str, qualify: Any, sql: object, description: object) -> list[Asset | None] | None:
    """Per result column of a SELECT that ran, the column it reads (None where unknown); None when none is."""
    if not isinstance(sql, str) or not isinstance(description, Sequence) or not description:
        return None
    p = readmap.read_plan(sql)
    if p is None:
        return None
    targets = p.targets([str(d[0]) for d in description])
    assets = [naming.table(namespace, qualify(t[0]), t[1]) if t else None for t in targets]
    return assets if any(assets) else None


def record_rows(assets: Sequence[Asset | None], rows: Iterable[object]) -> None:
    """Each fetched row's values as sources of their columns (tuples, sqlite3.Row, dicts in column order)."""
    for row in rows:
        values = row.values() if isinstance(row, Mapping) else row
        if not isinstance(values, Iterable) or isinstance(values, str | bytes):
            continue
        for asset, value in zip(assets, values, strict=False):
            if asset is not None and value is not None:
                source(asset, value)
