"""``flowscope ml-config scan PATH``: run the collector on a folder or file without a config or store.

Prints the flows found (or ``--json``), writes OpenLineage events with ``-o``; problems go to stderr.
The ``--json`` shape: ``{"files": N, "signals": N, "edges": [{job, source, target, confidence,
transformations, evidence}], "problems": ["FILE:LINE: message"]}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flowscope.errors import UserError
from flowscope.model import Asset
from flowscope.pipeline import collect_alone
from flowscope_ml_config.collector import MlConfigCollector, Settings


def _asset(a: Asset | None) -> str:
    return "-" if a is None else str(a)


def build_commands() -> typer.Typer:
    sub = typer.Typer(help="Lineage from ML configs (training, Feast, MLflow, Kubeflow, serving).")

    @sub.command("scan")
    def scan_cmd(
        path: Annotated[Path, typer.Argument(help="A config file or a folder to walk.")],
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
    ) -> None:
        """Parse ML configs under PATH and print the flows they declare."""
        if not path.exists():
            raise UserError(f"no such file or folder: {path}")
        base = path if path.is_dir() else path.parent
        settings = Settings(
            paths=[str(path.resolve())],
            registry=registry,
            feature_store=feature_store,
            table_namespace=table_namespace,
        )
        run = collect_alone(MlConfigCollector(), settings, base)
        signals, edges, problems = run.output.signals, run.edges, run.problems
        files = len({ev.location.rsplit(":", 1)[0] for s in signals for ev in s.evidence})
        if output is not None:
            run.write_events(output, scan_id=f"ml-config:{path.resolve()}")
        err = Console(stderr=True)
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
                    e.job.name,
                    _asset(e.source),
                    _asset(e.target),
                    e.evidence[0].location if e.evidence else "",
                )
            Console(width=200).print(table)
            if output is not None:
                typer.echo(f"events written to {output}")
        for p in problems:
            err.print(f"[yellow]warning[/yellow]: {p}", highlight=False, soft_wrap=True)

    return sub
