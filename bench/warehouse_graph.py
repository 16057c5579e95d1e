"""The object-built synthetic warehouse graph the zone benchmark walks (``zone_bench.py``), and the
machine facts every benchmark prints. ``graph_bench.py`` generates its graphs in numpy instead (100M edges
do not fit as Python objects); this one keeps the asset names (``l00.t00000``) the zone bench's zones name.
"""

from __future__ import annotations

import os
import random
import resource
import sys

from flowscope import scoring
from flowscope.model import Asset, Basis, Edge, Evidence, Job, Transformation

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


def _nproc() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def _ram_gb() -> float:
    try:
        with open("/proc/meminfo") as f:
            return int(f.readline().split()[1]) / 1024 / 1024
    except OSError:
        return 0.0
