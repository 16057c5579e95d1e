"""Benchmark of the lineage graph: store ingest, the compact walk index, and walks against networkx and a
DuckDB recursive query, in one run, same start nodes, same depth, reached sets checked equal.

    uv sync --all-packages --group bench
    .venv/bin/python bench/graph_bench.py                                  # layered, 1M edges
    .venv/bin/python bench/graph_bench.py --edges 10000000 --skip-networkx # 10M (networkx: ~10 GB)
    .venv/bin/python bench/graph_bench.py --graph random --edges 500000    # the wide cyclic graph
    .venv/bin/python bench/graph_bench.py --edges 100000000 --index-only   # arrays -> index, no store

Graphs (seeded, deterministic, generated in numpy):

- ``layered``: ``--assets`` column assets (default edges/5) in datasets of ``--fields`` columns in
  ``--layers`` layers, like raw -> staging -> marts -> exports. Each column flows into columns of nearby
  datasets in the next layer (10% skip one), mostly the same column; one job per target dataset; the
  evidence mix of a real scan (sql 45%, declared 15%, static+runtime 10%, trace context 10%, static only
  20%), scored by ``flowscope.scoring``, so a 0.5 filter drops the static-only edges.
- ``random``: edges between uniformly random columns (cycles everywhere), the same evidence mix; walks
  from one column reach most of the graph: the wide case.

Measured: ingest (edges/s, the process's peak RSS, in a child process so it is ingest's alone), the
index build (s, bytes on disk, peak RSS), walks to ``--depth`` (median and p95 over ``--walks`` start
nodes; flowscope through ``graph.walk``, names and paths included), the same walks in networkx
(level-synchronous best product over ``DiGraph`` adjacency, graph in memory) and in DuckDB (a recursive
CTE ``USING KEY``: the frontier and each node's best product, in memory), ``why`` to the farthest
reached asset, and ``flowscope lineage downstream`` as a new process. Every engine's reached set and
confidences (to 6 decimals) are checked equal for every start.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from warehouse_graph import MIXES, _nproc, _ram_gb, rss_mb

from flowscope import graph, scoring, walkindex
from flowscope.model import Asset, Edge, Evidence, Job, Transformation
from flowscope.store import Store
from flowscope.walkindex import build, layout

NS = "hive://warehouse:9083"
LEAN_ABOVE = 20_000_000  # edges: bigger layered graphs come from the chunked generator


class Graph:
    """Edges as arrays of column numbers: ``src``, ``dst``, ``job`` (target dataset), ``mix`` (index
    into MIXES), ``conf``; column ``n`` is field ``c{n % fields}`` of dataset ``n // fields``."""

    def __init__(self, args: argparse.Namespace) -> None:
        rng = np.random.default_rng(args.seed)
        self.fields = args.fields
        n_cols = args.assets or max(args.fields * 2, args.edges // 5)
        self.datasets = max(2, n_cols // args.fields)
        n_cols = self.datasets * args.fields
        want = args.edges
        if args.graph == "layered" and want > LEAN_ABOVE:
            self._lean_layered(args, rng, n_cols)
            return
        if args.graph == "random":
            src = rng.integers(0, n_cols, int(want * 1.05))
            dst = rng.integers(0, n_cols, len(src))
        else:
            layers = args.layers
            per_layer = max(1, self.datasets // layers)
            self.datasets = per_layer * layers
            n_cols = self.datasets * args.fields
            sources = (layers - 1) * per_layer * args.fields
            src = rng.integers(0, sources, int(want * 1.15))
            layer, rest = np.divmod(src, per_layer * args.fields)
            d, c = np.divmod(rest, args.fields)
            hop = np.where((rng.random(len(src)) < 0.1) & (layer + 2 < layers), 2, 1)
            td = (d + rng.integers(-2, 3, len(src))) % per_layer
            tc = np.where(rng.random(len(src)) < 0.6, c, rng.integers(0, args.fields, len(src)))
            dst = ((layer + hop) * per_layer + td) * args.fields + tc
        pairs = np.unique(np.stack([src, dst], axis=1)[src != dst], axis=0)
        pairs = pairs[rng.permutation(len(pairs))[:want]]
        self.src, self.dst = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
        weights = np.array([w for _, w in MIXES])
        self.mix = rng.choice(len(MIXES), len(self.src), p=weights / weights.sum())
        self.conf = np.array([scoring.score(b) for b, _ in MIXES])[self.mix]
        self.job = self.dst // args.fields
        self.columns = n_cols

    def _lean_layered(self, args: argparse.Namespace, rng: np.random.Generator, n_cols: int) -> None:
        """The layered graph in chunks, each edge one int64 key while deduplicating: the same shape as the
        default generator (not the same edges) in about a third of its memory, for 100M edges."""
        layers, fields = args.layers, args.fields
        per_layer = max(1, self.datasets // layers)
        self.datasets = per_layer * layers
        n_cols = self.datasets * fields
        sources = (layers - 1) * per_layer * fields
        keys = []
        total = int(args.edges * 1.25)
        for lo in range(0, total, 10_000_000):
            k = min(10_000_000, total - lo)
            src = rng.integers(0, sources, k)
            layer, rest = np.divmod(src, per_layer * fields)
            d, c = np.divmod(rest, fields)
            hop = np.where((rng.random(k) < 0.1) & (layer + 2 < layers), 2, 1)
            td = (d + rng.integers(-2, 3, k)) % per_layer
            tc = np.where(rng.random(k) < 0.6, c, rng.integers(0, fields, k))
            dst = ((layer + hop) * per_layer + td) * fields + tc
            keys.append(src * n_cols + dst)  # layered: never src == dst
            del src, layer, rest, d, c, hop, td, tc, dst
        key = np.concatenate(keys)
        del keys
        key.sort()
        key = key[np.r_[True, key[1:] != key[:-1]]]
        key = key[np.sort(rng.permutation(len(key))[: args.edges])]
        self.src, self.dst = np.divmod(key, n_cols)
        del key
        weights = np.array([w for _, w in MIXES])
        self.mix = rng.choice(len(MIXES), len(self.src), p=weights / weights.sum()).astype(np.int8)
        self.conf = np.array([scoring.score(b) for b, _ in MIXES])[self.mix]
        self.job = self.dst // fields
        self.columns = n_cols

    def asset(self, n: int) -> Asset:
        return Asset(NS, f"d{n // self.fields:08d}", f"c{n % self.fields}")

    def number(self, a: Asset) -> int:
        return int(a.name[1:]) * self.fields + int((a.field or "c0")[1:])


class LazyEdges(Sequence[Edge]):
    """The graph's edges as flowscope Edges, made chunk by chunk while the store reads them, so a
    100M-edge ingest never holds more than one chunk of Edge objects."""

    def __init__(self, g: Graph) -> None:
        self.g = g
        self.bases = [set(b) for b, _ in MIXES]
        self.identity, self.transform = {Transformation()}, {Transformation("DIRECT", "TRANSFORMATION")}

    def __len__(self) -> int:
        return len(self.g.src)

    def __getitem__(self, i: Any) -> Any:
        raise NotImplementedError("iterate")

    def __iter__(self) -> Iterator[Edge]:
        g, collectors, guards = self.g, {"bench"}, set[str]()
        for lo in range(0, len(g.src), 50_000):
            src, dst = g.src[lo : lo + 50_000].tolist(), g.dst[lo : lo + 50_000].tolist()
            mix, conf = g.mix[lo : lo + 50_000].tolist(), g.conf[lo : lo + 50_000].tolist()
            for s, d, m, c in zip(src, dst, mix, conf, strict=True):
                ds = d // g.fields
                yield Edge(
                    job=Job("flowscope://sql", f"etl/d{ds:08d}.sql"),
                    source=g.asset(s),
                    target=g.asset(d),
                    confidence=c,
                    bases=self.bases[m],
                    transformations=self.identity if s % g.fields == d % g.fields else self.transform,
                    evidence=[Evidence("sql", "sql", f"etl/d{ds:08d}.sql:12")],
                    collectors=collectors,
                    guards=guards,
                    count=1,
                )


def nx_walk(g: Any, start: int, depth: int, min_conf: float) -> dict[int, float]:
    """The level-synchronous best-product walk over networkx adjacency (edges below min_conf dropped)."""
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
                if cand > best.get(m, -1.0):
                    best[m] = cand
                    frontier.add(m)
        if not frontier:
            break
    del best[start]
    return best


DUCK_WALK = """
WITH RECURSIVE walk(node, conf, hops) USING KEY (node) AS (
    SELECT ?::BIGINT, 1.0::DOUBLE, 0
    UNION
    (SELECT e.dst, max(w.conf * e.conf), any_value(w.hops) + 1
     FROM walk w JOIN e ON e.src = w.node
     LEFT JOIN recurring.walk r ON r.node = e.dst
     WHERE w.hops < ? AND e.conf >= ? AND e.dst != ?
     GROUP BY e.dst, r.conf
     HAVING r.conf IS NULL OR max(w.conf * e.conf) > r.conf)
)
SELECT node, conf FROM walk WHERE node != ?
"""


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def stats(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ingest_phase(args: argparse.Namespace) -> None:
    """Child process: generate, ingest into the store, build the index; print one JSON line."""
    g = Graph(args)
    out: dict[str, Any] = {"edges": len(g.src), "columns": g.columns}
    cpu0 = time.process_time()
    if args.fill:  # the rows written straight into SQLite (fill_store's docstring): not an ingest figure
        from fill_store import fill

        out["ingest_s"], _ = timed(lambda: fill(g, args.store))
        out["fill"] = True
        store = Store.open(args.store)
    else:
        store = Store.open(args.store)
        out["ingest_s"], _ = timed(lambda: store.replace("bench", "synthetic", LazyEdges(g), [], []))
    out["ingest_cpu_s"] = time.process_time() - cpu0
    out["ingest_rss_mb"] = rss_mb()
    out["db_mb"] = (args.store / "lineage.db").stat().st_size / 1e6
    out["index_s"], index = timed(lambda: walkindex.index_for(store, rebuild=True))
    out["index_mb"] = index.size / 1e6
    out["index_rss_mb"] = rss_mb()
    print(json.dumps(out))


def index_only_phase(args: argparse.Namespace) -> None:
    """Child process: the index made straight from the generated arrays (no store), for sizes whose
    store does not fit on the disk; print one JSON line."""
    g = Graph(args)
    out: dict[str, Any] = {"edges": len(g.src), "columns": g.columns, "gen_rss_mb": rss_mb()}
    t0 = time.perf_counter()
    ids = np.arange(1, g.columns + g.datasets + 1, dtype=np.int64)
    ds_of = np.concatenate([np.arange(1, g.datasets + 1), 1 + np.arange(g.columns) // g.fields])
    nodes = np.stack([ids, ds_of], axis=1)
    classes = build.Classes()
    cls = np.array([classes.id(float(c), (1 | 8,)) for c in np.array([scoring.score(b) for b, _ in MIXES])])
    g.src += g.datasets + 1  # store ids, in place: at 100M edges every copy is 0.8 GB
    g.dst += g.datasets + 1
    g.job += 1
    edges = build.EdgeList(g.src, g.dst, g.job, cls[g.mix])
    del g
    arrays = build.compose(nodes, edges, classes)
    del edges
    size = layout.write(args.store / walkindex.FILE_NAME, arrays, {"version": 0})
    out.update(index_s=time.perf_counter() - t0, index_mb=size / 1e6, index_rss_mb=rss_mb())
    print(json.dumps(out))


def child(args: argparse.Namespace, phase: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--phase", phase, *sys.argv[1:]]
    if "--store" not in sys.argv:
        cmd += ["--store", str(args.store)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def engine_walks(
    args: argparse.Namespace, starts: list[int], start_ids: list[tuple[int, int]], to_columns: Any
) -> tuple[dict[int, dict[int, float]], list[float]]:
    """The index walk alone (flowscope.walkindex.walk: reached positions and confidences, no names), the
    same output networkx's walk and the DuckDB query give. ``to_columns`` maps store ids to columns."""
    from flowscope.walkindex.walk import Index, walk

    COLD_TIMES[:] = cold_walks(args, start_ids[:10])
    arrays, _, _ = layout.read(args.store / walkindex.FILE_NAME)
    index = Index(arrays)
    stop = None  # no stop-at nodes (what a plain lineage query passes)
    ids = index.ids.astype(np.int64)
    filters = (args.min_confidence, False, 0)
    out, times, cpu = {}, [], []
    for s, sid in zip(starts, start_ids, strict=True):
        at = index.idx(np.array([sid[0]]), np.array([sid[1]]))
        cpu0 = time.process_time()
        took, recs = timed(lambda at=at: walk(index, at, True, args.depth, filters, stop))
        cpu.append(time.process_time() - cpu0)
        times.append(took)
        columns = to_columns(ids[recs.reached])
        out[s] = {c: round(x, 6) for c, x in zip(columns, recs.conf[recs.final].tolist(), strict=True)}
    CPU_TIMES[:] = cpu
    return out, times


CPU_TIMES: list[float] = []  # the index walks' CPU seconds (steadier than wall clock on a shared VM)
COLD_TIMES: list[float] = []  # open + walk with the index file evicted from the page cache first


def cold_walks(args: argparse.Namespace, start_ids: list[tuple[int, int]]) -> list[float]:
    """Each walk as a new query meets it after the file left the page cache: the index file's cached
    pages are dropped (posix_fadvise DONTNEED, this file only), then it is mapped, the start looked up
    and the walk run; every page it touches comes from the disk."""
    from flowscope.walkindex.walk import Index, walk

    path = args.store / walkindex.FILE_NAME
    times = []
    for sid in start_ids:
        with open(path, "rb") as f:
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        t0 = time.perf_counter()
        index = Index(layout.read(path)[0])
        walk(
            index,
            index.idx(np.array([sid[0]]), np.array([sid[1]])),
            True,
            args.depth,
            (args.min_confidence, False, 0),
            None,
        )
        times.append(time.perf_counter() - t0)
        del index
    return times


def cold_row() -> tuple[str, str, str]:
    med, p95 = stats(COLD_TIMES)
    return ("index walk, cold file", f"{med * 1000:.1f} ms", f"p95 {p95 * 1000:.1f} ms over {len(COLD_TIMES)} starts: "
            "index file dropped from the page cache, then mapped, start found, walked")  # fmt: skip


def walks(args: argparse.Namespace, g: Graph, rows: list[tuple[str, str, str]]) -> None:
    """Walk from the same starts in every engine; check the reached sets and confidences agree."""
    rng = np.random.default_rng(args.seed + 1)
    if args.graph == "random":
        candidates = np.unique(g.src)
    else:  # columns of the first layer
        candidates = np.unique(g.src[g.src < g.columns // args.layers])
    starts = [int(s) for s in rng.choice(candidates, min(args.walks, len(candidates)), replace=False)]
    if args.index_only:  # column n is asset id datasets + 1 + n (see index_only_phase)
        base = g.datasets + 1
        ours, times = engine_walks(
            args, starts, [(base + s, 1 + s // g.fields) for s in starts], lambda ids: (ids - base).tolist()
        )
        med, p95 = stats(times)
        sizes = [len(v) for v in ours.values()]
        c_med, c_p95 = stats(CPU_TIMES)
        rows.append(cold_row())
        rows.append(("flowscope index walk", f"{med * 1000:.1f} ms", f"p95 {p95 * 1000:.1f} ms over {len(starts)} "
                     f"starts (CPU {c_med * 1000:.1f} / {c_p95 * 1000:.1f} ms); reached {min(sizes):,}-{max(sizes):,} "
                     "(ids and confidences)"))  # fmt: skip
    else:
        ours, med, p95 = _api_walks(args, g, starts, rows)
    compare(args, g, starts, ours, med, p95, rows)


def _api_walks(
    args: argparse.Namespace, g: Graph, starts: list[int], rows: list[tuple[str, str, str]]
) -> tuple[dict[int, dict[int, float]], float, float]:
    store = Store.open(args.store)
    first_s, _ = timed(lambda: graph.downstream(store, g.asset(starts[0]), args.depth, args.min_confidence))
    ours: dict[int, dict[int, float]] = {}
    times: list[float] = []
    for s in starts:
        took, t = timed(lambda s=s: graph.downstream(store, g.asset(s), args.depth, args.min_confidence))
        times.append(took)
        ours[s] = {g.number(r.asset): r.confidence for r in t.reached}
    med, p95 = stats(times)
    sizes = [len(v) for v in ours.values()]
    rows.append(("flowscope graph.walk", f"{med * 1000:.1f} ms", f"p95 {p95 * 1000:.1f} ms over {len(starts)} starts "
                 f"(first after open {first_s * 1000:.1f} ms); reached {min(sizes):,}-{max(sizes):,} "
                 f"(median {int(statistics.median(sizes)):,}); named, sorted Reached with paths"))  # fmt: skip
    start_ids = []
    for s in starts:
        found = store.lookup(g.asset(s))
        assert found is not None
        start_ids.append(found)

    def to_columns(ids: np.ndarray) -> list[int]:
        named = store.assets_by_id(ids.tolist())
        return [g.number(named[i]) for i in ids.tolist()]

    engine, engine_times = engine_walks(args, starts, start_ids, to_columns)
    for s in starts:
        assert engine[s] == ours[s], f"index walk and graph.walk differ from {s}"
    e_med, e_p95 = stats(engine_times)
    c_med, c_p95 = stats(CPU_TIMES)
    rows.append(cold_row())
    rows.append(("flowscope index walk", f"{e_med * 1000:.1f} ms", f"p95 {e_p95 * 1000:.1f} ms (CPU {c_med * 1000:.1f} / "
                 f"{c_p95 * 1000:.1f} ms): the walk alone (reached ids and confidences, what networkx and DuckDB "
                 "return); same answers"))  # fmt: skip
    widest = max(starts, key=lambda s: len(ours[s]))
    t = graph.downstream(store, g.asset(widest), args.depth, args.min_confidence)
    far = max(t.reached, key=lambda r: (r.hops, r.confidence)).asset
    why_s, x = timed(lambda: graph.why(store, g.asset(widest), far, args.min_confidence))
    rows.append(("flowscope why", f"{why_s * 1000:.1f} ms", f"to the farthest asset of the widest walk "
                 f"({len(x.edges) if x else 0} hops)"))  # fmt: skip
    store.close()
    cli_rows(args, g, starts, rows)
    return ours, e_med, e_p95


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one new process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    took, done = timed(lambda: subprocess.run(cmd, capture_output=True, text=True, check=False, env=env))
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)}: {done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cli_rows(args: argparse.Namespace, g: Graph, starts: list[int], rows: list[tuple[str, str, str]]) -> None:
    """``flowscope lineage downstream`` and ``--version`` as a user runs them: new processes of the console
    script. Python may write bytecode (a sandbox's PYTHONDONTWRITEBYTECODE=1 would make every run compile
    numpy from source, 2.4 s); one unmeasured run first writes it, as any first use after install does.
    CPU seconds are given beside wall clock: on a shared 2-core VM the wall clock is mostly the wait for a
    core."""
    script = Path(sys.executable).parent / "flowscope"  # the console script, as a user runs it
    exe = [str(script)] if script.exists() else [sys.executable, "-m", "flowscope"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cli = [*exe, "--store", str(args.store)]
    cmds = [
        [*cli, "lineage", "downstream", g.asset(s).id, "--min-confidence", str(args.min_confidence)]
        for s in starts[:5]
    ]
    run_child(cmds[0], env)
    runs = [run_child(cmd, env) for cmd in cmds]
    run_child([*exe, "--version"], env)
    versions = [run_child([*exe, "--version"], env) for _ in range(5)]
    wall, cpu = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
    v_wall, v_cpu = (statistics.median(r[0] for r in versions), statistics.median(r[1] for r in versions))
    rows.append(("CLI lineage downstream", f"{wall:.2f} s", f"CPU {cpu:.2f} s; new process, table output (200 rows "
                 f"cap), median of {len(runs)} starts"))  # fmt: skip
    rows.append(("CLI --version", f"{v_wall:.2f} s", f"CPU {v_cpu:.2f} s; median of {len(versions)}"))


def compare(
    args: argparse.Namespace,
    g: Graph,
    starts: list[int],
    ours: dict[int, dict[int, float]],
    med: float,
    p95: float,
    rows: list[tuple[str, str, str]],
) -> None:
    """networkx and DuckDB from the same starts; ratios against flowscope's walk alone (``med``/``p95``)."""
    for name, run in (("networkx", _networkx), ("DuckDB", _duckdb)):
        if getattr(args, f"skip_{name.lower()}"):
            rows.append((name, "skipped", "--skip-" + name.lower()))
            continue
        result = run(args, g, starts)
        if result is None:
            rows.append((name, "not installed", "uv sync --group bench"))
            continue
        theirs, their_times, build_s, note = result
        for s in starts:
            assert set(theirs[s]) == set(ours[s]), f"{name} reached another set from {s}"
            bad = [n for n, c in ours[s].items() if abs(round(theirs[s][n], 6) - c) > 1e-9]
            assert not bad, f"{name}: other confidences from {s}: {bad[:5]}"
        their_med, their_p95 = stats(their_times)
        rows.append((f"{name} walk", f"{their_med * 1000:.1f} ms",
                     f"p95 {their_p95 * 1000:.1f} ms; {name}/flowscope = {their_med / med:.1f}x median, "
                     f"{their_p95 / p95:.1f}x p95; same reached sets and confidences; load {build_s:.1f} s{note}"))  # fmt: skip


def _networkx(args: argparse.Namespace, g: Graph, starts: list[int]) -> Any:
    try:
        import networkx as nx
    except ImportError:
        return None
    before = rss_mb()
    t0 = time.perf_counter()
    dg = nx.DiGraph()
    order = np.argsort(g.conf, kind="stable")  # the most confident of parallel edges is added last
    dg.add_weighted_edges_from(
        zip(g.src[order].tolist(), g.dst[order].tolist(), g.conf[order].tolist(), strict=True),
        weight="confidence",
    )
    build_s = time.perf_counter() - t0
    out, times = {}, []
    for s in starts:
        took, out[s] = timed(lambda s=s: nx_walk(dg, s, args.depth, args.min_confidence))
        times.append(took)
    return out, times, build_s, f", +{rss_mb() - before:,.0f} MB RSS"


def _duckdb(args: argparse.Namespace, g: Graph, starts: list[int]) -> Any:
    try:
        import duckdb
    except ImportError:
        return None
    con = duckdb.connect()
    t0 = time.perf_counter()
    e = {"src": g.src, "dst": g.dst, "conf": g.conf}  # noqa: F841 (DuckDB reads the local by name)
    con.execute("CREATE TABLE e AS SELECT src, dst, max(conf) AS conf FROM e GROUP BY src, dst")
    con.execute("CREATE INDEX e_src ON e (src)")
    build_s = time.perf_counter() - t0
    out, times = {}, []
    for s in starts:
        params = [s, args.depth, args.min_confidence, s, s]
        took, got = timed(lambda p=params: con.execute(DUCK_WALK, p).fetchall())
        out[s] = {int(n): float(c) for n, c in got}
        times.append(took)
    return out, times, build_s, ""


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--graph", choices=["layered", "random"], default="layered")
    p.add_argument("--edges", type=int, default=1_000_000)
    p.add_argument("--assets", type=int, default=0, help="column assets (default edges/5)")
    p.add_argument("--fields", type=int, default=10, help="columns per dataset")
    p.add_argument("--layers", type=int, default=20)
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--min-confidence", type=float, default=0.5)
    p.add_argument("--walks", type=int, default=20, help="start nodes (each engine walks from all)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--store", type=Path, help="store folder (default: a temporary one)")
    p.add_argument("--reuse", action="store_true", help="walk an existing --store, skip the ingest")
    p.add_argument("--index-only", action="store_true", help="build the index from arrays; no store")
    p.add_argument(
        "--fill", action="store_true", help="fill the store's tables directly (fill_store.py), no ingest"
    )
    p.add_argument("--skip-networkx", action="store_true")
    p.add_argument("--skip-duckdb", action="store_true")
    p.add_argument("--phase", choices=["ingest", "index-only"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    tmp = None
    if args.store is None:
        tmp = tempfile.TemporaryDirectory(prefix="flowscope-bench-")
        args.store = Path(tmp.name) / ".flowscope"
    args.store.mkdir(parents=True, exist_ok=True)
    if args.phase == "ingest":
        return ingest_phase(args)
    if args.phase == "index-only":
        return index_only_phase(args)
    load = os.getloadavg()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, {_nproc()} CPUs, {_ram_gb():.0f} GB RAM; Python "
          f"{platform.python_version()}, numpy {np.__version__}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")  # fmt: skip
    rows: list[tuple[str, str, str]] = []
    if args.index_only:
        r = child(args, "index-only")
        rows.append(("index from arrays", f"{r['index_s']:.1f} s", f"{r['edges']:,} edges, {r['columns']:,} columns: "
                     f"{r['index_mb']:,.0f} MB on disk, peak RSS {r['index_rss_mb']:,.0f} MB (no store)"))  # fmt: skip
    else:
        if not args.reuse:
            r = child(args, "ingest")
            rows.append(("store fill (no ingest)" if r.get("fill") else "store ingest", f"{r['edges'] / r['ingest_s']:,.0f} edges/s",
                         f"{r['edges']:,} edges in {r['ingest_s']:.0f} s; per CPU-second "
                         f"{r['edges'] / r['ingest_cpu_s']:,.0f} edges/s; {r['db_mb']:,.0f} MB on disk, "
                         f"peak RSS {r['ingest_rss_mb']:,.0f} MB"))  # fmt: skip
            rows.append(("index build", f"{r['index_s']:.1f} s", f"{r['index_mb']:,.1f} MB on disk "
                         f"({r['index_mb'] * 1e6 / r['edges']:.1f} bytes/edge), peak RSS {r['index_rss_mb']:,.0f} MB"))  # fmt: skip
    g = Graph(args)
    walks(args, g, rows)
    width = max(len(r[0]) for r in rows)
    print(
        f"graph: {args.graph}, {args.edges:,} edges, depth {args.depth}, min confidence {args.min_confidence}\n"
    )
    print(f"{'measure':<{width}}  {'result':>18}  notes")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>18}  {note}")
    if tmp is not None:
        tmp.cleanup()
    return None


if __name__ == "__main__":
    main()
