"""psycopg (3) writes as per-column sinks, at ``psycopg.Cursor.execute/executemany`` and the async ones.

Names follow OpenLineage's PostgreSQL rule: namespace ``postgres://<host>:<port>`` from the connection's info,
dataset ``<database>.<schema>.<table>`` (schema ``public`` when the SQL names none). A statement is recorded
once it has run without error (failing SQL may name no real table). Queries given as
``psycopg.sql.Composed`` objects are not parsed (they would need the connection to render).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations import _db
from flowscope_probes.instrumentations._base import async_method, method


def namespace(cursor: Any) -> tuple[str, Callable[[str], str]]:
    info = cursor.connection.info
    host = info.host or "localhost"
    if host.startswith("/"):
        host = "localhost"
    db = info.dbname

    def qualify(table: str) -> str:
        parts = table.split(".")
        if len(parts) == 1:
            parts = ["public", *parts]
        if len(parts) == 2:
            parts = [db, *parts]
        return ".".join(parts)

    return f"postgres://{host}:{info.port or 5432}", qualify


def _query(args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
    query = args[0] if args else kwargs.get("query")
    return query.decode() if isinstance(query, bytes) else query


def _one(cursor: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    params = args[1] if len(args) > 1 else kwargs.get("params")
    ns, qualify = namespace(cursor)
    _db.record(ns, qualify, _query(args, kwargs), params)


class PsycopgInstrumentation(Instrumentation):
    name = "psycopg"
    module = "psycopg"

    def _install(self) -> None:
        import psycopg

        self.patch(psycopg.Cursor, "execute", method(self, _one, after=True))
        self.patch(psycopg.Cursor, "executemany", method(self, self._many, after=True))
        self.patch(psycopg.AsyncCursor, "execute", async_method(self, _one, after=True))
        self.patch(psycopg.AsyncCursor, "executemany", async_method(self, self._many, after=True))

    def _many(self, cursor: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        rows = args[1] if len(args) > 1 else kwargs.get("params_seq")
        ns, qualify = namespace(cursor)
        max_rows = int(self.settings.get("sql_max_rows", _db.DEFAULT_MAX_ROWS))
        _db.record_many(ns, qualify, _query(args, kwargs), rows, max_rows)
