"""A walk cut down to a picture a person can read: at most ``MAX_NODES`` nodes, the rest folded.

A walk from a hub reaches 100,000 assets; neither a browser nor a pull request's Mermaid block can draw
that. :func:`bounded` keeps the nearest and most confident assets of a walk (ordered by hops, then
confidence, then id) and folds every other one into one "N more" group per shown asset it hangs under: its
nearest shown ancestor on the walk's best-path tree, which is a frontier asset of the shown part. So a hub
with 50,000 descendants costs one node, and the group says where the rest is (``lineage downstream
ANCHOR`` shows it). The web page (issue 17) and ``lineage downstream --format mermaid|dot`` follow this one
rule, so a picture pasted into a review shows what the page shows.

Edges are each shown asset's best-path hop (re-attached to its nearest shown ancestor when its own
predecessor was folded, which is rare), then the stored edges between shown assets that the tree left out
(a second path into a node), most confident first, up to ``MAX_EDGES`` in all: Mermaid refuses diagrams
of more than 500 edges, and a denser picture is unreadable anyway. A link counts its evidence kinds, so a
renderer can dash the links that only static analysis holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowscope import graph
from flowscope.edgeflags import kinds_mask, kinds_of
from flowscope.model import Asset
from flowscope.store import Store

MAX_NODES = 300
MAX_EDGES = 500


@dataclass(frozen=True)
class Node:
    """A shown asset (``hops`` 0 for the start)."""

    asset: Asset
    hops: int
    confidence: float


@dataclass(frozen=True)
class Group:
    """Reached assets not shown, hanging under ``anchor`` (a shown asset) on the best-path tree."""

    anchor: Asset
    count: int
    confidence: float  # the best of its members'
    sample: tuple[Asset, ...]  # the first few, in the walk's order

    @property
    def key(self) -> str:
        return "more:" + self.anchor.id


@dataclass
class Link:
    """An edge between two shown nodes, in data-flow order; ``source``/``target`` are asset ids or a
    group's key. Parallel edges (several jobs, several scopes) are one link with their best confidence."""

    source: str
    target: str
    confidence: float
    kinds: set[str] = field(default_factory=set)
    jobs: set[tuple[str, str]] = field(default_factory=set)
    folded: bool = False  # the link to an "N more" group

    @property
    def static_only(self) -> bool:
        """Only static code analysis holds it: drawn dashed."""
        return self.kinds == {"static"}


@dataclass(frozen=True)
class Neighbourhood:
    start: Asset
    direction: graph.Direction
    depth: int
    min_confidence: float
    reached: int  # assets the walk reached (the start not counted)
    nodes: list[Node]  # the start first, then in the walk's order
    groups: list[Group]
    links: list[Link]
    links_left_out: int  # stored edges between shown nodes beyond MAX_EDGES


def _order_key(r: graph.Reached) -> tuple[int, float, str]:
    return (r.hops, -r.confidence, r.asset.id)


def _anchor(r: graph.Reached, shown: set[Asset], parents: dict[Asset, Asset | None], start: Asset) -> Asset:
    """The nearest shown asset above ``r`` on the best-path tree (the start at the latest)."""
    node = r.parent
    for _ in range(r.hops):
        if node is None or node in shown:
            break
        node = parents.get(node)
    return node if node is not None and node in shown else start


def _groups(
    ordered: list[graph.Reached], keep: int, start: Asset, parents: dict[Asset, Asset | None]
) -> dict[Asset, list[graph.Reached]]:
    shown = {start, *(r.asset for r in ordered[:keep])}
    groups: dict[Asset, list[graph.Reached]] = {}
    for r in ordered[keep:]:
        groups.setdefault(_anchor(r, shown, parents, start), []).append(r)
    return groups


def _split(
    ordered: list[graph.Reached], start: Asset, limit: int
) -> tuple[int, dict[Asset, list[graph.Reached]]]:
    """How many of ``ordered`` to show, and the rest grouped by anchor, so that shown + groups <= limit.

    Showing more assets makes more, smaller groups, so the most that fit is found by bisection (a dozen
    passes over the walk): a star of 1,000 children with two children each, at 300, shows 149 children,
    their 149 groups of grandchildren and one group of the other 851 children and their children.
    """
    parents = {r.asset: r.parent for r in ordered}
    lo, hi = 0, min(len(ordered), limit - 1)
    best = _groups(ordered, 0, start, parents)  # 0 shown: one group under the start, always fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        groups = _groups(ordered, mid, start, parents)
        if mid + 1 + len(groups) <= limit:
            lo, best = mid, groups
        else:
            hi = mid - 1
    return lo, best


def bounded(
    store: Store,
    t: graph.Traversal,
    limit: int = MAX_NODES,
    options: graph.WalkOptions | None = None,
) -> Neighbourhood:
    """The picture of walk ``t``: at most ``limit`` nodes (capped at ``MAX_NODES``), groups included.
    ``options`` are the walk's, so the stored edges added between shown nodes pass the same filters."""
    limit = max(2, min(limit, MAX_NODES))
    opts = options or graph.WalkOptions(depth=t.depth, min_confidence=t.min_confidence)
    ordered = sorted(t.reached, key=_order_key)
    keep, groups = _split(ordered, t.start, limit)
    # A group of one costs a node like its member: show the member (nothing hangs under it, or it would
    # be in the group too).
    shown_reached = ordered[:keep] + [m[0] for m in groups.values() if len(m) == 1]
    shown_reached.sort(key=_order_key)
    groups = {a: m for a, m in groups.items() if len(m) > 1}
    shown = {t.start, *(r.asset for r in shown_reached)}
    parents = {r.asset: r.parent for r in ordered}
    down = t.direction == "down"
    links: dict[tuple[str, str], Link] = {}

    def add(src: str, dst: str, conf: float, kinds: tuple[str, ...], job: tuple[str, str] | None) -> None:
        link = links.get((src, dst))
        if link is None:
            link = links[(src, dst)] = Link(src, dst, conf)
        link.confidence = max(link.confidence, conf)
        link.kinds.update(kinds)
        if job is not None:
            link.jobs.add(job)

    for r in shown_reached:
        step = r.last_step
        near = _anchor(r, shown, parents, t.start).id
        ends = (near, r.asset.id) if down else (r.asset.id, near)
        add(*ends, step.confidence, step.kinds, step.job)
    tree_links = len(links)
    folded = []
    for anchor, members in sorted(groups.items(), key=lambda kv: kv[0].id):
        g = Group(
            anchor, len(members), max(m.confidence for m in members), tuple(m.asset for m in members[:5])
        )
        folded.append(g)
        ends = (anchor.id, g.key) if down else (g.key, anchor.id)
        links[ends] = Link(*ends, g.confidence, folded=True)
    left_out = _stored_links(store, shown, opts, links, MAX_EDGES - tree_links - len(folded))
    nodes = [Node(t.start, 0, 1.0), *(Node(r.asset, r.hops, r.confidence) for r in shown_reached)]
    return Neighbourhood(
        t.start,
        t.direction,
        t.depth,
        t.min_confidence,
        len(t.reached),
        nodes,
        folded,
        list(links.values()),
        left_out,
    )


def stored_between(
    store: Store, shown: set[Asset], options: graph.WalkOptions
) -> list[tuple[Asset, Asset, float, list[str], tuple[str, str]]]:
    """The stored edges between shown assets that pass the walk's filters, as (source, target, confidence,
    evidence kinds, job): a second path into a node that the best-path tree left out. The web page uses it too."""
    ids = store.lookup_many(shown)
    by_id = {i: a for a, (i, _) in ids.items()}
    rows = store.adjacent(
        list(ids.values()),
        "down",
        options.min_confidence,
        direct_only=options.direct_only,
        kinds=kinds_mask(options.kinds),
    )
    wanted = [r for r in rows if r[0] != r[2] and r[0] in by_id and r[2] in by_id]
    jobs = store.jobs_by_id({r[5] for r in wanted})
    return [
        (by_id[near], by_id[far], conf, kinds_of(flags), jobs[job])
        for near, _, far, _, conf, job, flags in wanted
    ]


def _stored_links(
    store: Store, shown: set[Asset], options: graph.WalkOptions, links: dict[tuple[str, str], Link], room: int
) -> int:
    """Add the stored edges between shown assets that are not links yet, most confident first, while
    there is room; return how many were left out."""
    extra: dict[tuple[str, str], Link] = {}
    for src, dst, conf, kinds, job in stored_between(store, shown, options):
        key = (src.id, dst.id)
        link = links.get(key) or extra.setdefault(key, Link(*key, conf))
        link.confidence = max(link.confidence, conf)
        link.kinds.update(kinds)
        link.jobs.add(job)
    best = sorted(extra.values(), key=lambda k: (-k.confidence, k.source, k.target))
    for link in best[: max(room, 0)]:
        links[(link.source, link.target)] = link
    return max(0, len(best) - max(room, 0))
