"""OpenLineage events -> declared edges, read the way the integrations write them.

Integrations do not put a run's whole lineage in one event: Spark sends inputs on START and outputs on
COMPLETE, the file transport writes each event to a file of its own, Hive and Spark name one table by its
metastore name and by its storage location. So the events of one ingest (every file of it) are read
together:

- **Runs.** Events are grouped by ``run.runId`` across files. A run's datasets are the union of what its
  events name; every input x output pair of a run that no event gave column lineage for becomes a
  dataset-level edge (START events usually carry no ``columnLineage`` while COMPLETE does). Inputs of a run
  with no output at all are pure reads. A JobEvent (no run) is a run of its own.
- **Failed runs.** A run with a FAIL or ABORT event did not move its data, or not all of it. Its edges are
  kept as evidence at low confidence (match ``FAILED_RUN``, 0.2 in :mod:`flowscope.scoring`) rather than
  dropped: what a job tried to read and write is worth a review, and a completed run of the same job
  still counts in full (the strongest declared evidence wins).
- **Aliases.** The ``symlinks`` dataset facet names the same dataset again (a Hive table and its
  warehouse folder; a Spark path and its catalog table). Every name of a group becomes one asset: the
  table name when there is one (a ``TABLE`` identifier, or a name in a non-storage namespace such as
  ``hive://``), so lineage joins across producers and lands on the names catalogs use.

Each signal keeps the file it came from (``index``), so each file's edges can still be stored in that
file's own scope: a run's dataset-level edges go with the event that named the output.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from flowscope.merge import normalize_asset
from flowscope.model import (
    DIRECT_SUBTYPES,
    FAILED_RUN,
    IDENTITY,
    INDIRECT_SUBTYPES,
    Asset,
    AssetInfo,
    Evidence,
    Job,
    Signal,
    SourceLocation,
    Transformation,
)

COLLECTOR = "ingest"
FAILED_STATES = ("FAIL", "ABORT")
# Namespaces of storage locations: a name there is a path, not a table.
STORAGE_SCHEMES = frozenset(
    {"file", "s3", "s3a", "s3n", "gs", "gcs", "hdfs", "abfs", "abfss", "wasb", "wasbs", "dbfs", "adl", "oss"}
)
Event = dict[str, Any]


def is_dataset(d: Any) -> bool:
    return isinstance(d, dict) and isinstance(d.get("namespace"), str) and isinstance(d.get("name"), str)


def _scheme(namespace: str) -> str:
    scheme, sep, _ = namespace.partition(":")
    return scheme.lower() if sep else namespace.lower()


class Aliases:
    """Names that the ``symlinks`` facets say are one dataset, each mapped to the group's chosen name."""

    def __init__(self) -> None:
        self._parent: dict[tuple[str, str], tuple[str, str]] = {}
        self._table: set[tuple[str, str]] = set()
        self._canon: dict[tuple[str, str], Asset] | None = None
        self._assets: dict[tuple[str, str, str | None], Asset] = {}

    def _find(self, key: tuple[str, str]) -> tuple[str, str]:
        root = key
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        while key != root:  # path compression
            key, self._parent[key] = self._parent[key], root
        return root

    def add(self, dataset: Mapping[str, Any]) -> None:
        links = ((dataset.get("facets") or {}).get("symlinks") or {}).get("identifiers")
        if not isinstance(links, list) or not links:
            return
        own = (dataset["namespace"], dataset["name"])
        self._parent.setdefault(own, own)
        for link in links:
            if not is_dataset(link):
                continue
            other = (link["namespace"], link["name"])
            kind = str(link.get("type") or "").upper()
            if kind == "TABLE" or (kind != "LOCATION" and _scheme(other[0]) not in STORAGE_SCHEMES):
                self._table.add(other)
            elif kind == "LOCATION":
                self._table.add(own)  # it points at its own location: it is the table
            self._parent.setdefault(other, other)
            a, b = self._find(own), self._find(other)
            if a != b:
                self._parent[b] = a
        self._canon = None
        self._assets.clear()

    def _rank(self, key: tuple[str, str]) -> tuple[int, int, str, str]:
        table = key in self._table or _scheme(key[0]) not in STORAGE_SCHEMES
        return (0 if table else 1, 0 if _scheme(key[0]) not in STORAGE_SCHEMES else 1, key[0], key[1])

    def _groups(self) -> dict[tuple[str, str], Asset]:
        if self._canon is None:
            groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
            for key in self._parent:
                groups[self._find(key)].append(key)
            self._canon = {}
            for members in groups.values():
                best = min(members, key=self._rank)
                for m in members:
                    self._canon[m] = Asset(*best)
        return self._canon

    def canonical(self, namespace: str, name: str, field: str | None = None) -> Asset:
        """The group's name for a dataset (or a field of it), normalized; one Asset object per name, so
        the merge step's identity memo normalizes each asset once (an ingest names each many times)."""
        key = (namespace, name, field)
        asset = self._assets.get(key)
        if asset is None:
            found = self._groups().get((namespace, name)) if self._parent else None
            asset = found.with_field(field) if found is not None else Asset(namespace, name, field)
            asset = self._assets[key] = normalize_asset(asset)
        return asset

    def groups(self) -> list[tuple[Asset, list[Asset]]]:
        """Each chosen name with the other names of its group (for reports)."""
        out: dict[Asset, list[Asset]] = defaultdict(list)
        for key, canon in self._groups().items():
            if Asset(*key) != canon:
                out[canon].append(Asset(*key))
        return sorted((k, sorted(v)) for k, v in out.items())


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def job_of(doc: Mapping[str, Any]) -> Job:
    facets = doc.get("facets") or {}
    jt = facets.get("jobType") or {}
    sql = (facets.get("sql") or {}).get("query")
    loc = facets.get("sourceCodeLocation") or {}
    owners = [
        o.get("name") for o in (facets.get("ownership") or {}).get("owners") or [] if isinstance(o, dict)
    ]
    description = (facets.get("documentation") or {}).get("description")
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
        description=description if isinstance(description, str) and description else None,
        owner=str(owners[0]) if owners and owners[0] else None,
    )


def transformations(input_field: Mapping[str, Any], spec: Mapping[str, Any]) -> list[Transformation]:
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


_SHAPES: dict[tuple[object, ...], tuple[Transformation, ...]] = {}
_SHAPES_MAX = 4096


def _plain(values: tuple[object, ...]) -> bool:
    return all(v is None or type(v) is str for v in values)


def _transformations_of(
    input_field: Mapping[str, Any], spec: Mapping[str, Any]
) -> tuple[Transformation, ...]:
    """:func:`transformations`, memoized for the shapes nearly every event uses (one transformation, or
    none and the legacy keys) with plain string values: a file lists the same few for every column."""
    raw = input_field.get("transformations")
    key: tuple[object, ...] | None = None
    if isinstance(raw, list) and len(raw) == 1 and isinstance(t := raw[0], dict):
        key = (t.get("type"), t.get("subtype"), t.get("description"), t.get("masking"))
        if not (_plain(key[:3]) and (key[3] is None or type(key[3]) is bool)):
            key = None
    elif raw is None:
        key = ("legacy", spec.get("transformationType"), spec.get("transformationDescription"))
        if not _plain(key[1:]):
            key = None
    if key is None:
        return tuple(transformations(input_field, spec))
    hit = _SHAPES.get(key)
    if hit is None:
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        hit = _SHAPES[key] = tuple(transformations(input_field, spec))
    return hit


def _schema_fields(fields: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    for f in fields if isinstance(fields, list) else []:
        if isinstance(f, dict) and isinstance(f.get("name"), str):
            name = prefix + f["name"]
            yield (name, str(f.get("type") or ""))
            yield from _schema_fields(f.get("fields"), name + ".")


def dataset_infos(ds: Mapping[str, Any], aliases: Aliases) -> Iterator[AssetInfo]:
    asset = aliases.canonical(ds["namespace"], ds["name"])
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


@dataclass
class Located:
    """One valid event and where it was read: the file's index in the ingest, its display name, line."""

    index: int
    display: str
    line: int
    event: Event


@dataclass
class Derived:
    """Per file index: the signals (with the event they count for) and asset infos."""

    signals: dict[int, list[tuple[Signal, tuple[int, int]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    infos: dict[int, list[AssetInfo]] = field(default_factory=lambda: defaultdict(list))
    aliases: Aliases = field(default_factory=Aliases)
    failed_runs: int = 0


def _evidence(item: Located) -> tuple[Evidence, ...]:
    ev = item.event
    detail: tuple[tuple[str, str], ...] = (
        ("producer", str(ev["producer"])),
        ("runId", str((ev.get("run") or {}).get("runId", ""))),
    )
    if ev.get("eventType"):
        detail += (("eventType", str(ev["eventType"])),)
    return (Evidence(COLLECTOR, "declared", f"{item.display}:{item.line}", detail=detail),)


def _datasets(ev: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [*ev.get("inputs", []), *ev.get("outputs", [])]
    if is_dataset(ev.get("dataset")):
        found.append(ev["dataset"])
    return found


def _run_key(item: Located) -> str:
    run = item.event.get("run")
    run_id = run.get("runId") if isinstance(run, dict) else None
    return str(run_id) if isinstance(run_id, str) and run_id else f"\0{item.index}:{item.line}"


def derive(items: Iterable[Located]) -> Derived:
    """Signals and asset infos of every event, read together (runs across files, aliases, run states)."""
    items = list(items)
    out = Derived()
    for item in items:
        for ds in _datasets(item.event):
            out.aliases.add(ds)
    runs: dict[str, list[Located]] = defaultdict(list)
    for item in items:
        for ds in _datasets(item.event):
            out.infos[item.index].extend(dataset_infos(ds, out.aliases))
        if is_dataset(item.event.get("job")):
            runs[_run_key(item)].append(item)
    # (job, source dataset, target dataset) as plain strings: no Asset made or hashed per signal
    covered: set[tuple[str, str, str, str, str, str]] = set()
    fallbacks: list[tuple[int, Signal, tuple[int, int]]] = []
    for run in runs.values():
        failed = any(i.event.get("eventType") in FAILED_STATES for i in run)
        out.failed_runs += failed
        for index, sig, origin, fallback in _run_signals(run, out.aliases, FAILED_RUN if failed else None):
            if fallback:
                fallbacks.append((index, sig, origin))
                continue
            if sig.target is not None:
                src, dst = sig.source, sig.target
                covered.add(
                    (sig.job.namespace, sig.job.name, src.namespace, src.name, dst.namespace, dst.name)
                )
            out.signals[index].append((sig, origin))
    # Dataset-level edges only for pairs no event of the job gave column lineage for.
    for index, sig, origin in fallbacks:
        assert sig.target is not None
        src, dst = sig.source, sig.target  # dataset-level: their own datasets
        if (sig.job.namespace, sig.job.name, src.namespace, src.name, dst.namespace, dst.name) not in covered:
            out.signals[index].append((sig, origin))
    return out


def _signal(
    job: Job,
    source: Asset,
    target: Asset | None,
    t: Transformation,
    evidence: tuple[Evidence, ...],
    match: str | None,
    when: datetime | None,
) -> Signal:
    assert match in (None, FAILED_RUN)
    return Signal.trusted("declared", job, source, target, t, evidence, match, when, when)


def _run_signals(
    run: list[Located], aliases: Aliases, match: str | None
) -> Iterator[tuple[int, Signal, tuple[int, int], bool]]:
    """``(file index, signal, counted event, is a dataset-level fallback)`` for one run's events."""
    # A run's events describe one job: START often carries the SQL, COMPLETE the lineage.
    job = max((job_of(i.event["job"]) for i in run), key=lambda j: j.richness)
    inputs: dict[Asset, Located] = {}
    outputs: dict[Asset, Located] = {}
    for item in run:
        ev = item.event
        evidence, when = _evidence(item), _time(ev.get("eventTime"))
        origin = (item.index, item.line)
        for d in ev.get("inputs", []):
            inputs.setdefault(aliases.canonical(d["namespace"], d["name"]), item)
        for out in ev.get("outputs", []):
            target = aliases.canonical(out["namespace"], out["name"])
            outputs.setdefault(target, item)
            lineage = (out.get("facets") or {}).get("columnLineage") or {}
            fields = lineage.get("fields") if isinstance(lineage, dict) else None
            for out_field, spec in (fields if isinstance(fields, dict) else {}).items():
                field_target: Asset | None = None  # made once per output field, not per input
                for inf in (spec or {}).get("inputFields") or []:
                    if is_dataset(inf) and inf.get("field"):
                        source = aliases.canonical(inf["namespace"], inf["name"], str(inf["field"]))
                        if field_target is None:
                            field_target = target.with_field(str(out_field))
                        for t in _transformations_of(inf, spec):
                            sig = _signal(job, source, field_target, t, evidence, match, when)
                            yield item.index, sig, origin, False
            for inf in (lineage.get("dataset") if isinstance(lineage, dict) else None) or []:
                if is_dataset(inf):
                    source = aliases.canonical(inf["namespace"], inf["name"], inf.get("field") or None)
                    for t in transformations(inf, {}):
                        sig = _signal(job, source, target, t, evidence, match, when)
                        yield item.index, sig, origin, False
    for target, at in outputs.items():
        evidence, when = _evidence(at), _time(at.event.get("eventTime"))
        for source in inputs:
            sig = _signal(job, source, target, IDENTITY, evidence, match, when)
            yield at.index, sig, (at.index, at.line), True
    if not outputs:
        for source, at in inputs.items():
            when = _time(at.event.get("eventTime"))
            sig = _signal(job, source, None, IDENTITY, _evidence(at), match, when)
            yield at.index, sig, (at.index, at.line), False
