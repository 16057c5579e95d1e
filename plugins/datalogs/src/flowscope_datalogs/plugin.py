"""Hook implementations only. Commands are registered without importing their implementation: DuckDB,
the engines and the packager are imported when a ``datalogs`` command actually runs."""

from __future__ import annotations

from collections.abc import Callable

import typer

from flowscope import hookimpl
from flowscope.cli.lazy import add_lazy_commands
from flowscope.contracts import Renderer


def _commands(app: typer.Typer) -> None:
    from flowscope_datalogs.cli import datalogs_app

    app.add_typer(datalogs_app(), name="datalogs")


@hookimpl
def register_commands(app: typer.Typer) -> None:
    add_lazy_commands(
        app,
        _commands,
        datalogs="Data logs: every user's own warehouse rows, exported in batches, verified and zipped.",
    )


@hookimpl
def register_renderers(register: Callable[[Renderer], None]) -> None:
    from flowscope_datalogs.renderers import BUILTINS

    for renderer in BUILTINS.values():
        register(renderer)
