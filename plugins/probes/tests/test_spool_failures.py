"""Counts stay exact through spool failures (issue 21, item 3), and the spool is private (issue 14).

A disk that fills up in the middle of a write is made real with ``RLIMIT_FSIZE`` in a child process: a
write that crosses the limit writes what fits and then fails (EFBIG), exactly like a full disk. Each flush
must land whole or not at all, be retried whole, and never be counted twice.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import flowscope_probes
from flowscope_probes import plugin
from flowscope_probes.collector import summarize
from flowscope_probes.spool import SpoolWriter, read_spool

JOB = "service://svc|save_profile"

CHILD = textwrap.dedent(
    """
    import json, os, resource, signal, sys
    from pathlib import Path
    from flask import Flask, request
    import flowscope_probes

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    spool = Path(sys.argv[1])
    rt = flowscope_probes.install(service="svc", spool=spool, sample_rate=1.0, salt="s", flush_seconds=3600)
    app = Flask("disk")

    @app.route("/save", methods=["POST"])
    def save_profile():
        flowscope_probes.sink("log://python/audit", "saved " + request.get_json()["email"])
        return {"ok": True}

    client = app.test_client()
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    made = 0
    for rnd in range(8):
        for i in range(5):
            assert client.post("/save", json={"email": f"user{rnd}x{i}@example.org"}).status_code == 200
            made += 1
        files = list(spool.glob("*.jsonl"))
        size = files[0].stat().st_size if files else 0
        # rounds 1-4: the disk has room for part of the next write only
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 150 if rnd in (1, 2, 3, 4) else hard, hard))
        flowscope_probes.flush()
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    flowscope_probes.flush()
    print(json.dumps({"made": made, "stats": rt.worker.stats.as_dict()}))
    flowscope_probes.uninstall()
    """
)


def test_a_full_disk_never_inflates_counts(
    tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    spool = tmp_path / "spool"
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(spool)], capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["stats"]["spool_failures"] >= 4
    s = summarize(spool)
    assert s.samples == {JOB: report["made"]} == {JOB: 40}
    counts = {k[3]: r.count for k, r in s.rows.items()}
    assert counts == {"CONTAINS": 40}
    assert all("cut short" in b.message for b in s.bad)  # whatever a failed write left is skipped, reported
    (health,) = s.health.values()
    assert health["spool_failures"] == report["stats"]["spool_failures"]
    result = run_cli(plugin_manager(("probes", plugin)), "probes", "status", str(spool))
    assert result.exit_code == 0, result.output
    assert f"spool failures {health['spool_failures']}" in result.stdout


def test_a_record_cut_short_is_skipped_and_reported(probes: Callable[..., Any], tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path / "spool", "svc")
    first = {"type": "samples", "job": JOB, "samples": 3}
    assert writer.write([first])
    assert writer.write([{"type": "samples", "job": JOB, "samples": 4}])
    assert writer.write([{"type": "samples", "job": JOB, "samples": 5}])
    data = writer.path.read_bytes()
    lines = data.split(b"\n")
    # a process killed in the middle of the second write: its record is cut, the third one follows
    writer.path.write_bytes(lines[0] + b"\n" + lines[1][: len(lines[1]) // 2] + b"\n" + lines[2] + b"\n")
    s = summarize(writer.path.parent)
    assert s.samples == {JOB: 8}
    assert [(b.line, b.message) for b in s.bad] == [(2, "record cut short; skipped")]
    # a record whose bytes changed is rejected by its checksum, not read wrong
    flipped = lines[0].replace(b'"samples": 3', b'"samples": 9')
    writer.path.write_bytes(flipped + b"\n")
    assert [b.message for b in read_spool(writer.path) if hasattr(b, "message")] == [
        "record does not match its checksum; skipped"
    ]


def test_a_write_that_cannot_be_undone_starts_the_next_one_on_a_new_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowscope_probes import spool as spool_mod

    writer = SpoolWriter(tmp_path / "spool", "svc")
    assert writer.write([{"type": "samples", "job": JOB, "samples": 1}])
    real_write = spool_mod._write

    def half(fd: int, data: Any) -> int:
        return real_write(fd, bytes(data)[: len(data) // 2])

    def full(fd: int, data: Any) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spool_mod, "_write", half)
    monkeypatch.setattr(spool_mod, "_truncate", full)
    calls = iter([half, full])
    monkeypatch.setattr(spool_mod, "_write", lambda fd, data: next(calls)(fd, data))
    assert not writer.write([{"type": "samples", "job": JOB, "samples": 2}])
    monkeypatch.setattr(spool_mod, "_write", real_write)
    assert writer.write([])  # the pending batch, whole, on a line of its own
    s = summarize(writer.path)
    assert s.samples == {JOB: 3} and [b.message for b in s.bad] == ["record cut short; skipped"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o027])
def test_the_spool_is_private(probes: Callable[..., Any], tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        rt = probes(spool=tmp_path / "deep" / "spool", salt="")
        flowscope_probes.sink("log://python/x", "y")  # outside a request: nothing; the flush writes health
        flowscope_probes.flush()
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    folder = rt.settings.spool
    assert mode(folder) == mode(folder.parent) == 0o700 & ~umask
    files = list(folder.iterdir())
    assert {p.name for p in files} >= {"salt", rt.worker.writer.path.name}
    assert all(mode(p) == 0o600 & ~umask for p in files)


def test_url_credentials_never_reach_the_spool_or_the_log(
    probes: Callable[..., Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import sqlite3

    from flask import Flask, request

    rt = probes(instrumentations={"sqlite3": {"sql_namespace": "postgres://app:hunter2@db.internal:5432"}})
    app = Flask("creds")

    @app.route("/send", methods=["POST"])
    def send() -> dict[str, bool]:
        token = request.get_json()["token"]
        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE pushes (token TEXT)")
        db.execute("INSERT INTO pushes (token) VALUES (?)", (token,))
        flowscope_probes.sink(f"http://svc:s3cr3t@api.internal/v1/push?token={token}#body", token)
        flowscope_probes.sink("kafka://alice:pa55word@broker:9092/events", token)
        return {"ok": True}

    app.test_client().post("/send", json={"token": "tok-98765-abcdef"})
    caplog.set_level(logging.WARNING, "flowscope_probes")
    rt.worker._report_once(
        "test", "flowscope probes: cannot emit to https://u:topsecret@marquez/api?apikey=K3y99"
    )
    flowscope_probes.flush()
    text = "".join(p.read_text() for p in rt.settings.spool.glob("*.jsonl")) + caplog.text
    for secret in ("s3cr3t", "pa55word", "hunter2", "topsecret", "K3y99", "tok-98765-abcdef"):
        assert secret not in text
    assert "api.internal" in text and "db.internal:5432" in text and "marquez" in caplog.text
