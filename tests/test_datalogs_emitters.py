"""The export's own lineage events reach the emitters a config sets up, like a scan's: here the
OpenLineage client's file transport (a real emitter, flowscope-emitters), and a dead HTTP endpoint."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowscope.plugins import make_manager

ROOT = Path(__file__).resolve().parents[1]
WAREHOUSE = ROOT / "examples" / "photo_sharing" / "warehouse"


def _example(base: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_data", WAREHOUSE / "make_data.py")
    assert spec is not None and spec.loader is not None
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    make_data.generate(base / "data", users=60, days=2)
    shutil.copytree(WAREHOUSE / "datalogs", base / "datalogs")


def _run(run_cli: Callable[..., Any], base: Path, name: str, config: str) -> Any:
    (base / f"{name}.yaml").write_text(config, encoding="utf-8")
    return run_cli(
        make_manager(load_entrypoints=True), "--store", str(base / name / "store"), "datalogs", "run",
        "--catalog", str(base / "datalogs" / "catalog.yaml"), "--requests", str(base / "datalogs" / "requests.jsonl"),
        "--delivery", str(base / name / "delivery"), "--state", str(base / name / "state"),
        "--events", str(base / name / "events.jsonl"), "--config", str(base / f"{name}.yaml"), "--json",
    )  # fmt: skip


def test_the_exports_events_reach_the_configured_file_transport(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    _example(tmp_path)
    config = "openlineage:\n  transport: {type: file, log_file_path: sent.jsonl, append: true}\n"
    result = _run(run_cli, tmp_path, "ok", config)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    written = [json.loads(line) for line in (tmp_path / "ok" / "events.jsonl").read_text().splitlines()]
    sent = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    assert report["events_emitted"] == len(sent) == len(written) > 0 and report["emit_errors"] == []
    key = lambda e: (e["run"]["runId"], e["eventType"])  # noqa: E731
    assert sorted(map(key, sent)) == sorted(map(key, written))
    jobs = {e["job"]["name"] for e in sent}
    assert {"datalogs.batch", "datalogs.requesters", "datalogs.package"} <= jobs
    assert any(j.startswith("datalogs.join.") for j in jobs)
    package = next(e for e in sent if e["job"]["name"] == "datalogs.package" and e["outputs"])
    assert package["outputs"][0]["namespace"] == "file"


def test_an_emitter_that_fails_is_reported_and_the_packages_are_delivered(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    _example(tmp_path)
    config = "openlineage:\n  transport: {type: http, url: 'http://127.0.0.1:9', timeout: 2}\n"
    result = _run(run_cli, tmp_path, "dead", config)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    [error] = report["emit_errors"]
    assert error.startswith("batch b-") and "127.0.0.1:9" in error, error
    assert report["events_emitted"] == 0 and report["ok"] is False
    [batch] = report["batches"]
    assert batch["status"] == "done" and batch["packages"] == 4
    assert len(list((tmp_path / "dead" / "delivery").glob("*.zip"))) == 4
    assert (tmp_path / "dead" / "events.jsonl").read_text()  # the events are kept all the same
