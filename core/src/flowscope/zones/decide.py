"""Recording review decisions: the one function the CLI and the review page both call.

``apply_review`` reads the review file fresh, changes it and writes it back atomically, so two tools
writing decisions in turn never lose each other's. Each new decision records who, when, why and the
evidence fingerprint of the asset's best path at that moment (how status finds stale decisions later).

``downstream=True`` applies the action to everything the zone's walk reaches from the named assets as
well (stopping at existing exclusions): one command clears a whole subtree. Decisions already written on
those assets are kept, so a bulk action never overrides an earlier deliberate one; the named assets
themselves always take the new decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from flowscope import graph
from flowscope.errors import UserError
from flowscope.model import Asset
from flowscope.store import Store
from flowscope.zones.resolve import bind
from flowscope.zones.review import Decision, save_review
from flowscope.zones.spec import Zone, display_path
from flowscope.zones.walk import fingerprint, walk_zone
from flowscope.zones.workspace import Workspace

Action = Literal["include", "exclude", "acknowledge", "clear"]
ACTIONS: tuple[str, ...] = ("include", "exclude", "acknowledge", "clear")


@dataclass
class ReviewOutcome:
    """What one review action changed in a zone's review file."""

    zone: str
    action: Action
    path: Path
    applied: list[Decision] = field(default_factory=list)  # new or changed decisions
    kept: list[Decision] = field(default_factory=list)  # earlier decisions a bulk action left alone
    cleared: list[str] = field(default_factory=list)  # asset ids whose decision was removed

    def to_json(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "action": self.action,
            "file": display_path(self.path),
            "applied": [d.to_json() for d in self.applied],
            "kept": [d.to_json() for d in self.kept],
            "cleared": self.cleared,
        }


def now_utc() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def apply_review(
    store: Store,
    ws: Workspace,
    zone: Zone,
    action: Action,
    assets: Sequence[Asset],
    *,
    reason: str = "",
    by: str = "",
    downstream: bool = False,
    at: str | None = None,
) -> ReviewOutcome:
    """Record ``action`` on ``assets`` (and, with ``downstream``, on what the zone reaches from them)."""
    if action not in ACTIONS:
        raise UserError(f"unknown review action {action!r} (one of {', '.join(ACTIONS)})")
    if action != "clear" and not reason.strip():
        raise UserError("a decision needs a reason (--reason)")
    if action != "clear" and not by.strip():
        raise UserError("a decision needs a reviewer (--by, or $FLOWSCOPE_REVIEWER)")
    if not assets:
        raise UserError("name at least one asset")
    known = store.lookup_many(assets)
    for asset in assets:
        if asset not in known:
            raise UserError(f"unknown asset {asset.id}")
    review = ws.review(zone)  # read now: whatever another tool wrote a moment ago is kept
    bound = bind(store, ws, zone, review)
    extra: list[Asset] = []
    stopped: list[Asset] = []  # exclusions the bulk walk stopped at: left as they are
    if downstream:
        t = graph.walk_many(store, assets, "down", zone.walk_options(bound.excluded))
        named = set(assets)
        extra = [r.asset for r in t.reached if r.asset not in named and r.asset not in t.stopped]
        stopped = sorted((a for a in t.stopped if a.id in review.decisions), key=lambda a: a.id)
    decisions = dict(review.decisions)
    outcome = ReviewOutcome(zone.name, action, review.path)
    outcome.kept.extend(review.decisions[a.id] for a in stopped if review.decisions[a.id].decision != action)
    if action == "clear":
        for asset in [*assets, *extra]:
            if decisions.pop(asset.id, None) is not None:
                outcome.cleared.append(asset.id)
    else:
        walk = walk_zone(store, bound)
        stamp = at or now_utc()
        for asset, bulk in [*((a, False) for a in assets), *((a, True) for a in extra)]:
            earlier = decisions.get(asset.id)
            if earlier is not None and bulk:
                if earlier.decision != action:
                    outcome.kept.append(earlier)
                continue
            reached = walk.reached.get(asset)
            evidence, kinds = fingerprint(reached) if reached is not None else ("", ())
            new = Decision(asset.id, action, by.strip(), stamp, reason.strip(), evidence, kinds)
            if earlier is None or (earlier.decision, earlier.reason, earlier.evidence) != (
                action,
                new.reason,
                evidence,
            ):
                decisions[asset.id] = new
                outcome.applied.append(new)
    save_review(review.with_decisions(decisions))
    return outcome
