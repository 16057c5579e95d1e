"""``flowscope datalogs run``: take pending requests into batches and carry each batch to delivery.

A run first finishes the batches an earlier run left open (crash, ``kill -9``, failed partitions), then
reads new requests, then starts batches while the pending requests fill one (``batch_size``) or the
oldest has waited ``max_age``. Batch ids are a digest of their request ids, so the same requests make
the same batch on every machine; package file names are random tokens drawn when the batch starts.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscope.errors import UserError
from flowscope_datalogs.batch import BatchContext, BatchReport, Engine, process, write_requesters
from flowscope_datalogs.catalog import Catalog, load_catalog
from flowscope_datalogs.datacheck import TablePlan, check_catalog
from flowscope_datalogs.private import private_dir
from flowscope_datalogs.requests import read_requests
from flowscope_datalogs.state import Batch, Request, State

if TYPE_CHECKING:
    from openlineage.client.event_v2 import RunEvent

ENGINES = ("duckdb", "spark")
# Sends one batch's events to the configured emitters: how many took them, one message per failure.
SendEvents = Callable[[Sequence["RunEvent"]], tuple[int, list[str]]]


@dataclass
class RunOptions:
    catalog: Path
    delivery: Path
    state_dir: Path
    requests: Path | None = None
    store_dir: Path | None = None  # where the export's lineage events are stored (None: not stored)
    events_out: Path | None = None
    send_events: SendEvents | None = None  # the configured emitters (the CLI: flowscope.yaml's)
    engine: str = "duckdb"
    master: str | None = None
    batch_size: int = 1000
    max_age: timedelta = timedelta(hours=24)
    attempts: int = 3
    ship_incomplete: bool = False
    keep_intermediate: bool = False
    workers: int | None = None  # packaging processes (None: one per CPU for batches large enough)
    threads: int | None = None
    memory_limit: str | None = None
    now: datetime | None = None


@dataclass
class RunReport:
    new_requests: int = 0
    problems: list[str] = field(default_factory=list)
    batches: list[BatchReport] = field(default_factory=list)
    pending: int = 0
    waiting: str = ""
    lineage_edges: int = 0
    emitted: int = 0  # events taken by the configured emitters (counted once per emitter)
    emit_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        done = all(b.status == "done" and not b.held and not b.failed for b in self.batches)
        return done and not self.emit_errors


def make_engine(opts: RunOptions) -> Engine:
    tmp = opts.state_dir / "tmp"
    if opts.engine == "spark":
        try:
            from flowscope_datalogs.engine_spark import SparkEngine
        except ImportError:
            raise UserError(
                "the spark engine needs PySpark: pip install 'flowscope-datalogs[spark]' (and Java 17+)"
            ) from None
        return SparkEngine(tmp, master=opts.master)
    from flowscope_datalogs.engine_duckdb import DuckDBEngine

    return DuckDBEngine(tmp, threads=opts.threads, memory_limit=opts.memory_limit)


def batch_id_of(requests: list[Request]) -> str:
    digest = hashlib.sha256("\n".join(sorted(r.request_id for r in requests)).encode()).hexdigest()
    return f"b-{digest[:16]}"


def _age(requested_at: str, now: datetime) -> timedelta:
    return now - datetime.fromisoformat(requested_at)


def catalog_sha(catalog: Catalog) -> str:
    return hashlib.sha256(catalog.path.read_bytes()).hexdigest()


def prepare(opts: RunOptions, renderers: Mapping[str, Any]) -> tuple[Catalog, list[TablePlan]]:
    """The checked catalog, or the first error; the engine name and limits are checked too."""
    if opts.engine not in ENGINES:
        raise UserError(f"unknown engine {opts.engine!r} (expected one of {', '.join(ENGINES)})")
    if opts.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {opts.batch_size}")
    catalog = load_catalog(opts.catalog)
    result = check_catalog(catalog, renderers)
    result.raise_first()
    return catalog, result.plans


def run(
    opts: RunOptions, renderers: Mapping[str, Any], progress: Callable[[str, int, int], None] | None = None
) -> RunReport:
    catalog, plans = prepare(opts, renderers)
    private_dir(opts.delivery)  # an unwritable delivery folder fails now, before any work
    state = State(opts.state_dir)
    report = RunReport()
    try:
        with state.lock():
            if opts.requests is not None:
                read = read_requests(opts.requests, catalog.user_id_type)
                report.problems += read.problems
                report.new_requests, conflicts = state.add_requests(read.requests)
                report.problems += conflicts
            sha = catalog_sha(catalog)
            for batch in state.batches(open_only=True):
                if batch.catalog_sha != sha:
                    raise UserError(
                        f"batch {batch.batch_id} was started with another version of the catalog; restore "
                        "that version to finish it (nothing of it was delivered yet)",
                        path=str(catalog.path),
                    )
                br = _process(opts, state, batch, catalog, plans, renderers, progress, report)
                if br.status == "blocked":
                    return report
            now = opts.now or datetime.now(UTC)
            while True:
                pending = state.pending()
                report.pending = len(pending)
                if not pending:
                    break
                oldest = _age(pending[0].requested_at, now)
                if len(pending) < opts.batch_size and oldest < opts.max_age:
                    report.waiting = (
                        f"{len(pending)} request(s) wait for a batch: it starts at {opts.batch_size} requests "
                        f"or when the oldest ({_fmt(oldest)} old) reaches {_fmt(opts.max_age)}"
                    )
                    break
                chosen = pending[: opts.batch_size]
                batch = _start(opts, state, chosen, catalog, plans, sha)
                br = _process(opts, state, batch, catalog, plans, renderers, progress, report)
                report.pending = len(state.pending())
                if br.status == "blocked":
                    break
    finally:
        state.close()
    return report


def _start(
    opts: RunOptions, state: State, chosen: list[Request], catalog: Catalog, plans: list[TablePlan], sha: str
) -> Batch:
    bid = batch_id_of(chosen)
    write_requesters(state.directory / "batches" / bid / "requesters.parquet", chosen, catalog.user_id_type)
    tokens = {r.request_id: secrets.token_urlsafe(24) for r in chosen}
    parts = [(p.table.name, part.key, [str(f) for f in part.files]) for p in plans for part in p.partitions]
    state.create_batch(bid, chosen, tokens, parts, opts.engine, sha)
    return next(b for b in state.batches() if b.batch_id == bid)


def _process(
    opts: RunOptions,
    state: State,
    batch: Batch,
    catalog: Catalog,
    plans: list[TablePlan],
    renderers: Mapping[str, Any],
    progress: Callable[[str, int, int], None] | None,
    report: RunReport,
) -> BatchReport:
    requests = state.batch_requests(batch.batch_id)
    ctx = BatchContext(
        state=state,
        batch=batch,
        plans=plans,
        renderers=renderers,
        delivery=opts.delivery,
        default_zone=catalog.timezone,
        make_engine=lambda: make_engine(opts),
        attempts=opts.attempts,
        ship_incomplete=opts.ship_incomplete,
        keep_intermediate=opts.keep_intermediate,
        workers=opts.workers,
        progress=progress or (lambda what, done, total: None),
    )

    def emit(br: BatchReport) -> None:
        from flowscope_datalogs import lineage  # the OpenLineage client: imported when a batch is delivered

        delivered = [p.table.name for p in plans if p.table.name not in br.held]
        events = lineage.build_events(
            batch.batch_id, opts.requests, opts.state_dir, opts.delivery, plans, delivered
        )
        if opts.store_dir is not None:
            report.lineage_edges += lineage.store_events(opts.store_dir, batch.batch_id, events)
        if opts.events_out is not None:
            with opts.events_out.open("a", encoding="utf-8") as fh:
                for ev in lineage.as_dicts(events):
                    fh.write(json.dumps(ev, sort_keys=True) + "\n")
        if opts.send_events is not None:
            # An emitter that fails does not undo the delivery: it is reported and the run exits 1 (the
            # events are stored in the graph all the same, and written to --events when given).
            took, failures = opts.send_events(events)
            report.emit_errors += [f"batch {batch.batch_id}: {f}" for f in failures]
            report.emitted += took * len(events)

    br = process(ctx, requests, emit)
    report.batches.append(br)
    return br


def _fmt(d: timedelta) -> str:
    s = int(d.total_seconds())
    if s >= 86400:
        return f"{s / 86400:.1f} d"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s // 60} min" if s >= 60 else f"{s} s"


def parse_age(text: str) -> timedelta:
    """``30s``, ``15m``, ``6h``, ``2d`` (or plain seconds)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    t = text.strip().lower()
    try:
        if t and t[-1] in units:
            return timedelta(seconds=float(t[:-1]) * units[t[-1]])
        return timedelta(seconds=float(t))
    except ValueError:
        raise UserError(f"bad age {text!r}: expected a number with s, m, h or d (e.g. 24h)") from None
