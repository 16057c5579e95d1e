"""One discovery iteration: what needs review now.

The candidates are the assets nobody decided on yet that the zone's data reaches **in one hop from the
protected assets** (the sources and everything included): the frontier of what was reviewed. Reviewing
them and running discovery again continues from the newly included ones, so a zone is reviewed layer by
layer; excluding a candidate stops every walk there, so what lies only behind it never comes up. When no
candidate is left the zone has converged.

Each candidate comes with the best path the zone's walk found to it (confidence, hops, the evidence kinds
on the path), the protected asset it is one hop from, and how many assets sit behind it in the walk's
best-path tree (:func:`flowscope.zones.walk.behind_counts`), so reviewers exclude the big subtrees first.
``pending`` counts every asset still awaiting review anywhere in the zone's reach, behind the candidates
too: the number that drops at once when an exclusion cascades.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowscope import graph
from flowscope.graph import Reached, WalkOptions
from flowscope.model import Asset
from flowscope.store import Store
from flowscope.zones.resolve import bind
from flowscope.zones.spec import Zone
from flowscope.zones.status import AssetState, ZoneStatus, classify
from flowscope.zones.walk import behind_counts, path_kinds, walk_zone
from flowscope.zones.workspace import Workspace


@dataclass(frozen=True)
class Candidate:
    """An asset to review in this iteration. ``start`` is the protected asset it is one hop from."""

    state: AssetState
    start: Asset
    hop: Reached = field(repr=False, compare=False)
    behind: int
    kinds: tuple[str, ...]

    @property
    def asset(self) -> Asset:
        return self.state.asset

    def to_json(self) -> dict[str, Any]:
        step = self.hop.last_step
        return {
            **self.state.to_json(),
            "from": self.start.id,
            "behind": self.behind,
            "path_kinds": list(self.kinds),
            "edge": {
                "job": {"namespace": step.job[0], "name": step.job[1]},
                "source": step.source.id,
                "target": step.target.id,
                "confidence": step.confidence,
                "kinds": list(step.kinds),
            },
        }


@dataclass
class Discovery:
    """The review queue of one iteration, with the zone's status it was computed from."""

    zone: Zone
    candidates: list[Candidate]
    status: ZoneStatus

    @property
    def converged(self) -> bool:
        return not self.candidates

    @property
    def pending(self) -> int:
        """Every asset awaiting review in the zone's reach (unreviewed violations included)."""
        return sum(
            1
            for s in self.status.assets
            if s.decision is None and not s.source and s.status in ("needs_review", "violation")
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "zone": self.zone.name,
            "file": self.zone.display,
            "converged": self.converged,
            "pending": self.pending,
            "counts": self.status.counts(),
            "candidates": [c.to_json() for c in self.candidates],
            "stale": [s.to_json() for s in self.status.stale],
            "missing": [d.to_json() for d in self.status.missing],
        }


def discover(store: Store, ws: Workspace, zone: Zone) -> Discovery:
    """Run one discovery iteration of ``zone`` (see the module docstring)."""
    bound = bind(store, ws, zone)
    walk = walk_zone(store, bound)
    status = classify(store, bound, walk, paths=False)
    by_asset = {s.asset: s for s in status.assets}
    protected = [
        s.asset for s in status.assets if s.source or (s.decision is not None and s.status != "excluded")
    ]
    options = zone.walk_options(bound.excluded)
    one_hop = WalkOptions(1, options.min_confidence, options.direct_only, options.kinds, options.stop_at)
    frontier = graph.walk_many(store, protected, "down", one_hop) if protected else None
    behind = behind_counts(walk, bound.excluded)
    candidates = []
    for hop in frontier.reached if frontier is not None else []:
        state = by_asset.get(hop.asset)
        if state is None or state.decision is not None or state.source or state.reached is None:
            continue  # decided, or beyond the zone's max_depth
        candidates.append(
            Candidate(state, hop.start, hop, behind.get(hop.asset, 0), path_kinds(state.reached))
        )
    candidates.sort(key=lambda c: (-c.behind, -c.state.confidence, c.asset.id))
    return Discovery(zone, candidates, status)
