"""``flowscope sql lineage FILE|- --dialect D``: one OpenLineage RunEvent per statement, or a table."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flowscope import terminal
from flowscope.errors import UserError
from flowscope.events import build_events, event_to_dict, write_jsonl
from flowscope.merge import merge_signals
from flowscope.model import AssetInfo, Signal
from flowscope.terminal import clean, literal
from flowscope_sql.analyze import Analyzer
from flowscope_sql.collector import analyse_text, decode
from flowscope_sql.logs import ShapeTable, collect
from flowscope_sql.observe import statement_observations
from flowscope_sql.personal import hasher, id_key
from flowscope_sql.settings import DIALECTS, NAME, Catalog, Settings, Source, check_dialect

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Engine(StrEnum):
    local = "local"
    spark = "spark"


class Format(StrEnum):
    openlineage = "openlineage"
    table = "table"


def _read(file: str) -> tuple[str, str]:
    if file == "-":
        return decode(sys.stdin.buffer.read()), "stdin"
    path = Path(file)
    try:
        return decode(path.read_bytes()), path.as_posix()
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read: {exc}", file) from None


def lineage(
    file: Annotated[str, typer.Argument(help="A SQL file, or - for standard input.")],
    dialect: Annotated[str, typer.Option("--dialect", "-d", help=f"One of: {', '.join(DIALECTS)}.")],
    schema: Annotated[
        list[Path] | None,
        typer.Option("--schema", help="Catalog file (YAML/JSON) of table columns; repeatable."),
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(help="Namespace of the tables (default DIALECT://default).")
    ] = None,
    default_catalog: Annotated[str | None, typer.Option(help="Catalog for names that omit it.")] = None,
    default_schema: Annotated[
        str | None, typer.Option(help="Schema (database) for names that omit it.")
    ] = None,
    schema_namespace: Annotated[
        list[str] | None,
        typer.Option(help="SCHEMA=NAMESPACE: tables of SCHEMA live in another system; repeatable."),
    ] = None,
    job: Annotated[
        str | None, typer.Option(help="Job name (default: the file path; #N per statement).")
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", help="openlineage (JSON lines) or table.")
    ] = Format.openlineage,
    through_temp_tables: Annotated[
        bool,
        typer.Option(
            "--through-temp-tables/--per-statement",
            help="Trace end to end through the script's temporary tables (default), or stop at them.",
        ),
    ] = True,
) -> None:
    """Column-level lineage of every statement in FILE, as OpenLineage RunEvents (JSON lines) or a table."""
    mapped = dict(_pair(item) for item in schema_namespace or [])
    source = Source(check_dialect(dialect), namespace or "", default_catalog, default_schema, mapped)
    catalog = Catalog()
    for path in schema or []:
        catalog.load(path)
    text, name = _read(file)
    failed = 0
    rows: list[tuple[str, ...]] = []
    settings = Settings(through_temp_tables=through_temp_tables)
    for st, jb in analyse_text(text, source, settings, catalog, name, job or name):
        if st.error:
            failed += 1
            typer.echo(clean(f"warning: {name}:{st.line}: {st.error}"), err=True)
            continue
        obs = list(statement_observations(st, source, jb, f"{name}:{st.line}", catalog))
        signals = [o for o in obs if isinstance(o, Signal)]
        if fmt is Format.table:
            rows += [_row(st.index, st.operation, s) for s in signals]
            continue
        assets = {o.asset: o for o in obs if isinstance(o, AssetInfo)}
        edges = merge_signals((NAME, s) for s in signals)
        for event in build_events(edges, assets, scan_id=f"sql-cli:{name}", event_time=EPOCH)[1:]:
            typer.echo(json.dumps(event_to_dict(event), sort_keys=True))
    if fmt is Format.table:
        _print_table(rows)
    if failed:
        raise typer.Exit(1)


def logs(
    files: Annotated[list[Path], typer.Argument(help="JSONL query logs (generic format, see the README).")],
    dialect: Annotated[str, typer.Option("--dialect", "-d", help="Dialect of the logged queries.")],
    schema: Annotated[list[Path] | None, typer.Option("--schema", help="Catalog file; repeatable.")] = None,
    namespace: Annotated[str | None, typer.Option(help="Namespace of the tables.")] = None,
    default_catalog: Annotated[str | None, typer.Option(help="Catalog for names that omit it.")] = None,
    default_schema: Annotated[str | None, typer.Option(help="Schema for names that omit it.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the events here.")] = None,
    keep_raw_ids: Annotated[
        bool,
        typer.Option(help="Keep users and trace ids as logged (default: salted hashes, see the README)."),
    ] = False,
    engine: Annotated[
        Engine,
        typer.Option(help="local: this process; spark: a Spark job (pip install flowscope-sql[spark])."),
    ] = Engine.local,
    spark_master: Annotated[str, typer.Option(help="Spark master URL for --engine spark.")] = "local[2]",
) -> None:
    """Column lineage of every query shape in query logs, as OpenLineage RunEvents (one per job)."""
    source = Source(check_dialect(dialect), namespace or "", default_catalog, default_schema)
    catalog = Catalog()
    for path in schema or []:
        catalog.load(path)
    key = None if keep_raw_ids else id_key()
    names = [f.as_posix() for f in files]
    if engine is Engine.spark:
        from flowscope_sql.sparklogs import shape_table

        table = shape_table([str(f) for f in files], names, source.dialect, key, spark_master)
    else:
        table = ShapeTable(source.dialect, hasher(key))
        for file_no, (file, name) in enumerate(zip(files, names, strict=True)):
            try:
                with file.open("rb") as fh:
                    table.feed(fh, name, file_no)
            except OSError as exc:
                raise UserError(f"cannot read: {exc.strerror or exc}", name) from None
    result = collect(table, source, Analyzer(source, catalog))
    for name, message, line in result.file_problems:
        typer.echo(clean(f"warning: {name}:{line}: {message}"), err=True)
    edges = merge_signals((NAME, s) for s in result.signals)
    events = build_events(edges, {}, scan_id="sql-logs", event_time=EPOCH)[1:]
    if output is not None:
        write_jsonl(events, output)
        typer.echo(
            clean(
                f"{result.entries} entries, {result.shapes} query shapes, {len(events)} events written to {output}"
            ),
            err=True,
        )
    else:
        for event in events:
            typer.echo(json.dumps(event_to_dict(event), sort_keys=True))
    if result.file_problems:
        raise typer.Exit(1)


def _pair(item: str) -> tuple[str, str]:
    schema, sep, namespace = item.partition("=")
    if not sep or not schema or not namespace:
        raise UserError(f"--schema-namespace expects SCHEMA=NAMESPACE, got {item!r}")
    return schema.strip(), namespace.strip()


def _row(index: int, operation: str, s: Signal) -> tuple[str, ...]:
    t = s.transformation
    how = (
        f"{t.type}/{t.subtype}"
        + (" masked" if t.masking else "")
        + (f" ({t.description})" if t.description else "")
    )
    target = "-" if s.target is None else f"{s.target.name}.{s.target.field or '(dataset)'}"
    return (str(index), operation, f"{s.source.name}.{s.source.field or '(table)'}", target, how)


def _print_table(rows: list[tuple[str, ...]]) -> None:
    table = Table("#", "statement", "source", "target", "transformation")
    for row in rows:
        table.add_row(*(literal(cell) for cell in row))  # names from the SQL: never markup or escapes
    terminal.console(width=200).print(table)


def sql_app() -> typer.Typer:
    app = typer.Typer(help="SQL lineage (flowscope-sql).", no_args_is_help=True)
    app.command("lineage")(lineage)
    app.command("logs")(logs)
    return app
