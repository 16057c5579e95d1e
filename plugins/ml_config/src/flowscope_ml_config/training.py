"""Training configs: generic YAML/JSON (dataset + features -> model) and Hydra-composed ones (fine-tuning
recipes are :mod:`flowscope_ml_config.finetune`).

Keys are looked up in the places real configs put them (``model.name``, ``output.model``,
``registered_model_name`` ...); the README lists them. A config that names features (``view:feature``
Feast references, ``{view, features}`` or a Feast ``feature_service``) gives feature-level lineage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowscope.model import Asset, AssetInfo, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.refs import looks_like_path
from flowscope_ml_config.source import KeyPath, dotted, first, get, items

Where = Callable[[KeyPath], tuple[str, int]]
TRAIN = Transformation("DIRECT", "TRANSFORMATION")

MODEL_KEYS: tuple[KeyPath, ...] = (
    ("model", "name"), ("output", "model"), ("output_model",), ("model_name",), ("registered_model_name",),
    ("output", "registered_model_name"), ("training", "output_model"),
)  # fmt: skip
FEATURE_KEYS: tuple[KeyPath, ...] = (
    ("features",), ("model", "features"), ("data", "features"), ("training", "features"), ("feature_refs",),
)  # fmt: skip
SERVICE_KEYS: tuple[KeyPath, ...] = (
    ("feature_service",),
    ("data", "feature_service"),
    ("features", "service"),
)
DATASET_KEYS: tuple[KeyPath, ...] = (
    ("dataset",), ("datasets",), ("data", "train"), ("data", "validation"), ("data", "test"), ("data", "source"),
    ("data", "table"), ("data", "entity_df"), ("data", "labels"), ("train_data",), ("inputs",), ("labels",),
    ("training", "dataset"),
)  # fmt: skip


def is_training(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    has_model = first(data, *MODEL_KEYS) is not None
    return has_model and (first(data, *FEATURE_KEYS, *SERVICE_KEYS, *DATASET_KEYS) is not None)


def _link(
    found: Found,
    where: Where,
    main: str,
    job: Job,
    src: Asset,
    dst: Asset,
    path: KeyPath,
    t: Transformation = TRAIN,
) -> None:
    rel, line = where(path)
    snippet = f"{dotted(path)}: {src.name}{'#' + src.field if src.field else ''}"
    found.add(Link(job, src, dst, dotted(path), line, snippet, t, "" if rel == main else rel))


def parse_training(data: Mapping[str, Any], where: Where, main: str, scope: Scope, found: Found) -> None:
    names = scope.names
    model_at = first(data, *MODEL_KEYS)
    assert model_at is not None
    mpath, mvalue = model_at
    holder = get(data, *mpath[:-1]) if len(mpath) > 1 else data
    version = get(holder, "version") if isinstance(holder, Mapping) else None
    registry = get(holder, "registry") if isinstance(holder, Mapping) else None
    model = guarded(
        found,
        where(mpath)[1],
        lambda: names.model(mvalue, version, registry if isinstance(registry, str) else None),
    )
    if model is None:
        return
    plain = model.name.split("/")[0]
    job = Job(
        model.namespace,
        f"train.{plain}",
        job_type="TRAINING",
        source=SourceLocation(main),
        owner=_text(first(data, ("model", "owner"), ("owner",), ("team",))),
        description=_text(first(data, ("model", "description"), ("description",))),
    )
    fields: list[str] = []
    for path, ref in _feature_refs(data, scope, found, where):
        feat = guarded(found, where(path)[1], lambda ref=ref: names.feature(ref))  # type: ignore[misc]
        if feat is None or feat.field is None:
            if feat is None and "${" not in ref:
                found.problem(f"feature {ref!r} is not view:feature", where(path)[1])
            continue
        fields.append(feat.field)
        _link(found, where, main, job, feat, model.with_field(feat.field), path)
    for path, value in _dataset_entries(data):
        ds = guarded(found, where(path)[1], lambda value=value: names.dataset(value))  # type: ignore[misc]
        if ds is None:
            continue
        cols = [str(c) for c in value.get("columns") or []] if isinstance(value, Mapping) else []
        for col in cols:
            fields.append(col)
            _link(found, where, main, job, ds.with_field(col), model.with_field(col), (*path, "columns"))
        if not cols:
            _link(found, where, main, job, ds, model, path)
    scope.learn_model(model, fields)
    found.infos.append(
        AssetInfo(model, tuple((f, "") for f in dict.fromkeys(fields)), (), job.description or "")
    )


def _dataset_entries(data: Mapping[str, Any]) -> list[tuple[KeyPath, Any]]:
    out: list[tuple[KeyPath, Any]] = []
    for key in DATASET_KEYS:
        value = get(data, *key)
        if isinstance(value, list):
            out += [((*key, i), v) for i, v in items(value)]
        elif isinstance(value, Mapping) and not _is_ref(value):  # splits: {train: ..., validation: ...}
            out += [((*key, k), v) for k, v in items(value) if _is_ref(v) or k in SPLITS or _uri(v)]
        elif value is not None:
            out.append((key, value))
    return out


SPLITS = ("train", "validation", "val", "test", "eval", "source", "table", "labels", "entity_df")


def _uri(value: Any) -> bool:
    return isinstance(value, str) and (looks_like_path(value) or value.startswith("bigquery:"))


def _is_ref(value: Any) -> bool:
    return isinstance(value, Mapping) and any(
        k in value for k in ("uri", "path", "table", "location", "url", "name")
    )


def _text(hit: tuple[KeyPath, Any] | None) -> str | None:
    return str(hit[1]) if hit and isinstance(hit[1], str | int) else None


def _feature_refs(
    data: Mapping[str, Any], scope: Scope, found: Found, where: Where
) -> list[tuple[KeyPath, str]]:
    out: list[tuple[KeyPath, str]] = []
    svc = first(data, *SERVICE_KEYS)
    if svc and isinstance(svc[1], str):
        refs = scope.feature_services.get(svc[1])
        if refs is None:
            found.problem(
                f"feature service {svc[1]!r} is not defined in the scanned Feast repos", where(svc[0])[1]
            )
        out += [(svc[0], r) for r in refs or []]
    hit = first(data, *FEATURE_KEYS)
    if not hit or hit[0] == ("features", "service"):
        return out
    path, value = hit
    grouped = isinstance(value, Mapping) and any(k in value for k in ("view", "feature_view", "refs"))
    for i, entry in [(-1, value)] if grouped else items(value):
        at = path if i == -1 else (*path, i)
        if isinstance(entry, Mapping) and isinstance(entry.get("refs"), list):
            out += [((*at, "refs", j), str(r)) for j, r in enumerate(entry["refs"])]
        elif isinstance(entry, str):
            out.append((at, entry))
        elif isinstance(entry, Mapping):
            view = entry.get("view") or entry.get("feature_view")
            feats = entry.get("features") or scope.feature_views.get(str(view), [])
            out += [((*at, "features", j), f"{view}:{f}") for j, f in enumerate(feats) if view]
        elif isinstance(i, str) and isinstance(entry, list):  # {view: [features]}
            out += [((*at, j), f"{i}:{f}") for j, f in enumerate(entry)]
    return out
