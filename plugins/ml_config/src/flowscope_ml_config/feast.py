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
from flowscope_ml_config.refs import Unresolved
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


def source_assets(call: PyCall, scope: Scope, offline: Mapping[str, Any], found: Found) -> list[Asset]:
    """Every asset a source reads from: a push source itself and its batch source; a stream source's
    topic and its batch source; a table, query, or path."""
    kw = call.kwargs
    out: list[Asset] = []
    if call.kind == "PushSource" and as_str(kw.get("name")):
        out.append(naming.feature(str(kw["name"]), store=scope.names.feature_store))
    elif call.kind == "KafkaSource" and as_str(kw.get("topic")):
        servers = as_str(kw.get("kafka_bootstrap_servers")) or naming.DEFAULT_SYSTEM
        out.append(naming.kafka(str(kw["topic"]), servers.split(",")[0].strip()))
    elif call.kind == "KinesisSource" and as_str(kw.get("stream_name")):
        region = as_str(kw.get("region")) or naming.DEFAULT_SYSTEM
        out.append(Asset(f"kinesis://{region}", str(kw["stream_name"])))
    if call.kind in ("PushSource", "KafkaSource", "KinesisSource"):
        if isinstance(kw.get("batch_source"), PyCall):
            out += source_assets(kw["batch_source"], scope, offline, found)
        return out
    one = source_asset(call, scope, offline, found)
    return [one] if one is not None else []


def source_asset(call: PyCall, scope: Scope, offline: Mapping[str, Any], found: Found) -> Asset | None:
    kw, names = call.kwargs, scope.names
    table = as_str(kw.get("table"))
    query = as_str(kw.get("query"))
    if query and not table:
        select = parse_select(query)
        table = select.tables[0] if select and select.tables else None
    if table:
        try:
            table = names.clean(table)
        except Unresolved as exc:
            found.problem(str(exc), call.line)
            return None
    if call.kind == "BigQuerySource" and table:
        return Asset("bigquery", table.replace(":", "."))
    if call.kind == "SnowflakeSource" and table:
        account = str(offline.get("account") or naming.DEFAULT_SYSTEM)
        database = as_str(kw.get("database")) or offline.get("database")
        parts = [database, as_str(kw.get("schema")) or "PUBLIC", table]
        return Asset(f"snowflake://{account}", ".".join(str(p) for p in parts if p))
    if call.kind == "RedshiftSource" and table:
        host = f"{offline.get('cluster_id', naming.DEFAULT_SYSTEM)}.{offline.get('region', 'us-east-1')}:5439"
        schema = as_str(kw.get("schema")) or "public"
        return Asset(
            f"redshift://{host}", f"{as_str(kw.get('database')) or offline.get('database')}.{schema}.{table}"
        )
    if call.kind == "PostgreSQLSource" and table:
        ns = f"postgres://{offline.get('host', 'localhost')}:{offline.get('port', 5432)}"
        schema = offline.get("db_schema") or "public"
        return Asset(ns, f"{offline.get('database', 'postgres')}.{schema}.{table}")
    path = as_str(kw.get("path")) or as_str(kw.get("file_url"))
    if path:
        return guarded(found, call.line, lambda: names.dataset(path))
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
            _service(call, rel, scope, found)


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
        _on_demand(call, view, field_names, rel, scope, found)
        return
    source = call.kwargs.get("source") or call.kwargs.get("batch_source") or call.kwargs.get("stream_source")
    if not isinstance(source, PyCall):
        what = getattr(source, "code", "missing") if is_opaque(source) else "missing"
        found.problem(
            f"{name}: source {what} is not a Feast source defined in this file; lineage left out", call.line
        )
        return
    columns = _columns(source)
    for table in source_assets(source, scope, offline, found):
        if not field_names:
            found.add(Link(job, table, view, "source", call.line, snippet))
            continue
        for feat in field_names:
            cols, kind = columns.get(feat, ((feat,), "IDENTITY"))
            t = Transformation("DIRECT", kind)
            line = next((x.line for x in schema if x.kwargs.get("name") == feat), call.line)
            for col in cols:
                link = Link(
                    job,
                    table.with_field(col),
                    view.with_field(feat),
                    "schema",
                    line,
                    f"Field(name={feat!r})",
                    t,
                )
                found.add(link)


def _on_demand(
    call: PyCall, view: Asset, field_names: list[str], rel: str, scope: Scope, found: Found
) -> None:
    """An on-demand view computes its features from its sources: feature views (or projections of
    them) and request sources (fields sent with the request)."""
    store = scope.names.feature_store
    job = Job(
        view.namespace,
        f"transform.{view.name}",
        job_type="FEATURE_TRANSFORMATION",
        source=SourceLocation(rel),
    )
    t = Transformation("DIRECT", "TRANSFORMATION")
    for src in call.kwargs.get("sources") or []:
        src = src.view if isinstance(src, Selection) else src
        src_name = as_str(src.kwargs.get("name")) if isinstance(src, PyCall) else None
        if not src_name or not isinstance(src, PyCall):
            continue
        if src.kind in VIEW_CLASSES or src.kind in ("RequestSource", "on_demand_feature_view", "PushSource"):
            source = naming.feature(src_name, store=store)
            for out_name in field_names or [None]:  # type: ignore[list-item]
                target = view.with_field(out_name) if out_name else view
                found.add(
                    Link(job, source, target, "sources", call.line, f"{call.kind}(sources=[{src_name}])", t)
                )


def _service(call: PyCall, rel: str, scope: Scope, found: Found) -> None:
    """A FeatureService serves the features of its views (projections ``view[["a"]]`` keep only
    those); its logging config writes the served features to a destination."""
    name = as_str(call.kwargs.get("name"))
    store = scope.names.feature_store
    service = naming.feature(name, store=store) if name else None
    job = Job(service.namespace if service else "feature://" + store, f"serve.{name}", job_type="FEATURE_SERVICE",
              source=SourceLocation(rel))  # fmt: skip
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
        if service is None or vname == name:
            continue
        source = naming.feature(vname, store=store)
        for f in feats or [None]:  # type: ignore[list-item]
            found.add(Link(job, source.with_field(f) if f else source, service.with_field(f) if f else service,
                           "features", call.line, f"FeatureService(name={name!r}) <- {vname}"))  # fmt: skip
    if name:
        scope.feature_services[name] = refs
    logging = call.kwargs.get("logging_config")
    if (
        service is not None
        and isinstance(logging, PyCall)
        and isinstance(logging.kwargs.get("destination"), PyCall)
    ):
        dest = logging.kwargs["destination"]
        where = next((as_str(dest.kwargs.get(k)) for k in ("path", "table_ref", "table_name", "table")
                      if as_str(dest.kwargs.get(k))), None)  # fmt: skip
        if where:
            bigquery = dest.kind == "BigQueryLoggingDestination"
            sink = guarded(
                found, dest.line, lambda: Asset("bigquery", where) if bigquery else scope.names.dataset(where)
            )
            if sink is not None:
                log_job = Job(
                    service.namespace, f"log.{name}", job_type="FEATURE_LOGGING", source=SourceLocation(rel)
                )
                found.add(
                    Link(log_job, service, sink, "logging_config", dest.line, f"{dest.kind}({where!r})")
                )


def store_of(doc: Doc) -> str | None:
    return as_str(get(doc.data, "project"))
