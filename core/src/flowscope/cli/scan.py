"""``flowscope scan``: collect, store, emit, summarize."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from openlineage.client.event_v2 import RunEvent
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from flowscope import terminal
from flowscope.config import Config, check_plugin_sections, load_config
from flowscope.errors import UserError
from flowscope.events import build_events, event_to_dict, write_jsonl
from flowscope.model import Asset, AssetInfo
from flowscope.paths import outside_summary
from flowscope.pipeline import ScanResult, scan
from flowscope.plugins import Plugins
from flowscope.progress import Lines
from flowscope.progress import mode as progress_mode
from flowscope.store import Store
from flowscope.terminal import clean, literal, markup


def scan_source(config: Config) -> Path:
    """What a scan's scope stands for: its config file, else (no file) the folder it ran in."""
    return config.path.resolve() if config.path else Path.cwd().resolve()


def scan_id_for(config: Config) -> str:
    """Which scan this is, for the store's scopes and the run ids: the config file it ran from."""
    return hashlib.sha256(str(scan_source(config)).encode()).hexdigest()[:16]


def stale_note(store: Store) -> tuple[str, list[str]]:
    """One line on scopes no input backs any more (a renamed or deleted config, an ingested file since
    deleted), and their sources, for ``flowscope store prune``; empty when there are none."""
    stale, _ = store.unbacked_scopes()
    gone = list(dict.fromkeys(s.source or "" for s in stale))
    if not gone:
        return "", []
    shown = ", ".join(gone[:3]) + (f" and {len(gone) - 3} more" if len(gone) > 3 else "")
    return (
        f"note: the store holds {len(stale)} scope(s) whose input no longer exists ({shown}); "
        "`flowscope store prune` removes them"
    ), gone


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], Callable[[int], None]]]:
    """A rich progress display on a terminal; elsewhere (pipes, CI) a line every few seconds
    (:mod:`flowscope.progress`)."""
    how = progress_mode(enabled)
    if how == "off":
        yield lambda name: lambda n: None
        return
    if how == "lines":
        lines = Lines("scan", None, "items", sys.stderr)
        yield lambda name: lambda n: lines.advance(n, f"collecting {name}")
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} items"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        current: list[TaskID] = []

        def start(name: str) -> Callable[[int], None]:
            if current:
                progress.update(current[-1], visible=False)
            task = progress.add_task(f"collecting [bold]{markup(name)}[/bold]", total=None)
            current.append(task)
            return lambda n: progress.advance(task, n)

        yield start


def store_outputs(store: Store, result: ScanResult, scope: str) -> None:
    """Replace each collector's part of the store; a failed collector keeps what it stored last time.
    Callers wrap it in :meth:`Store.transaction` with the scan's events."""
    for report in result.reports:
        if report.error or report.skipped or report.name not in result.outputs:
            continue
        out = result.outputs[report.name]
        edges = result.edges_of(report.name)
        store.replace(report.name, scope, edges, list(out.assets.values()), [], out.samples)


def store_result(store: Store, result: ScanResult, events: list[RunEvent], scope: str) -> None:
    """Replace each collector's part of the store and the scan's events, all in one transaction (a scan
    killed half-way leaves the previous scan whole); a failed collector keeps what it stored last time."""
    with store.transaction():
        store_outputs(store, result, scope)
        store.replace("scan", scope, [], [], [event_to_dict(e) for e in events])


def with_zone_tags(
    store: Store, config: Config, assets: dict[Asset, AssetInfo]
) -> tuple[dict[Asset, AssetInfo], list[str]]:
    """``assets`` plus the zone membership tags (``zone:<name>``, ``data_category:<...>``) the events carry,
    resolved against the store as this scan left it. Zones are only loaded when zone files exist, so a
    scan without zones never imports fideslang; a broken zone is a warning, never a failed scan."""
    from flowscope.zones.workspace import zone_files

    if not zone_files(config):
        return assets, []
    from flowscope.zones.export import zone_tags
    from flowscope.zones.workspace import load_workspace

    try:
        infos, problems = zone_tags(store, load_workspace(config))
    except UserError as exc:  # the config's purposes: every zone depends on them
        return assets, [str(exc)]
    merged = dict(assets)
    for info in infos:
        known = merged.get(info.asset)
        tags = tuple(dict.fromkeys((*(known.tags if known else ()), *info.tags)))
        merged[info.asset] = AssetInfo(info.asset, known.fields, tags, known.description) if known else info
    return merged, problems


def summary_table(result: ScanResult, edges_total: int) -> Table:
    table = Table("collector", "plugin", "signals", "edges", "problems", "status", title="scan summary")
    for r in result.reports:
        status = r.status if not r.error else f"failed: {r.error}"
        if r.skipped:
            status = f"skipped: {r.skipped}"
        table.add_row(
            literal(r.name),
            literal(r.plugin),
            str(r.signals),
            str(r.edges),
            str(len(r.problems)),
            literal(status),
        )
    table.add_section()
    table.add_row(
        "total",
        "",
        str(sum(r.signals for r in result.reports)),
        str(edges_total),
        str(len(result.problems)),
        "",
    )
    return table


def emit_all(plugins: Plugins, config: Config, events: Sequence[RunEvent]) -> tuple[int, list[str]]:
    """Send events to every configured emitter; return how many took them and one message per emitter that
    failed (``flowscope scan`` and plugins that write lineage of their own, such as the data-logs export)."""
    took, failures = 0, []
    for reg in plugins.emitters():
        try:
            emitter = reg.item.from_config(config.raw, config.base_dir)
            if emitter is None:
                continue
            try:
                for event in events:
                    emitter.emit(event)
            finally:
                emitter.close()
            took += 1
        except UserError as exc:
            failures.append(f"emitter {reg.name}: {exc}")
        except Exception as exc:
            failures.append(f"emitter {reg.name} (plugin {reg.plugin}): {type(exc).__name__}: {exc}")
    return took, failures


def add_scan_command(app: typer.Typer, plugins: Plugins, store_dir: Callable[[], Path]) -> None:
    @app.command("scan")
    def scan_cmd(
        config_path: Annotated[
            Path | None,
            typer.Option(
                "--config", "-c", help="Config file (default: $FLOWSCOPE_CONFIG, else ./flowscope.yaml)."
            ),
        ] = None,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="Also write every OpenLineage event here, as JSON lines."),
        ] = None,
        only: Annotated[
            list[str] | None, typer.Option("--only", help="Run only this collector (repeatable).")
        ] = None,
        strict: Annotated[
            bool, typer.Option("--strict", help="Exit non-zero when any input had problems.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    ) -> None:
        """Run every enabled collector, store the graph, emit OpenLineage events, print a summary."""
        config = load_config(config_path)
        check_plugin_sections(  # a plugin without a collector may read its own section (openlineage: datahub)
            config,
            [c.item.config_section for c in plugins.collectors()] + plugins.blocked() + plugins.names(),
        )
        store = Store.open(store_dir())
        err = terminal.console(stderr=True)  # names in problems come from other people's files
        scope = scan_id_for(config)
        try:
            with _progress(not as_json) as on_start:
                result = scan(plugins, config, only or (), on_start, store.job_samples(scope))
            # One transaction (a scan killed half-way leaves the previous scan whole); the zone tags are
            # read from the store as this scan leaves it, inside it.
            with store.transaction():
                store_outputs(store, result, scope)
                assets, zone_problems = with_zone_tags(store, config, result.assets)
                events = build_events(
                    result.edges,
                    assets,
                    scan_id=scope,
                    event_time=datetime.now(UTC),
                    problems=result.problems,
                    failed_collectors=result.failures,
                    collectors=[r.name for r in result.reports],
                )
                store.replace("scan", scope, [], [], [event_to_dict(e) for e in events])
                store.record_source(scope, scan_source(config))
            stale_line, stale_sources = stale_note(store)
        finally:
            store.close()
        if output is not None:
            try:
                write_jsonl(events, output)
            except OSError as exc:
                raise UserError(f"cannot write events: {exc.strerror}", str(output)) from None
        _, emit_failures = emit_all(plugins, config, events)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        **_summary_json(result, len(events), emit_failures),
                        "zone_warnings": zone_problems,
                        "stale_sources": stale_sources,
                    },
                    indent=2,
                )
            )
        else:
            terminal.console().print(summary_table(result, len(result.edges)))
            for p in result.problems:
                err.print(f"[yellow]warning[/yellow]: {markup(p.collector)}: {markup(p)}", soft_wrap=True)
            for zp in zone_problems:
                err.print(f"[yellow]warning[/yellow]: zones: {markup(zp)}", soft_wrap=True)
            if result.outside:
                err.print(
                    f"note: read from outside the config's folder ({markup(str(config.base_dir))}): "
                    + markup(", ".join(outside_summary(result.outside))),
                    soft_wrap=True,
                )
            if stale_line:
                err.print(markup(stale_line), soft_wrap=True)
            typer.echo(
                clean(
                    f"{len(events)} OpenLineage events stored in {store_dir()}"
                    + (f" and written to {output}" if output else "")
                )
            )
        for f in emit_failures:
            err.print(f"[red]error[/red]: {markup(f)}", soft_wrap=True)
        for name, e in result.failures.items():
            err.print(f"[red]error[/red]: collector {markup(name)} failed: {markup(e)}", soft_wrap=True)
        if result.failures or emit_failures or (strict and result.problems):
            raise typer.Exit(1)


def _summary_json(result: ScanResult, events: int, emit_failures: list[str]) -> dict[str, object]:
    return {
        "collectors": [
            {
                "name": r.name,
                "plugin": r.plugin,
                "status": r.status,
                "signals": r.signals,
                "edges": r.edges,
                "problems": [str(p) for p in r.problems],
                "error": r.error,
                "skipped": r.skipped,
            }
            for r in result.reports
        ],
        "edges": len(result.edges),
        "outside_inputs": result.outside,
        "events": events,
        "emit_errors": emit_failures,
    }
