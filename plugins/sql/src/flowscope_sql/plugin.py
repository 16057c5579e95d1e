"""Hook implementations only; the logic lives in the other modules, which never import pluggy."""

from __future__ import annotations

from collections.abc import Callable

import typer

from flowscope import hookimpl
from flowscope.contracts import Collector, Matcher
from flowscope_sql.access import AccessContextMatcher
from flowscope_sql.cli import sql_app
from flowscope_sql.collector import SqlCollector


@hookimpl
def register_collectors(register: Callable[[Collector], None]) -> None:
    register(SqlCollector())


@hookimpl
def register_matchers(register: Callable[[Matcher], None]) -> None:
    register(AccessContextMatcher())


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(sql_app(), name="sql")
