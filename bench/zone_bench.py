"""Benchmark of policy zones on the 1M-edge synthetic graph of ``graph_bench.py``.

    .venv/bin/python bench/zone_bench.py                         # 1M edges (+ the hub's), 200k assets
    .venv/bin/python bench/zone_bench.py --edges 100000 --assets 20000   # a quick run
    .venv/bin/python bench/zone_bench.py --store /tmp/zb         # keep (and reuse) the store

The graph is ``warehouse_graph.build_edges`` (seeded, layered like a warehouse). The layered graph has no
asset with 100,000 assets behind it within a zone's reach, so one hub is added: a table fed by the first
source that feeds every column of layer 1 (``--hub-fanout`` edges, 10,000 by default), the shape of a
raw event log everything is built from. Measured, each the median of ``--runs`` in one process:

1. one ``discover`` iteration of a zone with 10 source fields (the walk, the one-hop frontier, the
   best-path tree's "behind" counts);
2. ``zone review ... exclude`` of the hub, then ``discover`` again (the exclusion cascades);
3. ``zone check`` of 20 zones (each: its walk, classification, violations with their ``why`` paths, the
   frontier's new flows).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warehouse_graph import _nproc, _ram_gb, build_edges, rss_mb

from flowscope import graph
from flowscope.config import load_config
from flowscope.model import Asset, Basis, Edge, Evidence, Job
from flowscope.store import Store
from flowscope.zones import apply_review, check, discover, load_workspace

NS = "hive://warehouse:9083"


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def hub_edges(sources: list[Asset], fields: int, per_layer: int, fanout: int) -> tuple[Asset, list[Edge]]:
    hub = Asset(NS, "raw.events_hub", "c0")
    job = Job("flowscope://sql", "etl/raw/events_hub.sql")
    ev = [Evidence("sql", "sql", "etl/raw/events_hub.sql:3")]
    sql = {Basis("sql")}
    edges = [Edge(job, sources[0], hub, 0.9, sql, evidence=ev, collectors={"bench"}, count=1)]
    targets = [Asset(NS, f"l01.t{d:05d}", f"c{c}") for d in range(per_layer) for c in range(fields)][:fanout]
    fan_job = Job("flowscope://sql", "etl/l01/from_hub.sql")
    fan_ev = [Evidence("sql", "sql", "etl/l01/from_hub.sql:7")]
    edges += [
        Edge(fan_job, hub, t, 0.9, sql, evidence=fan_ev, collectors={"bench"}, count=1) for t in targets
    ]
    return hub, edges


def write_zones(root: Path, sources: list[Asset], zone_sources: list[list[Asset]], depth: int) -> None:
    (root / "zones").mkdir(parents=True, exist_ok=True)
    for old in (root / "zones").glob("*.yaml"):
        old.unlink()
    body = "data_categories: [user.location.precise]\ndenied: [marketing.advertising]\n"
    body += f"discovery:\n  min_confidence: 0.5\n  max_depth: {depth}\n"
    ids = "".join(f"  - '{a.id}'\n" for a in sources)
    (root / "zones" / "main.yaml").write_text(f"name: main\nsources:\n{ids}{body}", encoding="utf-8")
    for i, group in enumerate(zone_sources):
        ids = "".join(f"  - '{a.id}'\n" for a in group)
        (root / "zones" / f"z{i:02d}.yaml").write_text(
            f"name: z{i:02d}\nsources:\n{ids}{body}", encoding="utf-8"
        )
    # a few tables late in the graph serve advertising: every zone that reaches them has violations
    (root / "flowscope.yaml").write_text(
        "zones:\n  files: [zones/*.yaml]\npurposes:\n  'hive://warehouse:9083/l07.t0000[0-4]': marketing.advertising\n",
        encoding="utf-8",
    )


def _sources(store: Store, zone: Any) -> list[Asset]:
    from flowscope import assetref

    return [assetref.resolve(store, s.value) for s in zone.sources]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--edges", type=int, default=1_000_000)
    p.add_argument("--assets", type=int, default=200_000)
    p.add_argument("--fields", type=int, default=10)
    p.add_argument("--layers", type=int, default=20)
    p.add_argument("--hub-fanout", type=int, default=10_000)
    p.add_argument("--depth", type=int, default=12, help="the zones' max_depth")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--store", type=Path, help="store folder, reused when it exists (default: temporary)")
    args = p.parse_args(argv)

    load = os.getloadavg()
    print(f"machine: {platform.machine()}, {_nproc()} CPUs, {_ram_gb():.0f} GB RAM; Python {platform.python_version()}; "
          f"{date.today()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    tmp = tempfile.TemporaryDirectory(prefix="flowscope-zone-bench-")
    root = args.store or Path(tmp.name)
    per_layer = max(1, args.assets // args.fields // args.layers)
    datasets = [Asset(NS, f"l00.t{d:05d}") for d in range(0, per_layer, max(1, per_layer // 10))][:10]
    sources = [d.with_field("c0") for d in datasets]
    store_dir = root / ".flowscope"
    if not (store_dir / "lineage.db").exists():
        t0 = time.perf_counter()
        edges = build_edges(args.edges, args.assets, args.fields, args.layers, args.seed)
        hub, extra = hub_edges(sources, args.fields, per_layer, args.hub_fanout)
        with Store.open(store_dir) as store:
            store.replace("bench", "synthetic", edges + extra, [], [])
        print(
            f"graph: {len(edges):,} edges + {len(extra):,} of the hub, stored in {time.perf_counter() - t0:.0f} s"
        )
        del edges, extra
    hub = Asset(NS, "raw.events_hub", "c0")
    zone_sources = [
        [Asset(NS, f"l{(i % 3):02d}.t{(i * 37) % per_layer:05d}", f"c{i % args.fields}")] for i in range(19)
    ]
    write_zones(root, sources, zone_sources, args.depth)
    (root / "zones" / "main.review.yaml").unlink(missing_ok=True)
    cwd = Path.cwd()
    os.chdir(root)
    try:
        ws = load_workspace(load_config(root / "flowscope.yaml"))
        zone = ws.zone("main")
        with Store.open(store_dir) as store:
            options = zone.walk_options()
            walk_s, walked = timed(lambda: graph.walk_many(store, sources, "down", options), args.runs)
            d1_s, d1 = timed(lambda: discover(store, ws, zone), args.runs)
            reached1 = len(d1.status.assets)
            hub_c = next(c for c in d1.candidates if c.asset == hub)
            after = zone.walk_options(frozenset({hub}))
            walk2_s, walked2 = timed(lambda: graph.walk_many(store, sources, "down", after), args.runs)
            t0 = time.perf_counter()
            apply_review(store, ws, zone, "exclude", [hub], reason="bench", by="bench")
            review_s = time.perf_counter() - t0
            d2_s, d2 = timed(lambda: discover(store, ws, zone), args.runs)
            zones = list(ws.zones.values())
            c_s, report = timed(lambda: check(store, ws, zones), max(1, args.runs - 1))
            t0 = time.perf_counter()
            for z in zones:
                graph.walk_many(store, _sources(store, z), "down", z.walk_options())
            walks20_s = time.perf_counter() - t0
            rss = rss_mb()
    finally:
        os.chdir(cwd)
    rules: dict[str, int] = {}
    for f in report.findings:
        rules[f.rule] = rules.get(f.rule, 0) + 1
    rows = [
        ("core walk alone, 10 sources", f"{walk_s:.2f} s", f"graph.walk_many with the zone's options: {len(walked.reached):,} reached"),
        ("discover, 10 source fields", f"{d1_s:.2f} s",
         f"{reached1:,} zone assets reached; {len(d1.candidates)} candidates; hub has {hub_c.behind:,} behind"),
        ("exclude the hub (review)", f"{review_s:.2f} s", "one decision: its walk, fingerprint, file write"),
        ("core walk alone, hub excluded", f"{walk2_s:.2f} s", f"{len(walked2.reached):,} reached"),
        ("discover after it", f"{d2_s:.2f} s",
         f"{len(d2.status.assets):,} zone assets; pending {d1.pending:,} -> {d2.pending:,}"),
        ("zone check, 20 zones", f"{c_s:.2f} s",
         f"{len(report.findings):,} findings ({', '.join(f'{k} {v}' for k, v in sorted(rules.items()))})"),
        ("core walks alone, 20 zones", f"{walks20_s:.2f} s", "one graph.walk_many per zone, same options"),
        ("peak RSS", f"{rss:,.0f} MB", ""),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'result':>10}  notes")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
