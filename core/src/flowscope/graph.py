"""Lineage queries over the embedded store: downstream, upstream, why. Pure functions; nothing prints.

Nodes are datasets and fields. From a field node ``X.f`` a walk follows edges whose source is ``X.f`` and
dataset-level edges whose source is ``X`` (a dataset-level edge carries every field). From a dataset node
``X`` it follows edges from ``X`` and from every field of ``X``. Upstream is the mirror image. Pure reads
(edges without a target) are never walked; :meth:`flowscope.store.Store.reads` lists them.

A path's confidence is the product of its edges' confidences. ``min_confidence`` drops edges below it,
so every edge of a returned path is at least that confident.

A walk is level-synchronous: level k extends the best paths level k-1 found; a node is expanded again
only in a level after its best path improved. Inside a level, equally confident candidates for one asset
go to the edge first in the order (near dataset id, near id, far dataset id, far id, job id); across
levels the path found first (the shorter one) keeps an equal confidence.

``DEFAULT_DEPTH`` is 10 hops: enough for warehouse pipelines (raw -> staging -> marts -> exports -> logs
rarely exceeds 6-8 hops), and it bounds the work on dense graphs.

Walks and ``why`` run on the store's compact walk index (:mod:`flowscope.walkindex`: CSR arrays in a
memory-mapped file, a whole level per numpy operation), made or refreshed on first use after a write.
``FLOWSCOPE_WALK=store`` runs them on the store itself instead (one indexed query per level,
:mod:`flowscope.walkstore`): the reference the index is tested against, with the same answers.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flowscope.edgeflags import kinds_mask, kinds_of
from flowscope.errors import UserError
from flowscope.model import Asset, Edge
from flowscope.store import Store

DEFAULT_DEPTH = 10
WALK_ENV = "FLOWSCOPE_WALK"
Direction = Literal["down", "up"]


@dataclass(frozen=True)
class Step:
    """One edge of a path, in data-flow order. ``kinds``: the signal kinds of the edge's evidence (the
    union over the scopes that stored it and that pass the walk's filters; empty for rows written before
    the store kept them)."""

    job: tuple[str, str]
    source: Asset
    target: Asset
    confidence: float
    kinds: tuple[str, ...] = ()


class Tree:
    """The best paths of one walk as records (a record per path found, in the order found; its parent is
    the record of the previous node's path at the time), with the names of their assets and jobs. Every
    Reached of the walk points into it, so paths are built only when asked for."""

    def __init__(
        self,
        direction: Direction,
        columns: Sequence[list[Any]],
        assets: dict[int, Asset],
        jobs: dict[int, tuple[str, str]],
    ) -> None:
        self.direction = direction
        (self.node, self.conf, self.hops, self.job, self.near, self.parent, self.econf, self.eflags) = columns
        self.assets = assets
        self.jobs = jobs

    def step(self, rec: int) -> Step:
        near, far = self.assets[self.near[rec]], self.assets[self.node[rec]]
        src, dst = (near, far) if self.direction == "down" else (far, near)
        return Step(self.jobs[self.job[rec]], src, dst, self.econf[rec], _kinds(self.eflags[rec]))

    def chain(self, rec: int) -> list[int]:
        """The records of one path, from the reached asset back to its start (inclusive)."""
        out = [rec]
        while (rec := self.parent[rec]) >= 0:
            out.append(rec)
        return out


@dataclass(frozen=True)
class Reached:
    """An asset reached by a walk, with its best path (highest product of confidences within the depth)."""

    asset: Asset
    confidence: float
    hops: int
    via: tuple[str, str]  # the job next to this asset on the path: its writer downstream, its reader upstream
    _rec: int = field(repr=False, compare=False)
    _tree: Tree = field(repr=False, compare=False)

    @property
    def path(self) -> list[Step]:
        """The path's edges from source to target (built on demand: large walks need only the table)."""
        tree = self._tree
        steps = [tree.step(r) for r in tree.chain(self._rec)[:-1]]
        if tree.direction == "down":
            steps.reverse()
        return steps

    @property
    def parent(self) -> Asset | None:
        """The node before this asset on its best path (None right after a start): the best paths of a
        walk form a tree, and this is its parent pointer, so subtree sizes need no path per asset."""
        tree = self._tree
        prev = tree.parent[self._rec]
        if prev < 0 or tree.parent[prev] < 0:
            return None
        return tree.assets[tree.node[prev]]

    @property
    def predecessor(self) -> Asset:
        """The asset before this one on its best path (the start after one hop): the best paths of a walk
        form a tree, and ``lineage --json`` prints it as these links, so its size grows with the assets
        reached, not with assets x depth."""
        tree = self._tree
        return tree.assets[tree.node[tree.parent[self._rec]]]

    @property
    def start(self) -> Asset:
        """The start its best path leaves from (a walk from many starts keeps the best one per asset)."""
        tree = self._tree
        return tree.assets[tree.node[tree.chain(self._rec)[-1]]]

    @property
    def last_step(self) -> Step:
        """The edge this asset is reached by on its best path (nearest the asset, in either direction)."""
        return self._tree.step(self._rec)


@functools.lru_cache(maxsize=1024)
def _kinds(flags: int) -> tuple[str, ...]:
    return tuple(kinds_of(flags))


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


def _use_index() -> bool:
    return os.environ.get(WALK_ENV, "index") != "store"


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
    ids = dict(_start_ids(store, a) for a in starts)
    stops = dict(store.lookup_many(options.stop_at).values())
    filters = (options.min_confidence, options.direct_only, kinds_mask(options.kinds))
    if _use_index():
        from flowscope.walkindex import walk_records

        columns, final, stopped, nodes = walk_records(
            store, ids, direction == "down", options.depth, filters, stops
        )
    else:
        from flowscope import walkstore

        columns, final, stopped = walkstore.walk(
            store, ids, direction == "down", options.depth, filters, set(stops)
        )
        # A step's near end need not be on the node chain: a field's edge taken from its dataset node's path.
        nodes = set(final) | {n for n in columns[4] if n >= 0}
    nodes |= set(ids)
    tree = Tree(
        direction, columns, store.assets_by_id(nodes), store.jobs_by_id({j for j in columns[3] if j >= 0})
    )
    reached = [
        Reached(tree.assets[n], round(columns[1][r], 6), columns[2][r], tree.jobs[columns[3][r]], r, tree)
        for n, r in final.items()
    ]
    reached.sort(key=lambda r: (-r.confidence, r.hops, r.asset.id))
    halted = frozenset(tree.assets[n] for n in stopped if n in tree.assets)
    return Traversal(
        starts[0], direction, options.depth, options.min_confidence, reached, tuple(starts), halted
    )


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
        tree = r._tree
        down = tree.direction == "down"
        # edge keys (job, source id, target id), from the reached asset back to the start
        keys = [
            (tree.job[x], tree.near[x], tree.node[x]) if down else (tree.job[x], tree.node[x], tree.near[x])
            for x in tree.chain(r._rec)[:-1]
        ]
        if down:
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
    also by any of its fields, and for a field target also by a dataset-level edge into its dataset. Among
    equally confident paths the one that stays at field level (fewer dataset-level nodes) is the more
    specific explanation. ``options`` (depth aside) limits the edges crossed and the assets walked through
    as in :func:`walk_many`.
    """
    opts = options or WalkOptions(min_confidence=min_confidence)
    opts.check()
    filters = (opts.min_confidence, opts.direct_only, kinds_mask(opts.kinds))
    stops = dict(store.lookup_many(opts.stop_at).values())
    src = _start_ids(store, source)
    dst_id, dst_ds = _start_ids(store, target)
    if src[0] == dst_id:
        raise UserError(f"source and target are the same asset ({source.id})")
    targets = (dst_id, dst_ds, target.field is None)
    if _use_index():
        from flowscope.walkindex import path_keys

        keys = path_keys(store, src, targets, filters, stops)
    else:
        from flowscope import walkstore

        keys = walkstore.best_path(store, src, targets, filters, set(stops))
    if keys is None:
        return None
    edges = store.edges_by_ids(keys)
    return Explanation(source, target, round(math.prod(e.confidence for e in edges), 6), edges)
