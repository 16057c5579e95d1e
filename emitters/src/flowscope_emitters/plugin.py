"""Hook implementations of flowscope-emitters: the OpenLineage client's transports as one emitter."""

from __future__ import annotations

from collections.abc import Callable

import typer

from flowscope import hookimpl
from flowscope.contracts import EmitterFactory
from flowscope.store.folder import store_dir
from flowscope_emitters.emit_cli import add_datahub_commands, add_emit_command, add_marquez_commands
from flowscope_emitters.openlineage_emitter import OpenLineageEmitterFactory


@hookimpl
def register_emitters(register: Callable[[EmitterFactory], None]) -> None:
    # Events a dead transport did not take during a scan go to the store's spool (flowscope emit --replay).
    register(OpenLineageEmitterFactory(spool_dir=store_dir))


@hookimpl
def register_commands(app: typer.Typer) -> None:
    add_emit_command(app)
    add_marquez_commands(app)
    add_datahub_commands(app)
