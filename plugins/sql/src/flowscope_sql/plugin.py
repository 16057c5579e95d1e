"""Hook implementations only; the logic lives in the other modules, which never import pluggy. Nothing
heavy is imported here: sqlglot loads when a scan or an ``sql`` command needs it."""

from __future__ import annotations

from collections.abc import Callable

import typer

from flowscope import hookimpl
from flowscope.cli.lazy import add_lazy_commands
from flowscope.contracts import Collector, Matcher


@hookimpl
def register_collectors(register: Callable[[Collector], None]) -> None:
    from flowscope_sql.collector import SqlCollector

    register(SqlCollector())


@hookimpl
def register_matchers(register: Callable[[Matcher], None]) -> None:
    from flowscope_sql.access import AccessContextMatcher

    register(AccessContextMatcher())


def _commands(app: typer.Typer) -> None:
    from flowscope_sql.cli import sql_app

    app.add_typer(sql_app(), name="sql")


@hookimpl
def register_commands(app: typer.Typer) -> None:
    add_lazy_commands(app, _commands, sql="SQL lineage (flowscope-sql).")
