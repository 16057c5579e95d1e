"""``flowscope ingest``: load OpenLineage events any producer wrote and turn them into declared edges.

Accepted files: JSON lines (what the OpenLineage file transport writes), one JSON event, or a JSON array
of events. Each valid event is kept verbatim in the store (unknown facets included) and yields edges:

- ``columnLineage`` on an output: one edge per output field and input field, with the facet's
  transformations (DIRECT/IDENTITY when it gives none; the deprecated ``transformationType: MASKED``
  becomes a masking DIRECT/TRANSFORMATION); its ``dataset`` entries become field -> output-dataset edges.
- every input x output pair of a job that column lineage does not cover: a dataset-level edge.
- inputs of an event without outputs: pure reads (edges without a target).

Ingested edges are ``declared`` signals (a producer declared them) with evidence ``FILE:LINE`` and the
producer, runId and eventType. Collector ``ingest``, scope = the file's resolved path, so ingesting the
same file again replaces what it stored before. Schema, tags and documentation facets become asset infos.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from flowscope.errors import UserError
from flowscope.merge import merge_signals, normalize_asset
from flowscope.model import (
    DIRECT_SUBTYPES,
    IDENTITY,
    INDIRECT_SUBTYPES,
    Asset,
    AssetInfo,
    Edge,
    Evidence,
    Job,
    Signal,
    SourceLocation,
    Transformation,
)
from flowscope.store import Store

COLLECTOR = "ingest"
RUN_STATES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
Event = dict[str, Any]


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
            if isinstance(whole, list):
                yield from _array_items(text)
                return
            yield (text[: len(text) - len(stripped)].count("\n") + 1, whole, "")
            return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield (number, json.loads(line), "")
        except json.JSONDecodeError as e:
            yield (number, None, f"not JSON: {e.msg} (column {e.colno})")


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


def _is_ds(d: Any) -> bool:
    return isinstance(d, dict) and isinstance(d.get("namespace"), str) and isinstance(d.get("name"), str)


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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("no such file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read: {e}", path=str(path)) from None
    out = Ingested(path)
    for line, value, error in _documents(text):
        reason = error or problem_of(value)
        if reason:
            out.problems.append(LineProblem(str(path), line, reason))
        else:
            assert isinstance(value, dict)
            out.events.append((line, value))
    if not out.events:
        first = f" (first: line {out.problems[0].line}: {out.problems[0].reason})" if out.problems else ""
        raise UserError(f"no valid OpenLineage events{first}", path=str(path))
    return out


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _job(doc: dict[str, Any]) -> Job:
    facets = doc.get("facets") or {}
    jt = facets.get("jobType") or {}
    sql = (facets.get("sql") or {}).get("query")
    loc = facets.get("sourceCodeLocation") or {}
    source = None
    if loc.get("path") or loc.get("url"):
        source = SourceLocation(
            path=str(loc.get("path") or loc.get("url")),
            type=str(loc.get("type") or "file"),
            url=loc.get("url"),
            repo_url=loc.get("repoUrl"),
            version=loc.get("version"),
        )
    processing: Literal["BATCH", "STREAMING"] = (
        "STREAMING" if jt.get("processingType") == "STREAMING" else "BATCH"
    )
    return Job(
        doc["namespace"],
        doc["name"],
        job_type=str(jt.get("jobType") or "JOB"),
        processing_type=processing,
        sql=sql if isinstance(sql, str) else None,
        source=source,
    )


def transformations(input_field: dict[str, Any], spec: dict[str, Any]) -> list[Transformation]:
    """The OpenLineage transformations of one input field, mapped onto flowscope's vocabulary.

    An unknown subtype keeps its type, becomes the most general subtype of it (TRANSFORMATION or
    CONDITIONAL) and is named in the description, so nothing the producer said is lost.
    """
    raw = input_field.get("transformations")
    out = []
    if isinstance(raw, list):
        for t in raw:
            if not isinstance(t, dict):
                continue
            kind = "INDIRECT" if str(t.get("type", "")).upper() == "INDIRECT" else "DIRECT"
            sub = str(t.get("subtype") or ("IDENTITY" if kind == "DIRECT" else "")).upper()
            desc = str(t.get("description") or "")
            if sub not in (DIRECT_SUBTYPES if kind == "DIRECT" else INDIRECT_SUBTYPES):
                desc = f"{desc} (subtype {sub or 'not given'})".strip()
                sub = "TRANSFORMATION" if kind == "DIRECT" else "CONDITIONAL"
            out.append(Transformation(kind, sub, bool(t.get("masking", False)), desc))  # type: ignore[arg-type]
    if out:
        return out
    legacy = str(spec.get("transformationType") or "").upper()
    desc = str(spec.get("transformationDescription") or "")
    if legacy == "MASKED":
        return [Transformation("DIRECT", "TRANSFORMATION", True, desc)]
    return [Transformation(description=desc)] if desc else [IDENTITY]


def _schema_fields(fields: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    for f in fields if isinstance(fields, list) else []:
        if isinstance(f, dict) and isinstance(f.get("name"), str):
            name = prefix + f["name"]
            yield (name, str(f.get("type") or ""))
            yield from _schema_fields(f.get("fields"), name + ".")


def _infos(ds: dict[str, Any]) -> Iterator[AssetInfo]:
    asset = normalize_asset(Asset(ds["namespace"], ds["name"]))
    facets = ds.get("facets") or {}
    by_field: dict[str | None, list[str]] = defaultdict(list)
    for tag in (facets.get("tags") or {}).get("tags") or []:
        if isinstance(tag, dict) and tag.get("key"):
            value = str(tag.get("value", ""))
            by_field[tag.get("field")].append(
                tag["key"] if value.lower() in ("", "true") else f"{tag['key']}:{value}"
            )
    fields = tuple(_schema_fields((facets.get("schema") or {}).get("fields")))
    description = str((facets.get("documentation") or {}).get("description") or "")
    if fields or by_field.get(None) or description:
        yield AssetInfo(asset, fields, tuple(by_field.pop(None, [])), description)
    for name, tags in by_field.items():
        if name:
            yield AssetInfo(asset.with_field(str(name)), (), tuple(tags))


def _event_signals(ev: Event, line: int, display: str) -> Iterator[tuple[Signal, bool]]:
    """The declared signals of one valid event, each with whether it is a dataset-level fallback."""
    job = _job(ev["job"])
    detail: tuple[tuple[str, str], ...] = (
        ("producer", str(ev["producer"])),
        ("runId", str((ev.get("run") or {}).get("runId", ""))),
    )
    if ev.get("eventType"):
        detail += (("eventType", str(ev["eventType"])),)
    evidence = (Evidence(COLLECTOR, "declared", f"{display}:{line}", detail=detail),)
    when = _time(ev.get("eventTime"))

    def signal(source: Asset, target: Asset | None, t: Transformation = IDENTITY) -> Signal:
        d = normalize_asset(target) if target is not None else None
        return Signal(
            "declared", job, normalize_asset(source), d, t, evidence, first_seen=when, last_seen=when
        )

    inputs = [Asset(d["namespace"], d["name"]) for d in ev.get("inputs", [])]
    outputs = ev.get("outputs", [])
    for out in outputs:
        target = Asset(out["namespace"], out["name"])
        lineage = (out.get("facets") or {}).get("columnLineage") or {}
        for out_field, spec in (lineage.get("fields") or {}).items():
            for inf in (spec or {}).get("inputFields") or []:
                if _is_ds(inf) and inf.get("field"):
                    source = Asset(inf["namespace"], inf["name"], str(inf["field"]))
                    for t in transformations(inf, spec):
                        yield signal(source, target.with_field(out_field), t), False
        for inf in lineage.get("dataset") or []:
            if _is_ds(inf):
                source = Asset(inf["namespace"], inf["name"], inf.get("field") or None)
                for t in transformations(inf, {}):
                    yield signal(source, target, t), False
        for source in inputs:
            yield signal(source, target), True
    if not outputs:
        for source in inputs:
            yield signal(source, None), False


def _merge_infos(infos: list[AssetInfo]) -> list[AssetInfo]:
    """One AssetInfo per asset: an asset appears in many events of a file."""
    merged: dict[Asset, AssetInfo] = {}
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


def derive(ingested: Ingested, display: str) -> None:
    """Fill ``ingested.edges`` and ``ingested.assets`` from its events; ``display`` names the file."""
    signals: list[tuple[str, Signal]] = []
    events_per_key: dict[tuple[str, str, Asset, Asset | None], set[int]] = defaultdict(set)
    infos: list[AssetInfo] = []
    fallbacks: list[tuple[Signal, int]] = []
    covered: set[tuple[tuple[str, str], Asset, Asset]] = set()
    for line, ev in ingested.events:
        datasets = [*ev.get("inputs", []), *ev.get("outputs", [])]
        if "dataset" in ev:
            datasets.append(ev["dataset"])
        for ds in datasets:
            infos.extend(_infos(ds))
        if "job" not in ev:
            continue
        for sig, fallback in _event_signals(ev, line, display):
            if fallback:
                fallbacks.append((sig, line))
                continue
            if sig.target is not None:
                covered.add((sig.job.key, sig.source.dataset, sig.target.dataset))
            signals.append((COLLECTOR, sig))
            events_per_key[(sig.job.namespace, sig.job.name, sig.source, sig.target)].add(line)
    # Dataset-level edges only for pairs no event of the job gave column lineage for (START events of
    # most producers carry no columnLineage while COMPLETE events do).
    for sig, line in fallbacks:
        assert sig.target is not None
        if (sig.job.key, sig.source, sig.target) not in covered:
            signals.append((COLLECTOR, sig))
            events_per_key[(sig.job.namespace, sig.job.name, sig.source, sig.target)].add(line)
    edges = merge_signals(signals)
    for e in edges:
        e.count = len(events_per_key[e.key])  # one observation per event, however many transformations
    ingested.edges = edges
    ingested.assets = _merge_infos(infos)


def ingest_file(store: Store, path: Path) -> Ingested:
    """Read, derive and store one file (replacing what an earlier ingest of it stored)."""
    ingested = read_events(path)
    derive(ingested, str(path))
    store.replace(
        COLLECTOR, str(path.resolve()), ingested.edges, ingested.assets, [e for _, e in ingested.events]
    )
    return ingested
