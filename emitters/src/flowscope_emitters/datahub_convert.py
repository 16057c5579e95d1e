"""OpenLineage events to DataHub metadata change proposals (acryl-datahub, the ``datahub`` extra, imported
lazily so the rest of flowscope-emitters works without it).

Lineage, job inputs/outputs and tags are written as patches: they add flowscope's upstreams, fine-grained
lineages and tags to what DataHub holds instead of replacing the aspects, so lineage other sources wrote
survives. The patch proposals are the JSON that acryl-datahub's ``DatasetPatchBuilder`` and
``DataJobPatchBuilder`` produce (a test compares them on the example), written directly: the builders'
per-operation avro objects and serialization took half the conversion time. ``schemaMetadata`` and
``dataJobInfo`` have no patch form and are upserted. Each fine-grained lineage carries the edge's
confidence (from flowscope's own facet; 1.0 for events of other producers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
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


# Characters acryl-datahub percent-encodes inside urns (``UrnEncoder``): names holding one take its slow path.
_RESERVED = frozenset(",()\u241f")


def _plain(*parts: str) -> bool:
    return all(p and not _RESERVED.intersection(p) and not p.startswith("urn:") for p in parts)


@lru_cache(maxsize=65536)
def dataset_urn(namespace: str, name: str, env: str = "PROD") -> str:
    """Platform from the namespace's scheme, its host as the platform instance (two Postgres servers with
    the same table names stay apart), the OpenLineage name as the DataHub name. The string is what
    acryl-datahub's ``make_dataset_urn_with_platform_instance`` returns (a test compares them); it is
    written directly when no part needs encoding, as acryl-datahub's urn classes validate at length."""
    from datahub.emitter import mce_builder

    scheme, sep, host = namespace.partition("://")
    platform = PLATFORMS.get(scheme, scheme) if sep else namespace
    instance = host.replace(":", "_").strip("/") or None if sep else None
    full = f"{instance}.{name}" if instance else name
    if _plain(platform, full, env) and env == env.upper() and not mce_builder.DATASET_URN_TO_LOWER:
        return f"urn:li:dataset:(urn:li:dataPlatform:{platform},{full},{env})"
    return str(mce_builder.make_dataset_urn_with_platform_instance(platform, name, instance, env))


@lru_cache(maxsize=65536)
def job_urn(namespace: str, name: str) -> str:
    """acryl-datahub's ``make_data_job_urn_with_flow(make_data_flow_urn(...))``, written directly when
    nothing needs encoding (a test compares them)."""
    from datahub.emitter.mce_builder import make_data_flow_urn, make_data_job_urn_with_flow

    flow_id = namespace.replace(":", "_").replace("/", "_")
    if _plain(flow_id, name):
        return f"urn:li:dataJob:(urn:li:dataFlow:(flowscope,{flow_id},PROD),{name})"
    return str(make_data_job_urn_with_flow(make_data_flow_urn("flowscope", flow_id, "PROD"), name))


@lru_cache(maxsize=65536)
def field_urn(dataset: str, field: str) -> str:
    from datahub.emitter.mce_builder import make_schema_field_urn

    return str(make_schema_field_urn(dataset, field))


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


def _quote(part: str) -> str:
    """A JSON Pointer path component (RFC 6901), as acryl-datahub's patch builders quote them."""
    return part.replace("~", "~0").replace("/", "~1") if "~" in part or "/" in part else part


def _path(*parts: str) -> str:
    return "/" + "/".join(_quote(p) for p in parts)


class _Patches:
    """The JSON Patch operations of one entity, grouped per aspect in the order they were added, and turned
    into PATCH proposals exactly as acryl-datahub's ``MetadataPatchProposal.build`` does (same JSON, same
    order), without building and serializing avro objects per operation."""

    def __init__(self, urn: str, entity_type: str) -> None:
        self.urn = urn
        self.entity_type = entity_type
        self.ops: dict[str, list[dict[str, Any]]] = {}

    def add(self, aspect: str, path: str, value: Any) -> None:
        self.ops.setdefault(aspect, []).append({"op": "add", "path": path, "value": value})

    def build(self) -> Iterator[Any]:
        for aspect, ops in self.ops.items():
            payload: Any = {"arrayPrimaryKeys": TAG_KEYS, "patch": ops} if aspect == "globalTags" else ops
            yield _dh().patch(self.urn, self.entity_type, aspect, json.dumps(payload).encode())


TAG_KEYS = {"tags": ["attribution\u241fsource", "tag"]}  # acryl-datahub's keys of globalTags.tags
AUDIT = {"time": 0, "actor": "urn:li:corpuser:unknown"}  # UpstreamClass's default audit stamp


class _DataHub:
    """acryl-datahub's classes, imported once (the import takes about a second)."""

    def __init__(self) -> None:
        from datahub.emitter.aspect import JSON_PATCH_CONTENT_TYPE
        from datahub.emitter.mcp import MetadataChangeProposalWrapper
        from datahub.metadata import schema_classes

        sc: Any = schema_classes  # its classes are partly untyped
        self.sc = sc
        self.wrapper = MetadataChangeProposalWrapper
        self.content_type = JSON_PATCH_CONTENT_TYPE
        self.string_type = sc.SchemaFieldDataTypeClass(type=sc.StringTypeClass())

    def unknown_stamp(self) -> Any:
        return self.sc.AuditStampClass(time=0, actor="urn:li:corpuser:unknown")

    def patch(self, urn: str, entity_type: str, aspect: str, value: bytes) -> Any:
        sc = self.sc
        return sc.MetadataChangeProposalClass(
            entityUrn=urn,
            entityType=entity_type,
            changeType=sc.ChangeTypeClass.PATCH,
            aspectName=aspect,
            aspect=sc.GenericAspectClass(value=value, contentType=self.content_type),
        )


@lru_cache(maxsize=1)
def _dh() -> _DataHub:
    return _DataHub()


def convert(event: Mapping[str, Any], env: str = "PROD") -> Iterator[Any]:
    """The MCPs of one OpenLineage event (job, its datasets, their lineage, schema and tags)."""
    dh = _dh()
    sc = dh.sc
    inputs = list(event.get("inputs") or [])
    outputs = list(event.get("outputs") or [])
    urns = {
        (d["namespace"], d["name"]): dataset_urn(d["namespace"], d["name"], env) for d in inputs + outputs
    }
    job = event.get("job") or {}
    if job and (inputs or outputs):
        jurn = job_urn(job["namespace"], job["name"])
        yield dh.wrapper(
            entityUrn=jurn,
            aspect=sc.DataJobInfoClass(
                name=job["name"], type="COMMAND", customProperties={"namespace": job["namespace"]}
            ),
        )
        jp = _Patches(jurn, "dataJob")
        for edges, datasets in (("inputDatasetEdges", inputs), ("outputDatasetEdges", outputs)):
            for d in datasets:
                urn = urns[(d["namespace"], d["name"])]
                jp.add("dataJobInputOutput", _path(edges, urn), {"destinationUrn": urn})
        yield from jp.build()
    for d in inputs + outputs:
        facets = d.get("facets") or {}
        urn = urns[(d["namespace"], d["name"])]
        fields = (facets.get("schema") or {}).get("fields") or []
        if fields:
            yield dh.wrapper(
                entityUrn=urn,
                aspect=sc.SchemaMetadataClass(
                    schemaName=d["name"],
                    platform=urn.split(",")[0].removeprefix("urn:li:dataset:("),
                    version=0,
                    hash="",
                    platformSchema=sc.OtherSchemaClass(rawSchema=""),
                    fields=[
                        sc.SchemaFieldClass(
                            fieldPath=f["name"],
                            type=dh.string_type,
                            nativeDataType=str(f.get("type") or "unknown"),
                            nullable=False,
                            recursive=False,
                            isPartOfKey=False,
                        )
                        for f in fields
                    ],
                    # The defaults, given: avro builds each default from its JSON form on every call.
                    created=dh.unknown_stamp(),
                    lastModified=dh.unknown_stamp(),
                ),
            )
        dp = _Patches(urn, "dataset")
        for tag in (facets.get("tags") or {}).get("tags") or []:
            tag_urn = f"urn:li:tag:{tag_name(tag)}"
            if tag.get("field"):
                path = _path("editableSchemaFieldInfo", str(tag["field"]), "globalTags", "tags", tag_urn)
                dp.add("editableSchemaMetadata", path, {"tag": tag_urn})
            else:
                dp.add("globalTags", _path("tags", "", tag_urn), {"tag": tag_urn})
        if d in outputs:
            for i in inputs:
                up = urns[(i["namespace"], i["name"])]
                value = {"auditStamp": dict(AUDIT), "dataset": up, "type": "TRANSFORMED"}
                dp.add("upstreamLineage", _path("upstreams", up), value)
            conf = _confidences(facets)
            for out_field, spec in ((facets.get("columnLineage") or {}).get("fields") or {}).items():
                down = field_urn(urn, out_field)
                for inf in spec.get("inputFields") or []:
                    up = urns.get((inf["namespace"], inf["name"])) or dataset_urn(
                        inf["namespace"], inf["name"], env
                    )
                    key = (inf["namespace"], inf["name"], inf.get("field") or "", out_field)
                    operation = ",".join(
                        f"{t.get('type')}/{t.get('subtype')}" for t in inf.get("transformations") or []
                    )
                    path = _path(
                        "fineGrainedLineages",
                        operation or "NONE",
                        down,
                        "NONE",
                        field_urn(up, str(inf["field"])),
                    )
                    dp.add("upstreamLineage", path, {"confidenceScore": conf.get(key, 1.0)})
        yield from dp.build()


def convert_with_builders(event: Mapping[str, Any], env: str = "PROD") -> list[Any]:
    """:func:`convert` written with acryl-datahub's patch builders (``DatasetPatchBuilder``,
    ``DataJobPatchBuilder``): the reference the direct JSON must equal (tests) and be compared with (bench)."""
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.metadata import schema_classes
    from datahub.specific.datajob import DataJobPatchBuilder
    from datahub.specific.dataset import DatasetPatchBuilder

    sc: Any = schema_classes  # its classes are partly untyped

    out: list[Any] = []
    inputs, outputs = event.get("inputs") or [], event.get("outputs") or []
    urns = {
        (d["namespace"], d["name"]): dataset_urn(d["namespace"], d["name"], env) for d in inputs + outputs
    }
    job = event.get("job") or {}
    if job and (inputs or outputs):
        jurn = job_urn(job["namespace"], job["name"])
        info = sc.DataJobInfoClass(
            name=job["name"], type="COMMAND", customProperties={"namespace": job["namespace"]}
        )
        out.append(MetadataChangeProposalWrapper(entityUrn=jurn, aspect=info))
        jp = DataJobPatchBuilder(jurn)
        for d in inputs:
            jp.add_input_dataset(urns[(d["namespace"], d["name"])])
        for d in outputs:
            jp.add_output_dataset(urns[(d["namespace"], d["name"])])
        out.extend(jp.build())
    for d in inputs + outputs:
        facets = d.get("facets") or {}
        urn = urns[(d["namespace"], d["name"])]
        fields = (facets.get("schema") or {}).get("fields") or []
        if fields:
            schema = sc.SchemaMetadataClass(
                schemaName=d["name"],
                platform=urn.split(",")[0].removeprefix("urn:li:dataset:("),
                version=0,
                hash="",
                platformSchema=sc.OtherSchemaClass(rawSchema=""),
                fields=[
                    sc.SchemaFieldClass(
                        fieldPath=f["name"],
                        type=sc.SchemaFieldDataTypeClass(type=sc.StringTypeClass()),
                        nativeDataType=str(f.get("type") or "unknown"),
                    )
                    for f in fields
                ],
            )
            out.append(MetadataChangeProposalWrapper(entityUrn=urn, aspect=schema))
        dp = DatasetPatchBuilder(urn)
        for tag in (facets.get("tags") or {}).get("tags") or []:
            assoc = sc.TagAssociationClass(f"urn:li:tag:{tag_name(tag)}")
            if tag.get("field"):
                dp.for_field(str(tag["field"])).add_tag(assoc)
            else:
                dp.add_tag(assoc)
        if d in outputs:
            for i in inputs:
                dp.add_upstream_lineage(sc.UpstreamClass(urns[(i["namespace"], i["name"])], "TRANSFORMED"))
            conf = _confidences(facets)
            for out_field, spec in ((facets.get("columnLineage") or {}).get("fields") or {}).items():
                for inf in spec.get("inputFields") or []:
                    up = urns.get((inf["namespace"], inf["name"])) or dataset_urn(
                        inf["namespace"], inf["name"]
                    )
                    operation = ",".join(
                        f"{t['type']}/{t['subtype']}" for t in inf.get("transformations") or []
                    )
                    dp.add_fine_grained_lineage(
                        sc.FineGrainedLineageClass(
                            upstreamType="FIELD_SET",
                            upstreams=[field_urn(up, str(inf["field"]))],
                            downstreamType="FIELD",
                            downstreams=[field_urn(urn, out_field)],
                            confidenceScore=conf.get(
                                (inf["namespace"], inf["name"], inf.get("field") or "", out_field), 1.0
                            ),
                            transformOperation=operation or None,
                        )
                    )
        out.extend(dp.build())
    return out


def convert_all(events: Iterable[Mapping[str, Any]], env: str = "PROD") -> list[Any]:
    require_datahub()
    return [mcp for event in events for mcp in convert(event, env)]


def write_file(mcps: Iterable[Any], path: Path) -> int:
    """A JSON array of proposals, the format of ``datahub ingest``'s ``file`` source."""
    objs = [m.to_obj() for m in mcps]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(objs, indent=1), encoding="utf-8")
    return len(objs)
