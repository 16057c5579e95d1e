"""``zone check``: what fails CI.

A zone fails when it has

- a **violation** nobody acknowledged (always: a baseline never hides one);
- a **new flow**: the zone's data reaches, in one hop from a protected asset, an asset nobody reviewed
  (a discovery candidate) — unless the baseline lists it;
- a **stale decision**: an asset decided on evidence that has since changed — unless the baseline lists it.

Findings have stable keys (``rule:zone:asset id``, no line numbers: moving code is not a new flow), so
the JSON output of one run is the baseline of the next: adopt zones on an estate with a backlog of
unreviewed flows, and fail only on flows that appear after. New flows carry the evidence of the edge
(file:line) for code-scanning UIs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flowscope.errors import UserError
from flowscope.model import Edge, Evidence
from flowscope.store import Store
from flowscope.zones.discover import discover
from flowscope.zones.spec import Zone
from flowscope.zones.status import AssetState, path_step_json, with_paths
from flowscope.zones.workspace import Workspace

Rule = Literal["violation", "new_flow", "stale_decision"]
RULES: dict[str, str] = {
    "violation": "The zone's data reaches an asset whose data use the zone denies.",
    "new_flow": "The zone's data flows into an asset nobody reviewed for this zone.",
    "stale_decision": "A review decision was made on evidence that has since changed.",
}


@dataclass(frozen=True)
class Finding:
    """One reason a zone fails. ``edges`` is the path (violations) or the new flow's edges."""

    zone: Zone
    rule: Rule
    state: AssetState
    message: str
    edges: tuple[Edge, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.zone.name}:{self.state.asset.id}"

    @property
    def evidence(self) -> list[Evidence]:
        """Evidence of the hop that matters most first: the last hop of a violation, the new flow's edge."""
        return [ev for e in reversed(self.edges) for ev in e.evidence]

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "zone": self.zone.name,
            "rule": self.rule,
            "asset": self.state.asset.id,
            "message": self.message,
            "uses": [u.to_json() for u in self.state.uses],
            "denied": list(self.state.denied),
            "confidence": self.state.confidence,
            "hops": self.state.hops,
            "edges": [path_step_json(e) for e in self.edges],
        }


@dataclass
class CheckReport:
    """Findings that fail, findings the baseline knows, and zones that could not be checked."""

    zones: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    known: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 pass, 1 findings, 2 a zone could not be checked (broken file, no store)."""
        return 2 if self.errors else 1 if self.findings else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "zones": self.zones,
            "passed": self.exit_code == 0,
            "findings": [f.to_json() for f in self.findings],
            "known": [f.to_json() for f in self.known],
            "errors": self.errors,
            "warnings": self.warnings,
        }


def read_baseline(path: Path) -> set[str]:
    """Finding keys from an earlier ``zone check --format json`` output (both failing and known ones)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            "baseline file not found (write one with `zone check --format json > FILE`)", str(path)
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"not a zone check JSON report: {exc}", str(path)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise UserError("not a zone check JSON report (no 'findings' list)", str(path))
    keys = set()
    for item in [*doc["findings"], *(doc.get("known") or [])]:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            keys.add(item["key"])
    return keys


def check_zone(store: Store, ws: Workspace, zone: Zone) -> tuple[list[Finding], list[str]]:
    """Every finding of one zone, and warnings (decisions on assets the store no longer holds)."""
    found = discover(store, ws, zone)
    status = found.status
    findings: list[Finding] = []
    for s in with_paths(store, status.violations):
        uses = ", ".join(s.denied)
        findings.append(
            Finding(zone, "violation", s, f"{s.asset} serves {uses}, which zone {zone.name} denies", s.path)
        )
    for c in found.candidates:
        if c.state.status == "violation":
            continue  # already reported as a violation
        step = c.hop.last_step
        edges = tuple(_edges(store, step.job, step.source, step.target))
        findings.append(
            Finding(
                zone,
                "new_flow",
                c.state,
                f"unreviewed flow of zone {zone.name}: {step.source} -> {c.asset}",
                edges,
            )
        )
    for s in status.stale:
        findings.append(
            Finding(
                zone,
                "stale_decision",
                s,
                f"decision '{s.decision.decision if s.decision else ''}' on {s.asset} is stale: {s.stale}",
            )
        )
    warnings = [
        f"{zone.review_path}: decision on {d.asset_id}: the asset is not in the store (kept)"
        for d in status.missing
    ]
    return findings, warnings


def _edges(store: Store, job: tuple[str, str], source: Any, target: Any) -> Iterable[Edge]:
    for e in store.edges(target):
        if e.job.key == job and e.source == source and e.target == target:
            yield e


def check(
    store: Store,
    ws: Workspace,
    zones: Sequence[Zone],
    baseline: set[str] | None = None,
    *,
    every_zone: bool = False,
) -> CheckReport:
    """Check ``zones``; a zone whose sources or review file are broken is an error, the others still run.
    ``every_zone``: the workspace's unreadable zone files are errors too (checking "all zones")."""
    report = CheckReport(zones=[z.name for z in zones])
    if every_zone:
        report.errors.extend(str(error) for error in ws.broken.values())
    for zone in zones:
        try:
            findings, warnings = check_zone(store, ws, zone)
        except UserError as exc:
            report.errors.append(str(exc))
            continue
        report.warnings.extend(warnings)
        for f in findings:
            if f.rule != "violation" and baseline is not None and f.key in baseline:
                report.known.append(f)
            else:
                report.findings.append(f)
    return report
