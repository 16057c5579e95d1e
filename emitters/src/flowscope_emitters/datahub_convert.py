"""OpenLineage events to DataHub metadata change proposals (acryl-datahub, the ``datahub`` extra, imported
lazily so the rest of flowscope-emitters works without it).

Lineage, job inputs/outputs and tags are written as patches (``DatasetPatchBuilder``,
``DataJobPatchBuilder``): they add flowscope's upstreams, fine-grained lineages and tags to what DataHub
holds instead of replacing the aspects, so lineage other sources wrote survives. ``schemaMetadata`` and
``dataJobInfo`` have no patch form and are upserted. Each fine-grained lineage carries the edge's
confidence (from flowscope's own facet; 1.0 for events of other producers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from flowscope.errors import UserError

DATAHUB_HINT = "pip install 'flowscope-emitters[datahub]'"
# OpenLineage namespace schemes whose DataHub platform has another name.
PLATFORMS = {"postgresql": "postgres", "gs": "gcs", "abfss": "adls", "redshift": "redshift", "file": "file"}


def require_datahub() -> None:
    try:
        import datahub  # noqa: F401
    except ImportError:
        raise UserError(f"DataHub support needs acryl-datahub: {DATAHUB_HINT}") from None


def dataset_urn(namespace: str, name: str, env: str = "PROD") -> str:
    """Platform from the namespace's scheme, its host as the platform instance (two Postgres servers with
    the same table names stay apart), the OpenLineage name as the DataHub name."""
    from datahub.emitter.mce_builder import make_dataset_urn_with_platform_instance

    scheme, sep, host = namespace.partition("://")
    platform = PLATFORMS.get(scheme, scheme) if sep else namespace
    instance = host.replace(":", "_").strip("/") or None if sep else None
    return str(make_dataset_urn_with_platform_instance(platform, name, instance, env))


def job_urn(namespace: str, name: str) -> str:
    from datahub.emitter.mce_builder import make_data_flow_urn, make_data_job_urn_with_flow

    flow = make_data_flow_urn("flowscope", namespace.replace(":", "_").replace("/", "_"), "PROD")
    return str(make_data_job_urn_with_flow(flow, name))


def _confidences(facets: Mapping[str, Any]) -> dict[tuple[str, str, str, str], float]:
    """(input ns, input name, input field, output field) -> confidence, from flowscope's facet."""
    out: dict[tuple[str, str, str, str], float] = {}
    for e in (facets.get("flowscope") or {}).get("edges") or []:
        i = e.get("input") or {}
        key = (i.get("namespace", ""), i.get("name", ""), i.get("field") or "", e.get("outputField") or "")
        out[key] = float(e.get("confidence", 1.0))
    return out


def tag_name(tag: Mapping[str, Any]) -> str:
    value = str(tag.get("value", ""))
    return str(tag["key"]) if value in ("", "true") else f"{tag['key']}:{value}"


def convert(event: Mapping[str, Any], env: str = "PROD") -> Iterator[Any]:
    """The MCPs of one OpenLineage event (job, its datasets, their lineage, schema and tags)."""
    from datahub.emitter.mce_builder import make_schema_field_urn, make_tag_urn
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.metadata.schema_classes import (
        DataJobInfoClass,
        DatasetLineageTypeClass,
        FineGrainedLineageClass,
        FineGrainedLineageDownstreamTypeClass,
        FineGrainedLineageUpstreamTypeClass,
        OtherSchemaClass,
        SchemaFieldClass,
        SchemaFieldDataTypeClass,
        SchemaMetadataClass,
        StringTypeClass,
        TagAssociationClass,
        UpstreamClass,
    )
    from datahub.specific.datajob import DataJobPatchBuilder
    from datahub.specific.dataset import DatasetPatchBuilder

    inputs = list(event.get("inputs") or [])
    outputs = list(event.get("outputs") or [])
    urns = {
        (d["namespace"], d["name"]): dataset_urn(d["namespace"], d["name"], env) for d in inputs + outputs
    }
    job = event.get("job") or {}
    if job and (inputs or outputs):
        jurn = job_urn(job["namespace"], job["name"])
        yield MetadataChangeProposalWrapper(
            entityUrn=jurn,
            aspect=DataJobInfoClass(
                name=job["name"], type="COMMAND", customProperties={"namespace": job["namespace"]}
            ),
        )
        jp = DataJobPatchBuilder(jurn)
        for d in inputs:
            jp.add_input_dataset(urns[(d["namespace"], d["name"])])
        for d in outputs:
            jp.add_output_dataset(urns[(d["namespace"], d["name"])])
        yield from jp.build()
    for d in inputs + outputs:
        facets = d.get("facets") or {}
        urn = urns[(d["namespace"], d["name"])]
        fields = (facets.get("schema") or {}).get("fields") or []
        if fields:
            yield MetadataChangeProposalWrapper(
                entityUrn=urn,
                aspect=SchemaMetadataClass(
                    schemaName=d["name"],
                    platform=urn.split(",")[0].removeprefix("urn:li:dataset:("),
                    version=0,
                    hash="",
                    platformSchema=OtherSchemaClass(rawSchema=""),
                    fields=[
                        SchemaFieldClass(
                            fieldPath=f["name"],
                            type=SchemaFieldDataTypeClass(type=StringTypeClass()),
                            nativeDataType=str(f.get("type") or "unknown"),
                        )
                        for f in fields
                    ],
                ),
            )
        dp = DatasetPatchBuilder(urn)
        changed = False
        for tag in (facets.get("tags") or {}).get("tags") or []:
            assoc = TagAssociationClass(make_tag_urn(tag_name(tag)))
            if tag.get("field"):
                dp.for_field(str(tag["field"])).add_tag(assoc)
            else:
                dp.add_tag(assoc)
            changed = True
        if d in outputs:
            for i in inputs:
                dp.add_upstream_lineage(
                    UpstreamClass(urns[(i["namespace"], i["name"])], DatasetLineageTypeClass.TRANSFORMED)
                )
                changed = True
            conf = _confidences(facets)
            for out_field, spec in ((facets.get("columnLineage") or {}).get("fields") or {}).items():
                for inf in spec.get("inputFields") or []:
                    up = urns.get((inf["namespace"], inf["name"])) or dataset_urn(
                        inf["namespace"], inf["name"], env
                    )
                    key = (inf["namespace"], inf["name"], inf.get("field") or "", out_field)
                    dp.add_fine_grained_lineage(
                        FineGrainedLineageClass(
                            upstreamType=FineGrainedLineageUpstreamTypeClass.FIELD_SET,
                            upstreams=[make_schema_field_urn(up, str(inf["field"]))],
                            downstreamType=FineGrainedLineageDownstreamTypeClass.FIELD,
                            downstreams=[make_schema_field_urn(urn, out_field)],
                            confidenceScore=conf.get(key, 1.0),
                            transformOperation=",".join(
                                f"{t.get('type')}/{t.get('subtype')}"
                                for t in inf.get("transformations") or []
                            )
                            or None,
                        )
                    )
                    changed = True
        if changed:
            yield from dp.build()


def convert_all(events: Iterable[Mapping[str, Any]], env: str = "PROD") -> list[Any]:
    require_datahub()
    return [mcp for event in events for mcp in convert(event, env)]


def write_file(mcps: Iterable[Any], path: Path) -> int:
    """A JSON array of proposals, the format of ``datahub ingest``'s ``file`` source."""
    objs = [m.to_obj() for m in mcps]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(objs, indent=1), encoding="utf-8")
    return len(objs)
