"""``flowscope datalogs check|discover|run|status``. Only typer is imported here; each command imports
what it runs. ``--json`` shapes are documented in the plugin's README."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from flowscope.plugins import Plugins
    from flowscope_datalogs.run import SendEvents

CatalogOpt = Annotated[Path, typer.Option("--catalog", help="The reviewed data-logs catalog (YAML).")]
StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state", help="Checkpoint folder (default: datalogs/ inside the store folder).", show_default=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (shape documented in the README).")]


def _plugins(ctx: typer.Context) -> Plugins:
    from flowscope.plugins import Plugins, make_manager

    return ctx.obj if isinstance(ctx.obj, Plugins) else Plugins(make_manager())


def _renderers(ctx: typer.Context) -> dict[str, Any]:
    return {r.name: r.item for r in _plugins(ctx).renderers()}


def _sender(ctx: typer.Context, config_path: Path | None) -> SendEvents:
    """The export's events to every emitter the config sets up, as ``flowscope scan`` sends its own:
    returns how many emitters took them and one message per emitter that failed."""
    from flowscope.cli.scan import emit_all
    from flowscope.config import load_config

    config = load_config(config_path)  # no file: an empty config (emitters set up by their environment)
    plugins = _plugins(ctx)
    return lambda events: emit_all(plugins, config, events)


def _state_dir(state: Path | None) -> Path:
    from flowscope.store.folder import store_dir

    return state if state is not None else store_dir() / "datalogs"


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    if not enabled:
        yield lambda what, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        yield update


def datalogs_app() -> typer.Typer:
    app = typer.Typer(
        help="Data logs: every user's own warehouse rows, exported in batches, verified and zipped."
    )

    @app.command("check")
    def check_cmd(ctx: typer.Context, catalog: CatalogOpt, as_json: JsonOpt = False) -> None:
        """Check the catalog against the data files and the renderers; list what is exported."""
        from flowscope_datalogs.catalog import load_catalog
        from flowscope_datalogs.datacheck import check_catalog
        from flowscope_datalogs.report import check_json, print_check

        cat = load_catalog(catalog)
        result = check_catalog(cat, _renderers(ctx))
        if as_json:
            typer.echo(json.dumps(check_json(cat, result), indent=2))
        else:
            print_check(cat, result)
        if result.errors:
            raise typer.Exit(1)

    @app.command("discover")
    def discover_cmd(
        owner: Annotated[
            list[str], typer.Option("--owner", help="A user-id field, e.g. users.id (repeatable).")
        ],
        namespace: Annotated[
            list[str] | None,
            typer.Option(
                "--namespace", help="Only datasets in this namespace (repeatable; default: warehouses)."
            ),
        ] = None,
        catalog: Annotated[
            Path | None, typer.Option("--catalog", help="An existing catalog: propose only what it lacks.")
        ] = None,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write the proposal here.")
        ] = None,
        data_root: Annotated[
            str, typer.Option("--data-root", help="Proposed locations: DATA_ROOT/<table name>.")
        ] = "data",
        as_json: JsonOpt = False,
    ) -> None:
        """Propose catalog entries: warehouse tables holding a field downstream of the user-id fields."""
        from flowscope.store.folder import store_dir
        from flowscope_datalogs.discover import discover, proposal_json, proposal_yaml

        found = discover(store_dir(), owner, namespace or [], catalog)
        if as_json:
            typer.echo(json.dumps(proposal_json(found), indent=2))
            return
        text = proposal_yaml(found, data_root)
        if output is not None:
            from flowscope.errors import UserError

            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UserError(f"cannot write: {exc.strerror}", str(output)) from None
            typer.echo(f"{len(found.tables)} table(s) proposed in {output}; review every entry before use")
        else:
            typer.echo(text, nl=False)

    @app.command("run")
    def run_cmd(
        ctx: typer.Context,
        catalog: CatalogOpt,
        delivery: Annotated[Path, typer.Option("--delivery", help="Folder the packages are delivered to.")],
        requests: Annotated[
            Path | None, typer.Option("--requests", help="Requests: a JSON-lines file or a folder of them.")
        ] = None,
        state: StateOpt = None,
        engine: Annotated[str, typer.Option("--engine", help="duckdb (embedded) or spark.")] = "duckdb",
        master: Annotated[
            str | None,
            typer.Option("--master", help="Spark master URL (default local[*]).", show_default=False),
        ] = None,
        batch_size: Annotated[int, typer.Option("--batch-size", help="Most requests in one batch.")] = 1000,
        max_age: Annotated[
            str, typer.Option("--max-age", help="Start a smaller batch once its oldest request is this old.")
        ] = "24h",
        attempts: Annotated[int, typer.Option("--attempts", min=1, help="Tries per partition.")] = 3,
        ship_incomplete: Annotated[
            bool,
            typer.Option("--ship-incomplete", help="Deliver a batch whose failed partitions still fail."),
        ] = False,
        keep_intermediate: Annotated[
            bool, typer.Option("--keep-intermediate", help="Keep the joined Parquet after delivery.")
        ] = False,
        workers: Annotated[
            int | None,
            typer.Option(
                "--workers",
                min=1,
                help="Processes building packages (default: one per CPU when the batch has 100+ per CPU).",
                show_default=False,
            ),
        ] = None,
        events: Annotated[
            Path | None,
            typer.Option("--events", "-o", help="Also append the export's OpenLineage events here."),
        ] = None,
        config_path: Annotated[
            Path | None,
            typer.Option(
                "--config",
                "-c",
                help="Config whose emitters receive the export's events (default: $FLOWSCOPE_CONFIG, "
                "else ./flowscope.yaml).",
                show_default=False,
            ),
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Batch pending requests, join, verify, render and deliver their packages (resumes open batches)."""
        from flowscope.store.folder import store_dir
        from flowscope_datalogs.report import print_run, run_json
        from flowscope_datalogs.run import RunOptions, parse_age, run

        opts = RunOptions(
            catalog=catalog,
            delivery=delivery,
            state_dir=_state_dir(state),
            requests=requests,
            store_dir=store_dir(),
            events_out=events,
            engine=engine,
            master=master,
            batch_size=batch_size,
            max_age=parse_age(max_age),
            attempts=attempts,
            ship_incomplete=ship_incomplete,
            keep_intermediate=keep_intermediate,
            workers=workers,
            send_events=_sender(ctx, config_path),
        )
        with _progress(sys.stderr.isatty() and not as_json) as progress:
            report = run(opts, _renderers(ctx), progress)
        if as_json:
            typer.echo(json.dumps(run_json(report), indent=2))
        else:
            print_run(report)
        if not report.ok:
            raise typer.Exit(1)

    @app.command("status")
    def status_cmd(state: StateOpt = None, as_json: JsonOpt = False) -> None:
        """Batches, their progress and failures."""
        from flowscope_datalogs.report import print_status, status_json

        folder = _state_dir(state)
        if not folder.is_dir():
            from flowscope.errors import UserError

            raise UserError("no datalogs state here yet; run `flowscope datalogs run` first", str(folder))
        if as_json:
            typer.echo(json.dumps(status_json(folder), indent=2))
        else:
            print_status(folder)

    return app
