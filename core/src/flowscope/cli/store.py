"""CLI: ``flowscope store prune [--dry-run]``: remove what no input backs any more (flowscope.store.sources)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from flowscope.store import Store
from flowscope.terminal import clean


def add_store_commands(app: typer.Typer, store_dir: Callable[[], Path]) -> None:
    store_app = typer.Typer(help="Maintain the lineage store.", no_args_is_help=True)
    app.add_typer(store_app, name="store")

    @store_app.command("prune")
    def prune_cmd(
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Print what would be removed; change nothing.")
        ] = False,
    ) -> None:
        """Remove the scopes whose input no longer exists (a renamed or deleted config file, an ingested
        file since deleted): their edges, asset infos, events and job samples."""
        with Store.open(store_dir()) as store:
            stale, unknown = store.unbacked_scopes()
            verb = "would remove" if dry_run else "removed"
            for s in stale:
                if not dry_run:
                    store.remove_scope(s.collector, s.scope)
                typer.echo(clean(f"{verb}: {s.collector} scope {s.scope} ({s.edges} edges): {s.reason}"))
            for s in unknown:
                typer.echo(clean(f"kept: {s.collector} scope {s.scope} ({s.edges} edges): {s.reason}"))
        total = sum(s.edges for s in stale)
        done = "to remove (dry run)" if dry_run else "removed"
        typer.echo(f"{len(stale)} scope(s), {total} edge row(s) {done}" if stale else "nothing to prune")
