"""DuckDB helpers shared by the catalog check, the DuckDB engine and the packager.

File names are quoted as SQL string literals (DuckDB's table functions take no bind parameters for file
lists in every version we support); :func:`literal` is the only place that quoting happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

# RFC 4180 CSV, read as text and cast by the catalog's declared types (the Spark engine reads the same).
CSV_OPTIONS = "header=true, all_varchar=true, delim=',', quote='\"', escape='\"'"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def file_list(files: Sequence[Path]) -> str:
    return "[" + ", ".join(literal(str(f)) for f in files) + "]"


def reader(fmt: str, files: Sequence[Path]) -> str:
    """The table function reading ``files`` (one partition) in ``fmt``. Partition columns are never read
    from here (some DuckDB versions add Hive path columns even with ``hive_partitioning=false``): the
    engines take partition values from the folder names themselves."""
    if fmt == "csv":
        return f"read_csv({file_list(files)}, {CSV_OPTIONS})"
    return f"read_parquet({file_list(files)}, hive_partitioning=false, union_by_name=true)"


def connect(
    temp_dir: Path | None = None, threads: int | None = None, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB in UTC (naive timestamps are UTC), spilling to ``temp_dir`` (private)."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")  # lets joins and COPY stream in bounded memory
    if temp_dir is not None:
        con.execute(f"SET temp_directory = {literal(str(temp_dir))}")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = {literal(memory_limit)}")
    return con


def describe(con: duckdb.DuckDBPyConnection, fmt: str, files: Sequence[Path]) -> list[tuple[str, str]]:
    """``(column, DuckDB type)`` of the files as one table."""
    rows: list[Any] = con.execute(f"DESCRIBE SELECT * FROM {reader(fmt, files)}").fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]
