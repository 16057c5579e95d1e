"""Walks and best paths on the walk index, a whole BFS level at a time in numpy.

The rules are those of :mod:`flowscope.graph` (its docstring), applied to arrays instead of rows: a level
gathers every edge leaving the frontier (a dataset node's range covers its fields' edges), picks each
edge's best frontier predecessor, then each target's best candidate, and keeps it where it beats the
target's best so far. Ties inside a level go to the edge that comes first in the index's order (near node,
far node, job; nodes ordered by dataset id, then id); the store walk applies the same rule, so both give
the same answers. A node is expanded once per level at most, and only in a level after its best path
improved.

Why numpy rather than scipy.sparse or rustworkx: a level is a handful of gathers, one ``maximum.at`` and
one ``minimum.at`` over the candidate edges; sparse matrix products cannot keep the best product with
its path, and rustworkx's traversals have no depth-bounded best-product walk, so using them would mean
copying the graph into their structures on every query (measured in ``bench/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowscope.edgeflags import DIRECT, INDIRECT


class Index:
    """The arrays of one walk index (see :mod:`flowscope.walkindex.build` for how they are made)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.ids = arrays["ids"]
        self.ds = arrays["ds"]
        self.dsets = arrays["dsets"]
        self.idx_of = arrays["idx_of"]
        self.doff = arrays["doff"]
        self.dfar = arrays["dfar"]
        self.dcode = arrays["dcode"]
        self.uoff = arrays["uoff"]
        self.upos = arrays["upos"]
        self.cconf = arrays["cconf"]
        self.cflag_off = arrays["cflag_off"]
        self.cflags = arrays["cflags"]
        self.bits = int(arrays["cls_bits"][0])
        self.n = len(self.ids)

    def idx(self, store_ids: np.ndarray) -> np.ndarray:
        """Index positions of store asset ids; -1 for assets the index does not hold (no edges yet)."""
        ids = np.asarray(store_ids, np.int64)
        inside = (ids >= 0) & (ids < len(self.idx_of))
        out = np.full(len(ids), -1, np.int64)
        out[inside] = self.idx_of[ids[inside]]
        return out

    def classes(self, min_conf: float, direct_only: bool, kinds: int) -> tuple[np.ndarray, np.ndarray]:
        """Per edge class: may a walk with these filters cross it, and the flags of its rows that pass."""
        ok = np.zeros(len(self.cconf), bool)
        passing = np.zeros(len(self.cconf), np.int64)
        off = self.cflag_off.tolist()
        flags = self.cflags.tolist()
        for c, conf in enumerate(self.cconf.tolist()):
            if conf < min_conf:
                continue
            mask = 0
            for f in flags[off[c] : off[c + 1]]:
                if direct_only and f & (DIRECT | INDIRECT) == INDIRECT:
                    continue
                if kinds and f and not f & kinds:
                    continue
                ok[c] = True
                mask |= f
            passing[c] = mask
        return ok, passing

    def group_end(self, datasets: np.ndarray) -> np.ndarray:
        """One past the last field of each dataset node (nodes of a dataset are one range)."""
        after = np.searchsorted(self.dsets, datasets, side="right")
        ends = np.full(len(datasets), self.n, np.int64)
        has = after < len(self.dsets)
        ends[has] = self.dsets[after[has]]
        return ends


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every integer of the half-open ranges [lo, hi), and which range each came from."""
    lo = lo.astype(np.int64)
    counts = hi.astype(np.int64) - lo
    which = np.repeat(np.arange(len(lo)), counts)
    if not len(which):
        return np.empty(0, np.int64), which
    starts = np.cumsum(counts) - counts
    return np.arange(len(which), dtype=np.int64) - starts[which] + lo[which], which


@dataclass
class Records:
    """Every best path found, as records in the order found (node ids are index positions): ``parent``
    is the record of the previous node's path at the time (-1 for starts), so paths are immutable chains."""

    node: np.ndarray
    conf: np.ndarray
    hops: np.ndarray
    job: np.ndarray
    near: np.ndarray
    parent: np.ndarray
    econf: np.ndarray
    eflags: np.ndarray
    reached: np.ndarray  # nodes whose best path the walk ends with (starts excluded)
    final: np.ndarray  # the record of each of them
    stopped: np.ndarray  # reached nodes (and starts) not walked through


def walk(
    ix: Index, starts: np.ndarray, down: bool, depth: int, filters: tuple[float, bool, int], stop: np.ndarray
) -> Records:
    """The level-synchronous best-product walk from ``starts`` (index positions); ``stop`` is a boolean
    mask of nodes reached but not walked through (a stopped dataset stops its fields)."""
    ok_cls, cls_kinds = ix.classes(*filters)
    n = ix.n
    off = ix.doff if down else ix.uoff
    mask = (1 << ix.bits) - 1
    starts = np.unique(starts)
    k = len(starts)
    recs: list[tuple[np.ndarray, ...]] = [
        (
            starts,
            np.ones(k),
            np.zeros(k, np.int64),
            np.full(k, -1, np.int64),
            np.full(k, -1, np.int64),
            np.full(k, -1, np.int64),
            np.ones(k),
            np.zeros(k, np.int64),
        )
    ]
    count = k
    is_start = np.zeros(n, bool)
    is_start[starts] = True
    best = np.empty(n)
    cur = np.empty(n, np.int64)
    best[starts] = 1.0
    cur[starts] = np.arange(k)
    stamp = np.zeros(n, np.int32)
    fconf = np.empty(n)
    frec = np.empty(n, np.int64)
    dconf = np.empty(n)
    dpred = np.empty(n, np.int64)
    lvl_max = np.empty(n)
    lvl_pos = np.empty(n, np.int64)
    found_mask = np.zeros(n, bool)
    halted = stop[starts] | stop[ix.ds[starts]]
    stopped = [starts[halted]]
    frontier = starts[~halted]
    found: list[np.ndarray] = []
    for level in range(1, depth + 1):
        if not len(frontier):
            break
        f = frontier
        stamp[f] = level
        fconf[f] = best[f]
        frec[f] = cur[f]
        ds_f = ix.ds[f].astype(np.int64)
        # The best frontier member of each dataset with one: what its dataset-level edges carry.
        run = np.ones(len(f), bool)
        run[1:] = ds_f[1:] != ds_f[:-1]
        heads = np.flatnonzero(run)
        top = np.maximum.reduceat(fconf[f], heads)
        run_id = np.cumsum(run) - 1
        at_top = np.flatnonzero(fconf[f] == top[run_id])
        firsts = at_top[np.r_[True, run_id[at_top][1:] != run_id[at_top][:-1]]]
        dconf[ds_f[heads]] = top
        dpred[ds_f[heads]] = f[firsts]
        # Nodes whose own edges this level reads: whole datasets, lone fields and their datasets' own edges.
        is_ds = ds_f == f
        group, _ = _ranges(f[is_ds], ix.group_end(f[is_ds]))
        lone = ~is_ds & (stamp[ds_f] != level)
        near_nodes = np.unique(np.concatenate([group, f[lone], ds_f[lone]]))
        pos, which = _ranges(off[near_nodes], off[near_nodes + 1])
        near = near_nodes[which]
        if down:
            edge = pos
            far = ix.dfar[edge].astype(np.int64)
        else:
            edge = ix.upos[pos]
            far = np.searchsorted(ix.doff, edge, side="right").astype(np.int64) - 1
        code = ix.dcode[edge].astype(np.int64)
        cls = code & mask
        keep = ok_cls[cls] & ~is_start[far]
        near, far, pos, code, cls = near[keep], far[keep], pos[keep], code[keep], cls[keep]
        near_ds = ix.ds[near].astype(np.int64)
        dataset_edge = near_ds == near
        own = np.where(stamp[near] == level, fconf[near], -1.0)
        via_ds = np.where(stamp[near_ds] == level, fconf[near_ds], -1.0)
        pred = np.where(dataset_edge, dpred[near], np.where(own >= via_ds, near, near_ds))
        pconf = np.where(dataset_edge, dconf[near], np.maximum(own, via_ds))
        cand = pconf * ix.cconf[cls]
        # Each target's best candidate; ties to the first edge in index order.
        lvl_max[far] = -1.0
        np.maximum.at(lvl_max, far, cand)
        win = np.flatnonzero(cand == lvl_max[far])
        lvl_pos[far[win]] = np.iinfo(np.int64).max
        np.minimum.at(lvl_pos, far[win], pos[win])
        pick = win[pos[win] == lvl_pos[far[win]]]
        t, c = far[pick], cand[pick]
        better = ~found_mask[t] | (best[t] < c)
        pick, t, c = pick[better], t[better], c[better]
        m = len(t)
        rec_ids = np.arange(count, count + m)
        recs.append(
            (
                t,
                c,
                np.full(m, level, np.int64),
                code[pick] >> ix.bits,
                near[pick],
                frec[pred[pick]],
                ix.cconf[cls[pick]],
                cls_kinds[cls[pick]],
            )
        )
        count += m
        best[t] = c
        cur[t] = rec_ids
        found_mask[t] = True
        found.append(t)
        halt = stop[t] | stop[ix.ds[t]]
        stopped.append(t[halt])
        frontier = np.sort(t[~halt])
    reached = np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)
    cols = [np.concatenate([r[i] for r in recs]) for i in range(8)]
    halted_all = np.unique(np.concatenate(stopped)) if stopped else np.empty(0, np.int64)
    node, conf, hops, job, near, parent, econf, eflags = cols
    return Records(node, conf, hops, job, near, parent, econf, eflags, reached, cur[reached], halted_all)


def best_path(
    ix: Index,
    source: int,
    targets: tuple[int, int, bool],
    filters: tuple[float, bool, int],
    stop: np.ndarray,
) -> list[tuple[int, int, int]] | None:
    """:func:`flowscope.graph.why` on the index: Dijkstra on ``-log(confidence)``, dataset-level hops
    counted as a second key, heap ties broken by store id, edges relaxed in index order. ``targets`` is
    (target node, its dataset, whether the target is a dataset). Returns the path's edge keys
    ``(job id, source id, target id)`` in store ids, or None."""
    import heapq
    import math

    ok_cls, _ = ix.classes(*filters)
    conf_of = ix.cconf.tolist()
    dst, dst_ds, dataset_target = targets
    ids, ds = ix.ids, ix.ds
    dist: dict[int, tuple[float, int]] = {source: (0.0, 0)}
    prev: dict[int, tuple[int, int, int, int]] = {}
    heap = [(0.0, 0, int(ids[source]), source)]
    done: set[int] = set()
    mask = (1 << ix.bits) - 1
    while heap:
        d, coarse, _, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        node_ds = int(ds[node])
        if node != source and (node in (dst, dst_ds) or (dataset_target and node_ds == dst_ds)):
            keys = []
            while node in prev:
                node, job, near, far = prev[node]
                keys.append((job, int(ids[near]), int(ids[far])))
            return keys[::-1]
        if node != source and (stop[node] or stop[node_ds]):
            continue
        if node_ds == node:
            nodes = np.arange(node, int(ix.group_end(np.array([node]))[0]))
        else:
            nodes = np.array([node_ds, node])
        pos, which = _ranges(ix.doff[nodes], ix.doff[nodes + 1])
        codes = ix.dcode[pos].astype(np.int64)
        for near, far, code in zip(nodes[which].tolist(), ix.dfar[pos].tolist(), codes.tolist(), strict=True):
            cls = code & mask
            if not ok_cls[cls] or far in done or conf_of[cls] <= 0.0:
                continue
            key = (d - math.log(conf_of[cls]), coarse + (int(ds[far]) == far))
            if key < dist.get(far, (math.inf, 0)):
                dist[far] = key
                prev[far] = (node, code >> ix.bits, near, far)
                heapq.heappush(heap, (key[0], key[1], int(ids[far]), far))
    return None
