"""``flowscope static scan PATH [--models PACK...] [-o EVENTS.jsonl] [--json]``: analyze code without a config.

Prints the flows found (or ``--json``), writes OpenLineage events with ``-o``; problems go to stderr.
The ``--json`` shape: ``{"files": N, "languages": {LANG: {files, lines, flows, error_regions}},
"signals": N, "dead_flows": N, "cache": {hits, misses, evicted}, "lowering": "compiled" | "python" (Hack and
C++ expressions and statements lowered by the C extension or its Python twin), "edges": [{job, source, target,
confidence, transformations, guards, evidence}], "problems": ["FILE:LINE: message"]}``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from flowscope import terminal
from flowscope.errors import UserError
from flowscope.model import Edge
from flowscope.pipeline import collect_alone
from flowscope.terminal import clean
from flowscope_hack_static.collector import HackStaticCollector, Settings
from flowscope_hack_static.diff import diff, repo_root
from flowscope_hack_static.tsfront import native_in_use


def build_commands() -> typer.Typer:
    sub = typer.Typer(help="Source-to-sink data flows in Hack, C++ and Python code.")

    @sub.command("scan")
    def scan_cmd(
        path: Annotated[Path, typer.Argument(help="A source file or a folder to walk.")],
        models: Annotated[
            list[Path] | None, typer.Option("--models", help="Extra model pack (YAML); repeatable.")
        ] = None,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write OpenLineage events (JSON lines).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the flows as JSON.")] = False,
        job_namespace: Annotated[
            str, typer.Option(help="Namespace of the jobs (functions).")
        ] = "service://default",
        no_cache: Annotated[
            bool, typer.Option("--no-cache", help="Analyze every file again; read and write no cache.")
        ] = False,
        pysa: Annotated[
            list[Path] | None,
            typer.Option("--pysa", help="Pysa .pysa model file or taint.config to import; repeatable."),
        ] = None,
        include_tests: Annotated[
            bool,
            typer.Option("--include-tests", help="Also scan test code (tests/, test_*.py, *_test.cc, ...)."),
        ] = False,
    ) -> None:
        """Analyze the code under PATH and print the source-to-sink flows it holds."""
        if not path.exists():
            raise UserError(f"no such file or folder: {path}")
        for pack in [*(models or []), *(pysa or [])]:
            if not pack.is_file():
                raise UserError(f"{pack}: no such model file")
        base = path if path.is_dir() else path.parent
        settings = Settings(
            paths=["."] if path.is_dir() else [path.name],
            models=[str(p.resolve()) for p in models or []],
            job_namespace=job_namespace,
            cache=not no_cache,
            pysa=[str(p.resolve()) for p in pysa or []],
            skip_tests=not include_tests,
        )
        collector = HackStaticCollector()
        run = collect_alone(collector, settings, base)
        signals, edges, problems = run.output.signals, run.edges, run.problems
        stats = collector.stats
        if output is not None:
            run.write_events(output, scan_id=f"hack-static:{path.resolve()}")
        if as_json:
            out = {
                "files": len(stats.files),
                "languages": stats.by_language(),
                "signals": len(signals),
                "dead_flows": stats.dead,
                "cache": {
                    "hits": stats.cache_hits,
                    "misses": stats.cache_misses,
                    "evicted": stats.cache_evicted,
                },
                "lowering": "compiled" if native_in_use() else "python",
                "unresolved": {"sinks": stats.unresolved_sinks, "flows": stats.unresolved_flows},
                "edges": [
                    {
                        "job": f"{e.job.namespace}/{e.job.name}",
                        "data_categories": sorted(
                            {v for ev in e.evidence for k, v in ev.detail if k == "data_category"}
                        ),
                        "source": e.source.id,
                        "target": e.target.id if e.target else None,
                        "confidence": e.confidence,
                        "masked": e.masked,
                        "transformations": sorted(f"{t.type}/{t.subtype}" for t in e.transformations),
                        "guards": sorted(e.guards),
                        "evidence": [ev.as_dict() for ev in e.evidence],
                    }
                    for e in edges
                ],
                "problems": [str(p) for p in problems],
            }
            typer.echo(json.dumps(out, indent=2))
        else:
            typer.echo(
                f"{len(edges)} flows from {len(stats.files)} files ({stats.dead} dead-branch flows dropped, "
                f"{stats.unresolved_sinks} sinks unresolved)"
            )
            for e in edges:
                notes = ("  masked" if e.masked else "") + "".join(f"  if {g}" for g in sorted(e.guards))
                where = e.evidence[-1].location if e.evidence else ""
                typer.echo(clean(f"{e.job.namespace}/{e.job.name}  {e.confidence:.2f}{notes}  [{where}]"))
                typer.echo(clean(f"    {e.source} -> {e.target}"))
            if output is not None:
                typer.echo(clean(f"events written to {output}"))
        err = terminal.console(stderr=True)
        for p in problems:
            err.print(f"[yellow]warning[/yellow]: {terminal.markup(p)}", soft_wrap=True)

    @sub.command("diff")
    def diff_cmd(
        base: Annotated[str, typer.Argument(help="The commit to compare against (e.g. origin/main).")],
        head: Annotated[str, typer.Argument(help="The commit under review (e.g. HEAD).")],
        path: Annotated[Path, typer.Argument(help="Folder or file inside the repository.")] = Path("."),
        models: Annotated[
            list[Path] | None, typer.Option("--models", help="Extra model pack (YAML); repeatable.")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the added and removed flows as JSON.")
        ] = False,
        fail_on: Annotated[
            list[str] | None,
            typer.Option(
                "--fail-on",
                help="Exit 1 only for added flows into these sinks (shell pattern over the target id, "
                "e.g. 'log://*'); repeatable. Default: any added flow.",
            ),
        ] = None,
        job_namespace: Annotated[
            str, typer.Option(help="Namespace of the jobs (functions).")
        ] = "service://default",
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Read and write no cache.")] = False,
    ) -> None:
        """Flows added and removed between two commits; exit code 1 when flows were added."""
        for pack in models or []:
            if not pack.is_file():
                raise UserError(f"{pack}: no such model pack")
        top = repo_root(Path.cwd())
        target = path if path.is_absolute() else Path.cwd() / path
        try:
            rel = Path(os.path.relpath(target.resolve(), top.resolve())).as_posix()
        except ValueError:
            rel = ""
        if rel.startswith(".."):
            raise UserError(f"{path}: not inside the repository {top}")
        rel = "" if rel == "." else rel
        packs = [str(p.resolve()) for p in models or []]

        def settings() -> Settings:
            return Settings(paths=["."], models=packs, job_namespace=job_namespace, cache=not no_cache)

        result = diff(top, base, head, rel, settings)
        failing = result.failing(fail_on or [])
        if as_json:
            out = {
                "base": base,
                "head": head,
                "added": [_flow_json(e) for e in result.added],
                "removed": [_flow_json(e) for e in result.removed],
                "failing": len(failing),
                "problems": result.problems,
            }
            typer.echo(json.dumps(out, indent=2))
        else:
            typer.echo(
                clean(f"{len(result.added)} flows added, {len(result.removed)} removed ({base} -> {head})")
            )
            for sign, edges in (("+", result.added), ("-", result.removed)):
                for e in edges:
                    where = e.evidence[-1].location if e.evidence else ""
                    masked = "  masked" if e.masked else ""
                    typer.echo(clean(f"{sign} {e.job.namespace}/{e.job.name}{masked}  [{where}]"))
                    typer.echo(clean(f"    {e.source} -> {e.target}"))
        err = terminal.console(stderr=True)
        for p in result.problems:
            err.print(f"[yellow]warning[/yellow]: {terminal.markup(p)}", soft_wrap=True)
        if failing:
            raise typer.Exit(1)

    return sub


def _flow_json(e: Edge) -> dict[str, object]:
    return {
        "job": f"{e.job.namespace}/{e.job.name}",
        "source": str(e.source),
        "target": str(e.target) if e.target is not None else None,
        "masked": e.masked,
        "evidence": [ev.as_dict() for ev in e.evidence],
    }
