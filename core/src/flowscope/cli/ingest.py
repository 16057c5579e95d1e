"""CLI: ``flowscope ingest FILE|FOLDER...``. The ``--json`` shape is documented in ``docs/lineage.md``.

Every file is read before anything is stored, and the events of all of them are read together (runs
spread over files, aliases: :mod:`flowscope.olruns`). A file that cannot be used is one ``error:`` line
naming it; the others are still stored, and the exit code is 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from flowscope import gcpause, ingest
from flowscope.errors import UserError
from flowscope.progress import progress
from flowscope.store import Store
from flowscope.terminal import clean, console

# More files than this: one total line instead of a line per file (the file transport's default layout
# writes one file per event).
PER_FILE_LINES = 20


def add_ingest_command(app: typer.Typer, store_dir: Callable[[], Path]) -> None:
    @app.command("ingest")
    def ingest_cmd(
        paths: Annotated[
            list[Path],
            typer.Argument(
                metavar="FILE_OR_FOLDER",
                help="OpenLineage event files (JSON lines, JSON, JSON array), or folders of them.",
                show_default=False,
            ),
        ],
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Load OpenLineage events from any producer into the store; re-ingesting a file replaces it.

        Events of one run spread over several files are merged by run id; runs that ended FAIL or ABORT
        are kept at low confidence; symlinks name one asset. Invalid lines are reported as FILE:LINE:
        reason and bad files by name; the rest is stored and the exit code is 1.
        """
        with gcpause.paused():  # one pause for read, derive and store: flowscope.gcpause
            _ingest(paths, as_json, store_dir)


def _ingest(paths: list[Path], as_json: bool, store_dir: Callable[[], Path]) -> None:
    files = ingest.expand(paths)
    loaded: list[ingest.Ingested] = []
    failed: list[tuple[Path, str]] = []
    with progress("reading", len(files), "files", enabled=not as_json) as advance:
        for path in files:
            try:
                item = ingest.read_events(path)
            except UserError as exc:
                failed.append((path, exc.message))
                advance(1, str(path))
                continue
            loaded.append(item)
            advance(1, str(path), events=len(item.events))
    derived = ingest.derive_all(loaded)
    if loaded:
        # One transaction: the files read together (runs across them) are stored together.
        with (
            Store.open(store_dir()) as store,
            progress("storing", len(loaded), "files") as advance,
            store.transaction(),
        ):
            for item in loaded:
                ingest.store_ingested(store, item)
                advance(1, str(item.path), edges=len(item.edges))
    problems = [p for item in loaded for p in item.problems]
    if as_json:
        typer.echo(json.dumps(_result_json(loaded, failed, derived), indent=2))
    else:
        _print_result(loaded, failed, derived, store_dir())
    for p in problems:
        typer.echo(clean(p), err=True)
    for path, reason in failed:
        typer.echo(f"error: {clean(path)}: {clean(reason)}", err=True)
    if failed or problems:
        stored = "the other files were stored" if loaded else "nothing was stored"
        parts = [f"{len(failed)} file(s) not ingested"] if failed else []
        parts += [f"{len(problems)} invalid line(s) skipped"] if problems else []
        what = "the valid events were stored" if loaded and not failed else stored
        raise UserError(f"{'; '.join(parts)}; {what}")


def _print_result(
    loaded: list[ingest.Ingested], failed: list[tuple[Path, str]], derived: Any, where: Path
) -> None:
    out = console(soft_wrap=True)
    if len(loaded) <= PER_FILE_LINES:
        for item in loaded:
            skipped = f", {len(item.problems)} invalid lines skipped" if item.problems else ""
            out.print(
                f"{clean(item.path)}: {len(item.events)} events, {len(item.edges)} edges, "
                f"{len(item.assets)} asset infos stored{skipped}",
                markup=False,
            )
    if len(loaded) > 1 or derived.failed_runs or derived.aliases.groups():
        events = sum(len(i.events) for i in loaded)
        edges = sum(len(i.edges) for i in loaded)
        notes = []
        if derived.failed_runs:
            notes.append(f"{derived.failed_runs} failed or aborted run(s) kept at low confidence")
        if groups := derived.aliases.groups():
            notes.append(
                f"{sum(len(a) for _, a in groups)} symlink name(s) folded into {len(groups)} asset(s)"
            )
        more = f" ({'; '.join(notes)})" if notes else ""
        out.print(
            f"{len(loaded)} file(s), {events} events, {edges} edges stored in {clean(where)}{more}",
            markup=False,
        )


def _result_json(
    loaded: list[ingest.Ingested], failed: list[tuple[Path, str]], derived: Any
) -> dict[str, Any]:
    return {
        "files": [
            {
                "path": str(item.path),
                "events": len(item.events),
                "edges": len(item.edges),
                "assets": len(item.assets),
                "invalid_lines": [{"line": p.line, "reason": p.reason} for p in item.problems],
            }
            for item in loaded
        ],
        "failed_files": [{"path": str(p), "error": reason} for p, reason in failed],
        "events": sum(len(i.events) for i in loaded),
        "edges": sum(len(i.edges) for i in loaded),
        "failed_runs": derived.failed_runs,
        "aliases": [
            {"asset": canon.id, "names": [a.id for a in names]} for canon, names in derived.aliases.groups()
        ],
    }
