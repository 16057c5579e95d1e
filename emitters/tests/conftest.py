"""Shared fixtures: a hermetic OpenLineage environment, sample events, a real local HTTP server."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import RunEvent

from flowscope.events import build_events
from flowscope.model import Asset, Basis, Edge, Evidence, Job, Transformation


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client also reads OPENLINEAGE* variables, ./openlineage.yml, ~/.openlineage and git metadata."""
    for name in list(os.environ):
        if name.startswith("OPENLINEAGE"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)


@pytest.fixture
def spec(ol_spec: Path) -> Path:
    """The official schemas, from flowscope.testing (skips with a reason when absent)."""
    return ol_spec


@pytest.fixture
def events() -> list[RunEvent]:
    pg = "postgres://db.internal:5432"
    job = Job(pg, "etl.emails_daily", job_type="QUERY", sql="INSERT INTO emails SELECT md5(email) FROM users")
    edge = Edge(
        job=job,
        source=Asset(pg, "shop.public.users", "email"),
        target=Asset(pg, "shop.public.emails", "email_hash"),
        confidence=0.95,
        bases={Basis("sql")},
        transformations={Transformation("DIRECT", "TRANSFORMATION", masking=True)},
        evidence=[Evidence("sql", "statement", "queries/emails.sql:3")],
        collectors={"sql"},
        count=1,
    )
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    return build_events([edge], {}, scan_id="scan-1", event_time=when, collectors=["sql"])


class Server:
    """A real HTTP server on 127.0.0.1 that records every request; ``status`` sets its answer."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.script: list[int] = []  # answers for the next requests, before falling back to ``status``
        self.delay = 0.0  # seconds to wait before answering (a slow server: the client times out)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(body) if body else None,
                    }
                )
                if server.delay:
                    time.sleep(server.delay)
                self.send_response(server.script.pop(0) if server.script else server.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def dead_url() -> str:
    """A local port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "photo_sharing"


@pytest.fixture(scope="session")
def example_events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The photo-sharing example's events as ``flowscope scan`` stores them, from its declared flows (the
    collector core ships; the other collectors are other distributions, not installed beside this one)."""
    from flowscope.cli import main
    from flowscope.plugins import make_manager
    from flowscope.store import Store

    work = tmp_path_factory.mktemp("example")
    config = work / "flowscope.yaml"
    flows = (EXAMPLE / "flows").as_posix()
    config.write_text(f"plugins:\n  declared:\n    files: ['{flows}/*.yaml']\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("flowscope.cli.make_manager", lambda: make_manager(load_entrypoints=False))
        try:
            main(["--store", str(work / "store"), "scan", "-c", str(config), "--json"])
        except SystemExit as done:
            assert done.code in (0, None), "the example's declared flows scan cleanly"
    with Store.open(work / "store") as store:
        return list(store.events())
