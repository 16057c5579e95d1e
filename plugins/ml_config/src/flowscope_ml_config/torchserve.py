"""TorchServe: workflow specs (``models:`` + ``dag:``) and per-model ``model-config.yaml``.

In a workflow each model is served from its archive (``url``, a ``.mar`` in the model store) at
``/predictions/<model>``; the DAG passes each node's output to the next, so a model whose output reaches
another model (directly or through function nodes) feeds it. A ``model-config.yaml`` tunes a handler but
does not name the endpoint (the archive does), so it is recognised and gives no flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowscope import naming
from flowscope.model import Asset, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.source import Doc, KeyPath, dotted, items, text_of

INFER = Transformation("DIRECT", "TRANSFORMATION")
_FRONTEND = ("minWorkers", "maxWorkers", "batchSize", "maxBatchDelay", "responseTimeout", "deviceType",
             "parallelType", "torchrun", "deviceIds")  # fmt: skip


def is_workflow(data: Any) -> bool:
    return (
        isinstance(data, Mapping)
        and isinstance(data.get("models"), Mapping)
        and isinstance(data.get("dag"), Mapping)
        and any(isinstance(v, Mapping) and "url" in v for v in data["models"].values())
    )


def is_model_config(data: Any) -> bool:
    return (
        isinstance(data, Mapping)
        and isinstance(data.get("handler"), Mapping)
        and any(k in data for k in _FRONTEND)
    )


def service(model: str) -> Asset:
    return naming.service(model, f"/predictions/{model}")


def parse_workflow(doc: Doc, rel: str, scope: Scope, found: Found) -> None:
    models = {
        str(k): v for k, v in doc.data["models"].items() if isinstance(v, Mapping) and text_of(v.get("url"))
    }
    for name, spec in models.items():
        path: KeyPath = ("models", name, "url")
        archive = guarded(found, doc.line(path), lambda s=spec: scope.names.file(str(s["url"])))  # type: ignore[misc]
        if archive is not None:
            job = Job(service(name).namespace, "load", job_type="SERVING", source=SourceLocation(rel))
            found.add(
                Link(job, archive, service(name), dotted(path), doc.line(path), f"url: {spec['url']}", INFER)
            )
    dag: dict[str, list[str]] = {}
    for node, nxt in items(doc.data["dag"]):
        dag[str(node)] = [str(n) for _, n in items(nxt)]
    for name in models:
        seen, stack = {name}, list(dag.get(name, []))
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if node in models:
                path = ("dag", name)
                job = Job(
                    service(node).namespace, f"dag.{node}", job_type="SERVING", source=SourceLocation(rel)
                )
                found.add(
                    Link(
                        job,
                        service(name),
                        service(node),
                        dotted(path),
                        doc.line(path),
                        f"{name} -> {node}",
                        INFER,
                    )
                )
            else:
                stack += dag.get(node, [])
