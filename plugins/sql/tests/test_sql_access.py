"""Access logs and the context matcher: job id, else trace id, else user within a window; bounded pairing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flowscope import scoring
from flowscope.contracts import ContextMatcher
from flowscope.model import Asset
from flowscope_sql import plugin
from flowscope_sql.access import AccessContextMatcher, read_access_log

DATA = Path(__file__).parent / "data"


def _asset(table: str) -> Asset:
    return Asset("hive://warehouse:9083", table)


def _pairs(signals) -> dict[tuple[str, str], str]:
    return {(s.source.name, s.target.name): s.match for s in signals}


def test_reads_and_writes_connect_by_job_then_trace_then_user_window() -> None:
    log = read_access_log((DATA / "access_log.jsonl").read_text().splitlines(), "access.jsonl", _asset)
    assert sorted(line for _, line in log.problems) == [10, 11, 12]
    signals = list(AccessContextMatcher(window_seconds=600).connect(log.reads, log.writes))
    assert _pairs(signals) == {
        ("analytics.user_location_daily", "ml.location_snapshot"): "JOB_ID",
        ("analytics.photo_events", "ml.location_snapshot"): "JOB_ID",
        ("photos_app.photos", "photos_app.photo_audit"): "TRACE_ID",
        ("analytics.photo_events", "sandbox.alice_photos"): "USER_WINDOW",  # bob's read is not alice's
    }  # alice's 15:00 write is hours after her read: outside the window
    job = next(s for s in signals if s.match == "JOB_ID")
    assert job.kind == "context" and job.job.name == "spark.feature_snapshot"
    assert job.evidence[0].location == "access.jsonl:3" and dict(job.evidence[0].detail)["match"] == "JOB_ID"
    scores = {s.match: scoring.score([s]) for s in signals}  # core's table: confidence falls in that order
    assert scores == {"JOB_ID": 0.70, "TRACE_ID": 0.60, "USER_WINDOW": 0.35}


def test_registered_through_the_hook_as_a_context_matcher(plugin_manager) -> None:
    from flowscope.plugins import Plugins

    plugins = Plugins(plugin_manager(("sql", plugin)))
    [reg] = plugins.matchers("context")
    assert reg.plugin == "sql" and isinstance(reg.item, ContextMatcher) and reg.item.name == "access_log"


def test_pairing_is_bounded_on_big_logs() -> None:
    start = datetime(2024, 6, 1, tzinfo=UTC)
    reads, writes = [], []
    for i in range(40_000):  # one busy user: reads every second, all day
        when = start + timedelta(seconds=i)
        reads.append({"asset": _asset(f"t{i % 50}"), "user": "svc", "time": when, "location": f"a:{i}"})
        if i % 4 == 0:
            writes.append({"asset": _asset(f"out{i % 7}"), "user": "svc", "time": when, "location": f"a:{i}"})
    started = time.perf_counter()
    signals = list(AccessContextMatcher(window_seconds=300).connect(reads, writes))
    assert time.perf_counter() - started < 20
    assert len(signals) == 50 * 7 and max(s.count for s in signals) <= len(writes)


def test_scan_connects_access_logs(tmp_path, plugin_manager, run_cli) -> None:
    (tmp_path / "access.jsonl").write_text((DATA / "access_log.jsonl").read_text(), encoding="utf-8")
    config = tmp_path / "flowscope.yaml"
    config.write_text(
        "plugins:\n  sql:\n    access_logs: ['*.jsonl']\n    context_window_seconds: 600\n"
        "    sources: [{dialect: hive, namespace: 'hive://warehouse:9083'}]\n",
        encoding="utf-8",
    )
    result = run_cli(
        plugin_manager(("sql", plugin)), "scan", "--config", str(config), "--only", "sql", "--json"
    )
    [mine] = [c for c in json.loads(result.stdout)["collectors"] if c["name"] == "sql"]
    assert mine["signals"] == 4 and len(mine["problems"]) == 3
