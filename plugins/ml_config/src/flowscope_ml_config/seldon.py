"""Seldon manifests: Seldon Core 1 ``SeldonDeployment`` and Seldon Core 2 ``Model``, ``Pipeline`` and
``Experiment``.

A SeldonDeployment serves the model at the ``modelUri`` of every node of each predictor's graph (children
included) and of its explainer. In Seldon Core 2 a Model serves its ``storageUri`` (an explainer also
calls the model it explains); a Pipeline feeds each step from the steps it lists as ``inputs`` and
answers with its ``output`` steps; an Experiment splits traffic over its candidates. rclone-style URIs
(``s3:bucket/path``) are read as ``s3://bucket/path``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowscope import naming
from flowscope.model import Asset, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.refs import hf_model
from flowscope_ml_config.source import Doc, KeyPath, dotted, get, items, text_of, tick

INFER = Transformation("DIRECT", "TRANSFORMATION")
V2_KINDS = ("Model", "Pipeline", "Experiment")


def is_seldon(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    api = str(data.get("apiVersion") or "")
    kind = data.get("kind")
    return (kind == "SeldonDeployment" and "seldon" in api) or (kind in V2_KINDS and "mlops.seldon.io" in api)


def model_service(name: str) -> Asset:
    return naming.service(name, f"/v2/models/{name}/infer")


def pipeline_service(name: str) -> Asset:
    return naming.service(name, f"/v2/pipelines/{name}")


def _job(service: Asset, rel: str, name: str = "predict") -> Job:
    return Job(
        service.namespace, name, job_type="SERVING", processing_type="STREAMING", source=SourceLocation(rel)
    )


def _model(uri: str, scope: Scope) -> Asset | None:
    if uri.startswith("hf://"):
        return hf_model(scope.names.clean(uri.removeprefix("hf://")))
    if uri.startswith("models:/"):
        return scope.names.model(uri)
    return scope.names.dataset(uri)


def parse_seldon(doc: Doc, rel: str, scope: Scope, found: Found) -> None:
    data = doc.data
    name = text_of(get(data, "metadata", "name"))
    if not name:
        found.problem(f"{data.get('kind')} without metadata.name", doc.line(("metadata",)))
        return
    kind = data["kind"]
    if kind == "SeldonDeployment":
        _deployment(doc, name, rel, scope, found)
    elif kind == "Model":
        _v2_model(doc, name, rel, scope, found)
    elif kind == "Pipeline":
        _pipeline(doc, name, rel, found)
    else:
        _experiment(doc, name, rel, found)


def _link(found: Found, doc: Doc, job: Job, src: Asset, dst: Asset, path: KeyPath, snippet: str) -> None:
    found.add(Link(job, src, dst, dotted(path), doc.line(path), snippet, INFER))


def _deployment(doc: Doc, name: str, rel: str, scope: Scope, found: Found) -> None:
    protocol = str(get(doc.data, "spec", "protocol") or "seldon")
    path = f"/v2/models/{name}/infer" if protocol in ("v2", "kfserving") else "/api/v1.0/predictions"
    service = naming.service(name, path)
    job = _job(service, rel)
    for p, predictor in items(get(doc.data, "spec", "predictors")):
        if not isinstance(predictor, Mapping):
            continue
        nodes: list[tuple[KeyPath, Any]] = [(("spec", "predictors", p, "graph"), predictor.get("graph"))]
        explainer = predictor.get("explainer")
        if isinstance(explainer, Mapping):
            nodes.append((("spec", "predictors", p, "explainer"), explainer))
        while nodes:
            tick()
            at, node = nodes.pop()
            if not isinstance(node, Mapping):
                continue
            uri = text_of(node.get("modelUri"))
            if uri:
                model = guarded(found, doc.line((*at, "modelUri")), lambda u=uri: _model(u, scope))  # type: ignore[misc]
                if model is not None:
                    _link(found, doc, job, model, service, (*at, "modelUri"), f"modelUri: {uri}")
            nodes += [((*at, "children", i), child) for i, child in items(node.get("children"))]


def _v2_model(doc: Doc, name: str, rel: str, scope: Scope, found: Found) -> None:
    service = model_service(name)
    job = _job(service, rel)
    uri = text_of(get(doc.data, "spec", "storageUri"))
    if uri:
        path: KeyPath = ("spec", "storageUri")
        model = guarded(found, doc.line(path), lambda: _model(uri, scope))
        if model is not None:
            _link(found, doc, job, model, service, path, f"storageUri: {uri}")
    for key, make in (("modelRef", model_service), ("pipelineRef", pipeline_service)):
        ref = text_of(get(doc.data, "spec", "explainer", key))
        if ref:
            _link(
                found,
                doc,
                _job(service, rel, "explain"),
                make(ref),
                service,
                ("spec", "explainer", key),
                f"explains {ref}",
            )


def _step_name(ref: str) -> str:
    """``step``, ``step.outputs``, ``step.outputs.tensor`` -> ``step``; pipeline inputs are skipped."""
    return ref.split(".", 1)[0]


def _pipeline(doc: Doc, name: str, rel: str, found: Found) -> None:
    service = pipeline_service(name)
    steps = get(doc.data, "spec", "steps")
    for i, step in items(steps):
        if not isinstance(step, Mapping) or not text_of(step.get("name")):
            continue
        target = str(step["name"])
        job = Job(service.namespace, f"step.{target}", job_type="SERVING", processing_type="STREAMING",
                  source=SourceLocation(rel))  # fmt: skip
        for j, ref in items(step.get("inputs")):
            source = _step_name(str(ref))
            if source and source not in (name, "pipeline") and source != target:
                path: KeyPath = ("spec", "steps", i, "inputs", j)
                _link(
                    found, doc, job, model_service(source), model_service(target), path, f"{target} <- {ref}"
                )
    for j, ref in items(get(doc.data, "spec", "output", "steps")):
        source = _step_name(str(ref))
        if source:
            path = ("spec", "output", "steps", j)
            _link(
                found,
                doc,
                _job(service, rel, "output"),
                model_service(source),
                service,
                path,
                f"output {ref}",
            )


def _experiment(doc: Doc, name: str, rel: str, found: Found) -> None:
    pipelines = get(doc.data, "spec", "resourceType") == "pipeline"
    make = pipeline_service if pipelines else model_service
    service = naming.service(name, f"/v2/experiments/{name}")
    for i, cand in items(get(doc.data, "spec", "candidates")):
        target = text_of(cand.get("name")) if isinstance(cand, Mapping) else None
        if target:
            path: KeyPath = ("spec", "candidates", i)
            _link(found, doc, _job(service, rel, "route"), make(target), service, path, f"candidate {target}")
