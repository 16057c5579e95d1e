"""SQLAlchemy writes as per-column sinks, from the ``after_cursor_execute`` engine event (Core and ORM alike:
the ORM's flush ends in the same event, with the final SQL and its bound parameters).

Statements whose DB-API cursor is already instrumented (sqlite3 through the probes' connection factory, psycopg)
are left to that instrumentation, so a write is recorded once. Names from the engine URL: PostgreSQL as
OpenLineage says (``postgres://host:port``, ``db.schema.table``), SQLite as the sqlite3 instrumentation
(``sqlite://<file stem>``, table), others ``<backend>://host:port`` with ``db.table``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from flowscope_probes.context import CURRENT, FAULTS
from flowscope_probes.instrument import MARK, Instrumentation
from flowscope_probes.instrumentations import _db

EVENT = "after_cursor_execute"  # fires only for statements that ran without error


def names(url: Any) -> tuple[str, Callable[[str], str]]:
    backend = url.get_backend_name()
    if backend == "sqlite":
        stem = PurePath(url.database).stem if url.database and url.database != ":memory:" else "memory"
        return f"sqlite://{stem}", _db.same
    scheme = "postgres" if backend == "postgresql" else backend
    port = url.port or {"postgres": 5432, "mysql": 3306}.get(scheme)
    ns = f"{scheme}://{url.host or 'localhost'}" + (f":{port}" if port else "")
    db = url.database

    def qualify(table: str) -> str:
        parts = table.split(".")
        if scheme == "postgres" and len(parts) == 1:
            parts = ["public", *parts]
        if db and (len(parts) == 2 if scheme == "postgres" else len(parts) == 1):
            parts = [db, *parts]
        return ".".join(parts)

    return ns, qualify


def _ours(cursor: Any) -> bool:
    return bool(getattr(getattr(type(cursor), "execute", None), MARK, False)) or type(
        cursor
    ).__name__.startswith("Probed")


SETTINGS: dict[str, Any] = {}


def after_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """The listener (module level, so every install finds the same one and none is added twice)."""
    if CURRENT.get() is None:
        return
    try:
        if _ours(cursor):
            return
        ns, qualify = names(conn.engine.url)
        if executemany:
            max_rows = int(SETTINGS.get("sql_max_rows", _db.DEFAULT_MAX_ROWS))
            _db.record_many(ns, qualify, statement, parameters, max_rows)
        else:
            _db.record(ns, qualify, statement, parameters)
    except Exception:
        FAULTS.add("sqlalchemy")


class SqlalchemyInstrumentation(Instrumentation):
    name = "sqlalchemy"
    module = "sqlalchemy"

    def _install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        SETTINGS.clear()
        SETTINGS.update(self.settings)
        event.listen(Engine, EVENT, after_cursor_execute)

    def _unhook(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        if event.contains(Engine, EVENT, after_cursor_execute):
            event.remove(Engine, EVENT, after_cursor_execute)

    def _hooked(self) -> bool:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        return bool(event.contains(Engine, EVENT, after_cursor_execute))
