"""The embedded engine: one DuckDB INNER JOIN per table partition against the batch's requesters.

Each partition is one ``COPY (SELECT ... FROM partition JOIN requesters) TO intermediate.parquet``:
DuckDB streams the scan through a hash join whose build side is the requesters (a batch is small), so
memory stays flat however large the partition, and only the rows of requesters ever reach disk. Columns
are cast to the canonical kinds of :mod:`.kinds` in the same query, so the intermediate file is the same
whichever engine wrote it. Withheld and unreviewed columns are never selected.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from flowscope_datalogs import duck, kinds
from flowscope_datalogs.datacheck import TablePlan
from flowscope_datalogs.datafiles import Partition
from flowscope_datalogs.intermediate import place, scratch
from flowscope_datalogs.private import private_dir

INTERMEDIATE = "part.parquet"

_NULLS = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "decimal": "VARCHAR",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "timestamp": "BIGINT",
    "date": "VARCHAR",
    "binary": "VARCHAR",
}
_LISTS = {
    "int": "BIGINT[]",
    "float": "DOUBLE[]",
    "decimal": "VARCHAR[]",
    "string": "VARCHAR[]",
    "bool": "BOOLEAN[]",
}
_CSV_CAST = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
}


class PartitionError(Exception):
    """A partition the engine could not read or join (a bad file, a column of another type)."""


def null_of(kind: str) -> str:
    return f"CAST(NULL AS {_LISTS[kind[5:]] if kind.startswith('list:') else _NULLS[kind]})"


def canonical(expr: str, kind: str, duck_type: str, csv: bool) -> str:
    """``expr`` (a column of DuckDB type ``duck_type``) cast to the canonical storage of ``kind``."""
    if csv:  # text cells: empty is NULL, then the declared type, then canonical as for Parquet
        expr = f"NULLIF({expr}, '')"
        if kind in _CSV_CAST:
            expr = f"CAST({expr} AS {_CSV_CAST[kind]})"
        duck_type = "TIMESTAMP WITH TIME ZONE" if kind == "timestamp" else duck_type
    if kind == "timestamp":
        zoned = duck_type.upper() == "TIMESTAMP WITH TIME ZONE"
        return f"epoch_us({expr})" if zoned else f"epoch_us(CAST({expr} AS TIMESTAMP))"
    if kind == "date":
        return f"CAST(CAST({expr} AS DATE) AS VARCHAR)"
    if kind == "binary":
        return f"base64({expr})"
    if kind.startswith("list:"):
        return f"CAST({expr} AS {_LISTS[kind[5:]]})"
    return f"CAST({expr} AS {_NULLS[kind]})"


def select_list(plan: TablePlan, part: Partition, schema: dict[str, str]) -> list[str]:
    """The canonical SELECT list of one partition (owner, partition values, exported columns)."""
    t = plan.table
    csv = t.format == "csv"
    out = []
    values = dict(zip(t.partitions, part.values, strict=True))
    for name in plan.columns:
        kind = plan.kinds[name]
        if name in values:
            out.append(f"{duck.literal(values[name])} AS {duck.ident(name)}")
            continue
        if name not in schema:
            if name == t.owner:
                raise PartitionError(f"no owner column {name!r} in this partition")
            out.append(f"{null_of(kind)} AS {duck.ident(name)}")  # a column added after this partition
            continue
        if not csv and kinds.duckdb_kind(schema[name]) != kind:
            raise PartitionError(f"column {name!r} is {schema[name]} here, {kind} in the newest partition")
        out.append(f"{canonical('t.' + duck.ident(name), kind, schema[name], csv)} AS {duck.ident(name)}")
    return out


def join_sql(plan: TablePlan, part: Partition, schema: dict[str, str], requesters: Path, target: Path) -> str:
    t = plan.table
    owner = canonical(
        "t." + duck.ident(t.owner), plan.kinds[t.owner], schema.get(t.owner, ""), t.format == "csv"
    )
    return (
        f"COPY (SELECT {', '.join(select_list(plan, part, schema))} "
        f"FROM {duck.reader(t.format, part.files)} AS t "
        f"JOIN read_parquet({duck.literal(str(requesters))}) AS r ON {owner} = r.user_id) "
        f"TO {duck.literal(str(target))} (FORMAT parquet, COMPRESSION zstd)"
    )


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, temp_dir: Path, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.temp_dir = private_dir(temp_dir)
        self.con = duck.connect(temp_dir, threads, memory_limit)

    def join(
        self, plan: TablePlan, parts: list[Partition], requesters: Path, out_dir: Path
    ) -> Iterator[tuple[Partition, int | Exception]]:
        for part in parts:
            yield part, self.join_one(plan, part, requesters, out_dir)

    def join_one(self, plan: TablePlan, part: Partition, requesters: Path, out_dir: Path) -> int | Exception:
        folder = scratch(out_dir)
        try:
            schema = dict(duck.describe(self.con, plan.table.format, part.files))
            row = self.con.execute(join_sql(plan, part, schema, requesters, folder / INTERMEDIATE)).fetchone()
            return place(out_dir, part, folder, int(row[0]) if row else 0)
        except (duckdb.Error, PartitionError, OSError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return PartitionError(_first_line(exc))

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
