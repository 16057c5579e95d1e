"""``through_temp_tables``: lineage end to end through a script's temporary tables."""

from __future__ import annotations

import fnmatch

from flowscope_sql.analyze import Analyzer
from flowscope_sql.settings import Source
from flowscope_sql.temptables import through_temp_tables

SCRIPT = """
CREATE TEMPORARY TABLE tmp_paid AS
SELECT user_id, sha2(email, 256) AS email_h, amount FROM shop.orders WHERE status = 'paid';
CREATE TEMPORARY VIEW tmp_totals AS
SELECT user_id, email_h, sum(amount) AS total FROM tmp_paid GROUP BY user_id, email_h;
INSERT OVERWRITE TABLE marts.user_totals
SELECT t.user_id, t.email_h, t.total, c.segment FROM tmp_totals t JOIN crm.customers c ON c.user_id = t.user_id;
"""


def test_per_statement_by_default(describe) -> None:
    statements = Analyzer(Source("spark")).run(SCRIPT)
    assert [st.operation for st in statements] == [
        "CREATE TEMPORARY TABLE",
        "CREATE TEMPORARY VIEW",
        "INSERT OVERWRITE",
    ]
    assert ("tmp_totals.total", "marts.user_totals.total", "DIRECT/IDENTITY") in describe(statements[2])


def test_end_to_end_through_temporary_tables(describe) -> None:
    analyzer = Analyzer(Source("spark"))
    statements = through_temp_tables(analyzer.run(SCRIPT), lambda k: k in analyzer.temporary)
    [final] = statements  # the two statements that only staged data are folded into the last one
    got = describe(final)
    assert ("shop.orders.amount", "marts.user_totals.total", "DIRECT/AGGREGATION") in got
    assert ("shop.orders.email", "marts.user_totals.email_h", "DIRECT/TRANSFORMATION/masked") in got
    assert (
        "shop.orders.status",
        "marts.user_totals",
        "INDIRECT/FILTER",
    ) in got  # the staging filter carries over
    assert ("crm.customers.segment", "marts.user_totals.segment", "DIRECT/IDENTITY") in got
    assert not [g for g in got if g[0].startswith("tmp_") or g[1].startswith("tmp_")]
    assert final.reads == {("shop", "orders"), ("crm", "customers")}


def test_temp_tables_by_name_pattern_and_insert_into_a_temp_table(describe) -> None:
    script = """
    CREATE TABLE staging_x (id INT, v STRING);
    INSERT INTO staging_x SELECT id, v FROM raw.a;
    INSERT INTO staging_x SELECT id, w FROM raw.b;
    INSERT INTO marts.out SELECT id, upper(v) AS v FROM staging_x;
    """
    statements = through_temp_tables(
        Analyzer(Source("hive")).run(script), lambda k: fnmatch.fnmatch(".".join(k), "staging_*")
    )
    got = describe(statements[-1])
    assert {
        ("raw.a.v", "marts.out.v", "DIRECT/TRANSFORMATION"),
        ("raw.b.w", "marts.out.v", "DIRECT/TRANSFORMATION"),
    } <= got


def test_scan_option_and_cli_flag(tmp_path, plugin_manager, run_cli) -> None:
    from flowscope_sql import plugin

    (tmp_path / "script.sql").write_text(SCRIPT, encoding="utf-8")
    pm = plugin_manager(("sql", plugin))
    result = run_cli(
        pm, "sql", "lineage", str(tmp_path / "script.sql"), "-d", "spark", "--through-temp-tables"
    )
    assert result.exit_code == 0 and "tmp_paid" not in result.stdout and len(result.stdout.splitlines()) == 1
    config = tmp_path / "flowscope.yaml"
    config.write_text(
        "plugins:\n  sql:\n    files: ['*.sql']\n    through_temp_tables: true\n    sources: [{dialect: spark}]\n",
        encoding="utf-8",
    )
    import json

    result = run_cli(
        pm, "scan", "--config", str(config), "--only", "sql", "--json", "-o", str(tmp_path / "e.jsonl")
    )
    events = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    names = {d["name"] for e in events for d in e.get("outputs", []) + e.get("inputs", [])}
    assert names == {"shop.orders", "crm.customers", "marts.user_totals"}
