"""Query logs: fingerprinting, counts and ids on signals, bad lines, the CLI and the collector."""

from __future__ import annotations

import json
import time
from pathlib import Path

from flowscope_sql import plugin
from flowscope_sql.analyze import Analyzer
from flowscope_sql.logs import fingerprint, read_log
from flowscope_sql.settings import Source

DATA = Path(__file__).parent / "data"


def test_fingerprint_ignores_literals_and_whitespace() -> None:
    a = fingerprint("SELECT a FROM t WHERE ds = '2024-01-01' AND n > 3", "trino")
    b = fingerprint("select  a\nFROM t WHERE ds = '2025-12-31' AND n > 17", "trino")
    assert a == b
    assert a != fingerprint("SELECT b FROM t WHERE ds = '2024-01-01' AND n > 3", "trino")


def test_log_signals_carry_counts_ids_and_times() -> None:
    source = Source("trino", "trino://coordinator:8080", "hive", "shop")
    result = read_log(
        iter((DATA / "queries.jsonl").read_text().splitlines()), "queries.jsonl", source, Analyzer(source)
    )
    assert result.entries == 4 and result.shapes == 3
    assert sorted(line for _, line in result.problems) == [4, 5, 6]
    [hashed] = [s for s in result.signals if s.target is not None and s.target.field == "b"]
    assert hashed.source.name == "hive.shop.s" and hashed.transformation.masking
    assert hashed.job.name == "etl.daily" and hashed.count == 2
    assert (
        hashed.first_seen is not None
        and hashed.last_seen is not None
        and hashed.first_seen < hashed.last_seen
    )
    detail = dict(hashed.evidence[0].detail)
    assert detail["query_id"] == "q1,q2" and detail["user"] == "alice" and detail["count"] == "2"
    read = [
        s
        for s in result.signals
        if s.target is not None and s.target.namespace == "result://coordinator:8080"
    ]
    assert {s.source.field for s in read} == {"x", "id"} and read[0].job.name.startswith("query/")
    assert {(s.target.name, s.target.field) for s in read} == {
        (read[0].job.name, "x"),
        (read[0].job.name, None),
    }
    assert dict(read[0].evidence[0].detail)["trace_id"] == "tr-9"


def test_repeated_shapes_are_parsed_once_and_fast() -> None:
    lines = []
    for i in range(5000):
        shape = i % 10 if i % 10 == 0 else 1  # 90% of entries repeat one shape
        lines.append(
            json.dumps({"query": f"INSERT INTO t{shape} SELECT a FROM s WHERE id = {i}", "query_id": str(i)})
        )
    source = Source("presto")
    started = time.perf_counter()
    result = read_log(iter(lines), "big.jsonl", source, Analyzer(source))
    elapsed = time.perf_counter() - started
    assert result.entries == 5000 and result.shapes == 2
    assert elapsed < 10, f"{5000 / elapsed:.0f} entries/s"


def test_cli_logs_writes_valid_events(plugin_manager, run_cli, assert_valid_event, tmp_path) -> None:
    out = tmp_path / "events.jsonl"
    pm = plugin_manager(("sql", plugin))
    result = run_cli(pm, "sql", "logs", str(DATA / "queries.jsonl"), "--dialect", "trino", "-o", str(out))
    assert (
        result.exit_code == 1 and "queries.jsonl:4" in result.stderr
    )  # bad lines reported, the rest written
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert {e["job"]["name"] for e in events} >= {"etl.daily"}
    for event in events:
        assert_valid_event(event)


def test_scan_reads_logs_from_config(tmp_path, plugin_manager, run_cli) -> None:
    (tmp_path / "q.jsonl").write_text((DATA / "queries.jsonl").read_text(), encoding="utf-8")
    config = tmp_path / "flowscope.yaml"
    config.write_text(
        "plugins:\n  sql:\n    logs: ['*.jsonl']\n    sources: [{dialect: trino}]\n", encoding="utf-8"
    )
    result = run_cli(
        plugin_manager(("sql", plugin)), "scan", "--config", str(config), "--only", "sql", "--json"
    )
    [mine] = [c for c in json.loads(result.stdout)["collectors"] if c["name"] == "sql"]
    assert mine["signals"] >= 4 and len(mine["problems"]) == 3


def test_logged_literals_never_reach_signals_or_events() -> None:
    """Query logs carry users' values in literals; flowscope keeps the query's shape, not the values."""
    from flowscope_sql.logs import redact_literals

    assert redact_literals("SELECT 1 FROM t WHERE email = 'a@b.com' AND id = 42", "trino") == (
        "SELECT ? FROM t WHERE email = ? AND id = ?"
    )
    source = Source("trino", "trino://coordinator:8080", "hive", "shop")
    line = json.dumps(
        {
            "query": "INSERT INTO out SELECT email FROM users WHERE email = 'jane.doe@example.com'",
            "query_id": "q9",
        }
    )
    result = read_log(iter([line]), "log.jsonl", source, Analyzer(source))
    assert result.signals, "the query is still analyzed with its literals"
    for sig in result.signals:
        assert "jane.doe" not in (sig.job.sql or "")
        assert all("jane.doe" not in ev.snippet for ev in sig.evidence)
