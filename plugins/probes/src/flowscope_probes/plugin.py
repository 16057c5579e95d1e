"""flowscope hook implementations of the probes plugin (collector, payload matchers, CLI); thin."""

from __future__ import annotations

from collections.abc import Callable

import typer

from flowscope import hookimpl
from flowscope.cli.lazy import add_lazy_commands
from flowscope.contracts import Collector, Matcher


@hookimpl
def register_collectors(register: Callable[[Collector], None]) -> None:
    from flowscope_probes.collector import ProbesCollector

    register(ProbesCollector())


@hookimpl
def register_matchers(register: Callable[[Matcher], None]) -> None:
    from flowscope_probes.matching import payload_matchers

    for matcher in payload_matchers():
        register(matcher)  # type: ignore[arg-type]


def _commands(app: typer.Typer) -> None:
    from flowscope_probes.cli import build_commands

    app.add_typer(build_commands(), name="probes")


@hookimpl
def register_commands(app: typer.Typer) -> None:
    add_lazy_commands(app, _commands, probes="Runtime privacy probes: inspect the spool the probes wrote.")
