"""The probes collector: spool -> runtime signals and JobSampled, and how core scores them beside static ones."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask, request

import flowscope_probes
from flowscope import hookimpl, naming
from flowscope.contracts import CollectContext, Collector
from flowscope.model import Asset, Evidence, Job, JobSampled, Observation, Signal
from flowscope.pipeline import collect_alone
from flowscope_probes import plugin
from flowscope_probes.collector import ProbesCollector, target_of
from flowscope_probes.settings import ProbeSettings

JOB = "service://nearby-friends|update_last_location"
SRC = "http://nearby-friends.internal|/api/v1/nearby_friends#"
CACHE = "cache://nearby-cache|last_location:{}#"
LOG = "log://python|nearby_friends.metrics#"


def row(
    source: str, sink: str, match: str, count: int, path: str = "", noisy: bool = False
) -> dict[str, Any]:
    return {
        "v": 1,
        "type": "match",
        "at": 1.7e9,
        "job": JOB,
        "source": SRC + source,
        "sink": sink,
        "match": match,
        "sink_path": path,
        "count": count,
        "first_seen": 1.7e9,
        "last_seen": 1.7e9 + 60,
        "distinct_values": count,
        "noisy": noisy,
    }


def write_spool(folder: Path, *records: dict[str, Any], tail: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "nearby-friends-1-1.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


def collect(spool: Path) -> tuple[list[Signal], list[JobSampled], list[str]]:
    run = collect_alone(ProbesCollector(), ProbeSettings(spool=spool), spool.parent)
    signals = run.output.signals
    sampled = [JobSampled(Job(*k), n) for k, n in run.output.samples.items()]
    return signals, sampled, [str(p) for p in run.problems]


def test_target_field_rule() -> None:
    src = naming.http("/a", "h", key="location")
    assert target_of(naming.cache("k:{}", "c"), src, "") == naming.cache("k:{}", "c", key="location")
    assert target_of(naming.cache("k:{}", "c"), src, "user.emails[0]").field == "user.emails"
    column = Asset("postgres://db:5432", "app.users", "email")
    assert target_of(column, src, "") == column


def test_rows_become_signals(tmp_path: Path) -> None:
    spool = write_spool(
        tmp_path / "spool",
        row("location", CACHE, "EXACT_MATCH", 150),
        row("location", CACHE, "EXACT_MATCH", 50),  # a second flush of the same row: summed
        row("location", CACHE, "NO_MATCH", 3),  # matched elsewhere: no NO_MATCH signal
        row("user_id", LOG, "NO_MATCH", 200),
        row("email", LOG, "CONTAINS", 9, noisy=True),
        {"v": 1, "type": "samples", "at": 1.7e9, "job": JOB, "samples": 200},
    )
    signals, sampled, problems = collect(spool.parent)
    assert problems == []
    by_source = {(s.source.field, s.match): s for s in signals}
    assert set(by_source) == {("location", "EXACT_MATCH"), ("user_id", "NO_MATCH"), ("email", "NO_MATCH")}
    hit = by_source["location", "EXACT_MATCH"]
    assert hit.kind == "runtime" and hit.count == 200
    assert hit.job == Job("service://nearby-friends", "update_last_location")
    assert hit.target == naming.cache("last_location:{}", "nearby-cache", key="location")
    assert hit.first_seen is not None and hit.last_seen is not None
    assert (hit.last_seen - hit.first_seen).total_seconds() == 60
    assert hit.evidence[0].location.endswith("nearby-friends-1-1.jsonl:1")
    assert by_source["user_id", "NO_MATCH"].target == naming.log("nearby_friends.metrics", "python")
    noisy = by_source["email", "NO_MATCH"]
    assert dict(noisy.evidence[0].detail)["noisy"].startswith("CONTAINS demoted")
    assert sampled == [JobSampled(Job("service://nearby-friends", "update_last_location"), 200)]


def test_a_line_cut_short_is_reported_and_the_rest_kept(tmp_path: Path) -> None:
    spool = write_spool(
        tmp_path / "spool",
        row("location", CACHE, "EXACT_MATCH", 5),
        {"not": "a record"},
        row("location", CACHE, "EXACT_MATCH", 5),
        {"v": 1, "type": "match", "at": 1.7e9, "count": 3},
        tail='{"v": 1, "type": "match", "job": "serv',
    )
    signals, _, problems = collect(spool.parent)
    assert [s.count for s in signals] == [10]
    assert problems == [
        "spool/nearby-friends-1-1.jsonl:2: not a probes spool record (v1); skipped",
        "spool/nearby-friends-1-1.jsonl:4: record without a valid 'job'; skipped",
        "spool/nearby-friends-1-1.jsonl:5: line cut short or not JSON; skipped",
    ]


def test_a_line_that_is_not_utf8_is_skipped_alone(tmp_path: Path) -> None:
    # Issue 14, item 9: one bad byte in a spool line used to drop the rest of the file as "binary".
    spool = write_spool(tmp_path / "spool", row("location", CACHE, "EXACT_MATCH", 5))
    good = spool.read_bytes()
    bad = good.replace(b"nearby_friends#", b"nearby_fri\xe9nds#", 1)
    assert bad != good
    spool.write_bytes(good + bad + good)
    signals, _, problems = collect(spool.parent)
    assert [s.count for s in signals] == [10]  # lines 1 and 3
    at = bad.index(b"\xe9")
    assert problems == [f"spool/nearby-friends-1-1.jsonl:2: not UTF-8 (byte {at} of the line); skipped"]


def test_a_binary_file_is_one_problem_and_many_bad_lines_are_capped(tmp_path: Path) -> None:
    spool = write_spool(tmp_path / "spool", row("location", CACHE, "EXACT_MATCH", 5))
    (spool.parent / "core-dump.jsonl").write_bytes(b"\x7fELF\x00\x01\xff\xfe" * 64 + b"\n" * 3)
    (spool.parent / "notes.jsonl").write_text("".join(f"note {i}\n" for i in range(40)))
    signals, _, problems = collect(spool.parent)
    assert [s.count for s in signals] == [5]
    assert problems[0] == (
        "spool/core-dump.jsonl:1: binary (NUL bytes): not a probes spool file; rest of file skipped"
    )
    assert problems[1:6] == [
        f"spool/notes.jsonl:{n}: line cut short or not JSON; skipped" for n in range(1, 6)
    ]
    assert problems[6:] == ["spool/notes.jsonl: 35 more bad lines skipped"]


def test_missing_spool_is_a_problem_not_a_failure(tmp_path: Path) -> None:
    signals, _, problems = collect(tmp_path / "nowhere")
    assert signals == [] and len(problems) == 1 and "no spool yet" in problems[0]


class StaticFlows:
    """Stands in for the static plugin: the two flows it finds in the nearby-friends service."""

    name = "static_stand_in"
    config_section = "static_stand_in"
    config_class = None

    def collect(self, ctx: CollectContext) -> Iterator[Observation]:
        job = Job("service://nearby-friends", "update_last_location")
        src = naming.http("/api/v1/nearby_friends", "nearby-friends.internal")
        ev = (Evidence("static_stand_in", "static", "service.py:19"),)
        yield Signal(
            "static",
            job,
            src.with_field("location"),
            naming.cache("last_location:{}", "nearby-cache", key="location"),
            evidence=ev,
        )
        yield Signal(
            "static",
            job,
            src.with_field("user_id"),
            naming.log("nearby_friends.metrics", "python", key="user_id"),
            evidence=ev,
        )


class StaticPlugin:
    @hookimpl
    def register_collectors(self, register: Callable[[Collector], None]) -> None:
        register(StaticFlows())


def service_app() -> Flask:
    import hashlib

    app = Flask("nearby")

    @app.route("/api/v1/nearby_friends", methods=["POST"])
    def update_last_location() -> dict[str, bool]:
        body = request.get_json()
        flowscope_probes.sink("cache://nearby-cache/last_location:{}", body["location"])
        digest = hashlib.sha256(str(body["user_id"]).encode()).hexdigest()
        flowscope_probes.sink("log://python/nearby_friends.metrics", f"update {digest}")
        return {"ok": True}

    return app


def test_runtime_confirms_one_static_flow_and_lowers_the_other(
    probes: Callable[..., Any],
    tmp_path: Path,
    plugin_manager: Callable[..., Any],
    run_cli: Callable[..., Any],
    assert_valid_event: Callable[[dict[str, Any]], None],
) -> None:
    """Real requests -> worker -> spool -> `flowscope scan` with a static collector beside the probes."""
    probes(service="nearby-friends", http_host="nearby-friends.internal", spool=tmp_path / "spool")
    client = service_app().test_client()
    for i in range(120):
        body = {"user_id": 100_000 + i * 7919, "location": f"{40 + i / 100:.4f},{-3 - i / 50:.4f}"}
        assert client.post("/api/v1/nearby_friends", json=body).status_code == 200
    flowscope_probes.uninstall()  # flushes everything
    cfg = tmp_path / "flowscope.yaml"
    cfg.write_text("plugins:\n  probes:\n    spool: spool\n")
    pm = plugin_manager(("probes", plugin), ("static_stand_in", StaticPlugin()))
    result = run_cli(pm, "scan", "--config", str(cfg), "--json", "-o", str(tmp_path / "events.jsonl"))
    assert result.exit_code == 0, result.output
    facets = {}
    for line in (tmp_path / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        assert_valid_event(event)
        for out in event.get("outputs", []):
            for e in out.get("facets", {}).get("flowscope", {}).get("edges", []):
                facets[(e["input"]["field"], out["name"], e.get("outputField"))] = e
    confirmed = facets["location", "last_location:{}", "location"]
    assert confirmed["confidence"] >= 0.95 and confirmed["collectors"] == ["probes", "static_stand_in"]
    assert facets["user_id", "nearby_friends.metrics", "user_id"]["confidence"] == 0.10  # never seen
    assert facets["user_id", "nearby_friends.metrics", None]["confidence"] == 0.15  # NO_MATCH, for review
