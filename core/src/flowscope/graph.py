"""Lineage queries over the embedded store: downstream, upstream, why. Pure functions; nothing prints.

Nodes are datasets and fields. From a field node ``X.f`` a walk follows edges whose source is ``X.f`` and
dataset-level edges whose source is ``X`` (a dataset-level edge carries every field). From a dataset node
``X`` it follows edges from ``X`` and from every field of ``X``. Upstream is the mirror image. Pure reads
(edges without a target) are never walked; :meth:`flowscope.store.Store.reads` lists them.

A path's confidence is the product of its edges' confidences. ``min_confidence`` drops edges below it,
so every edge of a returned path is at least that confident.

``DEFAULT_DEPTH`` is 10 hops: enough for warehouse pipelines (raw -> staging -> marts -> exports -> logs
rarely exceeds 6-8 hops), and it bounds the work on dense graphs. Each BFS level is one indexed store
query for the whole frontier, so a depth-10 walk costs at most ten queries.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal, Optional

from flowscope.errors import UserError
from flowscope.model import Asset, Edge
from flowscope.store import AdjacencyRow, Store

DEFAULT_DEPTH = 10
Direction = Literal["down", "up"]

# A node's best path as an immutable chain: (confidence, hops, node, job_id, near, far, previous), where
# near/far are the last edge's ends as seen from the start (source/target going down, target/source up).
# Chains are shared and never mutated, so a path stays correct when its prefix node later finds a better
# (but longer) path of its own.
Link = tuple[float, int, int, int, int, int, Optional["Link"]]


@dataclass(frozen=True)
class Step:
    """One edge of a path, in data-flow order."""

    job: tuple[str, str]
    source: Asset
    target: Asset
    confidence: float


@dataclass(frozen=True)
class Reached:
    """An asset reached by a walk, with its best path (highest product of confidences within the depth)."""

    asset: Asset
    confidence: float
    hops: int
    via: tuple[str, str]  # the job next to this asset on the path: its writer downstream, its reader upstream
    _link: Link = field(repr=False, compare=False)
    _names: _Names = field(repr=False, compare=False)

    @property
    def path(self) -> list[Step]:
        """The path's edges from source to target (built on demand: large walks need only the table)."""
        names = self._names
        steps = []
        link: Link | None = self._link
        while link is not None and link[6] is not None:
            _, _, _, job, near, far, link = link
            src, dst = (near, far) if names.direction == "down" else (far, near)
            steps.append(
                Step(names.jobs[job], names.assets[src], names.assets[dst], names.edge_conf[(job, near, far)])
            )
        if names.direction == "down":
            steps.reverse()
        return steps


@dataclass
class _Names:
    """Ids of one walk turned into names, shared by all its Reached."""

    direction: Direction
    assets: dict[int, Asset]
    jobs: dict[int, tuple[str, str]]
    edge_conf: dict[tuple[int, int, int], float]


@dataclass(frozen=True)
class Traversal:
    start: Asset
    direction: Direction
    depth: int
    min_confidence: float
    reached: list[Reached]


def _start_ids(store: Store, asset: Asset) -> tuple[int, int]:
    ids = store.lookup(asset)
    if ids is None:
        raise UserError(f"unknown asset {asset.id}")
    return ids


def _applies(node: int, node_ds: int, here: int, here_ds: int) -> bool:
    """Does an edge touching ``here`` (in dataset ``here_ds``) leave from / arrive at ``node``?"""
    return node in (node_ds, here) or here == here_ds


def walk(
    store: Store,
    start: Asset,
    direction: Direction,
    depth: int = DEFAULT_DEPTH,
    min_confidence: float = 0.0,
) -> Traversal:
    """Every asset within ``depth`` hops of ``start``, each with its most confident path."""
    if depth < 1:
        raise UserError(f"depth must be at least 1, got {depth}")
    if not 0.0 <= min_confidence <= 1.0:
        raise UserError(f"min confidence must be between 0 and 1, got {min_confidence}")
    start_id, start_ds = _start_ids(store, start)
    best: dict[int, Link] = {start_id: (1.0, 0, start_id, 0, 0, 0, None)}
    ds_of = {start_id: start_ds}
    frontier = {start_id}
    edge_conf: dict[tuple[int, int, int], float] = {}
    for _ in range(depth):
        if not frontier:
            break
        # A snapshot: this level extends the paths the previous level found.
        snap = {n: best[n] for n in frontier}
        by_ds: dict[int, list[Link]] = defaultdict(list)
        for n in frontier:
            by_ds[ds_of[n]].append(snap[n])
        frontier = set()
        for here, here_ds, there, there_ds, conf, job in store.adjacent(
            [(n, ds_of[n]) for n in snap], direction, min_confidence
        ):
            if there == start_id:
                continue
            if here == here_ds:  # a dataset-level edge leaves every node of its dataset
                links = by_ds[here_ds]
            else:  # a field edge leaves that field and the dataset node
                links = [link for link in (snap.get(here), snap.get(here_ds)) if link is not None]
            for link in links:
                cand = link[0] * conf
                cur = best.get(there)
                if cur is None or cand > cur[0]:
                    best[there] = (cand, link[1] + 1, there, job, here, there, link)
                    ds_of[there] = there_ds
                    edge_conf[(job, here, there)] = conf
                    frontier.add(there)
    del best[start_id]
    names = _names(store, direction, best, edge_conf)
    reached = [
        Reached(names.assets[n], round(link[0], 6), link[1], names.jobs[link[3]], link, names)
        for n, link in best.items()
    ]
    reached.sort(key=lambda r: (-r.confidence, r.hops, r.asset.id))
    return Traversal(start, direction, depth, min_confidence, reached)


def _names(
    store: Store, direction: Direction, best: dict[int, Link], edge_conf: dict[tuple[int, int, int], float]
) -> _Names:
    # Chains may pass through a node whose own best path changed later; edge_conf still has its edges.
    asset_ids = set(best)
    asset_ids.update(a for k in edge_conf for a in k[1:])
    jobs = store.jobs_by_id({k[0] for k in edge_conf})
    return _Names(direction, store.assets_by_id(asset_ids), jobs, edge_conf)


def downstream(
    store: Store, asset: Asset, depth: int = DEFAULT_DEPTH, min_confidence: float = 0.0
) -> Traversal:
    """Where data of ``asset`` can go within ``depth`` hops."""
    return walk(store, asset, "down", depth, min_confidence)


def upstream(
    store: Store, asset: Asset, depth: int = DEFAULT_DEPTH, min_confidence: float = 0.0
) -> Traversal:
    """Where data in ``asset`` can come from within ``depth`` hops."""
    return walk(store, asset, "up", depth, min_confidence)


@dataclass(frozen=True)
class Explanation:
    """The most confident path from ``source`` to ``target``: every edge with its job, evidence and score."""

    source: Asset
    target: Asset
    confidence: float
    edges: list[Edge]


def why(store: Store, source: Asset, target: Asset, min_confidence: float = 0.0) -> Explanation | None:
    """The path from ``source`` to ``target`` with the highest product of confidences, or None.

    Dijkstra on ``-log(confidence)``. ``target`` is reached by the target node itself; for a dataset target
    also by any of its fields, and for a field target also by a dataset-level edge into its dataset.
    """
    src_id, src_ds = _start_ids(store, source)
    dst_id, dst_ds = _start_ids(store, target)
    if src_id == dst_id:
        raise UserError(f"source and target are the same asset ({source.id})")
    target_is_dataset = target.field is None

    def is_target(node: int, node_ds: int) -> bool:
        return node in (dst_id, dst_ds) or (target_is_dataset and node_ds == dst_ds)

    # Keys are (-log confidence, dataset-level nodes passed): among equally confident paths the one that
    # stays at field level is the more specific explanation.
    dist: dict[int, tuple[float, int]] = {src_id: (0.0, 0)}
    prev: dict[int, tuple[int, tuple[int, int, int]]] = {}
    ds_of = {src_id: src_ds}
    adjacency: dict[int, list[AdjacencyRow]] = {}  # per node: fields of one dataset share nothing
    heap = [(0.0, 0, src_id)]
    done: set[int] = set()
    while heap:
        d, coarse, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        node_ds = ds_of[node]
        if node != src_id and is_target(node, node_ds):
            return _explain(store, source, target, node, prev)
        if node not in adjacency:
            adjacency[node] = store.adjacent([(node, node_ds)], "down", min_confidence)
        for e_src, _, e_dst, e_dst_ds, conf, job in adjacency[node]:
            if conf <= 0.0 or e_dst in done or not _applies(node, node_ds, e_src, node_ds):
                continue
            key = (d - math.log(conf), coarse + (e_dst == e_dst_ds))
            if key < dist.get(e_dst, (math.inf, 0)):
                dist[e_dst] = key
                prev[e_dst] = (node, (job, e_src, e_dst))
                ds_of[e_dst] = e_dst_ds
                heapq.heappush(heap, (*key, e_dst))
    return None


def _explain(
    store: Store, source: Asset, target: Asset, end: int, prev: dict[int, tuple[int, tuple[int, int, int]]]
) -> Explanation:
    keys = []
    node = end
    while node in prev:
        node, key = prev[node]
        keys.append(key)
    keys.reverse()
    edges = store.edges_by_ids(keys)
    return Explanation(source, target, round(math.prod(e.confidence for e in edges), 6), edges)
