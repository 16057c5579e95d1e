"""Query logs in the generic JSONL format: one executed query per line, parsed once per query shape.

Each line is an object with ``query`` (the SQL text, required) and optionally ``query_id``, ``job_id``,
``trace_id``, ``user``, ``engine`` (a dialect name), ``start_time`` / ``end_time`` (ISO 8601). Queries are
fingerprinted (sqlglot tokens with literals replaced by ``?``), so a shape repeated a million times with
different dates or ids is analysed once; its signals carry the count, first/last seen and sample ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import sqlglot
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from flowscope.model import Evidence, Job, Signal
from flowscope_sql.analyze import Analyzer, Statement
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
    """Every log entry of one (job, query shape)."""

    sql: str
    line: int
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    ids: dict[str, list[str]] = field(default_factory=dict)

    def add(self, entry: dict[str, object], when: datetime | None) -> None:
        self.count += 1
        if when is not None:
            self.first_seen = when if self.first_seen is None else min(self.first_seen, when)
            self.last_seen = when if self.last_seen is None else max(self.last_seen, when)
        for key in ("query_id", "trace_id", "user"):
            value = entry.get(key)
            seen = self.ids.setdefault(key, [])
            if value is not None and len(seen) < SAMPLE_IDS and str(value) not in seen:
                seen.append(str(value))


def _time(entry: dict[str, object]) -> datetime | None:
    raw = entry.get("end_time") or entry.get("start_time") or entry.get("timestamp")
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class LogResult:
    signals: list[Signal] = field(default_factory=list)
    problems: list[tuple[str, int]] = field(default_factory=list)  # (message, line)
    entries: int = 0
    shapes: int = 0


def read_log(lines: Iterator[str], name: str, source: Source, analyzer: Analyzer) -> LogResult:
    """Signals of a JSONL query log named ``name`` (for evidence); bad lines become problems."""
    result = LogResult()
    shapes: dict[tuple[str, str], Shape] = {}
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError as exc:
            result.problems.append((f"not JSON: {exc}", number))
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("query"), str):
            result.problems.append(("a log entry needs a 'query' string", number))
            continue
        result.entries += 1
        sql = entry["query"]
        job = str(entry.get("job_id") or "")
        key = (job, fingerprint(sql, source.dialect))
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = Shape(sql, number)
        shape.add(entry, _time(entry))
    result.shapes = len(shapes)
    for (job_id, fp), shape in shapes.items():
        statements = analyzer.run(shape.sql)
        for st in statements:
            if st.error:
                result.problems.append((st.error, shape.line))
                continue
            result.signals += _signals(st, shape, source, job_id or f"query/{fp}", fp, f"{name}:{shape.line}")
    return result


def _signals(
    st: Statement, shape: Shape, source: Source, job_name: str, fp: str, location: str
) -> list[Signal]:
    text = redact_literals(st.text, source.dialect)  # parsed with its literals, kept without them
    job = Job(source.job_namespace or source.namespace, job_name, job_type="QUERY", sql=text)
    detail = [("fingerprint", fp), ("count", str(shape.count))]
    detail += [(k, ",".join(v)) for k, v in sorted(shape.ids.items()) if v]
    snippet = text.strip().splitlines()[0][:200]
    evidence = (Evidence(NAME, "query_log", location, snippet, tuple(detail)),)
    out = []
    for f in st.flows:
        src = source.asset(f.source, f.source_column)
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
