"""CLI: ``flowscope zone list|discover|review|status|check|export``. Only printing lives here; every
answer comes from :mod:`flowscope.zones` (the review page calls the same functions). ``--json`` shapes
are documented in docs/zones.md.

Exit codes: 0 on success; 1 on an input error (one ``error:`` line naming file, line and key); ``zone
check`` exits 1 on findings and 2 when it could not check (no store, an empty store, a broken file).
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
import yaml
from rich.console import Console
from rich.table import Table

from flowscope import assetref
from flowscope.config import load_config
from flowscope.errors import UserError
from flowscope.store import Store
from flowscope.store.schema import DB_NAME
from flowscope.terminal import clean, literal, markup
from flowscope.terminal import console as make_console

if TYPE_CHECKING:
    from flowscope.zones.decide import Action

ZoneArg = Annotated[str, typer.Argument(metavar="ZONE", help="A zone's name, or the path of a zone file.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Config file (default: $FLOWSCOPE_CONFIG, else ./flowscope.yaml)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (shape documented in docs/zones.md).")]
REVIEWER_ENV = "FLOWSCOPE_REVIEWER"


def _console() -> Console:
    return make_console() if sys.stdout.isatty() else make_console(width=200, soft_wrap=True)


def _open(directory: Path) -> Store:
    if not (directory / DB_NAME).exists():
        raise UserError("no lineage store here yet; run `flowscope scan` first", str(directory))
    return Store.open(directory)


def reviewer() -> str:
    """Who decides, when ``--by`` is not given: $FLOWSCOPE_REVIEWER, git's user.email, the login name."""
    name = os.environ.get(REVIEWER_ENV, "").strip()
    if name:
        return name
    try:
        out = subprocess.run(
            ["git", "config", "user.email"], capture_output=True, text=True, timeout=5, check=False
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return getpass.getuser()


def _uses(state: Any) -> str:
    return ", ".join(u.use for u in state.uses)


def _asset_cell(state: Any) -> Any:
    text = literal(state.asset)  # namespace/name#field: shorter than the id, and `zone review` takes it
    if state.status == "violation":
        text.stylize("bold red")
    return text


def add_zone_commands(app: typer.Typer, store_dir: Callable[[], Path]) -> None:
    zone_app = typer.Typer(
        help="Policy zones: discover, review, status, check, export.", no_args_is_help=True
    )
    app.add_typer(zone_app, name="zone")

    def workspace(config_path: Path | None) -> Any:
        from flowscope.zones import load_workspace

        return load_workspace(load_config(config_path))

    @zone_app.command("list")
    def list_cmd(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
        """List the zones the config finds, with their files, and the zone files that cannot be read."""
        ws = workspace(config)
        rows = [
            {
                "name": z.name,
                "file": z.display,
                "review_file": str(z.review_path),
                "owner": z.owner,
                "data_categories": list(z.data_categories),
                "sources": len(z.sources),
            }
            for z in ws.zones.values()
        ]
        broken = [str(e) for e in ws.broken.values()]
        if as_json:
            typer.echo(json.dumps({"zones": rows, "broken": broken}, indent=2))
            return
        console = _console()
        table = Table("zone", "file", "owner", "data categories", "sources")
        for r in rows:
            table.add_row(
                literal(r["name"]),
                literal(r["file"]),
                literal(r["owner"]),
                ", ".join(r["data_categories"]),
                str(r["sources"]),
            )
        console.print(table)
        for line in broken:
            console.print(f"[red]error[/red]: {markup(line)}")

    @zone_app.command("discover")
    def discover_cmd(
        zone: ZoneArg,
        config: ConfigOpt = None,
        limit: Annotated[int, typer.Option(min=1, help="Show at most this many candidates.")] = 50,
        as_json: JsonOpt = False,
    ) -> None:
        """One discovery iteration: the assets to review now (one hop from the zone's protected assets),
        with their best path's confidence, hops, evidence kinds, and how many assets sit behind each."""
        from flowscope.zones import discover

        ws = workspace(config)
        z = ws.zone(zone)
        with _open(store_dir()) as store:
            found = discover(store, ws, z)
        if as_json:
            typer.echo(json.dumps(found.to_json(), indent=2))
            return
        console = _console()
        counts = found.status.counts()
        summary = f"{counts['protected']} protected, {counts['excluded']} excluded, {counts['violation']} violation(s)"
        if found.converged:
            console.print(f"zone {markup(z.name)} has converged: no unreviewed candidate left ({summary})")
        else:
            console.print(
                f"zone {markup(z.name)}: {len(found.candidates)} candidate(s) to review now; "
                f"{found.pending} asset(s) await review in all ({summary})"
            )
            table = Table("candidate", "behind", "confidence", "hops", "kinds on path", "data use")
            for c in found.candidates[:limit]:
                use = _uses(c.state) + (" - DENIED" if c.state.denied else "")
                table.add_row(
                    _asset_cell(c.state),
                    str(c.behind),
                    f"{c.state.confidence:.3f}",
                    str(c.state.hops),
                    ", ".join(c.kinds),
                    literal(use),
                )
            console.print(table)
            if len(found.candidates) > limit:
                console.print(f"(+{len(found.candidates) - limit} more; --limit or --json)")
            console.print(
                f"next: flowscope zone review {markup(z.name)} include|exclude ASSET... [--downstream] --reason TEXT"
            )
        _print_notes(console, found.status)

    @zone_app.command("review")
    def review_cmd(
        zone: ZoneArg,
        action: Annotated[
            str, typer.Argument(metavar="ACTION", help="include, exclude, acknowledge or clear.")
        ],
        assets: Annotated[list[str], typer.Argument(metavar="ASSET...", help=assetref.FORMS_HELP)],
        reason: Annotated[str, typer.Option("--reason", help="Why (kept in the review file).")] = "",
        by: Annotated[
            str | None, typer.Option("--by", help=f"Reviewer (default: ${REVIEWER_ENV}, git user.email).")
        ] = None,
        downstream: Annotated[
            bool,
            typer.Option("--downstream", help="Also decide everything the zone reaches from these assets."),
        ] = False,
        config: ConfigOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Record a decision on assets of a zone, in the review file beside the zone file."""
        from flowscope.zones import ACTIONS, apply_review

        if action not in ACTIONS:
            raise UserError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
        ws = workspace(config)
        z = ws.zone(zone)
        with _open(store_dir()) as store:
            resolved = [assetref.resolve(store, a) for a in assets]
            out = apply_review(
                store,
                ws,
                z,
                cast("Action", action),
                resolved,
                reason=reason,
                by=by or reviewer(),
                downstream=downstream,
            )
        if as_json:
            typer.echo(json.dumps(out.to_json(), indent=2))
            return
        console = _console()
        word = {
            "include": "included",
            "exclude": "excluded",
            "acknowledge": "acknowledged",
            "clear": "cleared",
        }
        from flowscope.zones.spec import display_path

        changed = out.cleared if action == "clear" else [d.asset_id for d in out.applied]
        console.print(
            f"zone {markup(z.name)}: {len(changed)} asset(s) {word[action]} in {markup(display_path(out.path))}"
        )
        for asset_id in changed[:20]:
            console.print(f"  {markup(asset_id)}")
        if len(changed) > 20:
            console.print(f"  (+{len(changed) - 20} more)")
        for d in out.kept:
            console.print(f"  kept earlier decision {d.decision} on {markup(d.asset_id)} (by {markup(d.by)})")

    @zone_app.command("status")
    def status_cmd(
        zone: ZoneArg,
        config: ConfigOpt = None,
        show_all: Annotated[
            bool, typer.Option("--all", help="List protected and excluded assets too.")
        ] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Every asset of a zone: protected, needs review, excluded, or violation (with the path to it)."""
        from flowscope.zones import zone_status

        ws = workspace(config)
        z = ws.zone(zone)
        with _open(store_dir()) as store:
            status = zone_status(store, ws, z)
        if as_json:
            typer.echo(json.dumps(status.to_json(), indent=2))
            return
        console = _console()
        c = status.counts()
        console.print(
            f"zone {markup(z.name)}: {c['protected']} protected, {c['needs_review']} need review, "
            f"{c['excluded']} excluded, {c['violation']} violation(s)"
        )
        table = Table("status", "asset", "confidence", "hops", "decision", "data use")
        for s in status.assets:
            if not show_all and s.status in ("protected", "excluded") and not s.stale:
                continue
            label = (
                s.status + (" (acknowledged)" if s.acknowledged else "") + (" (source)" if s.source else "")
            )
            decision = f"{s.decision.decision} by {s.decision.by}" if s.decision else ""
            if s.inherited:
                decision += " (dataset)"
            table.add_row(
                label,
                _asset_cell(s),
                f"{s.confidence:.3f}",
                str(s.hops),
                literal(decision),
                literal(_uses(s)),
            )
        console.print(table)
        for s in status.assets:
            if s.status == "violation" and s.path:
                console.print(
                    f"\n[bold red]violation[/bold red] {markup(s.asset)} serves "
                    f"{markup(', '.join(s.denied))} ({markup(s.uses[0].origin)})"
                )
                for line in path_lines(s.path):
                    console.print(markup(line))
        _print_notes(console, status)

    @zone_app.command("check")
    def check_cmd(
        zones: Annotated[
            list[str] | None, typer.Argument(metavar="[ZONE]...", help="Zones to check (default: all).")
        ] = None,
        baseline: Annotated[
            Path | None,
            typer.Option(
                "--baseline", help="An earlier `zone check --format json` output: its flows are known."
            ),
        ] = None,
        fmt: Annotated[str, typer.Option("--format", help="text, json, sarif or github.")] = "text",
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
        config: ConfigOpt = None,
    ) -> None:
        """Fail (exit 1) on violations and on unreviewed flows out of a zone not in the baseline; exit 2
        when the zones could not be checked (no store, an empty store, a broken zone or review file)."""
        code = _check(store_dir(), zones or [], baseline, fmt, output, config)
        raise typer.Exit(code)

    @zone_app.command("export")
    def export_cmd(
        zone: ZoneArg,
        fmt: Annotated[str, typer.Option("--format", help="fides: fideslang dataset YAML.")] = "fides",
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
        ] = None,
        config: ConfigOpt = None,
    ) -> None:
        """Write the zone as fideslang datasets: data_categories on every field in the zone."""
        from flowscope.zones import zone_status
        from flowscope.zones.export import fides_document

        if fmt != "fides":
            raise UserError(f"--format: unknown format {fmt!r} (fides)")
        ws = workspace(config)
        z = ws.zone(zone)
        with _open(store_dir()) as store:
            doc = fides_document(zone_status(store, ws, z, paths=False), store)
        text = (
            f"# Zone {z.name} as fideslang datasets, written by `flowscope zone export`.\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1_000_000)
        )
        _write(text, output)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write: {exc.strerror or exc}", str(output)) from None


def _print_notes(console: Console, status: Any) -> None:
    for s in status.stale:
        console.print(f"[yellow]stale[/yellow] {markup(s.asset.id)}: {markup(s.stale)}; review it again")
    for d in status.missing:
        console.print(
            f"[yellow]warning[/yellow]: {markup(status.zone.review_path)}:{d.line}: decision on "
            f"{markup(d.asset_id)}: the asset is not in the store (kept)"
        )


def _check(
    directory: Path,
    names: list[str],
    baseline: Path | None,
    fmt: str,
    output: Path | None,
    config: Path | None,
) -> int:
    """Run the check and print it; every problem that stops it is exit 2, never a pass."""
    err = make_console(stderr=True)
    if fmt not in ("text", "json", "sarif", "github"):
        err.print(f"error: --format: unknown format {markup(fmt)} (text, json, sarif, github)")
        return 2
    try:
        from flowscope.zones import check, load_workspace, read_baseline
        from flowscope.zones.formats import github, sarif

        cfg = load_config(config)
        ws = load_workspace(cfg)
        known = read_baseline(baseline) if baseline is not None else None
        zones = [ws.zone(n) for n in names] if names else list(ws.zones.values())
        if not zones and not ws.broken:
            raise UserError(f"no zones to check (zones.files: {', '.join(cfg.zones.files)})")
        if not (directory / DB_NAME).exists():
            raise UserError("no lineage store here; run `flowscope scan` before `zone check`", str(directory))
        with Store.open(directory) as store:
            if not store.datasets():
                raise UserError(
                    "the lineage store is empty; run `flowscope scan` before `zone check`", str(directory)
                )
            report = check(store, ws, zones, known, every_zone=not names)
    except UserError as exc:
        err.print(f"error: {markup(exc)}", soft_wrap=True)
        return 2
    if fmt == "json":
        _write(json.dumps(report.to_json(), indent=2) + "\n", output)
    elif fmt == "sarif":
        _write(json.dumps(sarif(report, cfg.base_dir), indent=2) + "\n", output)
    elif fmt == "github":
        _write("".join(line + "\n" for line in github(report, cfg.base_dir)), output)
    else:
        _write(_check_text(report), output)
    for e in report.errors:
        err.print(f"error: {markup(e)}", soft_wrap=True)
    return report.exit_code


def path_lines(edges: Any) -> list[str]:
    """A path as two lines per hop: the assets (namespace/name#field), then job, kinds and evidence."""
    lines = []
    for n, e in enumerate(edges, 1):
        where = ", ".join(clean(ev.location) for ev in e.evidence[:2])
        more = f" (+{len(e.evidence) - 2})" if len(e.evidence) > 2 else ""
        lines.append(f"  {n}. {clean(e.source)} -> {clean(e.target or '-')}")
        lines.append(f"     {clean(e.job.name)} [{', '.join(e.kinds)}] {e.confidence:.3f}  {where}{more}")
    return lines


def _check_text(report: Any) -> str:
    lines = [
        f"zone check: {len(report.zones)} zone(s), {len(report.findings)} finding(s)"
        + (f", {len(report.known)} known from the baseline" if report.known else "")
        + (" - passed" if report.exit_code == 0 else "")
    ]
    for f in report.findings:
        lines.append(f"FAIL {clean(f.zone.name)} {f.rule}: {clean(f.message)}")
        lines.extend(path_lines(f.edges))
    for w in report.warnings:
        lines.append(f"warning: {clean(w)}")
    return "\n".join(lines) + "\n"
