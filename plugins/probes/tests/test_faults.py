"""Fault injection: the host behaves exactly as without probes, and nothing is lost silently."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import spool_of
from flask import Flask, request

import flowscope_probes
from flowscope_probes.context import FAULTS


def make_app(captures: int = 1) -> Flask:
    app = Flask("faults")
    app.testing = True

    @app.route("/save", methods=["POST"])
    def save_profile() -> dict[str, bool]:
        body = request.get_json()
        for i in range(captures):
            flowscope_probes.sink(f"log://python/audit#n{i}", f"saved {body['email']}")
        return {"ok": True}

    @app.route("/boom")
    def boom() -> str:
        raise KeyError("missing-thing")

    return app


def post(app: Flask, n: int = 1) -> None:
    client = app.test_client()
    for i in range(n):
        assert client.post("/save", json={"email": f"user{i}@example.org"}).status_code == 200


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_host_sees_its_own_exceptions(probes: Callable[..., Any]) -> None:
    def outcome() -> tuple[str, str]:
        with pytest.raises(KeyError) as excinfo:
            make_app().test_client().get("/boom")
        with pytest.raises(requests.ConnectionError) as conn:
            requests.get(f"http://127.0.0.1:{closed_port()}/x", params={"email": "a@example.org"}, timeout=5)
        return repr(excinfo.value), type(conn.value).__name__

    without = outcome()
    probes()
    app = Flask("calls")
    app.testing = True
    seen: list[tuple[str, str]] = []

    @app.route("/call")
    def call_out() -> str:
        seen.append(outcome())
        return "ok"

    app.test_client().get("/call")
    assert seen == [without] and outcome() == without


def test_a_fault_inside_the_probes_is_counted_not_raised(
    probes: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowscope_probes.roots import common

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("probe bug")

    rt = probes()
    monkeypatch.setattr(common.naming, "http", broken)
    before = FAULTS.counts.get("root.sources", 0)
    post(make_app())
    assert FAULTS.counts["root.sources"] == before + 1
    flowscope_probes.flush()
    assert rt.worker.health()["faults"]["root.sources"] >= 1


def test_recorder_overflow_is_bounded_and_counted(probes: Callable[..., Any]) -> None:
    rt = probes(max_captures=5)
    post(make_app(captures=12), n=2)
    spool = spool_of(rt)
    (health,) = spool.health.values()
    assert health["overflow"] == 2 * (12 + 1 - 5)  # 12 sinks and 1 source per request, 5 kept
    assert health["processed"] == 2 and spool.samples == {"service://svc|save_profile": 2}


def test_full_queue_drops_and_counts(probes: Callable[..., Any]) -> None:
    rt = probes(queue_size=2)
    with rt.worker.lock:  # the worker is stuck: the queue fills up
        post(make_app(), n=10)
        stats = rt.worker.stats
        assert stats.dropped_queue >= 7 and stats.dropped_queue + stats.sampled == 10
    spool = spool_of(rt)
    (health,) = spool.health.values()
    assert health["dropped_queue"] == stats.dropped_queue
    assert spool.samples["service://svc|save_profile"] == 10 - stats.dropped_queue


def test_unwritable_spool_is_reported_once_and_kept_until_writable(
    probes: Callable[..., Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "spool"
    blocker.write_text("a file where the spool folder should be")
    rt = probes(spool=blocker / "inner")
    caplog.set_level(logging.WARNING, "flowscope_probes")
    post(make_app(), n=3)
    flowscope_probes.flush()
    post(make_app(), n=1)
    flowscope_probes.flush()
    warnings = [r for r in caplog.records if "cannot write the spool" in r.getMessage()]
    assert len(warnings) == 1
    assert rt.worker.stats.spool_failures == 2 and rt.worker.writer.pending
    blocker.unlink()
    spool = spool_of(rt)
    assert spool.samples == {"service://svc|save_profile": 4}
    assert any(k[3] == "CONTAINS" for k in spool.rows)
    assert max(h["spool_failures"] for h in spool.health.values()) == 2


def test_dead_worker_is_restarted_and_the_loss_counted(
    probes: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    rt = probes()
    worker = rt.worker
    real = worker.process
    calls = {"n": 0}

    def dies_once(rec: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemExit("worker killed")
        real(rec)

    worker.process = dies_once  # type: ignore[method-assign]
    caplog.set_level(logging.WARNING, "flowscope_probes")
    post(make_app(), n=1)
    deadline = time.monotonic() + 5
    while worker.thread is not None and worker.thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.thread is not None and not worker.thread.is_alive()
    post(make_app(), n=3)  # the next request restarts it
    spool = spool_of(rt)
    assert worker.stats.lost == 1 and worker.stats.restarts == 1
    assert spool.samples == {"service://svc|save_profile": 3}
    assert any("worker thread died" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_forked_child_gets_its_own_worker_and_spool_file(probes: Callable[..., Any]) -> None:
    rt = probes()
    app = make_app()
    post(app, n=2)
    flowscope_probes.flush()
    pid = os.fork()
    if pid == 0:  # the child: a pre-fork server's worker process
        code = 1
        try:
            post(app, n=3)
            flowscope_probes.flush()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    post(app, n=1)
    flowscope_probes.flush()
    files = {p.name.split("-")[1]: p for p in rt.settings.spool.glob("*.jsonl")}
    assert set(files) == {str(os.getpid()), str(pid)}
    from flowscope_probes.collector import summarize

    assert summarize(files[str(pid)]).samples == {"service://svc|save_profile": 3}
    assert summarize(files[str(os.getpid())]).samples == {"service://svc|save_profile": 3}


def test_an_asgi_endpoint_that_raises_raises_the_same(probes: Callable[..., Any]) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()

    @app.post("/pay")
    async def pay(body: dict[str, str]) -> None:
        raise ValueError(f"declined {len(body)}")

    def outcome() -> str:
        with pytest.raises(ValueError) as excinfo:
            TestClient(app).post("/pay", json={"card": "4111111111111111"})
        return repr(excinfo.value)

    without = outcome()
    rt = probes()
    assert outcome() == without == "ValueError('declined 1')"
    flowscope_probes.flush()
    assert rt.worker.stats.processed == 1  # the failed request was still recorded and handed over
