"""One recognised file to flows: the parser of each format, called document by document."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from flowscope.contracts import CollectContext
from flowscope_ml_config import (
    dvc,
    feast,
    finetune,
    hydra,
    hydramodel,
    kserve,
    kubeflow,
    mlflow,
    seldon,
    serving,
    torchserve,
    training,
    triton,
)
from flowscope_ml_config.links import Found, Scope
from flowscope_ml_config.source import Doc, SkipFile, read_text

if TYPE_CHECKING:
    from flowscope_ml_config.collector import Input

DocParser = Callable[[Doc, str, Scope, Found], None]
PER_DOC: dict[str, DocParser] = {
    "kubeflow": kubeflow.parse_kubeflow,
    "serving": serving.parse_serving,
    "kserve": kserve.parse_kserve,
    "seldon": seldon.parse_seldon,
    "torchserve": torchserve.parse_workflow,
    "dvc": dvc.parse_dvc,
}


def parse_item(item: Input, scope: Scope, found: Found, ctx: CollectContext) -> None:
    doc = item.docs[0] if item.docs else Doc({})
    if item.fmt == "feast_store":
        feast.parse_store_yaml(doc, found)
    elif item.fmt == "feast":
        loader = _module_loader(item.real, scope, ctx.settings.max_file_bytes)
        feast.parse_python(item.text, item.rel, scope, _store_for(item.real, scope), found, loader)
    elif item.fmt == "mlflow_model":
        mlflow.parse_mlmodel(doc, item.rel, scope, found)
    elif item.fmt == "mlflow_project":
        mlflow.parse_mlproject(doc, item.rel, scope, found)
    elif item.fmt == "triton":
        triton.parse_triton(item.text, item.rel, scope, found)
    elif item.fmt in PER_DOC:
        for d, fmt in zip(item.docs, item.doc_fmts or [item.fmt] * len(item.docs), strict=False):
            if fmt is not None and fmt in PER_DOC:
                PER_DOC[fmt](d, item.rel, scope, found)
    else:
        _parse_training(item, doc, scope, found, ctx)


def _parse_training(item: Input, doc: Doc, scope: Scope, found: Found, ctx: CollectContext) -> None:
    composed = item.composed
    if composed is None:
        composed = hydra.Composed(origin={k: (item.rel, v) for k, v in doc.lines.items()})
        if doc.text is not None:  # JSON: key lines are looked up when a flow needs them
            composed.where = lambda path: (item.rel, doc.line(path))  # type: ignore[method-assign]
        composed.data = hydra.resolve(doc.data, composed)
    for rel, message, line in composed.problems:
        if rel == item.rel:
            found.problem(message, line)
        else:
            ctx.problem(message, rel, line)
    data = composed.data
    if finetune.is_finetune(data):
        finetune.parse_finetune(data, composed.where, item.rel, scope, found)
    elif training.is_training(data):
        training.parse_training(data, composed.where, item.rel, scope, found)
    elif item.fmt == "hydra" and hydramodel.is_target_model(data):
        hydramodel.parse_target_model(composed, composed.where, item.rel, scope, found)
    else:
        found.problem("composed Hydra config names no model with datasets or features; skipped", 1)


def _store_for(path: Path, scope: Scope) -> Doc | None:
    for parent in path.parents:
        if parent in scope.feast_stores:
            return scope.feast_stores[parent]
    return None


def _module_loader(path: Path, scope: Scope, max_bytes: int) -> Callable[[str, int], str | None]:
    """Finds ``from x.y import z`` modules beside the file or at the Feast repo root (where
    ``feature_store.yaml`` is); their text is parsed, never imported."""
    here = path.parent
    stores = scope.feast_stores
    root = next((p for p in here.parents if p in stores), here) if here not in stores else here

    def load(module: str, level: int) -> str | None:
        bases = [here.parents[level - 2] if level > 1 else here] if level else [here, root]
        rel = Path(*module.split(".")) if module else Path()
        for base in bases:
            for candidate in (base / rel.with_suffix(".py"), base / rel / "__init__.py"):
                if module and candidate.is_file() and candidate != path:
                    try:
                        return read_text(candidate, max_bytes)
                    except SkipFile:
                        return None
        return None

    return load
