"""The ``flowscope`` command. ``build_app(pm)`` assembles it; nothing registers at import time."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import pluggy
import typer
from rich.table import Table

from flowscope import __version__, terminal
from flowscope.cli.coercion import use_light_coercion
from flowscope.cli.helptypes import use_plain_types
from flowscope.cli.lazy import add_lazy_commands
from flowscope.cli.lineage import add_lineage_commands
from flowscope.cli.store import add_store_commands
from flowscope.errors import UserError
from flowscope.plugins import Plugins, make_manager
from flowscope.redact import protect_output
from flowscope.store import folder
from flowscope.store.folder import DEFAULT_STORE, STORE_ENV, store_dir
from flowscope.terminal import clean, literal, markup


def build_app(pm: pluggy.PluginManager) -> typer.Typer:
    """The CLI over one plugin manager: core commands, then each plugin's ``register_commands``."""
    plugins = Plugins(pm)
    use_plain_types()
    use_light_coercion()
    app = typer.Typer(
        name="flowscope",
        help="Discover where data goes and turn it into OpenLineage lineage.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        # Plugins' commands reach the facade of the manager that built this CLI (a test's fake one
        # included) as ``ctx.obj`` (a ``typer.Context`` parameter), instead of loading entry points again.
        context_settings={"obj": plugins},
    )

    @app.callback()
    def main_options(
        store: Annotated[
            Path | None,
            typer.Option(
                help=f"Store folder (default: ${STORE_ENV}, else ./{DEFAULT_STORE}).", show_default=False
            ),
        ] = None,
        debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
        version: Annotated[
            bool,
            typer.Option(
                "--version",
                help="Print the version and exit.",
                is_eager=True,  # before click asks for a command: `flowscope --version` alone works
                callback=_print_version,
            ),
        ] = False,
    ) -> None:
        folder.choose(store)
        if debug:
            logging.getLogger("flowscope").setLevel(logging.DEBUG)

    @app.command("plugins")
    def plugins_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """List installed plugins: name, version, hooks, and what they registered."""
        rows: list[dict[str, Any]] = []
        registered: dict[str, list[str]] = {}
        for kind, items in (
            ("collector", plugins.collectors()),
            ("matcher", plugins.matchers()),
            ("emitter", plugins.emitters()),
            ("renderer", plugins.renderers()),
        ):
            for reg in items:
                registered.setdefault(reg.plugin, []).append(f"{kind}:{reg.name}")
        for name in plugins.names():
            rows.append(
                {
                    "name": name,
                    "version": plugins.version_of(name),
                    "hooks": plugins.hooks_of(name),
                    "provides": registered.get(name, []),
                }
            )
        failed = [{"name": n, "error": e} for n, e in sorted(plugins.failures.items())]
        if as_json:
            typer.echo(json.dumps({"plugins": rows, "failed": failed}, indent=2))
            return
        table = Table("plugin", "version", "hooks", "provides")
        for r in rows:
            table.add_row(
                *(
                    literal(v)
                    for v in (r["name"], r["version"], ", ".join(r["hooks"]), ", ".join(r["provides"]))
                )
            )
        console = terminal.console()
        console.print(table)
        for f in failed:
            console.print(f"[red]failed[/red] {markup(f['name'])}: {markup(f['error'])}")

    # scan and ingest load the OpenLineage client and the pipeline: only when they run (flowscope.cli.lazy).
    def scan_commands(sub: typer.Typer) -> None:
        from flowscope.cli.scan import add_scan_command

        add_scan_command(sub, plugins, store_dir)

    def ingest_commands(sub: typer.Typer) -> None:
        from flowscope.cli.ingest import add_ingest_command

        add_ingest_command(sub, store_dir)

    add_lazy_commands(
        app,
        scan_commands,
        scan="Run every enabled collector, store the graph, emit OpenLineage events, print a summary.",
    )
    add_lineage_commands(app, store_dir)
    add_lazy_commands(
        app,
        ingest_commands,
        ingest="Load OpenLineage events from any producer into the store; re-ingesting a file replaces it.",
    )

    def zone_commands(sub: typer.Typer) -> None:
        from flowscope.cli.zone import add_zone_commands

        add_zone_commands(sub, store_dir)

    add_lazy_commands(app, zone_commands, zone="Policy zones: discover, review, status, check, export.")
    add_store_commands(app, store_dir)
    plugins.add_commands(app)
    return app


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"flowscope {__version__}")
        raise typer.Exit()


def _wants_debug(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("FLOWSCOPE_DEBUG", "") not in ("", "0")


def tune_gc() -> None:
    """A scan builds millions of small objects that live to its end (YAML nodes, signals, edges, events),
    and CPython's cyclic collector walks them again each time enough new ones have accumulated: over half
    the CPU time of scanning 20,000 declared flows (35 -> 16 s). Start-up objects are frozen out of
    collections and collections run far less often; cycles are still collected."""
    gc.freeze()
    gc.set_threshold(200_000, 20, 100)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one ``error:`` line and exit 1 for expected problems; tracebacks only with --debug."""
    tune_gc()
    args = list(sys.argv[1:] if argv is None else argv)
    protect_output()  # URL credentials are masked in everything printed, --debug logs and tracebacks too
    debug = _wants_debug(args)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not debug:  # per-attempt retry chatter; the emitter reports the outcome in one line
        logging.getLogger("urllib3").setLevel(logging.ERROR)
    try:
        app = build_app(make_manager())
        app(args=args, prog_name="flowscope")  # standalone: exits through SystemExit with the command's code
    except UserError as exc:
        if debug:
            raise
        print(f"error: {clean(exc)}", file=sys.stderr)  # names in messages come from other people's files
        sys.exit(1)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        print(
            f"error: {type(exc).__name__}: {clean(exc)} (run with --debug for the traceback)", file=sys.stderr
        )
        sys.exit(1)
