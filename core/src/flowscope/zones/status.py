"""Zone status: every asset the zone reaches as protected, needs review, excluded or violation.

- **protected**: a source, or an asset a person included (or a field of an included dataset);
- **needs_review**: reached by the zone's walk (every edge at or above ``min_confidence``) and not decided;
- **excluded**: a person excluded it (or its dataset); walks stop there, so what lies only behind it is
  not in the zone at all;
- **violation**: a protected or unreviewed asset with a data use the zone denies. A violation a person
  acknowledged keeps its status with ``acknowledged: true`` and no longer fails ``zone check``.

Each decided asset is also checked for staleness: its evidence fingerprint now against the one recorded
with the decision (:func:`flowscope.zones.walk.fingerprint`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from flowscope import graph
from flowscope.graph import Reached
from flowscope.model import Asset, Edge
from flowscope.store import Store
from flowscope.zones.purposes import Use
from flowscope.zones.resolve import Bound, bind
from flowscope.zones.review import Decision
from flowscope.zones.spec import Zone
from flowscope.zones.walk import ZoneWalk, fingerprint, walk_zone
from flowscope.zones.workspace import Workspace

Status = Literal["protected", "needs_review", "excluded", "violation"]
STATUS_ORDER: dict[str, int] = {"violation": 0, "needs_review": 1, "protected": 2, "excluded": 3}


@dataclass(slots=True)
class AssetState:
    """One asset of a zone (a plain slotted class: a status makes one per reached asset, 100,000s). ``reached`` is the walk's answer for it (None for sources and for decided
    assets the walk no longer reaches); ``path`` is filled for violations (the ``lineage why`` chain)."""

    asset: Asset
    status: Status
    source: bool = False
    decision: Decision | None = None
    inherited: bool = False
    uses: tuple[Use, ...] = ()
    denied: tuple[str, ...] = ()
    stale: str | None = None
    reached: Reached | None = field(default=None, compare=False, repr=False)
    path: tuple[Edge, ...] = field(default=(), compare=False, repr=False)

    @property
    def acknowledged(self) -> bool:
        return self.decision is not None and self.decision.decision == "acknowledge"

    @property
    def confidence(self) -> float:
        return 1.0 if self.reached is None else self.reached.confidence

    @property
    def hops(self) -> int:
        return 0 if self.reached is None else self.reached.hops

    def to_json(self) -> dict[str, Any]:
        r = self.reached
        step = r.last_step if r is not None else None
        parent = r.parent if r is not None else None
        return {
            "asset": self.asset.id,
            "namespace": self.asset.namespace,
            "name": self.asset.name,
            "field": self.asset.field,
            "status": self.status,
            "source": self.source,
            "reached": r is not None or self.source,
            "confidence": self.confidence if r is not None or self.source else None,
            "hops": self.hops,
            "via": {"namespace": step.job[0], "name": step.job[1]} if step else None,
            "parent": (parent.id if parent else step.source.id) if step else None,
            "kinds": list(step.kinds) if step else [],
            "decision": self.decision.to_json() if self.decision else None,
            "inherited": self.inherited,
            "acknowledged": self.acknowledged,
            "stale": self.stale,
            "uses": [u.to_json() for u in self.uses],
            "denied": list(self.denied),
            "path": [path_step_json(e) for e in self.path],
        }


def path_step_json(e: Edge) -> dict[str, Any]:
    """One hop of a violation's path: job, ends, confidence, kinds, transformations and evidence."""
    return {
        "job": {"namespace": e.job.namespace, "name": e.job.name},
        "source": e.source.id,
        "target": e.target.id if e.target else None,
        "confidence": e.confidence,
        "kinds": e.kinds,
        "transformations": [
            f"{t.type}/{t.subtype}" + ("/masking" if t.masking else "") for t in sorted(e.transformations)
        ],
        "evidence": [ev.as_dict() for ev in e.evidence],
    }


@dataclass
class ZoneStatus:
    """Every asset of one zone, plus decisions the store no longer has assets for (``missing``)."""

    zone: Zone
    assets: list[AssetState]
    missing: tuple[Decision, ...] = ()
    bound: Bound | None = field(default=None, repr=False)
    walk: ZoneWalk | None = field(default=None, repr=False)

    def counts(self) -> dict[str, int]:
        c = Counter(s.status for s in self.assets)
        return {k: c.get(k, 0) for k in ("protected", "needs_review", "excluded", "violation")}

    @property
    def violations(self) -> list[AssetState]:
        """Violations nobody acknowledged: what fails ``zone check``."""
        return [s for s in self.assets if s.status == "violation" and not s.acknowledged]

    @property
    def stale(self) -> list[AssetState]:
        return [s for s in self.assets if s.stale]

    def state(self, asset: Asset) -> AssetState | None:
        return next((s for s in self.assets if s.asset == asset), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "zone": self.zone.name,
            "file": self.zone.display,
            "counts": self.counts(),
            "assets": [s.to_json() for s in self.assets],
            "missing": [d.to_json() for d in self.missing],
        }


def zone_status(store: Store, ws: Workspace, zone: Zone, *, paths: bool = True) -> ZoneStatus:
    """Walk ``zone`` over ``store`` and classify everything it reaches; ``paths``: explain violations."""
    bound = bind(store, ws, zone)
    walk = walk_zone(store, bound)
    return classify(store, bound, walk, paths=paths)


def classify(store: Store, bound: Bound, walk: ZoneWalk, *, paths: bool = True) -> ZoneStatus:
    zone = bound.zone
    states: list[AssetState] = []
    for src in bound.sources:
        states.append(_state(bound, src, None, source=True))
    for asset, r in walk.reached.items():
        states.append(_state(bound, asset, r))
    listed = {s.asset for s in states}
    for asset in bound.decisions:
        if asset not in listed:
            states.append(_state(bound, asset, None, orphan=asset in walk.orphans))
    if paths:
        states = with_paths(store, states)
    states.sort(key=lambda s: (STATUS_ORDER[s.status], s.asset.id))
    return ZoneStatus(zone, states, bound.missing, bound, walk)


def with_paths(store: Store, states: list[AssetState]) -> list[AssetState]:
    """``states`` with the path of every violation filled in: the best path the zone's walk found, with
    every edge's evidence, read in one batch (:func:`flowscope.graph.path_edges`)."""
    todo = [(i, s.reached) for i, s in enumerate(states) if s.status == "violation" and s.reached is not None]
    found = graph.path_edges(store, [r for _, r in todo if r is not None])
    for (i, _), edges in zip(todo, found, strict=True):
        states[i].path = tuple(edges)
    return states


def _state(
    bound: Bound, asset: Asset, r: Reached | None, *, source: bool = False, orphan: bool = False
) -> AssetState:
    decision, inherited = bound.decision_of(asset)
    uses = bound.purposes.uses_of(asset)
    denied = tuple(u.use for u in uses if bound.zone.denies(u.use))
    status: Status
    if decision is not None and decision.decision == "exclude":
        status = "excluded"
    elif denied:
        status = "violation"
    elif decision is not None or source:
        status = "protected"
    else:
        status = "needs_review"
    stale = None
    if decision is not None and not inherited and not source:
        stale = staleness(decision, r, orphan)
    return AssetState(asset, status, source, decision, inherited, uses, denied, stale, r)


def staleness(decision: Decision, r: Reached | None, orphan: bool) -> str | None:
    """Why ``decision`` no longer matches its evidence, or None. An exclusion nothing reaches any more is
    simply done; an inclusion nothing reaches is kept (the data already copied there stays) but flagged."""
    if r is None:
        if orphan or decision.decision != "exclude":
            return "no longer reached from the zone's sources" if decision.evidence else None
        return None
    now, kinds = fingerprint(r)
    if now == decision.evidence:
        return None
    if not decision.evidence:
        return "reached since the decision was made"
    new = sorted(set(kinds) - set(decision.kinds))
    gone = sorted(set(decision.kinds) - set(kinds))
    if new:
        return f"new evidence kinds on the path: {', '.join(new)}"
    if gone:
        return f"evidence kinds no longer on the path: {', '.join(gone)}"
    return "the path the decision was made on changed"
