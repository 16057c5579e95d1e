"""The graph the page draws: a bounded neighbourhood built from core's walks, never a walk of its own.

``neighbourhood`` calls :func:`flowscope.graph.walk_many` (down, up, or both) and turns its best-path tree
into at most ``limit`` nodes: the nearest and most confident assets are shown, and everything else is
folded into one "N more" group node per shown asset it hangs under (its nearest shown ancestor on the
best-path tree), so a hub with 50,000 descendants costs the browser one node. A group expands on click by
asking for the neighbourhood of the asset it hangs under. Edges are the tree's own edges (each shown
asset's best-path hop, re-attached to shown ends) plus the stored edges between shown assets, read in one
:meth:`flowscope.store.Store.adjacent` call, so a diamond shows both of its paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from flowscope import graph
from flowscope.graph import Reached, WalkOptions
from flowscope.model import Asset
from flowscope.neighbourhood import stored_between
from flowscope.store import Store

Direction = Literal["down", "up", "both"]
MAX_NODES = 300


@dataclass(frozen=True)
class Filters:
    """What a neighbourhood may show. ``namespaces``: keep assets whose namespace starts with one of these
    (``hive://`` keeps every Hive metastore); ``categories``: keep assets tagged ``data_category:<c>``
    (or a sub-category), or whose dataset is. Both filter what the walk found; they do not change the walk."""

    namespaces: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def keeps(self, asset: Asset, tags: dict[Asset, tuple[str, ...]]) -> bool:
        if self.namespaces and not asset.namespace.startswith(self.namespaces):
            return False
        if self.categories:
            own = (*tags.get(asset, ()), *tags.get(asset.dataset, ()))
            cats = [t.removeprefix("data_category:") for t in own if t.startswith("data_category:")]
            return any(c == want or c.startswith(want + ".") for c in cats for want in self.categories)
        return True


def label(a: Asset) -> str:
    return f"{a.name}#{a.field}" if a.field else a.name


def node_json(a: Asset, **extra: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "label": label(a),
        "namespace": a.namespace,
        "name": a.name,
        "field": a.field,
        "kind": "field" if a.field else "dataset",
        **extra,
    }


@dataclass
class _Hop:
    source: str
    target: str
    confidence: float
    kinds: set[str]
    jobs: set[tuple[str, str]]

    def to_json(self) -> dict[str, Any]:
        kinds = sorted(self.kinds)
        return {
            "id": f"{self.source}->{self.target}",
            "source": self.source,
            "target": self.target,
            "confidence": round(self.confidence, 6),
            "kinds": kinds,
            "static_only": kinds == ["static"],
            "jobs": [{"namespace": ns, "name": n} for ns, n in sorted(self.jobs)],
        }


def _walks(
    store: Store, start: Asset, direction: Direction, options: WalkOptions
) -> list[tuple[str, Reached]]:
    out: list[tuple[str, Reached]] = []
    for d in ("down", "up"):
        if direction in (d, "both"):
            t = graph.walk_many(store, [start], d, options)
            out.extend((d, r) for r in t.reached)
    # nearest first, then most confident (the walk's own order breaks ties): what a person looks at first
    # is what stays unfolded
    out.sort(key=lambda dr: (dr[1].hops, -dr[1].confidence))
    return out


def neighbourhood(
    store: Store,
    start: Asset,
    direction: Direction,
    options: WalkOptions,
    filters: Filters,
    tags: dict[Asset, tuple[str, ...]],
    limit: int = MAX_NODES,
) -> dict[str, Any]:
    """Nodes, edges and "N more" groups around ``start`` (at most ``limit`` nodes in all)."""
    limit = max(2, min(limit, MAX_NODES))
    found = [(d, r) for d, r in _walks(store, start, direction, options) if filters.keeps(r.asset, tags)]
    best: dict[Asset, tuple[str, Reached]] = {}
    for d, r in found:  # an asset both up- and downstream (a cycle) is shown once, on its nearer side
        best.setdefault(r.asset, (d, r))
    ordered = list(best.values())
    # The best-path tree on integer positions (-1: the start), so folding is integer work only.
    position = {r.asset: i for i, (_, r) in enumerate(ordered)}
    parent_of = [position.get(p, -1) if (p := r.parent) is not None else -1 for _, r in ordered]

    def anchor_of(i: int, keep: int, memo: dict[int, int]) -> int:
        """The nearest shown position above ``i`` on the tree (-1, the start, at the latest)."""
        trail: list[int] = []
        j = parent_of[i]
        while j >= keep and j not in memo and len(trail) < 64:
            trail.append(j)
            j = parent_of[j]
        top = memo.get(j, j) if j >= keep else j
        top = top if top < keep else -1
        for t in trail:
            memo[t] = top
        return top

    def fold(keep: int) -> dict[tuple[str, int], list[int]]:
        memo: dict[int, int] = {}
        groups: dict[tuple[str, int], list[int]] = {}
        for i in range(keep, len(ordered)):
            groups.setdefault((ordered[i][0], anchor_of(i, keep, memo)), []).append(i)
        return groups

    # The most assets shown whose groups still fit the budget: a binary search (each try is one pass
    # over what was reached), since every shown asset may add a group of its own.
    lo, hi = 0, min(len(ordered), limit - 1)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid + 1 + len(fold(mid)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    keep = lo
    groups = fold(keep)
    memo: dict[int, int] = {}
    shown = {start, *(r.asset for _, r in ordered[:keep])}

    def asset_at(i: int) -> Asset:
        return start if i < 0 else ordered[i][1].asset

    nodes = [node_json(start, start=True, hops=0, confidence=1.0, direction="start")]
    hops: dict[tuple[str, str], _Hop] = {}

    def add_hop(src: Asset, dst: Asset, conf: float, kinds: Iterable[str], job: tuple[str, str]) -> None:
        key = (src.id, dst.id)
        h = hops.get(key)
        if h is None:
            hops[key] = _Hop(src.id, dst.id, conf, set(kinds), {job})
        else:
            h.confidence = max(h.confidence, conf)
            h.kinds.update(kinds)
            h.jobs.add(job)

    for d, r in ordered[:keep]:
        nodes.append(node_json(r.asset, hops=r.hops, confidence=r.confidence, direction=d))
        step = r.last_step
        near = asset_at(anchor_of(position[r.asset], keep, memo))
        src, dst = (near, r.asset) if d == "down" else (r.asset, near)
        add_hop(src, dst, step.confidence, step.kinds, step.job)
    for src, dst, conf, kinds, job in stored_between(store, shown, options):  # second paths into a node
        add_hop(src, dst, conf, kinds, job)
    group_nodes = []
    for (d, at), positions in sorted(groups.items(), key=lambda kv: (kv[0][0], asset_at(kv[0][1]).id)):
        anchor = asset_at(at)
        members = [ordered[i][1] for i in positions]
        gid = f"more:{d}:{anchor.id}"
        group_nodes.append(
            {
                "id": gid,
                "label": f"{len(members)} more",
                "group": True,
                "count": len(members),
                "anchor": anchor.id,
                "direction": d,
                "sample": [m.asset.id for m in members[:5]],
            }
        )
        ends = (anchor.id, gid) if d == "down" else (gid, anchor.id)
        hops[ends] = _Hop(ends[0], ends[1], max(m.confidence for m in members), set(), set())
    return {
        "start": start.id,
        "direction": direction,
        "depth": options.depth,
        "reached": len(best),
        "shown": len(nodes),
        "folded": len(best) - (len(nodes) - 1),
        "nodes": nodes + group_nodes,
        "edges": [h.to_json() for h in hops.values()],
    }
