"""What reaches the spool: never a raw value; redacted shapes only with the explicit opt-in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, request

import flowscope_probes
from flowscope_probes.spool import SpoolLine, read_spool
from flowscope_probes.worker import redact

EMAIL = "grace.hopper@example.org"


def run(probes: Callable[..., Any], **settings: Any) -> list[dict[str, Any]]:
    app = Flask("privacy")

    @app.route("/signup", methods=["POST"])
    def signup() -> str:
        flowscope_probes.sink("log://python/signups", f"new user {request.get_json()['email']}")
        return "ok"

    rt = probes(**settings)
    client = app.test_client()
    for _ in range(5):
        client.post("/signup", json={"email": EMAIL})
    flowscope_probes.flush()
    text = "".join(p.read_text() for p in rt.settings.spool.glob("*.jsonl"))
    assert EMAIL not in text and "grace" not in text and "hopper" not in text
    return [line.data for line in read_spool(rt.settings.spool) if isinstance(line, SpoolLine)]


def test_no_raw_values_and_no_samples_by_default(probes: Callable[..., Any]) -> None:
    lines = run(probes)
    assert {line["type"] for line in lines} == {"match", "samples", "health"}
    (match,) = [line for line in lines if line["type"] == "match"]
    assert match["match"] == "CONTAINS" and match["count"] == 5


def test_debug_samples_are_shapes_and_salted_hashes(probes: Callable[..., Any]) -> None:
    lines = run(probes, debug_samples=True)
    samples = [line for line in lines if line["type"] == "sample"]
    assert len(samples) == 3  # at most 3 per (source, sink, path)
    assert samples[0]["shape"] == redact(EMAIL) == "xxxxx.xxxxxx@xxxxxxx.xxx"
    assert len(samples[0]["value_hash"]) == 16


def test_hashes_depend_on_the_salt(probes: Callable[..., Any], tmp_path: Path) -> None:
    first = run(probes, debug_samples=True, salt="deployment-a", spool=tmp_path / "a")
    flowscope_probes.uninstall()
    second = run(probes, debug_samples=True, salt="deployment-b", spool=tmp_path / "b")
    hashes = lambda lines: {x["value_hash"] for x in lines if x["type"] == "sample"}  # noqa: E731
    assert hashes(first) and hashes(second) and hashes(first).isdisjoint(hashes(second))
