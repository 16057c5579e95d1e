"""Installing too late is detected (issue 21, item 4): a connection opened before ``install()`` (or through
a ``connect`` bound before it) is invisible to the probes; it is reported in ``status`` as unobserved and,
while it exists, sampled requests are not counted as samples, so static flows are never lowered on the
strength of requests whose writes the probes could not see."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import spool_of
from flask import Flask

from flowscope_probes import plugin
from flowscope_probes.context import FAULTS

JOB = "service://svc|save"


def app_writing_to(db: Any, connect: Callable[[], Any] | None = None) -> Flask:
    app = Flask("late")

    @app.route("/save/<email>", methods=["POST"])
    def save(email: str) -> str:
        conn = db if connect is None else connect()
        with conn:
            conn.execute("INSERT INTO users (email) VALUES (?)", (email,))
        if connect is not None:
            conn.close()
        return "ok"

    return app


def post(app: Flask, n: int = 20) -> None:
    client = app.test_client()
    for i in range(n):
        assert client.post(f"/save/user{i:05d}@example.org").status_code == 200


def test_a_connection_opened_before_install_is_reported_and_its_requests_not_counted(
    probes: Callable[..., Any],
    tmp_path: Path,
    plugin_manager: Callable[..., Any],
    run_cli: Callable[..., Any],
) -> None:
    # a plain connection (sqlite3.Connection itself: in this test process sqlite3.connect may still be a
    # closed wrapper of the probes, left in place by the coexistence tests, which makes probed connections)
    early = sqlite3.Connection(str(tmp_path / "app.db"), check_same_thread=False)
    early.execute("CREATE TABLE users (email TEXT)")
    rt = probes()
    assert rt.status()["unobserved"] == {"sqlite3": 1}, dict(FAULTS.counts)
    post(app_writing_to(early))
    s = spool_of(rt)
    assert s.samples == {}  # 20 sampled requests, none counted: their writes were not seen
    (health,) = s.health.values()
    assert health["unobserved"] == {"sqlite3": 1} and health["unobserved_requests"] == 20
    result = run_cli(plugin_manager(("probes", plugin)), "probes", "status", str(rt.settings.spool))
    assert result.exit_code == 0, result.output
    assert "1 sqlite3 connection opened before install()" in result.stderr
    early.close()


def test_connections_opened_after_install_are_observed_and_counted(
    probes: Callable[..., Any], tmp_path: Path
) -> None:
    gc.collect()
    with sqlite3.connect(tmp_path / "app.db") as setup:
        setup.execute("CREATE TABLE users (email TEXT)")
    setup.close()
    rt = probes()
    assert rt.status()["unobserved"] == {}
    post(app_writing_to(None, lambda: sqlite3.connect(tmp_path / "app.db")))
    s = spool_of(rt)
    assert s.samples == {JOB: 20}
    assert {k[2] for k in s.rows} == {"sqlite://app|users#email"}


def test_a_connect_bound_before_install_is_reported(probes: Callable[..., Any], tmp_path: Path) -> None:
    import types

    module = types.ModuleType("early_service")
    # a service module imported before install(): `from sqlite3 import connect` binds the original function
    # (taken from _sqlite3 here, in case another test left a closed wrapper of the probes in sqlite3)
    exec("from _sqlite3 import connect", module.__dict__)
    import sys

    sys.modules["early_service"] = module
    try:
        rt = probes()
        assert rt.status()["unobserved"] == {"sqlite3.connect in early_service": 1}
    finally:
        del sys.modules["early_service"]
