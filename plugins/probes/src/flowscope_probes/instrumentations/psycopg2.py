"""psycopg2 writes as per-column sinks, through a connection factory (psycopg2's cursor and connection are C
types whose methods cannot be patched).

Install wraps ``psycopg2.connect`` to pass ``connection_factory``: a connection whose ``cursor()`` hands out
cursors with ``execute``/``executemany`` that record, mixing the probes into the host's own
``connection_factory`` and ``cursor_factory`` (``DictCursor``, ``RealDictCursor`` ...) when it gives them.
Connections opened before install are not seen: counted at install and reported (:mod:`flowscope_probes.blind`). Names as for psycopg 3 (OpenLineage's PostgreSQL rule); recorded once the statement ran without error.
"""

from __future__ import annotations

from typing import Any

from flowscope_probes.blind import report, unwrapped
from flowscope_probes.context import CURRENT, FAULTS
from flowscope_probes.instrument import Gate, Instrumentation, raw_attr
from flowscope_probes.instrumentations import _db
from flowscope_probes.instrumentations.psycopg import namespace

STATE = Gate()
STATE.on = False
SETTINGS: dict[str, Any] = {}
_get = CURRENT.get


def _record(cursor: Any, sql: object, params: object, many: bool) -> None:
    try:
        ns, qualify = namespace(cursor)
        text = sql.decode() if isinstance(sql, bytes) else sql
        if many:
            max_rows = int(SETTINGS.get("sql_max_rows", _db.DEFAULT_MAX_ROWS))
            _db.record_many(ns, qualify, text, params, max_rows)
        else:
            _db.record(ns, qualify, text, params)
    except Exception:
        FAULTS.add("psycopg2")


class _CursorMixin:
    _fs_execute: Any
    _fs_executemany: Any

    def execute(self, query: Any, vars: Any = None) -> Any:
        result = self._fs_execute(query, vars)
        if _get() is not None and STATE.on:
            _record(self, query, vars, False)
        return result

    def executemany(self, query: Any, vars_list: Any) -> Any:
        result = self._fs_executemany(query, vars_list)
        if _get() is not None and STATE.on:
            _record(self, query, vars_list, True)
        return result


class _ConnectionMixin:
    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        try:
            if len(args) > 1:
                args = (args[0], _cursor_class(args[1] or self._fs_default()), *args[2:])
            else:
                kwargs["cursor_factory"] = _cursor_class(kwargs.get("cursor_factory") or self._fs_default())
        except Exception:
            FAULTS.add("psycopg2")
        return super().cursor(*args, **kwargs)  # type: ignore[misc]

    def _fs_default(self) -> Any:
        import psycopg2.extensions

        return getattr(self, "cursor_factory", None) or psycopg2.extensions.cursor


_MIXED: dict[type, type] = {}


def _cursor_class(factory: Any) -> Any:
    if not isinstance(factory, type) or issubclass(factory, _CursorMixin):
        return factory
    if factory not in _MIXED:
        base: Any = factory
        methods = {"_fs_execute": base.execute, "_fs_executemany": base.executemany}
        _MIXED[factory] = type(f"Probed{factory.__name__}", (_CursorMixin, factory), methods)
    return _MIXED[factory]


def _connection_class(factory: Any) -> Any:
    if factory is None:
        import psycopg2.extensions

        factory = psycopg2.extensions.connection
    if not isinstance(factory, type) or issubclass(factory, _ConnectionMixin):
        return factory
    if factory not in _MIXED:
        _MIXED[factory] = type(f"Probed{factory.__name__}", (_ConnectionMixin, factory), {})
    return _MIXED[factory]


class Psycopg2Instrumentation(Instrumentation):
    name = "psycopg2"
    module = "psycopg2"

    def _install(self) -> None:
        import psycopg2

        SETTINGS.clear()
        SETTINGS.update(self.settings)
        self.patch(psycopg2, "connect", self._make)
        STATE.on = True

    def _make(self, original: Any) -> Any:
        def connect(*args: Any, **kwargs: Any) -> Any:
            try:
                if len(args) > 1:
                    args = (args[0], _connection_class(args[1]), *args[2:])
                else:
                    kwargs["connection_factory"] = _connection_class(kwargs.get("connection_factory"))
            except Exception:
                FAULTS.add("psycopg2")
            return original(*args, **kwargs)

        return connect

    def survey(self) -> None:
        import psycopg2
        import psycopg2.extensions

        report(
            "psycopg2",
            psycopg2.extensions.connection,
            lambda c: isinstance(c, _ConnectionMixin),
            lambda c: c.closed == 0,
            unwrapped(raw_attr(psycopg2, "connect")),
            "psycopg2.connect",
            ("psycopg2",),
        )

    def _unhook(self) -> None:
        STATE.on = False

    def _hooked(self) -> bool:
        return STATE.on
