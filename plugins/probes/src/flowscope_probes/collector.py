"""The ``probes`` collector: reads the spool the runtime wrote and yields runtime signals.

Rows of every spool file are summed per (job, source, sink, match, sink path). Then:

- an EXACT_MATCH or CONTAINS row is a ``runtime`` signal with that match, its count and first/last seen.
  Its target is the sink asset narrowed to a field: the sink's own field when it has one (a column), else
  the sink path with list indexes dropped (``location``, ``user.email``), else — the value was the whole
  payload (a cache value, a log line) — the source's field, which is how the static plugin names the
  same write (``cache://nearby-cache/last_location:{}#location``);
- a row marked noisy (its value turned up in many sinks) is demoted to NO_MATCH;
- a NO_MATCH row (both seen in one request, the value never found) is a NO_MATCH signal to the sink
  dataset without a field, even when the sink was a column — it says no field is known to carry the value,
  so it never confirms a static field flow and never lands in OpenLineage's ``columnLineage`` facet (only
  in flowscope's own facet, for review); pairs that matched at least once get no NO_MATCH signal;
- ``samples`` lines become ``JobSampled`` per job: static flows of a job sampled often but never matched
  drop to low confidence in core's scoring.

A line cut short (a process killed mid-write) or not a spool record is reported as ``file:line`` and
skipped; the rest of the file is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowscope.contracts import CollectContext
from flowscope.model import Asset, Evidence, JobSampled, Observation, Signal
from flowscope_probes.labels import parse_asset_label, parse_job_label
from flowscope_probes.settings import ProbeSettings
from flowscope_probes.spool import BadLine, SpoolLine, read_spool

HIT_TYPES = ("EXACT_MATCH", "CONTAINS")
_INDEX = re.compile(r"\[\d+\]")

RowKey = tuple[str, str, str, str, str]  # job, source, sink, match, sink_path


@dataclass
class Row:
    count: int = 0
    first_seen: float = float("inf")
    last_seen: float = 0.0
    distinct_values: int = 0
    noisy: bool = False
    where: str = ""


@dataclass
class SpoolSummary:
    rows: dict[RowKey, Row] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)
    health: dict[str, dict[str, Any]] = field(default_factory=dict)  # file name -> its last health line
    bad: list[BadLine] = field(default_factory=list)
    files: int = 0
    lines: int = 0


def summarize(where: Path, shown_as: str | None = None) -> SpoolSummary:
    """Sum every spool file at ``where`` (a folder or one file)."""
    out = SpoolSummary()
    files: set[Path] = set()
    for item in read_spool(where):
        files.add(item.path)
        if isinstance(item, BadLine):
            out.bad.append(item)
            continue
        out.lines += 1
        try:
            _add(out, item, shown_as)
        except (KeyError, TypeError, ValueError) as exc:
            out.bad.append(BadLine(item.path, item.line, f"record without a valid {exc}; skipped"))
    out.files = len(files)
    return out


def _display(line: SpoolLine, shown_as: str | None) -> str:
    name = f"{shown_as}/{line.path.name}" if shown_as else str(line.path)
    return f"{name}:{line.line}"


def _add(out: SpoolSummary, line: SpoolLine, shown_as: str | None) -> None:
    d = line.data
    kind = d.get("type")
    if kind == "match":
        key: RowKey = (
            str(d["job"]),
            str(d["source"]),
            str(d["sink"]),
            str(d["match"]),
            str(d.get("sink_path") or ""),
        )
        row = out.rows.get(key)
        if row is None:
            row = out.rows[key] = Row(where=_display(line, shown_as))
        row.count += int(d.get("count") or 0)
        row.first_seen = min(row.first_seen, float(d.get("first_seen") or d["at"]))
        row.last_seen = max(row.last_seen, float(d.get("last_seen") or d["at"]))
        row.distinct_values = max(row.distinct_values, int(d.get("distinct_values") or 0))
        row.noisy = row.noisy or bool(d.get("noisy"))
    elif kind == "samples":
        job = str(d["job"])
        out.samples[job] = out.samples.get(job, 0) + int(d.get("samples") or 0)
    elif kind == "health":
        out.health[line.path.name] = d


def target_of(sink: Asset, source: Asset, sink_path: str) -> Asset:
    """The field a matched value landed in (see the module docstring)."""
    if sink.field:
        return sink
    path = _INDEX.sub("", sink_path).strip(".")
    return sink.with_field(path or source.field)


def _when(ts: float) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if 0 < ts < float("inf") else None


def observations(summary: SpoolSummary, ctx: CollectContext | None = None) -> Iterator[Observation]:
    matched = {
        (job, src, sink)
        for (job, src, sink, match, _), row in summary.rows.items()
        if match in HIT_TYPES and not row.noisy
    }
    for (job_l, src_l, sink_l, match, sink_path), row in sorted(summary.rows.items()):
        if row.count < 1:
            continue
        try:
            job, source, sink = parse_job_label(job_l), parse_asset_label(src_l), parse_asset_label(sink_l)
        except ValueError as exc:
            if ctx is not None:
                path, _, line = row.where.rpartition(":")
                ctx.problem(f"bad label in spool record: {exc}", path, int(line) if line.isdigit() else None)
            continue
        hit = match in HIT_TYPES and not row.noisy
        if not hit and (job_l, src_l, sink_l) in matched:
            continue
        # NO_MATCH says no field is known to carry the value: never a column-lineage claim, so its target is
        # the sink dataset even when the sink was a column (a DB write)
        target = target_of(sink, source, sink_path) if hit else sink.dataset
        detail = [("count", str(row.count)), ("distinct_values", str(row.distinct_values))]
        if sink_path:
            detail.append(("sink_path", sink_path))
        if row.noisy:
            detail.append(("noisy", f"{match} demoted: the value was seen in many sinks"))
        shown = "NO_MATCH" if not hit else match
        where = f" at {sink_path}" if sink_path else ""
        yield Signal(
            "runtime",
            job,
            source,
            target,
            evidence=(
                Evidence("probes", "runtime", row.where, f"{shown} x{row.count}{where}", tuple(detail)),
            ),
            match=shown,
            count=row.count,
            first_seen=_when(row.first_seen),
            last_seen=_when(row.last_seen),
        )
    for job_l, samples in sorted(summary.samples.items()):
        if samples > 0:
            yield JobSampled(parse_job_label(job_l), samples)


class ProbesCollector:
    name = "probes"
    config_section = "probes"
    config_class: type | None = ProbeSettings

    def collect(self, ctx: CollectContext) -> Iterator[Observation]:
        settings: ProbeSettings = ctx.settings
        where = ctx.resolve(settings.spool)
        if not where.exists():
            ctx.problem("no spool yet (run the service under probes first; see docs/probes.md)", where)
            return
        ctx.note_input(where)
        try:
            shown = str(where.relative_to(ctx.base_dir)) if where.is_dir() else None
        except ValueError:
            shown = None
        summary = summarize(where, shown)
        for bad in summary.bad:
            ctx.problem(bad.message, _show_path(bad.path, ctx.base_dir), bad.line or None)
        yield from observations(summary, ctx)


def _show_path(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
