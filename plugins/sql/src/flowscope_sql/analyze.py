"""SQL text -> statements -> flows, one statement at a time, each bounded in size and CPU time.

A statement that does not parse, is unsupported or runs out of budget becomes a problem with its line;
the statements around it are still analysed. Utility statements (SHOW, SET, ANALYZE, ...) and procedure
syntax (BEGIN/END, IF, DECLARE) hold no lineage and are no problem (:mod:`flowscope_sql.blocks`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.qualify_tables import qualify_tables
from sqlglot.schema import MappingSchema

from flowscope.model import Transformation
from flowscope_sql.blocks import peel, split
from flowscope_sql.budget import CpuLimit
from flowscope_sql.lineage import TableKey, Tracer, analyze, table_key
from flowscope_sql.settings import RESULT, Catalog, Source, typed
from flowscope_sql.statements import Ddl, Unsupported, Write, writes_of
from flowscope_sql.utility import command_lineage

RENAME = Transformation("DIRECT", "IDENTITY", description="table renamed")
EXCHANGE = Transformation("DIRECT", "IDENTITY", description="partition or table contents exchanged")


@dataclass(frozen=True)
class Flow:
    """``source.column`` -> ``target.column`` (target :data:`RESULT`: the query's result; column None: the
    whole dataset)."""

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
    values_into: dict[TableKey, list[str]] = field(default_factory=dict)  # INSERT ... VALUES: literal rows
    error: str | None = None


def _known_schema_class() -> type[MappingSchema]:
    """sqlglot's schema, answering "no columns" at once for a table whose name it does not hold: sqlglot
    normalizes (and copies) the table's name before every lookup, which was a tenth of a logged query's
    analysis when most tables are not in the catalog. Where sqlglotc compiled the schema class it cannot be
    subclassed, and sqlglot's own class (itself faster there) is used."""
    try:

        class KnownSchema(MappingSchema):
            names: set[str]

            def column_names(self, table: exp.Table | str, *args: Any, **kwargs: Any) -> list[str]:
                name = table.name if isinstance(table, exp.Table) else str(table).rsplit(".", 1)[-1]
                if name.lower().strip('"`[]') not in self.names:
                    return []
                return list(super().column_names(table, *args, **kwargs))

        KnownSchema({})
    except TypeError:  # "interpreted classes cannot inherit from compiled"
        return MappingSchema
    return KnownSchema


KNOWN_SCHEMA = _known_schema_class()


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
        self.written: set[TableKey] = set()  # tables the script wrote (one it drops again was temporary)
        self._dialect = Dialect.get_or_raise(source.dialect)  # resolved once, not per sqlglot call
        self._schema: MappingSchema | None = None
        self._names: set[str] = set()  # last name parts of the catalog's tables
        self._schema_seen = 0  # how much of catalog.added the schema holds

    def run(self, text: str) -> list[Statement]:
        out: list[Statement] = []
        for line, piece in split(text, self.source.dialect):
            if len(piece) > self.max_chars:  # refused before sqlglot tokenizes it
                out.append(Statement(len(out) + 1, line, piece[:200], error=self._too_large(len(piece))))
                continue
            for at, sql in peel(line, piece, self.source.dialect):
                out.append(self.statement(len(out) + 1, at, sql))
        return out

    def _too_large(self, size: int) -> str:
        return f"statement too large ({size} characters, limit {self.max_chars})"

    def statement(self, index: int, line: int, sql: str) -> Statement:
        st = Statement(index, line, sql)
        if len(sql) > self.max_chars:
            st.error = self._too_large(len(sql))
            return st
        limit = CpuLimit(self.timeout)
        sqlglot_log = logging.getLogger("sqlglot")
        quiet, sqlglot_log.disabled = sqlglot_log.disabled, True
        # sqlglot's warnings quote the statement (a logged query's literals must never reach the logs) and
        # are not in flowscope's FILE:LINE form; what matters of them is reported as the statement's problem.
        try:
            with limit:
                self._analyze(st)
        except Unsupported as exc:
            st.error = str(exc) if self.quote_sql else exc.message
        except ParseError as exc:
            first = exc.errors[0] if exc.errors else {}
            where = f" at line {st.line + int(first.get('line') or 1) - 1}" if first else ""
            detail = f": {_clean(first.get('description') or str(exc))}" if self.quote_sql else ""
            st.error = f"syntax error{where}{detail}"[:300]
        except SqlglotError as exc:
            detail = f": {str(exc).splitlines()[0][:200]}" if self.quote_sql else ""
            st.error = f"cannot analyse{detail}"
        except (TimeoutError, RecursionError) as exc:
            st.error = f"gave up: {exc or 'statement nested too deeply'}"
        finally:
            sqlglot_log.disabled = quiet
        if limit.fired:
            st.flows.clear()
            st.error = f"gave up: statement took more than {self.timeout:g}s of CPU time"
        return st

    def _analyze(self, st: Statement) -> None:
        parsed = sqlglot.parse_one(st.text, read=self._dialect)
        parsed = normalize_identifiers(parsed, dialect=self._dialect)  # the engine's case rules
        if self.source.dialect == "bigquery":  # t$20240101, t$__UNPARTITIONED__: a partition of t
            for table in parsed.find_all(exp.Table):
                if "$" in table.name and isinstance(table.this, exp.Identifier):
                    table.this.set("this", table.name.split("$", 1)[0])
        result = (
            command_lineage(parsed, self.source.dialect)
            if isinstance(parsed, exp.Command)
            else writes_of(parsed)
        )
        if isinstance(result, Ddl):
            st.operation = "DDL"
            self._ddl(st, result)
            return
        st.operation = result[0].operation if result else ""
        for write in result:
            self._write(st, write)

    def _ddl(self, st: Statement, ddl: Ddl) -> None:
        for table in ddl.drops:  # written, then dropped by the same script: a staging table
            if self._key(table) in self.written:
                self.temporary.add(self._key(table))
        if ddl.use:
            self.db = ddl.use.split(".")[-1]
        if ddl.table is not None and ddl.columns:
            self.catalog.add(self._key(ddl.table), ddl.columns)
        if ddl.table is not None and ddl.temporary:
            self.temporary.add(self._key(ddl.table))
        for old, new in ddl.renames:
            before, after = self._key(old), self._key(new)
            if len(table_key(new)) == 1 and len(before) > 1:  # RENAME TO t keeps the table's schema
                after = (*before[:-1], after[-1])
            st.operation = "EXCHANGE" if ddl.exchange else "RENAME"
            st.reads.add(before)
            st.writes.append(after)
            st.flows.append(Flow(before, "", after, None, EXCHANGE if ddl.exchange else RENAME))
            if ddl.exchange:
                continue
            if before in self.catalog.tables:
                self.catalog.add(after, self.catalog.tables[before])
            if before in self.temporary:
                self.temporary.add(after)

    def _key(self, table: exp.Table) -> TableKey:
        key = table_key(table)
        if len(key) == 1 and self.db:
            key = (self.db, *key)
        if len(key) == 1 and key[0].startswith("#"):
            self.temporary.add(self.source.full_key(key))  # T-SQL #temp tables
        return self.source.full_key(key)

    def schema(self) -> MappingSchema:
        """The sqlglot schema of the catalog, built once and extended with the tables added since."""
        if self._schema is None:
            self._schema = KNOWN_SCHEMA(
                self.catalog.mapping(self.source), dialect=self._dialect, normalize=True
            )
            self._names = {key[-1].lower() for key in self.catalog.tables}
            if KNOWN_SCHEMA is not MappingSchema:
                self._schema.names = self._names  # type: ignore[attr-defined]
            self._schema_seen = len(self.catalog.added)
            return self._schema
        for key in self.catalog.added[self._schema_seen :]:
            self._names.add(key[-1].lower())
            full = self.source.full_key(key)
            if len(full) <= 3 and (self._schema.empty or len(full) == self._schema.depth()):
                table = exp.Table(
                    this=exp.to_identifier(full[-1]),
                    db=exp.to_identifier(full[-2]) if len(full) > 1 else None,
                    catalog=exp.to_identifier(full[-3]) if len(full) > 2 else None,
                )
                self._schema.add_table(table, typed(self.catalog.tables[key]), match_depth=False)
        self._schema_seen = len(self.catalog.added)
        return self._schema

    def _qualify(self, query: exp.Expr) -> exp.Expr:
        """sqlglot's ``qualify`` without its first step: the statement's identifiers were normalized right
        after parsing (the whole statement, once), and normalizing each write's query again cost a fifth of
        a logged query's analysis. The query is this statement's own tree, so it is qualified in place (a
        deep copy cost as much again); columns that cannot be resolved (a star over several tables of
        unknown schema) leave it partly qualified, which is still right where it is qualified."""
        query = qualify_tables(
            _positional_names(query), db=self.db, catalog=self.source.default_catalog, dialect=self._dialect
        )
        try:
            return qualify_columns(query, self.schema(), expand_alias_refs=True, expand_stars=True)
        except OptimizeError:
            return query

    def _write(self, st: Statement, write: Write) -> None:
        target = RESULT if write.target is None else self._key(write.target)
        if write.star_from is not None:
            self._expand_star(write, target)
        if target not in st.writes:
            st.writes.append(target)
        self.written.add(target)
        if write.temporary:
            self.temporary.add(target)
        if write.values:
            st.values_into[target] = list(write.columns or [])
            return
        columns = self.catalog.columns(self.source)
        lineage = analyze(self._qualify(write.query), Tracer(columns))
        full = self.source.full_key
        st.reads |= {full(t) for t in lineage.tables if t}
        names = self._target_columns(write, target, [n for n, _ in lineage.columns])
        for name, (_, direct), per_column in zip(
            names, lineage.columns, lineage.column_indirect, strict=False
        ):
            for d in direct:
                out = name if not (name == "*" and d.column != "*") else d.column
                st.flows.append(Flow(full(d.table), d.column, target, out, _direct(d)))
            for ind in per_column:  # a CASE condition or window key shapes this column only
                field_name = None if name == "*" else name
                st.flows.append(Flow(full(ind.table), ind.column, target, field_name, _indirect(ind.subtype)))
        for ind in (i for i in lineage.indirect if i.table):
            subtype = write.condition_subtype if ind.subtype == "FILTER" else ind.subtype
            st.flows.append(Flow(full(ind.table), ind.column, target, None, _indirect(subtype)))
        if write.operation.startswith("CREATE") and "*" not in names:
            self.catalog.add(target, [(n, "") for n in names])

    def _expand_star(self, write: Write, target: TableKey) -> None:
        """MERGE ... UPDATE SET * / INSERT *: every target column from the source column of the same name
        (the target's columns from the catalog, else the source table's); unknown: ``*`` to ``*``."""
        using = write.star_from
        alias = using.alias_or_name if using is not None else ""
        known = self.catalog.columns(self.source)
        cols = known.get(target) or []
        if not cols and isinstance(using, exp.Table):
            cols = known.get(self._key(using)) or []
        query = write.query
        if isinstance(query, exp.Select):
            if cols:
                query.select(*[exp.alias_(exp.column(c, table=alias), c) for c in cols], copy=False)
                write.columns = list(cols)
            else:
                query.select(exp.Column(this=exp.Star(), table=exp.to_identifier(alias)), copy=False)

    def _target_columns(self, write: Write, target: TableKey, produced: list[str]) -> list[str]:
        if write.columns:
            return write.columns
        known = self.catalog.columns(self.source).get(target, [])
        if known and "*" not in produced:
            static = set(write.static_partitions)
            dynamic = [c for c in write.dynamic_partitions if c not in static]
            body = [c for c in known if c not in static and c not in dynamic]
            return body + dynamic
        if write.dynamic_partitions and "*" not in produced:  # PARTITION (ds='x', hr): hr is the last value
            dynamic = [c for c in write.dynamic_partitions if c not in write.static_partitions]
            if 0 < len(dynamic) <= len(produced):
                return produced[: len(produced) - len(dynamic)] + dynamic
        return produced


def _positional_names(query: exp.Expr) -> exp.Expr:
    """An unaliased projection sqlglot would name after a literal (``props['alice@x.com']``, ``'x'``) is named
    ``_col_N`` (sqlglot's name for unnamed values) instead: a literal must not become a column name."""
    for select in query.find_all(exp.Select):
        for i, p in enumerate(select.expressions):
            if isinstance(p, exp.Alias | exp.Column | exp.Star) or not p.output_name:
                continue
            literals = {n.name for n in p.find_all(exp.Literal)}
            literals |= {str(n.this) for n in p.find_all(exp.JSONPathKey)}
            if p.output_name in literals:
                p.replace(exp.alias_(p.copy(), f"_col_{i}"))
    return query


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
