"""``flowscope emit``: send the stored graph to a catalog, or replay what a dead one did not take.

Only this module prints. Expected problems are one ``error:`` line and a non-zero exit; secrets never
appear in them (senders mask what they report).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from flowscope.errors import UserError
from flowscope.progress import progress
from flowscope.store import Store
from flowscope.store.folder import store_dir
from flowscope.store.schema import DB_NAME
from flowscope.terminal import clean, console, literal
from flowscope_emitters.client_spool import TO as CLIENT
from flowscope_emitters.client_spool import ClientSender, describe_target
from flowscope_emitters.delivery import Backoff, Outcome, Sender, Spool, deliver, replay
from flowscope_emitters.failures import public_url
from flowscope_emitters.marquez import COLLECTOR as MARQUEZ
from flowscope_emitters.marquez import (
    TAGS_TARGET,
    MarquezApi,
    TagSender,
    pull,
    schema_gaps,
    tag_operations,
    tag_records,
)
from flowscope_emitters.senders import FileSender, HttpSender

TARGETS = ("marquez", "file", "datahub", "datahub-file", "datahub-lite")
EXAMPLES = {
    "marquez": "http://localhost:5000",
    "datahub": "http://localhost:8080",
    "datahub-file": "mcps.json",
}


def check_target(to: str | None, target: str | None) -> str:
    if to is None:
        raise UserError(f"--to is required (one of {', '.join(TARGETS)}), or use --replay")
    if to not in TARGETS:
        raise UserError(f"--to: unknown target {to!r} (one of {', '.join(TARGETS)})")
    if not target and to == "marquez":
        from flowscope_emitters import olconfig

        url, _, _ = olconfig.http_target()  # OPENLINEAGE_URL, else the client's configured http transport
        target = url
    if not target:
        example = EXAMPLES.get(to, "events.jsonl")
        raise UserError(f"--to {to} needs a TARGET, for example `flowscope emit --to {to} {example}`")
    return target


def make_sender(to: str, target: str, timeout: float, naming: Any = None) -> Sender:
    """The sender for a target; also what ``--replay`` uses for each spool file's records."""
    if to == "marquez":
        return HttpSender(target, timeout=timeout)
    if to == TAGS_TARGET:
        return TagSender(target, timeout=timeout)
    if to == "datahub":
        from flowscope_emitters.datahub_rest import DataHubSender

        return DataHubSender(target, timeout=timeout, naming=naming)
    if to == "file":
        return FileSender(Path(target))
    if to == CLIENT:
        return ClientSender(target)
    raise UserError(f"spool: unknown target kind {to!r} (written by a newer flowscope?)")


def stored_events(directory: Path) -> list[dict[str, Any]]:
    if not (directory / DB_NAME).exists():
        raise UserError("no lineage store here yet; run `flowscope scan` first", str(directory))
    with Store.open(directory) as store:
        return list(store.events())


def report(
    console: Console,
    to: str,
    target: str,
    out: Outcome,
    spool: Spool,
    results: list[dict[str, Any]] | None = None,
) -> None:
    for line in report_lines(to, target, out, spool):
        console.print(clean(line), highlight=False, soft_wrap=True, markup=False)
    if results is not None:
        results.append(outcome_json(to, target, out))


def outcome_json(to: str, target: str, out: Outcome) -> dict[str, Any]:
    """One delivery for ``emit --json`` (documented in docs/catalogs.md)."""
    where = describe_target(target) if to == CLIENT else public_url(target) if "://" in target else target
    return {
        "to": "marquez-tags" if to == TAGS_TARGET else to,
        "target": where,
        "sent": out.sent,
        "spooled": out.spooled,
        "rejected": [{"id": rid, "reason": reason} for rid, reason in out.rejected],
        "error": str(out.failure) if out.failure is not None else None,
    }


def report_lines(to: str, target: str, out: Outcome, spool: Spool) -> list[str]:
    where = describe_target(target) if to == CLIENT else public_url(target) if "://" in target else target
    name = "marquez tags" if to == TAGS_TARGET else to
    lines = [f"{name} {where}: {out.sent} sent"]
    lines += [f"error: {out.unit} {rid} rejected: {reason}" for rid, reason in out.rejected]
    if out.failure is not None:
        lines.append(f"error: {out.failure}")
    if out.spooled:
        lines.append(
            f"{out.spooled} {out.unit}(s) kept in {spool.directory}; resend with `flowscope emit --replay`"
        )
    return lines


SINKS = ("datahub-rest", "datahub-lite", "file")


def datahub_naming(config_path: Path | None) -> Any:
    """The ``plugins.openlineage.datahub`` mapping of flowscope.yaml (``--config``, $FLOWSCOPE_CONFIG, ./)."""
    from flowscope.config import load_config
    from flowscope_emitters.datahub_names import naming_from

    config = load_config(config_path)
    section = (config.plugins.get("openlineage") or {}).get("datahub")
    return naming_from(section, f"{config.display_path}: plugins.openlineage.datahub")


def write_datahub(
    to: str, target: str, events: list[dict[str, Any]], naming: Any, store: Path, sink: str = "datahub-rest"
) -> tuple[str, dict[str, Any]]:
    """Proposals to a file ``datahub ingest`` reads, or into DataHub Lite (patches merged first). What
    flowscope added last time to this target and no longer finds is removed (patch ``remove``)."""
    from flowscope_emitters.datahub_convert import convert_all, write_file
    from flowscope_emitters.datahub_items import build_removals
    from flowscope_emitters.datahub_lite import whole_aspects
    from flowscope_emitters.datahub_state import EmitState

    proposals = convert_all(events, naming)
    where = str(Path(target).expanduser().resolve())
    if to == "datahub-file":
        if sink not in SINKS:
            raise UserError(f"--sink: unknown sink {sink!r} (one of {', '.join(SINKS)})")
        if sink == "datahub-rest":  # GMS applies patches: adds, and removes of what is gone
            state = EmitState(store, f"datahub-file:{where}")
            retracted = state.retractions(proposals.items)
            mcps = proposals.mcps() + build_removals(retracted)
        else:  # Lite's and the file sink keep whole aspects only: patches applied to DataHub's defaults
            state, retracted = None, []
            mcps = whole_aspects(proposals.mcps())
        try:
            n = write_file(mcps, Path(target))
        except OSError as exc:
            raise UserError(f"cannot write proposals: {exc.strerror}", target) from None
        if state is not None:
            state.save(proposals.items)
        gone = f", {len(retracted)} removals" if retracted else ""
        line = f"datahub-file {target}: {n} proposals for the {sink} sink from {len(events)} events{gone}"
        return line, {"proposals": n, "sink": sink, "removed": len(retracted)}
    from flowscope_emitters.datahub_lite import open_lite, write

    state = EmitState(store, f"datahub-lite:{where}")
    retracted = state.retractions(proposals.items)
    with open_lite(Path(target)) as lite:
        n = write(lite, proposals.mcps() + build_removals(retracted))
    state.save(proposals.items)
    gone = f" ({len(retracted)} items flowscope no longer finds removed)" if retracted else ""
    return f"datahub-lite {target}: {n} aspects from {len(events)} events{gone}", {
        "aspects": n,
        "removed": len(retracted),
    }


def send(
    sender: Sender,
    events: list[dict[str, Any]],
    spool: Spool,
    policy: Backoff,
    retract: Path | bool | None = None,
) -> Outcome:
    """Deliver; for DataHub GMS (``retract``: the store folder), once every event is in, remove what
    flowscope added last time and no longer finds."""
    try:
        label = f"emit to {getattr(sender, 'to', 'target')}"
        with progress(label, len(events), getattr(sender, "unit", "event") + "s") as advance:
            out = deliver(events, _Counted(sender, advance), spool, policy)
        if isinstance(retract, Path) and out.ok and out.sent == len(events):
            retract_gms(sender, events, retract)
        return out
    finally:
        close = getattr(sender, "close", None)
        if close is not None:
            close()


class _Counted:
    """The sender, advancing the progress display after each delivery (a bar on a terminal, a line every
    few seconds elsewhere)."""

    def __init__(self, sender: Sender, advance: Callable[..., None]) -> None:
        self.inner, self.advance = sender, advance
        self.to, self.target = sender.to, sender.target

    def send(self, event: Any) -> None:
        self.inner.send(event)
        self.advance(1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def retract_gms(sender: Any, events: list[dict[str, Any]], store: Path) -> None:
    from flowscope_emitters.datahub_convert import convert_all
    from flowscope_emitters.datahub_items import build_removals
    from flowscope_emitters.datahub_state import EmitState

    proposals = convert_all(events, sender.naming)
    state = EmitState(store, f"datahub:{sender.target}")
    retracted = state.retractions(proposals.items)
    if retracted:
        sender.send_mcps(build_removals(retracted))
    state.save(proposals.items)


def marquez_tags(
    err: Console,
    url: str,
    events: list[dict[str, Any]],
    spool: Spool,
    policy: Backoff,
    timeout: float,
    dead: bool,
    results: list[dict[str, Any]] | None = None,
) -> bool:
    """After the events, zone and field tags through the tags API, with the same retries and spool as
    events. When the events did not get through, the tags wait in the spool (the datasets must exist)."""
    records = tag_records(tag_operations(events))
    if not records:
        return True
    if dead:
        spool.add(TAGS_TARGET, url, records)
        err.print(
            f"{len(records)} tag(s) kept in {spool.directory} until the events are in",
            highlight=False,
            soft_wrap=True,
        )
        return False
    out = send(TagSender(url, timeout=timeout), records, spool, policy)
    report(err, TAGS_TARGET, url, out, spool, results)
    return out.ok


def add_marquez_commands(app: typer.Typer) -> None:
    marquez = typer.Typer(help="Read lineage from a Marquez server.", no_args_is_help=True)

    @marquez.command("pull")
    def pull_cmd(
        url: Annotated[str, typer.Argument(help="Marquez URL, e.g. http://localhost:5000")],
        node_id: Annotated[
            str, typer.Argument(help="dataset:NS:NAME, datasetField:NS:NAME:FIELD or job:NS:NAME")
        ],
        depth: Annotated[int, typer.Option(help="How many hops around the node.")] = 5,
        timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 10.0,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Load a lineage neighbourhood from Marquez into the store (collector `marquez`, kind declared)."""
        directory = store_dir()
        api = MarquezApi(url, timeout=timeout)
        try:
            edges, infos = pull(api, node_id, depth)
        finally:
            api.close()
        with Store.open(directory) as store:
            store.replace(MARQUEZ, f"{public_url(url)} {node_id} {depth}", edges, infos, [])
        if as_json:
            doc = {"source": public_url(url), "node": node_id, "depth": depth, "edges": len(edges)}
            typer.echo(json.dumps({**doc, "asset_infos": len(infos), "store": str(directory)}, indent=2))
            return
        typer.echo(
            clean(
                f"{len(edges)} edges and {len(infos)} asset infos from {public_url(url)} stored in {directory}"
            )
        )

    app.add_typer(marquez, name="marquez")


def add_datahub_commands(app: typer.Typer) -> None:
    datahub = typer.Typer(help="Read lineage from DataHub.", no_args_is_help=True)

    @datahub.command("pull")
    def pull_cmd(
        source: Annotated[
            str, typer.Argument(help="DataHub GMS URL (http://localhost:8080), or a DataHub Lite file")
        ],
        urn: Annotated[str, typer.Argument(help="A dataset, schemaField or dataJob urn")],
        depth: Annotated[int, typer.Option(help="How many hops (DataHub GMS tells 1, 2 and 3+ apart).")] = 3,
        direction: Annotated[str, typer.Option(help="downstream or upstream.")] = "downstream",
        timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 10.0,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Load a lineage neighbourhood from DataHub into the store (collector `datahub`, kind declared):
        GraphQL scrollAcrossLineage on GMS (token from $DATAHUB_GMS_TOKEN), or the lineage aspects of a
        DataHub Lite file."""
        from flowscope.model import Evidence
        from flowscope_emitters.datahub_convert import require_datahub
        from flowscope_emitters.datahub_lite import lineage_hops, open_lite
        from flowscope_emitters.datahub_pull import COLLECTOR, GraphQL, check_start, to_edges
        from flowscope_emitters.datahub_pull import pull as pull_lineage

        require_datahub()
        directory = store_dir()
        if source.startswith(("http://", "https://")):
            where = public_url(source)
            api = GraphQL(source, timeout=timeout)
            try:
                edges = pull_lineage(api, urn, direction, max(1, depth))
            finally:
                api.close()
        else:
            where = source
            check_start(urn, direction)
            with open_lite(Path(source), read_only=True) as lite:
                found = lineage_hops(lite, urn, direction, max(1, depth))
            edges = to_edges(found, Evidence(COLLECTOR, "declared", source, detail=(("urn", urn),)))
        with Store.open(directory) as store:
            store.replace(COLLECTOR, f"{where} {urn} {direction} {depth}", edges, [], [])
        if as_json:
            doc = {"source": where, "urn": urn, "direction": direction, "depth": depth, "edges": len(edges)}
            typer.echo(json.dumps({**doc, "store": str(directory)}, indent=2))
            return
        typer.echo(clean(f"{len(edges)} edges {direction} of {urn} from {where} stored in {directory}"))

    app.add_typer(datahub, name="datahub")


def add_emit_command(app: typer.Typer, extra: Callable[..., None] | None = None) -> None:
    @app.command("emit")
    def emit_cmd(
        target: Annotated[str | None, typer.Argument(help="Where: a Marquez URL, a file path.")] = None,
        to: Annotated[str | None, typer.Option("--to", help=f"One of {', '.join(TARGETS)}.")] = None,
        do_replay: Annotated[
            bool, typer.Option("--replay", help="Resend the events a dead target did not take.")
        ] = False,
        timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 5.0,
        retries: Annotated[int, typer.Option(help="Tries per event on timeouts and 5xx.")] = 4,
        backoff: Annotated[float, typer.Option(help="First wait between tries, doubled each time.")] = 0.5,
        config_path: Annotated[
            Path | None,
            typer.Option(
                "--config",
                "-c",
                help="flowscope.yaml with plugins.openlineage.datahub (default: $FLOWSCOPE_CONFIG, else ./flowscope.yaml).",
            ),
        ] = None,
        sink: Annotated[
            str,
            typer.Option(
                help=f"--to datahub-file: the `datahub ingest` sink it is for ({', '.join(SINKS)})."
            ),
        ] = "datahub-rest",
        as_json: Annotated[
            bool, typer.Option("--json", help="Also print what was delivered as JSON on stdout.")
        ] = False,
    ) -> None:
        """Send the stored OpenLineage events to a catalog; undelivered ones are spooled for --replay."""
        directory = store_dir()
        spool = Spool(directory)
        policy = Backoff(attempts=max(1, retries), base=backoff)
        err = console(stderr=True)
        failed = False
        results: list[dict[str, Any]] = []
        if do_replay:
            done = replay(spool, lambda t, where: make_sender(t, where, timeout), backoff=policy)
            for note in done.damage:
                err.print(literal(f"warning: spool damaged: {note}"), soft_wrap=True)
            if not done.outcomes:
                typer.echo("nothing to replay")
            for t, where, out in done.outcomes:
                report(err, t, where, out, spool, results)
                failed |= not out.ok
        elif to in ("datahub-file", "datahub-lite"):
            if to == "datahub-lite" and not target:
                from flowscope_emitters.datahub_lite import default_path

                target = str(default_path())
            path = check_target(to, target)
            naming = datahub_naming(config_path)
            events = stored_events(directory)
            line, counts = write_datahub(to, path, events, naming, directory, sink)
            err.print(clean(line), highlight=False, soft_wrap=True, markup=False)
            results.append({"to": to, "target": path, "events": len(events), **counts})
        else:
            where = check_target(to, target)
            assert to is not None
            events = stored_events(directory)
            if to == "datahub":  # DataHub has nothing to hold for an event without datasets (the scan's own)
                events = [e for e in events if e.get("inputs") or e.get("outputs")]
            sender = make_sender(to, where, timeout, datahub_naming(config_path) if to == "datahub" else None)
            out = send(sender, events, spool, policy, retract=to == "datahub" and directory)
            report(err, to, where, out, spool, results)
            failed = not out.ok
            if to == "marquez":
                for event in events:
                    gaps = schema_gaps(event)
                    if gaps:
                        name = (event.get("job") or {}).get("name")
                        err.print(literal(f"warning: job {name}: no schema facet for {', '.join(gaps)}"))
                dead = out.failure is not None
                failed |= not marquez_tags(err, where, events, spool, policy, timeout, dead, results)
        if as_json:
            typer.echo(json.dumps({"results": results, "ok": not failed}, indent=2))
        if failed:
            raise typer.Exit(1)
