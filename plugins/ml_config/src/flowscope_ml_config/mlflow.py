"""MLflow ``MLmodel`` (a logged model: its flavors and signature) and ``MLproject`` (entry points).

An ``MLmodel`` signature lists the model's inputs: they become the model's fields, and inputs named the
way Feast names features in training data (``view__feature``) become feature-level training flows.
An ``MLproject`` entry point reads its ``uri``/``path`` parameters' defaults and writes the model or
outputs its parameters name; ``{param}`` placeholders in ``command`` show which parameters it uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from flowscope import naming
from flowscope.model import Asset, AssetInfo, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.refs import looks_like_path
from flowscope_ml_config.source import Doc, KeyPath, dotted, get

TRAIN = Transformation("DIRECT", "TRANSFORMATION")
_OUTPUT_WORDS = ("output", "out_", "export", "save", "dest", "result")
_MODEL_WORDS = ("model_name", "registered_model", "registration_name")
_DATA_SUFFIXES = ("_path", "_dir", "_file", "_uri", "_url", "_location")


def parse_mlmodel(doc: Doc, rel: str, scope: Scope, found: Found) -> None:
    data: Mapping[str, Any] = doc.data if isinstance(doc.data, Mapping) else {}
    if not isinstance(data.get("flavors"), Mapping):
        found.problem("MLmodel without flavors", 1)
    meta: Mapping[str, Any] = data["metadata"] if isinstance(data.get("metadata"), Mapping) else {}
    name = meta.get("registered_model_name") or meta.get("model_name") or PurePosixPath(rel).parent.name
    if not name or name in ("model", "artifacts", "."):
        name = str(data.get("artifact_path") or "model")
    model = guarded(found, 1, lambda: scope.names.model(str(name), meta.get("version")))
    if model is None:
        return
    inputs = _signature(data, "inputs", doc, found)
    job = Job(
        model.namespace, f"train.{model.name.split('/')[0]}", job_type="TRAINING", source=SourceLocation(rel)
    )
    fields: list[tuple[str, str]] = []
    line = doc.line(("signature", "inputs"))
    for col, typ in inputs:
        view, sep, feat = col.partition("__")
        if sep and feat:
            fields.append((feat, typ))
            src = naming.feature(view, feat, store=scope.names.feature_store)
            found.add(
                Link(job, src, model.with_field(feat), "signature.inputs", line, f"{col}: {typ}", TRAIN)
            )
        else:
            fields.append((col, typ))
    scope.learn_model(model, [f for f, _ in fields])
    flavors = ",".join(sorted(str(f) for f in (data.get("flavors") or {})))
    found.infos.append(AssetInfo(model, tuple(fields), (f"mlflow_flavors:{flavors}",) if flavors else ()))


def _signature(data: Mapping[str, Any], part: str, doc: Doc, found: Found) -> list[tuple[str, str]]:
    raw = get(data, "signature", part)
    if raw is None:
        return []
    try:
        cols = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        found.problem(f"signature.{part} is not JSON: {exc.msg}", doc.line(("signature", part)))
        return []
    out = []
    for c in cols if isinstance(cols, list) else []:
        if isinstance(c, Mapping) and c.get("name"):
            typ = c.get("type", "")
            if typ == "array" and isinstance(c.get("items"), Mapping):
                typ = f"array<{c['items'].get('type', '')}>"
            out.append((str(c["name"]), str(typ)))
    return out


def _data_asset(scope: Scope, text: str) -> Asset | None:
    return scope.names.dataset(text) if "://" in text else scope.names.file(text)


def _is_data_param(name: str, ptype: str, default: Any) -> bool:
    """A parameter that names data: typed path/uri, or a string whose default is a URI or a path, or
    whose name says path/dir/file/uri (``vocab_file``, ``model_save_path``)."""
    if ptype in ("path", "uri"):
        return True
    if not isinstance(default, str) or not default.strip() or default.strip() in ("None", "null"):
        return False
    text = default.strip()
    return looks_like_path(text) or "/" in text or name.lower().endswith(_DATA_SUFFIXES)


def parse_mlproject(doc: Doc, rel: str, scope: Scope, found: Found) -> None:
    data = doc.data if isinstance(doc.data, Mapping) else {}
    project = str(data.get("name") or PurePosixPath(rel).parent.name or "mlproject")
    entries = data.get("entry_points")
    if not isinstance(entries, Mapping):
        found.problem("MLproject without entry_points", 1)
        return
    for entry, spec in entries.items():
        if not isinstance(spec, Mapping):
            continue
        command = str(spec.get("command") or "")
        job = Job(
            naming.job_namespace("ml_config"),
            f"{project}.{entry}",
            job_type="MLPROJECT",
            source=SourceLocation(rel),
        )
        inputs: list[tuple[KeyPath, Asset]] = []
        outputs: list[tuple[KeyPath, Asset]] = []
        params: Mapping[str, Any] = spec["parameters"] if isinstance(spec.get("parameters"), Mapping) else {}
        for pname, p in params.items():
            ptype = str(p.get("type", "string")) if isinstance(p, Mapping) else str(p or "string")
            default = p.get("default") if isinstance(p, Mapping) else None
            at: KeyPath = ("entry_points", entry, "parameters", pname)
            if default is None or (command and f"{{{pname}}}" not in command):
                continue
            lowered = str(pname).lower().replace("-", "_")
            if any(w in lowered for w in _MODEL_WORDS) and isinstance(default, str) and default.strip():
                model = guarded(found, doc.line(at), lambda d=default: scope.names.model(str(d)))  # type: ignore[misc]
                if model is not None:
                    outputs.append((at, model))
                continue
            if not _is_data_param(lowered, ptype.split()[-1].lower(), default):
                continue
            text = str(default).strip()
            asset = guarded(found, doc.line(at), lambda d=text: _data_asset(scope, d))  # type: ignore[misc]
            if asset is not None:
                (outputs if any(w in lowered for w in _OUTPUT_WORDS) else inputs).append((at, asset))
        for kp, src in inputs:
            for _, dst in outputs or [((), None)]:  # type: ignore[list-item]
                found.add(Link(job, src, dst, dotted(kp), doc.line(kp), f"{kp[-1]}: {src}", TRAIN))
