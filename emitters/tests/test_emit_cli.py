"""``flowscope emit`` through core's real CLI: the emitters plugin mounts it with register_commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import RunEvent

import flowscope_emitters.plugin
from flowscope.cli import main
from flowscope.events import event_to_dict
from flowscope.plugins import make_manager
from flowscope.store import Store


@pytest.fixture
def store(tmp_path: Path, events: list[RunEvent], monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "store"
    with Store.open(where) as s:
        s.replace("scan", "scope-1", [], [], [event_to_dict(e) for e in events])
    monkeypatch.setenv("FLOWSCOPE_STORE", str(where))
    monkeypatch.setattr(
        "flowscope.cli.make_manager",
        lambda: make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)]),
    )
    return where


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out.out, out.err


def test_emit_to_file(store: Path, tmp_path: Path, events: list[RunEvent], capsys: Any) -> None:
    target = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "emit", "--to", "file", str(target))
    assert code == 0, err
    assert f"file {target}: {len(events)} sent" in err
    sent = [json.loads(x) for x in target.read_text().splitlines()]
    assert sent == [event_to_dict(e) for e in events]


def test_dead_marquez_then_replay(
    store: Path, dead_url: str, server: Any, events: list[RunEvent], capsys: Any
) -> None:
    code, _, err = run(capsys, "emit", "--to", "marquez", dead_url, "--retries", "2", "--backoff", "0.01")
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0] == f"marquez {dead_url}: 0 sent"
    assert lines[1] == (
        f"error: openlineage http transport: cannot reach {dead_url}/api/v1/lineage: connection refused "
        "(gave up after 2 attempts)"
    )
    assert f"{len(events)} event(s) kept in {store / 'spool'}" in lines[2]
    assert "Traceback" not in err
    # Nothing to replay into while it is still dead: the events stay spooled.
    code, _, err = run(capsys, "emit", "--replay", "--retries", "1")
    assert code == 1 and "kept in" in err
    # Point the spool at the live server and replay.
    spool_file = next((store / "spool").glob("*.jsonl"))
    records = [json.loads(x) for x in spool_file.read_text().splitlines()]
    spool_file.write_text("".join(json.dumps({**r, "target": server.url}) + "\n" for r in records))
    code, _, err = run(capsys, "emit", "--replay")
    assert code == 0, err
    assert f"marquez {server.url}: {len(events)} sent" in err
    assert len(server.requests) == len(events)
    code, out, _ = run(capsys, "emit", "--replay")
    assert (code, out.strip()) == (0, "nothing to replay")


def test_bad_usage_is_one_line(store: Path, capsys: Any) -> None:
    code, _, err = run(capsys, "emit", "--to", "marquez")
    assert code == 1
    assert err.strip() == (
        "error: --to marquez needs a TARGET, for example `flowscope emit --to marquez http://localhost:5000`"
    )
    code, _, err = run(capsys, "emit", "--to", "nowhere", "x")
    assert code == 1 and err.startswith("error: --to: unknown target 'nowhere'")


def test_no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("FLOWSCOPE_STORE", str(tmp_path / "none"))
    code, _, err = run(capsys, "emit", "--to", "file", str(tmp_path / "x.jsonl"))
    assert code == 1 and "no lineage store here yet" in err


def test_emit_json_and_progress_lines_off_a_terminal(
    store: Path, tmp_path: Path, events: list[RunEvent], capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWSCOPE_PROGRESS", "lines")  # what a pipe or CI log gets
    monkeypatch.setenv("FLOWSCOPE_PROGRESS_EVERY", "0")  # a line per event instead of every 10 s
    target = tmp_path / "out.jsonl"
    code, out, err = run(capsys, "emit", "--to", "file", str(target), "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "results": [
            {
                "to": "file",
                "target": str(target),
                "sent": len(events),
                "spooled": 0,
                "rejected": [],
                "error": None,
            }
        ],
        "ok": True,
    }
    progress = [line for line in err.splitlines() if line.startswith("emit to file: ")]
    assert progress[-1].startswith(f"emit to file: {len(events)}/{len(events)} events")


def test_help_shows_plain_types(store: Path, capsys: Any) -> None:
    code, out, _ = run(capsys, "emit", "--help")
    assert code == 0
    assert "<bool>" not in out and "<str>" not in out and "<float>" not in out
    assert "FLOAT" in out and "PATH" in out
