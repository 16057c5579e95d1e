"""OpenLineage events to DataHub metadata change proposals (acryl-datahub, the ``datahub`` extra, imported
lazily so the rest of flowscope-emitters works without it).

Per job: its ``dataFlow`` (the job's namespace) with ``dataFlowInfo``, ``dataJobInfo`` (description, the
source location as ``externalUrl`` and properties), ``dataTransformLogic`` (the SQL), and patches for its
inputs and outputs and its owner. Per dataset: ``schemaMetadata`` with DataHub field types (acryl-datahub's
``resolve_sql_type``; fields it cannot type are ``NullType``, native type kept), its description
(``datasetProperties``) and patches for lineage and tags. Lineage, job edges, tags and owners are patches
(:mod:`flowscope_emitters.datahub_items`): they add to what DataHub holds, so what other sources wrote
survives. A dataset's upstreams are the inputs its edges come from (field-level, dataset-level and INDIRECT
ones: a filter column makes its table an upstream), or every input of the job when the event says no more.
Features and models become DataHub's ML entities (:mod:`flowscope_emitters.datahub_ml`). flowscope's own
platforms (log, cache, ...) are registered with ``dataPlatformInfo``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from flowscope import private
from flowscope.errors import UserError
from flowscope_emitters.datahub_items import Item, build, dh
from flowscope_emitters.datahub_names import ML_SCHEMES, OWN_PLATFORMS, Naming
from flowscope_emitters.datahub_names import _plain as plain

DATAHUB_HINT = "pip install 'flowscope-emitters[datahub]'"
DEFAULT_NAMING = Naming()


def require_datahub() -> None:
    try:
        import datahub  # noqa: F401
    except ImportError:
        raise UserError(f"DataHub support needs acryl-datahub: {DATAHUB_HINT}") from None


def dataset_urn(namespace: str, name: str, naming: Naming = DEFAULT_NAMING) -> str:
    return naming.dataset_urn(namespace, name)


@lru_cache(maxsize=65536)
def flow_urn(namespace: str, orchestrator: str = "flowscope", env: str = "PROD") -> str:
    """acryl-datahub's ``make_data_flow_urn``, written directly when nothing needs encoding (a test
    compares them): its urn classes validate at length."""
    from datahub.emitter.mce_builder import make_data_flow_urn

    flow_id = namespace.replace(":", "_").replace("/", "_")
    if plain(orchestrator, flow_id, env):
        return f"urn:li:dataFlow:({orchestrator},{flow_id},{env})"
    return str(make_data_flow_urn(orchestrator, flow_id, env))


@lru_cache(maxsize=65536)
def job_urn(namespace: str, name: str, orchestrator: str = "flowscope", env: str = "PROD") -> str:
    """``make_data_job_urn_with_flow`` of the flow, written directly when nothing needs encoding."""
    from datahub.emitter.mce_builder import make_data_job_urn_with_flow

    flow = flow_urn(namespace, orchestrator, env)
    if plain(name):
        return f"urn:li:dataJob:({flow},{name})"
    return str(make_data_job_urn_with_flow(flow, name))


@lru_cache(maxsize=65536)
def field_urn(dataset: str, field: str) -> str:
    from datahub.emitter.mce_builder import make_schema_field_urn

    return str(make_schema_field_urn(dataset, field))


def tag_name(tag: Mapping[str, Any]) -> str:
    value = str(tag.get("value", ""))
    return str(tag["key"]) if value in ("", "true") else f"{tag['key']}:{value}"


def _confidences(facets: Mapping[str, Any]) -> dict[tuple[str, str, str, str], float]:
    """(input ns, input name, input field, output field) -> confidence, from flowscope's facet."""
    out: dict[tuple[str, str, str, str], float] = {}
    for e in (facets.get("flowscope") or {}).get("edges") or []:
        i = e.get("input") or {}
        key = (i.get("namespace", ""), i.get("name", ""), i.get("field") or "", e.get("outputField") or "")
        out[key] = float(e.get("confidence", 1.0))
    return out


def _is_ml(namespace: str) -> bool:
    return namespace.partition("://")[0] in ML_SCHEMES


@lru_cache(maxsize=4096)
def field_type(native: str, platform: str) -> Any:
    """DataHub's type for a native type (acryl-datahub's SQL type maps), NullType when it has none."""
    from datahub.ingestion.source.sql.sql_types import resolve_sql_type

    sc = dh().sc
    base = native.split("(", 1)[0].split("<", 1)[0].strip()
    found = resolve_sql_type(native, platform) or resolve_sql_type(base.lower(), platform)
    found = found or resolve_sql_type(base.upper(), platform)
    if found is None:
        lowered = base.lower()
        if lowered in ("string", "text", "varchar", "char"):
            found = sc.StringTypeClass()
        elif lowered in ("int", "integer", "long", "bigint", "double", "float", "decimal", "number", "short"):
            found = sc.NumberTypeClass()
        elif lowered in ("bool", "boolean"):
            found = sc.BooleanTypeClass()
        elif lowered in ("struct", "record", "map", "object"):
            found = sc.RecordTypeClass()
        elif lowered in ("array", "list"):
            found = sc.ArrayTypeClass()
        else:
            found = sc.NullTypeClass()
    return sc.SchemaFieldDataTypeClass(type=found)


@dataclass
class Proposals:
    """Whole-aspect proposals (upserts) and patch items of a batch of events; each entity's description,
    flow and platform once."""

    upserts: list[Any] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def once(self, urn: str, aspect: Any) -> None:
        key = (urn, type(aspect).__name__)
        if key not in self._seen:
            self._seen.add(key)
            self.upserts.append(dh().wrapper(entityUrn=urn, aspect=aspect))

    def mcps(self) -> list[Any]:
        return [*self.upserts, *build(self.items)]


def _platform_info(p: Proposals, urns: Iterable[str]) -> None:
    sc = dh().sc
    for urn in urns:
        platform = urn.split(",", 1)[0].removeprefix("urn:li:dataset:(urn:li:dataPlatform:")
        if platform in OWN_PLATFORMS:
            display, kind = OWN_PLATFORMS[platform]
            info = sc.DataPlatformInfoClass(
                name=platform,
                type=getattr(sc.PlatformTypeClass, kind),
                datasetNameDelimiter=".",
                displayName=display,
            )
            p.once(f"urn:li:dataPlatform:{platform}", info)


def _job(p: Proposals, job: Mapping[str, Any], naming: Naming) -> str:
    sc = dh().sc
    facets = job.get("facets") or {}
    integration = str((facets.get("jobType") or {}).get("integration") or "FLOWSCOPE").lower()
    jurn = job_urn(job["namespace"], job["name"], integration, naming.env)
    furn = flow_urn(job["namespace"], integration, naming.env)
    p.once(
        furn, sc.DataFlowInfoClass(name=job["namespace"], customProperties={"namespace": job["namespace"]})
    )
    location = facets.get("sourceCodeLocation") or {}
    props = {"namespace": job["namespace"]}
    if location.get("path"):
        props["sourceCodeLocation"] = str(location["path"])
    if (facets.get("jobType") or {}).get("jobType"):
        props["jobType"] = str(facets["jobType"]["jobType"])
    description = (facets.get("documentation") or {}).get("description")
    info = sc.DataJobInfoClass(
        name=job["name"],
        type="COMMAND",
        flowUrn=furn,
        description=str(description) if description else None,
        externalUrl=str(location["url"]) if location.get("url") else None,
        customProperties=props,
    )
    p.once(jurn, info)
    query = (facets.get("sql") or {}).get("query")
    if query:
        statement = sc.QueryStatementClass(value=str(query), language=sc.QueryLanguageClass.SQL)
        p.once(jurn, sc.DataTransformLogicClass(transforms=[sc.DataTransformClass(queryStatement=statement)]))
    for owner in (facets.get("ownership") or {}).get("owners") or []:
        if isinstance(owner, dict) and owner.get("name"):
            name = str(owner["name"])
            urn = name if name.startswith("urn:li:") else f"urn:li:corpuser:{name.removeprefix('user:')}"
            p.items.append(("owner", jurn, urn, "TECHNICAL_OWNER"))
    return jurn


def _schema(p: Proposals, urn: str, name: str, fields: list[Any]) -> None:
    sc = dh().sc
    platform = urn.split(",", 1)[0].removeprefix("urn:li:dataset:(")
    short = platform.removeprefix("urn:li:dataPlatform:")
    stamp = sc.AuditStampClass(time=0, actor="urn:li:corpuser:unknown")
    schema = sc.SchemaMetadataClass(
        schemaName=name,
        platform=platform,
        version=0,
        hash="",
        platformSchema=sc.OtherSchemaClass(rawSchema=""),
        fields=[
            sc.SchemaFieldClass(
                fieldPath=str(f["name"]),
                type=field_type(str(f.get("type") or "unknown"), short),
                nativeDataType=str(f.get("type") or "unknown"),
                description=str(f["description"]) if f.get("description") else None,
                nullable=False,
                recursive=False,
                isPartOfKey=False,
            )
            for f in fields
            if isinstance(f, dict) and f.get("name")
        ],
        created=stamp,
        lastModified=stamp,
    )
    p.once(urn, schema)


def _upstreams(out: Mapping[str, Any], inputs: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The inputs ``out`` is made from: its edges' inputs (column lineage, dataset entries, flowscope's
    facet, INDIRECT ones included), else every input of the job."""
    facets = out.get("facets") or {}
    found: dict[tuple[str, str], None] = {}
    lineage = facets.get("columnLineage") or {}
    for spec in (lineage.get("fields") or {}).values():
        for inf in spec.get("inputFields") or []:
            found[(inf["namespace"], inf["name"])] = None
    for inf in lineage.get("dataset") or []:
        found[(inf["namespace"], inf["name"])] = None
    for e in (facets.get("flowscope") or {}).get("edges") or []:
        i = e.get("input") or {}
        if i.get("namespace") and i.get("name"):
            found[(i["namespace"], i["name"])] = None
    return list(found) or [(i["namespace"], i["name"]) for i in inputs]


def convert_into(p: Proposals, event: Mapping[str, Any], naming: Naming = DEFAULT_NAMING) -> None:
    """Add the proposals of one OpenLineage event (job, datasets, lineage, schema, tags) to ``p``."""
    from flowscope_emitters.datahub_ml import MLEntities

    inputs = list(event.get("inputs") or [])
    outputs = list(event.get("outputs") or [])
    ml = MLEntities(naming)
    job = event.get("job") or {}
    jurn = _job(p, job, naming) if job and (inputs or outputs) else None
    plain_in = [d for d in inputs if not _is_ml(d["namespace"])]
    plain_out = [d for d in outputs if not _is_ml(d["namespace"])]
    urns = {
        (d["namespace"], d["name"]): naming.dataset_urn(d["namespace"], d["name"])
        for d in plain_in + plain_out
    }
    _platform_info(p, urns.values())
    if jurn is not None:
        p.items.extend(("job_in", jurn, urns[(d["namespace"], d["name"])]) for d in plain_in)
        p.items.extend(("job_out", jurn, urns[(d["namespace"], d["name"])]) for d in plain_out)
    for d in plain_in + plain_out:
        facets = d.get("facets") or {}
        urn = urns[(d["namespace"], d["name"])]
        fields = (facets.get("schema") or {}).get("fields") or []
        if fields:
            _schema(p, urn, d["name"], fields)
        description = (facets.get("documentation") or {}).get("description")
        if description:
            p.items.append(("description", urn, str(description)))
        for tag in (facets.get("tags") or {}).get("tags") or []:
            tag_urn = f"urn:li:tag:{tag_name(tag)}"
            item = (
                ("field_tag", urn, str(tag["field"]), tag_urn) if tag.get("field") else ("tag", urn, tag_urn)
            )
            p.items.append(item)
        if d not in plain_out:
            continue
        for ns, name in _upstreams(d, inputs):
            if not _is_ml(ns):
                p.items.append(("upstream", urn, urns.get((ns, name)) or naming.dataset_urn(ns, name)))
        conf = _confidences(facets)
        for out_field, spec in ((facets.get("columnLineage") or {}).get("fields") or {}).items():
            down = field_urn(urn, out_field)
            for inf in spec.get("inputFields") or []:
                if _is_ml(inf["namespace"]):
                    continue
                up = urns.get((inf["namespace"], inf["name"])) or naming.dataset_urn(
                    inf["namespace"], inf["name"]
                )
                key = (inf["namespace"], inf["name"], inf.get("field") or "", out_field)
                operation = ",".join(
                    f"{t.get('type')}/{t.get('subtype')}" for t in inf.get("transformations") or []
                )
                p.items.append(
                    ("fgl", urn, operation, down, field_urn(up, str(inf["field"])), repr(conf.get(key, 1.0)))
                )
    if jurn is not None:
        ml.add(p, jurn, inputs, outputs, urns)


def convert(event: Mapping[str, Any], naming: Naming = DEFAULT_NAMING) -> list[Any]:
    """The proposals of one event (the GMS sender sends them as one batch)."""
    p = Proposals()
    convert_into(p, event, naming)
    return p.mcps()


def convert_all(events: Iterable[Mapping[str, Any]], naming: Naming = DEFAULT_NAMING) -> Proposals:
    require_datahub()
    p = Proposals()
    for event in events:
        convert_into(p, event, naming)
    return p


def write_file(mcps: Iterable[Any], path: Path) -> int:
    """A JSON array of proposals, the format of ``datahub ingest``'s ``file`` source."""
    objs = [m.to_obj() for m in mcps]
    private.write_text(
        path, json.dumps(objs, indent=1)
    )  # 0600 like -o and --to file: lineage of personal data
    return len(objs)
