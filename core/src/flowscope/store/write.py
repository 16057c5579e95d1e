"""The write path of the embedded store: one ``Store.replace`` call as one transaction.

Kept apart from :mod:`flowscope.store` so the read API stays short. Everything here runs inside the
transaction the caller opened; nothing commits.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from flowscope import scoring
from flowscope.merge import merge_edges
from flowscope.model import Asset, AssetInfo, Basis, Edge, Job
from flowscope.store.codec import decode_edge, info_doc
from flowscope.store.rows import IdResolver, RowMaker, asset_key_of
from flowscope.store.schema import EDGE_INDEXES

CHUNK = 20_000
BULK_MIN = 50_000
SCOPE_BITS = 32  # edge_rows.id = scope_id << SCOPE_BITS | n: one rowid range per scope
WALK_LIST_MAX = 200_000  # a scope with more rows is recorded as "rebuild the walk index", not by dataset
WALK_GENERATIONS_KEPT = 1_000  # an index older than this many writes is rebuilt
T = TypeVar("T")
# (src_ds, src, dst, job_id): an edge key as the edges_down index orders it.
RowKey = tuple[int, int, int, int]
KEY_WHERE = "src_ds = ? AND src = ? AND dst = ? AND job_id = ?"
_INSERT = (
    "INSERT INTO edge_rows (id, job_id, src, dst, src_ds, dst_ds, confidence, own, sampled, bases, data, flags) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def scope_range(scope_id: int) -> tuple[int, int]:
    return scope_id << SCOPE_BITS, (scope_id + 1) << SCOPE_BITS


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _parse_bases(text: str) -> set[Basis]:
    out = set()
    for part in text.split(","):
        kind, _, match = part.partition(":")
        out.add(Basis(kind, match or None))
    return out


_ANY_JOB = Job("flowscope://store", "merge")  # rows being merged share one key; only their bases matter
_ANY_ASSET = Asset("flowscope://store", "merge")


def merged_confidence(rows: Sequence[tuple[str, bool]]) -> float:
    """The confidence of several rows of one key: :func:`merge_edges` over their evidence summaries."""
    edges = [Edge(_ANY_JOB, _ANY_ASSET, None, bases=_parse_bases(b)) for b, _ in rows]
    samples = {_ANY_JOB.key: scoring.SAMPLED_OFTEN} if any(s for _, s in rows) else None
    return merge_edges(edges, samples)[0].confidence


def merge_rows(edges: list[tuple[Edge, bool]]) -> Edge:
    """The one edge several ``(collector, scope)`` rows of the same key stand for."""
    if len(edges) == 1:
        return edges[0][0]
    job = edges[0][0].job
    samples = {job.key: scoring.SAMPLED_OFTEN} if any(s for _, s in edges) else None
    return merge_edges([e for e, _ in edges], samples)[0]


def replace_scope(
    conn: sqlite3.Connection,
    collector: str,
    scope: str,
    edges: Sequence[Edge],
    infos: Sequence[AssetInfo],
    events: Sequence[dict[str, Any]],
    samples: Mapping[tuple[str, str], int] | None = None,
) -> None:
    now = datetime.now(UTC).isoformat()
    conn.execute(
        "INSERT INTO scopes (collector, scope, updated) VALUES (?, ?, ?) "
        "ON CONFLICT (collector, scope) DO UPDATE SET updated = excluded.updated",
        (collector, scope, now),
    )
    scope_id = conn.execute(
        "SELECT id FROM scopes WHERE collector = ? AND scope = ?", (collector, scope)
    ).fetchone()[0]
    lo, hi = scope_range(scope_id)

    # Forget what this scope said before: keys other scopes share are re-scored below; assets it alone
    # referred to are dropped at the end.
    touched = shared_keys(conn, lo, hi)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS stale (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.stale")
    conn.execute(
        "INSERT OR IGNORE INTO temp.stale SELECT src FROM edge_rows WHERE id >= ? AND id < ? "
        "UNION SELECT dst FROM edge_rows WHERE id >= ? AND id < ? AND dst != 0 "
        "UNION SELECT asset_id FROM asset_infos WHERE scope_id = ?",
        (lo, hi, lo, hi, scope_id),
    )
    conn.execute(
        "INSERT OR IGNORE INTO temp.stale SELECT ds FROM assets WHERE id IN (SELECT id FROM temp.stale)"
    )
    # Bulk load: when this scope outweighs the rest of the store, inserting without the two traversal
    # indexes and building them afterwards (one sort each) beats a million random index inserts.
    # DDL is transactional in SQLite, so a failure still rolls everything back.
    others = conn.execute("SELECT coalesce(sum(edges), 0) FROM scopes WHERE id != ?", (scope_id,)).fetchone()[
        0
    ]
    bulk = len(edges) >= BULK_MIN and len(edges) > others
    generation = walk_generation(conn, lo, hi, list_datasets=not bulk and len(edges) <= WALK_LIST_MAX)
    if bulk:
        for ddl in EDGE_INDEXES:
            conn.execute("DROP INDEX IF EXISTS " + ddl.split()[2])
    conn.execute("DELETE FROM edge_rows WHERE id >= ? AND id < ?", (lo, hi))
    for table in ("asset_infos", "events", "job_samples"):
        conn.execute(f"DELETE FROM {table} WHERE scope_id = ?", (scope_id,))
    conn.executemany(
        "INSERT INTO job_samples (scope_id, namespace, name, samples) VALUES (?, ?, ?, ?)",
        [(scope_id, ns, name, n) for (ns, name), n in sorted((samples or {}).items())],
    )

    ids = IdResolver(conn)
    maker = RowMaker(ids)
    next_id = lo
    for batch in chunks(edges, CHUNK):
        conn.executemany(_INSERT, maker.rows(batch, next_id))
        next_id += len(batch)
    if bulk:
        for ddl in EDGE_INDEXES:
            conn.execute(ddl)
    if generation is not None:
        record_datasets(conn, generation, lo, hi)
    conn.execute("UPDATE scopes SET edges = ? WHERE id = ?", (next_id - lo, scope_id))
    touched |= shared_keys(conn, lo, hi, scan=bulk)
    rescore(conn, touched)

    info_keys = [asset_key_of(i.asset.namespace, i.asset.name, i.asset.field) for i in infos]
    ids.resolve_assets(info_keys)
    conn.executemany(
        "INSERT INTO asset_infos (scope_id, asset_id, data) VALUES (?, ?, ?)",
        ((scope_id, ids.assets[k][0], info_doc(i)) for k, i in zip(info_keys, infos, strict=True)),
    )
    conn.executemany(
        "INSERT INTO events (scope_id, data) VALUES (?, ?)",
        ((scope_id, json.dumps(ev, separators=(",", ":"), ensure_ascii=False)) for ev in events),
    )
    collect_garbage(conn)


def walk_generation(conn: sqlite3.Connection, lo: int, hi: int, *, list_datasets: bool) -> int | None:
    """Start a new store generation for the walk index (:mod:`flowscope.walkindex`) and record the
    datasets the scope's current rows touch, before they are deleted. Returns the generation when the
    datasets are listed (the caller records the new rows' too), None when this write is recorded as
    "rebuild everything" (a bulk load: listing ten million rows' datasets costs more than a rebuild)."""
    conn.execute(
        "INSERT INTO store_meta (key, value) VALUES ('generation', 1) "
        "ON CONFLICT (key) DO UPDATE SET value = value + 1"
    )
    generation = int(conn.execute("SELECT value FROM store_meta WHERE key = 'generation'").fetchone()[0])
    conn.execute("DELETE FROM walk_changes WHERE generation <= ?", (generation - WALK_GENERATIONS_KEPT,))
    if (
        not list_datasets
        or conn.execute(
            "SELECT count(*) > ? FROM (SELECT 1 FROM edge_rows WHERE id >= ? AND id < ? LIMIT ?)",
            (WALK_LIST_MAX, lo, hi, WALK_LIST_MAX + 1),
        ).fetchone()[0]
    ):
        conn.execute("INSERT INTO walk_changes (generation, ds) VALUES (?, -1)", (generation,))
        return None
    conn.execute("INSERT INTO walk_changes (generation, ds) VALUES (?, 0)", (generation,))
    record_datasets(conn, generation, lo, hi)
    return generation


def record_datasets(conn: sqlite3.Connection, generation: int, lo: int, hi: int) -> None:
    conn.execute(
        "INSERT INTO walk_changes (generation, ds) SELECT ?, src_ds FROM edge_rows WHERE id >= ? AND id < ? "
        "UNION SELECT ?, dst_ds FROM edge_rows WHERE id >= ? AND id < ? AND dst != 0",
        (generation, lo, hi, generation, lo, hi),
    )


def shared_keys(conn: sqlite3.Connection, lo: int, hi: int, *, scan: bool = False) -> set[RowKey]:
    """Keys held by a row in the rowid range [lo, hi) and by any other row (another scope or a duplicate).

    ``scan`` (a bulk load, where the range is most of the table): one pass over the source-side index in
    key order instead of an index probe per row of the range (1M rows: 0.34 s CPU instead of 2.4 s)."""
    if scan:
        return set(
            conn.execute(
                "SELECT src_ds, src, dst, job_id FROM edge_rows GROUP BY src_ds, src, dst, job_id "
                "HAVING count(*) > 1 AND max(id >= ? AND id < ?)",
                (lo, hi),
            )
        )
    rows = conn.execute(
        "SELECT r.src_ds, r.src, r.dst, r.job_id FROM edge_rows r WHERE r.id >= ? AND r.id < ? AND EXISTS "
        "(SELECT 1 FROM edge_rows o WHERE o.src_ds = r.src_ds AND o.src = r.src AND o.dst = r.dst "
        "AND o.job_id = r.job_id AND o.id != r.id)",
        (lo, hi),
    )
    return set(rows)


def rescore(conn: sqlite3.Connection, keys: set[RowKey]) -> None:
    """Store the merged confidence on every row of each key, so traversals read one number per key.

    Keys are looked up in one join, and :func:`merged_confidence` is called once per distinct evidence
    combination: an overlapping collector can share a million keys with the rest of the store.
    """
    if not keys:
        return
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS touched (src_ds INTEGER, src INTEGER, dst INTEGER, job_id INTEGER)"
    )
    conn.execute("DELETE FROM temp.touched")
    conn.executemany("INSERT INTO temp.touched VALUES (?, ?, ?, ?)", keys)
    groups: dict[RowKey, list[tuple[int, float, bool, str, float]]] = defaultdict(list)
    for row_id, src_ds, src, dst, job, own, sampled, bases, conf in conn.execute(
        "SELECT r.id, r.src_ds, r.src, r.dst, r.job_id, r.own, r.sampled, r.bases, r.confidence FROM temp.touched t "
        "JOIN edge_rows r ON r.src_ds = t.src_ds AND r.src = t.src AND r.dst = t.dst AND r.job_id = t.job_id"
    ):
        groups[(src_ds, src, dst, job)].append((row_id, own, bool(sampled), bases, conf))
    merged: dict[tuple[tuple[str, bool], ...], float] = {}
    updates: list[tuple[float, int]] = []
    for rows in groups.values():
        if len(rows) == 1:
            conf = rows[0][1]
        else:
            evidence = tuple(sorted((bases, sampled) for _, _, sampled, bases, _ in rows))
            if evidence not in merged:
                merged[evidence] = merged_confidence(evidence)
            conf = merged[evidence]
        # Only rows whose number changes are written: each write also moves two index entries.
        updates.extend((conf, row_id) for row_id, *_, old in rows if old != conf)
    conn.executemany("UPDATE edge_rows SET confidence = ? WHERE id = ?", updates)


def rows_of_key(conn: sqlite3.Connection, key: RowKey) -> list[tuple[float, int, str]]:
    return conn.execute(
        f"SELECT own, sampled, data FROM edge_rows WHERE {KEY_WHERE} ORDER BY id", key
    ).fetchall()


def load_merged(conn: sqlite3.Connection, keys: Sequence[tuple[int, int, int]]) -> list[Edge]:
    """The merged edge of each ``(job id, source id, target id)`` key, in the order given."""
    asset_ids = {a for _, s, d in keys for a in (s, d) if a}
    assets = assets_by_id(conn, asset_ids)
    datasets = dict(
        conn.execute(
            "SELECT id, ds FROM assets WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(asset_ids)),),
        )
    )
    jobs = jobs_by_id(conn, {j for j, _, _ in keys})
    out = []
    for job_id, src, dst in keys:
        rows = rows_of_key(conn, (datasets[src], src, dst, job_id))
        target = assets[dst] if dst else None
        decoded = [
            (decode_edge(data, jobs[job_id], assets[src], target, own), bool(s)) for own, s, data in rows
        ]
        out.append(merge_rows(decoded))
    return out


def assets_by_id(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Asset]:
    out: dict[int, Asset] = {}
    for batch in chunks(ids, 50_000):
        rows = conn.execute(
            "SELECT id, namespace, name, field FROM assets WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(batch),),
        )
        stored = Asset.stored
        out.update((i, stored(ns, name, field)) for i, ns, name, field in rows)
    return out


def jobs_by_id(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    rows = conn.execute(
        "SELECT id, namespace, name FROM jobs WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(ids)),),
    )
    return {i: (ns, name) for i, ns, name in rows}


def collect_garbage(conn: sqlite3.Connection) -> None:
    """Drop assets in ``temp.stale`` that nothing refers to any more, so listings show only live ones."""
    unused = (
        "id IN (SELECT id FROM temp.stale) "
        "AND NOT EXISTS (SELECT 1 FROM edge_rows WHERE src_ds = assets.ds AND src = assets.id) "
        "AND NOT EXISTS (SELECT 1 FROM edge_rows WHERE dst_ds = assets.ds AND dst = assets.id) "
        "AND NOT EXISTS (SELECT 1 FROM asset_infos WHERE asset_id = assets.id)"
    )
    conn.execute(f"DELETE FROM assets WHERE field != '' AND {unused}")
    conn.execute(
        f"DELETE FROM assets WHERE field = '' AND {unused} "
        "AND NOT EXISTS (SELECT 1 FROM assets f WHERE f.ds = assets.id AND f.id != assets.id)"
    )
