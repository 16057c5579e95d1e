"""Hook implementations only; the logic lives in modules that never import pluggy."""

from __future__ import annotations

from collections.abc import Callable

import typer

from flowscope import hookimpl
from flowscope.contracts import Collector
from flowscope_hack_static.cli import build_commands
from flowscope_hack_static.collector import HackStaticCollector


@hookimpl
def register_collectors(register: Callable[[Collector], None]) -> None:
    register(HackStaticCollector())


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(build_commands(), name="static")
