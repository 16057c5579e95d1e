"""Marquez beyond the lineage endpoint: tags for zones and sensitivity, and a reader of lineage neighbourhoods.

Events go to ``POST /api/v1/lineage`` through openlineage-python's HTTP transport
(:class:`~flowscope_emitters.senders.HttpSender`). Marquez keeps column lineage only for fields present in
the ``schema`` facets of both the input and the output; :func:`schema_gaps` checks that before sending.
Tags use Marquez's own API (paths from its OpenAPI spec): ``PUT /tags/{tag}`` creates a tag,
``POST /namespaces/{ns}/datasets/{ds}/tags/{tag}`` and ``.../fields/{field}/tags/{tag}`` attach it.

The reader turns ``GET /lineage`` (datasets and jobs) and ``GET /column-lineage`` (fields) into declared
signals of the collector ``marquez``, merged by core like any other, so ``flowscope lineage`` answers over
a Marquez that other producers filled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from flowscope.errors import UserError
from flowscope.merge import merge_signals
from flowscope.model import Asset, AssetInfo, Edge, Evidence, Job, Signal
from flowscope_emitters import olconfig
from flowscope_emitters.failures import public_url

COLLECTOR = "marquez"
TAG_DESCRIPTION = "set by flowscope"
TAGS_TARGET = "marquez-tags"  # the spool's name for tag calls (replayed after the events)


class ApiError(UserError):
    """A failed Marquez call; ``status`` is the HTTP status, 0 when the server was not reached."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def tag_name(key: str, value: str) -> str:
    """flowscope's ``key=value`` tag as one Marquez tag name; a bare tag (``pii=true``) keeps its key."""
    return key if value in ("", "true") else f"{key}:{value}"


def schema_gaps(event: Mapping[str, Any]) -> list[str]:
    """Fields used by column lineage but missing from a schema facet: Marquez would drop those edges."""
    schemas: dict[tuple[str, str], set[str]] = {}
    for ds in [*event.get("inputs", []), *event.get("outputs", [])]:
        fields = ((ds.get("facets") or {}).get("schema") or {}).get("fields") or []
        schemas.setdefault((ds["namespace"], ds["name"]), set()).update(f.get("name") for f in fields)
    gaps: list[str] = []
    for out in event.get("outputs", []):
        lineage = (out.get("facets") or {}).get("columnLineage") or {}
        for name, spec in (lineage.get("fields") or {}).items():
            if name not in schemas.get((out["namespace"], out["name"]), set()):
                gaps.append(f"output {out['namespace']}:{out['name']}.{name}")
            for inf in spec.get("inputFields") or []:
                key = (inf["namespace"], inf["name"])
                if key not in schemas or inf.get("field") not in schemas[key]:
                    gaps.append(f"input {key[0]}:{key[1]}.{inf.get('field')}")
    return sorted(set(gaps))


def tag_operations(events: Iterable[Mapping[str, Any]]) -> list[tuple[str, str | None, str]]:
    """(namespace/dataset path, field or None, tag) for every tag in the events' ``tags`` facets."""
    ops: dict[tuple[str, str | None, str], None] = {}
    for event in events:
        for ds in [*event.get("inputs", []), *event.get("outputs", [])]:
            for tag in ((ds.get("facets") or {}).get("tags") or {}).get("tags") or []:
                path = f"namespaces/{_seg(ds['namespace'])}/datasets/{_seg(ds['name'])}"
                ops[(path, tag.get("field") or None, tag_name(tag["key"], str(tag.get("value", ""))))] = None
    return list(ops)


def _seg(value: str) -> str:
    """One URL path segment. ``.`` and ``..`` are names like any other: percent-encoded, they never act as
    dot segments (``/datasets/../tags/pii`` would be ``/tags/pii``)."""
    out = quote(value, safe="")
    return out.replace(".", "%2E") if out in (".", "..") else out


class MarquezApi:
    """A small client of the Marquez REST API at ``<url>/api/v1``; every failure is one-line UserError."""

    def __init__(self, url: str, timeout: float = 10.0, api_key: str | None = None) -> None:
        import requests

        self.url = url.rstrip("/")
        self.timeout = timeout
        key = api_key if api_key is not None else olconfig.api_key()
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def call(self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        import requests

        where = f"{method} {public_url(self.url)}/api/v1/{path}"
        url = f"{self.url}/api/v1/{path}"
        try:
            # requests re-quotes a URL and decodes %2E back to '.', which makes a dataset named '..' a dot
            # segment: the path is put back exactly as built, after requests added the query.
            prepared = self.session.prepare_request(requests.Request(method, url, params=params, json=body))
            sent = urlunsplit(urlsplit(str(prepared.url))._replace(path=urlsplit(url).path))
            prepared.url = sent
            settings = self.session.merge_environment_settings(sent, {}, None, None, None)
            resp = self.session.send(prepared, timeout=self.timeout, **settings)
        except requests.RequestException as exc:
            reason = "timed out" if isinstance(exc, requests.Timeout) else type(exc).__name__
            raise ApiError(f"marquez: {where}: cannot reach the server ({reason})") from None
        if resp.status_code >= 400:
            raise ApiError(
                f"marquez: {where} answered HTTP {resp.status_code} {resp.reason or ''}".rstrip(),
                resp.status_code,
            )
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise UserError(f"marquez: {where}: malformed response (not JSON)") from None

    def close(self) -> None:
        self.session.close()


def tag_records(ops: Iterable[tuple[str, str | None, str]]) -> list[dict[str, Any]]:
    """Tag operations as spool records (what :class:`TagSender` sends)."""
    return [{"path": path, "field": field, "tag": tag} for path, field, tag in ops]


class TagSender:
    """Sets one tag per call (creating it first, once) for :func:`~flowscope_emitters.delivery.deliver`,
    so failed tag calls are retried, spooled and replayed like events."""

    to = TAGS_TARGET
    unit = "tag"

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.target = url
        self.api = MarquezApi(url, timeout=timeout)
        self._created: set[str] = set()

    @staticmethod
    def label(record: Mapping[str, Any]) -> str:
        field = f" field {record['field']}" if record.get("field") else ""
        return f"{record.get('tag')} on {record.get('path')}{field}"

    def send(self, record: Mapping[str, Any]) -> None:
        from flowscope_emitters.delivery import Rejected, http_failure

        tag, path, field = str(record["tag"]), str(record["path"]), record.get("field")
        try:
            if tag not in self._created:
                self.api.call("PUT", f"tags/{_seg(tag)}", body={"description": TAG_DESCRIPTION})
                self._created.add(tag)
            where = f"{path}/fields/{_seg(str(field))}" if field else path
            self.api.call("POST", f"{where}/tags/{_seg(tag)}")
        except ApiError as exc:
            if exc.status == 404 and "/datasets/" in str(exc):  # that dataset is unknown, not the target
                raise Rejected(str(exc)) from None
            raise http_failure(exc.status, str(exc)) from None

    def close(self) -> None:
        self.api.close()


def pull(api: MarquezApi, node_id: str, depth: int) -> tuple[list[Edge], list[AssetInfo]]:
    """The neighbourhood of ``node_id`` (``dataset:ns:name``, ``job:ns:name``) as merged edges and infos."""
    params = {"nodeId": node_id, "depth": depth}
    graph = _nodes(api.call("GET", "lineage", params), "GET /lineage")
    columns = _nodes(
        api.call("GET", "column-lineage", {**params, "withDownstream": "true"}), "GET /column-lineage"
    )
    evidence = (Evidence(COLLECTOR, "declared", public_url(api.url), detail=(("nodeId", node_id),)),)
    datasets: dict[str, Asset] = {}
    jobs: dict[str, Job] = {}
    infos: list[AssetInfo] = []
    for node in graph:
        data = node.get("data") or {}
        try:
            if node.get("type") == "DATASET":
                asset = Asset(str(data["namespace"]), str(data["name"]))
                datasets[node["id"]] = asset
                infos.extend(_dataset_infos(asset, data))
            elif node.get("type") == "JOB":
                jobs[node["id"]] = Job(str(data["namespace"]), str(data["name"]))
        except (KeyError, TypeError, ValueError):
            raise UserError(f"marquez: GET /lineage: malformed node {node.get('id')!r}") from None
    signals: list[tuple[str, Signal]] = []
    writer: dict[Asset, Job] = {}
    for node_key, job in jobs.items():
        node = next(n for n in graph if n.get("id") == node_key)
        ins = [datasets[e["origin"]] for e in node.get("inEdges") or [] if e.get("origin") in datasets]
        outs = [
            datasets[e["destination"]] for e in node.get("outEdges") or [] if e.get("destination") in datasets
        ]
        for target in outs:
            writer.setdefault(target, job)
            for source in ins:
                signals.append((COLLECTOR, Signal("declared", job, source, target, evidence=evidence)))
    for node in columns:
        signals.extend((COLLECTOR, s) for s in _field_signals(node, writer, evidence))
    return merge_signals(signals), infos


def _nodes(doc: Any, where: str) -> list[dict[str, Any]]:
    graph = doc.get("graph") if isinstance(doc, dict) else None
    if not isinstance(graph, list) or not all(isinstance(n, dict) and "id" in n for n in graph):
        raise UserError(f"marquez: {where}: malformed response (expected {{'graph': [nodes with an id]}})")
    return graph


def _dataset_infos(asset: Asset, data: Mapping[str, Any]) -> Iterator[AssetInfo]:
    fields = [(str(f["name"]), str(f.get("type") or "")) for f in data.get("fields") or [] if "name" in f]
    yield AssetInfo(asset, tuple(fields), tuple(str(t) for t in data.get("tags") or []))
    for f in data.get("fields") or []:
        if f.get("tags"):
            yield AssetInfo(asset.with_field(str(f["name"])), tags=tuple(str(t) for t in f["tags"]))


def _field_signals(
    node: Mapping[str, Any], writer: Mapping[Asset, Job], evidence: tuple[Evidence, ...]
) -> Iterator[Signal]:
    """Marquez answers column lineage with DATASET_FIELD nodes whose data lists ``inputFields``."""
    data = node.get("data") or {}
    if node.get("type") != "DATASET_FIELD" or not data.get("inputFields"):
        return
    try:
        target = Asset(str(data["namespace"]), str(data["dataset"]), str(data["field"]))
        job = writer.get(target.dataset) or Job(target.namespace, f"{target.name} (marquez)")
        for inf in data["inputFields"]:
            source = Asset(str(inf["namespace"]), str(inf["dataset"]), str(inf["field"]))
            yield Signal("declared", job, source, target, evidence=evidence)
    except (KeyError, TypeError, ValueError):
        raise UserError(f"marquez: GET /column-lineage: malformed node {node.get('id')!r}") from None
