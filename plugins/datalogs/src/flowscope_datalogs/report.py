"""What ``check``, ``run`` and ``status`` print, as rich tables or stable JSON. Names and messages come
from catalogs and data files, so every one goes through :mod:`flowscope.terminal`. Reports name request
ids and batch ids, never user ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from flowscope.terminal import console, literal
from flowscope_datalogs.catalog import Catalog
from flowscope_datalogs.datacheck import CheckResult
from flowscope_datalogs.run import RunReport
from flowscope_datalogs.state import State


def _out() -> Any:
    import sys

    return console() if sys.stdout.isatty() else console(width=200, soft_wrap=True)


def check_json(catalog: Catalog, result: CheckResult) -> dict[str, Any]:
    return {
        "catalog": str(catalog.path),
        "tables": [
            {
                "name": p.table.name,
                "dataset": f"{p.table.namespace}/{p.table.dataset}",
                "partitions": len(p.partitions),
                "owner": p.table.owner,
                "exported": [c.name for c in p.table.exported],
                "withheld": {c.name: c.withheld for c in p.table.withheld},
                "pending": [c.name for c in p.table.pending],
                "unreviewed": p.unreviewed,
                "unreadable_partitions": p.unreadable,
            }
            for p in result.plans
        ],
        "skipped": [{"name": s.name, "why": s.why} for s in catalog.skipped],
        "errors": [str(e) for e in result.errors],
    }


def print_check(catalog: Catalog, result: CheckResult) -> None:
    out, err = _out(), console(stderr=True, soft_wrap=True)
    table = Table("table", "partitions", "owner", "exported", "withheld", "not reviewed (never exported)")
    for p in result.plans:
        t = p.table
        table.add_row(
            literal(t.name),
            str(len(p.partitions)),
            literal(t.owner),
            literal(", ".join(c.name for c in t.exported)),
            literal(", ".join(f"{c.name} ({c.withheld})" for c in t.withheld)),
            literal(", ".join([*p.unreviewed, *(f"{c.name} (pending)" for c in t.pending)])),
        )
    out.print(table)
    for s in catalog.skipped:
        out.print(literal(f"{s.name}: {s.why}, not exported"))
    for p in result.plans:
        for u in p.unreadable:
            err.print("warning: ", literal(f"{p.table.name} {u}"), sep="")
    for e in result.errors:
        err.print("error: ", literal(str(e)), sep="")
    if not result.errors:
        out.print(f"catalog ok: {len(result.plans)} table(s) exported")


def run_json(report: RunReport) -> dict[str, Any]:
    return {
        "new_requests": report.new_requests,
        "problems": report.problems,
        "pending": report.pending,
        "waiting": report.waiting,
        "lineage_edges": report.lineage_edges,
        "events_emitted": report.emitted,
        "emit_errors": report.emit_errors,
        "batches": [
            {
                "batch": b.batch_id,
                "status": b.status,
                "requests": b.requests,
                "partitions": b.partitions,
                "partitions_joined_now": b.joined_now,
                "failed_partitions": b.failed,
                "rows": b.rows,
                "held_back": b.held,
                "packages": b.packages,
                "packaged_now": b.packaged_now,
                "unrendered_values": b.unrendered,
                "renderer_errors": b.renderer_errors,
                "index": b.index,
            }
            for b in report.batches
        ],
        "ok": report.ok,
    }


def print_run(report: RunReport) -> None:
    out, err = _out(), console(stderr=True, soft_wrap=True)
    for p in report.problems:
        err.print("warning: ", literal(p), sep="")
    out.print(f"{report.new_requests} new request(s) read")
    if report.batches:
        table = Table("batch", "requests", "partitions", "rows joined", "packages", "status")
        for b in report.batches:
            table.add_row(
                b.batch_id,
                str(b.requests),
                f"{b.partitions - len(b.failed)}/{b.partitions}",
                str(b.rows),
                str(b.packages),
                b.status,
            )
        out.print(table)
    for b in report.batches:
        for f in b.failed:
            err.print(f"error: batch {b.batch_id}: partition failed: ", literal(f), sep="")
        if b.status == "blocked":
            err.print(
                f"error: batch {b.batch_id} is waiting for its failed partitions: fix them and run again "
                "(or --ship-incomplete to deliver without them)"
            )
        for t, why in b.held.items():
            err.print(
                f"error: batch {b.batch_id}: table ",
                literal(t),
                " held back from every package: ",
                literal(why),
                sep="",
            )
        for col, n in sorted(b.unrendered.items()):
            msg = b.renderer_errors.get(col, "")
            err.print("warning: ", literal(f"{col}: {n} value(s) shown as stored ({msg})"), sep="")
        if b.index:
            out.print(literal(f"batch {b.batch_id}: {b.packages} package(s) delivered; index {b.index}"))
    if report.emitted:
        out.print(f"{report.emitted} OpenLineage event(s) sent to the configured emitters")
    for e in report.emit_errors:
        err.print("error: ", literal(e), sep="")
    if report.waiting:
        out.print(literal(report.waiting))
    if report.lineage_edges:
        out.print(f"{report.lineage_edges} lineage edges of the export stored (collector datalogs)")


def status_json(folder: Path) -> dict[str, Any]:
    state = State(folder)
    try:
        batches = []
        for b in state.batches():
            parts = state.parts(b.batch_id)
            packages = state.packages(b.batch_id)
            batches.append(
                {
                    "batch": b.batch_id,
                    "status": b.status,
                    "engine": b.engine,
                    "created_at": b.created_at,
                    "requests": len(state.batch_requests(b.batch_id)),
                    "partitions": len(parts),
                    "partitions_done": sum(p.status == "done" for p in parts),
                    "failed": [
                        {"table": p.table, "partition": p.key, "attempts": p.attempts, "error": p.error}
                        for p in parts
                        if p.status == "failed"
                    ],
                    "held_back": {
                        t: d for t, (s, d) in state.verified(b.batch_id).items() if s == "mismatch"
                    },
                    "packages_staged": sum(s == "staged" for s, _, _ in packages.values()),
                    "packages_delivered": sum(s == "delivered" for s, _, _ in packages.values()),
                    "detail": b.detail,
                }
            )
        return {"requests": state.counts(), "batches": batches}
    finally:
        state.close()


def print_status(folder: Path) -> None:
    data = status_json(folder)
    out = _out()
    r = data["requests"]
    out.print(f"requests: {r['pending']} pending, {r['batched']} in open batches, {r['delivered']} delivered")
    table = Table("batch", "created", "engine", "requests", "partitions", "packages", "status")
    for b in data["batches"]:
        table.add_row(
            b["batch"],
            b["created_at"],
            b["engine"],
            str(b["requests"]),
            f"{b['partitions_done']}/{b['partitions']}"
            + (f" ({len(b['failed'])} failed)" if b["failed"] else ""),
            f"{b['packages_delivered']} delivered"
            + (f", {b['packages_staged']} staged" if b["packages_staged"] else ""),
            b["status"],
        )
    out.print(table)
    for b in data["batches"]:
        for f in b["failed"]:
            out.print(
                literal(
                    f"{b['batch']}: {f['table']} {f['partition']} failed after {f['attempts']} attempt(s): {f['error']}"
                )
            )
        for t, d in b["held_back"].items():
            out.print(literal(f"{b['batch']}: {t} held back: {d}"))
