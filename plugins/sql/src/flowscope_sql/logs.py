"""Query logs: one executed query per line, parsed once per query shape.

The formats (generic JSONL, Trino/Presto query-completed events, Spark event logs) are read by
:mod:`flowscope_sql.logformats`; each entry's dialect and session defaults pick how it is parsed. Queries are
fingerprinted (:mod:`flowscope_sql.literals`: literals as ``?``, IN lists and VALUES rows collapsed), so a shape
repeated a million times with different dates or ids is analysed once; its signals carry the count, first/last
seen and sample ids (users and trace ids as salted hashes, :mod:`flowscope_sql.personal`).

The work is split in two so it can run beyond one machine (:mod:`flowscope_sql.sparklogs`): :class:`ShapeTable`
folds log lines into shapes (per line, mergeable: a Spark partition builds one, partitions are merged by key),
and :func:`analyse_shapes` parses each shape once, in the order the shapes first appeared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from flowscope import naming
from flowscope.model import Evidence, Job, Signal, Transformation
from flowscope_sql.analyze import Analyzer, Flow, Statement
from flowscope_sql.literals import fingerprint, redact
from flowscope_sql.logformats import Entry, EntryReader, Skip
from flowscope_sql.observe import flow_signals
from flowscope_sql.settings import NAME, Source

SAMPLE_IDS = 5
ShapeKey = tuple[str, str, str, str, str]  # job id, dialect, session catalog, session schema, fingerprint
Where = tuple[int, int]  # (file number, line) of a shape's first entry: the order shapes are analysed in


def redact_literals(sql: str, dialect: str) -> str:
    """The query with every literal replaced by ``?`` and its comments dropped (see :mod:`literals`)."""
    return redact(sql, dialect)


@dataclass
class Shape:
    """Every log entry of one (job, dialect, session defaults, query shape)."""

    sql: str
    where: Where
    entry: Entry
    name: str = ""  # the log file the first entry was in
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    ids: dict[str, list[tuple[Where, str]]] = field(default_factory=dict)  # first distinct values, with where

    @property
    def line(self) -> int:
        return self.where[1]

    def samples(self, key: str) -> list[str]:
        return [value for _, value in self.ids.get(key, [])]

    def add(self, entry: Entry, hashed: Callable[[str], str], where: Where) -> None:
        self.count += 1
        self._seen(entry.time, entry.time)
        for key in ("query_id", "trace_id", "user"):
            value = getattr(entry, key)
            if value is not None:
                self._sample(key, value if key == "query_id" else hashed(value), where)

    def _seen(self, first: datetime | None, last: datetime | None) -> None:
        if first is not None:
            self.first_seen = first if self.first_seen is None else min(self.first_seen, first)
        if last is not None:
            self.last_seen = last if self.last_seen is None else max(self.last_seen, last)

    def _sample(self, key: str, value: str, where: Where) -> None:
        seen = self.ids.setdefault(key, [])
        if len(seen) < SAMPLE_IDS and all(value != v for _, v in seen):
            seen.append((where, value))

    def merge(self, other: Shape) -> Shape:
        """Both shapes' entries as one: the earlier first entry is the representative, and the samples are the
        first distinct values in log order whatever order shapes are merged in (a Spark reduce merges in any
        order; each side holds its own first distinct values, so theirs are the union's)."""
        first, second = (self, other) if self.where <= other.where else (other, self)
        ids: dict[str, list[tuple[Where, str]]] = {}
        for key in {*first.ids, *second.ids}:
            kept: list[tuple[Where, str]] = []
            for where, value in sorted([*first.ids.get(key, []), *second.ids.get(key, [])]):
                if len(kept) < SAMPLE_IDS and all(value != v for _, v in kept):
                    kept.append((where, value))
            ids[key] = kept
        out = replace(first, ids=ids, count=self.count + other.count)
        out._seen(second.first_seen, second.last_seen)
        return out


@dataclass
class LogResult:
    signals: list[Signal] = field(default_factory=list)
    problems: list[tuple[str, int]] = field(default_factory=list)  # (message, line)
    entries: int = 0
    shapes: int = 0
    file_problems: list[tuple[str, str, int]] = field(default_factory=list)  # (file, message, line)


class ShapeTable:
    """Log lines -> shapes, one line at a time; the per-entry work a Spark partition runs too."""

    def __init__(self, dialect: str, hashed: Callable[[str], str]) -> None:
        self.dialect = dialect
        self.hashed = hashed
        self.shapes: dict[ShapeKey, Shape] = {}
        self.problems: list[tuple[str, int, str]] = []  # (file name, line, message)
        self.entries = 0

    def feed(self, lines: Iterable[bytes | str], name: str, file_no: int = 0) -> None:
        reader = EntryReader()
        for number, raw in enumerate(lines, 1):
            self.line(reader, raw, name, file_no, number)

    def line(self, reader: EntryReader, raw: bytes | str, name: str, file_no: int, number: int) -> None:
        """One line: an entry added to its shape, nothing (a blank or skipped line), or a problem naming
        the line; a bad line never costs the lines around it."""
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.problems.append(
                    (name, number, f"not UTF-8 (byte {exc.start} of the line); line skipped")
                )
                return
        if not raw.strip():
            return
        try:
            entry = reader.entry(json.loads(raw))
        except Skip:
            return
        except RecursionError:
            self.problems.append((name, number, "JSON nested too deeply; line skipped"))
            return
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            message = f"not JSON: {exc}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            self.problems.append((name, number, message))
            return
        self.entries += 1
        dialect = entry.dialect if entry.dialect is not None else self.dialect
        key = (
            entry.job_id or "",
            dialect,
            entry.catalog or "",
            entry.schema or "",
            fingerprint(entry.query, dialect),
        )
        shape = self.shapes.get(key)
        if shape is None:
            shape = self.shapes[key] = Shape(entry.query, (file_no, number), entry, name)
        shape.add(entry, self.hashed, (file_no, number))


def _source_for(source: Source, entry: Entry) -> Source:
    """The entry's dialect and session defaults over the configured source (namespace and mapping kept)."""
    if entry.dialect in (None, source.dialect) and not entry.catalog and not entry.schema:
        return source
    return replace(
        source,
        dialect=entry.dialect if entry.dialect is not None else source.dialect,
        default_catalog=entry.catalog or source.default_catalog,
        default_schema=entry.schema or source.default_schema,
    )


def analyse_shapes(
    shapes: Iterable[tuple[ShapeKey, Shape]], source: Source, analyzer: Analyzer
) -> Iterator[tuple[Shape, list[Signal], list[str]]]:
    """Each shape's signals and problems, shapes in the order they first appeared in the logs."""
    analyzer.quote_sql = False  # a problem's message must not carry the query's literals
    analyzers: dict[tuple[str, str, str], Analyzer] = {}
    for (job_id, dialect, catalog, schema, fp), shape in sorted(shapes, key=lambda kv: kv[1].where):
        src = _source_for(source, shape.entry)
        if src is source:
            active = analyzer
        else:
            active = analyzers.get((dialect, catalog, schema)) or Analyzer(
                src, analyzer.catalog, max_chars=analyzer.max_chars, timeout=analyzer.timeout, quote_sql=False
            )
            analyzers[(dialect, catalog, schema)] = active
        signals: list[Signal] = []
        problems: list[str] = []
        where = f"{shape.name}:{shape.line}"
        for st in active.run(shape.sql):
            if st.error:
                qid = f" (query {shape.entry.query_id})" if shape.entry.query_id else ""
                problems.append(f"{st.error}{qid}")
                st.flows = _reported_flows(shape.entry)  # what the engine itself said it read and wrote
                if not st.flows:
                    continue
                st.reads, st.writes = set(), [st.flows[0].target]  # type: ignore[list-item]
            signals += _signals(st, shape, src, job_id or f"query/{fp}", fp, where)
        yield shape, signals, problems


def read_log(
    lines: Iterator[bytes | str],
    name: str,
    source: Source,
    analyzer: Analyzer,
    hashed: Callable[[str], str] = str,
) -> LogResult:
    """Signals of one query log named ``name`` (for evidence), any format of :mod:`flowscope_sql.logformats`
    line by line; bad lines become problems with their line number. ``hashed`` turns users and trace ids
    into what is kept (the collector and the CLI pass the store's salted hash)."""
    table = ShapeTable(source.dialect, hashed)
    table.feed(lines, name)
    return collect(table, source, analyzer)


def collect(table: ShapeTable, source: Source, analyzer: Analyzer) -> LogResult:
    result = LogResult(entries=table.entries, shapes=len(table.shapes))
    result.problems += [(message, line) for _, line, message in table.problems]
    result.file_problems += [(file, message, line) for file, line, message in table.problems]
    for shape, signals, problems in analyse_shapes(table.shapes.items(), source, analyzer):
        result.signals += signals
        result.problems += [(p, shape.line) for p in problems]
        result.file_problems += [(shape.name, p, shape.line) for p in problems]
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
    text = redact(st.text, source.dialect)  # parsed with its literals, kept without them (every format)
    job = Job(source.job_namespace or naming.job_namespace("sql"), job_name, job_type="QUERY", sql=text)
    detail = [("fingerprint", fp), ("count", str(shape.count))]
    detail += [(k, ",".join(shape.samples(k))) for k in sorted(shape.ids) if shape.ids[k]]
    snippet = text.strip().splitlines()[0][:200] if text.strip() else ""
    evidence = (Evidence(NAME, "query_log", location, snippet, tuple(detail)),)
    return list(
        flow_signals(
            st,
            source,
            job,
            evidence,
            shape.name,
            count=shape.count,
            first_seen=shape.first_seen,
            last_seen=shape.last_seen,
        )
    )
