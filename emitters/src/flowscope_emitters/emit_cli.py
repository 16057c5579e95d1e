"""``flowscope emit``: send the stored graph to a catalog, or replay what a dead one did not take.

Only this module prints. Expected problems are one ``error:`` line and a non-zero exit; secrets never
appear in them (senders mask what they report).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from flowscope.errors import UserError
from flowscope.store import Store
from flowscope.store_schema import DB_NAME
from flowscope_emitters.delivery import Backoff, Outcome, Sender, Spool, deliver, replay
from flowscope_emitters.failures import public_url
from flowscope_emitters.marquez import COLLECTOR as MARQUEZ
from flowscope_emitters.marquez import MarquezApi, pull, schema_gaps, tag_operations
from flowscope_emitters.senders import FileSender, HttpSender

STORE_ENV = "FLOWSCOPE_STORE"  # the same variable and default as core's CLI
DEFAULT_STORE = ".flowscope"
TARGETS = ("marquez", "file", "datahub", "datahub-file")
DATAHUB_TOKEN_ENV = "DATAHUB_GMS_TOKEN"


def store_dir(ctx: typer.Context) -> Path:
    """The ``--store`` given to ``flowscope`` itself, else ``$FLOWSCOPE_STORE``, else ``.flowscope``."""
    parent: Any = ctx.parent
    chosen = parent.params.get("store") if parent is not None else None
    return Path(chosen or os.environ.get(STORE_ENV) or DEFAULT_STORE)


def make_sender(to: str, target: str | None, timeout: float) -> Sender:
    if to not in TARGETS:
        raise UserError(f"--to: unknown target {to!r} (one of {', '.join(TARGETS)})")
    if not target:
        example = "http://localhost:5000" if to == "marquez" else "events.jsonl"
        raise UserError(f"--to {to} needs a TARGET, for example `flowscope emit --to {to} {example}`")
    if to == "marquez":
        return HttpSender(target, timeout=timeout)
    return FileSender(Path(target))


def stored_events(directory: Path) -> list[dict[str, Any]]:
    if not (directory / DB_NAME).exists():
        raise UserError("no lineage store here yet; run `flowscope scan` first", str(directory))
    with Store.open(directory) as store:
        return list(store.events())


def report(console: Console, to: str, target: str, out: Outcome, spool: Spool) -> None:
    console.print(f"{to} {target}: {out.sent} sent", highlight=False, soft_wrap=True)
    for rid, reason in out.rejected:
        console.print(f"error: event {rid} rejected: {reason}", highlight=False, soft_wrap=True)
    if out.failure is not None:
        console.print(f"error: {out.failure}", highlight=False, soft_wrap=True)
    if out.spooled:
        console.print(
            f"{out.spooled} event(s) kept in {spool.directory}; resend with `flowscope emit --replay`",
            highlight=False,
            soft_wrap=True,
        )


def send_datahub(
    to: str, target: str, events: list[dict[str, Any]], timeout: float = 5.0, retries: int = 4
) -> str:
    """Proposals to a file ``datahub ingest`` reads, or to GMS (token from $DATAHUB_GMS_TOKEN)."""
    from flowscope_emitters.datahub_convert import convert_all, write_file

    mcps = convert_all(events)
    if to == "datahub-file":
        try:
            n = write_file(mcps, Path(target))
        except OSError as exc:
            raise UserError(f"cannot write proposals: {exc.strerror}", target) from None
        return f"datahub-file {target}: {n} proposals from {len(events)} events"
    from datahub.emitter.rest_emitter import DatahubRestEmitter

    token = os.environ.get(DATAHUB_TOKEN_ENV)
    where = public_url(target)
    try:
        emitter = DatahubRestEmitter(target, token=token, timeout_sec=timeout, retry_max_times=retries)
        for mcp in mcps:
            emitter.emit(mcp)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if token:
            reason = reason.replace(token, "***")
        raise UserError(f"datahub {where}: {reason[:300]}") from None
    return f"datahub {where}: {len(mcps)} proposals from {len(events)} events"


def marquez_extras(err: Console, url: str, events: list[dict[str, Any]], timeout: float) -> bool:
    """After the events: warn about column lineage Marquez would drop, then push zone and field tags."""
    for event in events:
        gaps = schema_gaps(event)
        if gaps:
            name = (event.get("job") or {}).get("name")
            err.print(f"warning: job {name}: no schema facet for {', '.join(gaps)}", highlight=False)
    api = MarquezApi(url, timeout=timeout)
    try:
        tagged = api.push_tags(tag_operations(events))
    except UserError as exc:
        err.print(f"error: tags not set: {exc}", highlight=False, soft_wrap=True)
        return False
    finally:
        api.close()
    err.print(f"marquez {url}: {tagged} tag(s) set", highlight=False, soft_wrap=True)
    return True


def add_marquez_commands(app: typer.Typer) -> None:
    marquez = typer.Typer(help="Read lineage from a Marquez server.", no_args_is_help=True)

    @marquez.command("pull")
    def pull_cmd(
        ctx: typer.Context,
        url: Annotated[str, typer.Argument(help="Marquez URL, e.g. http://localhost:5000")],
        node_id: Annotated[
            str, typer.Argument(help="dataset:NS:NAME, datasetField:NS:NAME:FIELD or job:NS:NAME")
        ],
        depth: Annotated[int, typer.Option(help="How many hops around the node.")] = 5,
        timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 10.0,
    ) -> None:
        """Load a lineage neighbourhood from Marquez into the store (collector `marquez`, kind declared)."""
        parent: Any = ctx.parent
        directory = store_dir(parent) if parent is not None else Path(DEFAULT_STORE)
        api = MarquezApi(url, timeout=timeout)
        try:
            edges, infos = pull(api, node_id, depth)
        finally:
            api.close()
        with Store.open(directory) as store:
            store.replace(MARQUEZ, f"{public_url(url)} {node_id} {depth}", edges, infos, [])
        typer.echo(
            f"{len(edges)} edges and {len(infos)} asset infos from {public_url(url)} stored in {directory}"
        )

    app.add_typer(marquez, name="marquez")


def add_emit_command(app: typer.Typer, extra: Callable[..., None] | None = None) -> None:
    @app.command("emit")
    def emit_cmd(
        ctx: typer.Context,
        target: Annotated[str | None, typer.Argument(help="Where: a Marquez URL, a file path.")] = None,
        to: Annotated[str | None, typer.Option("--to", help=f"One of {', '.join(TARGETS)}.")] = None,
        do_replay: Annotated[
            bool, typer.Option("--replay", help="Resend the events a dead target did not take.")
        ] = False,
        timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 5.0,
        retries: Annotated[int, typer.Option(help="Tries per event on timeouts and 5xx.")] = 4,
        backoff: Annotated[float, typer.Option(help="First wait between tries, doubled each time.")] = 0.5,
    ) -> None:
        """Send the stored OpenLineage events to a catalog; undelivered ones are spooled for --replay."""
        directory = store_dir(ctx)
        spool = Spool(directory)
        policy = Backoff(attempts=max(1, retries), base=backoff)
        err = Console(stderr=True)
        failed = False
        if do_replay:
            done = replay(spool, lambda t, where: make_sender(t, where, timeout), backoff=policy)
            for note in done.damage:
                err.print(f"warning: spool damaged: {note}", highlight=False, soft_wrap=True)
            if not done.outcomes:
                typer.echo("nothing to replay")
            for t, where, out in done.outcomes:
                report(err, t, where, out, spool)
                failed |= not out.ok
        elif to in ("datahub", "datahub-file"):
            if not target:
                raise UserError(f"--to {to} needs a TARGET (a GMS URL, or a file for datahub-file)")
            sent = send_datahub(to, target, stored_events(directory), timeout, retries)
            err.print(sent, highlight=False, soft_wrap=True)
        else:
            if to is None:
                raise UserError(f"--to is required (one of {', '.join(TARGETS)}), or use --replay")
            sender = make_sender(to, target, timeout)
            events = stored_events(directory)
            try:
                out = deliver(events, sender, spool, policy)
            finally:
                close = getattr(sender, "close", None)
                if close is not None:
                    close()
            report(err, sender.to, sender.target, out, spool)
            failed = not out.ok
            if to == "marquez" and target and out.sent:
                failed |= not marquez_extras(err, target, events, timeout)
        if failed:
            raise typer.Exit(1)
