"""The query-log formats flowscope reads, each turned into one :class:`Entry` per executed query.

- **generic JSONL**: ``{"query", "query_id", "job_id", "trace_id", "user", "engine", "start_time",
  "end_time"}``; ``engine`` (a sqlglot dialect name) picks the dialect of that entry.
- **Trino/Presto query-completed events**, as the event listener writes them (``http-event-listener`` or a
  custom listener serializing ``QueryCompletedEvent``): ``metadata.queryId``, ``metadata.query``,
  ``metadata.queryState``, ``context.user`` / ``catalog`` / ``schema`` (the session's defaults for unqualified
  names), ``createTime`` / ``endTime``, ``ioMetadata.inputs[]`` / ``ioMetadata.output`` (the tables Trino
  itself saw; used when the SQL does not parse). Failed queries moved no data and are skipped.
- **Spark event logs**: ``SparkListenerSQLExecutionStart`` events; the SQL is the ``description`` when it
  is SQL (``spark.sql(...)``, the Thrift server, ``spark-sql``), otherwise the execution is a DataFrame
  action (``save at Job.scala:42``) without SQL text and is skipped. ``SparkListenerApplicationStart`` names
  the job (``App Name``) and the user for the executions that follow.

Every format is detected per line, so one file may mix them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flowscope.errors import UserError
from flowscope_sql.settings import check_dialect

SPARK_SQL_START = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart"
SPARK_APP_START = "SparkListenerApplicationStart"
_SQL_START = re.compile(r"^[\s(]*(select|insert|with|create|merge|update|delete|from|replace)\b", re.I)


class Skip(Exception):
    """A line of a known format that holds no query to analyse (another Spark event, a failed query)."""


@dataclass
class Entry:
    """One executed query, whatever log it came from."""

    query: str
    dialect: str | None = None  # None: the source's dialect
    query_id: str | None = None
    job_id: str | None = None
    trace_id: str | None = None
    user: str | None = None
    time: datetime | None = None
    catalog: str | None = None  # session defaults (Trino's context.catalog / schema)
    schema: str | None = None
    inputs: list[tuple[str, ...]] = field(default_factory=list)  # tables the engine reported reading
    output: tuple[str, ...] | None = None


def parse_time(raw: object) -> datetime | None:
    """ISO 8601 text, or epoch milliseconds (Spark)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return datetime.fromtimestamp(raw / 1000, tz=UTC)
    if not isinstance(raw, str):
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


class EntryReader:
    """Turns parsed JSON lines into entries; remembers the Spark application the lines belong to."""

    def __init__(self) -> None:
        self.app: dict[str, str | None] = {}

    def entry(self, obj: object) -> Entry:
        """The entry of one line; raises :class:`Skip` for lines without a query and ValueError when bad."""
        if not isinstance(obj, dict):
            raise ValueError("a log entry is a JSON object")
        if "Event" in obj:
            return self._spark(obj)
        if isinstance(obj.get("metadata"), dict) and "queryId" in obj["metadata"]:
            return _trino(obj)
        return _generic(obj)

    def _spark(self, obj: dict[str, Any]) -> Entry:
        event = obj["Event"]
        if event == SPARK_APP_START:
            keys = {"name": "App Name", "id": "App ID", "user": "User"}
            self.app = {k: _str(obj.get(v)) for k, v in keys.items()}
            raise Skip
        if event != SPARK_SQL_START:
            raise Skip
        text = obj.get("description")
        if not isinstance(text, str) or not _SQL_START.match(text):
            raise Skip  # a DataFrame action: no SQL text to analyse
        return Entry(
            query=text,
            dialect="spark",
            query_id=f"{self.app.get('id') or 'app'}/sql/{obj.get('executionId')}",
            job_id=self.app.get("name"),
            user=self.app.get("user"),
            time=parse_time(obj.get("time")),
        )


def _table(item: object) -> tuple[str, ...] | None:
    if not isinstance(item, dict):
        return None
    parts = (item.get("catalogName"), item.get("schema"), item.get("table"))
    return tuple(str(p) for p in parts if p) if item.get("table") else None


def _trino(obj: dict[str, Any]) -> Entry:
    meta = obj["metadata"]
    if not isinstance(meta.get("query"), str):
        raise ValueError("a query-completed event needs metadata.query")
    if meta.get("queryState") == "FAILED" or obj.get("failureInfo"):
        raise Skip  # a failed query wrote nothing
    context: dict[str, Any] = obj["context"] if isinstance(obj.get("context"), dict) else {}
    io: dict[str, Any] = obj["ioMetadata"] if isinstance(obj.get("ioMetadata"), dict) else {}
    inputs = [t for t in (_table(i) for i in io.get("inputs") or []) if t]
    return Entry(
        query=meta["query"],
        dialect="trino",
        query_id=_str(meta.get("queryId")),
        trace_id=_str(context.get("traceToken")),
        user=_str(context.get("user")),
        time=parse_time(obj.get("endTime") or obj.get("createTime")),
        catalog=_str(context.get("catalog")),
        schema=_str(context.get("schema")),
        inputs=inputs,
        output=_table(io.get("output")),
    )


def _generic(obj: dict[str, Any]) -> Entry:
    if not isinstance(obj.get("query"), str):
        raise ValueError("a log entry needs a 'query' string")
    engine = obj.get("engine")
    dialect = None
    if engine:
        try:
            dialect = check_dialect(str(engine))
        except UserError as exc:  # an unknown engine is this line's problem, not the run's
            raise ValueError(f"engine: {exc}") from None
    return Entry(
        query=obj["query"],
        dialect=dialect,
        query_id=_str(obj.get("query_id")),
        job_id=_str(obj.get("job_id")),
        trace_id=_str(obj.get("trace_id")),
        user=_str(obj.get("user")),
        time=parse_time(obj.get("end_time") or obj.get("start_time") or obj.get("timestamp")),
    )
