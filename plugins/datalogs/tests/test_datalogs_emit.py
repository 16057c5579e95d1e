"""``run --config``: the export's lineage events go to the emitters that config sets up (a recording
emitter here, set up by a ``plugins.recorder`` section; tests/test_datalogs_emitters.py drives the real
OpenLineage emitter), and an emitter's failure is reported without undoing the delivery."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from conftest import Result, delivered, run_args

from flowscope import hookimpl
from flowscope.events import event_to_dict
from flowscope.plugins import Manager


class Recorder:
    """An emitter configured by ``plugins: {recorder: {fail: bool}}``; it keeps what it is sent."""

    kind = "recorder"

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail = False

    def from_config(self, config: Mapping[str, Any], base_dir: Path) -> Recorder | None:
        section = (config.get("plugins") or {}).get("recorder")
        if section is None:
            return None
        self.fail = bool(section.get("fail"))
        return self

    def emit(self, event: Any) -> None:
        if self.fail:
            raise ConnectionError("the catalog is down")
        self.events.append(event_to_dict(event))

    def close(self) -> None:
        pass


def _with_recorder(manager: Manager) -> Recorder:
    recorder = Recorder()

    class Plugin:
        @hookimpl
        def register_emitters(self, register: Callable[[object], None]) -> None:
            register(recorder)

    manager.register(Plugin(), name="recorder")
    return recorder


def test_run_sends_the_exports_events_to_the_configured_emitters(
    example: Path, cli: Callable[..., Result], manager: Manager
) -> None:
    recorder = _with_recorder(manager)
    events_file = example / "events.jsonl"
    unconfigured = cli(*run_args(example, "--json", "--events", str(events_file)))  # no config: not set up
    assert unconfigured.code == 0, unconfigured.err
    assert json.loads(unconfigured.out)["events_emitted"] == 0 and recorder.events == []

    config = example / "flowscope.yaml"
    config.write_text("plugins:\n  recorder: {}\n", encoding="utf-8")
    (example / "datalogs" / "more.jsonl").write_text(
        '{"request_id": "r-Mm5nB8vC2xZ4lK7j", "user_id": 1200, "requested_at": "2024-06-12T08:00:00Z"}\n',
        encoding="utf-8",
    )
    args = run_args(
        example, "--json", "--events", str(events_file), "--config", str(config), "--max-age", "0s"
    )
    args[args.index("--requests") + 1] = str(example / "datalogs" / "more.jsonl")
    result = cli(*args)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    lines = [json.loads(x) for x in events_file.read_text(encoding="utf-8").splitlines()]
    second = lines[len(lines) - report["events_emitted"] :]  # what --events got for this run's batch
    assert report["events_emitted"] == len(recorder.events) > 0 and report["emit_errors"] == []
    assert recorder.events == second
    assert {e["job"]["name"] for e in recorder.events} >= {"datalogs.batch", "datalogs.package"}


def test_a_failing_emitter_is_reported_and_the_packages_are_delivered(
    example: Path, cli: Callable[..., Result], manager: Manager
) -> None:
    _with_recorder(manager)
    config = example / "flowscope.yaml"
    config.write_text("plugins:\n  recorder: {fail: true}\n", encoding="utf-8")
    result = cli(*run_args(example, "--config", str(config)))
    assert result.code == 1
    assert "error: batch b-" in result.err and "emitter recorder" in result.err
    assert "ConnectionError: the catalog is down" in result.err
    assert len(delivered(example / "delivery")) == 4
    again = cli(*run_args(example, "--json", "--config", str(config)))  # the batch is done: nothing resent
    assert again.code == 0 and json.loads(again.out)["batches"] == []


def test_a_bad_config_stops_the_run_before_any_work(example: Path, cli: Callable[..., Result]) -> None:
    config = example / "flowscope.yaml"
    config.write_text("openlineage: [not, a, mapping]\n", encoding="utf-8")
    result = cli(*run_args(example, "--config", str(config)))
    assert result.code == 1 and "flowscope.yaml" in result.err and "expected a mapping" in result.err
    assert not (example / "delivery").exists() or not any((example / "delivery").iterdir())
