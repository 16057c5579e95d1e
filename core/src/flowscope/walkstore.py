"""Walks and best paths with one store query per BFS level (per node for ``why``): the reference the
walk index (:mod:`flowscope.walkindex`) is tested against, and what ``FLOWSCOPE_WALK=store`` uses.

Same rules and tie-breaks as the index (see :mod:`flowscope.walkindex.walk`): inside a level each target
keeps its most confident candidate, and among equal ones the edge first in the order (near dataset id,
near id, far dataset id, far id, job id); a field edge's predecessor is its own field unless the field's
dataset node is more confident, a dataset edge's is the most confident frontier node of that dataset
(the dataset node itself, then the lowest id, on ties).
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict

from flowscope.store import AdjacencyRow, Store

# One walk's records, in store ids: columns node, conf, hops, job, near, parent, edge conf, edge flags.
Columns = tuple[list[int], list[float], list[int], list[int], list[int], list[int], list[float], list[int]]


def _order(row: AdjacencyRow) -> tuple[int, int, int, int, int]:
    near, near_ds, far, far_ds, _, job, _ = row
    return (near_ds, near, far_ds, far, job)


def walk(
    store: Store,
    starts: dict[int, int],
    down: bool,
    depth: int,
    filters: tuple[float, bool, int],
    stop_ids: set[int],
) -> tuple[Columns, dict[int, int], set[int]]:
    """The level-synchronous walk from ``starts`` (id -> dataset id). Returns the records, each reached
    node's final record, and the stopped nodes."""
    min_conf, direct_only, kinds = filters
    cols: Columns = ([], [], [], [], [], [], [], [])

    def add(node: int, conf: float, hops: int, job: int, near: int, parent: int, ec: float, ef: int) -> int:
        for col, value in zip(cols, (node, conf, hops, job, near, parent, ec, ef), strict=True):
            col.append(value)  # type: ignore[attr-defined]
        return len(cols[0]) - 1

    ds_of = dict(starts)
    best: dict[int, int] = {n: add(n, 1.0, 0, -1, -1, -1, 1.0, 0) for n in sorted(starts)}
    confs = cols[1]
    stopped = {n for n, ds in starts.items() if n in stop_ids or ds in stop_ids}
    frontier = sorted(set(starts) - stopped)
    final: dict[int, int] = {}
    for level in range(1, depth + 1):
        if not frontier:
            break
        snap = {n: (confs[best[n]], best[n]) for n in frontier}
        members: dict[int, list[int]] = defaultdict(list)
        for n in frontier:
            members[ds_of[n]].append(n)
        top: dict[int, int] = {}
        for ds, nodes in members.items():
            top[ds] = max(sorted(nodes), key=lambda m: (snap[m][0], -(m != ds), -m))
        rows = store.adjacent(
            [(n, ds_of[n]) for n in frontier],
            "down" if down else "up",
            min_conf,
            direct_only=direct_only,
            kinds=kinds,
        )
        keys: dict[tuple[int, int, int], tuple[AdjacencyRow, int]] = {}
        for row in rows:  # rows of one key from several scopes: one edge, their flags together
            key = (row[5], row[0], row[2])
            seen = keys.get(key)
            keys[key] = (row, row[6] | (seen[1] if seen else 0))
        chosen: dict[int, tuple[float, tuple[int, int, int, int, int], AdjacencyRow, int, int]] = {}
        for row, flags in keys.values():
            near, near_ds, far, _, conf, _, _ = row
            if far in starts:
                continue
            if near == near_ds:
                pred = top[near_ds]
            else:
                own, via = snap.get(near), snap.get(near_ds)
                pred = near if own is not None and (via is None or own[0] >= via[0]) else near_ds
            cand = snap[pred][0] * conf
            order = _order(row)
            cur = chosen.get(far)
            if cur is None or cand > cur[0] or (cand == cur[0] and order < cur[1]):
                chosen[far] = (cand, order, row, pred, flags)
        frontier = []
        for far, (cand, _, row, pred, flags) in sorted(chosen.items()):
            had = best.get(far)
            if had is not None and not cand > confs[had]:
                continue
            ds_of[far] = row[3]
            best[far] = final[far] = add(far, cand, level, row[5], row[0], snap[pred][1], row[4], flags)
            if far in stop_ids or row[3] in stop_ids:
                stopped.add(far)
            else:
                frontier.append(far)
    return cols, final, stopped


def best_path(
    store: Store,
    source: tuple[int, int],
    targets: tuple[int, int, bool],
    filters: tuple[float, bool, int],
    stop_ids: set[int],
) -> list[tuple[int, int, int]] | None:
    """Dijkstra on ``-log(confidence)`` from ``source`` (id, dataset id) with a store query per settled
    node; see :func:`flowscope.walkindex.walk.best_path` for the rules. Edge keys in data-flow order."""
    min_conf, direct_only, kinds = filters
    src_id, src_ds = source
    dst_id, dst_ds, dataset_target = targets
    dist: dict[int, tuple[float, int]] = {src_id: (0.0, 0)}
    prev: dict[int, tuple[int, tuple[int, int, int]]] = {}
    ds_of = {src_id: src_ds}
    heap = [(0.0, 0, src_id)]
    done: set[int] = set()
    while heap:
        d, coarse, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        node_ds = ds_of[node]
        if node != src_id and (node in (dst_id, dst_ds) or (dataset_target and node_ds == dst_ds)):
            keys = []
            while node in prev:
                node, key = prev[node]
                keys.append(key)
            return keys[::-1]
        if node != src_id and (node in stop_ids or node_ds in stop_ids):
            continue
        rows = store.adjacent([(node, node_ds)], "down", min_conf, direct_only=direct_only, kinds=kinds)
        for e_src, _, e_dst, e_dst_ds, conf, job, _ in sorted(rows, key=_order):
            if conf <= 0.0 or e_dst in done:
                continue
            dist_key = (d - math.log(conf), coarse + (e_dst == e_dst_ds))
            if dist_key < dist.get(e_dst, (math.inf, 0)):
                dist[e_dst] = dist_key
                prev[e_dst] = (node, (job, e_src, e_dst))
                ds_of[e_dst] = e_dst_ds
                heapq.heappush(heap, (dist_key[0], dist_key[1], e_dst))
    return None
