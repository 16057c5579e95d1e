"""The plugin through flowscope: entry point, `flowscope scan`, `flowscope ml-config scan`, the example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ml_helpers import CORPUS, collect, flow

from flowscope.errors import UserError
from flowscope_ml_config import plugin

EXAMPLE_ML = Path(__file__).resolve().parents[3] / "examples" / "photo_sharing" / "ml"


def test_entry_point_is_installed(plugin_manager) -> None:
    pm = plugin_manager(entrypoints=True)
    assert "ml_config" in [name for name, p in pm.list_name_plugin() if p is not None]


def test_scan_emits_valid_events_with_feature_level_column_lineage(
    tmp_path, plugin_manager, memory_emitter, run_cli, assert_valid_event
) -> None:
    config = tmp_path / "flowscope.yaml"
    config.write_text(
        f"plugins:\n  ml_config:\n    paths: [{json.dumps(str(CORPUS))}]\n    registry: mlflow\n",
        encoding="utf-8",
    )
    out = tmp_path / "events.jsonl"
    pm = plugin_manager(("ml_config", plugin), memory_emitter.plugin)
    result = run_cli(pm, "scan", "--config", str(config), "--only", "ml_config", "-o", str(out), "--json")
    summary = json.loads(result.stdout)
    [mine] = [c for c in summary["collectors"] if c["name"] == "ml_config"]
    assert mine["signals"] > 50 and mine["status"] == "problems"
    assert any("malformed.yaml:5: invalid YAML" in p for p in mine["problems"])
    events = [json.loads(line) for line in out.read_text().splitlines()]
    for event in events:
        assert_valid_event(event)
    assert len(memory_emitter.events) == len(events)
    train = next(e for e in events if e["job"]["name"] == "train.card_fraud")
    assert train["job"]["facets"]["jobType"]["jobType"] == "TRAINING"
    model = next(o for o in train["outputs"] if o["name"] == "card_fraud")
    lineage = model["facets"]["columnLineage"]["fields"]["amount_sum_1h"]["inputFields"]
    assert [(i["namespace"], i["name"], i["field"]) for i in lineage] == [
        ("feature://feast", "card_txn_1h", "amount_sum_1h")
    ]


def test_ml_config_scan_command_prints_json_and_writes_events(
    tmp_path, plugin_manager, run_cli, assert_valid_event
) -> None:
    out = tmp_path / "events.jsonl"
    pm = plugin_manager(("ml_config", plugin))
    result = run_cli(
        pm, "ml-config", "scan", str(CORPUS / "training"), "--json", "-o", str(out), "--registry", "mlflow"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["files"] == 5 and data["signals"] >= 10
    edge = next(
        e for e in data["edges"] if e["target"] == "datasetField:model://mlflow:card_fraud:txn_count_1h"
    )
    assert (
        edge["confidence"] == 0.9 and edge["evidence"][0]["detail"]["key_path"] == "features[0].features[0]"
    )
    assert any("unresolved interpolation" in p for p in data["problems"])
    for line in out.read_text().splitlines():
        assert_valid_event(json.loads(line))


def test_ml_config_scan_command_table_and_missing_path(tmp_path, plugin_manager, run_cli) -> None:
    pm = plugin_manager(("ml_config", plugin))
    result = run_cli(pm, "ml-config", "scan", str(CORPUS / "serving" / "services.yaml"))
    assert result.exit_code == 0 and "DispatchRanker.rank" in result.stdout
    with pytest.raises(UserError, match="no such file or folder"):
        run_cli(pm, "ml-config", "scan", str(tmp_path / "nope"))


def test_example_estate_configs_give_the_ml_lineage_the_example_declared_before() -> None:
    signals, infos, problems = collect(
        EXAMPLE_ML.parent, paths=["ml"], registry="registry", table_namespace="hive://warehouse:9083"
    )
    assert problems == []
    assert sorted(flow(s) for s in signals) == sorted(
        [
            "materialize.user_location_features: hive://warehouse:9083/analytics.user_location_daily#top_location"
            " -> feature://feast/user_location_features#home_city",
            "materialize.user_location_features: hive://warehouse:9083/analytics.user_location_daily#top_location"
            " -> feature://feast/user_location_features#recent_locations",
            "materialize.user_location_features: hive://warehouse:9083/analytics.user_location_daily#user_id_hash"
            " -> feature://feast/user_location_features#user_id_hash",
            "train.nearby_friends_model: feature://feast/user_location_features#recent_locations"
            " -> model://registry/nearby_friends_model#recent_locations",
            "train.nearby_friends_model: hive://warehouse:9083/analytics.friend_request_outcomes"
            " -> model://registry/nearby_friends_model",
            "train.ad_targeting_model: feature://feast/user_location_features#home_city"
            " -> model://registry/ad_targeting_model#home_city",
            "train.ad_targeting_model: feature://feast/user_location_features#recent_locations"
            " -> model://registry/ad_targeting_model#recent_locations",
            "FriendSuggestionsHandler.suggest: model://registry/nearby_friends_model#recent_locations"
            " -> service://friend-suggestions//v1/suggest#suggested_friends",
            "AdsRanker.rank: model://registry/ad_targeting_model#home_city -> service://ads-ranking//v1/rank#ranked_ads",
            "AdsRanker.rank: model://registry/ad_targeting_model#recent_locations"
            " -> service://ads-ranking//v1/rank#ranked_ads",
            "PeopleYouMayKnowController.render: service://friend-suggestions//v1/suggest#suggested_friends"
            " -> service://www//people-you-may-know",
            "FeedController.render: service://ads-ranking//v1/rank#ranked_ads -> service://www//feed",
        ]
    )
    home = next(
        s for s in signals if s.target is not None and s.target.field == "home_city" and s.source.field
    )
    assert (home.transformation.type, home.transformation.subtype) == ("DIRECT", "AGGREGATION")
    tags = {
        (i.asset.field, i.tags) for i in infos if i.asset.name == "user_location_features" and i.asset.field
    }
    assert tags == {("home_city", ("location",)), ("recent_locations", ("location",))}


def test_strict_lists_unknown_formats_and_explain_says_what_was_looked_for(plugin_manager, run_cli) -> None:
    pm = plugin_manager(("ml_config", plugin))
    quiet = run_cli(pm, "ml-config", "scan", str(CORPUS / "bad"), "--json")
    assert not any("unknown format" in p for p in json.loads(quiet.stdout)["problems"])
    strict = run_cli(pm, "ml-config", "scan", str(CORPUS / "bad"), "--json", "--strict")
    assert any(
        p.startswith("github_ci.yaml: skipped: unknown format") for p in json.loads(strict.stdout)["problems"]
    )
    explained = run_cli(pm, "ml-config", "scan", "--explain", str(CORPUS / "bad" / "github_ci.yaml"))
    assert explained.exit_code == 0, explained.output
    lines = explained.stdout.splitlines()
    assert lines[0].startswith("github_ci.yaml: skipped: unknown format")
    # YAML 1.1 reads the key `on` as True
    assert any(line.strip().startswith("top-level keys: True, jobs, name") for line in lines)
    assert any("no   kserve: `kind:` InferenceService" in line for line in lines)
    graph = run_cli(pm, "ml-config", "scan", "--explain", str(CORPUS / "serving" / "kserve" / "graph.yaml"))
    assert graph.stdout.splitlines()[0] == "graph.yaml: kserve"
    assert sum("yes  kserve" in line for line in graph.stdout.splitlines()) == 3
    broken = run_cli(pm, "ml-config", "scan", "--explain", str(CORPUS / "bad" / "malformed.yaml"))
    assert broken.stdout.startswith("malformed.yaml: not read: invalid YAML")


def test_ml_config_scan_exits_1_when_no_file_could_be_read(tmp_path, plugin_manager, run_cli) -> None:
    (tmp_path / "broken.yaml").write_text("model: [\n")
    (tmp_path / "blob.yaml").write_bytes(b"\x00\x01\x02\xff")
    pm = plugin_manager(("ml_config", plugin))
    failed = run_cli(pm, "ml-config", "scan", str(tmp_path))
    assert failed.exit_code == 1
    assert (
        "broken.yaml:2: invalid YAML" in failed.stderr and "blob.yaml: skipped: binary file" in failed.stderr
    )
    assert "error: no flows read from" in failed.stderr and "Traceback" not in failed.output
    # one readable config beside the broken ones: the run did its job, the problems stay warnings
    (tmp_path / "train.yaml").write_text(
        "model:\n  name: churn\ndata:\n  train: hive://wh/analytics.sessions\n"
    )
    partial = run_cli(pm, "ml-config", "scan", str(tmp_path), "--json")
    assert partial.exit_code == 0, partial.output
    assert json.loads(partial.stdout)["signals"] >= 1
