"""``zone check`` reports for machines: SARIF 2.1.0 for code-scanning UIs, GitHub workflow annotations.

Each finding points at the code evidence of its flow (the new flow's edge, or a violation's last hop)
as ``file:line``, so GitHub code scanning shows it on the line that moves the data. Evidence paths are
written relative to the config's folder; they are turned into paths relative to the working directory
(the repository root in CI) when that file exists, and a finding without any file evidence points at
its zone file. SARIF ``codeFlows`` carry the whole path of a violation, one location per hop.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from flowscope import __version__
from flowscope.model import Edge, Evidence
from flowscope.terminal import clean
from flowscope.zones.check import RULES, CheckReport, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LOCATION = re.compile(r"^(?P<path>.+?)(?::(?P<line>\d+))?(?::(?P<col>\d+))?$")
_LEVEL = {"violation": "error", "new_flow": "warning", "stale_decision": "warning"}
_RULE_ID = {rule: f"flowscope/zone-{rule.replace('_', '-')}" for rule in RULES}


def file_location(ev: Evidence, base_dir: Path) -> tuple[str, int | None] | None:
    """``(path, line)`` of a piece of evidence that names a file, else None (query ids, traces, ...).
    The path is made relative to the working directory when the file exists under ``base_dir``."""
    m = _LOCATION.match(ev.location.strip())
    if m is None or "://" in m.group("path") or not m.group("path"):
        return None
    path = m.group("path")
    line = int(m.group("line")) if m.group("line") else None
    candidate = Path(path) if Path(path).is_absolute() else base_dir / path
    if not candidate.is_file():
        return None
    try:
        shown = os.path.relpath(candidate, Path.cwd())
    except ValueError:  # another drive (Windows)
        shown = str(candidate)
    return Path(shown).as_posix(), line


def _locations(finding: Finding, base_dir: Path) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    for ev in finding.evidence:
        loc = file_location(ev, base_dir)
        if loc is not None and loc not in out:
            out.append(loc)
    if not out:
        zone_file = finding.zone.path
        out.append((Path(os.path.relpath(zone_file, Path.cwd())).as_posix(), 1))
    return out


def _physical(path: str, line: int | None) -> dict[str, Any]:
    loc: dict[str, Any] = {"artifactLocation": {"uri": path}}
    if line:
        loc["region"] = {"startLine": line}
    return {"physicalLocation": loc}


def _hop_location(edge: Edge, base_dir: Path) -> dict[str, Any]:
    target = edge.target.id if edge.target else "-"
    text = f"{edge.job.namespace}/{edge.job.name}: {edge.source.id} -> {target}"
    for ev in edge.evidence:
        loc = file_location(ev, base_dir)
        if loc is not None:
            return {"location": {**_physical(*loc), "message": {"text": text}}}
    return {"location": {"message": {"text": text}}}


def sarif(report: CheckReport, base_dir: Path) -> dict[str, Any]:
    """The report as one SARIF 2.1.0 run (valid against the OASIS schema; checked in tests)."""
    rules = [
        {
            "id": _RULE_ID[rule],
            "name": rule,
            "shortDescription": {"text": text},
            "defaultConfiguration": {"level": _LEVEL[rule]},
        }
        for rule, text in RULES.items()
    ]
    results = []
    for f in report.findings:
        locations = _locations(f, base_dir)
        result: dict[str, Any] = {
            "ruleId": _RULE_ID[f.rule],
            "ruleIndex": list(RULES).index(f.rule),
            "level": _LEVEL[f.rule],
            "message": {"text": f.message},
            "locations": [_physical(*locations[0])],
            "partialFingerprints": {"flowscopeFinding/v1": f.key},
            "properties": {"zone": f.zone.name, "asset": f.state.asset.id, "confidence": f.state.confidence},
        }
        if len(locations) > 1:
            result["relatedLocations"] = [{"id": i, **_physical(*loc)} for i, loc in enumerate(locations[1:])]
        if f.rule == "violation" and f.edges:
            flow = [_hop_location(e, base_dir) for e in f.edges]
            result["codeFlows"] = [{"threadFlows": [{"locations": flow}]}]
        results.append(result)
    driver = {
        "name": "flowscope",
        "version": __version__,
        "informationUri": "https://flowscope.dev",
        "rules": rules,
    }
    run: dict[str, Any] = {"tool": {"driver": driver}, "results": results}
    if report.errors:
        run["invocations"] = [
            {
                "executionSuccessful": False,
                "toolExecutionNotifications": [
                    {"level": "error", "message": {"text": e}} for e in report.errors
                ],
            }
        ]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _escape_data(text: str) -> str:
    text = clean(text)  # names from other people's files: no control characters reach the log
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(report: CheckReport, base_dir: Path) -> list[str]:
    """GitHub Actions workflow commands, one ``::error``/``::warning`` line per finding and error."""
    lines = []
    for f in report.findings:
        path, line = _locations(f, base_dir)[0]
        where = f"file={_escape_property(path)}" + (f",line={line}" if line else "")
        title = _escape_property(f"flowscope zone {f.zone.name}: {f.rule.replace('_', ' ')}")
        lines.append(f"::{_LEVEL[f.rule]} {where},title={title}::{_escape_data(f.message)}")
    lines.extend(f"::error title=flowscope zone check::{_escape_data(e)}" for e in report.errors)
    return lines
