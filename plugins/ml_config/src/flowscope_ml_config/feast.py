"""Feast: ``feature_store.yaml`` (which offline store names the sources) and feature views in Python.

A feature view is a materialization job from its batch source to the view; features are fields of the
view (``feature://<store>`` / view / feature). Field-level flows come from the source's ``field_mapping``
or, for ``query=`` sources, from the SELECT list (see :mod:`flowscope_ml_config.sqlselect`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowscope import naming
from flowscope.model import Asset, AssetInfo, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.pyfeast import (
    VIEW_CLASSES,
    ModuleLoader,
    PyCall,
    Selection,
    as_str,
    is_opaque,
    read_python,
    str_map,
)
from flowscope_ml_config.source import Doc, get
from flowscope_ml_config.sqlselect import parse_select

TABLE_SOURCES = (
    "SparkSource",
    "HiveSource",
    "TrinoSource",
    "PostgreSQLSource",
    "AthenaSource",
    "MsSqlServerSource",
)


def parse_store_yaml(doc: Doc, found: Found) -> dict[str, Any]:
    """``feature_store.yaml``: checked for the keys Feast requires; returns the offline store settings."""
    data = doc.data if isinstance(doc.data, Mapping) else {}
    for key in ("project", "registry", "provider"):
        if key not in data:
            found.problem(f"feature_store.yaml without {key!r}", 1)
    offline = data.get("offline_store")
    if isinstance(offline, str):
        offline = {"type": offline}
    return dict(offline) if isinstance(offline, Mapping) else {"type": "file"}


def source_asset(call: PyCall, scope: Scope, offline: Mapping[str, Any], found: Found) -> Asset | None:
    kw, names = call.kwargs, scope.names
    if call.kind in ("PushSource", "KafkaSource", "KinesisSource") and isinstance(
        kw.get("batch_source"), PyCall
    ):
        if call.kind == "KafkaSource" and as_str(kw.get("topic")):
            servers = as_str(kw.get("kafka_bootstrap_servers")) or naming.DEFAULT_SYSTEM
            return naming.kafka(str(kw["topic"]), servers.split(",")[0])
        return source_asset(kw["batch_source"], scope, offline, found)
    table = as_str(kw.get("table"))
    query = as_str(kw.get("query"))
    if query and not table:
        select = parse_select(query)
        table = select.tables[0] if select and select.tables else None
    if call.kind == "BigQuerySource" and table:
        return Asset("bigquery", table.replace(":", "."))
    if call.kind == "SnowflakeSource" and table:
        account = str(offline.get("account") or naming.DEFAULT_SYSTEM)
        parts = [as_str(kw.get("database")) or offline.get("database"), as_str(kw.get("schema")), table]
        return Asset(f"snowflake://{account}", ".".join(str(p) for p in parts if p))
    if call.kind == "RedshiftSource" and table:
        host = f"{offline.get('cluster_id', naming.DEFAULT_SYSTEM)}.{offline.get('region', 'us-east-1')}:5439"
        schema = as_str(kw.get("schema")) or "public"
        return Asset(
            f"redshift://{host}", f"{as_str(kw.get('database')) or offline.get('database')}.{schema}.{table}"
        )
    if call.kind == "PostgreSQLSource" and table:
        ns = f"postgres://{offline.get('host', 'localhost')}:{offline.get('port', 5432)}"
        return Asset(ns, f"{offline.get('database', 'postgres')}.{table}")
    if call.kind == "FileSource" and as_str(kw.get("path")):
        return guarded(found, call.line, lambda: names.dataset(kw["path"]))
    if table:
        return guarded(found, call.line, lambda: names.table(table))
    found.problem(f"{call.kind}: no table, query or path written as a literal; source left out", call.line)
    return None


def _columns(call: PyCall) -> dict[str, tuple[tuple[str, ...], str]]:
    """Feature name -> (source columns, transformation subtype) for a source."""
    if isinstance(call.kwargs.get("batch_source"), PyCall):
        return _columns(call.kwargs["batch_source"])
    out: dict[str, tuple[tuple[str, ...], str]] = {}
    query = as_str(call.kwargs.get("query"))
    select = parse_select(query) if query else None
    if select:
        out = {c.name: (c.sources, c.kind) for c in select.columns}
    for src, dst in str_map(call.kwargs.get("field_mapping")).items():
        out[dst] = ((src,), "IDENTITY")
    return out


def _tags(value: Any) -> tuple[str, ...]:
    return tuple(k if v in ("", "true") else f"{k}:{v}" for k, v in str_map(value).items())


def _fields(value: Any) -> list[PyCall]:
    return [
        f for f in (value if isinstance(value, list) else []) if isinstance(f, PyCall) and f.kind == "Field"
    ]


def parse_python(
    text: str, rel: str, scope: Scope, store_doc: Doc | None, found: Found, load: ModuleLoader | None = None
) -> None:
    try:
        repo = read_python(text, load)
    except ValueError as exc:
        found.problem(str(exc), None)
        return
    offline = parse_store_yaml(store_doc, Found("feast")) if store_doc else {"type": "file"}
    for call in repo.calls:
        if call.kind in VIEW_CLASSES or call.kind == "on_demand_feature_view":
            _view(call, rel, scope, offline, found)
        elif call.kind == "FeatureService":
            _service(call, scope, found)


def _view(call: PyCall, rel: str, scope: Scope, offline: Mapping[str, Any], found: Found) -> None:
    name = as_str(call.kwargs.get("name"))
    if not name:
        found.problem(f"{call.kind} without a literal name; left out", call.line)
        return
    store = scope.names.feature_store
    view = naming.feature(name, store=store)
    owner = as_str(call.kwargs.get("owner"))
    description = as_str(call.kwargs.get("description")) or ""
    job = Job(
        view.namespace,
        f"materialize.{name}",
        job_type="FEATURE_MATERIALIZATION",
        source=SourceLocation(rel),
        description=description or None,
        owner=owner,
    )
    keys = [
        str(k)
        for e in (call.kwargs.get("entities") or [])
        if isinstance(e, PyCall)
        for k in (e.kwargs.get("join_keys") or [as_str(e.kwargs.get("name")) or ""])
        if k
    ]
    schema = _fields(call.kwargs.get("schema"))
    field_names = [str(f.kwargs.get("name")) for f in schema if as_str(f.kwargs.get("name"))]
    for k in keys:
        if k not in field_names:
            field_names.insert(0, k)
    scope.feature_views[name] = field_names
    types = {str(f.kwargs.get("name")): str(f.kwargs.get("dtype", "")) for f in schema}
    found.infos.append(
        AssetInfo(
            view,
            tuple((f, types.get(f, "")) for f in field_names),
            _tags(call.kwargs.get("tags")),
            description,
        )
    )
    for f in schema:
        tags = _tags(f.kwargs.get("tags"))
        if tags or as_str(f.kwargs.get("description")):
            found.infos.append(
                AssetInfo(
                    view.with_field(str(f.kwargs.get("name"))),
                    (),
                    tags,
                    as_str(f.kwargs.get("description")) or "",
                )
            )
    snippet = f"{call.kind}(name={name!r})"
    if call.kind == "on_demand_feature_view":
        job = Job(
            view.namespace, f"transform.{name}", job_type="FEATURE_TRANSFORMATION", source=SourceLocation(rel)
        )
        for src in call.kwargs.get("sources") or []:
            src_name = as_str(src.kwargs.get("name")) if isinstance(src, PyCall) else None
            if src_name and isinstance(src, PyCall) and src.kind in VIEW_CLASSES:
                for out_name in field_names:
                    t = Transformation("DIRECT", "TRANSFORMATION")
                    found.add(
                        Link(
                            job,
                            naming.feature(src_name, store=store),
                            view.with_field(out_name),
                            "sources",
                            call.line,
                            snippet,
                            t,
                        )
                    )
        return
    source = call.kwargs.get("source") or call.kwargs.get("batch_source")
    if not isinstance(source, PyCall):
        what = getattr(source, "code", "missing") if is_opaque(source) else "missing"
        found.problem(
            f"{name}: source {what} is not a Feast source defined in this file; lineage left out", call.line
        )
        return
    table = source_asset(source, scope, offline, found)
    if table is None:
        return
    columns = _columns(source)
    if not field_names:
        found.add(Link(job, table, view, "source", call.line, snippet))
        return
    for feat in field_names:
        cols, kind = columns.get(feat, ((feat,), "IDENTITY"))
        t = Transformation("DIRECT", kind)
        line = next((x.line for x in schema if x.kwargs.get("name") == feat), call.line)
        for col in cols:
            link = Link(
                job, table.with_field(col), view.with_field(feat), "schema", line, f"Field(name={feat!r})", t
            )
            found.add(link)


def _service(call: PyCall, scope: Scope, found: Found) -> None:
    name = as_str(call.kwargs.get("name"))
    refs: list[str] = []
    for item in call.kwargs.get("features") or []:
        view = item.view if isinstance(item, Selection) else item
        if not isinstance(view, PyCall) or not as_str(view.kwargs.get("name")):
            found.problem(
                f"FeatureService {name}: a feature view that is not defined in this file", call.line
            )
            continue
        vname = str(view.kwargs["name"])
        feats = list(item.features) if isinstance(item, Selection) else scope.feature_views.get(vname, [])
        refs += [f"{vname}:{f}" for f in feats]
    if name:
        scope.feature_services[name] = refs


def store_of(doc: Doc) -> str | None:
    return as_str(get(doc.data, "project"))
