"""Hook implementations of flowscope-emitters: the OpenLineage client's transports as one emitter. The
OpenLineage client and the DataHub libraries load only when an emitter or one of the commands is used."""

from __future__ import annotations

from collections.abc import Callable

import typer

from flowscope import hookimpl
from flowscope.cli.lazy import add_lazy_commands
from flowscope.contracts import EmitterFactory
from flowscope.store.folder import store_dir


@hookimpl
def register_emitters(register: Callable[[EmitterFactory], None]) -> None:
    from flowscope_emitters.openlineage_emitter import OpenLineageEmitterFactory

    # Events a dead transport did not take during a scan go to the store's spool (flowscope emit --replay).
    register(OpenLineageEmitterFactory(spool_dir=store_dir))


def _commands(app: typer.Typer) -> None:
    from flowscope_emitters.emit_cli import add_datahub_commands, add_emit_command, add_marquez_commands

    add_emit_command(app)
    add_marquez_commands(app)
    add_datahub_commands(app)


@hookimpl
def register_commands(app: typer.Typer) -> None:
    add_lazy_commands(
        app,
        _commands,
        emit="Send the stored OpenLineage events to a catalog; undelivered ones are spooled for --replay.",
        marquez="Read lineage from a Marquez server.",
        datahub="Read lineage from DataHub.",
    )
