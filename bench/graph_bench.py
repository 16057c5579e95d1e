"""Benchmark of the embedded store and lineage traversal on a synthetic column-level graph.

    .venv/bin/python bench/graph_bench.py                      # 1,000,000 edges over 200,000 assets
    .venv/bin/python bench/graph_bench.py --edges 50000 --assets 10000   # a quick run

The graph is seeded and layered like a warehouse: datasets of ``--fields`` columns sit in ``--layers``
layers; every column flows into a few columns of nearby datasets in the next layer (sometimes two layers
on), mostly the same column, with evidence kinds mixed so a confidence filter drops about a fifth of the
edges. Measured: store ingest (edges/s), ``graph.downstream`` to depth 10 with a confidence filter
(median of ``--runs``), peak RSS, and the same traversal over an in-memory networkx graph (networkx is a
bench-only dependency: ``uv sync --group bench``).
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from flowscope import graph, scoring
from flowscope.model import Asset, Basis, Edge, Evidence, Job, Transformation
from flowscope.store import Store

# Evidence mixes (basis sets) and how often each occurs; static-only edges fall under a 0.5 filter.
MIXES: list[tuple[frozenset[Basis], float]] = [
    (frozenset({Basis("sql")}), 0.45),
    (frozenset({Basis("declared")}), 0.15),
    (frozenset({Basis("static"), Basis("runtime", "EXACT_MATCH")}), 0.10),
    (frozenset({Basis("context", "TRACE_ID")}), 0.10),
    (frozenset({Basis("static")}), 0.20),
]
IDENTITY = {Transformation()}
TRANSFORM = {Transformation("DIRECT", "TRANSFORMATION")}


def rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def build_edges(n_edges: int, n_assets: int, fields: int, layers: int, seed: int) -> list[Edge]:
    """The synthetic graph. Edge objects share their sets and evidence lists (the store never mutates
    them), so a million of them fit in a few hundred MB, as a pipeline's merged output would."""
    rng = random.Random(seed)
    per_layer = max(1, n_assets // fields // layers)  # datasets per layer
    assets = [
        [
            [Asset("hive://warehouse:9083", f"l{layer:02d}.t{d:05d}", f"c{c}") for c in range(fields)]
            for d in range(per_layer)
        ]
        for layer in range(layers)
    ]
    jobs = [
        [Job("flowscope://sql", f"etl/l{layer:02d}/t{d:05d}.sql") for d in range(per_layer)]
        for layer in range(layers)
    ]
    evidence = [
        [[Evidence("sql", "sql", f"etl/l{layer:02d}/t{d:05d}.sql:12")] for d in range(per_layer)]
        for layer in range(layers)
    ]
    mixes = [(set(b), scoring.score(b), w) for b, w in MIXES]
    weights = [w for _, _, w in mixes]
    collectors, guards = {"bench"}, set[str]()
    sources = [(layer, d, c) for layer in range(layers - 1) for d in range(per_layer) for c in range(fields)]
    edges: list[Edge] = []
    seen: set[tuple[int, int, int, int, int, int]] = set()
    while len(edges) < n_edges:
        for layer, d, c in sources:
            if len(edges) >= n_edges:
                break
            hop = 2 if rng.random() < 0.1 and layer + 2 < layers else 1
            td = (d + rng.randint(-2, 2)) % per_layer
            tc = c if rng.random() < 0.6 else rng.randrange(fields)
            key = (layer, d, c, layer + hop, td, tc)
            if key in seen:
                continue
            seen.add(key)
            bases, conf, _ = rng.choices(mixes, weights)[0]
            edges.append(
                Edge(
                    job=jobs[layer + hop][td],
                    source=assets[layer][d][c],
                    target=assets[layer + hop][td][tc],
                    confidence=conf,
                    bases=bases,
                    transformations=IDENTITY if tc == c else TRANSFORM,
                    evidence=evidence[layer + hop][td],
                    collectors=collectors,
                    guards=guards,
                    count=1,
                )
            )
    return edges


def nx_walk(g: Any, start: Asset, depth: int, min_conf: float) -> dict[Asset, float]:
    """The same level-synchronous best-product walk as flowscope.graph, over networkx adjacency."""
    best = {start: 1.0}
    frontier = {start}
    for _ in range(depth):
        snapshot = {n: best[n] for n in frontier}
        frontier = set()
        for n, conf in snapshot.items():
            for m, attrs in g.succ[n].items():
                c = attrs["confidence"]
                if c < min_conf or m == start:
                    continue
                cand = conf * c
                if cand > best.get(m, 0.0):
                    best[m] = cand
                    frontier.add(m)
        if not frontier:
            break
    del best[start]
    return best


def timed_runs(fn: Any, runs: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--edges", type=int, default=1_000_000)
    p.add_argument("--assets", type=int, default=200_000)
    p.add_argument("--fields", type=int, default=10, help="columns per dataset")
    p.add_argument("--layers", type=int, default=20)
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--min-confidence", type=float, default=0.5)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--store", type=Path, help="store folder (default: a temporary one)")
    p.add_argument("--skip-networkx", action="store_true")
    args = p.parse_args(argv)

    print(f"machine: {platform.machine()}, {_nproc()} CPUs, {_ram_gb():.0f} GB RAM; Python {platform.python_version()}; "
          f"SQLite {__import__('sqlite3').sqlite_version}; {date.today()}")  # fmt: skip
    t0 = time.perf_counter()
    edges = build_edges(args.edges, args.assets, args.fields, args.layers, args.seed)
    build_s = time.perf_counter() - t0
    n_assets = len({a for e in edges for a in (e.source, e.target) if a is not None})
    print(f"graph: {len(edges):,} column edges over {n_assets:,} field assets ({build_s:.1f} s to build)")

    tmp = tempfile.TemporaryDirectory(prefix="flowscope-bench-")
    store_dir = args.store or Path(tmp.name) / ".flowscope"
    store = Store.open(store_dir)
    t0 = time.perf_counter()
    store.replace("bench", "synthetic", edges, [], [])
    ingest_s = time.perf_counter() - t0
    rss_ingest = rss_mb()
    db_mb = (store_dir / "lineage.db").stat().st_size / 1e6
    store.close()

    start = edges[len(edges) // (2 * (args.layers - 1))].source  # a column mid-way along the first layer
    store = Store.open(store_dir)
    cold = time.perf_counter()
    graph.downstream(store, start, args.depth, args.min_confidence)
    cold_s = time.perf_counter() - cold
    med, _, t = timed_runs(lambda: graph.downstream(store, start, args.depth, args.min_confidence), args.runs)
    reached = len(t.reached)
    reached_paths_s = timed_runs(lambda: [r.path for r in t.reached], 1)[0]
    why_target = max(t.reached, key=lambda r: (r.hops, r.confidence)).asset
    why_s, _, _ = timed_runs(lambda: graph.why(store, start, why_target, args.min_confidence), 3)
    # A second collector that confirms a tenth of the same edges: every shared key is re-scored.
    overlap = [
        Edge(
            e.job,
            e.source,
            e.target,
            scoring.score({Basis("runtime", "EXACT_MATCH")}),
            {Basis("runtime", "EXACT_MATCH")},
        )
        for e in edges[: len(edges) // 10]
    ]
    t0 = time.perf_counter()
    store.replace("bench-runtime", "synthetic", overlap, [], [])
    overlap_s = time.perf_counter() - t0
    rss_flowscope = rss_mb()
    store.close()

    rows = [
        ("store ingest", f"{len(edges) / ingest_s:,.0f} edges/s", f"{ingest_s:.1f} s total, {db_mb:,.0f} MB on disk"),
        ("overlapping ingest", f"{len(overlap) / overlap_s:,.0f} edges/s",
         f"{len(overlap):,} edges of a 2nd collector on existing keys (merged, re-scored)"),
        ("downstream depth", f"{med * 1000:.0f} ms", f"median of {args.runs} (cold {cold_s * 1000:.0f} ms), "
         f"min conf {args.min_confidence}, {reached:,} assets reached"),
        ("  + all paths", f"{reached_paths_s * 1000:.0f} ms", "materialize every reached asset's path"),
        ("why (Dijkstra)", f"{why_s * 1000:.0f} ms", f"to the farthest reached asset ({why_target.name})"),
        ("peak RSS", f"{rss_flowscope:,.0f} MB", f"after ingest {rss_ingest:,.0f} MB (includes the Edge list)"),
    ]  # fmt: skip
    if not args.skip_networkx:
        rows += _networkx(edges, start, args, med, reached)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'result':>16}  notes")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>16}  {note}")
    tmp.cleanup()


def _networkx(
    edges: list[Edge], start: Asset, args: argparse.Namespace, ours: float, reached: int
) -> Iterator[Any]:
    try:
        import networkx as nx
    except ImportError:
        yield ("networkx", "skipped", "not installed: uv sync --group bench")
        return
    before = rss_mb()
    t0 = time.perf_counter()
    g = nx.DiGraph()
    for e in edges:
        if e.target is not None:
            cur = g.get_edge_data(e.source, e.target)
            if cur is None or cur["confidence"] < e.confidence:
                g.add_edge(e.source, e.target, confidence=e.confidence, job=e.job.key)
    build_s = time.perf_counter() - t0
    med, _, best = timed_runs(lambda: nx_walk(g, start, args.depth, args.min_confidence), args.runs)
    assert len(best) == reached, f"networkx reached {len(best)}, flowscope {reached}"
    yield ("networkx build", f"{len(edges) / build_s:,.0f} edges/s", f"{build_s:.1f} s; in memory only")
    yield ("networkx downstream", f"{med * 1000:.0f} ms", f"same walk in pure Python; flowscope/networkx = {ours / med:.1f}x, "
           f"same {len(best):,} assets")  # fmt: skip
    yield ("networkx peak RSS", f"{rss_mb():,.0f} MB", f"+{rss_mb() - before:,.0f} MB for the graph")


def _nproc() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def _ram_gb() -> float:
    try:
        with open("/proc/meminfo") as f:
            return int(f.readline().split()[1]) / 1024 / 1024
    except OSError:
        return 0.0


if __name__ == "__main__":
    main()
