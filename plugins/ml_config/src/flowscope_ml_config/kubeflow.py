"""Compiled Kubeflow pipelines (KFP v2 IR YAML, what ``kfp.compiler`` writes).

Each DAG task is a job. Its inputs are URI-valued parameters (constants or pipeline defaults) and the
artifacts of upstream tasks; its outputs are its own artifacts (named under ``defaultPipelineRoot``),
URI parameters named like outputs, and a registered model when a parameter names one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowscope import naming
from flowscope.model import Asset, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.source import Doc, KeyPath, dotted, get

STEP = Transformation("DIRECT", "TRANSFORMATION")
_OUT_WORDS = ("output", "dest", "export", "sink")


def is_kubeflow(data: Any) -> bool:
    return (
        isinstance(data, Mapping) and "pipelineInfo" in data and ("root" in data or "deploymentSpec" in data)
    )


def _uri_like(value: Any) -> bool:
    return isinstance(value, str) and ("://" in value or value.startswith("bigquery:"))


def parse_kubeflow(doc: Doc, rel: str, scope: Scope, found: Found) -> None:
    data = doc.data
    pipeline = str(get(data, "pipelineInfo", "name") or "pipeline")
    root = str(data.get("defaultPipelineRoot") or "").rstrip("/")
    defaults: dict[str, Any] = {}
    for pname, spec in (get(data, "root", "inputDefinitions", "parameters") or {}).items():
        if isinstance(spec, Mapping) and "defaultValue" in spec:
            defaults[str(pname)] = spec["defaultValue"]
    tasks = get(data, "root", "dag", "tasks")
    if not isinstance(tasks, Mapping):
        found.problem("Kubeflow pipeline without root.dag.tasks", doc.line(("root",)))
        return

    def artifact(task: str, key: str) -> Asset:
        if root:
            found_asset = scope.names.dataset(f"{root}/{pipeline}/{task}/{key}")
            if found_asset is not None:
                return found_asset
        return Asset("file", f"kfp/{pipeline}/{task}/{key}")

    for tname, task in tasks.items():
        if not isinstance(task, Mapping):
            continue
        at: KeyPath = ("root", "dag", "tasks", str(tname))
        job = Job(
            naming.job_namespace("ml_config"),
            f"{pipeline}.{tname}",
            job_type="PIPELINE_TASK",
            source=SourceLocation(rel),
        )
        inputs: list[tuple[KeyPath, Asset]] = []
        outputs: list[tuple[KeyPath, Asset]] = []
        for pname, spec in (get(task, "inputs", "parameters") or {}).items():
            ppath = (*at, "inputs", "parameters", str(pname))
            value = get(spec, "runtimeValue", "constant")
            if value is None and get(spec, "componentInputParameter") is not None:
                value = defaults.get(str(spec["componentInputParameter"]))
            lowered = str(pname).lower()
            if ("model_name" in lowered or "registered_model" in lowered) and isinstance(value, str):
                model = guarded(found, doc.line(ppath), lambda v=value: scope.names.model(v))  # type: ignore[misc]
                if model is not None:
                    outputs.append((ppath, model))
            elif _uri_like(value):
                ds = guarded(found, doc.line(ppath), lambda v=value: scope.names.dataset(v))  # type: ignore[misc]
                if ds is not None:
                    (outputs if any(w in lowered for w in _OUT_WORDS) else inputs).append((ppath, ds))
        for aname, spec in (get(task, "inputs", "artifacts") or {}).items():
            producer = get(spec, "taskOutputArtifact", "producerTask")
            key = get(spec, "taskOutputArtifact", "outputArtifactKey")
            if producer and key:
                inputs.append(((*at, "inputs", "artifacts", str(aname)), artifact(str(producer), str(key))))
        comp = get(task, "componentRef", "name")
        for key in get(data, "components", str(comp), "outputDefinitions", "artifacts") or {}:
            outputs.append(((*at, "componentRef"), artifact(str(tname), str(key))))
        for ipath, src in inputs:
            snippet = f"{tname}: {dotted(ipath[-2:])} = {src}"
            if not outputs:
                found.add(Link(job, src, None, dotted(ipath), doc.line(ipath), snippet, STEP))
            for _, dst in outputs:
                found.add(Link(job, src, dst, dotted(ipath), doc.line(ipath), snippet, STEP))
