"""Review files: the decisions people made on a zone's assets, beside the zone file, reviewed like code.

``zones/precise_location.yaml`` has its decisions in ``zones/precise_location.review.yaml``:

```yaml
# Review decisions of zone precise_location: one per asset, sorted by asset id.
zone: precise_location
decisions:
  datasetField:hive://warehouse:9083:analytics.photo_events:location:
    decision: include             # include | exclude | acknowledge (a violation known and accepted)
    by: alice
    at: '2024-06-03T10:00:00Z'
    reason: raw copy of the photo's location
    evidence: 5d0c0e2f9a3b7c41    # fingerprint of the path the decision was made on
    kinds: [sql]                  # evidence kinds on that path, for people reading the diff
```

One mapping entry per asset, keyed by its Marquez id and written in sorted order, so two reviewers'
changes merge line by line and a diff shows exactly which asset changed. An asset written twice is an
error naming both lines (YAML would silently keep the last). Decisions on assets the store no longer
holds are kept and reported, never dropped. Writing is atomic (a temporary file renamed over the old one),
so a crash never leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Literal, cast

import yaml

from flowscope.config import parse_value
from flowscope.errors import UserError
from flowscope.zones.spec import read_yaml_file

Verdict = Literal["include", "exclude", "acknowledge"]
VERDICTS: tuple[str, ...] = ("include", "exclude", "acknowledge")


@dataclass(frozen=True)
class Decision:
    """One person's decision on one asset of a zone. ``line`` is where it is written (0 when new)."""

    asset_id: str
    decision: Verdict
    by: str
    at: str
    reason: str
    evidence: str = ""
    kinds: tuple[str, ...] = ()
    line: int = field(default=0, compare=False)

    def to_json(self) -> dict[str, object]:
        return {
            "asset": self.asset_id,
            "decision": self.decision,
            "by": self.by,
            "at": self.at,
            "reason": self.reason,
            "evidence": self.evidence,
            "kinds": list(self.kinds),
        }


@dataclass
class _DecisionDoc:
    decision: str
    by: str
    at: str
    reason: str
    evidence: str = ""
    kinds: list[str] = field(default_factory=list)


@dataclass
class _ReviewDoc:
    zone: str
    decisions: dict[str, _DecisionDoc] = field(default_factory=dict)


@dataclass
class Review:
    """A zone's review file: ``decisions`` by asset id. A file that does not exist is an empty review."""

    path: Path
    zone: str
    decisions: dict[str, Decision] = field(default_factory=dict)

    def with_decisions(self, decisions: dict[str, Decision]) -> Review:
        return replace(self, decisions=decisions)


def load_review(path: Path, zone: str) -> Review:
    """Read and check ``path`` (absent: no decisions yet). Errors name the file, line and key."""
    if not path.exists():
        return Review(path, zone)
    holder = read_yaml_file(path, duplicate="two decisions for one asset")
    raw = holder.raw
    if isinstance(raw, dict):  # `at` may have been written unquoted: YAML reads a timestamp then
        for item in (raw.get("decisions") or {}).values() if isinstance(raw.get("decisions"), dict) else []:
            if isinstance(item, dict) and isinstance(item.get("at"), datetime):
                item["at"] = item["at"].isoformat().replace("+00:00", "Z")
    else:
        raise UserError("a review file is a mapping (zone, decisions)", holder.display_path, 1)
    doc: _ReviewDoc = parse_value(holder, (), raw, _ReviewDoc)
    if doc.zone != zone:
        raise holder.error(("zone",), f"this review file is for zone {doc.zone!r}, not {zone!r}")
    decisions: dict[str, Decision] = {}
    for asset_id, d in doc.decisions.items():
        key = ("decisions", asset_id)
        if d.decision not in VERDICTS:
            raise holder.error(
                (*key, "decision"), f"expected one of {', '.join(VERDICTS)}, got {d.decision!r}"
            )
        if not asset_id.startswith(("dataset:", "datasetField:")):
            raise holder.error(key, "decisions are keyed by asset id (dataset:... or datasetField:...)")
        if not d.reason.strip():
            raise holder.error((*key, "reason"), "a decision needs a reason")
        decisions[asset_id] = Decision(
            asset_id,
            cast(Verdict, d.decision),
            d.by,
            d.at,
            d.reason,
            d.evidence,
            tuple(d.kinds),
            holder.line_of(key) or 0,
        )
    return Review(path, zone, decisions)


def dump_review(review: Review) -> str:
    """The file's text: a header, then one block per decision in asset id order."""
    body = {
        asset_id: {
            "decision": d.decision,
            "by": d.by,
            "at": d.at,
            "reason": d.reason,
            "evidence": d.evidence,
            "kinds": list(d.kinds),
        }
        for asset_id, d in sorted(review.decisions.items())
    }
    header = (
        f"# Review decisions of zone {review.zone}: one per asset, sorted by asset id.\n"
        "# Written by `flowscope zone review` (and the review page); hand edits are checked on read.\n"
    )
    text = yaml.safe_dump(
        {"zone": review.zone, "decisions": body},
        sort_keys=False,
        default_flow_style=None,
        allow_unicode=True,
        width=1_000_000,
    )
    return header + text


def save_review(review: Review) -> None:
    """Write the review file atomically (temporary file in the same folder, then renamed over it)."""
    review.path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{review.path.name}.", dir=review.path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dump_review(review))
        os.replace(tmp, review.path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
