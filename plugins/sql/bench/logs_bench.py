"""Query logs at warehouse scale: entries per second, peak memory, and what a big catalog costs.

    python plugins/sql/bench/logs_bench.py [--entries 100000] [--distinct 0.10] [--million] [--catalog 50000]

- **throughput**: ``--entries`` Trino query-completed events (the JSON the event listener writes), of which a
  ``--distinct`` share are distinct query shapes: CTAS, INSERT ... SELECT with joins and aggregates, MERGE and
  SELECTs over a few hundred tables, literals and IN lists of varying length in every entry. One process, one
  core: the log is read and folded into shapes, each shape parsed once, signals built (what ``flowscope sql
  logs`` does before writing events). CPU seconds and wall seconds are both reported.
- **memory** (``--million``): 1,000,000 entries streamed from a file, peak RSS of the process.
- **catalog**: the same 1,000 distinct statements analysed with an empty catalog and with ``--catalog`` tables
  in it; per-statement cost ratio (target <= 1.10).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

TABLES = 300


def _query(rng: random.Random, shape: int) -> str:
    """One query of shape ``shape``: the shape decides tables, columns and form; literals vary per entry."""
    r = random.Random(shape)
    t1, t2 = f"events_{r.randrange(TABLES)}", f"users_{r.randrange(TABLES)}"
    cols = [f"c{r.randrange(40)}" for _ in range(r.randrange(2, 6))]
    kind = shape % 5
    ds = f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}"
    ids = ", ".join(str(rng.randrange(10**6)) for _ in range(rng.randrange(1, 8)))
    select = ", ".join(f"e.{c}" for c in cols)
    if kind == 0:
        return (
            f"CREATE TABLE hive.tmp.t_{shape} AS SELECT {select}, u.email FROM hive.web.{t1} e "
            f"JOIN hive.crm.{t2} u ON e.user_id = u.id WHERE e.ds = '{ds}'"
        )
    if kind == 1:
        return (
            f"INSERT INTO hive.agg.daily_{shape % 97} SELECT e.{cols[0]}, count(*) AS n, sum(e.{cols[-1]}) AS s "
            f"FROM hive.web.{t1} e WHERE e.ds = '{ds}' AND e.user_id IN ({ids}) GROUP BY e.{cols[0]}"
        )
    if kind == 2:
        return (
            f"SELECT {select} FROM hive.web.{t1} e WHERE e.user_id IN ({ids}) AND e.ds >= '{ds}' "
            f"ORDER BY e.{cols[0]} LIMIT {rng.randrange(10, 1000)}"
        )
    if kind == 3:
        return (
            f"MERGE INTO hive.crm.{t2} t USING (SELECT user_id, {cols[0]} FROM hive.web.{t1} WHERE ds = '{ds}') s "
            f"ON t.id = s.user_id WHEN MATCHED THEN UPDATE SET {cols[0]} = s.{cols[0]} "
            f"WHEN NOT MATCHED THEN INSERT (id, {cols[0]}) VALUES (s.user_id, s.{cols[0]})"
        )
    return (
        f"WITH recent AS (SELECT user_id, {', '.join(cols)} FROM hive.web.{t1} WHERE ds = '{ds}') "
        f"INSERT INTO hive.marts.m_{shape % 53} SELECT r.user_id, md5(u.email) AS email_h, r.{cols[0]} "
        f"FROM recent r JOIN hive.crm.{t2} u ON r.user_id = u.id WHERE u.country IN ('NL', 'DE', '{ds}')"
    )


def events(n: int, distinct: float, seed: int = 7) -> Iterator[str]:
    rng = random.Random(seed)
    shapes = max(1, int(n * distinct))
    for i in range(n):
        shape = i if i < shapes else rng.randrange(shapes)  # every shape at least once
        event = {
            "metadata": {
                "queryId": f"20240601_{i:09d}_abcde",
                "query": _query(rng, shape),
                "queryState": "FINISHED",
            },
            "context": {
                "user": f"user{rng.randrange(500)}",
                "catalog": "hive",
                "schema": "web",
                "traceToken": f"tr-{rng.randrange(10**9)}",
            },
            "createTime": "2024-06-01T02:00:00.000Z",
            "endTime": "2024-06-01T02:00:03.000Z",
            "ioMetadata": {"inputs": [], "output": None},
        }
        yield json.dumps(event)


def read(lines: Iterator[str] | Iterator[bytes], catalog_size: int = 0) -> tuple[int, int, int]:
    from flowscope_sql.analyze import Analyzer
    from flowscope_sql.logs import ShapeTable, collect
    from flowscope_sql.personal import hasher
    from flowscope_sql.settings import Source

    source = Source("trino", "trino://coordinator:8080")
    table = ShapeTable("trino", hasher(b"k" * 32))
    table.feed(lines, "bench.jsonl")
    analyzer = Analyzer(source, timeout=10)
    if catalog_size:
        _fill(analyzer, catalog_size)
    result = collect(table, source, analyzer)
    return result.entries, result.shapes, len(result.signals)


def _fill(analyzer: object, n: int) -> None:
    catalog = analyzer.catalog  # type: ignore[attr-defined]
    for i in range(n):
        catalog.add(("hive", f"db{i % 50}", f"table_{i}"), [(f"c{j}", "varchar") for j in range(12)])


def throughput(n: int, distinct: float) -> None:
    lines = list(events(n, distinct))
    cpu, wall = time.process_time(), time.perf_counter()
    entries, shapes, signals = read(iter(lines))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"| {entries:,} entries, {shapes:,} shapes | {entries / cpu:,.0f} entries/CPU-s | {entries / wall:,.0f} "
        f"entries/s wall | {cpu:.1f} CPU-s | {signals:,} signals |"
    )


def million(distinct: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for line in events(1_000_000, distinct):
                fh.write(line + "\n")
        size = path.stat().st_size
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu, wall = time.process_time(), time.perf_counter()
        with path.open("rb") as fh:
            entries, shapes, _ = read(fh)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"| 1,000,000 entries ({size / 1e6:,.0f} MB file), {shapes:,} shapes | peak RSS {peak / 1024:,.0f} MB "
            f"(before reading {before / 1024:,.0f} MB) | {entries / cpu:,.0f} entries/CPU-s | {wall:.0f} s wall |"
        )


def catalog_cost(size: int, statements: int = 1000) -> None:
    from flowscope_sql.analyze import Analyzer
    from flowscope_sql.settings import Source

    rng = random.Random(3)
    sqls = [_query(rng, s) for s in range(statements)]
    costs = []
    for n in (0, size):
        analyzer = Analyzer(Source("trino", default_catalog="hive", default_schema="web"), timeout=10)
        if n:
            _fill(analyzer, n)
        analyzer.run("SELECT 1")  # the schema is built once, before the statements are timed
        cpu = time.process_time()
        for sql in sqls:
            analyzer.run(sql)
        costs.append((time.process_time() - cpu) / statements)
    print(
        f"| catalog of {size:,} tables | {costs[1] * 1e3:.2f} ms/statement vs {costs[0] * 1e3:.2f} ms empty | "
        f"ratio {costs[1] / costs[0]:.2f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--distinct", type=float, default=0.10)
    parser.add_argument("--million", action="store_true", help="also 1,000,000 entries streamed from a file")
    parser.add_argument(
        "--catalog", type=int, default=50_000, help="catalog size for the cost ratio (0: skip)"
    )
    args = parser.parse_args(argv)
    import sqlglot
    import sqlglot.parser

    compiled = "sqlglotc (compiled)" if sqlglot.parser.__file__.endswith(".so") else "no sqlglotc"

    print(f"sqlglot {sqlglot.__version__}, {compiled}, Python {sys.version.split()[0]}\n")
    if args.entries:
        throughput(args.entries, args.distinct)
    if args.catalog:
        catalog_cost(args.catalog)
    if args.million:
        million(args.distinct)
    return 0


if __name__ == "__main__":
    sys.exit(main())
