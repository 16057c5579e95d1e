"""Step 3 of a batch: every person's package, built in parallel worker processes.

Packages are independent, and building one (render, encode, deflate, hash, write) is CPU work in Python,
so the batch's users are cut into contiguous ranges of user ids, one per worker. Each worker reads only
its range of the intermediate Parquet (its own DuckDB, sorted by owner), checks every row's owner again,
builds and stages its packages, and sends one small message per package (request id, hash, rows) back.
The parent alone writes checkpoints, as before: a crash or ``kill -9`` loses at most the packages not yet
checkpointed, which the next run builds again, byte for byte the same — a package's bytes depend only on
the request, the catalog and the rows, never on which worker built it or in what order.

Workers are forked (nothing to pickle, the catalog and renderers are already loaded). Each closes its
copy of the run lock (so the lock dies with the parent), asks the kernel to kill it when the parent dies
(Linux), and never touches the parent's SQLite or DuckDB connections. Small batches (fewer than
:data:`PER_WORKER` packages per worker) are built in the parent itself, by the same code.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, cast

from flowscope.errors import UserError
from flowscope_datalogs import duck, split
from flowscope_datalogs.datacheck import TablePlan
from flowscope_datalogs.package import Held, TableRenderer, build_package
from flowscope_datalogs.private import write_scratch
from flowscope_datalogs.state import Request

PER_WORKER = 100  # fewer packages than this per worker: not worth a process
MAX_WORKERS = 8
Message = tuple[Any, ...]


@dataclass
class Job:
    """Everything a worker needs, inherited through fork."""

    plans: list[TablePlan]  # the tables delivered (held-back ones left out)
    renderers: dict[str, TableRenderer]
    notes: list[Held]
    joined: Path
    staged: Path
    temp: Path
    batch_id: str
    default_zone: str
    done: set[str]  # request ids already staged or delivered


@dataclass
class Outcome:
    """What the parent learned from the workers."""

    packaged: int = 0
    unrendered: dict[str, int] = field(default_factory=dict)
    renderer_errors: dict[str, str] = field(default_factory=dict)
    mismatch: tuple[dict[str, int], str] | None = None  # rows per table, the request concerned


def shards(requests: list[Request], workers: int) -> list[tuple[split.Bounds, list[Request]]]:
    """Contiguous user-id ranges covering every owner value (the first and last unbounded, so a row of
    nobody lands in some range and is caught), each with the requests of its users."""
    users: list[Any] = sorted({r.user_id for r in requests}, key=lambda u: u)
    n = max(1, min(workers, len(users)))
    cuts = [users[len(users) * i // n] for i in range(1, n)]
    lows: list[Any] = [None, *cuts]
    highs: list[Any] = [*cuts, None]
    out = []
    for lo, hi in zip(lows, highs, strict=True):
        mine = [r for r in requests if (lo is None or r.user_id >= lo) and (hi is None or r.user_id < hi)]
        out.append(((lo, hi), mine))
    return out


def build_shard(
    job: Job, bounds: split.Bounds, requests: list[Request], send: Callable[[Message], None]
) -> None:
    """Stage the packages of ``requests`` (one user range), sending ``("package", request id, sha256,
    rows, unrendered)`` per package, ``("mismatch", {table: rows}, request id)`` and stopping on a row
    whose owner is not its requester, and ``("done", {column: first renderer error})`` at the end."""
    con = duck.connect(job.temp, threads=1)
    try:
        for request, tables, bad in split.scan_batch(con, job.plans, job.joined, requests, bounds):
            if bad:
                send(("mismatch", bad, request.request_id))
                return
            if request.request_id in job.done:
                continue
            zone = request.timezone or job.default_zone
            rendered = [job.renderers[p.table.name].render(tables[p.table.name], zone) for p in job.plans]
            data, _manifest = build_package(request, job.batch_id, zone, rendered, job.notes)
            write_scratch(job.staged / f"{request.token}.zip", data)
            unrendered = {f"{t.plan.table.name}.{c}": n for t in rendered for c, n in t.unrendered.items()}
            rows = sum(t.logged for t in rendered)
            send(("package", request.request_id, hashlib.sha256(data).hexdigest(), rows, unrendered))
    finally:
        con.close()
    errors = {f"{name}.{col}": msg for name, r in job.renderers.items() for col, msg in r.errors.items()}
    send(("done", errors))


def run_shards(
    job: Job,
    requests: list[Request],
    workers: int,
    lock_fd: int | None,
    on_package: Callable[[str, str, int], None],
) -> Outcome:
    """Build every package not in ``job.done``; ``on_package(request id, sha256, rows)`` as each is
    staged (the caller checkpoints)."""
    outcome = Outcome()
    parts = shards(requests, workers)

    def handle(msg: Message, index: int, errors: dict[int, dict[str, str]]) -> bool:
        """Apply one message; False when packaging must stop (a mismatch)."""
        if msg[0] == "package":
            _, request_id, sha, rows, unrendered = msg
            for key, n in unrendered.items():
                outcome.unrendered[key] = outcome.unrendered.get(key, 0) + n
            outcome.packaged += 1
            on_package(request_id, sha, rows)
        elif msg[0] == "mismatch":
            outcome.mismatch = (msg[1], msg[2])
            return False
        elif msg[0] == "done":
            errors[index] = msg[1]
        return True

    errors: dict[int, dict[str, str]] = {}
    if len(parts) == 1 or not hasattr(os, "fork"):
        for i, (bounds, mine) in enumerate(parts):
            stop: list[bool] = []

            def send(msg: Message, i: int = i, stop: list[bool] = stop) -> None:
                if not handle(msg, i, errors):
                    stop.append(True)

            build_shard(job, bounds, mine, send)
            if stop:
                break
    else:
        _in_workers(job, parts, lock_fd, handle, errors)
    for i in sorted(errors):  # the first message per column, the lowest range first: the same every run
        for key, msg in errors[i].items():
            outcome.renderer_errors.setdefault(key, msg)
    return outcome


def _in_workers(
    job: Job,
    parts: list[tuple[split.Bounds, list[Request]]],
    lock_fd: int | None,
    handle: Callable[[Message, int, dict[int, dict[str, str]]], bool],
    errors: dict[int, dict[str, str]],
) -> None:
    ctx = multiprocessing.get_context("fork")
    parent = os.getpid()
    procs: dict[Any, tuple[int, Any]] = {}
    gc.freeze()  # the children's collector then leaves the parent's objects (and their pages) alone
    try:
        for i, (bounds, mine) in enumerate(parts):
            reader, writer = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(job, bounds, mine, writer, lock_fd, parent), daemon=True)
            proc.start()
            writer.close()
            procs[reader] = (i, proc)
        while procs:
            for conn in wait(list(procs)):
                i, proc = procs[conn]
                try:
                    msg: Message = cast(Connection, conn).recv()
                except EOFError:
                    proc.join()
                    del procs[conn]
                    if i not in errors:  # it died before saying it was done
                        raise UserError(
                            f"a packaging worker stopped (exit code {proc.exitcode}); run again to resume"
                        ) from None
                    continue
                if msg[0] == "error":
                    raise UserError(f"packaging failed: {msg[1]}")
                if not handle(msg, i, errors):
                    return
    finally:
        gc.unfreeze()
        for _, proc in procs.values():
            if proc.is_alive():
                proc.kill()
            proc.join()


def _worker(
    job: Job,
    bounds: split.Bounds,
    requests: list[Request],
    conn: Connection,
    lock_fd: int | None,
    parent: int,
) -> None:
    _die_with(parent)
    if lock_fd is not None:
        os.close(lock_fd)  # the run lock is the parent's: a new run must not wait for this process
    try:
        build_shard(job, bounds, requests, conn.send)
    except Exception as exc:
        conn.send(("error", str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _die_with(parent: int) -> None:
    """Be killed when the parent dies (Linux's PR_SET_PDEATHSIG); elsewhere, a dead parent shows as a
    broken pipe at the next package."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)


def worker_count(requested: int | None, pending: int) -> int:
    """``--workers`` as given, else one per CPU while each gets :data:`PER_WORKER` packages."""
    if requested is not None:
        return max(1, requested)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_WORKERS, pending // PER_WORKER))
