"""``flowscope scan`` with an ``openlineage:`` transport that is down: the events go to the same spool as
``flowscope emit``'s, with the same message and exit code, and ``flowscope emit --replay`` sends them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import flowscope_emitters.plugin
from flowscope.cli import main
from flowscope.plugins import make_manager
from flowscope.store import Store

EXAMPLE_FLOWS = Path(__file__).resolve().parents[2] / "examples" / "photo_sharing" / "flows"


@pytest.fixture(autouse=True)
def cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "flowscope.cli.make_manager",
        lambda: make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)]),
    )


def config(tmp_path: Path, transport: dict[str, Any]) -> Path:
    path = tmp_path / "flowscope.yaml"
    doc = {
        "plugins": {"declared": {"files": [f"{EXAMPLE_FLOWS.as_posix()}/*.yaml"]}},
        "openlineage": {"transport": transport},
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    code = done.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


def http(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "http", "url": url, "timeout": 1, "retry": {"total": 0}, **extra}


def retarget(spool: Path, pattern: str, url: str) -> None:
    """The backend is back, at another address here: point the spooled records at it."""
    for path in spool.glob(pattern):
        records = [json.loads(x) for x in path.read_text().splitlines()]
        for r in records:
            r["target"] = json.dumps({**json.loads(r["target"]), "url": url}, sort_keys=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_dead_marquez_during_a_scan_spools_like_emit(
    tmp_path: Path, capsys: Any, dead_url: str, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__API_KEY", "s3cret-key")
    cfg = config(tmp_path, http(dead_url, auth={"type": "api_key"}))
    code, err = run(capsys, "--store", str(store), "scan", "-c", str(cfg))
    with Store.open(store) as s:
        stored = list(s.events())
    assert code == 1
    [line] = [x for x in err.splitlines() if x.startswith("error:")]
    assert line == (
        f"error: emitter openlineage: openlineage http transport: cannot reach {dead_url}/api/v1/lineage: "
        f"connection refused; {len(stored)} event(s) kept in {store / 'spool'}; resend with `flowscope emit --replay`"
    )
    # `flowscope emit` against the same dead server says the same things, with the same exit code.
    code, emitted = run(capsys, "--store", str(store), "emit", "--to", "marquez", dead_url, "--retries", "1")
    assert code == 1
    assert (
        f"error: openlineage http transport: cannot reach {dead_url}/api/v1/lineage: connection refused"
        in emitted
    )
    assert f"event(s) kept in {store / 'spool'}; resend with `flowscope emit --replay`" in emitted
    [scan_spool] = (store / "spool").glob("openlineage-*.jsonl")
    assert "s3cret-key" not in scan_spool.read_text(), "no secret is written to the spool"
    # Replay once the backend is back: the events the scan could not send arrive, with the key from the env.
    for marquez_spool in (store / "spool").glob("marquez-*.jsonl"):
        marquez_spool.unlink()
    retarget(store / "spool", "openlineage-*.jsonl", server.url)
    code, err = run(capsys, "--store", str(store), "emit", "--replay")
    assert code == 0, err
    assert f"openlineage http {server.url}: {len(stored)} sent" in err
    assert [r["body"]["run"]["runId"] for r in server.requests] == [e["run"]["runId"] for e in stored]
    assert {r["headers"].get("Authorization") for r in server.requests} == {"Bearer s3cret-key"}
    assert list((store / "spool").glob("*.jsonl*")) == []


def test_composite_with_a_dead_child_spools_that_child_only(
    tmp_path: Path, capsys: Any, dead_url: str, server: Any
) -> None:
    store = tmp_path / "store"
    local = tmp_path / "events.jsonl"
    transport = {
        "type": "composite",
        "transports": {
            "marquez": http(dead_url),
            "local": {"type": "file", "log_file_path": str(local), "append": True},
        },
    }
    code, err = run(capsys, "--store", str(store), "scan", "-c", str(config(tmp_path, transport)))
    with Store.open(store) as s:
        stored = list(s.events())
    assert code == 1
    assert f"({len(stored)} event(s) not delivered there); the other transports delivered every event" in err
    assert f"{len(stored)} event(s) kept in {store / 'spool'}" in err
    assert len(local.read_text().splitlines()) == len(stored), "the live child got every event"
    [spooled] = (store / "spool").glob("openlineage-*.jsonl")
    targets = {json.loads(x)["target"] for x in spooled.read_text().splitlines()}
    assert [json.loads(t)["type"] for t in targets] == ["http"], "only the dead child's events"
    retarget(store / "spool", "openlineage-*.jsonl", server.url)
    code, err = run(capsys, "--store", str(store), "emit", "--replay")
    assert code == 0, err
    assert len(server.requests) == len(stored)


def test_a_live_backend_gets_every_event_and_nothing_is_spooled(
    tmp_path: Path, capsys: Any, server: Any
) -> None:
    store = tmp_path / "store"
    code, err = run(capsys, "--store", str(store), "scan", "-c", str(config(tmp_path, http(server.url))))
    assert code == 0, err
    with Store.open(store) as s:
        assert len(server.requests) == len(list(s.events()))
    assert not (store / "spool").exists()
