"""Fill a store with a generated graph quickly, for benchmarks of what reads a big store (the CLI, the
index build), not of ingest: the rows ``Store.replace`` writes (its own columns for one edge of each kind,
written by it into a throwaway store, with the target dataset's name put into each copy) inserted with
``executemany``, then the store's two traversal indexes, the scope row and a store generation whose index
must be built from scratch (as after a bulk load). Used by ``graph_bench.py --fill`` where ingest would
take over an hour on a loaded machine; checked row for row against ``Store.replace`` on 19k edges.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warehouse_graph import MIXES

from flowscope import scoring
from flowscope.model import Edge, Evidence, Job, Transformation
from flowscope.store import Store
from flowscope.store.schema import DB_NAME, EDGE_INDEXES

MARK = "dXXXXXXXX"


def _templates(g: Any) -> dict[tuple[int, bool], tuple[int, str, str, int]]:
    """Per (evidence mix, same column name): sampled, bases, data with MARK for the dataset, flags — as
    ``Store.replace`` itself writes them for one such edge into a throwaway store."""
    keys, edges = [], []
    for m, (bases, _) in enumerate(MIXES):
        for same in (True, False):
            keys.append((m, same))
            edges.append(
                Edge(
                    job=Job("flowscope://sql", f"etl/{MARK}.sql"),
                    source=g.asset(2 * len(edges)),
                    target=g.asset(2 * len(edges) + 1),
                    confidence=scoring.score(bases),
                    bases=set(bases),
                    transformations={Transformation()}
                    if same
                    else {Transformation("DIRECT", "TRANSFORMATION")},
                    evidence=[Evidence("sql", "sql", f"etl/{MARK}.sql:12")],
                    collectors={"bench"},
                    guards=set(),
                    count=1,
                )
            )
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp)) as store:
        store.replace("bench", "synthetic", edges, [], [])
        rows = store.connection.execute(
            "SELECT sampled, bases, data, flags FROM edge_rows ORDER BY id"
        ).fetchall()
    return {k: (int(r[0]), r[1], r[2], int(r[3])) for k, r in zip(keys, rows, strict=True)}


def fill(g: Any, directory: Path) -> int:
    """Write ``g`` (graph_bench.Graph) into a new store at ``directory``; returns the edge count."""
    Store.open(directory).close()  # the schema, as flowscope makes it
    conn = sqlite3.connect(directory / DB_NAME, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN")
    for ddl in EDGE_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {ddl.split()[2]}")
    ns, fields, n_ds = "hive://warehouse:9083", g.fields, g.datasets
    conn.executemany(
        "INSERT INTO assets (id, namespace, name, field, ds) VALUES (?, ?, ?, '', ?)",
        ((d + 1, ns, f"d{d:08d}", d + 1) for d in range(n_ds)),
    )
    conn.executemany(
        "INSERT INTO assets (id, namespace, name, field, ds) VALUES (?, ?, ?, ?, ?)",
        (
            (n_ds + 1 + c, ns, f"d{c // fields:08d}", f"c{c % fields}", c // fields + 1)
            for c in range(g.columns)
        ),
    )
    conn.executemany(
        "INSERT INTO jobs (id, namespace, name) VALUES (?, 'flowscope://sql', ?)",
        ((d + 1, f"etl/d{d:08d}.sql") for d in range(n_ds)),
    )
    tpl = _templates(g)

    def rows() -> Iterator[tuple[Any, ...]]:
        base = 1 << 32
        for lo in range(0, len(g.src), 200_000):
            src, dst = g.src[lo : lo + 200_000].tolist(), g.dst[lo : lo + 200_000].tolist()
            mix, conf = g.mix[lo : lo + 200_000].tolist(), g.conf[lo : lo + 200_000].tolist()
            for n, (s, d, m, c) in enumerate(zip(src, dst, mix, conf, strict=True), base + lo):
                ds = d // fields
                sampled, bases, doc, flags = tpl[m, s % fields == d % fields]
                yield (
                    n, ds + 1, n_ds + 1 + s, n_ds + 1 + d, s // fields + 1, ds + 1, c, c, sampled, bases,
                    doc.replace(MARK, f"d{ds:08d}"), flags,
                )  # fmt: skip

    conn.executemany(
        "INSERT INTO edge_rows (id, job_id, src, dst, src_ds, dst_ds, confidence, own, sampled, bases, data, "
        "flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows(),
    )
    for ddl in EDGE_INDEXES:
        conn.execute(ddl)
    now = datetime.now(UTC).isoformat()
    conn.execute(
        "INSERT INTO scopes (id, collector, scope, updated, edges) VALUES (1, 'bench', 'synthetic', ?, ?)",
        (now, len(g.src)),
    )
    conn.execute(
        "INSERT INTO store_meta (key, value) VALUES ('generation', 1) "
        "ON CONFLICT (key) DO UPDATE SET value = value + 1"
    )
    generation = conn.execute("SELECT value FROM store_meta WHERE key = 'generation'").fetchone()[0]
    conn.execute("INSERT INTO walk_changes (generation, ds) VALUES (?, -1)", (generation,))  # a bulk load
    conn.execute("COMMIT")
    conn.close()
    return len(g.src)
