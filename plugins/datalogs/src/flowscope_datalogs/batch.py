"""One batch from requesters to delivered packages, resumable at every step.

1. **join**: for every (table, partition) not yet done, the engine's one INNER JOIN with the requesters
   writes that partition's intermediate Parquet; failures are retried, then recorded (the others go on).
   A batch with failed partitions stops here (``blocked``) until a later run reads them, or the operator
   ships without them (``--ship-incomplete``; the packages then say what is missing).
2. **verify**: every row is split to its requesters and its owner value checked against each one; a
   table with a mismatch is held back from every package of the batch.
3. **package**: per request, rows rendered and zipped into the batch's private staging folder.
4. **deliver**: only when every package is staged are they moved into the delivery folder, each under a
   random name, with a batch index mapping request ids to files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

from flowscope.errors import UserError
from flowscope_datalogs import duck, split
from flowscope_datalogs.datacheck import TablePlan
from flowscope_datalogs.datafiles import Partition
from flowscope_datalogs.package import Held, TableRenderer
from flowscope_datalogs.packaging import Job, run_shards, worker_count
from flowscope_datalogs.private import atomic_file, private_dir, tighten, write_private
from flowscope_datalogs.state import Batch, Request, State

MISMATCH_NOTE = (
    "This part of your data is not included in this export: an automatic check found rows that might "
    "not be yours, so we held all of it back. It will be sent in a later export."
)
INCOMPLETE_NOTE = "Some days of this table could not be read for this export and are missing: {parts}."


class Engine(Protocol):
    name: str

    def join(
        self, plan: TablePlan, parts: list[Partition], requesters: Path, out_dir: Path
    ) -> Any: ...  # Iterator[tuple[Partition, int | Exception]]

    def close(self) -> None: ...


@dataclass
class BatchReport:
    batch_id: str
    requests: int
    status: str = "joining"
    partitions: int = 0
    joined_now: int = 0
    failed: list[str] = field(default_factory=list)
    rows: int = 0
    held: dict[str, str] = field(default_factory=dict)
    packages: int = 0
    packaged_now: int = 0
    unrendered: dict[str, int] = field(default_factory=dict)
    renderer_errors: dict[str, str] = field(default_factory=dict)
    index: str = ""


@dataclass
class BatchContext:
    state: State
    batch: Batch
    plans: list[TablePlan]
    renderers: Mapping[str, Any]
    delivery: Path
    default_zone: str
    make_engine: Callable[[], Engine]
    attempts: int = 3
    ship_incomplete: bool = False
    keep_intermediate: bool = False
    workers: int | None = None  # packaging processes; None: one per CPU for large batches
    progress: Callable[[str, int, int], None] = lambda what, done, total: None

    @property
    def folder(self) -> Path:
        return self.state.directory / "batches" / self.batch.batch_id

    @property
    def joined(self) -> Path:
        return self.folder / "joined"

    @property
    def requesters(self) -> Path:
        return self.folder / "requesters.parquet"


def write_requesters(path: Path, requests: list[Request], user_id_type: str) -> None:
    """The batch's requesters table: its distinct user ids, sorted, as Parquet (0600)."""
    private_dir(path.parent)
    sql_type = "BIGINT" if user_id_type == "bigint" else "VARCHAR"
    tmp = path.with_name(f".{path.name}.tmp")
    con = duck.connect()
    try:
        con.execute(f"CREATE TABLE r (user_id {sql_type})")
        ids = sorted({r.user_id for r in requests})
        con.execute(f"INSERT INTO r SELECT unnest($1::{sql_type}[])", [ids])
        con.execute(f"COPY (SELECT * FROM r ORDER BY 1) TO {duck.literal(str(tmp))} (FORMAT parquet)")
    finally:
        con.close()
    tighten(tmp)
    os.replace(tmp, path)


def _partition(key: str, files: tuple[str, ...]) -> Partition:
    values = tuple(unquote(seg.partition("=")[2]) for seg in key.split("/")) if key else ()
    return Partition(key, values, tuple(Path(f) for f in files))


def join_phase(ctx: BatchContext, report: BatchReport) -> None:
    state, bid = ctx.state, ctx.batch.batch_id
    if ctx.batch.status == "blocked":
        state.retry_failed(bid)
    parts = state.parts(bid)
    report.partitions = len(parts)
    todo = [p for p in parts if p.status == "todo"]
    done = len(parts) - len(todo)
    ctx.progress("join", done, len(parts))
    engine: Engine | None = None
    try:
        for plan in ctx.plans:
            mine = [_partition(p.key, p.files) for p in todo if p.table == plan.table.name]
            if not mine:
                continue
            if engine is None:
                engine = ctx.make_engine()
            out_dir = private_dir(ctx.joined / plan.table.name)
            retry: list[tuple[Partition, Exception]] = []
            for part, result in engine.join(plan, mine, ctx.requesters, out_dir):
                if isinstance(result, Exception):
                    retry.append((part, result))
                    continue
                state.mark_part(bid, plan.table.name, part.key, "done", rows=result)
                done += 1
                report.joined_now += 1
                ctx.progress("join", done, len(parts))
            for part, error in retry:
                for attempt in range(2, ctx.attempts + 1):
                    time.sleep(min(0.2 * attempt, 2.0))
                    [(_, result)] = list(engine.join(plan, [part], ctx.requesters, out_dir))
                    if not isinstance(result, Exception):
                        state.mark_part(bid, plan.table.name, part.key, "done", rows=result, attempts=attempt)
                        report.joined_now += 1
                        break
                    error = result
                else:
                    state.mark_part(
                        bid, plan.table.name, part.key, "failed", error=str(error), attempts=ctx.attempts
                    )
                done += 1
                ctx.progress("join", done, len(parts))
    finally:
        if engine is not None:
            engine.close()
    parts = state.parts(bid)
    report.rows = sum(p.rows or 0 for p in parts)
    report.failed = [
        f"{p.table} {p.key or '(whole table)'}: {p.error}" for p in parts if p.status == "failed"
    ]


def verify_phase(ctx: BatchContext, requests: list[Request]) -> dict[str, str]:
    """Tables held back and why; each table's verdict is a checkpoint, so a resume does not redo it."""
    state, bid = ctx.state, ctx.batch.batch_id
    known = state.verified(bid)
    if any(p.table.name not in known for p in ctx.plans):
        found: dict[str, split.Mismatch] = {}
        con = duck.connect(ctx.folder / "tmp", threads=2)
        try:
            for request, _, bad in split.scan_batch(con, ctx.plans, ctx.joined, requests):
                for table, n in bad.items():
                    m = found.setdefault(table, split.Mismatch(table, 0, []))
                    m.rows += n
                    if request.request_id:
                        m.requests.append(request.request_id)
        finally:
            con.close()
        for plan in ctx.plans:
            name = plan.table.name
            if name not in known:
                seen = found.get(name)
                state.set_verified(bid, name, "mismatch" if seen else "ok", seen.describe() if seen else "")
        known = state.verified(bid)
    return {t: detail for t, (status, detail) in known.items() if status == "mismatch"}


CHECKPOINT_EVERY = 200  # packages per checkpoint commit


def package_phase(
    ctx: BatchContext, requests: list[Request], held: dict[str, str], report: BatchReport
) -> bool:
    """Stage every package not staged yet; False when a new mismatch showed up (then redo from verify)."""
    state, bid = ctx.state, ctx.batch.batch_id
    done = set(state.packages(bid))
    missing: dict[str, list[str]] = {}
    for p in state.parts(bid):
        if p.status == "failed":
            missing.setdefault(p.table, []).append(p.key or "(whole table)")
    live = [p for p in ctx.plans if p.table.name not in held]
    titles = {p.table.name: p.table.title for p in ctx.plans}
    notes = [Held(t, titles[t], MISMATCH_NOTE) for t in titles if t in held]
    notes += [Held(t, titles[t], INCOMPLETE_NOTE.format(parts=", ".join(k))) for t, k in missing.items()]
    job = Job(
        plans=live,
        renderers={p.table.name: TableRenderer(p, ctx.renderers) for p in live},
        notes=notes,
        joined=ctx.joined,
        staged=private_dir(ctx.folder / "staged"),
        temp=ctx.folder / "tmp",
        batch_id=bid,
        default_zone=ctx.default_zone,
        done=done,
    )
    count = len(done)
    ctx.progress("package", count, len(requests))
    pending: list[tuple[str, str, str | None, int]] = []

    def staged(request_id: str, sha: str, rows: int) -> None:
        nonlocal count, pending
        pending.append((request_id, "staged", sha, rows))
        if len(pending) >= CHECKPOINT_EVERY:
            state.mark_packages(bid, pending)
            pending = []
        count += 1
        ctx.progress("package", count, len(requests))

    workers = worker_count(ctx.workers, len(requests) - len(done))
    outcome = run_shards(job, requests, workers, state.lock_fd, staged)
    if outcome.mismatch is not None:
        bad, request_id = outcome.mismatch
        for table, n in bad.items():
            state.set_verified(bid, table, "mismatch", split.Mismatch(table, n, [request_id]).describe())
        state.clear_packages(bid)
        return False
    if pending:
        state.mark_packages(bid, pending)
    report.packaged_now += outcome.packaged
    for key, n in outcome.unrendered.items():
        report.unrendered[key] = report.unrendered.get(key, 0) + n
    report.renderer_errors.update(outcome.renderer_errors)
    return True


def deliver_phase(ctx: BatchContext, requests: list[Request], report: BatchReport) -> None:
    state, bid = ctx.state, ctx.batch.batch_id
    delivery = private_dir(ctx.delivery)
    staged_dir = ctx.folder / "staged"
    packages = state.packages(bid)
    index = []
    pending: list[tuple[str, str, str | None, int]] = []
    for r in requests:
        status, sha, rows = packages[r.request_id]
        target = delivery / f"{r.token}.zip"
        if status == "staged":
            src = staged_dir / f"{r.token}.zip"
            if src.exists():
                try:
                    os.replace(src, target)
                except OSError:  # another filesystem: copy through a temporary name, then rename
                    with atomic_file(target) as fh, src.open("rb") as s:
                        shutil.copyfileobj(s, fh)
                    src.unlink()
            elif not (target.exists() and _sha256(target) == sha):  # else: moved just before a crash
                raise UserError(
                    f"batch {bid}: the staged package of request {r.request_id} is missing", str(src)
                )
            pending.append((r.request_id, "delivered", sha, rows))
            if len(pending) >= CHECKPOINT_EVERY:
                state.mark_packages(bid, pending)
                pending = []
        index.append({"request_id": r.request_id, "package": target.name, "sha256": sha, "rows": rows})
        report.packages += 1
    if pending:
        state.mark_packages(bid, pending)
    body = "".join(json.dumps(line, sort_keys=True) + "\n" for line in index)
    name = f"batch-{bid}.jsonl"
    write_private(delivery / name, body.encode("utf-8"))
    report.index = str(delivery / name)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def process(
    ctx: BatchContext, requests: list[Request], on_delivered: Callable[[BatchReport], None] = lambda r: None
) -> BatchReport:
    report = BatchReport(ctx.batch.batch_id, len(requests), ctx.batch.status)
    state, bid = ctx.state, ctx.batch.batch_id
    if not ctx.requesters.exists():
        raise UserError(f"batch {bid}: its requesters table is missing", path=str(ctx.requesters))
    join_phase(ctx, report)
    if report.failed and not ctx.ship_incomplete:
        state.set_batch(bid, "blocked", f"{len(report.failed)} partition(s) failed")
        report.status = "blocked"
        return report
    state.set_batch(bid, "packaging")
    for _ in range(3):
        report.held = verify_phase(ctx, requests)
        if package_phase(ctx, requests, report.held, report):
            break
    else:
        raise UserError(f"batch {bid}: the owner check keeps finding new mismatches; nothing was delivered")
    deliver_phase(ctx, requests, report)
    on_delivered(report)  # the export's lineage events, before the batch is closed (a crash redoes it)
    if not ctx.keep_intermediate:
        shutil.rmtree(ctx.folder / "joined", ignore_errors=True)
        shutil.rmtree(ctx.folder / "staged", ignore_errors=True)
        shutil.rmtree(ctx.folder / "tmp", ignore_errors=True)
    state.set_batch(bid, "done", "; ".join(f"{t} held back" for t in report.held))
    report.status = "done"
    return report
