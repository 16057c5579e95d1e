"""The Spark engine in local mode against the DuckDB engine on the same data: byte-identical packages.

One Spark session (conftest's ``spark``) serves the whole test session: starting one takes 10-40 s. Spark
pays per job, not per row, so the tests keep the number of tables and runs small: the byte-identical test
covers every table shape and kind, the metastore test only two tables. Needs the ``spark`` extra and
Java 17+; ``scripts/test`` installs the extra for this plugin's own run, so these run in CI.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import Result, delivered, run_args, unzip

pyspark = pytest.importorskip(
    "pyspark", reason="the Spark engine needs the spark extra: pip install 'flowscope-datalogs[spark]'"
)

TYPES_TABLE = """
  types:
    dataset: {namespace: "hive://warehouse:9083", name: analytics.types}
    title: Every kind of value
    location: ../data/types
    partitions: [ds]
    owner: user_id
    near_duplicates: {time: naive_at, within_seconds: 3}
    columns:
      price: {title: Price, renderer: number, options: {decimals: 2, unit: EUR}}
      tiny: {title: Tiny, description: a decimal with many places}
      blob: {title: Blob}
      ratio: {title: Ratio}
      zoned_at: {title: Zoned, renderer: timestamp}
      naive_at: {title: Naive, renderer: timestamp, options: {format: "%Y-%m-%d %H:%M:%S.%f"}}
      day: {title: Day, renderer: date}
      counts: {title: Counts}
      flag: {title: Flag}
      note: {title: Note}
      added_later: {title: Added later}
"""


def _types_table(base: Path) -> None:
    """A table with every kind, nulls, a column added in the newer partition, and near-duplicates."""
    (base / "data" / "types" / "ds=2024-06-01").mkdir(parents=True)
    (base / "data" / "types" / "ds=2024-06-02").mkdir(parents=True)
    row = (
        "SELECT {u}::BIGINT AS user_id, {p}::DECIMAL(10,2) AS price, 0.0000125::DECIMAL(12,7) AS tiny, "
        "'\\xAA\\x00\\xFF'::BLOB AS blob, 0.1::FLOAT AS ratio, TIMESTAMPTZ '2024-06-01 10:00:00+02' AS zoned_at, "
        "TIMESTAMP '2024-06-01 10:00:0{s}.123456' AS naive_at, DATE '2024-02-29' AS day, [1, {u}, NULL]::INTEGER[] AS counts, "
        "{f} AS flag, {n} AS note"
    )
    old = " UNION ALL ".join(
        [
            row.format(u=1001, p=9.99, s=1, f="true", n="'caf\u00e9 <b>'"),
            row.format(
                u=1001, p=9.99, s=2, f="true", n="'caf\u00e9 <b>'"
            ),  # a near-duplicate, a second later
            row.format(u=1042, p="NULL", s=5, f="NULL", n="NULL"),
            row.format(u=1, p=1, s=0, f="false", n="'not a requester'"),
        ]
    )
    new = row.format(u=1042, p=-3.5, s=7, f="false", n="'=cmd'") + ", 42::BIGINT AS added_later"
    with duckdb.connect() as con:
        con.execute(f"COPY ({old}) TO '{base}/data/types/ds=2024-06-01/part-0.parquet' (FORMAT parquet)")
        con.execute(f"COPY ({new}) TO '{base}/data/types/ds=2024-06-02/part-0.parquet' (FORMAT parquet)")
    catalog = base / "datalogs" / "catalog.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8") + TYPES_TABLE, encoding="utf-8")


def _only(base: Path, *tables: str) -> None:
    """Keep only these tables in the catalog (each a top-level block under ``tables:``)."""
    path = base / "datalogs" / "catalog.yaml"
    head, body = path.read_text(encoding="utf-8").split("\ntables:\n", 1)
    blocks = re.split(r"(?m)^(?=  \w)", body)
    kept = [b for b in blocks if b.strip() and b.split(":", 1)[0].strip() in tables]
    assert len(kept) == len(tables), [b.split(":", 1)[0] for b in blocks]
    path.write_text(head + "\ntables:\n" + "".join(kept), encoding="utf-8")


def _run(cli: Callable[..., Result], base: Path, name: str, *extra: str) -> dict[str, bytes]:
    args = run_args(base, "--json", *extra)
    args[args.index("--delivery") + 1] = str(base / name / "delivery")
    args[args.index("--state") + 1] = str(base / name / "state")
    result = cli(*args)
    assert result.code == 0, result.err + result.out
    return delivered(base / name / "delivery")


def test_spark_and_duckdb_packages_are_byte_identical(
    example: Path, cli: Callable[..., Result], spark: Any
) -> None:
    _types_table(example)
    on_duckdb = _run(cli, example, "duckdb")
    on_spark = _run(cli, example, "spark", "--engine", "spark")
    assert set(on_spark) == set(on_duckdb) and len(on_duckdb) == 4
    for request, data in on_duckdb.items():
        assert on_spark[request] == data, request
    files = unzip(on_duckdb["r-7Kq2mW9xT4vBn8Lp"])  # and the values are the right ones, not just equal
    types = json.loads(files["tables/types.json"])["rows"]
    assert len(types) == 1 and types[0]["times_logged"] == 2
    t = types[0]
    assert (t["price"], t["tiny"], t["blob"], t["ratio"]) == (
        "9.99 EUR",
        "0.0000125",
        "qgD/",
        "0.100000001490116",
    )
    assert (
        t["zoned_at"] == "2024-06-01 10:00:00 CEST"
        and t["day"] == "2024-02-29"
        and t["counts"] == "1, 1001, "
    )
    assert (
        t["naive_at"] == "2024-06-01 12:00:01.123456" and t["flag"] == "Yes" and t["note"] == "caf\u00e9 <b>"
    )
    assert "caf\u00e9 &lt;b&gt;" in files["index.html"].decode()
    other = json.loads(unzip(on_duckdb["r-Qz3hV6cY1sJd5RfA"])["tables/types.json"])["rows"]
    assert [r["added_later"] for r in other] == ["", "42"]  # NULL before the column existed
    assert [r["note"] for r in other] == ["", "'=cmd"] or [r["note"] for r in other] == ["", "=cmd"]


def test_spark_reads_a_metastore_table_and_fails_an_unreadable_partition_alone(
    example: Path, cli: Callable[..., Result], spark: Any
) -> None:
    """With ``metastore:`` in the catalog and the table known to the session, Spark reads the table, not
    the files: here the table points at a copy without user 1001's first day, and the package shows it."""
    copy = example / "metastore" / "app_events"
    shutil.copytree(example / "data" / "app_events", copy)
    first = copy / "ds=2024-06-01" / "part-0.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM '{first}' WHERE user_id <> 1001) TO '{first}.new' (FORMAT parquet)")
        Path(f"{first}.new").replace(first)
        expected = con.execute(
            f"SELECT count(*) FROM read_parquet('{copy}/*/*.parquet') WHERE user_id = 1001"
        ).fetchone()
        original = con.execute(
            f"SELECT count(*) FROM read_parquet('{example}/data/app_events/*/*.parquet') WHERE user_id = 1001"
        ).fetchone()
    assert expected is not None and original is not None and 0 < expected[0] < original[0]
    spark.sql("CREATE DATABASE IF NOT EXISTS analytics")
    spark.sql("DROP TABLE IF EXISTS analytics.app_events")
    spark.sql(
        "CREATE TABLE analytics.app_events (user_id BIGINT, event_time TIMESTAMP_NTZ, event_type INT, "
        "client_version STRING, device_id STRING, session_ms BIGINT, ds STRING) USING parquet "
        f"PARTITIONED BY (ds) LOCATION '{copy}'"
    )
    spark.sql("MSCK REPAIR TABLE analytics.app_events")
    _only(example, "app_events", "photo_uploads")  # the other tables' Spark jobs add nothing here
    try:
        bad = example / "data" / "photo_uploads" / "ds=2024-06-04" / "part-0.parquet"
        good = bad.read_bytes()
        bad.write_bytes(b"garbage, not parquet")
        args = run_args(example, "--json", "--engine", "spark", "--attempts", "1")
        result = cli(*args)
        assert result.code == 1
        [batch] = json.loads(result.out)["batches"]
        assert batch["status"] == "blocked" and len(batch["failed_partitions"]) == 1
        assert batch["failed_partitions"][0].startswith("photo_uploads ds=2024-06-04:")
        assert batch["partitions"] == 10 and batch["partitions_joined_now"] == 9
        bad.write_bytes(good)
        result = cli(*args)
        assert result.code == 0, result.err
        manifest = json.loads(unzip(delivered(example / "delivery")["r-7Kq2mW9xT4vBn8Lp"])["manifest.json"])
        logged = {t["name"]: t["logged_rows"] for t in manifest["tables"]}
        assert logged["app_events"] == expected[0]
    finally:
        spark.sql("DROP TABLE IF EXISTS analytics.app_events")
