"""The engine beyond one machine: the same batch plan in PySpark.

Per table, the pending partitions go to Spark in chunks. A chunk is one read (the same explicit files as
DuckDB with the table's folder as ``basePath``, or the metastore table filtered to the chunk's partitions
when the catalog names one and the session knows it); each row is tagged with its partition through a
broadcast join on the partition columns, joined INNER with the requesters — broadcast when they are few,
which a batch's requesters are — and cast to the canonical kinds of :mod:`.kinds`. The chunk is written
once, partitioned by partition, and each partition's files are moved into the batch's intermediate
folder, where the packager reads them exactly as it reads DuckDB's. A chunk that fails is retried
partition by partition (each read alone), so one unreadable partition fails alone.

The session's time zone is set to UTC (naive warehouse timestamps are UTC, as in DuckDB) and partition
values are never type-inferred. With a cluster (``--master``), the state folder must be on storage the
executors share (its intermediate files are written by them).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from flowscope_datalogs import duck
from flowscope_datalogs.datacheck import TablePlan
from flowscope_datalogs.datafiles import Partition
from flowscope_datalogs.engine_duckdb import PartitionError
from flowscope_datalogs.intermediate import place, scratch
from flowscope_datalogs.private import private_dir

CHUNK = 64  # partitions per Spark job: one plan of 64 unions stays quick to analyze
BROADCAST_LIMIT = 1_000_000  # requesters broadcast below this many (a few MB of ids)
_ARRAYS = {"int": "bigint", "float": "double", "decimal": "string", "string": "string", "bool": "boolean"}
_CASTS = {"int": "bigint", "float": "double", "decimal": "string", "string": "string", "bool": "boolean"}
_CSV = {"int": "bigint", "float": "double", "bool": "boolean", "date": "date", "timestamp": "timestamp"}
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


def spark_kind(dt: T.DataType) -> str | None:
    if isinstance(dt, T.ByteType | T.ShortType | T.IntegerType | T.LongType):
        return "int"
    if isinstance(dt, T.FloatType | T.DoubleType):
        return "float"
    if isinstance(dt, T.DecimalType):
        return "decimal"
    if isinstance(dt, T.StringType | T.VarcharType | T.CharType):
        return "string"
    if isinstance(dt, T.BooleanType):
        return "bool"
    if isinstance(dt, T.TimestampType | T.TimestampNTZType):
        return "timestamp"
    if isinstance(dt, T.DateType):
        return "date"
    if isinstance(dt, T.BinaryType):
        return "binary"
    if isinstance(dt, T.ArrayType):
        inner = spark_kind(dt.elementType)
        return f"list:{inner}" if inner in _ARRAYS else None
    return None


def canonical(c: Column, kind: str, csv: bool) -> Column:
    """The Spark twin of :func:`flowscope_datalogs.engine_duckdb.canonical`."""
    if csv:
        c = F.when(c == "", F.lit(None)).otherwise(c)
        if kind in _CSV:
            c = c.cast(_CSV[kind])
    if kind == "timestamp":
        return F.unix_micros(c.cast("timestamp"))
    if kind == "date":
        return c.cast("date").cast("string")
    if kind == "binary":
        return F.base64(c)
    if kind.startswith("list:"):
        return c.cast(f"array<{_ARRAYS[kind[5:]]}>")
    return c.cast(_CASTS[kind])


def _null(kind: str) -> Column:
    if kind.startswith("list:"):
        return F.lit(None).cast(f"array<{_ARRAYS[kind[5:]]}>")
    return F.lit(None).cast(
        {"timestamp": "bigint", "date": "string", "binary": "string"}.get(kind) or _CASTS[kind]
    )


class SparkEngine:
    name = "spark"

    def __init__(self, temp_dir: Path, master: str | None = None, chunk: int = CHUNK) -> None:
        self.temp_dir = private_dir(temp_dir)
        self.chunk = chunk
        active = SparkSession.getActiveSession()
        self.owned = active is None
        if active is None:
            builder = (
                SparkSession.builder.master(master or "local[*]")
                .appName("flowscope-datalogs")
                .config("spark.ui.enabled", "false")
                .config("spark.local.dir", str(self.temp_dir))
                .config("spark.sql.shuffle.partitions", "8")
                .config("spark.ui.showConsoleProgress", "false")
            )
            for k, v in SESSION_CONF.items():
                builder = builder.config(k, v)
            active = builder.getOrCreate()
            active.sparkContext.setLogLevel("ERROR")
        self.spark: SparkSession = active
        for k, v in SESSION_CONF.items():
            self.spark.conf.set(k, v)

    def _read(self, plan: TablePlan, part: Partition) -> DataFrame:
        t = plan.table
        if t.metastore and self.spark.catalog.tableExists(t.metastore):
            df = self.spark.table(t.metastore)
            for col, value in zip(t.partitions, part.values, strict=True):
                df = df.where(F.col(col).cast("string") == F.lit(value))
            return df.drop(*[c for c in t.partitions if c in df.columns])
        files = [str(f) for f in part.files]
        if t.format == "csv":
            reader = self.spark.read.options(
                header=True, quote='"', escape='"', multiLine=True, mode="FAILFAST"
            )
            return reader.csv(files)
        return self.spark.read.parquet(*files)

    def _frame(self, plan: TablePlan, part: Partition, index: int, requesters: DataFrame) -> DataFrame:
        t = plan.table
        df = self._read(plan, part)
        csv = t.format == "csv"
        fields = {f.name: f.dataType for f in df.schema.fields}
        if t.owner not in fields:
            raise PartitionError(f"no owner column {t.owner!r} in this partition")
        values = dict(zip(t.partitions, part.values, strict=True))
        cols: list[Column] = []
        for name in plan.columns:
            kind = plan.kinds[name]
            if name in values:
                cols.append(F.lit(values[name]).cast("string").alias(name))
            elif name not in fields:
                cols.append(_null(kind).alias(name))
            else:
                if not csv and spark_kind(fields[name]) != kind:
                    raise PartitionError(
                        f"column {name!r} is {fields[name].simpleString()} here, {kind} in the newest partition"
                    )
                cols.append(canonical(df[name], kind, csv).alias(name))
        owner = canonical(df[t.owner], plan.kinds[t.owner], csv)
        joined = df.join(requesters, owner == requesters["user_id"], "inner")
        return joined.select(*cols, F.lit(index).alias("__part"))

    def _requesters(self, path: Path) -> DataFrame:
        """The requesters, broadcast when few: counted from the Parquet footer here (the driver reads the
        state folder), not by a Spark job per table."""
        req = self.spark.read.parquet(str(path))
        return F.broadcast(req) if _count([path]) <= BROADCAST_LIMIT else req

    def _chunk_frame(self, plan: TablePlan, chunk: list[Partition], requesters: DataFrame) -> DataFrame:
        """The chunk as one read: one schema pass over all its files, and each row tagged with its
        partition's index through a broadcast join on the partition columns (reading partition by
        partition costs a schema-inference job per partition: 4x slower on 20 partitions)."""
        t = plan.table
        csv = t.format == "csv"
        if t.metastore and self.spark.catalog.tableExists(t.metastore):
            df = self.spark.table(t.metastore)
            wanted = None
            for part in chunk:
                cond = F.lit(True)
                for col, value in zip(t.partitions, part.values, strict=True):
                    cond = cond & (F.col(col).cast("string") == F.lit(value))
                wanted = cond if wanted is None else wanted | cond
            if wanted is not None:
                df = df.where(wanted)
        else:
            files = [str(f) for part in chunk for f in part.files]
            reader = self.spark.read.option("basePath", str(t.location))
            if csv:
                df = reader.options(header=True, quote='"', escape='"', multiLine=True, mode="FAILFAST").csv(
                    files
                )
            else:
                df = reader.option("mergeSchema", "true").parquet(*files)
        if t.partitions:
            schema = T.StructType(
                [
                    T.StructField("__part", T.IntegerType()),
                    *[T.StructField(f"__k_{p}", T.StringType()) for p in t.partitions],
                ]
            )
            keys = self.spark.createDataFrame([(i, *part.values) for i, part in enumerate(chunk)], schema)
            on = [df[p].cast("string") == keys[f"__k_{p}"] for p in t.partitions]
            df = df.join(F.broadcast(keys), on, "inner")
        else:
            df = df.withColumn("__part", F.lit(0))
        fields = {f.name: f.dataType for f in df.schema.fields if f.name not in t.partitions}
        if t.owner not in fields:
            raise PartitionError(f"no owner column {t.owner!r}")
        cols: list[Column] = []
        for name in plan.columns:
            kind = plan.kinds[name]
            if name in t.partitions:
                cols.append(F.col(f"__k_{name}").alias(name))
            elif name not in fields:
                cols.append(_null(kind).alias(name))
            else:
                if not csv and spark_kind(fields[name]) != kind:
                    raise PartitionError(
                        f"column {name!r} is {fields[name].simpleString()}, {kind} in the newest partition"
                    )
                cols.append(canonical(df[name], kind, csv).alias(name))
        owner = canonical(df[t.owner], plan.kinds[t.owner], csv)
        return df.join(requesters, owner == requesters["user_id"], "inner").select(*cols, F.col("__part"))

    def join(
        self, plan: TablePlan, parts: list[Partition], requesters: Path, out_dir: Path
    ) -> Iterator[tuple[Partition, int | Exception]]:
        req = self._requesters(requesters)
        for start in range(0, len(parts), self.chunk):
            chunk = parts[start : start + self.chunk]
            try:
                results = list(self._write(chunk, self._chunk_frame(plan, chunk, req), out_dir))
            except Exception:  # find the partition that broke the chunk: each alone, the others succeed
                results = []
                for part in chunk:
                    try:
                        results += self._write([part], self._frame(plan, part, 0, req), out_dir)
                    except Exception as exc:
                        results.append((part, PartitionError(_first_line(exc))))
            yield from results

    def _write(
        self, chunk: list[Partition], frame: DataFrame, out_dir: Path
    ) -> list[tuple[Partition, int | Exception]]:
        """Write the chunk once, partitioned by partition index, and move each partition's files in."""
        staging = self.temp_dir / f"spark-{secrets.token_hex(6)}"
        results: list[tuple[Partition, int | Exception]] = []
        try:
            frame.write.mode("overwrite").partitionBy("__part").parquet(str(staging))
            for i, part in enumerate(chunk):
                folder = scratch(out_dir)
                for n, f in enumerate(sorted((staging / f"__part={i}").glob("*.parquet"))):
                    os.replace(f, folder / f"part-{n:05d}.parquet")
                results.append((part, place(out_dir, part, folder, _count(sorted(folder.iterdir())))))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return results

    def close(self) -> None:
        if self.owned:
            self.spark.stop()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _count(files: list[Path]) -> int:
    if not files:
        return 0
    con = duck.connect(threads=1)
    try:
        row = con.execute(f"SELECT count(*) FROM read_parquet({duck.file_list(files)})").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else type(exc).__name__
