"""``flowscope ui``: the option parsing only; the server module (starlette, uvicorn) is imported when the
command runs, never when the CLI is assembled."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flowscope.store.folder import store_dir

TOKEN_ENV = "FLOWSCOPE_UI_TOKEN"


def add_ui_command(app: typer.Typer) -> None:
    @app.command("ui")
    def ui_cmd(
        store: Annotated[
            Path | None,
            typer.Option(
                "--store", help="Store folder (default: flowscope's --store, $FLOWSCOPE_STORE, ./.flowscope)."
            ),
        ] = None,
        host: Annotated[
            str,
            typer.Option(
                "--host",
                help=f"Address to bind. Anything but 127.0.0.1/localhost/::1 needs a token for every write "
                f"(${TOKEN_ENV}, else one is generated and printed).",
            ),
        ] = "127.0.0.1",
        port: Annotated[
            int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")
        ] = 8321,
        read_only: Annotated[
            bool, typer.Option("--read-only", help="Refuse every write (review decisions).")
        ] = False,
        config: Annotated[
            Path | None,
            typer.Option(
                "--config",
                "-c",
                help="Config file with the zones (default: $FLOWSCOPE_CONFIG, else ./flowscope.yaml).",
            ),
        ] = None,
    ) -> None:
        """Serve the lineage and zone-review page over the store (JSON API + one HTML page, no internet needed)."""
        from flowscope_ui.server import serve

        serve(store or store_dir(), host=host, port=port, read_only=read_only, config=config)
