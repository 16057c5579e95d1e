"""sqlite3 writes as per-column sinks, and the rows a sampled request reads with a SELECT as per-column sources.

``sqlite3.Connection`` and ``Cursor`` are C types whose methods cannot be patched, so the probes hand sqlite3 a
connection *factory*: :func:`connect` (``flowscope_probes.instrumentations.sqlite.connect``, same arguments as
``sqlite3.connect``) always does, and the installed instrumentation wraps ``sqlite3.connect`` (and
``sqlite3.dbapi2.connect``, which SQLAlchemy calls) to pass it. A ``factory=`` of the host's own is kept: a
subclass mixing the probes in is made once per factory. Connections opened before install (or through a
``connect`` a module bound before it) are not seen: they are counted at install and reported
(:mod:`flowscope_probes.blind`).

Namespace ``sqlite://<file stem>`` (``sqlite://memory`` for ``:memory:``), dataset name the table as the SQL
writes it: OpenLineage's naming spec has no SQLite scheme; the setting ``sql_namespace`` overrides it. A
statement is recorded once it has run without error (failing SQL may name no real table).

Reads: when a SELECT runs in a sampled request and ``readmap`` maps some of its result columns, the cursor's
class is switched to a *reading* subclass of its own class whose ``fetchone``/``fetchmany``/``fetchall`` and
iteration record the rows they return, up to ``sql_max_rows`` rows per statement; then (or at the next
``execute``, or once the request is over) it is switched back. Cursors outside sampled requests never change
class, so they fetch at full speed.
"""

from __future__ import annotations

import sqlite3
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from flowscope_probes.blind import report, unwrapped
from flowscope_probes.context import CURRENT, FAULTS
from flowscope_probes.instrument import Gate, Instrumentation, raw_attr
from flowscope_probes.instrumentations import _db

STATE = Gate()
STATE.on = False
SETTINGS: dict[str, Any] = {}


def namespace_of(database: object) -> str:
    if SETTINGS.get("sql_namespace"):
        return str(SETTINGS["sql_namespace"])
    text = str(database.decode() if isinstance(database, bytes) else database)
    if text.startswith("file:"):
        text = urlsplit(text).path
    if text in ("", ":memory:") or text.startswith(":memory:"):
        return "sqlite://memory"
    return f"sqlite://{PurePath(text).stem or 'memory'}"


def _read(cursor: Any, ns: str, sql: object) -> None:
    """A SELECT ran in a sampled request: record the rows the host fetches from ``cursor`` from now on."""
    try:
        if cursor.description is None:
            return
        assets = _db.read_assets(ns, _db.same, sql, cursor.description)
        if assets is None:
            return
        cursor._fs_read = [assets, int(SETTINGS.get("sql_max_rows", _db.DEFAULT_MAX_ROWS))]
        cursor.__class__ = _reading(type(cursor))
    except Exception:
        FAULTS.add("sqlite3.read")


def _record(ns: str, sql: object, params: object, many: bool) -> None:
    try:
        if many:
            _db.record_many(
                ns, _db.same, sql, params, int(SETTINGS.get("sql_max_rows", _db.DEFAULT_MAX_ROWS))
            )
        else:
            _db.record(ns, _db.same, sql, params)
    except Exception:
        FAULTS.add("sqlite3")


_get = CURRENT.get

# The base class's methods are kept as class attributes (``_fs_execute`` ...) and called through them rather
# than through ``super()``: a sampled-out execute then costs ~0.13 us instead of ~0.3 us. A mixed class made
# for the host's own factory points them at that factory's methods, so its overrides still run.


class ProbedCursor(sqlite3.Cursor):
    _fs_execute = sqlite3.Cursor.execute
    _fs_executemany = sqlite3.Cursor.executemany

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        if _get() is None:
            return self._fs_execute(sql, parameters)
        result = self._fs_execute(sql, parameters)
        if STATE.on:
            ns = getattr(self.connection, "_flowscope_ns", "sqlite://memory")
            _record(ns, sql, parameters, False)
            _read(self, ns, sql)
        return result

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Any:
        if _get() is None:
            return self._fs_executemany(sql, seq_of_parameters)
        result = self._fs_executemany(sql, seq_of_parameters)
        if STATE.on:
            _record(
                getattr(self.connection, "_flowscope_ns", "sqlite://memory"), sql, seq_of_parameters, True
            )
        return result


_PLAIN_EXECUTE = sqlite3.Connection.execute


class ProbedConnection(sqlite3.Connection):
    _fs_execute = sqlite3.Connection.execute
    _fs_executemany = sqlite3.Connection.executemany

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        try:
            self._flowscope_ns = namespace_of(database)
        except Exception:
            FAULTS.add("sqlite3")
            self._flowscope_ns = "sqlite://memory"

    def cursor(self, factory: Any = ProbedCursor) -> Any:
        if factory is not ProbedCursor:
            factory = _mixed(factory, ProbedCursor)
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        if _get() is None:
            return self._fs_execute(sql, parameters)
        if STATE.on and type(self)._fs_execute is _PLAIN_EXECUTE:
            # what Connection.execute does, through a probed cursor (sqlite3's own hands out a plain one)
            return self.cursor().execute(sql, parameters)
        result = self._fs_execute(sql, parameters)  # the host's own execute: it runs as it is
        if STATE.on:
            _record(self._flowscope_ns, sql, parameters, False)
            if isinstance(result, ProbedCursor):
                _read(result, self._flowscope_ns, sql)
        return result

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Any:
        if _get() is None:
            return self._fs_executemany(sql, seq_of_parameters)
        result = self._fs_executemany(sql, seq_of_parameters)
        if STATE.on:
            _record(self._flowscope_ns, sql, seq_of_parameters, True)
        return result


class _Reading:
    """Mixed in front of a cursor's class while a sampled request fetches a SELECT's rows (see the module)."""

    __slots__ = ()
    _fs_plain: Any  # the cursor's own class, switched back to when reading is over
    _fs_read: list[Any]  # [assets per result column, rows left to record]

    def _fs_saw(self, rows: list[Any]) -> None:
        try:
            read = self.__dict__.get("_fs_read")
            if read is None or _get() is None or not STATE.on:
                self.__class__ = self._fs_plain  # the request is over (or probes are off): fetch plainly
                return
            take = rows[: read[1]]
            read[1] -= len(take)
            _db.record_rows(read[0], take)
            if read[1] <= 0:
                self.__class__ = self._fs_plain
        except Exception:
            FAULTS.add("sqlite3.read")

    def fetchone(self) -> Any:
        row = self._fs_plain.fetchone(self)
        if row is not None:
            self._fs_saw([row])
        return row

    def fetchmany(self, *args: Any, **kwargs: Any) -> Any:
        rows = self._fs_plain.fetchmany(self, *args, **kwargs)
        self._fs_saw(rows)
        return rows

    def fetchall(self) -> Any:
        rows = self._fs_plain.fetchall(self)
        self._fs_saw(rows)
        return rows

    def __next__(self) -> Any:
        row = self._fs_plain.__next__(self)
        self._fs_saw([row])
        return row

    def execute(self, *args: Any) -> Any:
        self.__class__ = self._fs_plain
        return self.execute(*args)

    def executemany(self, *args: Any) -> Any:
        self.__class__ = self._fs_plain
        return self.executemany(*args)


_READING: dict[type, type] = {}


def _reading(cursor_class: type) -> type:
    """The reading variant of a cursor class (made once per class)."""
    if issubclass(cursor_class, _Reading):
        return cursor_class
    if cursor_class not in _READING:
        name = f"Reading{cursor_class.__name__}"
        _READING[cursor_class] = type(name, (_Reading, cursor_class), {"_fs_plain": cursor_class})
    return _READING[cursor_class]


_MIXED: dict[tuple[type, type], type] = {}


def _mixed(factory: Any, probed: type) -> Any:
    """The host's factory with the probes mixed in (made once per factory); non-classes are kept as they are."""
    if not isinstance(factory, type) or issubclass(factory, probed):
        return factory
    key = (factory, probed)
    if key not in _MIXED:
        base: Any = factory
        methods = {"_fs_execute": base.execute, "_fs_executemany": base.executemany}
        _MIXED[key] = type(f"Probed{factory.__name__}", (probed, factory), methods)
    return _MIXED[key]


def _with_factory(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """connect()'s arguments with the probed factory (``factory`` is the 6th positional parameter)."""
    if "factory" in kwargs:
        kwargs = {**kwargs, "factory": _mixed(kwargs["factory"], ProbedConnection)}
    elif len(args) > 5:
        args = (*args[:5], _mixed(args[5], ProbedConnection), *args[6:])
    else:
        kwargs = {**kwargs, "factory": ProbedConnection}
    return args, kwargs


def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    """``sqlite3.connect`` with the probes' connection factory (records only while sqlite3 is installed)."""
    args, kwargs = _with_factory(args, kwargs)
    conn: sqlite3.Connection = sqlite3.connect(*args, **kwargs)
    return conn


class SqliteInstrumentation(Instrumentation):
    name = "sqlite3"
    module = "sqlite3"

    def _install(self) -> None:
        SETTINGS.clear()
        SETTINGS.update(self.settings)
        for owner in (sqlite3, sqlite3.dbapi2):
            self.patch(owner, "connect", self._make)
        STATE.on = True

    def _make(self, original: Any) -> Any:
        def connect(*args: Any, **kwargs: Any) -> Any:
            try:
                args, kwargs = _with_factory(args, kwargs)
            except Exception:
                FAULTS.add("sqlite3")
            return original(*args, **kwargs)

        return connect

    def survey(self) -> None:
        report(
            "sqlite3",
            sqlite3.Connection,
            lambda c: isinstance(c, ProbedConnection),
            lambda c: c.total_changes >= 0,  # raises on a closed connection
            unwrapped(raw_attr(sqlite3, "connect")),
            "sqlite3.connect",
            ("sqlite3", "_sqlite3"),
        )

    def _unhook(self) -> None:
        STATE.on = False

    def _hooked(self) -> bool:
        return STATE.on
