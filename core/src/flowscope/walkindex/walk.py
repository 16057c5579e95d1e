"""Walks and best paths on the walk index, a whole BFS level at a time in numpy.

The rules are those of :mod:`flowscope.graph` (its docstring), applied to arrays instead of rows: a level
gathers every edge leaving the frontier (a dataset node's range covers its fields' edges), picks each
edge's best frontier predecessor, then each target's best candidate, and keeps it where it beats the
target's best so far. Ties inside a level go to the edge that comes first in the index's order (near node,
far node, job; nodes ordered by dataset id, then id); the store walk applies the same rule, so both give
the same answers. A node is expanded once per level at most, and only in a level after its best path
improved.

Why numpy rather than scipy.sparse, rustworkx or a compiled kernel: a level is about twenty whole-array
operations over the frontier's edges (gathers, one ``fmax.at``, one ``minimum.at``), so a wide walk (500k
edges, ~97k nodes reached, ~600k candidate edges over its levels) costs ~55 ms of CPU; sparse matrix
products cannot keep the best product with its path, rustworkx's traversals have no depth-bounded
best-product walk (using them would mean copying the graph into their structures on every query), and a
compiled kernel would add a build step or a JIT (numba: a second of compiling, half a second of import
on a cold CLI) for what is left (measured in ``bench/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowscope.edgeflags import DIRECT, INDIRECT


def code_view(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The edge codes as an array of unsigned integers; three-byte codes (stored back to back, one byte
    of padding at the end) are read as overlapping little-endian uint32 whose top byte is masked off."""
    raw = arrays["dcode"]
    if int(arrays["code_bytes"][0]) != 3:
        return raw
    count = (len(raw) - 1) // 3
    return np.ndarray((count,), "<u4", buffer=raw, strides=(3,)) if count else np.empty(0, "<u4")


class Index:
    """The arrays of one walk index (see :mod:`flowscope.walkindex.build` for how they are made)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.ids = arrays["ids"]
        self.dback = arrays["dback"]
        self.dsets = arrays["dsets"]
        self.dset_ids = arrays["dset_ids"]
        self.doff = arrays["doff"]
        self.dfar = arrays["dfar"]
        self.dcode = code_view(arrays)
        self.code_mask = 0xFFFFFF if int(arrays["code_bytes"][0]) == 3 else -1
        self.uoff = arrays["uoff"]
        self.upos = arrays["upos"]
        self.cconf = arrays["cconf"]
        self.cflag_off = arrays["cflag_off"]
        self.cflags = arrays["cflags"]
        self.bits = int(arrays["cls_bits"][0])
        self.n = len(self.ids)
        self.pool: list[Scratch] = []  # walk state to reuse (list.pop/append are atomic: thread-safe)

    def scratch(self) -> Scratch:
        try:
            return self.pool.pop()
        except IndexError:
            return Scratch(self.n)

    def codes(self, edges: np.ndarray) -> np.ndarray:
        """The job and class code of edges (downstream positions), as int64."""
        out: np.ndarray = self.dcode[edges].astype(np.int64)
        if self.code_mask != -1:
            out &= self.code_mask
        return out

    def idx(self, store_ids: np.ndarray, ds_ids: np.ndarray) -> np.ndarray:
        """Index positions of store assets given as (id, dataset id); -1 for assets the index does not
        hold (no edges yet). Two binary searches on the mapped arrays (dataset ids, then the ids inside
        that dataset's range): a lookup reads a few pages, not an id-sized table."""
        ids = np.asarray(store_ids, np.int64)
        ds_ids = np.asarray(ds_ids, np.int64)
        out = np.full(len(ids), -1, np.int64)
        found = np.searchsorted(self.dset_ids, ds_ids)
        for i, (j, want) in enumerate(zip(found.tolist(), ids.tolist(), strict=True)):
            if j >= len(self.dsets) or int(self.dset_ids[j]) != int(ds_ids[i]):
                continue
            lo = int(self.dsets[j])
            hi = int(self.dsets[j + 1]) if j + 1 < len(self.dsets) else self.n
            at = lo + int(np.searchsorted(self.ids[lo:hi], want))
            if at < hi and int(self.ids[at]) == want:
                out[i] = at
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

    def ds_of(self, nodes: np.ndarray) -> np.ndarray:
        """The dataset node of each node (positions, int64): its distance back to it is stored in a
        byte; 255 means "that far or farther", looked up among the dataset positions."""
        nodes = np.asarray(nodes, np.int64)
        back = self.dback[nodes]
        out: np.ndarray = nodes - back
        far = np.flatnonzero(back == 255)
        if len(far):
            out[far] = self.dsets[np.searchsorted(self.dsets, nodes[far], side="right") - 1]
        return out

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
    ix: Index,
    starts: np.ndarray,
    down: bool,
    depth: int,
    filters: tuple[float, bool, int],
    stop: np.ndarray | None,
) -> Records:
    """The level-synchronous best-product walk from ``starts`` (index positions); ``stop`` is a boolean
    mask of nodes reached but not walked through (a stopped dataset stops its fields), None for none.

    Per level, work is proportional to the frontier's edges, in about twenty whole-array operations:
    each near node's predecessor and confidence are settled once (not once per edge) and repeated over
    its edge range; a class the filters reject has confidence -inf, so its candidates never win and no
    per-edge filtering is needed; each target keeps its best candidate (``fmax.at``, then the first edge
    in index order among equal ones with ``minimum.at``). Per-node state comes from a pool kept on the
    index and is cleaned after the walk where it was written, so a walk costs what it touches, not the
    size of the graph."""
    ok_cls, cls_kinds = ix.classes(*filters)
    # fmax, not maximum: 0 * -inf (a zero-confidence path on a rejected class) is NaN, which fmax ignores.
    ceff = np.where(ok_cls, ix.cconf, -np.inf)
    off = ix.doff if down else ix.uoff
    mask = (1 << ix.bits) - 1
    starts = _sorted_unique(np.asarray(starts, np.int64))
    k = len(starts)
    s = ix.scratch()
    s.is_start[starts] = True
    s.best[starts] = 1.0
    s.cur[starts] = np.arange(k)
    cols: list[list[np.ndarray]] = [[starts], [np.ones(k)], [np.zeros(k, np.int64)]]
    cols += [[np.full(k, -1, np.int64)] for _ in range(3)]  # code, near, parent
    count = k
    halted = _halts(ix, stop, starts)
    stopped = [starts[halted]]
    frontier = starts[~halted]
    with np.errstate(invalid="ignore"):
        for level in range(1, depth + 1):
            if not len(frontier):
                break
            near, pred, pconf = _near_nodes(ix, s, frontier, level, off)
            lo = off[near].astype(np.int64)
            cnt = off[near + 1].astype(np.int64) - lo
            ends = np.cumsum(cnt)
            total = int(ends[-1]) if len(ends) else 0
            if not total:
                break
            pos = np.repeat(lo - (ends - cnt), cnt)
            pos += np.arange(total, dtype=np.int64)
            if down:
                edge = pos
                far = ix.dfar[pos].astype(np.int64)
            else:
                edge = ix.upos[pos].astype(np.int64)
                far = np.searchsorted(ix.doff, edge, side="right").astype(np.int64) - 1
            code = ix.codes(edge)
            cand = np.repeat(pconf, cnt)
            cand *= ceff[code & mask]
            # Each target's best candidate; ties to the first edge in index order.
            s.lvl_max[far] = -1.0
            np.fmax.at(s.lvl_max, far, cand)
            win = np.flatnonzero(cand == s.lvl_max[far])
            far_w, pos_w = far[win], pos[win]
            s.lvl_pos[far_w] = np.iinfo(np.int64).max
            np.minimum.at(s.lvl_pos, far_w, pos_w)
            pick = win[pos_w == s.lvl_pos[far_w]]
            t, c = far[pick], cand[pick]
            better = ~s.is_start[t] & (~s.found[t] | (s.best[t] < c))
            pick, t, c = pick[better], t[better], c[better]
            m = len(t)
            w = np.searchsorted(ends, pick, side="right")
            for col, value in zip(
                cols,
                (t, c, np.full(m, level, np.int64), code[pick], near[w], s.cur[pred[w]]),
                strict=True,
            ):
                col.append(value)
            s.best[t] = c
            s.cur[t] = np.arange(count, count + m)
            s.found[t] = True
            count += m
            halt = _halts(ix, stop, t)
            stopped.append(t[halt])
            frontier = np.sort(t[~halt])
    node, conf, hops, code, near_col, parent = (np.concatenate(c) for c in cols)
    reached = _sorted_unique(node[k:])
    final = s.cur[reached]
    s.release(node)
    ix.pool.append(s)
    real = code >= 0
    cls = np.where(real, code & mask, 0)
    job = np.where(real, code >> ix.bits, -1)
    econf = np.where(real, ix.cconf[cls], 1.0)
    eflags = np.where(real, cls_kinds[cls], 0)
    halted_all = _sorted_unique(np.concatenate(stopped))
    return Records(node, conf, hops, job, near_col, parent, econf, eflags, reached, final, halted_all)


def _halts(ix: Index, stop: np.ndarray | None, nodes: np.ndarray) -> np.ndarray:
    if stop is None:
        return np.zeros(len(nodes), bool)
    out: np.ndarray = stop[nodes] | stop[ix.ds_of(nodes)]
    return out


class Scratch:
    """One walk's per-node state. Only entries the walk wrote are read, so the value arrays are never
    cleared; the flags are reset where the walk set them (:meth:`release`) and the arrays reused."""

    def __init__(self, n: int) -> None:
        self.is_start = np.zeros(n, bool)
        self.found = np.zeros(n, bool)
        self.stamp = np.zeros(n, np.int32)  # the level a node was last in the frontier
        self.best = np.empty(n)  # best confidence so far
        self.cur = np.empty(n, np.int64)  # its record
        self.dconf = np.empty(n)  # per dataset node: its best frontier member's confidence this level
        self.dpred = np.empty(n, np.int64)  # ... and that member
        self.lvl_max = np.empty(n)  # per target: the best candidate this level
        self.lvl_pos = np.empty(n, np.int64)  # ... and the first edge giving it

    def release(self, touched: np.ndarray) -> None:
        """Clear the flags of every node the walk recorded (starts included): all it ever set."""
        self.is_start[touched] = False
        self.found[touched] = False
        self.stamp[touched] = 0


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique for integers, by a sort (numpy's default hashes, several times slower here)."""
    if len(values) < 2:
        return values.copy()
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]]


def _near_nodes(ix: Index, s: Scratch, f: np.ndarray, level: int, off: np.ndarray) -> tuple[np.ndarray, ...]:
    """The nodes whose own edges a level reads from frontier ``f`` (sorted positions) — whole datasets
    for dataset nodes, a lone field and its dataset node otherwise — with the frontier node each edge of
    theirs continues (its predecessor) and that node's confidence."""
    s.stamp[f] = level
    fc = s.best[f]
    ds_f = ix.ds_of(f)
    is_ds = ds_f == f
    run = np.ones(len(f), bool)
    run[1:] = ds_f[1:] != ds_f[:-1]
    heads = np.flatnonzero(run)
    heads_ds = ds_f[heads]
    if not is_ds.any():
        # Fields only: each carries its own edges; its dataset node carries the dataset's, if it has any.
        with_edges = off[heads_ds + 1] > off[heads_ds]
        if not with_edges.any():
            return f, f, fc
    # The best frontier member of each dataset with one (ds_f is sorted: nodes are ordered by dataset):
    # what its dataset-level edges carry; ties to the first, the dataset node itself or the lowest id.
    top = np.maximum.reduceat(fc, heads)
    run_id = np.cumsum(run) - 1
    at_top = np.flatnonzero(fc == top[run_id])
    firsts = at_top[np.r_[True, run_id[at_top][1:] != run_id[at_top][:-1]]]
    s.dconf[heads_ds] = top
    s.dpred[heads_ds] = f[firsts]
    lone = ~is_ds & (s.stamp[ds_f] != level)
    lone_ds = ds_f[lone]
    lone_ds = lone_ds[np.r_[True, lone_ds[1:] != lone_ds[:-1]]] if len(lone_ds) else lone_ds
    group, _ = _ranges(f[is_ds], ix.group_end(f[is_ds]))
    near = np.concatenate([group, f[lone], lone_ds])
    near_ds = ix.ds_of(near)
    dataset_node = near_ds == near
    own = np.where(s.stamp[near] == level, s.best[near], -1.0)
    via = np.where(s.stamp[near_ds] == level, s.best[near_ds], -1.0)
    pred = np.where(dataset_node, s.dpred[near], np.where(own >= via, near, near_ds))
    pconf = np.where(dataset_node, s.dconf[near], np.maximum(own, via))
    return near, pred, pconf


def best_path(
    ix: Index,
    source: int,
    targets: tuple[int, int, bool],
    filters: tuple[float, bool, int],
    stop: np.ndarray | None,
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
    ids = ix.ids
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
        node_ds = int(ix.ds_of(np.array([node]))[0])
        if node != source and (node in (dst, dst_ds) or (dataset_target and node_ds == dst_ds)):
            keys = []
            while node in prev:
                node, job, near, far = prev[node]
                keys.append((job, int(ids[near]), int(ids[far])))
            return keys[::-1]
        if node != source and stop is not None and (stop[node] or stop[node_ds]):
            continue
        if node_ds == node:
            nodes = np.arange(node, int(ix.group_end(np.array([node]))[0]))
        else:
            nodes = np.array([node_ds, node])
        pos, which = _ranges(ix.doff[nodes], ix.doff[nodes + 1])
        codes = ix.codes(pos)
        fars = ix.dfar[pos].astype(np.int64)
        far_is_ds = (ix.ds_of(fars) == fars).tolist()
        for near, far, code, is_ds in zip(
            nodes[which].tolist(), fars.tolist(), codes.tolist(), far_is_ds, strict=True
        ):
            cls = code & mask
            if not ok_cls[cls] or far in done or conf_of[cls] <= 0.0:
                continue
            key = (d - math.log(conf_of[cls]), coarse + is_ds)
            if key < dist.get(far, (math.inf, 0)):
                dist[far] = key
                prev[far] = (node, code >> ix.bits, near, far)
                heapq.heappush(heap, (key[0], key[1], int(ids[far]), far))
    return None
