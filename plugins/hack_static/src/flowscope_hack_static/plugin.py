"""Hook implementations only; the logic lives in modules that never import pluggy (and load only when a
scan or a ``static`` command needs them)."""

from __future__ import annotations

from collections.abc import Callable

import typer

from flowscope import hookimpl
from flowscope.cli.lazy import add_lazy_commands
from flowscope.contracts import Collector


@hookimpl
def register_collectors(register: Callable[[Collector], None]) -> None:
    from flowscope_hack_static.collector import HackStaticCollector

    register(HackStaticCollector())


def _commands(app: typer.Typer) -> None:
    from flowscope_hack_static.cli import build_commands

    app.add_typer(build_commands(), name="static")


@hookimpl
def register_commands(app: typer.Typer) -> None:
    add_lazy_commands(app, _commands, static="Source-to-sink data flows in Hack, C++ and Python code.")
