"""Data-logs export benchmark: the whole run against raw DuckDB doing only the join, and Spark local mode.

    uv sync --all-packages --extra spark        # PySpark for the spark row (Java 17+)
    .venv/bin/python bench/datalogs_bench.py --rows 20000000             # the issue's size
    .venv/bin/python bench/datalogs_bench.py --rows 200000000 --skip-spark
    .venv/bin/python bench/datalogs_bench.py --rows 2000000 --users 500000   # a quick run

The synthetic table (cached in ``--cache``, outside the repository; about 25 bytes a row on disk): ``events``
in Parquet, partitioned by day (``ds=...``), ``--rows`` rows over ``--users`` users (ids hashed so every
user has rows on several days), columns user id, event time, an enum, an app version, a duration and a
withheld device id. ``--requesters`` random users ask for their data.

Each measurement runs in its own child process, so its peak RSS (``ru_maxrss``) is its own:

- **raw DuckDB**: per partition, ``COPY (SELECT t.* FROM partition t JOIN requesters r ON ...) TO file`` —
  the join and a partitioned write of the same rows, nothing else, in one process;
- **flowscope run (duckdb)**: ``flowscope_datalogs.run.run`` end to end — requests read, batch formed, the
  same join per partition (with canonical casts), owner verification, split, render, ZIP packages,
  delivery, lineage events — timed per phase through its progress callback;
- **flowscope run (spark)**: the same with ``--engine spark`` in local mode (session start timed apart).

Packaging is given per wall second and per CPU-second: the run's own CPU during the package phase plus
all of its packaging workers' CPU (``--workers``; default: the run's, one per CPU for 1,000 requesters).

Prints one table; the join step's throughput is rows scanned per second (the table's rows / join time).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CATALOG = """version: 1
user_id: {{type: bigint}}
tables:
  events:
    dataset: {{namespace: "hive://bench:9083", name: bench.events}}
    title: What you did
    location: {location}
    partitions: [ds]
    owner: user_id
    near_duplicates: {{time: event_time, within_seconds: 5}}
    columns:
      event_time: {{title: When, renderer: timestamp}}
      event_type:
        title: What
        renderer: enum
        options: {{values: {{0: Opened the app, 1: Shared a photo, 2: Liked a photo, 3: Commented, 4: Searched, 5: Changed a setting, 6: Sent a message, 7: Logged out}}}}
      client_version: {{title: App version}}
      session_ms: {{title: Time spent, renderer: duration, options: {{unit: ms}}}}
      device_id: {{withheld: security}}
"""


def generate(cache: Path, rows: int, users: int, days: int) -> Path:
    """The events table for these sizes, generated once into the cache."""
    import duckdb

    target = cache / f"events-{rows}-{users}-{days}"
    if (target / "_DONE").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    per_day = rows // days
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    for d in range(days):
        ds = f"2024-{1 + d // 28:02d}-{1 + d % 28:02d}"
        out = target / f"ds={ds}"
        out.mkdir()
        con.execute(
            f"""COPY (
              SELECT (hash(i * 7919 + {d}) % {users})::BIGINT AS user_id,
                     TIMESTAMP '{ds} 00:00:00' + to_seconds((hash(i) % 86400)::BIGINT) AS event_time,
                     (i % 8)::INTEGER AS event_type,
                     ['ios 412.0', 'ios 413.1', 'android 398.2', 'web 2024.05'][1 + i % 4] AS client_version,
                     (hash(i * 31) % 900000)::BIGINT AS session_ms,
                     'dev-' || (hash(i * 13) % 100000000)::VARCHAR AS device_id
              FROM range({d * per_day}, {(d + 1) * per_day}) t(i)
            ) TO '{out}/part-0.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"""
        )
        print(f"  generated ds={ds} ({per_day:,} rows)", file=sys.stderr, flush=True)
    con.close()
    (target / "_DONE").write_text("ok")
    return target


def _requesters(users: int, n: int, seed: int) -> list[int]:
    return sorted(random.Random(seed).sample(range(users), n))


def _raw_duckdb(table: Path, requesters: list[int], work: Path, queue: Any) -> None:
    import duckdb

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("CREATE TABLE r (user_id BIGINT)")
    con.executemany("INSERT INTO r VALUES (?)", [(u,) for u in requesters])
    con.execute(f"COPY r TO '{work}/requesters.parquet' (FORMAT parquet)")
    start = time.perf_counter()
    rows = 0
    for part in sorted(table.glob("ds=*")):
        out = work / part.name
        out.mkdir()
        ds = part.name.split("=", 1)[1]
        got = con.execute(  # the same rows and columns the export keeps (device_id is withheld)
            f"COPY (SELECT t.user_id, t.event_time, t.event_type, t.client_version, t.session_ms, '{ds}' AS ds "
            f"FROM read_parquet('{part}/*.parquet') t "
            f"JOIN read_parquet('{work}/requesters.parquet') r ON t.user_id = r.user_id) "
            f"TO '{out}/part.parquet' (FORMAT parquet)"
        ).fetchone()
        rows += int(got[0]) if got else 0
    elapsed = time.perf_counter() - start
    queue.put({"join_s": elapsed, "rows_out": rows, "rss_mb": _rss_mb()})


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (the packaging workers, once joined)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _flowscope(
    table: Path, requesters: list[int], work: Path, engine: str, workers: int | None, queue: Any
) -> None:
    from flowscope_datalogs.renderers import BUILTINS
    from flowscope_datalogs.run import RunOptions, parse_age, run

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "catalog.yaml").write_text(CATALOG.format(location=json.dumps(str(table))), encoding="utf-8")
    with (work / "requests.jsonl").open("w", encoding="utf-8") as fh:
        for n, u in enumerate(requesters):
            fh.write(
                json.dumps(
                    {"request_id": f"bench-{n:08d}", "user_id": u, "requested_at": "2024-06-01T00:00:00Z"}
                )
                + "\n"
            )
    marks: dict[str, float] = {}

    def progress(what: str, done: int, total: int) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        marks.setdefault(f"{what}_first", now)
        marks.setdefault(f"{what}_cpu_first", cpu)
        marks[f"{what}_last"] = now
        marks[f"{what}_cpu_last"] = cpu

    spark_start = 0.0
    if engine == "spark":  # start the session apart, so its start-up is reported on its own
        t0 = time.perf_counter()
        from pyspark.sql import SparkSession

        SparkSession.builder.master("local[*]").config("spark.ui.enabled", "false").config(
            "spark.ui.showConsoleProgress", "false"
        ).config("spark.driver.memory", "2g").getOrCreate().sparkContext.setLogLevel("ERROR")
        spark_start = time.perf_counter() - t0
    opts = RunOptions(
        catalog=work / "catalog.yaml",
        delivery=work / "delivery",
        state_dir=work / "state",
        requests=work / "requests.jsonl",
        store_dir=work / "store",
        engine=engine,
        batch_size=len(requesters),
        max_age=parse_age("0s"),
        workers=workers,
    )
    children = _children_cpu()
    start = time.perf_counter()
    report = run(opts, BUILTINS, progress)
    end = time.perf_counter()
    workers_cpu = _children_cpu() - children  # the packaging workers' CPU (Spark's JVM is not waited for)
    [batch] = report.batches
    assert batch.status == "done" and batch.packages == len(requesters), batch
    queue.put(
        {
            "total_s": end - start,
            "join_s": marks["join_last"] - marks["join_first"],
            "verify_s": marks["package_first"] - marks["join_last"],
            "package_s": marks["package_last"] - marks["package_first"],
            "package_cpu_s": marks["package_cpu_last"] - marks["package_cpu_first"] + workers_cpu,
            "deliver_s": end - marks["package_last"],
            "spark_start_s": spark_start,
            "rows_out": batch.rows,
            "packages": batch.packages,
            "rss_mb": _rss_mb(),
        }
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def measure(target: Any, *args: Any) -> dict[str, Any]:
    queue: Any = mp.get_context("fork").Queue()
    proc = mp.get_context("fork").Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return dict(result)


def main() -> None:
    parser = argparse.ArgumentParser(description="flowscope data-logs benchmark")
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--users", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--requesters", type=int, default=1000)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "flowscope-bench" / "datalogs")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--workers", type=int, default=None, help="packaging processes (default: the run's)")
    args = parser.parse_args()

    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    table = generate(args.cache, args.rows, args.users, args.days)
    size = sum(f.stat().st_size for f in table.rglob("*.parquet"))
    requesters = _requesters(args.users, args.requesters, args.seed)
    work = args.cache / "work"
    for f in table.rglob("*.parquet"):  # warm the page cache: raw DuckDB runs first and must not pay it alone
        with f.open("rb") as fh:
            while fh.read(1 << 24):
                pass
    raw = measure(_raw_duckdb, table, requesters, work / "raw")
    ours = measure(_flowscope, table, requesters, work / "duckdb", "duckdb", args.workers)
    # the same run packaging in one process, for the workers' speed-up in this run
    single = None if args.workers == 1 else measure(_flowscope, table, requesters, work / "one", "duckdb", 1)
    spark = (
        None
        if args.skip_spark
        else measure(_flowscope, table, requesters, work / "spark", "spark", args.workers)
    )
    print(
        f"table: {args.rows:,} rows, {args.users:,} users, {args.days} day partitions, {size / 1e9:.2f} GB; {args.requesters:,} requesters"
    )
    print()
    print("| measure | time | throughput | peak RSS | rows joined |")
    print("|---|---|---|---|---|")
    print(
        f"| raw DuckDB: join + partitioned write | {raw['join_s']:.2f} s | {args.rows / raw['join_s'] / 1e6:.1f} M rows/s | {raw['rss_mb']:.0f} MB | {raw['rows_out']:,} |"
    )
    for name, r in (("duckdb", ours), ("spark", spark)):
        if r is None:
            continue
        print(
            f"| flowscope run ({name}), join step | {r['join_s']:.2f} s | {args.rows / r['join_s'] / 1e6:.1f} M rows/s ({raw['join_s'] / r['join_s']:.0%} of raw DuckDB) | | {r['rows_out']:,} |"
        )
        print(f"| flowscope run ({name}), verify | {r['verify_s']:.2f} s | | | |")
        print(
            f"| flowscope run ({name}), package | {r['package_s']:.2f} s | {r['packages'] / r['package_s']:,.0f} users/s "
            f"({r['packages'] / r['package_cpu_s']:,.0f} per CPU-second) | | |"
        )
        if name == "duckdb" and single is not None:
            print(
                f"| flowscope run (duckdb, --workers 1), package | {single['package_s']:.2f} s | {single['packages'] / single['package_s']:,.0f} users/s "
                f"({single['packages'] / single['package_cpu_s']:,.0f} per CPU-second) | | |"
            )
        print(f"| flowscope run ({name}), deliver + lineage | {r['deliver_s']:.2f} s | | | |")
        extra = f" (+ {r['spark_start_s']:.1f} s Spark session start)" if r["spark_start_s"] else ""
        print(
            f"| flowscope run ({name}), whole run | {r['total_s']:.2f} s{extra} | {args.rows / r['total_s'] / 1e6:.1f} M rows/s | {r['rss_mb']:.0f} MB | |"
        )
    print(f"\nuptime after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
