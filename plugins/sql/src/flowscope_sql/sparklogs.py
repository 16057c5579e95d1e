"""``flowscope sql logs --engine spark``: the per-line work of the query-log path run as a Spark job.

One task per log file (``mapPartitions`` over the files: a Spark event log's lines depend on the application
that started before them, so a file is read in order by one task), each folding its lines into shapes with
the same :class:`~flowscope_sql.logs.ShapeTable` the local path uses; the shapes are then reduced by key
(``reduceByKey`` with :meth:`~flowscope_sql.logs.Shape.merge`). The driver parses each shape once, in the order
shapes first appeared, exactly as the local path does, so both paths write the same OpenLineage events.

The salt for users and trace ids travels to the executors as the derived key, never the store's secret.
PySpark is the ``spark`` extra (``pip install flowscope-sql[spark]``) and needs a Java runtime.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from flowscope.errors import UserError
from flowscope_sql.logs import Shape, ShapeKey, ShapeTable
from flowscope_sql.personal import hasher

Folded = tuple[str, Any]  # ("shape", (key, shape)) | ("problem", (name, line, message)) | ("entries", n)


def fold_files(files: Iterable[tuple[int, str, str]], dialect: str, key: bytes | None) -> Iterator[Folded]:
    """The shapes, problems and entry count of some log files (file number, path, name): one task's work."""
    for file_no, path, name in files:
        table = ShapeTable(dialect, hasher(key))
        try:
            with open(path, "rb") as fh:
                head = fh.read(8192)
                if b"\x00" in head:
                    yield "problem", (name, 0, "cannot read: binary file (NUL bytes), not a query log")
                    continue
                fh.seek(0)
                table.feed(fh, name, file_no)
        except OSError as exc:
            yield "problem", (name, 0, f"cannot read: {exc.strerror or exc}")
            continue
        for item in table.shapes.items():
            yield "shape", item
        for problem in table.problems:
            yield "problem", problem
        yield "entries", table.entries


def shape_table(
    paths: list[str], names: list[str], dialect: str, key: bytes | None, master: str = "local[2]"
) -> ShapeTable:
    """The shapes of all ``paths`` folded by a Spark job on ``master``; what ``ShapeTable.feed`` gives locally."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError("--engine spark needs PySpark: pip install 'flowscope-sql[spark]'") from None
    builder = (
        SparkSession.builder.master(master)
        .appName("flowscope-sql-logs")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # stderr stays flowscope's warnings
        .config("spark.sql.shuffle.partitions", "4")
    )
    if master.startswith("local"):  # local workers run this interpreter, which has flowscope_sql
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        files = [(n, p, name) for n, (p, name) in enumerate(zip(paths, names, strict=True))]
        rdd = spark.sparkContext.parallelize(files, max(1, len(files)))
        folded = rdd.mapPartitions(lambda part: fold_files(part, dialect, key)).cache()
        shapes: list[tuple[ShapeKey, Shape]] = (
            folded.filter(lambda kv: kv[0] == "shape")
            .map(lambda kv: kv[1])
            .reduceByKey(Shape.merge)
            .collect()
        )
        rest = folded.filter(lambda kv: kv[0] != "shape").collect()
    finally:
        spark.stop()
    table = ShapeTable(dialect, hasher(key))
    table.shapes = dict(sorted(shapes, key=lambda kv: kv[1].where))
    table.problems = sorted(
        (p for kind, p in rest if kind == "problem"), key=lambda p: (names.index(p[0]), p[1])
    )
    table.entries = sum(n for kind, n in rest if kind == "entries")
    return table
