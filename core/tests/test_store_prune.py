"""Stale scopes (issue 14, item 10): a renamed config or a deleted ingested file is reported by the next
scan and removed by ``flowscope store prune``; ``--dry-run`` changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowscope.store import Store

FLOWS = """\
assets:
  users: {namespace: mysql://db:3306, name: app.users, fields: [email]}
  signups: {namespace: log://scribe, name: signups, fields: [email]}
jobs:
  signup: {namespace: service://www}
flows:
  - {job: signup, from: users, to: signups, fields: [email]}
"""

EVENT = {
    "eventType": "COMPLETE",
    "eventTime": "2024-06-01T00:00:00Z",
    "producer": "https://example.com/producer",
    "run": {"runId": "01900000-0000-7000-8000-000000000001"},
    "job": {"namespace": "airflow", "name": "dag.copy"},
    "inputs": [{"namespace": "postgres://db:5432", "name": "app.a"}],
    "outputs": [{"namespace": "postgres://db:5432", "name": "app.b"}],
}


def output(result: Any) -> str:
    try:
        return str(result.stdout) + str(result.stderr)
    except ValueError:  # stderr not captured apart
        return str(result.output)


def scopes(tmp_path: Path) -> list[tuple[str, str]]:
    with Store.open(tmp_path / "store") as store:
        return store.scopes()


def test_a_renamed_config_is_reported_and_pruned(tmp_path: Path, plugin_manager, run_cli) -> None:  # type: ignore[no-untyped-def]
    estate = tmp_path / "estate"
    (estate / "flows").mkdir(parents=True)
    (estate / "flows" / "app.yaml").write_text(FLOWS)
    config = "plugins:\n  declared:\n    files: [flows/*.yaml]\nscan:\n  collectors: [declared]\n"
    (estate / "old.yaml").write_text(config)
    pm = plugin_manager()
    assert run_cli(pm, "scan", "--config", str(estate / "old.yaml")).exit_code == 0
    before = scopes(tmp_path)
    assert {c for c, _ in before} == {"declared", "scan"}

    (estate / "old.yaml").rename(estate / "new.yaml")
    got = run_cli(pm, "scan", "--config", str(estate / "new.yaml"), "--json")
    assert got.exit_code == 0
    assert json.loads(got.stdout)["stale_sources"] == [str((estate / "old.yaml").resolve())]
    got = run_cli(pm, "scan", "--config", str(estate / "new.yaml"))
    assert "whose input no longer exists" in output(got) and "old.yaml" in output(got)
    assert len(scopes(tmp_path)) == 4  # both configs' scopes, until pruned

    got = run_cli(pm, "store", "prune", "--dry-run")
    assert got.exit_code == 0
    assert got.stdout.count("would remove: ") == 2 and "old.yaml no longer exists" in got.stdout
    assert len(scopes(tmp_path)) == 4  # a dry run changes nothing

    got = run_cli(pm, "store", "prune")
    assert got.exit_code == 0 and got.stdout.count("removed: ") == 2
    after = scopes(tmp_path)
    assert len(after) == 2 and not set(after) & set(before)  # only new.yaml's scopes remain
    with Store.open(tmp_path / "store") as store:
        assert len(store.edges()) == 1  # the flow is still there, backed by new.yaml
    got = run_cli(pm, "scan", "--config", str(estate / "new.yaml"))
    assert "no longer exists" not in output(got)
    assert run_cli(pm, "store", "prune").stdout.strip() == "nothing to prune"


def test_edges_of_a_deleted_ingested_file_are_pruned(tmp_path: Path, plugin_manager, run_cli) -> None:  # type: ignore[no-untyped-def]
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(EVENT) + "\n")
    kept = tmp_path / "kept.jsonl"
    kept.write_text(
        json.dumps(
            {
                **EVENT,
                "run": {"runId": "01900000-0000-7000-8000-000000000002"},
                "job": {"namespace": "airflow", "name": "dag.other"},
                "outputs": [{"namespace": "postgres://db:5432", "name": "app.c"}],
            }
        )
        + "\n"
    )
    pm = plugin_manager()
    assert run_cli(pm, "ingest", str(events), str(kept)).exit_code == 0
    with Store.open(tmp_path / "store") as store:
        assert {e.job.name for e in store.edges()} == {"dag.copy", "dag.other"}
    events.unlink()
    got = run_cli(pm, "store", "prune")
    assert got.exit_code == 0
    assert f"removed: ingest scope {events.resolve()}" in got.stdout
    with Store.open(tmp_path / "store") as store:
        assert {e.job.name for e in store.edges()} == {"dag.other"}
