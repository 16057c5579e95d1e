"""``flowscope probes status|show``: the spool without a scan; bad input is one clean error line."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from test_collector import CACHE, LOG, row, write_spool

from flowscope_probes import plugin


def spool(tmp_path: Path) -> Path:
    health = {
        "v": 1,
        "type": "health",
        "at": 1.7e9,
        "pid": 41,
        "sampled": 12,
        "processed": 12,
        "dropped_queue": 3,
        "faults": {"root.sources": 1},
    }
    return write_spool(
        tmp_path / "spool",
        row("location", CACHE, "EXACT_MATCH", 12),
        row("user_id", LOG, "NO_MATCH", 12),
        {
            "v": 1,
            "type": "samples",
            "at": 1.7e9,
            "job": "service://nearby-friends|update_last_location",
            "samples": 12,
        },
        health,
        tail="{cut",
    ).parent


def test_status(tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]) -> None:
    pm = plugin_manager(("probes", plugin))
    result = run_cli(pm, "probes", "status", str(spool(tmp_path)))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "1 spool files, 4 lines, 1 bad lines"
    assert lines[1].startswith(
        "  nearby-friends-1-1.jsonl: pid 41, sampled 12, processed 12, dropped_queue 3"
    )
    assert lines[1].endswith("faults 1")
    assert "nearby-friends-1-1.jsonl:5: line cut short" in result.stderr


def test_show_and_json(
    tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    pm = plugin_manager(("probes", plugin))
    folder = spool(tmp_path)
    text = run_cli(pm, "probes", "show", str(folder)).stdout
    assert "service://nearby-friends|update_last_location  EXACT_MATCH x12" in text
    assert f"    http://nearby-friends.internal|/api/v1/nearby_friends#location -> {CACHE}" in text
    assert "sampled: service://nearby-friends|update_last_location  12 requests" in text
    data = json.loads(run_cli(pm, "probes", "show", str(folder), "--json").stdout)
    assert [r["match"] for r in data["rows"]] == ["EXACT_MATCH", "NO_MATCH"]
    assert data["samples"] == {"service://nearby-friends|update_last_location": 12}


def test_spool_from_the_config_and_missing_spool(
    tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    spool(tmp_path)
    cfg = tmp_path / "flowscope.yaml"
    cfg.write_text("plugins:\n  probes:\n    spool: spool\n")
    pm = plugin_manager(("probes", plugin))
    assert "EXACT_MATCH x12" in run_cli(pm, "probes", "show", "--config", str(cfg)).stdout
    missing = subprocess.run(  # the installed CLI, as a user runs it
        [
            sys.executable,
            "-c",
            "from flowscope.cli import main; main()",
            "probes",
            "status",
            str(tmp_path / "nope"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert (
        missing.stderr.strip()
        == f"error: no spool at {tmp_path / 'nope'} (run the service under probes first)"
    )


def test_a_crafted_spool_prints_escaped_and_never_crashes(
    tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    """Spool files are read from disk: a label holding escape sequences is printed escaped, and a health
    line with counters of the wrong type counts them as 0 instead of a traceback."""
    evil = "\x1b[2J\rALL CLEAR"
    folder = write_spool(
        tmp_path / "spool",
        {**row("location", CACHE, "EXACT_MATCH", 3), "job": f"service://svc|{evil}"},
        {
            "v": 1,
            "type": "health",
            "at": 1.7e9,
            "pid": "x",
            "sampled": "many",
            "faults": ["not", "a", "dict"],
            "unobserved": {evil: "2"},
        },
    ).parent
    pm = plugin_manager(("probes", plugin))
    for command in ("status", "show"):
        result = run_cli(pm, "probes", command, str(folder))
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\r" not in result.output
    assert "\\x1b[2J\\x0dALL CLEAR" in run_cli(pm, "probes", "show", str(folder)).stdout
