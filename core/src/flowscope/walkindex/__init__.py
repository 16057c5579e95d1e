"""The compact walk index: the store's graph as CSR arrays in a memory-mapped file beside it
(``.flowscope/walk.idx``), so walks and ``why`` run on arrays instead of one SQL query per BFS level.

SQLite stays the store of record; the index is derived from it and never written to by anything else.
It records the store generation and a fingerprint of the scopes table it was made from. On each query,
:func:`index_for` compares them with the store's (two small queries): equal, the mapped file is used
as it is; the store moved on by writes that recorded which datasets they touched, the index is patched
(those datasets' edges read again, the rest kept); otherwise, or when the file is missing or damaged,
it is rebuilt from the store. A store folder that cannot be written to gets an index in memory.

Layout (``N`` nodes — every dataset and field —, ``D`` datasets, ``E`` edges — one per edge key —, ``C``
classes):

- nodes ordered by (dataset id, the dataset node first, id), so a dataset node and its fields are one
  range: ``ids`` (store id of each node), ``dback`` (one byte: how far back its dataset node is, 255 for
  "that far or farther", then found by binary search in ``dsets``), ``dsets`` and ``dset_ids`` (positions
  and store ids of the dataset nodes, both increasing). A query finds an asset's position from its id and
  its dataset's id by two binary searches, so no id-sized lookup table is kept;
- downstream CSR: ``doff[N+1]``, ``dfar[E]`` (target positions), ``dcode`` (job id and class id in one
  integer: ``job << cls_bits | class``; three bytes an edge when that fits in 24 bits, else 4 or 8,
  ``code_bytes``), edges ordered by (source, target, job);
- upstream CSR: ``uoff[N+1]`` and ``upos[E]``, the downstream position of each edge, ordered by (target,
  source, job) — the source is found from ``doff`` — so the upstream side costs 4 bytes an edge;
- classes: ``cconf[C]`` (the confidence, float64 as stored: products equal the store walk's bit for bit),
  ``cflag_off``/``cflags`` (the flags of the rows that make up the key: DIRECT/INDIRECT, masked, kinds).

About 11 bytes an edge and 14 a node on disk (measured figures in ``bench/README.md``): a 100M-edge,
22M-asset graph in about 1.4 GB.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from flowscope.walkindex import build, layout
from flowscope.walkindex.walk import Index, best_path, walk

if TYPE_CHECKING:
    from flowscope.store import Store

log = logging.getLogger(__name__)

FILE_NAME = "walk.idx"
VERSION = 2
# A patch reads the touched datasets' edges again and rewrites every array: past this share of the
# datasets (and this many) a full build reads less overall.
PATCH_MAX_SHARE = 0.25
PATCH_ALWAYS = 10_000


def state(conn: sqlite3.Connection) -> tuple[int, str]:
    """The store's generation and a fingerprint of its scopes (which changes with every write, also one
    made by a flowscope that does not keep generations)."""
    row = conn.execute("SELECT value FROM store_meta WHERE key = 'generation'").fetchone()
    scopes = conn.execute("SELECT count(*), total(edges), max(updated) FROM scopes").fetchone()
    return (int(row[0]) if row else 0), f"{scopes[0]}/{int(scopes[1])}/{scopes[2]}"


def _changes(conn: sqlite3.Connection, since: int, until: int) -> list[int] | None:
    """Datasets touched by the writes of generations ``since+1 .. until``; None when any of them did
    not record its datasets (a bulk load, or records already pruned)."""
    rows = conn.execute(
        "SELECT generation, ds FROM walk_changes WHERE generation > ? AND generation <= ?", (since, until)
    ).fetchall()
    seen = {g for g, _ in rows}
    if len(seen) != until - since or any(ds < 0 for _, ds in rows):
        return None
    return sorted({ds for _, ds in rows if ds > 0})


class WalkIndex(Index):
    """An index and the store state it was made from."""

    def __init__(self, arrays: dict[str, Any], meta: dict[str, Any], size: int) -> None:
        super().__init__(arrays)
        self.arrays = arrays
        self.meta = meta
        self.size = size  # bytes on disk (or that it would take)

    @property
    def key(self) -> tuple[int, str]:
        return int(self.meta["generation"]), str(self.meta["fingerprint"])


def _load(path: Path) -> WalkIndex | None:
    try:
        arrays, meta, size = layout.read(path)
    except FileNotFoundError:
        return None
    except (OSError, layout.Damaged) as exc:
        log.warning("walk index %s is damaged (%s); rebuilding it", path, exc)
        return None
    if meta.get("version") != VERSION:
        return None
    return WalkIndex(arrays, meta, size)


def _save(path: Path, arrays: dict[str, Any], key: tuple[int, str], how: str) -> WalkIndex:
    meta = {"version": VERSION, "generation": key[0], "fingerprint": key[1], "built": how}
    try:
        layout.write(path, arrays, meta)
        loaded = _load(path)
        if loaded is not None:
            return loaded
    except OSError as exc:
        log.info("walk index not saved (%s); kept in memory", exc)
    return WalkIndex(arrays, meta, sum(a.nbytes for a in arrays.values()))


def index_for(store: Store, *, rebuild: bool = False) -> WalkIndex:
    """The store's walk index, fresh: the one in use or on disk if it matches the store, else patched
    or rebuilt (and saved) first. Reads happen in one read transaction, so a scan writing meanwhile is
    either wholly in the index or not at all."""
    conn = store.connection
    path = store.directory / FILE_NAME
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        key = state(conn)
        current: WalkIndex | None = getattr(store, "_walk_index", None)
        if not rebuild and current is not None and current.key == key:
            return current
        disk = None if rebuild else _load(path)
        index = disk if disk is not None and disk.key == key else _refresh(conn, path, disk, key)
        store._walk_index = index  # type: ignore[attr-defined]
        return index
    finally:
        if own:
            conn.execute("COMMIT")


def _refresh(conn: sqlite3.Connection, path: Path, old: WalkIndex | None, key: tuple[int, str]) -> WalkIndex:
    if old is not None and old.key[0] < key[0]:
        touched = _changes(conn, old.key[0], key[0])
        if touched is not None and len(touched) <= max(PATCH_ALWAYS, PATCH_MAX_SHARE * len(old.dsets)):
            log.debug("patching the walk index for %d datasets", len(touched))
            return _save(path, build.patch(old.arrays, conn, touched), key, "patch")
    log.debug("building the walk index")
    nodes, edges, classes = build.full(conn)
    return _save(path, build.compose(nodes, edges, classes), key, "full")


def remove(directory: Path) -> None:
    """Delete the index file of a store folder (it is rebuilt on the next walk)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(directory / FILE_NAME)


def _stop_mask(index: WalkIndex, stops: dict[int, int]) -> np.ndarray | None:
    """Stop-at assets (id -> dataset id) as a mask over index positions; None for none."""
    if not stops:
        return None
    stop = np.zeros(index.n, bool)
    found = index.idx(np.array(list(stops), np.int64), np.array(list(stops.values()), np.int64))
    stop[found[found >= 0]] = True
    return stop


def walk_records(
    store: Store,
    starts: dict[int, int],
    down: bool,
    depth: int,
    filters: tuple[float, bool, int],
    stops: dict[int, int],
) -> tuple[tuple[list[Any], ...], dict[int, int], set[int], set[int]]:
    """:func:`flowscope.walkstore.walk` on the index: the same records, final records and stopped nodes,
    in store ids. ``starts`` and ``stops`` map asset ids to their dataset ids."""
    index = index_for(store)
    first = sorted(starts)
    at = index.idx(np.array(first, np.int64), np.array([starts[i] for i in first], np.int64))
    recs = walk(index, at[at >= 0], down, depth, filters, _stop_mask(index, stops))

    def ids(positions: np.ndarray) -> np.ndarray:  # only the entries asked for: the file is mapped
        out: np.ndarray = index.ids[positions].astype(np.int64)
        return out

    near = np.where(recs.near >= 0, ids(np.maximum(recs.near, 0)), -1)
    parent = recs.parent
    columns = [ids(recs.node), recs.conf, recs.hops, recs.job, near, parent, recs.econf, recs.eflags]
    lists = tuple(c.tolist() for c in columns)
    final = dict(zip(ids(recs.reached).tolist(), recs.final.tolist(), strict=True))
    stopped = set(ids(recs.stopped).tolist())
    # Starts the index does not hold have no edges; a stopped one is still reported as stopped.
    stopped |= {n for n, ds in starts.items() if n in stops or ds in stops}
    # Assets to name: the reached ones and every step's near end (a field's edge can be taken from its
    # dataset node's path, so the near end need not be on the chain).
    named = set(np.concatenate([ids(recs.reached), near[near >= 0]]).tolist())
    return lists, final, stopped, named


def path_keys(
    store: Store,
    source: tuple[int, int],
    targets: tuple[int, int, bool],
    filters: tuple[float, bool, int],
    stops: dict[int, int],
) -> list[tuple[int, int, int]] | None:
    """:func:`flowscope.walkstore.best_path` on the index (``stops``: asset id -> dataset id)."""
    index = index_for(store)
    at = index.idx(
        np.array([source[0], targets[0], targets[1]], np.int64),
        np.array([source[1], targets[1], targets[1]], np.int64),
    )
    if at[0] < 0:
        return None
    dst = int(at[1])  # -1 when the target has no edges: only a dataset target's fields can be reached
    dst_ds = int(at[2]) if at[2] >= 0 else -2
    return best_path(index, int(at[0]), (dst, dst_ds, targets[2]), filters, _stop_mask(index, stops))
