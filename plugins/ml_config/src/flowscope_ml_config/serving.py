"""Serving configs: models -> inference services -> products.

A generic ``services:`` file (name, endpoint, handler, model(s), outputs, products); KServe, Seldon,
TorchServe and Triton have their own modules. A served model's inputs (its fields, learnt from training configs in the
same scan or listed under ``inputs``) flow to each of the endpoint's ``outputs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowscope import naming
from flowscope.model import Asset, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.source import Doc, KeyPath, dotted, items

INFER = Transformation("DIRECT", "TRANSFORMATION")
SERVICE_LISTS = ("services", "serving", "deployments", "endpoints")


def is_serving(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    for key in SERVICE_LISTS:
        entries = [v for _, v in items(data.get(key))] if isinstance(data.get(key), list | Mapping) else []
        if entries and all(isinstance(e, Mapping) and ("model" in e or "models" in e) for e in entries):
            return True
    return False


def parse_serving(doc: Doc, rel: str, scope: Scope, found: Found) -> None:
    data = doc.data
    key = next(k for k in SERVICE_LISTS if data.get(k))
    for i, entry in items(data[key]):
        name = str(entry.get("name") or i)
        _service(doc, (key, i), name, entry, rel, scope, found)


def _service(
    doc: Doc, at: KeyPath, name: str, entry: Mapping[str, Any], rel: str, scope: Scope, found: Found
) -> None:
    endpoint = str(entry.get("endpoint") or entry.get("path") or "/")
    service = naming.service(name, endpoint)
    handler = str(entry.get("handler") or f"serve.{name}")
    job = Job(
        service.namespace, handler, job_type="SERVING", processing_type="STREAMING",
        source=SourceLocation(rel), owner=_str(entry.get("owner")), description=_str(entry.get("description")),
    )  # fmt: skip
    outputs: list[str | None] = [str(o) for _, o in items(entry.get("outputs"))] or [None]
    models = [(("models", j), m) for j, m in items(entry.get("models"))] + (
        [(("model",), entry["model"])] if entry.get("model") is not None else []
    )
    if not models:
        found.problem(f"service {name}: no model", doc.line(at))
    for sub, ref in models:
        path = (*at, *sub)
        model = guarded(found, doc.line(path), lambda ref=ref: scope.names.model(ref))  # type: ignore[misc]
        if model is None:
            continue
        inputs = [str(x) for _, x in items(entry.get("inputs"))] or scope.model_fields.get(model.dataset, [])
        snippet = f"{dotted(path)}: {model.name}"
        for out in outputs:
            for src in [model.with_field(f) for f in inputs] or [model]:
                found.add(
                    Link(job, src, service.with_field(out), dotted(path), doc.line(path), snippet, INFER)
                )
    for j, product in items(entry.get("products")):
        _product(doc, (*at, "products", j), service, outputs, product, rel, found)


def _product(
    doc: Doc, at: KeyPath, service: Asset, outputs: list[str | None], product: Any, rel: str, found: Found
) -> None:
    if isinstance(product, str):
        product = {"name": product}
    if not isinstance(product, Mapping) or not product.get("name"):
        found.problem("products: expected a name or {name, surface}", doc.line(at))
        return
    pname = str(product["name"])
    surface = naming.service(pname, str(product.get("surface") or "/"))
    job = Job(
        surface.namespace,
        str(product.get("handler") or f"render{surface.name.replace('/', '.')}"),
        job_type="PRODUCT",
        processing_type="STREAMING",
        source=SourceLocation(rel),
    )
    for out in outputs:
        found.add(
            Link(job, service.with_field(out), surface, dotted(at), doc.line(at), f"product {pname}", INFER)
        )


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) else None
