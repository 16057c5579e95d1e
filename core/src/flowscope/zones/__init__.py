"""Policy zones: a kind of data followed from its sources, reviewed, checked against the purposes it may
serve, and watched in CI. The engine behind ``flowscope zone ...`` and the review page; it never prints.

One call per question, each returning a dataclass with a documented ``to_json()`` (docs/zones.md):

- :func:`load_workspace` (config -> zones by name, the config's purposes);
- :func:`zone_status` (every asset of a zone: protected, needs review, excluded, violation);
- :func:`discover` (one iteration's review queue);
- :func:`apply_review` (record include / exclude / acknowledge / clear, optionally downstream);
- :func:`check` (what fails CI, against an optional baseline);
- :func:`zone_tags` (membership as OpenLineage tags) and :mod:`flowscope.zones.fides` (fideslang export).

Walks are core's (:func:`flowscope.graph.walk_many`, :func:`flowscope.graph.why`); this package holds no
walk of its own.
"""

from __future__ import annotations

from flowscope.zones.check import CheckReport, Finding, check, read_baseline
from flowscope.zones.decide import ACTIONS, ReviewOutcome, apply_review
from flowscope.zones.discover import Candidate, Discovery, discover
from flowscope.zones.review import Decision, Review
from flowscope.zones.spec import Zone, load_zone
from flowscope.zones.status import AssetState, ZoneStatus, zone_status
from flowscope.zones.workspace import Workspace, load_workspace

__all__ = [
    "ACTIONS",
    "AssetState",
    "Candidate",
    "CheckReport",
    "Decision",
    "Discovery",
    "Finding",
    "Review",
    "ReviewOutcome",
    "Workspace",
    "Zone",
    "ZoneStatus",
    "apply_review",
    "check",
    "discover",
    "load_workspace",
    "load_zone",
    "read_baseline",
    "zone_status",
]
