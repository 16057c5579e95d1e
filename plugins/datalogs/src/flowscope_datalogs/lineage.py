"""OpenLineage events of the export's own jobs, so the graph shows where user data went for it.

Per batch, one COMPLETE event per job, children of one batch run (``parentRun``):

- ``datalogs.requesters``: the requests -> the requesters table (``user_id``);
- ``datalogs.join.<table>``: the warehouse table + the requesters -> that table's intermediate Parquet,
  column by column (IDENTITY), with the owner column and ``user_id`` as the JOIN that selects the rows;
- ``datalogs.package``: every intermediate -> the delivered packages, each exported column rendered
  (DIRECT/TRANSFORMATION) into ``<table>.<column>`` of the packages dataset.

Datasets on this machine use the OpenLineage naming spec for local files (namespace ``file``, name = the
absolute path); warehouse tables keep the identity the catalog gives them, so the export joins the
graph the collectors built. Events are stored in the embedded store (collector ``datalogs``, scope =
the batch), exactly as ``flowscope ingest`` would store them, and can be written to a file.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset as cl,
)
from openlineage.client.facet_v2 import (
    job_type_job,
    parent_run,
    schema_dataset,
)

from flowscope.events import PRODUCER, RUN_ID_NAMESPACE, event_to_dict
from flowscope.ingest import Ingested, derive
from flowscope.store import Store
from flowscope_datalogs.datacheck import TablePlan

NAMESPACE = "flowscope://datalogs"
COLLECTOR = "datalogs"
_TYPES = {"int": "bigint", "float": "double", "timestamp": "timestamp", "bool": "boolean", "date": "date"}


def _run_id(batch_id: str, job: str) -> str:
    return str(uuid.uuid5(RUN_ID_NAMESPACE, f"datalogs\n{batch_id}\n{job}"))


def _schema(fields: Sequence[tuple[str, str]]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in fields], producer=PRODUCER
    )


def _job(name: str, job_type: str) -> Job:
    facet = job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration="FLOWSCOPE", jobType=job_type, producer=PRODUCER
    )
    return Job(namespace=NAMESPACE, name=name, facets={"jobType": facet})


def _lineage(
    fields: dict[str, list[tuple[str, str, str]]],
    ttype: str,
    subtype: str,
    desc: str,
    joins: list[tuple[str, str, str]],
) -> cl.ColumnLineageDatasetFacet:
    t = [cl.Transformation(type=ttype, subtype=subtype, description=desc)]
    join = [cl.Transformation(type="INDIRECT", subtype="JOIN", description="rows of the batch's requesters")]
    return cl.ColumnLineageDatasetFacet(
        fields={
            out: cl.Fields(
                inputFields=[
                    cl.InputField(namespace=ns, name=n, field=f, transformations=t) for ns, n, f in ins
                ]
            )
            for out, ins in fields.items()
        },
        dataset=[cl.InputField(namespace=ns, name=n, field=f, transformations=join) for ns, n, f in joins],
        producer=PRODUCER,
    )


def build_events(
    batch_id: str,
    requests_source: Path | None,
    state_dir: Path,
    delivery: Path,
    plans: Sequence[TablePlan],
    delivered_tables: Sequence[str],
    when: datetime | None = None,
) -> list[RunEvent]:
    """The batch's events: the batch run first, then its three kinds of jobs."""
    time = (when or datetime.now(UTC)).isoformat()
    batch_run = _run_id(batch_id, "batch")
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=batch_run),
        job=parent_run.Job(namespace=NAMESPACE, name="datalogs.batch"),
        producer=PRODUCER,
    )

    def event(name: str, job_type: str, inputs: list[InputDataset], outputs: list[OutputDataset]) -> RunEvent:
        return RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=time,
            run=Run(runId=_run_id(batch_id, name), facets={"parent": parent}),
            job=_job(name, job_type),
            inputs=inputs,
            outputs=outputs,
            producer=PRODUCER,
        )

    state = state_dir.resolve()
    req_ds = ("file", str(state / "requesters"))
    events = [
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=time,
            run=Run(runId=batch_run),
            job=_job("datalogs.batch", "DATALOGS_BATCH"),
            producer=PRODUCER,
        )
    ]
    req_facets: dict[str, Any] = {"schema": _schema([("user_id", "bigint")])}
    if requests_source is not None:
        src = ("file", str(requests_source.resolve()))
        req_facets["columnLineage"] = _lineage(
            {"user_id": [(*src, "user_id")]},
            "DIRECT",
            "IDENTITY",
            "distinct user ids of the batch's requests",
            [],
        )
        inputs = [
            InputDataset(
                namespace=src[0],
                name=src[1],
                facets={
                    "schema": _schema(
                        [("request_id", "string"), ("user_id", "bigint"), ("requested_at", "timestamp")]
                    )
                },
            )
        ]
    else:
        inputs = []
    req_out = OutputDataset(namespace=req_ds[0], name=req_ds[1], facets=req_facets)
    events.append(event("datalogs.requesters", "DATALOGS_REQUESTERS", inputs, [req_out]))
    package_fields: dict[str, list[tuple[str, str, str]]] = {}
    package_inputs = []
    for plan in plans:
        t = plan.table
        mid = ("file", str(state / "intermediate" / t.name))
        fields = {c: [(t.namespace, t.dataset, c)] for c in plan.columns}
        schema = [(c, _TYPES.get(plan.kinds[c], "string")) for c in plan.columns]
        out = OutputDataset(
            namespace=mid[0],
            name=mid[1],
            facets={
                "schema": _schema(schema),
                "columnLineage": _lineage(
                    fields,
                    "DIRECT",
                    "IDENTITY",
                    "",
                    [(t.namespace, t.dataset, t.owner), (*req_ds, "user_id")],
                ),
            },
        )
        ins = [
            InputDataset(namespace=t.namespace, name=t.dataset, facets={"schema": _schema(schema)}),
            InputDataset(namespace=req_ds[0], name=req_ds[1]),
        ]
        events.append(event(f"datalogs.join.{t.name}", "DATALOGS_JOIN", ins, [out]))
        if t.name in delivered_tables:
            package_inputs.append(InputDataset(namespace=mid[0], name=mid[1]))
            for c in t.exported:
                package_fields[f"{t.name}.{c.name}"] = [(*mid, c.name)]
    pkg_facets: dict[str, Any] = {"schema": _schema([(f, "string") for f in package_fields])}
    if package_fields:
        pkg_facets["columnLineage"] = _lineage(
            package_fields, "DIRECT", "TRANSFORMATION", "rendered for the person", []
        )
    pkg = OutputDataset(namespace="file", name=str(delivery.resolve()), facets=pkg_facets)
    events.append(event("datalogs.package", "DATALOGS_PACKAGE", package_inputs, [pkg]))
    return events


def store_events(store_dir: Path, batch_id: str, events: Sequence[RunEvent]) -> int:
    """Store the events and the edges they declare, as ``flowscope ingest`` would; returns the edges."""
    plain = [event_to_dict(e) for e in events]
    ingested = Ingested(Path(f"datalogs:{batch_id}"), events=list(enumerate(plain, start=1)))
    derive(ingested, f"datalogs batch {batch_id}")
    with Store.open(store_dir) as store:
        store.replace(COLLECTOR, f"batch:{batch_id}", ingested.edges, ingested.assets, plain)
    return len(ingested.edges)


def as_dicts(events: Sequence[RunEvent]) -> list[dict[str, Any]]:
    return [event_to_dict(e) for e in events]
