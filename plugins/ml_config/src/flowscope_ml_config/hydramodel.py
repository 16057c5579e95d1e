"""A composed Hydra config whose model is a ``_target_`` class chosen from a config group (the
lightning-hydra-template way) rather than a name key.

The model is the node of the first model group present (``model``, ``module``, ``lit_module``, ``net``,
``system``, then ``<x>.model`` / ``<x>.module``) that has a ``_target_``; it is named after the option
chosen for that group (``model: mnist`` -> ``mnist``), or after the class when the option is
``default``. Its data are the paths and URIs under the data group (``data``, ``datamodule``, ``dataset``):
keys such as ``data_dir``, ``*_path``, ``*_file``, ``root``, ``uri``. An evaluation config (``train:
false`` or a ``task_name`` of eval/test/predict) reads them and writes no model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flowscope.model import Asset, Job, SourceLocation, Transformation
from flowscope_ml_config.hydra import Composed
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.source import KeyPath, dotted

TRAIN = Transformation("DIRECT", "TRANSFORMATION")
MODEL_GROUPS = ("model", "module", "lit_module", "net", "system", "litmodule")
DATA_GROUPS = ("data", "datamodule", "dataset", "datasets")
_DATA_KEY = re.compile(
    r"(^|_)(dir|path|paths|file|files|root|uri|url|location|csv|parquet)$|^(path|root|uri|url)$"
)
MAX_REFS = 200


def _find_group(data: Mapping[str, Any], groups: tuple[str, ...]) -> tuple[KeyPath, Mapping[str, Any]] | None:
    for g in groups:
        node = data.get(g)
        if isinstance(node, Mapping) and "_target_" in node:
            return (g,), node
    for top, node in data.items():  # one level down: nn.module, nn.data ...
        if isinstance(node, Mapping):
            for g in groups:
                sub = node.get(g)
                if isinstance(sub, Mapping) and "_target_" in sub:
                    return (str(top), g), sub
    return None


def _data_refs(node: Any, path: KeyPath, out: list[tuple[KeyPath, str]]) -> None:
    stack: list[tuple[KeyPath, Any]] = [(path, node)]
    while stack and len(out) < MAX_REFS:
        at, value = stack.pop()
        if isinstance(value, Mapping):
            for k, v in value.items():
                if str(k).startswith("_"):
                    continue
                if isinstance(v, str) and _DATA_KEY.search(str(k)) and v.strip():
                    out.append(((*at, str(k)), v))
                elif isinstance(v, Mapping | list):
                    stack.append(((*at, str(k)), v))
        elif isinstance(value, list):
            stack += [((*at, i), v) for i, v in enumerate(value) if isinstance(v, Mapping | list)]


def is_target_model(data: Any) -> bool:
    return isinstance(data, Mapping) and _find_group(data, MODEL_GROUPS) is not None


def parse_target_model(
    composed: Composed, where: Callable[[KeyPath], tuple[str, int]], main: str, scope: Scope, found: Found
) -> None:
    data, names = composed.data, scope.names
    hit = _find_group(data, MODEL_GROUPS)
    if hit is None:
        return
    mpath, node = hit
    choice = composed.choices.get(".".join(str(p) for p in mpath), "")
    target = str(node.get("_target_") or "")
    name = choice if choice and choice != "default" else target.rsplit(".", 1)[-1]
    model = guarded(found, where(mpath)[1], lambda: names.model(name))
    if model is None:
        return
    task = str(data.get("task_name") or "").lower()
    evaluating = data.get("train") is False or any(w in task for w in ("eval", "test", "predict", "infer"))
    job = Job(
        model.namespace, f"{'evaluate' if evaluating else 'train'}.{model.name}",
        job_type="EVALUATION" if evaluating else "TRAINING", source=SourceLocation(main),
        description=f"{target} ({dotted(mpath)}: {choice or 'default'})",
    )  # fmt: skip
    data_hit = _find_group(data, DATA_GROUPS)
    if data_hit is None:
        data_hit = next((((g,), data[g]) for g in DATA_GROUPS if isinstance(data.get(g), Mapping)), None)
    refs: list[tuple[KeyPath, str]] = []
    if data_hit is not None:
        _data_refs(data_hit[1], data_hit[0], refs)
    seen: set[Asset] = set()
    for path, value in refs:
        text = value.strip()
        ds = guarded(found, where(path)[1], lambda t=text: names.dataset(t) if "://" in t else names.file(t))  # type: ignore[misc]
        if ds is None or ds in seen:
            continue
        seen.add(ds)
        rel, line = where(path)
        snippet = f"{dotted(path)}: {ds.name}"
        found.add(
            Link(
                job,
                ds,
                None if evaluating else model,
                dotted(path),
                line,
                snippet,
                TRAIN,
                "" if rel == main else rel,
            )
        )
    if evaluating:
        rel, line = where(mpath)
        found.add(
            Link(
                job,
                model,
                None,
                dotted(mpath),
                line,
                f"{dotted(mpath)}: {target}",
                TRAIN,
                "" if rel == main else rel,
            )
        )
    scope.learn_model(model, [])
