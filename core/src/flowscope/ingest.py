"""``flowscope ingest``: load OpenLineage events any producer wrote and turn them into declared edges.

Accepted inputs: files of JSON lines (what the OpenLineage file transport writes with ``append: true``), one
JSON event per file (its default layout, one file per event), or a JSON array of events; a folder stands for
the event files in it (``*.json``, ``*.jsonl``, ``*.ndjson``, recursively). Each valid event is kept
verbatim in the store (unknown facets included). How events become edges (runs merged across files, failed
runs, ``symlinks`` aliases, column lineage): :mod:`flowscope.olruns`.

Collector ``ingest``, scope = each file's resolved path, so ingesting the same file again replaces what it
stored before. A file that cannot be read, or holds no valid event, is a problem of that file only: the
others are still stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscope import gcpause, olruns
from flowscope.errors import UserError
from flowscope.merge import merge_signals
from flowscope.model import AssetInfo, Edge
from flowscope.olruns import is_dataset as _is_ds
from flowscope.olruns import transformations
from flowscope.store import Store

__all__ = ["COLLECTOR", "Ingested", "derive", "derive_all", "expand", "read_events", "transformations"]

COLLECTOR = olruns.COLLECTOR
RUN_STATES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
Event = dict[str, Any]
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of bytes that are not UTF-8


@dataclass(frozen=True)
class LineProblem:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class Ingested:
    """What one file gave: valid events with their line, the edges and asset infos derived, problems."""

    path: Path
    events: list[tuple[int, Event]] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    assets: list[AssetInfo] = field(default_factory=list)


def _documents(text: str) -> Iterator[tuple[int, Any | None, str]]:
    """``(line, value, error)`` for each document: a whole-file JSON value, array items, or JSON lines."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        else:
            if (bad := _first_undecodable(text)) is not None:
                # One JSON document (or array) cannot be split around the bad byte: the file is skipped.
                at = text.count("\n", 0, bad) + 1
                yield (at, None, "not UTF-8; this file is one JSON document, so all of it is skipped")
                return
            if isinstance(whole, list):
                yield from _array_items(text)
                return
            yield (text[: len(text) - len(stripped)].count("\n") + 1, whole, "")
            return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if (bad := _first_undecodable(line)) is not None:
            yield (number, None, f"not UTF-8 (column {bad + 1}); line skipped")
            continue
        try:
            yield (number, json.loads(line), "")
        except json.JSONDecodeError as e:
            yield (number, None, f"not JSON: {e.msg} (column {e.colno})")


def _first_undecodable(text: str) -> int | None:
    """Where the first byte that was not UTF-8 sits (decoded with ``surrogateescape``), or None."""
    found = _UNDECODABLE.search(text)
    return found.start() if found else None


def _array_items(text: str) -> Iterator[tuple[int, Any, str]]:
    decoder = json.JSONDecoder()
    i = text.index("[") + 1
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text) or text[i] == "]":
            return
        value, end = decoder.raw_decode(text, i)
        yield (text.count("\n", 0, i) + 1, value, "")
        i = end


def problem_of(event: Any) -> str:
    """Why ``event`` is not a usable OpenLineage event, or ``""``."""
    if not isinstance(event, dict):
        return "not a JSON object"
    schema = str(event.get("schemaURL", ""))
    for key in ("eventTime", "producer"):
        if not isinstance(event.get(key), str) or not event[key]:
            return f"missing {key}"
    if schema.endswith("/DatasetEvent"):
        return (
            "" if _is_ds(event.get("dataset")) else "DatasetEvent without dataset.namespace and dataset.name"
        )
    if not _is_ds(event.get("job")):
        return "missing job.namespace or job.name"
    if not schema.endswith("/JobEvent"):
        if event.get("eventType") not in RUN_STATES:
            got = event.get("eventType")
            return (
                "missing eventType"
                if got is None
                else f"eventType {got!r} is not one of {', '.join(RUN_STATES)}"
            )
        run = event.get("run")
        if not isinstance(run, dict) or not isinstance(run.get("runId"), str):
            return "missing run.runId"
    for side in ("inputs", "outputs"):
        items = event.get(side, [])
        if not isinstance(items, list):
            return f"{side} is not a list"
        for n, d in enumerate(items):
            if not _is_ds(d):
                return f"{side}[{n}] has no namespace and name"
    return ""


def read_events(path: Path) -> Ingested:
    """Parse a file; valid events and per-line problems. Raises UserError when nothing can be read."""
    with gcpause.paused():  # a million small dicts, no cycles: flowscope.gcpause
        return _read_events(path)


def _read_events(path: Path) -> Ingested:
    try:
        # surrogateescape: a byte that is not UTF-8 costs its own line only (see _documents), not the file.
        text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    except FileNotFoundError:
        raise UserError("no such file", path=str(path)) from None
    except OSError as e:
        raise UserError(f"cannot read: {e}", path=str(path)) from None
    out = Ingested(path)
    for line, value, error in _documents(text):
        reason = error or problem_of(value)
        if reason:
            out.problems.append(LineProblem(str(path), line, reason))
        else:
            assert isinstance(value, dict)
            out.events.append((line, value))
    if not out.events and (bad := _first_undecodable(text)) is not None:
        # nothing usable and bytes that are not text: a binary file, not a file of bad events
        at = text.count("\n", 0, bad) + 1
        raise UserError(
            f"cannot read: not UTF-8 text (line {at}); not an OpenLineage events file", path=str(path)
        )
    if not out.events:
        first = f" (first: line {out.problems[0].line}: {out.problems[0].reason})" if out.problems else ""
        raise UserError(f"no valid OpenLineage events{first}", path=str(path))
    return out


EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson")


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a folder becomes its event files (sorted, hidden ones skipped), recursively."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in EVENT_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise UserError(f"no event files ({', '.join(EVENT_SUFFIXES)}) in this folder", str(path))
            out.extend(found)
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def derive_all(loaded: list[Ingested], displays: list[str] | None = None) -> olruns.Derived:
    """Fill each file's ``edges`` and ``assets`` from the events of all of them, read together (runs
    spread over files, aliases): :func:`flowscope.olruns.derive`. ``displays`` name the files in evidence."""
    with gcpause.paused():
        return _derive_all(loaded, displays or [str(i.path) for i in loaded])


def _derive_all(loaded: list[Ingested], names: list[str]) -> olruns.Derived:
    derived = olruns.derive(
        olruns.Located(n, names[n], line, ev) for n, item in enumerate(loaded) for line, ev in item.events
    )
    for n, item in enumerate(loaded):
        pairs = derived.signals.get(n, [])
        # one observation per event, however many transformations it lists
        item.edges = merge_signals(((COLLECTOR, sig) for sig, _ in pairs), origins=(o for _, o in pairs))
        item.assets = _merge_infos(derived.infos.get(n, []))
    return derived


def derive(ingested: Ingested, display: str) -> None:
    """One file read on its own; ``display`` names the file in evidence."""
    derive_all([ingested], [display])


def _merge_infos(infos: list[AssetInfo]) -> list[AssetInfo]:
    """One AssetInfo per asset: an asset appears in many events of a file."""
    merged: dict[Any, AssetInfo] = {}
    for info in infos:
        cur = merged.get(info.asset)
        if cur is None:
            merged[info.asset] = info
            continue
        fields = dict(cur.fields)
        for name, type_ in info.fields:
            if not fields.get(name):
                fields[name] = type_
        tags = tuple(dict.fromkeys(cur.tags + info.tags))
        merged[info.asset] = AssetInfo(
            cur.asset, tuple(fields.items()), tags, cur.description or info.description
        )
    return list(merged.values())


def store_ingested(store: Store, item: Ingested) -> None:
    """Replace what an earlier ingest of this file stored."""
    scope = str(item.path.resolve())
    with store.transaction():
        store.replace(COLLECTOR, scope, item.edges, item.assets, [e for _, e in item.events])
        store.record_source(scope, item.path.resolve())


def ingest_file(store: Store, path: Path) -> Ingested:
    """Read, derive and store one file (replacing what an earlier ingest of it stored)."""
    ingested = read_events(path)
    derive(ingested, str(path))
    store_ingested(store, ingested)
    return ingested
