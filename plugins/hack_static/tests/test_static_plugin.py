from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowscope.errors import UserError
from flowscope_hack_static import plugin

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "photo_sharing"

CONFIG = """plugins:
  declared:
    files: [flows/app.yaml]
  hack_static:
    paths: [app]
    jobs:
      app/www: service://www
      app/scribe_client: service://photo-upload-logger
"""


def test_entry_point_is_installed(plugin_manager: Callable[..., Any]) -> None:
    pm = plugin_manager(entrypoints=True)
    assert "hack_static" in [name for name, p in pm.list_name_plugin() if p is not None]


def test_static_scan_on_the_example_app(
    tmp_path: Path,
    plugin_manager: Callable[..., Any],
    run_cli: Callable[..., Any],
    assert_valid_event: Callable[..., None],
) -> None:
    pm = plugin_manager(("hack_static", plugin))
    out = tmp_path / "events.jsonl"
    result = run_cli(
        pm,
        "static",
        "scan",
        str(EXAMPLE / "app"),
        "--job-namespace",
        "service://www",
        "-o",
        str(out),
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["languages"]["hack"]["files"] == 1 and summary["languages"]["cpp"]["files"] == 1
    assert summary["problems"] == [] and summary["dead_flows"] >= 2
    pure, native = (os.environ.get(f"FLOWSCOPE_STATIC_{k}") == "1" for k in ("PURE", "REQUIRE_NATIVE"))
    assert summary["lowering"] in (
        ("python",) if pure else ("compiled",) if native else ("compiled", "python")
    )
    edges = {(e["source"], e["target"]): e for e in summary["edges"]}
    photos = "datasetField:mysql://appdb:3306:photos_app.photos"
    api = ("http://nearby-friends.internal:/api/v1/nearby_friends", "log://scribe:photo_uploads")
    assert (f"{photos}:location", f"datasetField:{api[0]}:location") in edges
    assert (f"{photos}:location", f"datasetField:{api[1]}:location") in edges
    upload = "datasetField:https://www.photoshare.example:/api/v1/photos/upload"
    assert (f"{upload}:viewer_id", f"{photos}:user_id") in edges
    nearby = edges[(f"{photos}:location", f"datasetField:{api[0]}:location")]
    assert nearby["guards"] == ["$this->viewerSharesLocation()"] and nearby["confidence"] <= 0.4
    assert nearby["evidence"][-1]["location"].startswith("www/flib/photos/PhotoUploadController.php:")
    targets = {e["target"] for e in summary["edges"]}
    assert not any("debug_uploads" in t or "client_versions" in t or "photo_upload_raw" in t for t in targets)
    masked = [e for e in summary["edges"] if "hash" in e["target"]]
    assert len(masked) == 2 and all(e["masked"] and e["confidence"] <= 0.4 for e in masked)
    for line in out.read_text().splitlines():
        assert_valid_event(json.loads(line))


def test_scan_merges_static_and_declared_evidence_on_the_same_edges(
    tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    shutil.copytree(EXAMPLE / "app", tmp_path / "app")
    (tmp_path / "flows").mkdir()
    shutil.copy(EXAMPLE / "flows" / "app.yaml", tmp_path / "flows" / "app.yaml")
    config = tmp_path / "flowscope.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    pm = plugin_manager(("hack_static", plugin))
    result = run_cli(pm, "scan", "--config", str(config), "--json")
    assert result.exit_code == 0, result.output
    mine = next(c for c in json.loads(result.stdout)["collectors"] if c["name"] == "hack_static")
    assert mine["signals"] >= 15 and not mine["problems"]
    down = run_cli(pm, "lineage", "downstream", "photos.location", "--json")
    reached = {(r["namespace"], r["name"], r.get("field")): r for r in json.loads(down.stdout)["reached"]}
    api = reached[("http://nearby-friends.internal", "/api/v1/nearby_friends", "location")]
    assert api["confidence"] > 0.95, "declared + static on one edge"
    why = run_cli(pm, "lineage", "why", "photos.location", "nearby_friends", "--json")
    [step] = json.loads(why.stdout)["path"]
    assert step["kinds"] == ["declared", "static"]
    hashed = reached[("log://scribe", "upload_metrics", "location_hash")]
    assert hashed["confidence"] <= 0.4, "the masked non-flow stays low"
    assert not any(name == "debug_uploads" for _, name, _ in reached)


def test_static_scan_with_a_bad_model_pack_is_one_error_line(
    tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text("sinks:\n  - call: x\n    kind: log\n    colour: red\n", encoding="utf-8")
    pm = plugin_manager(("hack_static", plugin))
    with pytest.raises(UserError, match=r"bad\.yaml:4: sinks\[0\]\.colour: unknown key"):
        run_cli(
            pm, "static", "scan", str(EXAMPLE / "app"), "--models", str(pack)
        )  # main() prints it as error:


def test_static_scan_with_a_user_pack(
    tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    app = EXAMPLE / "app"
    pm = plugin_manager(("hack_static", plugin))
    pack = app / "models" / "nearby_friends.yaml"
    result = run_cli(pm, "static", "scan", str(app / "nearby_friends"), "--models", str(pack), "--json")
    assert result.exit_code == 0, result.output
    edges = json.loads(result.stdout)["edges"]
    targets = {e["target"]: e for e in edges}
    cache = targets["datasetField:cache://nearby-cache:last_location:{}:location"]
    assert cache["source"] == "datasetField:http://nearby-friends.internal:/api/v1/nearby_friends:location"
    assert all(e["masked"] for t, e in targets.items() if t.startswith("datasetField:log://"))
