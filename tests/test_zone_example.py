"""The README's policy-zone walkthrough, replayed through the real CLI on a copy of the example estate.

Every ``$ uv run flowscope zone ...`` line of the README's walkthrough block runs here, in order; each
``discover`` must list the candidates the README shows. Then ``zone check`` fails on the ad model's
violation, the scan's events carry the zone tags and still validate, and once the violating flow is
removed from the estate and scanned again the check passes.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowscope.plugins import make_manager

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXAMPLE = ROOT / "examples" / "photo_sharing"
_ROW = re.compile(r"^│ (\S+)\s+│ (\d+)\s+│")  # a discover row: candidate, behind


def walkthrough() -> list[tuple[list[str], list[str]]]:
    """(argv, candidate rows the README shows after it) for every `zone` command of the walkthrough."""
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- zone-walkthrough", 1)[1].split("<!-- /zone-walkthrough -->", 1)[0]
    block = block.replace("\\\n", " ")
    steps: list[tuple[list[str], list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ uv run flowscope "):
            steps.append((shlex.split(line[len("$ uv run flowscope ") :]), []))
        elif steps and (m := _ROW.match(line)):
            steps[-1][1].append(f"{m.group(1)} {m.group(2)}")
    return steps


def rows(output: str) -> list[str]:
    return [f"{m.group(1)} {m.group(2)}" for line in output.splitlines() if (m := _ROW.match(line))]


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example (the walkthrough writes a review file beside the zone), used as the cwd."""
    copy = tmp_path / "photo_sharing"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("*.review.yaml", ".flowscope"))
    monkeypatch.setenv("FLOWSCOPE_CONFIG", str(copy / "flowscope.yaml"))
    monkeypatch.setenv("FLOWSCOPE_REVIEWER", "alice")
    monkeypatch.chdir(tmp_path)
    return copy


def test_readme_walkthrough_replays_and_check_passes_once_the_flow_is_gone(
    estate: Path, run_cli: Callable[..., Any], assert_valid_event: Callable[[dict[str, Any]], None]
) -> None:
    pm = make_manager(load_entrypoints=True)
    out = estate / "events.jsonl"
    assert run_cli(pm, "scan", "-o", str(out)).exit_code == 0
    steps = walkthrough()
    assert len(steps) == 11 and sum(argv[1] == "discover" for argv, _ in steps) == 5
    iteration = 0
    for argv, shown in steps:
        result = run_cli(pm, *argv)
        assert result.exit_code == 0, (argv, result.output)
        if argv[1] == "discover":
            iteration += 1
            assert rows(result.stdout) == shown, f"iteration {iteration}: README and CLI differ"
    assert iteration == 5

    # iteration 1 held the aggregate; iterations 2-4 reached the warehouse, the feature store, both models
    decisions = (estate / "zones" / "precise_location.review.yaml").read_text(encoding="utf-8")
    assert "dataset:hive://warehouse:9083:analytics.upload_counts_daily:\n    decision: exclude" in decisions
    status = json.loads(run_cli(pm, "zone", "status", "precise_location", "--json").stdout)
    by_id = {a["asset"]: a for a in status["assets"]}
    assert by_id["datasetField:model://registry:ad_targeting_model:home_city"]["status"] == "violation"
    assert (
        by_id["datasetField:model://registry:nearby_friends_model:recent_locations"]["status"] == "protected"
    )
    assert "datasetField:hive://warehouse:9083:reporting.growth_uploads_weekly:area_lat" not in by_id
    ads = by_id["datasetField:model://registry:ad_targeting_model:home_city"]
    assert [step["job"]["name"] for step in ads["path"]] == [
        "analytics.import_photo_events",
        "analytics.build_user_location_daily",
        "materialize.user_location_features",
        "train.ad_targeting_model",
    ]

    check = run_cli(pm, "zone", "check", "--format", "json")
    assert check.exit_code == 1
    findings = json.loads(check.stdout)["findings"]
    assert {f["rule"] for f in findings} == {"violation"}
    assert "datasetField:model://registry:ad_targeting_model:home_city" in {f["asset"] for f in findings}

    # the scan's events carry zone membership as tags, and still validate against the OpenLineage spec
    assert run_cli(pm, "scan", "-o", str(out)).exit_code == 0
    tagged: set[tuple[str, str | None, str]] = set()
    for line in out.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        assert_valid_event(event)
        for ds in event.get("inputs", []) + event.get("outputs", []):
            for tag in ((ds.get("facets") or {}).get("tags") or {}).get("tags", []):
                tagged.add((ds["name"], tag.get("field"), f"{tag['key']}:{tag['value']}"))
    assert ("photos_app.photos", "location", "zone:precise_location") in tagged
    assert ("analytics.photo_events", "location", "data_category:user.location.precise") in tagged
    assert ("user_location_features", "user_id_hash", "zone:precise_location") not in tagged  # excluded

    # remove the violating flow from the estate: the ad model no longer trains on the location features
    train = estate / "ml" / "models" / "ad_targeting" / "train.yaml"
    train.write_text(
        train.read_text(encoding="utf-8").replace("  - features: location\n", ""), encoding="utf-8"
    )
    assert run_cli(pm, "scan").exit_code == 0
    check = run_cli(pm, "zone", "check")
    assert check.exit_code == 0, check.stdout
    assert "0 finding(s) - passed" in check.stdout
