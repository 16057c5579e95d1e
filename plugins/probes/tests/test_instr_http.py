"""HTTP clients against a real server on 127.0.0.1: requests, httpx (sync and async), urllib3, http.client."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import requests
import urllib3

from flowscope import naming
from flowscope_probes.context import CURRENT, FAULTS, Recorder
from flowscope_probes.instrumentations import _http
from flowscope_probes.instrumentations.http_client import HttpClientInstrumentation
from flowscope_probes.instrumentations.httpx import HttpxInstrumentation
from flowscope_probes.instrumentations.requests import RequestsInstrumentation
from flowscope_probes.instrumentations.urllib3 import Urllib3Instrumentation

ALL = (RequestsInstrumentation, HttpxInstrumentation, Urllib3Instrumentation, HttpClientInstrumentation)


class Echo(BaseHTTPRequestHandler):
    def _reply(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(size)
        status = 500 if self.path.startswith("/fail") else 200
        data = json.dumps({"path": self.path, "got": len(body)}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def installed() -> Iterator[list[object]]:
    insts = [cls() for cls in ALL]
    for i in insts:
        i.install()
    yield insts
    for i in insts:
        i.uninstall()


def endpoint(base: str, path: str) -> object:
    return naming.http(path, base.removeprefix("http://"))


def test_requests_json_and_query_once(installed: list[object], rec: Recorder, server: str) -> None:
    resp = requests.post(
        f"{server}/api/users/42?src=web&tag=a&tag=b", json={"location": "51.5,-0.12"}, timeout=5
    )
    assert resp.json() == {"path": "/api/users/42?src=web&tag=a&tag=b", "got": 26}
    asset = endpoint(server, "/api/users/{}")
    assert rec.sinks == [(asset, {"src": "web", "tag": ["a", "b"]}), (asset, '{"location": "51.5,-0.12"}')]


def test_requests_form_body_keeps_keys(installed: list[object], rec: Recorder, server: str) -> None:
    requests.post(f"{server}/signup", data={"email": "a@example.org", "name": "Ann"}, timeout=5)
    assert rec.sinks == [(endpoint(server, "/signup"), {"email": "a@example.org", "name": "Ann"})]


def test_httpx_sync_and_async(installed: list[object], rec: Recorder, server: str) -> None:
    with httpx.Client() as client:
        assert client.post(f"{server}/a", json={"k": "v1"}).status_code == 200

    async def go() -> int:
        async with httpx.AsyncClient() as client:
            resp = await client.put(f"{server}/b", params={"q": "v2"}, content=b"raw-bytes")
            return resp.status_code

    assert asyncio.run(go()) == 200
    assert rec.sinks == [
        (endpoint(server, "/a"), '{"k":"v1"}'),
        (endpoint(server, "/b"), {"q": "v2"}),
        (endpoint(server, "/b"), "raw-bytes"),
    ]


def test_urllib3_and_http_client_and_urllib(installed: list[object], rec: Recorder, server: str) -> None:
    pool = urllib3.PoolManager()
    resp = pool.request("POST", f"{server}/u3", body=b"payload-1", headers={"Content-Type": "text/plain"})
    assert resp.status == 200
    host, port = server.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("POST", "/hc?x=1", body="payload-2")
    assert conn.getresponse().status == 200
    conn.close()
    with urllib.request.urlopen(urllib.request.Request(f"{server}/ul", data=b"a=1&b=two"), timeout=5) as r:
        assert r.status == 200
    assert rec.sinks == [
        (endpoint(server, "/u3"), "payload-1"),
        (endpoint(server, "/hc"), {"x": "1"}),
        (endpoint(server, "/hc"), "payload-2"),
        (endpoint(server, "/ul"), {"a": "1", "b": "two"}),
    ]


def test_nothing_recorded_without_recorder(installed: list[object], server: str) -> None:
    r = Recorder("job", "/r")
    requests.post(f"{server}/x", json={"a": 1}, timeout=5)
    with httpx.Client() as client:
        client.get(f"{server}/y?z=1")
    assert r.sinks == [] and CURRENT.get() is None


def outcomes(server: str) -> list[object]:
    out: list[object] = []
    out.append(requests.post(f"{server}/fail", json={"a": 1}, timeout=5).status_code)
    out.append(httpx.post(f"{server}/ok", data={"a": "1"}).json())
    for call in (
        lambda: requests.get("http://127.0.0.1:9/", timeout=2),
        lambda: httpx.get("http://127.0.0.1:9/"),
        lambda: urllib3.PoolManager(retries=False).request("GET", "http://127.0.0.1:9/"),
    ):
        try:
            call()
        except Exception as exc:  # the host's own exception type, as without probes
            out.append(type(exc).__name__)
    return out


def test_host_sees_the_same_results_and_exceptions(rec: Recorder, server: str) -> None:
    plain = outcomes(server)
    insts = [cls() for cls in ALL]
    for i in insts:
        i.install()
    try:
        probed = outcomes(server)
    finally:
        for i in insts:
            i.uninstall()
    assert probed == plain
    assert plain[:2] == [500, {"path": "/ok", "got": 3}]
    assert plain[2:] == ["ConnectionError", "ConnectError", "NewConnectionError"]


def test_uninstall_restores_and_double_install_patches_once() -> None:
    originals = {
        "requests": requests.Session.__dict__["send"],
        "httpx": httpx.Client.__dict__["send"],
        "httpx_async": httpx.AsyncClient.__dict__["send"],
        "urllib3": urllib3.connectionpool.HTTPConnectionPool.__dict__["urlopen"],
        "http": http.client.HTTPConnection.__dict__["request"],
    }
    first = [cls() for cls in ALL]
    again = [cls() for cls in ALL]
    for i in first + again + first:
        i.install()
    assert requests.Session.__dict__["send"].__wrapped__ is originals["requests"]
    assert all(i._patched == [] for i in again)
    for i in first:
        i.uninstall()
    now = {
        "requests": requests.Session.__dict__["send"],
        "httpx": httpx.Client.__dict__["send"],
        "httpx_async": httpx.AsyncClient.__dict__["send"],
        "urllib3": urllib3.connectionpool.HTTPConnectionPool.__dict__["urlopen"],
        "http": http.client.HTTPConnection.__dict__["request"],
    }
    assert now == originals


def test_async_wrapper_stays_a_coroutine_function(installed: list[object]) -> None:
    assert asyncio.iscoroutinefunction(httpx.AsyncClient.send)


def test_probe_fault_is_counted_not_raised(
    installed: list[object], rec: Recorder, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("probe bug")

    monkeypatch.setattr(_http, "record_http", broken)
    before = FAULTS.counts.get("requests", 0)
    assert requests.post(f"{server}/p", json={"a": 1}, timeout=5).json()["got"] == 8
    assert FAULTS.counts["requests"] == before + 1
    assert rec.sinks == []


def test_aiohttp_json_form_params_and_base_url(rec: Recorder, server: str) -> None:
    import aiohttp

    from flowscope_probes.instrumentations.aiohttp import AiohttpInstrumentation

    inst = AiohttpInstrumentation()
    inst.install()

    async def go() -> list[object]:
        out: list[object] = []
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{server}/api/users/7", json={"email": "a@example.org"}) as resp:
                out.append(await resp.json())
            async with session.get(f"{server}/search?lang=de", params={"q": "ada"}) as resp:
                out.append(resp.status)
        async with (
            aiohttp.ClientSession(base_url=server) as session,
            session.put("/signup", data={"name": "Ann"}) as resp,
        ):
            out.append(resp.status)
        return out

    try:
        results = asyncio.run(go())
        CURRENT.set(None)
        assert asyncio.run(go()) == results  # sampled out: nothing more recorded, same answers
    finally:
        inst.uninstall()
    assert results == [{"path": "/api/users/7", "got": 26}, 200, 200]
    assert rec.sinks == [
        (endpoint(server, "/api/users/{}"), {"email": "a@example.org"}),
        (endpoint(server, "/search"), {"lang": "de", "q": "ada"}),
        (endpoint(server, "/signup"), {"name": "Ann"}),
    ]
    assert asyncio.iscoroutinefunction(aiohttp.ClientSession._request)
