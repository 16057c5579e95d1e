"""Delivery against a real local HTTP server: retries, backoff, the spool, replay, 4xx, crash damage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import RunEvent

from flowscope.events import event_to_dict
from flowscope_emitters.delivery import Backoff, Spool, deliver, replay
from flowscope_emitters.senders import FileSender, HttpSender

FAST = Backoff(attempts=3, base=0.01, cap=0.02)


def as_dicts(events: list[RunEvent]) -> list[dict[str, Any]]:
    return [event_to_dict(e) for e in events]


def sender_for(to: str, target: str) -> Any:
    return HttpSender(target, timeout=1.0) if to == "marquez" else FileSender(Path(target))


def test_all_delivered(server: Any, events: list[RunEvent], tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    out = deliver(as_dicts(events), HttpSender(server.url), spool, FAST)
    assert (out.sent, out.spooled, out.ok) == (len(events), 0, True)
    assert [r["path"] for r in server.requests] == ["/api/v1/lineage"] * len(events)
    assert spool.files() == []


def test_5xx_is_retried_with_backoff(server: Any, events: list[RunEvent], tmp_path: Path) -> None:
    server.script = [503, 502]
    waits: list[float] = []
    out = deliver(as_dicts(events)[:1], HttpSender(server.url), Spool(tmp_path), FAST, sleep=waits.append)
    assert out.ok and out.sent == 1
    assert len(server.requests) == 3
    assert waits == [0.01, 0.02]


def test_timeout_is_retried_then_spooled(server: Any, events: list[RunEvent], tmp_path: Path) -> None:
    server.delay = 0.5
    spool = Spool(tmp_path)
    sender = HttpSender(server.url, timeout=0.1)
    out = deliver(as_dicts(events), sender, spool, Backoff(attempts=2, base=0.01))
    assert out.sent == 0 and out.spooled == len(events)
    assert "timed out" in (out.failure or "") and "gave up after 2 attempts" in (out.failure or "")
    assert len(server.requests) == 2  # the rest were not tried against a dead server


def test_dead_backend_spools_everything_and_replay_sends_it(
    server: Any, dead_url: str, events: list[RunEvent], tmp_path: Path
) -> None:
    spool = Spool(tmp_path)
    out = deliver(as_dicts(events), HttpSender(dead_url), spool, FAST)
    assert out.spooled == len(events) and "connection refused" in (out.failure or "")
    [path] = spool.files()
    assert [r["event"] for r in spool.read(path).records] == as_dicts(events)
    # The backend comes back (at another address here: the spool records where events were going).
    records = spool.read(path).records
    spool.replace(path, [{**r, "target": server.url} for r in records])
    done = replay(spool, sender_for, backoff=FAST)
    assert [o.sent for _, _, o in done.outcomes] == [len(events)]
    assert [r["body"] for r in server.requests] == as_dicts(events)
    assert spool.files(with_replays=True) == []


def test_replay_against_a_still_dead_backend_keeps_the_events(
    dead_url: str, events: list[RunEvent], tmp_path: Path
) -> None:
    spool = Spool(tmp_path)
    deliver(as_dicts(events), HttpSender(dead_url), spool, FAST)
    for _ in range(2):
        done = replay(spool, sender_for, backoff=FAST)
        assert [o.spooled for _, _, o in done.outcomes] == [len(events)]
    [path] = spool.files(with_replays=True)
    assert len(spool.read(path).records) == len(events)


def test_4xx_reports_the_run_id_and_is_not_retried(
    server: Any, events: list[RunEvent], tmp_path: Path
) -> None:
    server.script = [400]
    spool = Spool(tmp_path)
    out = deliver(as_dicts(events), HttpSender(server.url), spool, FAST)
    first = as_dicts(events)[0]["run"]["runId"]
    assert out.rejected == [
        (first, f"openlineage http transport: {server.url}/api/v1/lineage answered HTTP 400 Bad Request")
    ]
    assert out.sent == len(events) - 1 and len(server.requests) == len(events)
    assert spool.files() == []  # not replayed ...
    rejected = [json.loads(line) for line in (spool.directory / "rejected.jsonl").read_text().splitlines()]
    assert rejected[0]["event"]["run"]["runId"] == first  # ... but kept


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_spools_the_rest_and_masks_the_key(
    server: Any, events: list[RunEvent], tmp_path: Path, status: int
) -> None:
    server.status = status
    spool = Spool(tmp_path)
    out = deliver(as_dicts(events), HttpSender(server.url, api_key="s3cr3t-key"), spool, FAST)
    assert out.spooled == len(events) and len(server.requests) == 1
    assert server.requests[0]["headers"]["Authorization"] == "Bearer s3cr3t-key"
    assert f"HTTP {status}" in (out.failure or "") and "s3cr3t" not in (out.failure or "")


def test_spool_cut_short_by_a_crash(events: list[RunEvent], tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.add("file", str(tmp_path / "out.jsonl"), as_dicts(events))
    [path] = spool.files()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # the last line loses its end, as when killed mid-write
    read = spool.read(path)
    assert [r["event"] for r in read.records] == as_dicts(events)[:-1]
    assert len(read.damage) == 1 and "cut short (partial last line)" in read.damage[0]
    # Appending after the damage starts a fresh line, so the next record is whole.
    spool.add("file", str(tmp_path / "out.jsonl"), as_dicts(events)[-1:])
    assert [r["event"] for r in spool.read(path).records] == as_dicts(events)
    done = replay(spool, sender_for, backoff=FAST)
    assert len(done.damage) == 1
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in lines] == as_dicts(events)
