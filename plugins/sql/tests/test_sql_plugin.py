"""The plugin through flowscope: entry point, `flowscope scan` from config, and `flowscope sql lineage`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flowscope.errors import UserError
from flowscope_sql import plugin

DATA = Path(__file__).parent / "data"

CONFIG = """\
plugins:
  sql:
    files: ["*.sql"]
    catalog: [catalog.yaml]
    jobs: {pipeline.sql: shop.pipeline}
    sources:
      - dialect: hive
        namespace: hive://warehouse:9083
        default_schema: shop
        schemas: {crm: "mysql://crm:3306"}
"""


def setup(tmp_path: Path, config: str = CONFIG) -> Path:
    for name in ("pipeline.sql", "catalog.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "blob.sql").write_bytes(b"\x00\x01binary")
    path = tmp_path / "flowscope.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def test_entry_point_is_installed(plugin_manager) -> None:
    pm = plugin_manager(entrypoints=True)
    assert "sql" in [name for name, p in pm.list_name_plugin() if p is not None]


def test_scan_collects_column_lineage_and_reports_bad_input(
    tmp_path, plugin_manager, memory_emitter, run_cli, assert_valid_event
) -> None:
    config = setup(tmp_path)
    out = tmp_path / "events.jsonl"
    pm = plugin_manager(("sql", plugin), memory_emitter.plugin)
    result = run_cli(pm, "scan", "--config", str(config), "--only", "sql", "-o", str(out), "--json")
    summary = json.loads(result.stdout)
    [mine] = [c for c in summary["collectors"] if c["name"] == "sql"]
    problems = " | ".join(mine["problems"])
    assert "blob.sql" in problems and "binary" in problems
    assert "pipeline.sql:5" in problems and "syntax error" in problems
    events = [json.loads(line) for line in out.read_text().splitlines()]
    for event in events:
        assert_valid_event(event)
    # Jobs live in the producer's namespace (OpenLineage naming spec), not in the tables' URI.
    jobs = {e["job"]["name"]: e for e in events if e["job"]["namespace"] == "flowscope://sql"}
    assert set(jobs) == {"shop.pipeline#1", "shop.pipeline#3"}
    first = jobs["shop.pipeline#1"]
    assert first["job"]["facets"]["jobType"]["jobType"] == "QUERY"
    assert first["job"]["facets"]["sql"]["query"].startswith("INSERT OVERWRITE TABLE shop.paid_orders")
    [output] = first["outputs"]
    lineage = output["facets"]["columnLineage"]
    assert set(lineage["fields"]) == {"id", "user_id", "amount", "status"}  # star expanded from the catalog
    assert lineage["dataset"][0]["field"] == "status"
    assert lineage["dataset"][0]["transformations"][0]["subtype"] == "FILTER"
    second = jobs["shop.pipeline#3"]["outputs"][0]["facets"]["columnLineage"]
    email = second["fields"]["any_email"]["inputFields"][0]
    assert email["field"] == "email" and email["transformations"][0]["masking"] is True
    revenue = second["fields"]["revenue"]["inputFields"][0]
    assert revenue["name"] == "shop.paid_orders" and revenue["transformations"][0]["subtype"] == "AGGREGATION"


def test_bad_config_names_the_key(tmp_path, plugin_manager, run_cli) -> None:
    config = setup(tmp_path, CONFIG.replace("dialect: hive", "dialect: hivey"))
    pm = plugin_manager(("sql", plugin))
    with pytest.raises(UserError, match="unknown SQL dialect 'hivey'"):
        run_cli(pm, "scan", "--config", str(config), "--only", "sql")


def test_cli_prints_one_valid_event_per_statement(plugin_manager, run_cli, assert_valid_event) -> None:
    pm = plugin_manager(("sql", plugin))
    result = run_cli(
        pm,
        "sql",
        "lineage",
        str(DATA / "pipeline.sql"),
        "--dialect",
        "hive",
        "--schema",
        str(DATA / "catalog.yaml"),
        "--namespace",
        "hive://warehouse:9083",
        "--default-schema",
        "shop",
    )
    assert result.exit_code == 1  # one statement has a syntax error: reported, the others printed
    assert "syntax error" in result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == 2
    for event in events:
        assert_valid_event(event)
        assert event["job"]["facets"]["sql"]["query"]
    assert events[1]["outputs"][0]["name"] == "shop.revenue_by_country"


def test_cli_table_format_and_stdin(plugin_manager) -> None:
    from typer.testing import CliRunner

    from flowscope.cli import build_app

    app = build_app(plugin_manager(("sql", plugin)))
    sql = b"INSERT INTO t SELECT sha2(a, 256) AS h FROM s"
    result = CliRunner().invoke(
        app, ["sql", "lineage", "-", "--dialect", "spark", "--format", "table"], input=sql
    )
    assert result.exit_code == 0, result.output
    assert "s.a" in result.stdout and "t.h" in result.stdout and "masked" in result.stdout


def test_cli_unknown_dialect(plugin_manager, run_cli) -> None:
    pm = plugin_manager(("sql", plugin))
    with pytest.raises(UserError, match="valid dialects"):
        run_cli(pm, "sql", "lineage", str(DATA / "pipeline.sql"), "--dialect", "nope")
