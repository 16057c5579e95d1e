"""Living beside OpenTelemetry's instrumentation (functools.wraps) and wrapt wrappers, in both orders."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import requests
import wrapt
from opentelemetry.instrumentation.requests import RequestsInstrumentor

from flowscope import naming
from flowscope_probes.context import CURRENT, Recorder
from flowscope_probes.instrumentations.httpx import HttpxInstrumentation
from flowscope_probes.instrumentations.requests import RequestsInstrumentation


class Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def post(server: str) -> list[tuple[object, object]]:
    rec = Recorder("job", "/r")
    token = CURRENT.set(rec)
    try:
        assert requests.post(f"{server}/x", json={"a": "b"}, timeout=5).text == "ok"
    finally:
        CURRENT.reset(token)
    return rec.sinks


def test_otel_first_then_probes(server: str) -> None:
    original = requests.Session.__dict__["send"]
    otel = RequestsInstrumentor()
    otel.instrument()
    try:
        traced = requests.Session.__dict__["send"]
        ours = RequestsInstrumentation()
        ours.install()
        assert requests.Session.__dict__["send"].__wrapped__ is traced
        RequestsInstrumentation().install()  # a second install wraps nothing
        assert requests.Session.__dict__["send"].__wrapped__ is traced
        assert post(server) == [(naming.http("/x", server.removeprefix("http://")), '{"a": "b"}')]
        ours.uninstall()
        assert requests.Session.__dict__["send"] is traced
    finally:
        otel.uninstrument()
    assert requests.Session.__dict__["send"] is original


def test_probes_first_then_otel(server: str) -> None:
    original = requests.Session.__dict__["send"]
    ours = RequestsInstrumentation()
    ours.install()
    otel = RequestsInstrumentor()
    otel.instrument()
    try:
        again = RequestsInstrumentation()
        again.install()  # the mark shows through OpenTelemetry's wrapper: not wrapped twice
        assert again._patched == []
        again.uninstall()
        assert len(post(server)) == 1
        ours.uninstall()  # OpenTelemetry's wrapper sits on ours: ours stays, closed, not recording
        assert post(server) == []
        ours.install()  # opens the same wrapper again
        assert len(post(server)) == 1
        ours.uninstall()
    finally:
        otel.uninstrument()
    ours.install()  # ours alone again: taken out and wrapped afresh, so uninstall restores the original
    assert len(post(server)) == 1
    ours.uninstall()
    assert requests.Session.__dict__["send"] is original


def test_wrapt_wrapper_is_kept_bound_and_restored_as_the_same_object() -> None:
    seen: list[tuple[type, type]] = []

    def spy(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        seen.append((type(instance), type(args[0])))
        return wrapped(*args, **kwargs)

    original = httpx.Client.__dict__["send"]
    wrapt.wrap_function_wrapper(httpx.Client, "send", spy)
    fw = httpx.Client.__dict__["send"]
    ours = HttpxInstrumentation()
    ours.install()
    try:
        assert httpx.Client.__dict__["send"].__wrapped__ is fw
        transport = httpx.MockTransport(lambda request: httpx.Response(200, text="ok"))
        rec = Recorder("job", "/r")
        token = CURRENT.set(rec)
        try:
            with httpx.Client(transport=transport) as client:
                assert client.post("http://svc.internal/api", json={"k": "v"}).text == "ok"
        finally:
            CURRENT.reset(token)
        assert seen == [(httpx.Client, httpx.Request)]  # wrapt still saw the instance and the request
        assert rec.sinks == [(naming.http("/api", "svc.internal"), '{"k":"v"}')]
        ours.uninstall()
        assert httpx.Client.__dict__["send"] is fw
    finally:
        ours.uninstall()
        httpx.Client.send = original  # type: ignore[method-assign]


def test_wrapt_wrapper_over_ours_hides_nothing() -> None:
    original = httpx.Client.__dict__["send"]
    ours = HttpxInstrumentation()
    ours.install()
    wrapt.wrap_function_wrapper(httpx.Client, "send", lambda w, i, a, k: w(*a, **k))
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="ok"))

    def call() -> list[tuple[object, object]]:
        rec = Recorder("job", "/r")
        token = CURRENT.set(rec)
        try:
            with httpx.Client(transport=transport) as client:
                assert client.post("http://svc.internal/api", content=b"body-1").text == "ok"
        finally:
            CURRENT.reset(token)
        return rec.sinks

    try:
        again = HttpxInstrumentation()
        again.install()
        assert again._patched == []  # wrapt proxies the mark of ours
        assert call() == [(naming.http("/api", "svc.internal"), "body-1")]  # recorded once
        ours.uninstall()
        assert isinstance(httpx.Client.__dict__["send"], wrapt.FunctionWrapper)  # theirs kept
        assert call() == []  # ours, left under theirs, records nothing
    finally:
        httpx.Client.send = original  # type: ignore[method-assign]
