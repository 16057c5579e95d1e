"""Benchmark of ``flowscope ingest`` on every path: OpenLineage events into an empty store, a second file
(scope) into the populated store, and a file whose edges overlap the first's.

    .venv/bin/python bench/ingest_bench.py                       # 1,000,000 column edges per file
    .venv/bin/python bench/ingest_bench.py --edges 100000        # a quick run

The events (seeded, generated into ``--cache``, default a temporary folder, deleted after) are what Spark's
or dbt's OpenLineage integration writes: one COMPLETE event per target table with its inputs and a
``columnLineage`` facet, every target column fed by one to three columns of tables in the layer before,
as JSON lines. ``second`` has the same shape with other table names; ``overlap`` repeats half of the first
file's events under new run ids (another scope holding the same edge keys, so every shared key is merged).

Each ``flowscope ingest`` runs as a new process of the console script; its wall clock, CPU seconds and peak
RSS (``wait4``) are its own. Edges/s is the stored edge count (from the command's summary line) over the wall
clock; per CPU-second beside it, since on a shared VM the wall clock includes waiting for a core.

``--bulk 1000000,10000000`` measures the other path, a scan's bulk load: ``Store.replace`` of a layered graph
(``graph_bench.py``'s, built in numpy) into an empty store, streamed as ``Edge`` objects made chunk by chunk,
in a child process per size. Its CPU seconds include making the ``Edge`` objects (what a scan's merge step
hands over; timed alone on the first 500k edges and shown beside). Peak RSS is sampled every 20 ms during the
store call (``/proc/self/statm``), so it is the store's peak including the graph's arrays, not the numpy
generator's own earlier peak (shown as "graph made").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warehouse_graph import _nproc, _ram_gb

NS = "hive://warehouse:9083"
TRANSFORMS = [
    {"type": "DIRECT", "subtype": "IDENTITY", "description": "", "masking": False},
    {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "", "masking": False},
]


def event(
    prefix: str, layer: int, table: int, per_layer: int, fields: int, rng: random.Random, run: int
) -> str:
    """One COMPLETE event: table ``table`` of ``layer`` written from two tables of the layer before."""
    sources = sorted({(table + d) % per_layer for d in (0, rng.randint(1, 3))})
    inputs = [{"namespace": NS, "name": f"{prefix}.l{layer - 1:02d}.t{s:06d}"} for s in sources]
    lineage = {}
    for c in range(fields):
        feeds = {
            (rng.choice(sources), c if rng.random() < 0.6 else rng.randrange(fields))
            for _ in range(rng.randint(1, 3))
        }
        lineage[f"c{c}"] = {
            "inputFields": [
                {"namespace": NS, "name": f"{prefix}.l{layer - 1:02d}.t{s:06d}", "field": f"c{f}",
                 "transformations": [TRANSFORMS[f != c]]}
                for s, f in sorted(feeds)
            ]
        }  # fmt: skip
    out = {
        "namespace": NS,
        "name": f"{prefix}.l{layer:02d}.t{table:06d}",
        "facets": {"columnLineage": {"_producer": "https://example.com/bench", "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json", "fields": lineage}},
    }  # fmt: skip
    doc: dict[str, Any] = {
        "eventType": "COMPLETE",
        "eventTime": "2026-12-01T04:00:00.000Z",
        "producer": "https://example.com/bench",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"018f75ce-0000-7000-8000-{run:012d}"},
        "job": {"namespace": "bench", "name": f"etl.{prefix}.l{layer:02d}.t{table:06d}"},
        "inputs": inputs,
        "outputs": [out],
    }
    return json.dumps(doc, separators=(",", ":"))


def write_events(
    path: Path, prefix: str, edges: int, fields: int, seed: int, every: int = 1, run0: int = 0
) -> None:
    """About ``edges`` column edges (2 per target column on average) in events of ``fields`` columns."""
    rng = random.Random(seed)
    tables = max(2, edges // (fields * 2))
    layers = 10
    per_layer = max(1, tables // (layers - 1))
    with path.open("w") as f:
        n = 0
        for layer in range(1, layers):
            for table in range(per_layer):
                line = event(prefix, layer, table, per_layer, fields, rng, run0 + n)
                if n % every == 0:
                    f.write(line + "\n")
                n += 1


def ingest(store: Path, path: Path) -> dict[str, Any]:
    """One ``flowscope ingest`` process: events and edges stored, wall clock, and its own rusage."""
    script = Path(sys.executable).parent / "flowscope"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [str(script), "--store", str(store), "ingest", str(path)], stdout=out, stderr=err, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        text, problems = out.read(), err.read()
    if proc.returncode:
        raise SystemExit(f"ingest {path} failed: {problems}")
    m = re.search(r"(\d+) events, (\d+) edges", text)
    assert m, text
    return {"events": int(m[1]), "edges": int(m[2]), "wall": wall, "usage": usage}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bulk_child(edges: int, store: Path) -> None:
    """Child process of ``--bulk``: one bulk load; prints one JSON line."""
    import resource
    import threading

    from graph_bench import Graph, LazyEdges

    from flowscope.store import Store

    graph = Graph(argparse.Namespace(seed=7, fields=10, assets=0, edges=edges, graph="layered", layers=20))
    made = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lazy = LazyEdges(graph)
    c0, sample = time.process_time(), min(500_000, len(graph.src))
    for n, _ in enumerate(lazy, 1):
        if n >= sample:
            break
    gen_per_edge = (time.process_time() - c0) / sample
    peak, done = [_rss_mb()], threading.Event()

    def watch() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _rss_mb())

    threading.Thread(target=watch, daemon=True).start()
    with Store.open(store) as s:
        t0, c0 = time.perf_counter(), time.process_time()
        s.replace("bench", "bulk", lazy, [], [])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    done.set()
    print(json.dumps({"edges": len(graph.src), "wall": wall, "cpu": cpu, "gen_cpu": gen_per_edge * len(graph.src),
                      "graph_made_mb": made, "peak_mb": max(peak[0], _rss_mb()),
                      "db_mb": (store / "lineage.db").stat().st_size / 1e6}))  # fmt: skip


def bulk(sizes: list[int], root: Path) -> None:
    print(f"\n{'bulk load (Store.replace)':<26} {'edges':>11} {'wall s':>7} {'edges/s':>9} {'CPU s':>7} "
          f"{'edges/CPU-s':>11} {'w/o Edges':>10} {'peak RSS':>9} {'graph made':>10} {'db':>8}")  # fmt: skip
    for n in sizes:
        store = root / f"bulk-{n}"
        shutil.rmtree(store, ignore_errors=True)
        cmd = [sys.executable, __file__, "--bulk-child", str(n), "--cache", str(store)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"bulk load of {n} edges failed: {done.stderr}")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        e = r["edges"]
        print(f"{'into an empty store':<26} {e:>11,} {r['wall']:>7.1f} {e / r['wall']:>9,.0f} {r['cpu']:>7.1f} "
              f"{e / r['cpu']:>11,.0f} {e / (r['cpu'] - r['gen_cpu']):>10,.0f} {r['peak_mb']:>6,.0f} MB "
              f"{r['graph_made_mb']:>7,.0f} MB {r['db_mb']:>5,.0f} MB")  # fmt: skip
        shutil.rmtree(store, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--edges", type=int, default=1_000_000)
    p.add_argument("--fields", type=int, default=10)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--cache", type=Path, help="folder for the event files and the store (default: temporary)")
    p.add_argument(
        "--bulk", help="comma-separated edge counts: bulk loads (Store.replace) instead of ingests"
    )
    p.add_argument("--bulk-child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.bulk_child:
        bulk_child(args.bulk_child, args.cache)
        return
    root = args.cache or Path(tempfile.mkdtemp(prefix="flowscope-ingest-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, {_nproc()} CPUs, {_ram_gb():.0f} GB RAM; "
          f"Python {platform.python_version()}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")  # fmt: skip
    if args.bulk:
        bulk([int(n) for n in args.bulk.split(",")], root)
        if args.cache is None:
            shutil.rmtree(root)
        return
    files = {
        "first": root / "first.jsonl",
        "second": root / "second.jsonl",
        "overlap": root / "overlap.jsonl",
    }
    write_events(files["first"], "a", args.edges, args.fields, args.seed)
    write_events(files["second"], "b", args.edges, args.fields, args.seed + 1)
    write_events(files["overlap"], "a", args.edges, args.fields, args.seed, every=2, run0=10**9)
    store = root / ".flowscope"
    shutil.rmtree(store, ignore_errors=True)
    print(
        f"\n{'file':<34} {'events':>8} {'edges':>10} {'wall s':>7} {'edges/s':>9} {'CPU s':>7} {'edges/CPU-s':>11} {'peak RSS':>9}"
    )
    labels = {"first": "events into an empty store", "second": "a second file (scope) after it",
              "overlap": "half the first's events again"}  # fmt: skip
    for name, path in files.items():
        r = ingest(store, path)
        cpu = r["usage"].ru_utime + r["usage"].ru_stime
        rss = r["usage"].ru_maxrss / 1024
        size = path.stat().st_size / 1e6
        print(f"{labels[name]:<34} {r['events']:>8,} {r['edges']:>10,} {r['wall']:>7.1f} {r['edges'] / r['wall']:>9,.0f} "
              f"{cpu:>7.1f} {r['edges'] / cpu:>11,.0f} {rss:>6,.0f} MB  ({size:,.0f} MB of JSON)")  # fmt: skip
    if args.cache is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
