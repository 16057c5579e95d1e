"""``flowscope sql logs --engine spark`` (issue 19, item 7): the same per-line functions run as a Spark job in
local mode give the same OpenLineage events as the single-process path on the same logs; and shapes merged in
any order keep the same samples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flowscope_sql import plugin
from flowscope_sql.logs import ShapeTable
from flowscope_sql.personal import hasher

DATA = Path(__file__).parent / "data"


def generic(i: int, sql: str) -> str:
    return json.dumps({"query": sql, "query_id": f"q{i}", "user": f"user{i % 7}", "trace_id": f"t{i}"})


def write_logs(folder: Path) -> list[Path]:
    a = folder / "a.jsonl"
    b = folder / "b.jsonl"
    lines_a = [
        generic(i, f"INSERT INTO t SELECT x, y FROM s WHERE id IN ({', '.join(['1'] * (i % 4 + 1))})")
        for i in range(12)
    ]
    lines_a.insert(5, "{not json")
    a.write_text("\n".join(lines_a) + "\n", encoding="utf-8")
    lines_b = [generic(100 + i, f"SELECT a, b FROM u WHERE d = '{i}'") for i in range(9)]
    lines_b += [generic(200 + i, "INSERT INTO t SELECT x, y FROM s WHERE id IN (9)") for i in range(3)]
    b.write_bytes(("\n".join(lines_b) + "\n").encode() + b'{"query": "SELECT \xff"}\n')
    return [a, b, DATA / "trino_events.jsonl", DATA / "spark_eventlog.jsonl"]


def test_merged_shapes_keep_the_first_samples_in_log_order(tmp_path) -> None:
    files = write_logs(tmp_path)
    whole = ShapeTable("trino", hasher(None))
    parts = []
    for n, f in enumerate(files):
        whole.feed(f.open("rb"), f.name, n)
        part = ShapeTable("trino", hasher(None))
        part.feed(f.open("rb"), f.name, n)
        parts.append(part)
    for order in (parts, parts[::-1]):
        merged: dict = {}
        for part in order:
            for key, shape in part.shapes.items():
                merged[key] = merged[key].merge(shape) if key in merged else shape
        assert {k: (s.count, s.where, s.ids) for k, s in merged.items()} == {
            k: (s.count, s.where, s.ids) for k, s in whole.shapes.items()
        }


@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime")
def test_spark_engine_writes_what_the_local_path_writes(tmp_path, plugin_manager, run_cli) -> None:
    pytest.importorskip("pyspark", reason="the spark extra (pip install 'flowscope-sql[spark]')")
    files = [str(f) for f in write_logs(tmp_path)]
    pm = plugin_manager(("sql", plugin))
    local, spark = tmp_path / "local.jsonl", tmp_path / "spark.jsonl"
    one = run_cli(pm, "sql", "logs", *files, "-d", "trino", "-o", str(local))
    two = run_cli(
        pm,
        "sql",
        "logs",
        *files,
        "-d",
        "trino",
        "-o",
        str(spark),
        "--engine",
        "spark",
        "--spark-master",
        "local[2]",
    )
    assert one.exit_code == two.exit_code == 1  # the bad lines are problems either way
    assert local.read_text() == spark.read_text() and local.stat().st_size > 0
    warnings = [line for line in one.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [line for line in two.stderr.splitlines() if line.startswith("warning:")]
    assert any("a.jsonl:6: not JSON" in w for w in warnings) and any(
        "b.jsonl:13: not UTF-8" in w for w in warnings
    )
