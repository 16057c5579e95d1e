"""Bounded cost per request (issue 21, item 6): bytes captured per payload and per request are capped (and
counted when the caps bite), log records are not formatted when the host would not have formatted them,
and a ``BaseException`` raised by host code (``KeyboardInterrupt``) goes through the probes untouched."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from conftest import spool_of
from flask import Flask

import flowscope_probes
from flowscope_probes.context import CURRENT, Recorder
from flowscope_probes.instrumentations.logs import LoggingInstrumentation

BIG = 10 * 1024 * 1024


def test_a_payload_is_capped_at_max_payload_bytes(
    probes: Callable[..., Any], finished: list[Recorder]
) -> None:
    probes(max_payload_bytes=4096)
    app = Flask("big")
    body = "x" * BIG

    @app.route("/export", methods=["POST"])
    def export() -> str:
        flowscope_probes.sink("log://python/export", body)
        flowscope_probes.sink("log://python/export.bytes", body.encode())
        flowscope_probes.sink("log://python/export.buffer", bytearray(body.encode()))
        flowscope_probes.sink("log://python/export.view", memoryview(body.encode()))
        flowscope_probes.sink("log://python/small", "email=a@example.org")
        return "ok"

    app.test_client().post("/export")
    (rec,) = finished
    sizes = [len(p) for _, p in rec.sinks]  # type: ignore[arg-type]
    assert sizes == [4096, 4096, 4096, 4096, len("email=a@example.org")]
    assert all(type(p) in (str, bytes) for _, p in rec.sinks)  # copies: the host's buffers are not held
    assert rec.truncated == 4


def test_the_bytes_of_one_request_are_capped(probes: Callable[..., Any], finished: list[Recorder]) -> None:
    rt = probes(max_payload_bytes=65536, max_request_bytes=200_000)
    app = Flask("many")

    @app.route("/burst", methods=["POST"])
    def burst() -> str:
        for i in range(30):
            flowscope_probes.sink(f"log://python/chunk{i}", f"{i:06d}" + "y" * 60_000)
        return "ok"

    app.test_client().post("/burst")
    (rec,) = finished
    assert sum(len(p) for _, p in rec.sinks) <= 200_000  # type: ignore[arg-type]
    assert len(rec.sinks) == 3 and rec.over_budget == 27
    rt.finish(rec)  # what the root would have done: the counts reach the health line


def test_cap_counts_reach_the_spool(probes: Callable[..., Any]) -> None:
    rt = probes(max_payload_bytes=1000, max_request_bytes=5000)
    app = Flask("counts")

    @app.route("/burst", methods=["POST"])
    def burst() -> str:
        for i in range(10):
            flowscope_probes.sink(f"log://python/chunk{i}", "z" * 3000)
        return "ok"

    client = app.test_client()
    for _ in range(3):
        client.post("/burst")
    (health,) = spool_of(rt).health.values()
    assert health["payloads_truncated"] == 3 * 5 and health["over_budget"] == 3 * 5


def test_an_outgoing_body_is_cut_before_it_is_decoded(
    probes: Callable[..., Any], finished: list[Recorder]
) -> None:
    probes(max_payload_bytes=2048)
    app = Flask("upload")
    sent: list[int] = []

    class Adapter(requests.adapters.BaseAdapter):
        def send(self, req: Any, **kw: Any) -> requests.Response:
            sent.append(len(req.body))
            r = requests.Response()
            r.status_code = 200
            return r

        def close(self) -> None:
            return None

    @app.route("/push", methods=["POST"])
    def push() -> str:
        s = requests.Session()
        s.mount("http://", Adapter())
        s.post("http://api.internal/v1/upload", data=("k" * BIG).encode())
        return "ok"

    app.test_client().post("/push")
    assert sent == [BIG]  # the host sent its whole body
    (rec,) = finished
    (payload,) = [p for a, p in rec.sinks if a.namespace == "http://api.internal"]
    assert len(payload) <= 2048


class Lazy:
    """A log argument whose text is expensive or has side effects: built only when a handler formats it."""

    def __init__(self) -> None:
        self.calls = 0

    def __str__(self) -> str:
        self.calls += 1
        return "lazy-1234567"


@pytest.fixture
def logs() -> Iterator[LoggingInstrumentation]:
    inst = LoggingInstrumentation()
    inst.install()
    yield inst
    inst.uninstall()


def test_log_records_are_not_formatted_when_the_host_would_not(logs: Any, rec: Recorder) -> None:
    log = logging.getLogger("app.lazy")
    log.setLevel(logging.INFO)
    log.propagate = False
    quiet = logging.NullHandler()  # the record passes the level, but nothing formats it
    log.addHandler(quiet)
    try:
        lazy = Lazy()
        log.info("state %s", lazy)
        assert lazy.calls == 0
        log.info("user %s at %s", "u-1234567", 51.5)  # builtin arguments only: formatting runs no host code
    finally:
        log.removeHandler(quiet)
    messages = [p["message"] for _, p in rec.sinks]
    assert messages == ["state %s", "user u-1234567 at 51.5"]
    assert rec.sinks[0][1]["args"][0] is lazy  # the argument itself is there for the matcher's own walk


def interrupting_app() -> Flask:
    app = Flask("interrupt")
    app.testing = True

    @app.route("/view")
    def view() -> str:
        raise KeyboardInterrupt

    @app.route("/sql")
    def sql() -> str:
        class Adapted:
            def __conform__(self, protocol: object) -> Any:
                raise KeyboardInterrupt

        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE t (v)")
        db.execute("INSERT INTO t (v) VALUES (?)", (Adapted(),))
        return "ok"

    @app.route("/log")
    def log_it() -> str:
        class Boom:
            def __str__(self) -> str:
                raise KeyboardInterrupt

        log = logging.getLogger("app.boom")
        handler = logging.StreamHandler()
        log.addHandler(handler)
        try:
            log.warning("value %s", Boom())
        finally:
            log.removeHandler(handler)
        return "ok"

    @app.route("/http")
    def http() -> str:
        class Adapter(requests.adapters.BaseAdapter):
            def send(self, req: Any, **kw: Any) -> Any:
                raise KeyboardInterrupt

            def close(self) -> None:
                return None

        s = requests.Session()
        s.mount("http://", Adapter())
        s.post("http://api.internal/v1/x", json={"email": "a@example.org"})
        return "ok"

    @app.route("/thread")
    def thread() -> str:
        out: list[BaseException] = []

        def work() -> None:
            try:
                raise KeyboardInterrupt
            except BaseException as exc:
                out.append(exc)
                raise

        t = threading.Thread(target=work)
        t.start()
        t.join()
        raise out[0]

    return app


@pytest.mark.parametrize("path", ["/view", "/sql", "/log", "/http", "/thread"])
@pytest.mark.parametrize("rate", [1.0, 0.0])
def test_a_keyboard_interrupt_from_host_code_propagates(
    probes: Callable[..., Any], path: str, rate: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    client = interrupting_app().test_client()
    with pytest.raises(KeyboardInterrupt):
        client.get(path)  # without the probes
    rt = probes(sample_rate=rate)
    with pytest.raises(KeyboardInterrupt):
        client.get(path)
    assert CURRENT.get() is None
    flowscope_probes.flush()
    assert rt.worker.stats.sampled == (1 if rate else 0)


def test_the_matcher_reads_a_bounded_part_of_containers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Containers are the host's objects, held by reference: the worker's walk bounds what it reads."""
    import json as real_json

    from flowscope_probes.matching import leaves

    decoded: list[int] = []

    class Json:
        @staticmethod
        def loads(text: str) -> object:
            decoded.append(len(text))
            return real_json.loads(text)

    monkeypatch.setattr(leaves, "json", Json)
    big_doc = real_json.dumps({"rows": ["r" * 1000] * 3000})  # 3 MB of JSON inside a dict
    sinks: list[object] = [{"doc": big_doc}] + [{"n": i, "blob": "b" * 900_000} for i in range(8)]
    for compiled in (True, False):
        decoded.clear()
        rt = leaves.RequestText(sinks, compiled=compiled)
        assert all(n <= leaves.MAX_JSON for n in decoded)
        assert len(rt.text) <= leaves.MAX_REQUEST_CHARS and rt.truncated >= 4
