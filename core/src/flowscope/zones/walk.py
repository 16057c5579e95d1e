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
    kept = [a for a in bound.kept if a not in reached and a not in bound.sources]
    if kept:  # an included dataset is reached when any field of it is
        datasets = {(a.namespace, a.name) for a in (*reached, *bound.sources)}
        kept = [a for a in kept if not (a.field is None and (a.namespace, a.name) in datasets)]
    orphans = tuple(sorted(kept, key=lambda a: a.id))
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
    what lies behind them too, since excluding a dataset stops its fields.

    Computed on integer positions (asset hashing is the cost at 100k assets): one pass for tree depths,
    one for subtree sizes, deepest first."""
    assets = list(walk.reached)
    pos = {(a.namespace, a.name, a.field): i for i, a in enumerate(assets)}
    n = len(assets)
    parent = []
    for r in walk.reached.values():
        up = r.parent
        parent.append(-1 if up is None else pos.get((up.namespace, up.name, up.field), -1))
    depth = [-1] * n
    for i in range(n):
        chain: list[int] = []
        j = i
        while j != -1 and depth[j] == -1 and len(chain) <= n:
            chain.append(j)
            j = parent[j]
        base = depth[j] if j != -1 else -1
        for k in reversed(chain):
            base += 1
            depth[k] = base
    own = [0 if a in excluded else 1 for a in assets]
    size = own[:]
    for i in sorted(range(n), key=depth.__getitem__, reverse=True):
        if parent[i] != -1:
            size[parent[i]] += size[i]
    out = {a: size[i] - own[i] for i, a in enumerate(assets)}
    fields: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, a in enumerate(assets):
        if a.field is not None:
            fields[(a.namespace, a.name)].append(i)
    for i, a in enumerate(assets):
        heads = fields.get((a.namespace, a.name)) if a.field is None else None
        if not heads:
            continue
        inside = {i, *heads}
        total = size[i]
        for h in heads:  # a field below the dataset node (or another field) is already counted there
            j = parent[h]
            while j != -1 and j not in inside:
                j = parent[j]
            if j == -1:
                total += size[h]
        out[a] = total - own[i]
    return out
