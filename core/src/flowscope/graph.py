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

import functools
import heapq
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Optional

from flowscope.edgeflags import kinds_mask, kinds_of
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
    """One edge of a path, in data-flow order. ``kinds``: the signal kinds of the edge's evidence (the
    union over the scopes that stored it; empty for rows written before the store kept them)."""

    job: tuple[str, str]
    source: Asset
    target: Asset
    confidence: float
    kinds: tuple[str, ...] = ()


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
        steps = []
        link: Link | None = self._link
        while link is not None and link[6] is not None:
            steps.append(self._names.step(link))
            link = link[6]
        if self._names.direction == "down":
            steps.reverse()
        return steps

    @property
    def parent(self) -> Asset | None:
        """The node before this asset on its best path (None right after a start): the best paths of a
        walk form a tree, and this is its parent pointer, so subtree sizes need no path per asset."""
        prev = self._link[6]
        if prev is None or prev[6] is None:
            return None
        return self._names.assets[prev[2]]

    @property
    def predecessor(self) -> Asset:
        """The asset before this one on its best path: the start it was reached from after one hop. The
        best paths of a walk form a tree; ``lineage --json`` prints it as these links, which keeps its
        size proportional to the assets reached instead of assets x depth."""
        prev = self._link[6]
        assert prev is not None, "a reached asset is never a start"
        return self._names.assets[prev[2]]

    @property
    def start(self) -> Asset:
        """The start its best path leaves from (a walk from many starts keeps the best one per asset)."""
        link = self._link
        while link[6] is not None:
            link = link[6]
        return self._names.assets[link[2]]

    @property
    def last_step(self) -> Step:
        """The edge this asset is reached by on its best path (nearest the asset, in either direction)."""
        return self._names.step(self._link)


@functools.lru_cache(maxsize=1024)
def _kinds(flags: int) -> tuple[str, ...]:
    return tuple(kinds_of(flags))


@dataclass
class _Names:
    """Ids of one walk turned into names, shared by all its Reached."""

    direction: Direction
    assets: dict[int, Asset]
    jobs: dict[int, tuple[str, str]]
    edge_conf: dict[tuple[int, int, int], float]
    edge_flags: dict[tuple[int, int, int], int]

    def step(self, link: Link) -> Step:
        _, _, _, job, near, far, _ = link
        src, dst = (near, far) if self.direction == "down" else (far, near)
        key = (job, near, far)
        return Step(
            self.jobs[job],
            self.assets[src],
            self.assets[dst],
            self.edge_conf[key],
            _kinds(self.edge_flags.get(key, 0)),
        )


@dataclass(frozen=True)
class WalkOptions:
    """What a walk may cross. The defaults walk everything within ``DEFAULT_DEPTH`` hops.

    ``min_confidence``: edges below it are not crossed. ``direct_only``: edges that carry only INDIRECT
    transformations (the value decides a filter, join or sort but is not moved) are not crossed.
    ``kinds``: only edges with evidence of one of these signal kinds are crossed (empty: all).
    ``stop_at``: assets that are reached but not walked through — a zone's excluded assets. A stopped
    dataset stops its fields too.
    """

    depth: int = DEFAULT_DEPTH
    min_confidence: float = 0.0
    direct_only: bool = False
    kinds: frozenset[str] = frozenset()
    stop_at: frozenset[Asset] = frozenset()

    def check(self) -> None:
        if self.depth < 1:
            raise UserError(f"depth must be at least 1, got {self.depth}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise UserError(f"min confidence must be between 0 and 1, got {self.min_confidence}")
        try:
            kinds_mask(self.kinds)
        except ValueError as exc:
            raise UserError(str(exc)) from None


@dataclass(frozen=True)
class Traversal:
    start: Asset
    direction: Direction
    depth: int
    min_confidence: float
    reached: list[Reached]
    starts: tuple[Asset, ...] = ()
    stopped: frozenset[Asset] = frozenset()  # reached assets the walk did not go through (``stop_at``)


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
    *,
    options: WalkOptions | None = None,
) -> Traversal:
    """Every asset within ``depth`` hops of ``start``, each with its most confident path."""
    opts = options or WalkOptions(depth=depth, min_confidence=min_confidence)
    return walk_many(store, [start], direction, opts)


def walk_many(store: Store, starts: Sequence[Asset], direction: Direction, options: WalkOptions) -> Traversal:
    """Every asset reachable from any of ``starts`` under ``options``, each with its most confident path
    (from whichever start gives the best one). Starts are not listed as reached."""
    options.check()
    if not starts:
        raise UserError("a walk needs at least one start asset")
    ids = [_start_ids(store, a) for a in starts]
    start_ids = {i for i, _ in ids}
    stop_ids = {i for i, _ in store.lookup_many(options.stop_at).values()}
    mask = kinds_mask(options.kinds)
    best: dict[int, Link] = {i: (1.0, 0, i, 0, 0, 0, None) for i, _ in ids}
    ds_of = dict(ids)
    frontier = {i for i, ds in ids if i not in stop_ids and ds not in stop_ids}
    stopped: set[int] = set(start_ids) - frontier
    edge_conf: dict[tuple[int, int, int], float] = {}
    edge_flags: dict[tuple[int, int, int], int] = {}
    for _ in range(options.depth):
        if not frontier:
            break
        # A snapshot: this level extends the paths the previous level found.
        snap = {n: best[n] for n in frontier}
        by_ds: dict[int, list[Link]] = defaultdict(list)
        for n in frontier:
            by_ds[ds_of[n]].append(snap[n])
        frontier = set()
        rows = store.adjacent(
            [(n, ds_of[n]) for n in snap],
            direction,
            options.min_confidence,
            direct_only=options.direct_only,
            kinds=mask,
        )
        for here, here_ds, there, there_ds, conf, job, flags in rows:
            if there in start_ids:
                continue
            key = (job, here, there)
            if key in edge_flags:  # another scope's row of an edge already on a path: its kinds count too
                edge_flags[key] |= flags
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
                    edge_conf[key] = conf
                    edge_flags[key] = edge_flags.get(key, 0) | flags
                    if there in stop_ids or there_ds in stop_ids:
                        stopped.add(there)
                    else:
                        frontier.add(there)
    names = _names(store, direction, best, edge_conf, edge_flags)  # starts included: Reached.start names them
    for i in start_ids:
        del best[i]
    reached = [
        Reached(names.assets[n], round(link[0], 6), link[1], names.jobs[link[3]], link, names)
        for n, link in best.items()
    ]
    reached.sort(key=lambda r: (-r.confidence, r.hops, r.asset.id))
    halted = frozenset(names.assets[n] for n in stopped if n in names.assets)
    return Traversal(
        starts[0], direction, options.depth, options.min_confidence, reached, tuple(starts), halted
    )


def _names(
    store: Store,
    direction: Direction,
    best: dict[int, Link],
    edge_conf: dict[tuple[int, int, int], float],
    edge_flags: dict[tuple[int, int, int], int],
) -> _Names:
    # Chains may pass through a node whose own best path changed later; edge_conf still has its edges.
    asset_ids = set(best)
    asset_ids.update(a for k in edge_conf for a in k[1:])
    jobs = store.jobs_by_id({k[0] for k in edge_conf})
    return _Names(direction, store.assets_by_id(asset_ids), jobs, edge_conf, edge_flags)


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


def path_edges(store: Store, reached: Sequence[Reached]) -> list[list[Edge]]:
    """The full edges (jobs, evidence, transformations) of each asset's best path, in data-flow order, read
    in one batch: what :func:`why` returns for one pair, for many assets of one walk at once (a zone's
    violations), without a search per asset."""
    per_asset: list[list[tuple[int, int, int]]] = []
    wanted: dict[tuple[int, int, int], None] = {}
    for r in reached:
        keys = []
        link: Link | None = r._link
        while link is not None and link[6] is not None:
            _, _, _, job, near, far, link = link
            keys.append((job, near, far) if r._names.direction == "down" else (job, far, near))
        if r._names.direction == "down":
            keys.reverse()
        per_asset.append(keys)
        wanted.update(dict.fromkeys(keys))
    order = list(wanted)
    loaded = dict(zip(order, store.edges_by_ids(order), strict=True))
    return [[loaded[k] for k in keys] for keys in per_asset]


@dataclass(frozen=True)
class Explanation:
    """The most confident path from ``source`` to ``target``: every edge with its job, evidence and score."""

    source: Asset
    target: Asset
    confidence: float
    edges: list[Edge]


def why(
    store: Store,
    source: Asset,
    target: Asset,
    min_confidence: float = 0.0,
    *,
    options: WalkOptions | None = None,
) -> Explanation | None:
    """The path from ``source`` to ``target`` with the highest product of confidences, or None.

    Dijkstra on ``-log(confidence)``. ``target`` is reached by the target node itself; for a dataset target
    also by any of its fields, and for a field target also by a dataset-level edge into its dataset.
    ``options`` (depth aside) limits the edges crossed and the assets walked through as in :func:`walk_many`.
    """
    opts = options or WalkOptions(min_confidence=min_confidence)
    opts.check()
    mask = kinds_mask(opts.kinds)
    stop_ids = {i for i, _ in store.lookup_many(opts.stop_at).values()}
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
        if node != src_id and (node in stop_ids or node_ds in stop_ids):
            continue
        if node not in adjacency:
            adjacency[node] = store.adjacent(
                [(node, node_ds)], "down", opts.min_confidence, direct_only=opts.direct_only, kinds=mask
            )
        for e_src, _, e_dst, e_dst_ds, conf, job, _flags in adjacency[node]:
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
