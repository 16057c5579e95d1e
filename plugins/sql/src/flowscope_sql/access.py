"""Reads and writes without SQL: access logs, connected by a context matcher.

An access log is JSONL, one table access per line::

    {"job_id": "etl.daily", "trace_id": "t-9", "user": "svc-etl", "timestamp": "2024-06-01T02:00:00Z",
     "access": "READ", "table": "raw.events"}

(``access`` may also be spelled ``op`` or ``operation``). A write is connected to the reads that share its
job id; when none does, to the reads that share its trace id; when none does, to the reads by the same
user within ``window`` seconds before it. The pairs become ``context`` signals whose ``match`` is
``JOB_ID``, ``TRACE_ID`` or ``USER_WINDOW`` (core scores them 0.70 / 0.60 / 0.35).

The pairing is bounded: reads are indexed by job id, trace id and (user, time); pairs are aggregated per
(job, read table, write table, basis) while they are found, and a user's window is capped at
``max_window_reads`` reads nearest the write, so a busy service account cannot make it quadratic.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flowscope.model import Asset, Evidence, Job, Signal, Transformation
from flowscope_sql.logformats import parse_time

NAME = "sql"
CONTEXT = Transformation("DIRECT", "TRANSFORMATION", description="table-level, inferred from access logs")
SAMPLES = 5


@dataclass
class AccessLog:
    reads: list[dict[str, Any]] = field(default_factory=list)
    writes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, int]] = field(default_factory=list)


def read_access_log(lines: Iterable[str | bytes], name: str, to_asset: Callable[[str], Asset]) -> AccessLog:
    """Records of an access log, as the mappings :meth:`AccessContextMatcher.connect` takes; a line that
    is not UTF-8 is a problem of that line only."""
    out = AccessLog()
    for number, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                out.problems.append((f"not UTF-8 (byte {exc.start} of the line); line skipped", number))
                continue
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            out.problems.append((f"not JSON: {exc}", number))
            continue
        if not isinstance(obj, dict):
            out.problems.append(("an access log entry is a JSON object", number))
            continue
        op = str(obj.get("access") or obj.get("op") or obj.get("operation") or "").upper()
        table = obj.get("table")
        when = parse_time(obj.get("timestamp"))
        if op not in ("READ", "WRITE") or not isinstance(table, str) or not table:
            out.problems.append(("an access log entry needs 'access' (READ or WRITE) and 'table'", number))
            continue
        if obj.get("timestamp") is not None and when is None:
            out.problems.append((f"timestamp: not ISO 8601: {obj.get('timestamp')!r}", number))
            continue
        record = {
            "asset": to_asset(table),
            "job_id": _opt(obj.get("job_id")),
            "trace_id": _opt(obj.get("trace_id")),
            "user": _opt(obj.get("user")),
            "time": when,
            "location": f"{name}:{number}",
        }
        (out.reads if op == "READ" else out.writes).append(record)
    return out


def _opt(value: object) -> str | None:
    return None if value in (None, "") else str(value)


@dataclass
class _Pair:
    location: str
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    ids: dict[str, list[str]] = field(default_factory=dict)

    def add(self, write: Mapping[str, Any], read: Mapping[str, Any]) -> None:
        self.count += 1
        when = write.get("time")
        if when is not None:
            self.first = when if self.first is None else min(self.first, when)
            self.last = when if self.last is None else max(self.last, when)
        for key in ("job_id", "trace_id", "user"):
            value = write.get(key) or read.get(key)
            seen = self.ids.setdefault(key, [])
            if value and len(seen) < SAMPLES and value not in seen:
                seen.append(value)


class AccessContextMatcher:
    """The ``context`` matcher: connects reads and writes by job id, else trace id, else user and window."""

    name = "access_log"
    kind = "context"

    def __init__(self, window_seconds: float = 300.0, max_window_reads: int = 10_000) -> None:
        self.window = timedelta(seconds=window_seconds)
        self.max_window_reads = max_window_reads

    def connect(
        self, reads: Iterable[Mapping[str, Any]], writes: Iterable[Mapping[str, Any]]
    ) -> Iterator[Signal]:
        by_job: dict[str, dict[Asset, Mapping[str, Any]]] = defaultdict(dict)
        by_trace: dict[str, dict[Asset, Mapping[str, Any]]] = defaultdict(dict)
        by_user: dict[str, list[tuple[datetime, int, Mapping[str, Any]]]] = defaultdict(list)
        for i, r in enumerate(reads):
            if r.get("job_id"):
                by_job[r["job_id"]].setdefault(r["asset"], r)  # one read per table is enough to connect
            if r.get("trace_id"):
                by_trace[r["trace_id"]].setdefault(r["asset"], r)
            if r.get("user") and r.get("time") is not None:
                by_user[r["user"]].append((r["time"], i, r))
        for timeline in by_user.values():
            timeline.sort(key=lambda x: (x[0], x[1]))
        times = {u: [t for t, _, _ in timeline] for u, timeline in by_user.items()}
        pairs: dict[tuple[str, str, Asset, Asset, str], _Pair] = {}
        for w in writes:
            found, basis = self._candidates(w, by_job, by_trace, by_user, times)
            job = w.get("job_id") or f"access/{w['asset'].name}"
            namespace = w["asset"].namespace
            for r in found:
                if r["asset"] == w["asset"]:
                    continue
                key = (namespace, job, r["asset"], w["asset"], basis)
                pair = pairs.get(key) or pairs.setdefault(key, _Pair(w["location"]))
                pair.add(w, r)
        for (namespace, job, src, dst, basis), pair in pairs.items():
            detail = [("match", basis), ("count", str(pair.count))]
            detail += [(k, ",".join(v)) for k, v in sorted(pair.ids.items()) if v]
            evidence = (Evidence(NAME, "access_log", pair.location, "", tuple(detail)),)
            yield Signal(
                "context",
                Job(namespace, job),
                src,
                dst,
                CONTEXT,
                evidence,
                match=basis,
                count=pair.count,
                first_seen=pair.first,
                last_seen=pair.last,
            )

    def _candidates(
        self,
        w: Mapping[str, Any],
        by_job: Mapping[str, dict[Asset, Mapping[str, Any]]],
        by_trace: Mapping[str, dict[Asset, Mapping[str, Any]]],
        by_user: Mapping[str, list[tuple[datetime, int, Mapping[str, Any]]]],
        times: Mapping[str, list[datetime]],
    ) -> tuple[list[Mapping[str, Any]], str]:
        if w.get("job_id") and by_job.get(w["job_id"]):
            return list(by_job[w["job_id"]].values()), "JOB_ID"
        if w.get("trace_id") and by_trace.get(w["trace_id"]):
            return list(by_trace[w["trace_id"]].values()), "TRACE_ID"
        user, when = w.get("user"), w.get("time")
        if not user or when is None or user not in by_user:
            return [], "USER_WINDOW"
        line = times[user]
        hi = bisect.bisect_right(line, when)
        lo = max(bisect.bisect_left(line, when - self.window), hi - self.max_window_reads)
        distinct = {r["asset"]: r for _, _, r in by_user[user][lo:hi]}
        return list(distinct.values()), "USER_WINDOW"
