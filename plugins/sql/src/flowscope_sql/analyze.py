"""SQL text -> statements -> flows, one statement at a time, each bounded in size and time.

A statement that does not parse, is unsupported or runs out of budget becomes a problem with its line;
the statements around it are still analysed.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from flowscope.model import Transformation
from flowscope_sql.lineage import TableKey, Tracer, analyze, table_key
from flowscope_sql.settings import Catalog, Source
from flowscope_sql.statements import Ddl, Unsupported, Write, writes_of


@dataclass(frozen=True)
class Flow:
    """``source.column`` -> ``target.column`` (target None: a read; column None: the whole dataset)."""

    source: TableKey
    source_column: str
    target: TableKey | None
    target_column: str | None
    transformation: Transformation


@dataclass
class Statement:
    index: int  # 1-based position in its file
    line: int
    text: str
    operation: str = ""
    flows: list[Flow] = field(default_factory=list)
    reads: set[TableKey] = field(default_factory=set)
    writes: list[TableKey] = field(default_factory=list)
    error: str | None = None


def split(text: str, dialect: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each statement, split on the dialect's own semicolon tokens."""
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(text)
    except (SqlglotError, ValueError):
        yield from _split_naively(text)
        return
    start: int | None = None
    line, end = 1, 0
    for tok in tokens:
        if tok.token_type == sqlglot.TokenType.SEMICOLON:
            if start is not None:
                yield line, text[start:end].strip()
            start = None
            continue
        if start is None:
            start, line = tok.start, tok.line
        end = tok.end + 1
    if start is not None:
        yield line, text[start:end].strip()


def _split_naively(text: str) -> Iterator[tuple[int, str]]:
    buf: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not buf and not raw.strip():
            continue
        if not buf:
            first = number
        buf.append(raw)
        if raw.rstrip().endswith(";"):
            yield first, "\n".join(buf).rstrip().rstrip(";")
            buf = []
    if buf and "".join(buf).strip():
        yield first, "\n".join(buf)


class TimeLimit:
    """Raise TimeoutError in the main thread after ``seconds`` (SIGALRM); elsewhere only the tracer's step
    budget and the size limit bound the work. ``fired`` tells a timeout apart from the errors sqlglot
    wraps it in."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._previous: Any = None
        self._armed = (
            seconds > 0
            and threading.current_thread() is threading.main_thread()
            and hasattr(signal, "SIGALRM")
        )

    def _fire(self, signum: int, frame: object) -> None:
        self.fired = True
        raise TimeoutError(f"statement took longer than {self.seconds:g}s")

    def __enter__(self) -> TimeLimit:
        if self._armed:
            self._previous = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)


class Analyzer:
    """Analyses the statements of one source; remembers tables created and ``USE`` across a script."""

    def __init__(
        self,
        source: Source,
        catalog: Catalog | None = None,
        *,
        max_chars: int = 1_000_000,
        timeout: float = 10.0,
        quote_sql: bool = True,
    ) -> None:
        self.source = source
        self.quote_sql = quote_sql  # False for logged queries: problems never quote their text
        self.catalog = catalog or Catalog()
        self.max_chars = max_chars
        self.timeout = timeout
        self.db = source.default_schema
        self.temporary: set[TableKey] = set()  # temporary tables and views created by the script so far

    def run(self, text: str) -> list[Statement]:
        return [
            self.statement(i, line, sql) for i, (line, sql) in enumerate(split(text, self.source.dialect), 1)
        ]

    def statement(self, index: int, line: int, sql: str) -> Statement:
        st = Statement(index, line, sql)
        if len(sql) > self.max_chars:
            st.error = f"statement too large ({len(sql)} characters, limit {self.max_chars})"
            return st
        limit = TimeLimit(self.timeout)
        try:
            with limit:
                self._analyze(st)
        except Unsupported as exc:
            st.error = str(exc) if self.quote_sql else exc.message
        except ParseError as exc:
            first = exc.errors[0] if exc.errors else {}
            where = f" at line {st.line + int(first.get('line') or 1) - 1}" if first else ""
            st.error = f"syntax error{where}: {_clean(first.get('description') or str(exc))}"[:300]
        except SqlglotError as exc:
            st.error = f"cannot analyse: {str(exc).splitlines()[0][:200]}"
        except (TimeoutError, RecursionError) as exc:
            st.error = f"gave up: {exc or 'statement nested too deeply'}"
        if limit.fired:
            st.flows.clear()
            st.error = f"gave up: statement took longer than {self.timeout:g}s"
        return st

    def _analyze(self, st: Statement) -> None:
        sqlglot_log = logging.getLogger("sqlglot")
        quiet, sqlglot_log.disabled = sqlglot_log.disabled, sqlglot_log.disabled or not self.quote_sql
        try:  # sqlglot's warnings quote the statement; a logged query's text never reaches the logs
            parsed = sqlglot.parse_one(st.text, read=self.source.dialect)
        finally:
            sqlglot_log.disabled = quiet
        parsed = normalize_identifiers(parsed, dialect=self.source.dialect)  # the engine's case rules
        if isinstance(parsed, exp.Command):
            raise Unsupported(f"unsupported statement {parsed.name.upper() or 'command'}", st.text[:60])
        result = writes_of(parsed)
        if isinstance(result, Ddl):
            st.operation = "DDL"
            if result.use:
                self.db = result.use.split(".")[-1]
            if result.table is not None and result.columns:
                self.catalog.add(self._key(result.table), result.columns)
            if result.table is not None and result.temporary:
                self.temporary.add(self._key(result.table))
            return
        st.operation = result[0].operation if result else ""
        for write in result:
            self._write(st, write)

    def _key(self, table: exp.Table) -> TableKey:
        key = table_key(table)
        if len(key) == 1 and self.db:
            key = (self.db, *key)
        return self.source.full_key(key)

    def _write(self, st: Statement, write: Write) -> None:
        dialect = self.source.dialect
        schema = MappingSchema(self.catalog.mapping(self.source), dialect=dialect, normalize=True)
        common = dict(
            dialect=dialect,
            db=self.db,
            catalog=self.source.default_catalog,
            quote_identifiers=False,
            identify=False,
            validate_qualify_columns=False,
        )
        try:
            query = qualify(write.query.copy(), schema=schema, **common)  # type: ignore[arg-type]
        except OptimizeError:
            query = qualify(write.query.copy(), schema=schema, qualify_columns=False, **common)  # type: ignore[arg-type]
        tracer = Tracer(self.catalog.columns(self.source))
        lineage = analyze(query, tracer)
        st.reads |= {self.source.full_key(t) for t in lineage.tables}
        if write.target is None:
            for _, direct in lineage.columns:
                for d in direct:
                    st.flows.append(Flow(self.source.full_key(d.table), d.column, None, None, _direct(d)))
            for ind in lineage.indirect.union(*lineage.column_indirect):
                st.flows.append(
                    Flow(self.source.full_key(ind.table), ind.column, None, None, _indirect(ind.subtype))
                )
            return
        target = self._key(write.target)
        if write.temporary:
            self.temporary.add(target)
        if target not in st.writes:
            st.writes.append(target)
        names = self._target_columns(write, target, [n for n, _ in lineage.columns])
        for name, (_, direct), per_column in zip(
            names, lineage.columns, lineage.column_indirect, strict=False
        ):
            for d in direct:
                out = name if not (name == "*" and d.column != "*") else d.column
                st.flows.append(Flow(self.source.full_key(d.table), d.column, target, out, _direct(d)))
            for ind in per_column:  # a CASE condition or window key shapes this column only
                field_name = None if name == "*" else name
                st.flows.append(
                    Flow(
                        self.source.full_key(ind.table),
                        ind.column,
                        target,
                        field_name,
                        _indirect(ind.subtype),
                    )
                )
        for ind in lineage.indirect:
            subtype = write.condition_subtype if ind.subtype == "FILTER" else ind.subtype
            st.flows.append(
                Flow(self.source.full_key(ind.table), ind.column, target, None, _indirect(subtype))
            )
        if write.operation.startswith("CREATE") and "*" not in names:
            self.catalog.add(target, [(n, "") for n in names])

    def _target_columns(self, write: Write, target: TableKey, produced: list[str]) -> list[str]:
        if write.columns:
            return write.columns
        known = self.catalog.columns(self.source).get(target, [])
        if known and "*" not in produced:
            static = set(write.static_partitions)
            dynamic = [c for c in write.dynamic_partitions if c not in static]
            body = [c for c in known if c not in static and c not in dynamic]
            return body + dynamic
        return produced


def _clean(message: str) -> str:
    """sqlglot's messages quote token reprs; keep the token's text."""
    text = re.sub(
        r"<Token token_type: TokenType\.(\w+), text: ([^,]*),[^>]*>", r"'\2'", message.splitlines()[0]
    )
    return text.replace("'SENTINEL'", "the end of the statement")


def _direct(d: object) -> Transformation:
    subtype = getattr(d, "subtype", "IDENTITY")
    path = getattr(d, "path", "")
    return Transformation(
        "DIRECT", subtype, bool(getattr(d, "masking", False)), f"path {path}" if path else ""
    )


def _indirect(subtype: str) -> Transformation:
    return Transformation("INDIRECT", subtype)
