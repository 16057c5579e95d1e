"""``flowscope probes status|show [SPOOL]``: what the probes wrote, without running a scan.

SPOOL is a spool folder or file; without it the ``plugins.probes.spool`` of the config is used.
``status`` prints per process file its health counters (sampled, drops, faults, spool failures) and the
totals; ``show`` prints the summed rows (job, source, sink, match, count, first/last seen) and sampled
jobs. ``--json`` prints ``{"files", "lines", "bad": ["FILE:LINE: msg"], "health": {file: {...}},
"rows": [{job, source, sink, match, sink_path, count, first_seen, last_seen, distinct_values, noisy}],
"samples": {job: n}}`` for both. Raw values are never in a spool, so nothing here can print one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from flowscope.config import load_config, parse_section
from flowscope.errors import UserError
from flowscope.terminal import clean
from flowscope_probes.collector import SpoolSummary, summarize
from flowscope_probes.settings import ProbeSettings

SpoolArg = Annotated[Path | None, typer.Argument(help="Spool folder or file (default: from the config).")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="flowscope.yaml holding plugins.probes.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (shape in the module docstring).")]
COUNTERS = ("sampled", "processed", "dropped_queue", "lost", "unrouted", "overflow", "restarts")
TOTALS = (*COUNTERS, "spool_failures")


def _spool(spool: Path | None, config: Path | None) -> Path:
    if spool is None:
        cfg = load_config(config)
        settings: ProbeSettings = parse_section(cfg, "probes", ProbeSettings)
        spool = settings.spool if settings.spool.is_absolute() else cfg.base_dir / settings.spool
    if not spool.exists():
        raise UserError(f"no spool at {spool} (run the service under probes first)")
    return spool


def _as_json(s: SpoolSummary) -> dict[str, Any]:
    return {
        "files": s.files,
        "lines": s.lines,
        "bad": [f"{b.where}: {b.message}" for b in s.bad],
        "health": s.health,
        "rows": [
            {
                "job": k[0],
                "source": k[1],
                "sink": k[2],
                "match": k[3],
                "sink_path": k[4],
                "count": r.count,
                "first_seen": r.first_seen,
                "last_seen": r.last_seen,
                "distinct_values": r.distinct_values,
                "noisy": r.noisy,
            }
            for k, r in sorted(s.rows.items())
        ],
        "samples": dict(sorted(s.samples.items())),
    }


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts < float("inf") else "-"


def _int(value: object) -> int:
    """A counter of a health line (read from a file: anything but an integer counts as 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _unobserved(what: str, n: int) -> str:
    if " in " in what:
        name, _, module = what.partition(" in ")
        return f"{module} bound {name} before install(): connections it opens are not observed"
    return f"{n} {what} connection{'s' if n != 1 else ''} opened before install() {'is' if n == 1 else 'are'} not observed"


def build_commands() -> typer.Typer:
    sub = typer.Typer(help="Runtime privacy probes: inspect the spool the probes wrote.")

    @sub.command("status")
    def status_cmd(spool: SpoolArg = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
        """Health of each probed process: requests sampled, drops, faults, spool failures."""
        s = summarize(_spool(spool, config))
        if as_json:
            typer.echo(json.dumps(_as_json(s), indent=2, sort_keys=True))
            return
        typer.echo(f"{s.files} spool files, {s.lines} lines, {len(s.bad)} bad lines")
        totals = dict.fromkeys(TOTALS, 0)
        for name, h in sorted(s.health.items()):
            faults = h.get("faults")
            n_faults = sum(_int(v) for v in faults.values()) if isinstance(faults, dict) else 0
            parts = ", ".join(f"{c} {_int(h.get(c))}" for c in COUNTERS)
            typer.echo(
                f"  {clean(name)}: pid {_int(h.get('pid'))}, {parts}, dropped rows {_int(h.get('dropped_rows'))}, "
                f"labels dropped {_int(h.get('labels_dropped'))}, "
                f"payloads truncated {_int(h.get('payloads_truncated'))}, over budget {_int(h.get('over_budget'))}, "
                f"spool failures {_int(h.get('spool_failures'))}, faults {n_faults}"
                + (f", matcher {clean(h['matcher'])}" if h.get("matcher") else "")
                + (f", roots {clean(h['roots'])}" if h.get("roots") else "")
            )
            for c in TOTALS:
                totals[c] += _int(h.get(c))
            unobserved = h.get("unobserved")
            if isinstance(unobserved, dict) and unobserved:
                for what, n in sorted(unobserved.items()):
                    typer.echo(f"warning: {clean(name)}: {clean(_unobserved(str(what), _int(n)))}", err=True)
                typer.echo(
                    f"warning: {clean(name)}: {_int(h.get('unobserved_requests'))} sampled requests were not "
                    "counted as samples (install the probes before connecting: docs/probes.md, Import order)",
                    err=True,
                )
        typer.echo("total: " + ", ".join(f"{c} {n}" for c, n in totals.items()))
        for b in s.bad:
            typer.echo(f"warning: {clean(b.where)}: {clean(b.message)}", err=True)

    @sub.command("show")
    def show_cmd(spool: SpoolArg = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
        """The matches the probes recorded, summed over every process."""
        s = summarize(_spool(spool, config))
        if as_json:
            typer.echo(json.dumps(_as_json(s), indent=2, sort_keys=True))
            return
        for (job, src, sink, match, path), r in sorted(s.rows.items()):
            noisy = "  noisy" if r.noisy else ""
            at = f" at {clean(path)}" if path else ""
            typer.echo(
                f"{clean(job)}  {clean(match)} x{r.count}{noisy}  ({_time(r.first_seen)} .. {_time(r.last_seen)})"
            )
            typer.echo(f"    {clean(src)} -> {clean(sink)}{at}")
        for job, n in sorted(s.samples.items()):
            typer.echo(f"sampled: {clean(job)}  {n} requests")
        for b in s.bad:
            typer.echo(f"warning: {clean(b.where)}: {clean(b.message)}", err=True)

    return sub
