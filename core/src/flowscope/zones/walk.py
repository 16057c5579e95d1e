"""The zone's walk: everything the zone's data reaches, with core's walk API and nothing else.

One walk (:func:`flowscope.graph.walk_many`) from the sources under the zone's discovery settings, with
every excluded asset in ``stop_at`` (the cascade: nothing only reachable through an exclusion is reached).
It crosses assets nobody reviewed yet, so status sees a violation four hops down before anyone reviewed
the hops between. Included assets that no path from the sources reaches any more ("orphans": the flow
into them was removed, or now passes an exclusion) are walked from as well, because data already copied
there is still there; their decisions are flagged stale.

What this module adds on top of the walk is bookkeeping over its best-path tree (``Reached.parent``):
how many assets sit behind each one, and the evidence fingerprint of a path.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from flowscope import graph
from flowscope.graph import Reached
from flowscope.model import Asset
from flowscope.store import Store
from flowscope.zones.resolve import Bound


@dataclass
class ZoneWalk:
    """What the zone reaches. ``reached`` has no sources (walk starts); ``stopped`` are the excluded
    assets the walk met; ``orphans`` the kept assets no path from the sources reaches."""

    reached: dict[Asset, Reached]
    stopped: frozenset[Asset]
    orphans: tuple[Asset, ...]

    def reaches(self, asset: Asset) -> bool:
        return asset in self.reached


def walk_zone(store: Store, bound: Bound) -> ZoneWalk:
    options = bound.zone.walk_options(bound.excluded)
    first = graph.walk_many(store, bound.sources, "down", options)
    reached = {r.asset: r for r in first.reached}
    stopped = set(first.stopped)
    datasets = {a.dataset for a in reached} | {a.dataset for a in bound.sources}
    orphans = tuple(
        sorted(
            (
                a
                for a in bound.kept
                if a not in reached and a not in bound.sources and not (a.field is None and a in datasets)
            ),
            key=lambda a: a.id,
        )
    )
    if orphans:
        second = graph.walk_many(store, orphans, "down", options)
        for r in second.reached:
            reached.setdefault(r.asset, r)
        stopped |= second.stopped
    return ZoneWalk(reached, frozenset(stopped), orphans)


def fingerprint(reached: Reached) -> tuple[str, tuple[str, ...]]:
    """The evidence a decision is made on: a digest of the asset's best path (each hop's job, source,
    target and evidence kinds) and the kinds on it. A new kind of evidence on the path or a different
    path changes it; a confidence that moves with new observations of the same flows does not."""
    digest = hashlib.sha256()
    kinds: set[str] = set()
    for step in reached.path:
        kinds.update(step.kinds)
        digest.update(
            "\x1f".join((*step.job, step.source.id, step.target.id, ",".join(step.kinds))).encode() + b"\x1e"
        )
    return digest.hexdigest()[:16], tuple(sorted(kinds))


def path_kinds(reached: Reached) -> tuple[str, ...]:
    return tuple(sorted({k for step in reached.path for k in step.kinds}))


def behind_counts(walk: ZoneWalk, excluded: frozenset[Asset]) -> dict[Asset, int]:
    """For every reached asset, how many reached assets (exclusions left out) have their best path
    through it. Excluding it removes at most that many from the queue, exactly that many when nothing
    else reaches them: reviewers clear the big subtrees first. A dataset counts its reached fields and
    what lies behind them too, since excluding a dataset stops its fields."""
    children: dict[Asset, list[Asset]] = defaultdict(list)
    roots = []
    fields: dict[Asset, list[Asset]] = defaultdict(list)
    for asset, r in walk.reached.items():
        if asset.field is not None:
            fields[asset.dataset].append(asset)
        parent = r.parent
        if parent is not None and parent in walk.reached:
            children[parent].append(asset)
        else:
            roots.append(asset)
    size: dict[Asset, int] = {}
    for root in roots:  # iterative post-order: graphs are deep enough to overflow recursion
        stack: list[tuple[Asset, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                size[node] = (node not in excluded) + sum(size[c] for c in children.get(node, ()))
                continue
            stack.append((node, True))
            stack.extend((c, False) for c in children.get(node, ()))
    out = {a: n - (a not in excluded) for a, n in size.items()}
    for asset in walk.reached:  # a parent loop (impossible with confidences <= 1) would leave some out
        out.setdefault(asset, 0)
    for dataset, own in fields.items():
        if dataset not in walk.reached:
            continue
        heads = [dataset, *own]
        inside = set(heads)
        # a head below another head is already counted in that one's subtree
        tops = [h for h in heads if not _below(walk, h, inside)]
        out[dataset] = sum(out[h] + (h not in excluded) for h in tops) - (dataset not in excluded)
    return out


def _below(walk: ZoneWalk, node: Asset, heads: set[Asset]) -> bool:
    parent = walk.reached[node].parent
    seen = 0
    while parent is not None and parent in walk.reached and seen < 10_000:
        if parent in heads:
            return True
        parent = walk.reached[parent].parent
        seen += 1
    return False
