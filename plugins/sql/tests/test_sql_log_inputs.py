"""Query logs as they are found (issue 14): one bad line costs that line only, globs may be absolute or reach
outside the config's folder, and a log's users and trace ids are kept hashed."""

from __future__ import annotations

import json

from flowscope_sql import plugin


def entry(sql: str, **extra: str) -> bytes:
    return (json.dumps({"query": sql, **extra}) + "\n").encode()


def test_a_bad_byte_skips_only_its_line(tmp_path, plugin_manager, run_cli) -> None:
    log = tmp_path / "q.jsonl"
    log.write_bytes(
        entry("INSERT INTO a SELECT x FROM b", query_id="q1")
        + b'{"query": "SELECT \xff FROM t"}\n'
        + b"{not json\n"
        + entry("INSERT INTO c SELECT y FROM d", query_id="q4")
    )
    result = run_cli(plugin_manager(("sql", plugin)), "sql", "logs", str(log), "-d", "trino")
    assert result.exit_code == 1
    assert (
        f"{log.as_posix()}:2: not UTF-8" in result.stderr and f"{log.as_posix()}:3: not JSON" in result.stderr
    )
    outputs = {e["outputs"][0]["name"] for e in map(json.loads, result.stdout.splitlines())}
    assert outputs == {"a", "c"}


def test_scan_reports_the_bad_line_and_keeps_the_log(tmp_path, plugin_manager, run_cli) -> None:
    (tmp_path / "q.jsonl").write_bytes(
        entry("INSERT INTO a SELECT x FROM b") + b"\xfe\xfe\n" + entry("SELECT 1")
    )
    config = tmp_path / "flowscope.yaml"
    config.write_text("plugins:\n  sql:\n    logs: [q.jsonl]\n", encoding="utf-8")
    result = run_cli(
        plugin_manager(("sql", plugin)), "scan", "--config", str(config), "--only", "sql", "--json"
    )
    [mine] = [c for c in json.loads(result.stdout)["collectors"] if c["name"] == "sql"]
    assert mine["signals"] > 0
    [problem] = mine["problems"]
    assert "q.jsonl" in str(problem) and "2" in str(problem) and "UTF-8" in str(problem)


def test_absolute_and_outside_globs(tmp_path, plugin_manager, run_cli) -> None:
    logs = tmp_path / "var" / "log" / "trino"
    logs.mkdir(parents=True)
    (logs / "a.jsonl").write_bytes(entry("INSERT INTO a SELECT x FROM b"))
    (logs / "b.jsonl").write_bytes(entry("INSERT INTO c SELECT y FROM d"))
    sql_dir = tmp_path / "shared_sql"
    sql_dir.mkdir()
    (sql_dir / "job.sql").write_text("INSERT INTO e SELECT z FROM f", encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    config = project / "flowscope.yaml"
    config.write_text(
        f"plugins:\n  sql:\n    logs: ['{logs.as_posix()}/*.jsonl']\n    files: ['../shared_sql/*.sql']\n",
        encoding="utf-8",
    )
    out = tmp_path / "events.jsonl"
    result = run_cli(
        plugin_manager(("sql", plugin)),
        "scan",
        "--config",
        str(config),
        "--only",
        "sql",
        "-o",
        str(out),
        "--json",
    )
    assert result.exit_code == 0, result.output
    [mine] = [c for c in json.loads(result.stdout)["collectors"] if c["name"] == "sql"]
    assert mine["problems"] == []
    events = [json.loads(x) for x in out.read_text().splitlines()]
    written = {o["name"] for e in events for o in e.get("outputs", [])}
    assert {"a", "c", "e"} <= written


def test_ids_are_hashed_in_a_scan_unless_kept_raw(tmp_path, plugin_manager, run_cli) -> None:
    (tmp_path / "q.jsonl").write_bytes(entry("INSERT INTO a SELECT x FROM b", user="jane", trace_id="tr-1"))
    pm = plugin_manager(("sql", plugin))
    for keep, expect_raw in ((False, False), (True, True)):
        config = tmp_path / "flowscope.yaml"
        config.write_text(
            f"plugins:\n  sql:\n    logs: [q.jsonl]\n    keep_raw_log_ids: {str(keep).lower()}\n",
            encoding="utf-8",
        )
        out = tmp_path / f"out-{keep}.jsonl"
        run_cli(pm, "scan", "--config", str(config), "--only", "sql", "-o", str(out))
        text = out.read_text()
        assert ("jane" in text and "tr-1" in text) is expect_raw
        assert ("h:" in text) is not expect_raw
