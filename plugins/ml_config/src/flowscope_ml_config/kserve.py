"""KServe manifests, every document of a file: InferenceService, InferenceGraph, TrainedModel and
LLMInferenceService.

An InferenceService serves the model at each ``storageUri`` (or ``storage`` spec) of its predictor,
transformer and explainer (v1beta1, and v1alpha2's ``spec.default``); the predictor's ``logger.url``
receives its requests and responses. A TrainedModel adds a model to an InferenceService; an
LLMInferenceService serves ``spec.model.uri`` and its LoRA adapters; an InferenceGraph's steps are
services whose responses make the graph's. Container command lines are the program's business and are
not read. A model the scan trained (a registered ``models:/`` URI, or ``metadata.labels.model``) keeps
its fields, so feature lineage runs on into the endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowscope import naming
from flowscope.model import Asset, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.refs import hf_model
from flowscope_ml_config.source import Doc, KeyPath, dotted, get, items, text_of

INFER = Transformation("DIRECT", "TRANSFORMATION")
KINDS = ("InferenceService", "InferenceGraph", "TrainedModel", "LLMInferenceService")
_COMPONENTS = ("predictor", "transformer", "explainer")


def is_kserve(data: Any) -> bool:
    return isinstance(data, Mapping) and data.get("kind") in KINDS and _api(data)


def _api(data: Mapping[str, Any]) -> bool:
    api = str(data.get("apiVersion") or "")
    return not api or any(w in api for w in ("kserve", "kfserving", "kubeflow"))


def endpoint(name: str, protocol: str = "v1", verb: str = "predict") -> Asset:
    path = f"/v2/models/{name}/infer" if protocol == "v2" else f"/v1/models/{name}:{verb}"
    return naming.service(name, path)


def parse_kserve(doc: Doc, rel: str, scope: Scope, found: Found) -> None:
    data = doc.data
    name = text_of(get(data, "metadata", "name"))
    if not name:
        found.problem(f"{data.get('kind')} without metadata.name", doc.line(("metadata",)))
        return
    kind = data["kind"]
    if kind == "InferenceService":
        _isvc(doc, name, rel, scope, found)
    elif kind == "InferenceGraph":
        _graph(doc, name, rel, scope, found)
    elif kind == "TrainedModel":
        _trained(doc, name, rel, scope, found)
    else:
        _llm(doc, name, rel, scope, found)


def _job(service: Asset, rel: str, name: str = "predict") -> Job:
    return Job(
        service.namespace, name, job_type="SERVING", processing_type="STREAMING", source=SourceLocation(rel)
    )


def _storage(node: Mapping[str, Any], at: KeyPath) -> list[tuple[KeyPath, Any]]:
    """Where a component's model lives: ``storageUri``, a ``storage`` spec, in the node or in its model
    or framework block (``sklearn:``, ``model:``, ...)."""
    out: list[tuple[KeyPath, Any]] = []
    for path, block in [(at, node)] + [((*at, str(k)), v) for k, v in node.items() if isinstance(v, Mapping)]:
        uri = text_of(block.get("storageUri"))
        if uri:
            out.append(((*path, "storageUri"), uri))
        storage = block.get("storage")
        if isinstance(storage, Mapping):
            bucket = text_of(get(storage, "parameters", "bucket"))
            where = text_of(storage.get("path"))
            if text_of(storage.get("storageUri")):
                out.append(((*path, "storage", "storageUri"), storage["storageUri"]))
            elif bucket:
                kind = text_of(get(storage, "parameters", "type")) or "s3"
                out.append(((*path, "storage"), f"{kind}://{bucket}/{where or ''}"))
    return out


def _model_asset(uri: str, labels: Any, scope: Scope) -> Asset | None:
    names = scope.names
    if uri.startswith("models:/"):
        return names.model(uri)
    registered = labels.get("model") if isinstance(labels, Mapping) else None
    if registered:
        return names.model(str(registered), labels.get("model-version"))
    if uri.startswith("hf://"):
        return hf_model(names.clean(uri.removeprefix("hf://")))
    return names.dataset(uri)


def _isvc(doc: Doc, name: str, rel: str, scope: Scope, found: Found) -> None:
    data = doc.data
    spec = get(data, "spec")
    roots: list[tuple[KeyPath, Any]] = [(("spec",), spec)]
    if isinstance(spec, Mapping):
        roots += [(("spec", k), spec[k]) for k in ("default", "canary") if isinstance(spec.get(k), Mapping)]
    labels = get(data, "metadata", "labels")
    for at, holder in roots:
        for comp in _COMPONENTS:
            node = get(holder, comp)
            if not isinstance(node, Mapping):
                continue
            cpath = (*at, comp)
            protocol = next((str(v["protocolVersion"]) for v in [node, *node.values()]
                             if isinstance(v, Mapping) and v.get("protocolVersion")), "v1")  # fmt: skip
            service = endpoint(name, protocol, "explain" if comp == "explainer" else "predict")
            scope.services.setdefault(name, service)
            for path, uri in _storage(node, cpath):
                model = guarded(found, doc.line(path), lambda u=uri: _model_asset(str(u), labels, scope))  # type: ignore[misc]
                if model is None:
                    continue
                fields = scope.model_fields.get(model.dataset, []) if comp == "predictor" else []
                for src in [model.with_field(f) for f in fields] or [model]:
                    found.add(
                        Link(
                            _job(service, rel),
                            src,
                            service,
                            dotted(path),
                            doc.line(path),
                            f"storageUri: {uri}",
                            INFER,
                        )
                    )
            logger = text_of(get(node, "logger", "url"))
            if logger and comp == "predictor":
                path = (*cpath, "logger", "url")
                sink = guarded(found, doc.line(path), lambda u=logger: scope.names.dataset(u))  # type: ignore[misc]
                if sink is not None:
                    found.add(
                        Link(
                            _job(service, rel, "log"),
                            service,
                            sink,
                            dotted(path),
                            doc.line(path),
                            f"logger: {logger}",
                            INFER,
                        )
                    )


def _trained(doc: Doc, name: str, rel: str, scope: Scope, found: Found) -> None:
    isvc = text_of(get(doc.data, "spec", "inferenceService"))
    uri = text_of(get(doc.data, "spec", "model", "storageUri"))
    path: KeyPath = ("spec", "model", "storageUri")
    if not isvc or not uri:
        found.problem(
            "TrainedModel without spec.inferenceService or spec.model.storageUri", doc.line(("spec",))
        )
        return
    service = naming.service(isvc, f"/v1/models/{name}:predict")
    model = guarded(
        found, doc.line(path), lambda: _model_asset(uri, get(doc.data, "metadata", "labels"), scope)
    )
    if model is not None:
        found.add(
            Link(
                _job(service, rel), model, service, dotted(path), doc.line(path), f"storageUri: {uri}", INFER
            )
        )


def _llm(doc: Doc, name: str, rel: str, scope: Scope, found: Found) -> None:
    service = naming.service(name, "/v1/completions")
    refs: list[tuple[KeyPath, str]] = []
    uri = text_of(get(doc.data, "spec", "model", "uri"))
    if uri:
        refs.append((("spec", "model", "uri"), uri))
    for i, adapter in items(get(doc.data, "spec", "model", "lora", "adapters")):
        if isinstance(adapter, Mapping) and text_of(adapter.get("uri")):
            refs.append((("spec", "model", "lora", "adapters", i, "uri"), str(adapter["uri"])))
    for path, ref in refs:
        model = guarded(found, doc.line(path), lambda r=ref: _model_asset(r, None, scope))  # type: ignore[misc]
        if model is not None:
            found.add(
                Link(_job(service, rel), model, service, dotted(path), doc.line(path), f"uri: {ref}", INFER)
            )


def _graph(doc: Doc, name: str, rel: str, scope: Scope, found: Found) -> None:
    graph = naming.service(name, "/")
    nodes = get(doc.data, "spec", "nodes")
    for node_name, node in items(nodes):
        for i, step in items(get(node, "steps")):
            if not isinstance(step, Mapping):
                continue
            path: KeyPath = ("spec", "nodes", node_name, "steps", i)
            target = text_of(step.get("serviceName"))
            url = text_of(step.get("serviceUrl"))
            if not target and url:  # http://<service>.<namespace>.<domain>/path
                host = url.split("://", 1)[-1].split("/", 1)[0]
                target = host.split(".", 1)[0] or None
            if not target:
                continue  # a step that calls another node of this graph
            service = scope.services.get(target) or endpoint(target)
            found.add(
                Link(
                    _job(graph, rel, "route"),
                    service,
                    graph,
                    dotted(path),
                    doc.line(path),
                    f"step: {target}",
                    INFER,
                )
            )
