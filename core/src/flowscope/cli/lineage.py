"""CLI: ``lineage downstream|upstream|why`` and ``assets``. The ``--json`` shapes are documented
in ``docs/lineage.md`` and stable; human output is a rich table.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.table import Table

from flowscope import assetref, graph, terminal
from flowscope.cli.fasttable import print_table
from flowscope.errors import UserError
from flowscope.model import Asset, Edge
from flowscope.store import Store
from flowscope.store.schema import DB_NAME
from flowscope.terminal import literal, markup

AssetArg = Annotated[str, typer.Argument(metavar="ASSET", help=assetref.FORMS_HELP, show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (shape documented in docs/lineage.md).")]
DepthOpt = Annotated[int, typer.Option("--depth", min=1, help="Maximum number of hops.")]
MinConfOpt = Annotated[
    float, typer.Option("--min-confidence", min=0.0, max=1.0, help="Ignore edges less confident than this.")
]
PrettyOpt = Annotated[bool, typer.Option("--pretty", help="Indent the JSON (it is compact by default).")]
LimitOpt = Annotated[
    int,
    typer.Option(
        "--limit",
        min=0,
        help="Rows of the table at most (0: all); the count of the rest is printed. --json has all.",
    ),
]
FORMATS = ("table", "json", "mermaid", "dot")
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        metavar="|".join(FORMATS),
        help="table; json (same as --json); mermaid or dot: a picture of at most --max-nodes nodes, the rest "
        "folded into 'N more' nodes (docs/lineage.md).",
    ),
]
MaxNodesOpt = Annotated[
    int,
    typer.Option(
        "--max-nodes",
        min=2,
        max=300,
        help="Nodes of a mermaid or dot picture at most, 'N more' nodes included (the web page's cap).",
    ),
]
DEFAULT_LIMIT = 200  # a table of 100,000 rows took rich 26 s to lay out, and nobody reads it on a terminal


def dumps(doc: Any, pretty: bool) -> str:
    """Compact JSON by default (machines read it; the indented encoder is the slow pure-Python one)."""
    return json.dumps(doc, indent=2) if pretty else json.dumps(doc, separators=(",", ":"))


def _console() -> Console:
    # Pipes and test runners get wide lines: asset ids are long and wrapping them breaks grep. Names come
    # from other people's files: every one is printed through flowscope.terminal (no markup, no emoji).
    return terminal.console() if sys.stdout.isatty() else terminal.console(width=200, soft_wrap=True)


def _open_existing(directory: Path) -> Store:
    if not (directory / DB_NAME).exists():
        raise UserError(
            "no lineage store here yet; run `flowscope scan` or `flowscope ingest FILE` first", str(directory)
        )
    return Store.open(directory)


def _job(key: tuple[str, str]) -> dict[str, str]:
    return {"namespace": key[0], "name": key[1]}


def _asset_json(a: Asset) -> dict[str, Any]:
    return {"asset": a.id, "namespace": a.namespace, "name": a.name, "field": a.field}


def reached_json(r: graph.Reached) -> dict[str, Any]:
    """One reached asset and the edge it was reached by: a link of the walk's tree of best paths
    (``why`` prints a whole path with its evidence)."""
    step = r.last_step
    return {
        **_asset_json(r.asset),
        "confidence": r.confidence,
        "hops": r.hops,
        "via": _job(r.via),
        "predecessor": r.predecessor.id,
        "step": {
            "job": _job(step.job),
            "source": step.source.id,
            "target": step.target.id,
            "confidence": step.confidence,
            "kinds": list(step.kinds),
        },
    }


def traversal_head(t: graph.Traversal) -> dict[str, Any]:
    return {
        "start": t.start.id,
        "direction": "downstream" if t.direction == "down" else "upstream",
        "depth": t.depth,
        "min_confidence": t.min_confidence,
    }


def traversal_json(t: graph.Traversal) -> dict[str, Any]:
    return {**traversal_head(t), "reached": [reached_json(r) for r in t.reached]}


def write_traversal_json(t: graph.Traversal, out: TextIO, pretty: bool = False) -> None:
    """:func:`traversal_json` written as it is made, one reached asset per line, each line compact: the
    output and the memory it takes grow with the assets reached, never with their paths (a 2,000-step
    chain's paths were 624 MB).
    ``pretty`` indents everything instead (built whole: for people reading small answers)."""
    if pretty:
        out.write(dumps(traversal_json(t), True) + "\n")
        return
    head = traversal_head(t)
    out.write("{\n" + "".join(f"  {json.dumps(k)}:{dumps(v, False)},\n" for k, v in head.items()))
    out.write('  "reached":[')
    for i, r in enumerate(t.reached):
        out.write(("," if i else "") + "\n    " + dumps(reached_json(r), False))
    out.write("\n  ]\n}\n" if t.reached else "]\n}\n")


def edge_json(e: Edge) -> dict[str, Any]:
    job: dict[str, Any] = {
        **_job(e.job.key),
        "type": e.job.job_type,
        "sql": e.job.sql,
        "source_location": None,
    }
    if e.job.source is not None:
        src = e.job.source
        job["source_location"] = {"path": src.path, "type": src.type, "url": src.url, "version": src.version}
    return {
        "job": job,
        "source": e.source.id,
        "target": e.target.id if e.target else None,
        "confidence": e.confidence,
        "kinds": e.kinds,
        "collectors": sorted(e.collectors),
        "transformations": [
            {"type": t.type, "subtype": t.subtype, "masking": t.masking, "description": t.description}
            for t in sorted(e.transformations)
        ],
        "guards": sorted(e.guards),
        "count": e.count,
        "first_seen": e.first_seen.isoformat() if e.first_seen else None,
        "last_seen": e.last_seen.isoformat() if e.last_seen else None,
        "evidence": [ev.as_dict() for ev in e.evidence],
    }


def _print_traversal(t: graph.Traversal, limit: int = DEFAULT_LIMIT) -> None:
    word = "downstream" if t.direction == "down" else "upstream"
    console = _console()
    console.print(
        f"{len(t.reached)} assets {word} of {markup(t.start.id)} (depth {t.depth}, min confidence {t.min_confidence:g})",
        highlight=False,
    )
    if not t.reached:
        return
    shown = t.reached if not limit else t.reached[:limit]
    print_table(
        console,
        ["asset", "confidence", "hops", "writer job" if t.direction == "down" else "reader job"],
        [(r.asset.id, f"{r.confidence:.3f}", str(r.hops), f"{r.via[0]}/{r.via[1]}") for r in shown],
    )
    if len(shown) < len(t.reached):
        console.print(
            f"{len(t.reached) - len(shown):,} more not shown (the most confident come first): "
            "--limit 0 shows all, --json prints every one",
            highlight=False,
        )


def _print_why(x: graph.Explanation) -> None:
    """One block per hop: wide ids and evidence lists read better stacked than squeezed into a table."""
    console = _console()
    console.print(
        f"[bold]{markup(x.source.id)}[/bold] -> [bold]{markup(x.target.id)}[/bold]: "
        f"confidence {x.confidence:.3f} over {len(x.edges)} hop(s)",
        highlight=False,
    )
    for n, e in enumerate(x.edges, 1):
        trs = ", ".join(
            f"{t.type}/{t.subtype}{' (masking)' if t.masking else ''}" for t in sorted(e.transformations)
        )
        target = e.target.id if e.target else "-"
        console.print()
        console.print(literal(f"{n}. {e.source.id}"))
        console.print(literal(f"   -> {target}"))
        console.print(
            literal(
                f"   job {e.job.namespace}/{e.job.name}  confidence {e.confidence:.3f}  "
                f"kinds {', '.join(e.kinds)}  transformations {trs}"
            )
        )
        for t in sorted(e.transformations):
            if t.description:
                console.print(literal(f"   {t.subtype}: {t.description}"))
        for ev in e.evidence[:5]:
            detail = " ".join(f"{k}={v}" for k, v in ev.detail)
            console.print(literal(f"   evidence {ev.location} [{ev.collector}/{ev.kind}] {detail}".rstrip()))
            if ev.snippet:
                console.print(literal(f"     | {ev.snippet}"))
        if len(e.evidence) > 5:
            console.print(f"   (+{len(e.evidence) - 5} more evidence; see --json)", highlight=False)


def add_lineage_commands(app: typer.Typer, store_dir: Callable[[], Path]) -> None:
    """Add ``lineage`` (downstream, upstream, why) and ``assets`` to ``app``."""
    lineage = typer.Typer(help="Query the lineage graph in the store.", no_args_is_help=True)
    app.add_typer(lineage, name="lineage")

    def walk(
        direction: graph.Direction,
        text: str,
        depth: int,
        min_confidence: float,
        as_json: bool,
        pretty: bool,
        limit: int,
        fmt: str,
        max_nodes: int,
    ) -> None:
        if fmt not in FORMATS:
            raise UserError(f"unknown --format {fmt!r}; expected one of {', '.join(FORMATS)}")
        if as_json and fmt not in ("table", "json"):
            raise UserError(f"--json and --format {fmt} ask for two outputs; give one")
        with _open_existing(store_dir()) as store:
            start = assetref.resolve(store, text)
            t = graph.walk(store, start, direction, depth, min_confidence)
            if as_json or fmt == "json":
                write_traversal_json(t, sys.stdout, pretty)
            elif fmt in ("mermaid", "dot"):
                from flowscope import neighbourhood, pictures

                nb = neighbourhood.bounded(store, t, max_nodes)
                sys.stdout.write(pictures.to_mermaid(nb) if fmt == "mermaid" else pictures.to_dot(nb))
            else:
                _print_traversal(t, limit)

    @lineage.command("downstream")
    def downstream_cmd(
        asset: AssetArg,
        depth: DepthOpt = graph.DEFAULT_DEPTH,
        min_confidence: MinConfOpt = 0.0,
        as_json: JsonOpt = False,
        pretty: PrettyOpt = False,
        limit: LimitOpt = DEFAULT_LIMIT,
        fmt: FormatOpt = "table",
        max_nodes: MaxNodesOpt = 300,
    ) -> None:
        """Where data of ASSET can go: every reached asset with its best path confidence and hops."""
        walk("down", asset, depth, min_confidence, as_json, pretty, limit, fmt, max_nodes)

    @lineage.command("upstream")
    def upstream_cmd(
        asset: AssetArg,
        depth: DepthOpt = graph.DEFAULT_DEPTH,
        min_confidence: MinConfOpt = 0.0,
        as_json: JsonOpt = False,
        pretty: PrettyOpt = False,
        limit: LimitOpt = DEFAULT_LIMIT,
        fmt: FormatOpt = "table",
        max_nodes: MaxNodesOpt = 300,
    ) -> None:
        """Where data in ASSET can come from: every reached asset with its best path confidence and hops."""
        walk("up", asset, depth, min_confidence, as_json, pretty, limit, fmt, max_nodes)

    @lineage.command("why")
    def why_cmd(
        src: Annotated[
            str, typer.Argument(metavar="SRC", help="Source asset (same forms as ASSET).", show_default=False)
        ],
        dst: Annotated[
            str, typer.Argument(metavar="DST", help="Target asset (same forms as ASSET).", show_default=False)
        ],
        min_confidence: MinConfOpt = 0.0,
        as_json: JsonOpt = False,
        pretty: PrettyOpt = False,
    ) -> None:
        """The most confident path from SRC to DST, with each edge's job, kinds, transformations and evidence."""
        with _open_existing(store_dir()) as store:
            source, target = assetref.resolve(store, src), assetref.resolve(store, dst)
            x = graph.why(store, source, target, min_confidence)
            if x is None:
                readers = sorted({f"{e.job.namespace}/{e.job.name}" for e in store.reads(source)})
                hint = f"; jobs that read it without writing: {', '.join(readers)}" if readers else ""
                floor = f" with every edge >= {min_confidence:g}" if min_confidence > 0 else ""
                raise UserError(f"no flow from {source.id} to {target.id}{floor}{hint}")
            if as_json:
                doc = {
                    "source": x.source.id,
                    "target": x.target.id,
                    "confidence": x.confidence,
                    "hops": len(x.edges),
                    "path": [edge_json(e) for e in x.edges],
                }
                typer.echo(dumps(doc, pretty))
            else:
                _print_why(x)

    @lineage.command("index")
    def index_cmd(
        rebuild: Annotated[bool, typer.Option("--rebuild", help="Build it again from the store.")] = False,
    ) -> None:
        """The walk index beside the store: bring it up to date (or --rebuild it) and describe it."""
        import time

        from flowscope import walkindex

        with _open_existing(store_dir()) as store:
            started = time.perf_counter()
            index = walkindex.index_for(store, rebuild=rebuild)
            took = time.perf_counter() - started
            typer.echo(
                f"{store.directory / walkindex.FILE_NAME}: {index.n:,} assets, {len(index.dfar):,} edges, "
                f"{index.size / 1e6:,.1f} MB, store generation {index.key[0]} "
                f"({index.meta.get('built', 'loaded')}; {took:.2f} s)"
            )

    @app.command("assets")
    def assets_cmd(
        query: Annotated[
            str | None,
            typer.Argument(
                metavar="QUERY",
                help="Keep datasets whose id or a field name contains this.",
                show_default=False,
            ),
        ] = None,
        as_json: JsonOpt = False,
        pretty: PrettyOpt = False,
    ) -> None:
        """List stored datasets with their fields, tags and the jobs that only read them."""
        with _open_existing(store_dir()) as store:
            infos = store.assets(query)
            readers = store.readers()
        if as_json:
            doc = [
                {
                    "id": i.asset.id,
                    "namespace": i.asset.namespace,
                    "name": i.asset.name,
                    "fields": [{"name": n, "type": t} for n, t in i.fields],
                    "tags": list(i.tags),
                    "description": i.description,
                    "read_by": [_job(j) for j in readers.get(i.asset, [])],
                }
                for i in infos
            ]
            typer.echo(dumps({"assets": doc}, pretty))
            return
        console = _console()
        console.print(literal(f"{len(infos)} datasets" + (f" matching {query!r}" if query else "")))
        if infos:
            table = Table("dataset", "fields", "tags", "read by (no output)")
            for i in infos:
                fields = ", ".join(n for n, _ in i.fields[:12]) + (" ..." if len(i.fields) > 12 else "")
                reads = ", ".join(f"{a}/{b}" for a, b in readers.get(i.asset, []))
                table.add_row(
                    literal(i.asset.id), literal(fields), literal(", ".join(i.tags)), literal(reads)
                )
            console.print(table)
