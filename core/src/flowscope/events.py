"""Edges -> OpenLineage RunEvents: one COMPLETE event per job per scan, plus one for the scan itself.

Every event is built from ``openlineage.client.event_v2`` / ``facet_v2`` classes and validates against
the OpenLineage 2-0-2 JSON Schemas (checked in tests). Run ids are deterministic: a job's run id is a
UUIDv5 of the job and a digest of what its event says, so scanning unchanged input twice yields the same
run and consumers such as Marquez update it rather than piling up new runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attr
from openlineage.client.constants import __version__ as OL_CLIENT_VERSION
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    JobFacet,
    RunFacet,
    column_lineage_dataset,
    documentation_dataset,
    documentation_job,
    extraction_error_run,
    job_type_job,
    ownership_job,
    parent_run,
    processing_engine_run,
    schema_dataset,
    source_code_location_job,
    sql_job,
    tags_dataset,
)

from flowscope import __version__, private
from flowscope.contracts import Problem
from flowscope.facets import FACET_NAME, iso, lineage_facet
from flowscope.model import Asset, AssetInfo, Edge, SourceLocation
from flowscope.model import Job as FlowJob
from flowscope.naming import scan_job_namespace
from flowscope.olplain import to_canonical, to_plain

PRODUCER = f"https://flowscope.dev/flowscope/{__version__}"
INTEGRATION = "FLOWSCOPE"
SCAN_JOB_NAME = "scan"
TAG_SOURCE = "FLOWSCOPE"
# Fixed namespace for UUIDv5 run ids; changing it changes every run id flowscope has ever emitted.
RUN_ID_NAMESPACE = uuid.UUID("6f1c2a4e-8b0d-5e3a-9c47-0d2f6a8b1e55")

_NO_FAILURES: Mapping[str, str] = MappingProxyType({})


def build_events(
    edges: Sequence[Edge],
    assets: Mapping[Asset, AssetInfo],
    *,
    scan_id: str,
    event_time: datetime,
    problems: Sequence[Problem] = (),
    failed_collectors: Mapping[str, str] = _NO_FAILURES,
    collectors: Sequence[str] = (),
    producer: str = PRODUCER,
) -> list[RunEvent]:
    """The scan's events: the scan-level event first, then one per job in (namespace, name) order.

    ``collectors`` names the collectors that ran (they are the scan's "tasks" in its
    ExtractionErrorRunFacet); failed collectors and collectors with problems count too.
    """
    when = iso(event_time)
    scan_run = scan_run_id(scan_id)
    scan_ns = scan_job_namespace()
    events = [_scan_event(scan_run, scan_ns, when, problems, failed_collectors, collectors, producer)]
    by_job: dict[tuple[str, str], list[Edge]] = {}
    for edge in edges:
        by_job.setdefault(edge.job.key, []).append(edge)
    infos = _index_assets(assets)
    for key in sorted(by_job):
        events.append(_job_event(by_job[key], infos, (scan_ns, scan_run), when, producer))
    return events


def scan_run_id(scan_id: str) -> str:
    """The scan's run id: ``scan_id`` itself when it is a UUID, else a UUIDv5 of it."""
    try:
        return str(uuid.UUID(scan_id))
    except ValueError:
        return str(uuid.uuid5(RUN_ID_NAMESPACE, f"scan\n{scan_id}"))


def event_to_dict(ev: RunEvent) -> dict[str, Any]:
    """The event as the JSON the transports send (nulls dropped, enums as strings): ``Serde.to_dict``'s
    result, made in one walk (:mod:`flowscope.olplain`)."""
    out: dict[str, Any] = to_plain(ev)
    return out


def _unserializable(o: object) -> str:
    return f"<<non-serializable: {type(o).__qualname__}>>"  # as Serde.to_json writes it


def write_jsonl(events: Iterable[RunEvent], path: str | Path) -> int:
    """Write one event per line (OpenLineage's file-transport format); returns how many were written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    # 0600: events name personal-data fields and where they go (an existing file is narrowed too)
    with os.fdopen(private.open_fd(target, os.O_WRONLY | os.O_TRUNC), "w", encoding="utf-8") as fh:
        for ev in events:
            fh.write(json.dumps(to_plain(ev), sort_keys=True, default=_unserializable) + "\n")
            n += 1
    return n


def _engine(producer: str) -> processing_engine_run.ProcessingEngineRunFacet:
    return processing_engine_run.ProcessingEngineRunFacet(
        version=__version__, name="flowscope", openlineageAdapterVersion=OL_CLIENT_VERSION, producer=producer
    )


def _scan_event(
    run_id: str,
    namespace: str,
    when: str,
    problems: Sequence[Problem],
    failed: Mapping[str, str],
    collectors: Sequence[str],
    producer: str,
) -> RunEvent:
    tasks = list(dict.fromkeys([*collectors, *failed, *(p.collector for p in problems)]))
    number = {name: i for i, name in enumerate(tasks)}
    errors = [
        extraction_error_run.Error(errorMessage=message, task=name, taskNumber=number[name])
        for name, message in failed.items()
    ]
    for p in problems:
        task = p.collector
        if p.path:
            task += f":{p.path}" + (f":{p.line}" if p.line else "")
        errors.append(
            extraction_error_run.Error(errorMessage=p.message, task=task, taskNumber=number[p.collector])
        )
    run_facets: dict[str, RunFacet] = {
        "extractionError": extraction_error_run.ExtractionErrorRunFacet(
            totalTasks=len(tasks), failedTasks=len(failed), errors=errors, producer=producer
        ),
        "processing_engine": _engine(producer),
    }
    job_facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=INTEGRATION, jobType="SCAN", producer=producer
        )
    }
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=when,
        run=Run(runId=run_id, facets=run_facets),
        job=Job(namespace=namespace, name=SCAN_JOB_NAME, facets=job_facets),
        producer=producer,
    )


def _index_assets(assets: Mapping[Asset, AssetInfo]) -> dict[Asset, list[AssetInfo]]:
    """AssetInfo grouped by dataset: the dataset's own info first, then its fields' in field order."""
    out: dict[Asset, list[AssetInfo]] = {}
    for asset in sorted(assets, key=lambda a: (a.namespace, a.name, a.field or "")):
        out.setdefault(asset.dataset, []).append(assets[asset])
    return out


def _richest(jobs: Iterable[FlowJob]) -> FlowJob:
    """Edges of one job may carry different descriptions; keep the one that says the most."""

    best: FlowJob | None = None
    for j in jobs:
        if best is None or j.richness > best.richness:
            best = j
    assert best is not None
    return best


def _source_url(src: SourceLocation) -> str:
    """``sourceCodeLocation.url`` is a required URI: the given url, else a ``file:`` URI of the path."""
    if src.url:
        return src.url
    from urllib.parse import quote

    path = src.path.replace("\\", "/")
    return f"file://{quote(path)}" if path.startswith("/") else f"file:{quote(path)}"


def _job_facets(job: FlowJob, producer: str) -> dict[str, JobFacet]:
    facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType=job.processing_type,
            integration=INTEGRATION,
            jobType=job.job_type,
            producer=producer,
        )
    }
    if job.sql:
        facets["sql"] = sql_job.SQLJobFacet(query=job.sql, producer=producer)
    if job.description:
        facets["documentation"] = documentation_job.DocumentationJobFacet(
            description=job.description, producer=producer
        )
    if job.owner:
        facets["ownership"] = ownership_job.OwnershipJobFacet(
            owners=[ownership_job.Owner(name=job.owner)], producer=producer
        )
    if job.source is not None:
        src = job.source
        facets["sourceCodeLocation"] = source_code_location_job.SourceCodeLocationJobFacet(
            type=src.type,
            url=_source_url(src),
            repoUrl=src.repo_url,
            path=src.path,
            version=src.version,
            producer=producer,
        )
    return facets


def _split_tag(tag: str) -> tuple[str, str]:
    """``key=value`` or ``key:value`` become key and value; a bare tag such as ``pii`` is ``pii=true``."""
    for sep in ("=", ":"):
        key, found, value = tag.partition(sep)
        if found and key:
            return key, value
    return tag, "true"


def _dataset_facets(
    dataset: Asset, used_fields: Iterable[str], infos: Mapping[Asset, list[AssetInfo]], producer: str
) -> dict[str, DatasetFacet]:
    """schema (known fields with types, then every field the job's edges use), tags and documentation."""
    types: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    tags: list[tags_dataset.TagsDatasetFacetFields] = []
    description = ""
    for info in infos.get(dataset, []):
        for name, typ in info.fields:
            if name:
                types[name] = typ or types.get(name)
        if info.asset.field is None:
            description = description or info.description
        else:
            types.setdefault(info.asset.field, None)
            if info.description:
                notes[info.asset.field] = info.description
        for tag in info.tags:
            key, value = _split_tag(tag)
            tags.append(tags_dataset.TagsDatasetFacetFields(key, value, TAG_SOURCE, info.asset.field))
    for name in sorted(set(used_fields)):
        types.setdefault(name, None)
    facets: dict[str, DatasetFacet] = {}
    if types:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(name=n, type=t, description=notes.get(n))
                for n, t in types.items()
            ],
            producer=producer,
        )
    if tags:
        facets["tags"] = tags_dataset.TagsDatasetFacet(tags=tags, producer=producer)
    if description:
        facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
            description=description, producer=producer
        )
    return facets


def _transformations(edge: Edge, kind: str | None = None) -> list[column_lineage_dataset.Transformation]:
    return [
        column_lineage_dataset.Transformation(
            type=t.type, subtype=t.subtype, description=t.description or None, masking=t.masking
        )
        for t in sorted(edge.transformations)
        if kind is None or t.type == kind
    ]


def _column_lineage(
    edges: list[Edge], producer: str
) -> column_lineage_dataset.ColumnLineageDatasetFacet | None:
    """Field-to-field edges go under ``fields``; field-to-dataset INDIRECT ones (a filter or join key
    that shapes the whole output) under ``dataset``. Edges without a source field cannot be expressed
    (an InputField needs a field) and stay in the flowscope facet only, and so do edges whose only
    evidence is a runtime NO_MATCH: a pair that met and never matched is kept for review, not claimed."""
    fields: dict[str, list[column_lineage_dataset.InputField]] = {}
    whole: list[column_lineage_dataset.InputField] = []
    for e in sorted(edges, key=lambda e: (e.target.id if e.target else "", e.source.id)):
        src, tgt = e.source, e.target
        if tgt is None or src.field is None or _review_only(e):
            continue
        if tgt.field is not None:
            item = column_lineage_dataset.InputField(src.namespace, src.name, src.field, _transformations(e))
            fields.setdefault(tgt.field, []).append(item)
        elif indirect := _transformations(e, "INDIRECT"):
            whole.append(column_lineage_dataset.InputField(src.namespace, src.name, src.field, indirect))
    if not fields and not whole:
        return None
    return column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            name: column_lineage_dataset.Fields(inputFields=items) for name, items in sorted(fields.items())
        },
        dataset=whole,
        producer=producer,
    )


def _review_only(edge: Edge) -> bool:
    """Every basis of the edge is a runtime NO_MATCH."""
    return bool(edge.bases) and all(b.kind == "runtime" and b.match == "NO_MATCH" for b in edge.bases)


def _job_event(
    edges: list[Edge],
    infos: Mapping[Asset, list[AssetInfo]],
    scan: tuple[str, str],
    when: str,
    producer: str,
) -> RunEvent:
    scan_ns, scan_run = scan
    job = _richest(e.job for e in edges)
    # One pass indexes the job's edges by dataset: looking them up per input and output dataset was
    # quadratic in the job's size (8,000 flows of one job took 180 s).
    used: dict[Asset, set[str]] = {}
    sources: set[Asset] = set()
    reads_of: dict[Asset, list[Edge]] = {}
    writes_to: dict[Asset, list[Edge]] = {}
    for e in edges:
        for a in (e.source, e.target):
            if a is not None:
                fields = used.setdefault(a.dataset, set())
                if a.field:
                    fields.add(a.field)
        sources.add(e.source.dataset)
        if e.target is None:
            reads_of.setdefault(e.source.dataset, []).append(e)
        else:
            writes_to.setdefault(e.target.dataset, []).append(e)

    # The client's facet classes validate _producer and _schemaURL with urlparse, which accepts any string:
    # a no-op that cost a fifth of building a job with 200,000 outputs. Our own values, so skipped here.
    with attr.validators.disabled():
        inputs, outputs = _datasets(sources, reads_of, writes_to, used, infos, producer)

    job_facets = _job_facets(job, producer)
    run_id = job_run_id(job.namespace, job.name, [job_facets, inputs, outputs])
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=scan_run),
        job=parent_run.Job(namespace=scan_ns, name=SCAN_JOB_NAME),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=scan_run),
            job=parent_run.RootJob(namespace=scan_ns, name=SCAN_JOB_NAME),
        ),
        producer=producer,
    )
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=when,
        run=Run(runId=run_id, facets={"parent": parent, "processing_engine": _engine(producer)}),
        job=Job(namespace=job.namespace, name=job.name, facets=job_facets),
        inputs=inputs,
        outputs=outputs,
        producer=producer,
    )


def _datasets(
    sources: set[Asset],
    reads_of: Mapping[Asset, list[Edge]],
    writes_to: Mapping[Asset, list[Edge]],
    used: Mapping[Asset, set[str]],
    infos: Mapping[Asset, list[AssetInfo]],
    producer: str,
) -> tuple[list[InputDataset], list[OutputDataset]]:
    inputs: list[InputDataset] = []
    for ds in sorted(sources):
        facets = _dataset_facets(ds, used[ds], infos, producer)
        if reads := reads_of.get(ds):
            facets[FACET_NAME] = lineage_facet(reads, producer)
        inputs.append(InputDataset(namespace=ds.namespace, name=ds.name, facets=facets))
    outputs: list[OutputDataset] = []
    for ds in sorted(writes_to):
        facets = _dataset_facets(ds, used[ds], infos, producer)
        writes = writes_to[ds]
        if (lineage := _column_lineage(writes, producer)) is not None:
            facets["columnLineage"] = lineage
        facets[FACET_NAME] = lineage_facet(writes, producer)
        outputs.append(OutputDataset(namespace=ds.namespace, name=ds.name, facets=facets))
    return inputs, outputs


def job_run_id(namespace: str, name: str, content: object) -> str:
    """UUIDv5 of the job and a SHA-256 of ``content`` (facets and datasets, minus ``_producer`` and
    ``_schemaURL`` so upgrading flowscope or the client alone does not change run ids)."""
    canonical = json.dumps(to_canonical(content), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return str(uuid.uuid5(RUN_ID_NAMESPACE, f"{namespace}\n{name}\n{digest}"))


def _strip_meta(obj: object) -> object:
    """What :func:`flowscope.olplain.to_canonical` removes from a plain form (kept as its reference)."""
    if type(obj) is dict:
        out = {}
        for k, v in obj.items():
            if (k if type(k) is str else str(k)).startswith("_") or k == "schemaURL":
                continue
            out[k] = v if type(v) is str else _strip_meta(v)
        return out
    if type(obj) is list:
        return [v if type(v) is str else _strip_meta(v) for v in obj]
    return obj
