"""The catalog against the data and the renderers: what ``datalogs check`` reports and ``run`` requires.

For each table: its partitions are listed, the schema of the newest readable partition is read (DuckDB,
no engine to start), every catalog column must exist there (partition columns come from folder names),
the owner column must have the users' id type, exported columns a supported kind, and every renderer
must be registered with valid options. Data columns the catalog does not mention are listed as not
reviewed: they are never read into the export. Each error names the catalog file, line and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from flowscope.errors import UserError
from flowscope.yamlpos import suggest
from flowscope_datalogs import duck, kinds
from flowscope_datalogs.catalog import Catalog, Column, Table
from flowscope_datalogs.datafiles import Partition, find_partitions


@dataclass
class TablePlan:
    """A checked table: its partitions and the kind of every column the export reads."""

    table: Table
    partitions: list[Partition]
    kinds: dict[str, str]  # owner, partition columns and exported columns -> kind
    schema_from: Path | None = None
    unreviewed: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # partitions whose schema could not be read

    @property
    def columns(self) -> list[str]:
        """Intermediate column order: owner, partition columns, then the other exported columns."""
        t = self.table
        out = [t.owner, *t.partitions]
        out += [c.name for c in t.exported if c.name not in out]
        return out


@dataclass
class CheckResult:
    plans: list[TablePlan]
    errors: list[UserError]

    def raise_first(self) -> None:
        if self.errors:
            more = (
                f" (and {len(self.errors) - 1} more; see `flowscope datalogs check`)"
                if len(self.errors) > 1
                else ""
            )
            first = self.errors[0]
            raise UserError(first.message + more, first.path, first.line)


def check_catalog(catalog: Catalog, renderers: Mapping[str, Any]) -> CheckResult:
    result = CheckResult([], [])
    con = duck.connect(threads=2)
    try:
        for table in catalog.tables:
            try:
                result.plans.append(_check_table(con, catalog, table, renderers))
            except UserError as exc:
                result.errors.append(exc)
    finally:
        con.close()
    return result


def _schema(
    con: duckdb.DuckDBPyConnection, table: Table, partitions: list[Partition]
) -> tuple[dict[str, str], Path | None, list[str]]:
    """``column -> DuckDB type`` of the newest partition DuckDB can read; unreadable ones are listed."""
    unreadable: list[str] = []
    for part in reversed(partitions):
        try:
            return dict(duck.describe(con, table.format, part.files)), part.files[0], unreadable
        except duckdb.Error as exc:
            unreadable.append(f"{part.label}: {str(exc).splitlines()[0]}")
    return {}, None, unreadable


def _check_table(
    con: duckdb.DuckDBPyConnection, catalog: Catalog, table: Table, renderers: Mapping[str, Any]
) -> TablePlan:
    key = ("tables", table.name)
    partitions = find_partitions(catalog, table)
    schema, schema_file, unreadable = _schema(con, table, partitions)
    plan = TablePlan(table, partitions, {}, schema_file, unreadable=unreadable)
    if not partitions:
        raise catalog.error((*key, "location"), f"no data files under {table.location}")
    if schema_file is None:
        raise catalog.error((*key, "location"), f"no partition is readable: {unreadable[0]}")
    where = f"in {schema_file}"
    part_cols = set(table.partitions)
    for p in part_cols:  # values come from folder names (some readers add them as columns: ignored)
        schema.pop(p, None)
    listed = {c.name for c in table.columns}
    data_cols = [c for c in schema if c not in part_cols]
    plan.unreviewed = [c for c in data_cols if c not in listed and c != table.owner]
    if table.owner not in schema:
        raise catalog.error(
            (*key, "owner"), f"no column {table.owner!r} {where}{suggest(table.owner, data_cols)}"
        )
    owner_kind = _kind(catalog, table, table.owner, schema[table.owner], table.column(table.owner))
    wanted = kinds.owner_kind(catalog.user_id_type)
    if owner_kind != wanted:
        raise catalog.error(
            (*key, "owner"),
            f"column {table.owner!r} is {schema[table.owner]} {where}, but user ids are "
            f"{catalog.user_id_type} (user_id.type); the join would match nobody",
        )
    plan.kinds[table.owner] = owner_kind
    for p in table.partitions:
        plan.kinds[p] = "string"
    for col in table.columns:
        ckey = (*key, "columns", col.name)
        if col.name in part_cols:
            kind = "string"
        elif col.name not in schema:
            raise catalog.error(ckey, f"no such column {where}{suggest(col.name, data_cols)}")
        else:
            kind = _kind(catalog, table, col.name, schema[col.name], col)
        if col.exported:
            plan.kinds[col.name] = kind
            _check_renderer(catalog, table, col, kind, renderers)
    return plan


def _kind(catalog: Catalog, table: Table, name: str, duck_type: str, col: Column | None) -> str:
    key = ("tables", table.name, "columns", name)
    if table.format == "csv":
        if col is None or col.type is None:
            raise catalog.error(key, f"CSV column {name!r} needs a declared type")
        return kinds.CSV_TYPES[col.type]
    kind = kinds.duckdb_kind(duck_type)
    if kind is None:
        raise catalog.error(key, f"type {duck_type} is not exportable (scalars or lists of scalars only)")
    if col is not None and col.type is not None and kinds.CSV_TYPES[col.type] != kind:
        raise catalog.error((*key, "type"), f"declared {col.type} but the data has {duck_type}")
    return kind


def _check_renderer(
    catalog: Catalog, table: Table, col: Column, kind: str, renderers: Mapping[str, Any]
) -> None:
    key = ("tables", table.name, "columns", col.name)
    name = col.renderer or kinds.default_renderer(kind)
    if name not in renderers:
        raise catalog.error((*key, "renderer"), f"unknown renderer {name!r}{suggest(name, renderers)}")
    check = getattr(renderers[name], "check_options", None)
    if check is not None:
        try:
            check(col.options)
        except ValueError as exc:
            raise catalog.error((*key, "options"), f"{name}: {exc}") from None
