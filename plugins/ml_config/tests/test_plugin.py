from __future__ import annotations

import json
from pathlib import Path

from flowscope_ml_config import plugin


def write_config(tmp_path: Path) -> Path:
    (tmp_path / "flows.txt").write_text(
        "postgres://db:5432/app.users#email -> log://default/signups#email\nnot a flow\n", encoding="utf-8"
    )
    config = tmp_path / "flowscope.yaml"
    config.write_text("plugins:\n  ml_config:\n    files: ['*.txt']\n", encoding="utf-8")
    return config


def test_entry_point_is_installed(plugin_manager) -> None:
    pm = plugin_manager(entrypoints=True)
    assert "ml_config" in [name for name, p in pm.list_name_plugin() if p is not None]


def test_scan_collects_flows_and_reports_bad_lines(tmp_path, plugin_manager, memory_emitter, run_cli, assert_valid_event) -> None:
    config = write_config(tmp_path)
    out = tmp_path / "events.jsonl"
    pm = plugin_manager(("ml_config", plugin), memory_emitter.plugin)
    result = run_cli(pm, "scan", "--config", str(config), "--only", "ml_config", "-o", str(out), "--json")
    summary = json.loads(result.stdout)
    [mine] = [c for c in summary["collectors"] if c["name"] == "ml_config"]
    assert mine["signals"] == 1
    assert mine["problems"] and "flows.txt:2" in mine["problems"][0]
    events = [json.loads(line) for line in out.read_text().splitlines()]
    for event in events:
        assert_valid_event(event)
    outputs = [o["name"] for e in events for o in e.get("outputs", [])]
    assert "signups" in outputs
    assert len(memory_emitter.events) == len(events)
