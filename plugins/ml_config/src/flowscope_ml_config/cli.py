"""``flowscope ml-config scan PATH``: run the collector on a folder or file without a config or store.

Prints the flows found (or ``--json``), writes OpenLineage events with ``-o``; problems go to stderr.
The ``--json`` shape: ``{"files": N, "signals": N, "edges": [{job, source, target, confidence,
transformations, evidence}], "problems": ["FILE:LINE: message"]}``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flowscope.contracts import CollectContext
from flowscope.errors import UserError
from flowscope.events import build_events, write_jsonl
from flowscope.merge import merge_signals, normalize_asset
from flowscope.model import Asset, AssetInfo, Signal
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
        ctx = CollectContext(collector="ml_config", settings=settings, base_dir=base)
        signals: list[Signal] = []
        assets: dict[Asset, AssetInfo] = {}
        for obs in MlConfigCollector().collect(ctx):
            if isinstance(obs, Signal):
                signals.append(obs)
            elif isinstance(obs, AssetInfo):
                assets.setdefault(normalize_asset(obs.asset), obs)
        files = len({ev.location.rsplit(":", 1)[0] for s in signals for ev in s.evidence})
        edges = merge_signals(("ml_config", s) for s in signals)
        if output is not None:
            events = build_events(
                edges,
                assets,
                scan_id=f"ml-config:{path.resolve()}",
                event_time=datetime.now(UTC),
                problems=ctx.problems,
                collectors=["ml_config"],
            )
            write_jsonl(events, output)
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
                "problems": [str(p) for p in ctx.problems],
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
        for p in ctx.problems:
            err.print(f"[yellow]warning[/yellow]: {p}", highlight=False, soft_wrap=True)

    return sub
