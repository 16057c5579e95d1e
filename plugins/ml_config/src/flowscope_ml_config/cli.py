"""``flowscope ml-config scan PATH``: run the collector on a folder or file without a config or store.

Prints the flows found (or ``--json``), writes OpenLineage events with ``-o``; problems go to stderr.
The ``--json`` shape: ``{"files": N, "signals": N, "edges": [{job, source, target, confidence,
transformations, evidence}], "problems": ["FILE:LINE: message"]}``. ``--strict`` also lists files
skipped as unknown; the exit code is 1 when there were problems and nothing was read (the whole run
failed), else 0; ``--explain FILE`` says which format each document of FILE matched and which keys
every format looks for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flowscope import terminal
from flowscope.errors import UserError
from flowscope.model import Asset
from flowscope.pipeline import collect_alone
from flowscope_ml_config.collector import MlConfigCollector, Settings, classify, display, load
from flowscope_ml_config.formats import BY_NAME, SUPPORT, explain
from flowscope_ml_config.source import SkipFile


def _asset(a: Asset | None) -> str:
    return "-" if a is None else str(a)


def explain_file(path: Path, settings: Settings) -> list[str]:
    """What the collector makes of one file, and why (for ``--explain``)."""
    rel = display(path, path.parent)
    try:
        item = load(path, rel, settings)
    except SkipFile as exc:
        return [f"{rel}: not read: {exc.message}" + (f" (line {exc.line})" if exc.line else "")]
    fmt = classify(item)
    lines = [f"{rel}: {fmt}"]
    if path.name in BY_NAME:
        lines.append(f"  recognised by its name: {BY_NAME[path.name][1]}")
        return lines
    if path.suffix == ".py":
        lines.append("  Python is read only when it uses feast (FeatureView, FeatureService, sources ...)")
        return lines
    for i, doc in enumerate(item.docs):
        kind = item.doc_fmts[i] if i < len(item.doc_fmts) else None
        head = f"document {i + 1} of {len(item.docs)}" if len(item.docs) > 1 else "document"
        lines.append(f"{head}: {kind or 'no format matched'}")
        lines += ["  " + line for line in explain(doc.data, path.name)]
    if fmt in SUPPORT:
        lines.append(f"  {fmt}: read for other configs, gives no flow itself")
    return lines


def build_commands() -> typer.Typer:
    sub = typer.Typer(
        help="Lineage from ML configs (training, fine-tuning, Feast, MLflow, DVC, Kubeflow, serving)."
    )

    @sub.command("scan")
    def scan_cmd(
        path: Annotated[Path | None, typer.Argument(help="A config file or a folder to walk.")] = None,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write OpenLineage events (JSON lines).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the flows as JSON.")] = False,
        registry: Annotated[
            str, typer.Option(help="Model registry for models named without one.")
        ] = "default",
        feature_store: Annotated[str, typer.Option(help="Feature store name (feature://NAME).")] = "feast",
        table_namespace: Annotated[
            str, typer.Option(help="Namespace of bare table names, e.g. hive://host:9083.")
        ] = "",
        strict: Annotated[
            bool, typer.Option("--strict", help="Also list files skipped as an unknown format.")
        ] = False,
        explain_path: Annotated[
            Path | None,
            typer.Option(
                "--explain", help="Say which format FILE matched and which keys each format looks for."
            ),
        ] = None,
    ) -> None:
        """Parse ML configs under PATH and print the flows they declare."""
        if explain_path is not None:
            if not explain_path.is_file():
                raise UserError(f"no such file: {explain_path}")
            for line in explain_file(explain_path, Settings()):
                typer.echo(terminal.clean(line))
            return
        if path is None:
            raise UserError("give a file or folder to scan (or --explain FILE)")
        if not path.exists():
            raise UserError(f"no such file or folder: {path}")
        base = path if path.is_dir() else path.parent
        settings = Settings(
            paths=[str(path.resolve())],
            registry=registry,
            feature_store=feature_store,
            table_namespace=table_namespace,
            strict=strict,
        )
        run = collect_alone(MlConfigCollector(), settings, base)
        signals, edges, problems = run.output.signals, run.edges, run.problems
        files = len({ev.location.rsplit(":", 1)[0] for s in signals for ev in s.evidence})
        if output is not None:
            run.write_events(output, scan_id=f"ml-config:{path.resolve()}")
        err = terminal.console(stderr=True)
        if as_json:
            out = {
                "files": files,
                "signals": len(signals),
                "edges": [
                    {
                        "job": f"{e.job.namespace}/{e.job.name}",
                        "source": e.source.id,
                        "target": e.target.id if e.target else None,
                        "confidence": e.confidence,
                        "transformations": sorted(f"{t.type}/{t.subtype}" for t in e.transformations),
                        "evidence": [ev.as_dict() for ev in e.evidence],
                    }
                    for e in edges
                ],
                "problems": [str(p) for p in problems],
            }
            typer.echo(json.dumps(out, indent=2))
        else:
            table = Table(
                "job", "source", "target", "evidence", title=f"{len(edges)} flows from {files} files"
            )
            for e in edges:
                table.add_row(
                    terminal.literal(e.job.name),
                    terminal.literal(_asset(e.source)),
                    terminal.literal(_asset(e.target)),
                    terminal.literal(e.evidence[0].location if e.evidence else ""),
                )
            terminal.console(width=200).print(table)
            if output is not None:
                typer.echo(f"events written to {output}")
        for p in problems:
            err.print(f"[yellow]warning[/yellow]: {terminal.markup(p)}", soft_wrap=True)
        if problems and not signals:
            # Nothing could be read: the whole run failed, which a script or CI must see.
            err.print(
                f"error: no flows read from {terminal.markup(str(path))}: {len(problems)} problem(s) above"
            )
            raise typer.Exit(1)

    return sub
