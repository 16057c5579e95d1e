"""Deriving the walk index's arrays from the store: a full build, or a patch for the datasets that changed.

Reading rows out of SQLite is what a build costs (about 1.5 us a row on an idle 2-CPU VM, most of it
SQLite stepping; packing columns into fewer integers saves a fifth); sorting and laying out the arrays
in numpy is a small part. So a store change is applied by :func:`patch`: only the edge rows of the
datasets a write touched are read again (the store records them per generation, see
:mod:`flowscope.store.write`), and the rest comes from the previous index.

Edge keys ``(job, source, target)`` stored by several scopes become one index edge. Its *class* is its
confidence (the merged one every row of the key carries) and the set of its rows' flags: a walk crosses a
key when any of its rows passes the walk's filters, exactly as the store walk does, and most graphs have
a few dozen classes, so a class id fits in a few bits beside the job id.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

import numpy as np

from flowscope.walkindex.walk import code_view

ROW = np.dtype([("key", "<i8"), ("jf", "<i8"), ("conf", "<f8")])
_ROWS = "SELECT (src << 32) | dst, (job_id << 32) | flags, confidence FROM edge_rows WHERE dst != 0"
_IDS = "SELECT value FROM json_each(?)"


@dataclass
class Classes:
    """Distinct (confidence, row flags) pairs of edge keys, in first-seen order."""

    conf: list[float] = field(default_factory=list)
    flags: list[tuple[int, ...]] = field(default_factory=list)
    ids: dict[tuple[float, tuple[int, ...]], int] = field(default_factory=dict)

    def id(self, conf: float, flags: tuple[int, ...]) -> int:
        key = (conf, flags)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.conf)
            self.conf.append(conf)
            self.flags.append(flags)
        return found


@dataclass
class EdgeList:
    """One entry per edge key, in store ids."""

    src: np.ndarray
    dst: np.ndarray
    job: np.ndarray
    cls: np.ndarray

    @classmethod
    def empty(cls) -> EdgeList:
        z = np.empty(0, np.int64)
        return cls(z, z, z, z)

    def concat(self, other: EdgeList) -> EdgeList:
        return EdgeList(*(np.concatenate([a, b]) for a, b in zip(self.fields(), other.fields(), strict=True)))

    def fields(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.src, self.dst, self.job, self.cls


def read_rows(conn: sqlite3.Connection, where: str = "", params: tuple[object, ...] = ()) -> np.ndarray:
    cur = conn.execute(_ROWS + where, params)
    parts = []
    while rows := cur.fetchmany(100_000):
        parts.append(np.fromiter(rows, dtype=ROW, count=len(rows)))
    return np.concatenate(parts) if parts else np.empty(0, ROW)


def group_rows(rows: np.ndarray, classes: Classes) -> EdgeList:
    """Rows of the same key (several scopes) become one edge whose class holds all their flags."""
    if not len(rows):
        return EdgeList.empty()
    order = np.lexsort((rows["jf"] >> 32, rows["key"]))
    rows = rows[order]
    key, job = rows["key"], rows["jf"] >> 32
    flags, conf = rows["jf"] & 0xFFFFFFFF, rows["conf"]
    first = np.ones(len(rows), bool)
    first[1:] = (key[1:] != key[:-1]) | (job[1:] != job[:-1])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(rows)))
    cls = np.empty(len(starts), np.int64)
    single = counts == 1
    if single.any():
        at = starts[single]
        pairs = np.stack([conf[at].view(np.int64), flags[at]], axis=1)
        uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
        ids = np.array(
            [classes.id(float(np.int64(c).view(np.float64)), (int(f),)) for c, f in uniq.tolist()], np.int64
        )
        cls[single] = ids[inverse.reshape(-1)]
    for k in np.flatnonzero(~single).tolist():
        lo, hi = int(starts[k]), int(starts[k] + counts[k])
        cls[k] = classes.id(float(conf[lo:hi].max()), tuple(sorted(set(flags[lo:hi].tolist()))))
    return EdgeList(key[starts] >> 32, key[starts] & 0xFFFFFFFF, job[starts], cls)


def read_nodes(conn: sqlite3.Connection, where: str = "", params: tuple[object, ...] = ()) -> np.ndarray:
    cur = conn.execute("SELECT (id << 32) | ds FROM assets" + where, params)
    parts = []
    while rows := cur.fetchmany(200_000):
        parts.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
    packed = np.concatenate(parts) if parts else np.empty(0, np.int64)
    return np.stack([packed >> 32, packed & 0xFFFFFFFF], axis=1)


def full(conn: sqlite3.Connection) -> tuple[np.ndarray, EdgeList, Classes]:
    """Everything the index holds, read from the store: nodes ``[[id, ds], ...]``, edges, classes."""
    classes = Classes()
    return read_nodes(conn), group_rows(read_rows(conn), classes), classes


def changed(conn: sqlite3.Connection, datasets: list[int], classes: Classes) -> tuple[np.ndarray, EdgeList]:
    """The nodes of ``datasets`` and every edge with a side in one of them, read from the store."""
    ids = (json.dumps(datasets),)
    nodes = read_nodes(conn, f" WHERE ds IN ({_IDS})", ids)
    rows = np.concatenate(
        [
            read_rows(conn, f" AND src_ds IN ({_IDS})", ids),
            read_rows(conn, f" AND dst_ds IN ({_IDS}) AND src_ds NOT IN ({_IDS})", ids * 2),
        ]
    )
    return nodes, group_rows(rows, classes)


def compose(nodes: np.ndarray, edges: EdgeList, classes: Classes) -> dict[str, np.ndarray]:
    """The index arrays (see :mod:`flowscope.walkindex`): nodes ordered by (dataset id, dataset node
    first, id), so a dataset and its fields are one range, and both directions' adjacency in CSR form."""
    node_id, node_ds = nodes[:, 0], nodes[:, 1]
    order = np.lexsort((node_id, node_id != node_ds, node_ds))
    ids, ds_id = node_id[order], node_ds[order]
    n = len(ids)
    max_id = int(ids.max()) if n else 0
    dsets = np.flatnonzero(ids == ds_id)
    dset_ids = ids[dsets]
    j = np.searchsorted(dset_ids, ds_id)
    if n and ((j >= len(dsets)).any() or (dset_ids[np.minimum(j, len(dsets) - 1)] != ds_id).any()):
        raise ValueError("an asset's dataset is not in the store")
    back = np.arange(n, dtype=np.int64) - dsets[j] if n else np.empty(0, np.int64)
    del j, ds_id
    # Store id -> position, for the edges only (queries find positions by binary search, see Index.idx).
    idx_of = np.full(max_id + 1, -1, np.int32)
    idx_of[ids] = np.arange(n, dtype=np.int32)
    # Edges whose ends are not assets (a store written by hand) cannot be walked: left out.
    inside = (edges.src <= max_id) & (edges.dst <= max_id)
    s = np.where(inside, idx_of[np.minimum(edges.src, max_id)], -1)
    t = np.where(inside, idx_of[np.minimum(edges.dst, max_id)], -1)
    del idx_of, inside
    ok = (s >= 0) & (t >= 0)
    s, t, job, cls = s[ok], t[ok], edges.job[ok], edges.cls[ok]
    down = np.lexsort((job, t, s))
    s, t, job, cls = s[down], t[down], job[down], cls[down]
    del down
    e = len(s)
    cls_bits = max(1, (len(classes.conf) - 1).bit_length())
    job_bits = int(job.max()).bit_length() if e else 1
    code = (job.astype(np.uint64) << np.uint64(cls_bits)) | cls.astype(np.uint64)
    del job, cls
    off_type = np.uint32 if e < 2**32 else np.int64
    id_type = np.int32 if max_id < 2**31 else np.int64
    flag_off = np.zeros(len(classes.flags) + 1, np.int64)
    flag_off[1:] = np.cumsum([len(f) for f in classes.flags])
    code_bytes, dcode = _pack_codes(code, job_bits + cls_bits)
    return {
        "ids": ids.astype(id_type),
        "dback": np.minimum(back, 255).astype(np.uint8),
        "dsets": dsets.astype(np.int32 if n < 2**31 else np.int64),
        "dset_ids": dset_ids.astype(id_type),
        "doff": _offsets(s, n, off_type),
        "dfar": t.astype(np.int32),
        "dcode": dcode,
        "code_bytes": np.array([code_bytes], np.int64),
        "uoff": _offsets(t, n, off_type),
        "upos": np.argsort(t, kind="stable").astype(off_type),
        "cconf": np.array(classes.conf, np.float64),
        "cflag_off": flag_off,
        "cflags": np.array([f for fs in classes.flags for f in fs], np.int64),
        "cls_bits": np.array([cls_bits], np.int64),
    }


def _pack_codes(code: np.ndarray, bits: int) -> tuple[int, np.ndarray]:
    """Edge codes in 3 bytes each when they fit in 24 bits (most stores: a few million jobs and a few
    dozen classes), stored back to back plus a byte of padding; else 4 or 8."""
    if bits <= 24:
        raw = np.zeros(3 * len(code) + 1, np.uint8)
        as_bytes = code.astype("<u4").view(np.uint8).reshape(-1, 4)
        raw[: 3 * len(code)].reshape(-1, 3)[:] = as_bytes[:, :3]
        return 3, raw
    if bits <= 32:
        return 4, code.astype(np.uint32)
    return 8, code


def ds_positions(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The dataset position of every node of an index (what ``dback`` encodes)."""
    n = len(arrays["ids"])
    pos = np.arange(n, dtype=np.int64)
    out: np.ndarray = pos - arrays["dback"]
    far = np.flatnonzero(arrays["dback"] == 255)
    out[far] = arrays["dsets"][np.searchsorted(arrays["dsets"], far, side="right") - 1]
    return out


def _offsets(near: np.ndarray, n: int, dtype: type) -> np.ndarray:
    off = np.zeros(n + 1, np.int64)
    off[1:] = np.cumsum(np.bincount(near, minlength=n))
    return off.astype(dtype)


def edges_of(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, EdgeList, Classes]:
    """An index's nodes, edges (store ids) and classes, as :func:`full` reads them: what a patch keeps."""
    ids = arrays["ids"].astype(np.int64)
    nodes = np.stack([ids, ids[ds_positions(arrays)]], axis=1)
    n = len(ids)
    counts: np.ndarray = np.diff(arrays["doff"].astype(np.int64))
    near = np.repeat(np.arange(n, dtype=np.int64), counts)
    bits = np.uint64(int(arrays["cls_bits"][0]))
    code = code_view(arrays).astype(np.uint64)
    if int(arrays["code_bytes"][0]) == 3:
        code &= np.uint64(0xFFFFFF)
    edges = EdgeList(
        ids[near],
        ids[arrays["dfar"]],
        (code >> bits).astype(np.int64),
        (code & ((np.uint64(1) << bits) - np.uint64(1))).astype(np.int64),
    )
    classes = Classes()
    off = arrays["cflag_off"]
    for c, conf in enumerate(arrays["cconf"].tolist()):
        classes.id(conf, tuple(arrays["cflags"][off[c] : off[c + 1]].tolist()))
    return nodes, edges, classes


def patch(
    arrays: dict[str, np.ndarray], conn: sqlite3.Connection, datasets: list[int]
) -> dict[str, np.ndarray]:
    """The index after writes that touched ``datasets`` (store ids): their nodes and every edge with a
    side in one of them are read again; everything else is kept from ``arrays``."""
    nodes, edges, classes = edges_of(arrays)
    dirty = np.array(sorted(datasets), np.int64)
    ds_of = np.zeros(int(nodes[:, 0].max()) + 1 if len(nodes) else 1, np.int64)
    ds_of[nodes[:, 0]] = nodes[:, 1]
    keep_nodes = ~np.isin(nodes[:, 1], dirty)
    keep_edges = ~np.isin(ds_of[edges.src], dirty) & ~np.isin(ds_of[edges.dst], dirty)
    kept = EdgeList(*(a[keep_edges] for a in edges.fields()))
    new_nodes, new_edges = changed(conn, datasets, classes)
    return compose(np.concatenate([nodes[keep_nodes], new_nodes]), kept.concat(new_edges), classes)
