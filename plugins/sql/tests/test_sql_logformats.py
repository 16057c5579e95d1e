"""Trino/Presto query-completed events, Spark event logs and the generic log's ``engine``."""

from __future__ import annotations

import json
from pathlib import Path

from flowscope_sql.analyze import Analyzer
from flowscope_sql.logformats import EntryReader, Skip
from flowscope_sql.logs import LogResult, read_log
from flowscope_sql.settings import Source

DATA = Path(__file__).parent / "data"


def _read(name: str, source: Source) -> LogResult:
    return read_log(iter((DATA / name).read_text().splitlines()), name, source, Analyzer(source))


def test_trino_query_completed_events() -> None:
    source = Source("trino", "trino://trino-coordinator:8080", "hive", "default")
    result = _read("trino_events.jsonl", source)
    assert result.entries == 3  # the FAILED query wrote nothing and is skipped
    [user_id] = [s for s in result.signals if s.target is not None and s.target.field == "user_id"]
    # unqualified names resolve against the session's context.catalog / context.schema
    assert user_id.source.name == "hive.web.clicks" and user_id.target.name == "hive.web.daily_clicks"
    assert user_id.count == 2 and user_id.last_seen is not None and user_id.last_seen.day == 2
    detail = dict(user_id.evidence[0].detail)
    assert detail["query_id"] == "20240601_020000_00011_abcde,20240602_020000_00021_abcde"
    assert detail["user"] == "svc-etl" and detail["trace_id"].startswith("trace-")


def test_trino_unparsable_query_names_its_id_and_falls_back_to_io_metadata() -> None:
    source = Source("trino", "trino://trino-coordinator:8080", "hive", "default")
    result = _read("trino_events.jsonl", source)
    [(message, line)] = result.problems
    assert line == 4 and "20240602_040000_00041_abcde" in message and message.startswith("syntax error")
    [table_level] = [
        s for s in result.signals if s.target is not None and s.target.name.endswith("sessions_rollup")
    ]
    assert table_level.source.name == "hive.web.sessions" and table_level.source.field is None


def test_spark_event_log_sql_executions() -> None:
    source = Source("spark", "hive://metastore:9083")
    result = _read("spark_eventlog.jsonl", source)
    assert result.entries == 1 and not result.problems  # `save at ...` is a DataFrame action: no SQL
    [email] = [s for s in result.signals if s.target is not None and s.target.field == "email_sha"]
    assert email.source.name == "silver.events" and email.transformation.masking
    assert email.job.name == "nightly_user_rollup"  # App Name of the application
    assert dict(email.evidence[0].detail)["query_id"] == "application_1717200000000_0042/sql/0"
    assert email.first_seen is not None and email.first_seen.year == 2024


def test_literals_are_redacted_in_every_format() -> None:
    for name, source in [
        ("trino_events.jsonl", Source("trino", "trino://c:8080", "hive", "web")),
        ("spark_eventlog.jsonl", Source("spark")),
    ]:
        raw = (DATA / name).read_text()
        result = _read(name, source)
        assert result.signals
        for sig in result.signals:
            for text in [sig.job.sql or "", *(e.snippet for e in sig.evidence)]:
                assert "example.com" not in text and "2024-06-0" not in text, text
        assert "example.com" in raw or "2024-06-01" in raw


def test_generic_engine_picks_the_dialect_and_unknown_engines_are_problems() -> None:
    lines = [
        json.dumps({"query": "INSERT INTO o SELECT `a b` AS c FROM s", "engine": "spark"}),
        json.dumps({"query": "SELECT 1", "engine": "cobol"}),
    ]
    source = Source("trino")
    result = read_log(iter(lines), "log.jsonl", source, Analyzer(source))
    [(message, line)] = result.problems
    assert line == 2 and "unknown SQL dialect 'cobol'" in message and "trino" in message
    [flow] = [s for s in result.signals if s.target is not None and s.target.field]
    assert flow.source.field == "a b" and flow.target.field == "c"  # backticks: parsed as Spark, not Trino


def test_entry_reader_skips_other_events_and_rejects_non_objects() -> None:
    reader = EntryReader()
    for obj in (
        {"Event": "SparkListenerJobStart"},
        {"metadata": {"queryId": "q", "query": "x", "queryState": "FAILED"}},
    ):
        try:
            reader.entry(obj)
        except Skip:
            continue
        raise AssertionError(f"{obj} was not skipped")
    for bad in ([1, 2], {"metadata": {"queryId": "q"}}, {"no": "query"}):
        try:
            reader.entry(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")


def test_garbled_and_empty_log_lines() -> None:
    lines = [
        "",
        "   ",
        "\ufffd\ufffd garbage {",
        json.dumps({"query": ""}),
        json.dumps({"query": "\x00\x01"}),
    ]
    source = Source("trino")
    result = read_log(iter(lines), "g.jsonl", source, Analyzer(source))
    assert [line for _, line in result.problems][:1] == [3]
    assert not [s for s in result.signals if s.target is not None]


def test_huge_logged_query_is_bounded_and_named_by_its_id() -> None:
    event = {"metadata": {"queryId": "20240603_000000_00001_zzzzz", "query": "SELECT " + "a + " * 5000 + "1"}}
    source = Source("trino")
    result = read_log(iter([json.dumps(event)]), "big.jsonl", source, Analyzer(source, max_chars=10_000))
    [(message, line)] = result.problems
    assert line == 1 and "too large" in message and "20240603_000000_00001_zzzzz" in message


def test_binary_and_garbled_log_files_are_problems_in_a_scan(tmp_path, plugin_manager, run_cli) -> None:
    from flowscope_sql import plugin

    (tmp_path / "query.jsonl").write_bytes(b"\x00\x01\x02 not a log")
    (tmp_path / "access.jsonl").write_bytes(b'{"table": "\xff\xfe"}\n')
    config = tmp_path / "flowscope.yaml"
    config.write_text(
        "plugins:\n  sql:\n    logs: [query.jsonl]\n    access_logs: [access.jsonl]\n", encoding="utf-8"
    )
    result = run_cli(
        plugin_manager(("sql", plugin)), "scan", "--config", str(config), "--only", "sql", "--json"
    )
    [mine] = [c for c in json.loads(result.stdout)["collectors"] if c["name"] == "sql"]
    problems = " | ".join(str(p) for p in mine["problems"])
    assert "binary file" in problems and "not UTF-8" in problems and mine["signals"] == 0


def test_problems_of_logged_queries_never_quote_their_literals(caplog) -> None:
    lines = [
        json.dumps({"query": "DBCC CHECKDB('jane@example.com')", "query_id": "q1", "engine": "tsql"}),
        json.dumps({"query": "FROBNICATE 'jane@example.com' INTO t", "query_id": "q2"}),
        json.dumps({"query": "SELECT * FROM t WHERE email = 'jane@example.com' AND (", "query_id": "q3"}),
        json.dumps({"query": "GRANT SELECT ON t TO 'jane@example.com'", "query_id": "q4"}),  # utility: fine
        json.dumps({"query": "CALL system.sync('jane@example.com')", "query_id": "q5"}),
    ]
    source = Source("trino")
    with caplog.at_level("DEBUG"):
        result = read_log(iter(lines), "log.jsonl", source, Analyzer(source))
    assert [line for _, line in result.problems] == [1, 2, 3]
    assert all("jane" not in message for message, _ in result.problems), result.problems
    assert "jane" not in caplog.text
    assert "q1" in result.problems[0][0]
