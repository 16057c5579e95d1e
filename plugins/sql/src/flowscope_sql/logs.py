"""Query logs: one executed query per line, parsed once per query shape.

The formats (generic JSONL, Trino/Presto query-completed events, Spark event logs) are read by
:mod:`flowscope_sql.logformats`; each entry's dialect and session defaults pick how it is parsed. Queries are
fingerprinted (sqlglot tokens with literals replaced by ``?``), so a shape repeated a million times with
different dates or ids is analysed once; its signals carry the count, first/last seen and sample ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlglot
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from flowscope.model import Evidence, Job, Signal, Transformation
from flowscope_sql.analyze import Analyzer, Flow, Statement
from flowscope_sql.logformats import Entry, EntryReader, Skip
from flowscope_sql.settings import NAME, Source

LITERALS = {sqlglot.TokenType.STRING, sqlglot.TokenType.NUMBER, sqlglot.TokenType.NATIONAL_STRING}
SAMPLE_IDS = 5


def fingerprint(sql: str, dialect: str) -> str:
    """The query's shape: its tokens with literals as ``?``; falls back to whitespace-normalized text."""
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
        shape = " ".join("?" if t.token_type in LITERALS else t.text.upper() for t in tokens)
    except (SqlglotError, ValueError):
        shape = " ".join(sql.split())
    return hashlib.sha1(shape.encode("utf-8")).hexdigest()[:16]


def redact_literals(sql: str, dialect: str) -> str:
    """The query with every literal replaced by ``?``: logged queries carry users' values (emails, ids)
    in their literals, and those never leave the process (DESIGN.md, privacy of flowscope itself)."""
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
    except (SqlglotError, ValueError):
        return "<query not tokenizable; text withheld>"
    out, pos = [], 0
    for t in tokens:
        if t.token_type in LITERALS:
            out.append(sql[pos : t.start])
            out.append("?")
            pos = t.end + 1
    out.append(sql[pos:])
    return "".join(out)


@dataclass
class Shape:
    """Every log entry of one (job, dialect, session defaults, query shape)."""

    sql: str
    line: int
    entry: Entry
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    ids: dict[str, list[str]] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        self.count += 1
        when = entry.time
        if when is not None:
            self.first_seen = when if self.first_seen is None else min(self.first_seen, when)
            self.last_seen = when if self.last_seen is None else max(self.last_seen, when)
        for key in ("query_id", "trace_id", "user"):
            value = getattr(entry, key)
            seen = self.ids.setdefault(key, [])
            if value is not None and len(seen) < SAMPLE_IDS and value not in seen:
                seen.append(value)


@dataclass
class LogResult:
    signals: list[Signal] = field(default_factory=list)
    problems: list[tuple[str, int]] = field(default_factory=list)  # (message, line)
    entries: int = 0
    shapes: int = 0


def _source_for(source: Source, entry: Entry) -> Source:
    """The entry's dialect and session defaults over the configured source (namespace and mapping kept)."""
    if entry.dialect in (None, source.dialect) and not entry.catalog and not entry.schema:
        return source
    return replace(
        source,
        dialect=entry.dialect or source.dialect,
        default_catalog=entry.catalog or source.default_catalog,
        default_schema=entry.schema or source.default_schema,
    )


def read_log(lines: Iterator[str], name: str, source: Source, analyzer: Analyzer) -> LogResult:
    """Signals of a query log named ``name`` (for evidence), any format of :mod:`flowscope_sql.logformats`
    line by line; bad lines become problems with their line number."""
    result = LogResult()
    analyzer.quote_sql = False  # a problem's message must not carry the query's literals
    shapes: dict[tuple[str, str, str, str, str], Shape] = {}
    reader = EntryReader()
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            entry = reader.entry(json.loads(raw))
        except Skip:
            continue
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            result.problems.append(
                (f"not JSON: {exc}" if isinstance(exc, json.JSONDecodeError) else str(exc), number)
            )
            continue
        result.entries += 1
        dialect = entry.dialect or source.dialect
        fp = fingerprint(entry.query, dialect)
        key = (entry.job_id or "", dialect, entry.catalog or "", entry.schema or "", fp)
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = Shape(entry.query, number, entry)
        shape.add(entry)
    result.shapes = len(shapes)
    analyzers: dict[tuple[str, str, str], Analyzer] = {}
    for (job_id, dialect, catalog, schema, fp), shape in shapes.items():
        src = _source_for(source, shape.entry)
        if src is source:
            active = analyzer
        else:
            active = analyzers.get((dialect, catalog, schema)) or Analyzer(
                src, analyzer.catalog, max_chars=analyzer.max_chars, timeout=analyzer.timeout, quote_sql=False
            )
            analyzers[(dialect, catalog, schema)] = active
        statements = active.run(shape.sql)
        where = f"{name}:{shape.line}"
        for st in statements:
            if st.error:
                qid = f" (query {shape.entry.query_id})" if shape.entry.query_id else ""
                result.problems.append((f"{st.error}{qid}", shape.line))
                st.flows = _reported_flows(shape.entry)  # what the engine itself said it read and wrote
                if not st.flows:
                    continue
            result.signals += _signals(st, shape, src, job_id or f"query/{fp}", fp, where)
    return result


def _reported_flows(entry: Entry) -> list[Flow]:
    """Table-level flows from the engine's own I/O metadata, for a query flowscope could not parse."""
    if entry.output is None:
        return []
    how = Transformation(
        "DIRECT", "TRANSFORMATION", description="table-level, from the engine's I/O metadata"
    )
    return [Flow(t, "", entry.output, None, how) for t in entry.inputs]


def _signals(
    st: Statement, shape: Shape, source: Source, job_name: str, fp: str, location: str
) -> list[Signal]:
    text = redact_literals(
        st.text, source.dialect
    )  # parsed with its literals, kept without them (every format)
    job = Job(source.job_namespace or source.namespace, job_name, job_type="QUERY", sql=text)
    detail = [("fingerprint", fp), ("count", str(shape.count))]
    detail += [(k, ",".join(v)) for k, v in sorted(shape.ids.items()) if v]
    snippet = text.strip().splitlines()[0][:200]
    evidence = (Evidence(NAME, "query_log", location, snippet, tuple(detail)),)
    out = []
    for f in st.flows:
        src = source.asset(f.source, f.source_column or None)
        tgt = source.asset(f.target, f.target_column) if f.target is not None else None
        out.append(
            Signal(
                "sql",
                job,
                src,
                tgt,
                f.transformation,
                evidence,
                count=shape.count,
                first_seen=shape.first_seen,
                last_seen=shape.last_seen,
            )
        )
    return out
