"""Benchmark of delivery: stored OpenLineage events sent to a file through the spool-aware delivery path,
and, when acryl-datahub is installed (``pip install 'flowscope-emitters[datahub]'``), converted to DataHub
proposals.

    .venv/bin/python bench/emit_bench.py               # 10,000 events
    .venv/bin/python bench/emit_bench.py --events 2000

Events are flowscope's own (``build_events``): one per job, each with schema, columnLineage and the
flowscope facet over ``--fields`` column edges. Targets (issue 7): >= 5,000 events/s to a file, >= 2,000
events/s converted to DataHub proposals. In the same run, for reference: the same conversion written with
acryl-datahub's patch builders (identical proposals), and writing into DataHub Lite (patches merged into
stored aspects, then written by Lite itself).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowscope.events import build_events, event_to_dict
from flowscope.model import Asset, Basis, Edge, Job, Transformation
from flowscope_emitters.delivery import Backoff, Spool, deliver
from flowscope_emitters.senders import FileSender


def make_events(n: int, fields: int) -> list[dict[str, Any]]:
    ns = "hive://warehouse:9083"
    edges = [
        Edge(
            job=Job(ns, f"etl.job_{j}", job_type="QUERY"),
            source=Asset(ns, f"raw.t_{j}", f"c{f}"),
            target=Asset(ns, f"clean.t_{j}", f"c{f}"),
            confidence=0.9,
            bases={Basis("sql")},
            transformations={Transformation("DIRECT", "IDENTITY")},
            collectors={"sql"},
            count=1,
        )
        for j in range(n)
        for f in range(fields)
    ]
    when = datetime(2024, 5, 1, tzinfo=UTC)
    events = build_events(edges, {}, scan_id="bench", event_time=when, collectors=["sql"])
    return [event_to_dict(e) for e in events if e.job.name != "scan"][:n]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--fields", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    events = make_events(args.events, args.fields)
    built = time.perf_counter() - t0
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sender = FileSender(Path(tmp) / "events.jsonl")
        t0 = time.perf_counter()
        out = deliver(events, sender, Spool(Path(tmp)), Backoff(attempts=1))
        sender.close()
        secs = time.perf_counter() - t0
        assert out.ok and out.sent == len(events)
        rows.append(
            ("to a file", f"{len(events) / secs:,.0f} events/s", ">= 5,000", f"{len(events):,} events")
        )
    if importlib.util.find_spec("datahub") is None:
        rows.append(("to DataHub proposals", "not run", ">= 2,000", "acryl-datahub not installed"))
    else:
        from flowscope_emitters.datahub_convert import Proposals, convert_all
        from flowscope_emitters.datahub_items import build_with_builders
        from flowscope_emitters.datahub_lite import open_lite, write

        convert_all(events[:10]).mcps()  # imports acryl-datahub (about 1 s): not a per-event cost
        t0 = time.perf_counter()
        mcps = convert_all(events).mcps()
        fast = len(events) / (time.perf_counter() - t0)
        sample = events[: max(1, len(events) // 5)]  # the reference is slower: a fifth of the events
        t0 = time.perf_counter()
        reference = convert_all(sample)  # the same items and upserts; patches through the builders
        _ = [*reference.upserts, *build_with_builders(reference.items)]
        slow = len(sample) / (time.perf_counter() - t0)
        assert isinstance(reference, Proposals)
        rows.append(("to DataHub proposals", f"{fast:,.0f} events/s", ">= 2,000", f"{len(mcps):,} proposals"))
        rows.append(
            (
                "  same with acryl-datahub's patch builders",
                f"{slow:,.0f} events/s",
                "reference",
                f"flowscope/builders = {fast / slow:.1f}x, same proposals",
            )
        )
        with tempfile.TemporaryDirectory() as tmp:
            lite_events = events[: max(1, len(events) // 20)]  # Lite commits each aspect: slow
            t0 = time.perf_counter()
            with open_lite(Path(tmp) / "lite.db") as lite:
                n = write(lite, convert_all(lite_events).mcps())
            rate = f"{len(lite_events) / (time.perf_counter() - t0):,.0f} events/s"
            rows.append(
                ("into DataHub Lite (SQLite)", rate, "-", f"{len(lite_events):,} events, {n:,} aspects")
            )
    print(f"{len(events):,} events of {args.fields} column edges built in {built:.1f} s")
    print(
        f"machine: {platform.platform()}, Python {platform.python_version()}, {platform.processor() or '?'}"
    )
    widths = [max(len(r[i]) for r in [*rows, ("step", "result", "target", "notes")]) for i in range(4)]
    for r in [("step", "result", "target", "notes"), *rows]:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
