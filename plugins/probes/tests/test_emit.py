"""``emit``: a long-running service sends its flushes as OpenLineage events through flowscope's emitters."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import spool_of
from flask import Flask, request
from openlineage.client.serde import Serde

import flowscope_probes
from flowscope import hookimpl
from flowscope.plugins import make_manager
from flowscope_probes import emit


def app() -> Flask:
    flask_app = Flask("emit")

    @flask_app.route("/api/v1/nearby_friends", methods=["POST"])
    def update_last_location() -> str:
        flowscope_probes.sink("cache://nearby-cache/last_location:{}", request.get_json()["location"])
        return "ok"

    return flask_app


def post(n: int) -> None:
    client = app().test_client()
    for i in range(n):
        client.post("/api/v1/nearby_friends", json={"location": f"48.{i:04d}1,2.3{i:04d}"})


def test_flushes_become_valid_openlineage_events(
    probes: Callable[..., Any],
    tmp_path: Path,
    memory_emitter: Any,
    monkeypatch: pytest.MonkeyPatch,
    assert_valid_event: Callable[[dict[str, Any]], None],
) -> None:
    cfg = tmp_path / "flowscope.yaml"
    cfg.write_text("openlineage: {}\n")
    monkeypatch.setattr(emit, "make_manager", lambda: make_manager(False, [memory_emitter.plugin]))
    rt = probes(service="nearby-friends", http_host="nearby-friends.internal", emit=str(cfg))
    post(5)
    spool_of(rt)
    events = [json.loads(Serde.to_json(e)) for e in memory_emitter.events]
    assert len(events) == 2 and memory_emitter.closed == 1  # the scan-level event and one job event
    for event in events:
        assert_valid_event(event)
    job = events[1]
    assert (job["job"]["namespace"], job["job"]["name"]) == (
        "service://nearby-friends",
        "update_last_location",
    )
    (out,) = job["outputs"]
    (edge,) = out["facets"]["flowscope"]["edges"]
    assert (out["namespace"], out["name"], edge["outputField"]) == (
        "cache://nearby-cache",
        "last_location:{}",
        "location",
    )
    assert edge["kinds"] == [{"kind": "runtime", "match": "EXACT_MATCH"}] and edge["count"] == 5
    assert "48.0001" not in json.dumps(events)  # no raw value in any event


class Broken:
    kind = "broken"

    def from_config(self, config: Any, base_dir: Path) -> Any:
        return self

    def emit(self, event: Any) -> None:
        raise ConnectionError("marquez is down")

    def close(self) -> None:
        return None


class BrokenPlugin:
    @hookimpl
    def register_emitters(self, register: Callable[[object], None]) -> None:
        register(Broken())


def test_a_failing_emitter_is_counted_and_the_spool_still_written(
    probes: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = tmp_path / "flowscope.yaml"
    cfg.write_text("openlineage: {}\n")
    monkeypatch.setattr(emit, "make_manager", lambda: make_manager(False, [("broken", BrokenPlugin())]))
    caplog.set_level(logging.WARNING, "flowscope_probes")
    rt = probes(emit=str(cfg))
    post(3)
    flowscope_probes.flush()
    post(2)
    spool = spool_of(rt)
    assert rt.worker.stats.emit_failures == 2
    assert [r.getMessage() for r in caplog.records if "emit" in r.getMessage()] == [
        "flowscope probes: cannot emit OpenLineage events: ConnectionError: marquez is down"
    ]
    assert spool.samples == {"service://svc|update_last_location": 5}
