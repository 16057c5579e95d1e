"""Hook implementations only. The command is registered without importing the server: starlette and
uvicorn load only when ``flowscope ui`` runs, so other commands never pay for them."""

from __future__ import annotations

import typer

from flowscope import hookimpl
from flowscope_ui.cli import add_ui_command


@hookimpl
def register_commands(app: typer.Typer) -> None:
    add_ui_command(app)
