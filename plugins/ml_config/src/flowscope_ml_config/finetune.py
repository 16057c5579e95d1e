"""Fine-tuning recipes: base model and datasets -> the fine-tuned model.

Read as people write them: Hugging Face alignment-handbook and TRL (``model_name_or_path``,
``dataset_mixture`` / ``dataset_mixer`` / ``dataset_name``, ``hub_model_id``, ``output_dir``), axolotl
(``base_model``, ``datasets[].path``, ``lora_model_dir``), LLaMA-Factory (``dataset: a,b`` named in
``data/dataset_info.json``, ``adapter_name_or_path`` + ``export_dir`` merges, v1 ``train_dataset`` specs)
and transformers ``run_*`` arguments (``train_file``). The output model is ``hub_model_id`` on the Hub,
else ``output_model``, ``export_dir``, or ``output_dir`` (on the Hub when ``push_to_hub`` is set, else
the folder). A recipe without any output (TRL's CLI takes ``--output_dir``) gives reads only.

An SFT -> DPO chain is linked after the whole scan: a Hub id written without an org
(``hub_model_id: zephyr-7b-sft-full``) takes the org of the base model a later recipe names
(``alignment-handbook/zephyr-7b-sft-full``), see :func:`link_chains`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

from flowscope import naming
from flowscope.model import Asset, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.refs import HF_REGISTRY, hf_dataset, hf_model
from flowscope_ml_config.source import KeyPath, dotted, first, get, items, text_of

Where = Callable[[KeyPath], tuple[str, int]]
TRAIN = Transformation("DIRECT", "TRANSFORMATION")

BASE_KEYS: tuple[KeyPath, ...] = (
    ("model_name_or_path",), ("base_model",), ("pretrained_model_name_or_path",), ("model", "base"),
    ("model", "model_name_or_path"), ("model_args", "model_name_or_path"),
)  # fmt: skip
DATA_KEYS = (
    "dataset_name", "datasets", "train_file", "data_files", "dataset", "dataset_mixture", "dataset_mixer",
    "train_dataset", "pretraining_dataset", "data_path", "train_data_path",
)  # fmt: skip
_LLAMAFACTORY = ("stage", "finetuning_type", "template", "dataset_dir")


def is_finetune(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    if first(data, *BASE_KEYS) is not None:
        if any(data.get(k) is not None for k in DATA_KEYS):
            return True
        return data.get("adapter_name_or_path") is not None and data.get("export_dir") is not None
    # LLaMA-Factory v1: `model: Qwen/Qwen3-4B` with a train_dataset spec
    return isinstance(data.get("model"), str) and ("train_dataset" in data or "model_class" in data)


def _output(
    data: Mapping[str, Any], scope: Scope, found: Found, where: Where
) -> tuple[KeyPath, Asset] | None:
    names = scope.names
    for key in ("hub_model_id", "export_hub_model_id"):
        value = text_of(data.get(key))
        if value:
            out = guarded(found, where((key,))[1], lambda v=value: hf_model(names.clean(v)))  # type: ignore[misc]
            return ((key,), out) if out else None
    if data.get("output_model") is not None:
        out = guarded(found, where(("output_model",))[1], lambda: names.model(data["output_model"]))
        return (("output_model",), out) if out else None
    for key in ("export_dir", "output_dir"):
        value = text_of(data.get(key))
        if not value:
            continue
        if key == "output_dir" and data.get("push_to_hub") is True:
            base = PurePosixPath(value.rstrip("/")).name
            out = guarded(found, where((key,))[1], lambda b=base: hf_model(names.clean(b)))  # type: ignore[misc]
        else:
            out = guarded(found, where((key,))[1], lambda v=value: names.file(v))  # type: ignore[misc]
        return ((key,), out) if out else None
    return None


def parse_finetune(data: Mapping[str, Any], where: Where, main: str, scope: Scope, found: Found) -> None:
    names = scope.names
    hit = _output(data, scope, found, where)
    out = hit[1] if hit else None
    job = Job(
        out.namespace if out else naming.job_namespace("ml_config"),
        f"finetune.{out.name}" if out else f"finetune.{PurePosixPath(main).stem}",
        job_type="FINE_TUNING",
        source=SourceLocation(main),
    )
    inputs: list[tuple[KeyPath, Asset]] = []
    base_at = first(data, *BASE_KEYS) or (
        (("model",), data["model"]) if isinstance(data.get("model"), str) else None
    )
    if base_at is not None and text_of(base_at[1]):
        path, value = base_at
        base = guarded(found, where(path)[1], lambda: names.hub_model(str(value)))
        if base is not None:
            inputs.append((path, base))
    for key in ("adapter_name_or_path", "lora_model_dir"):
        for i, ref in enumerate(_split(data.get(key))):
            adapter = guarded(found, where((key,))[1], lambda r=ref: names.hub_model(r))  # type: ignore[misc]
            if adapter is not None:
                inputs.append(((key, i) if i else (key,), adapter))
    text_field = text_of(data.get("dataset_text_field") or data.get("text_column"))
    for path, ds in _datasets(data, main, scope, found, where):
        inputs.append((path, ds.with_field(text_field) if text_field and ds.field is None else ds))
    seen: set[Asset] = set()
    for path, src in inputs:
        if src in seen or (out is not None and src.dataset == out.dataset):
            continue
        seen.add(src)
        rel, line = where(path)
        snippet = f"{dotted(path)}: {src.name}{'#' + src.field if src.field else ''}"
        found.add(Link(job, src, out, dotted(path), line, snippet, TRAIN, "" if rel == main else rel))
    if out is not None:
        scope.learn_model(out, [])


def _split(value: Any) -> list[str]:
    """``a,b`` or a list: the non-empty names."""
    if isinstance(value, list):
        return [t for v in value if (t := text_of(v))]
    text = text_of(value)
    return [p.strip() for p in text.split(",") if p.strip()] if text else []


def _datasets(
    data: Mapping[str, Any], main: str, scope: Scope, found: Found, where: Where
) -> list[tuple[KeyPath, Asset]]:
    names = scope.names
    out: list[tuple[KeyPath, Asset]] = []

    def add(path: KeyPath, make: Callable[[], Asset | None]) -> None:
        ds = guarded(found, where(path)[1], make)
        if ds is not None:
            out.append((path, ds))

    mixture = data.get("dataset_mixture")
    for i, entry in items(get(mixture, "datasets") if isinstance(mixture, Mapping) else mixture):
        ref = (
            text_of(entry.get("id") or entry.get("path") or entry.get("name"))
            if isinstance(entry, Mapping)
            else text_of(entry)
        )
        if ref:
            add(("dataset_mixture", "datasets", i), lambda r=ref: names.hub_dataset(r))  # type: ignore[misc]
    mixer = data.get("dataset_mixer")
    for key, _ in items(mixer) if isinstance(mixer, Mapping) else []:
        add(("dataset_mixer", key), lambda r=str(key): names.hub_dataset(r))  # type: ignore[misc]
    for key in ("dataset_name", "train_file", "validation_file", "test_file", "data_path", "train_data_path"):
        ref = text_of(data.get(key))
        if ref:
            add((key,), lambda r=ref: names.hub_dataset(r))  # type: ignore[misc]
    for key in ("datasets", "test_datasets", "pretraining_dataset"):
        for i, entry in items(data.get(key)):
            for sub, ref in _entry_refs(entry):
                add((key, i, *sub), lambda r=ref: names.hub_dataset(r))  # type: ignore[misc]
    for i, ref in items(data.get("data_files")):
        if text_of(ref):
            add(("data_files", i), lambda r=str(ref): names.hub_dataset(r))  # type: ignore[misc]
    dataset = data.get("dataset")
    if isinstance(dataset, Mapping):
        ref = text_of(dataset.get("path") or dataset.get("name"))
        if ref:
            add(("dataset",), lambda r=ref: names.hub_dataset(r))  # type: ignore[misc]
    elif isinstance(dataset, str) and any(k in data for k in _LLAMAFACTORY):
        out += _llamafactory(data, "dataset", scope, found, where, main)
    elif isinstance(dataset, str):
        add(("dataset",), lambda: names.hub_dataset(dataset))
    if isinstance(data.get("eval_dataset"), str) and any(k in data for k in _LLAMAFACTORY):
        out += _llamafactory(data, "eval_dataset", scope, found, where, main)
    if isinstance(data.get("train_dataset"), str):
        out += _dataset_spec(data["train_dataset"], scope, found, where, main)
    return out


def _entry_refs(entry: Any) -> list[tuple[KeyPath, str]]:
    """axolotl ``datasets`` items: ``path`` (a Hub id or a file), or ``data_files`` when path is a loader."""
    if isinstance(entry, str):
        return [((), entry)]
    if not isinstance(entry, Mapping):
        return []
    files: list[tuple[KeyPath, str]] = [((("data_files", i) if isinstance(entry.get("data_files"), list) else ("data_files",)), str(f))
             for i, f in items(entry.get("data_files")) if text_of(f)]  # fmt: skip
    path = text_of(entry.get("path") or entry.get("name"))
    if path and (not files or path not in ("json", "csv", "parquet", "text", "arrow")):
        return [(("path",), path), *files]
    return files


def _llamafactory(
    data: Mapping[str, Any], key: str, scope: Scope, found: Found, where: Where, main: str
) -> list[tuple[KeyPath, Asset]]:
    """``dataset: a,b``: each name looked up in ``<dataset_dir>/dataset_info.json`` (LLaMA-Factory's
    registry, relative to where training runs: searched from the config's folder up to the scan root)."""
    names = scope.names
    folder = text_of(data.get("dataset_dir")) or "data"
    registry, where_found = scope.find_json(main, f"{folder}/dataset_info.json")
    out: list[tuple[KeyPath, Asset]] = []
    line = where((key,))[1]
    for name in _split(data.get(key)):
        entry = registry.get(name) if isinstance(registry, Mapping) else None
        asset: Asset | None = None
        if isinstance(entry, Mapping):
            if text_of(entry.get("hf_hub_url")):
                asset = hf_dataset(str(entry["hf_hub_url"]))
            elif text_of(entry.get("ms_hub_url")):
                asset = naming.http(f"datasets/{entry['ms_hub_url']}", "modelscope.cn", scheme="https")
            elif text_of(entry.get("file_name")):
                asset = guarded(found, line, lambda e=entry: names.file(f"{folder}/{e['file_name']}"))  # type: ignore[misc]
            elif text_of(entry.get("script_url")):
                asset = guarded(found, line, lambda e=entry: names.file(f"{folder}/{e['script_url']}"))  # type: ignore[misc]
        else:
            if registry is None:
                scope.once(
                    found,
                    f"{folder}/dataset_info.json not found; LLaMA-Factory dataset names kept as {folder}/<name>",
                    line,
                )
            else:
                found.problem(f"dataset {name!r} is not in {where_found}; kept as {folder}/{name}", line)
            asset = guarded(found, line, lambda n=name: names.file(f"{folder}/{n}"))  # type: ignore[misc]
        if asset is not None:
            out.append(((key,), asset))
    return out


def _dataset_spec(
    spec: str, scope: Scope, found: Found, where: Where, main: str
) -> list[tuple[KeyPath, Asset]]:
    """LLaMA-Factory v1 ``train_dataset: data/x.yaml``: the spec's entries (``path``, ``source``)."""
    names = scope.names
    line = where(("train_dataset",))[1]
    doc, _ = scope.find_yaml(main, spec)
    if not isinstance(doc, Mapping):
        ds = guarded(found, line, lambda: names.hub_dataset(spec))
        return [(("train_dataset",), ds)] if ds else []
    out: list[tuple[KeyPath, Asset]] = []
    for _, entry in items(doc):
        path = text_of(entry.get("path")) if isinstance(entry, Mapping) else None
        if not path:
            continue
        local = isinstance(entry, Mapping) and entry.get("source") == "local"
        ds = guarded(found, line, lambda p=path, lo=local: names.file(p) if lo else names.hub_dataset(p))  # type: ignore[misc]
        if ds is not None:
            out.append((("train_dataset",), ds))
    return out


def link_chains(founds: list[Found]) -> None:
    """A Hub output written without an org takes the org of a base model named elsewhere in the scan."""
    wanted: dict[str, set[str]] = {}
    for f in founds:
        for link in f.links:
            src = link.source
            if src.namespace == f"model://{HF_REGISTRY}" and "/" in src.name:
                wanted.setdefault(src.name.rsplit("/", 1)[1], set()).add(src.name)
    renames: dict[Asset, Asset] = {}
    for f in founds:
        for link in f.links:
            dst = link.target
            if dst is not None and dst.namespace == f"model://{HF_REGISTRY}" and "/" not in dst.name:
                full = wanted.get(dst.name, set())
                if len(full) == 1:
                    renames[dst.dataset] = hf_model(next(iter(full)))
    if not renames:
        return
    for f in founds:
        for i, link in enumerate(f.links):
            target = link.target
            if target is not None and target.dataset in renames:
                new = renames[target.dataset]
                new = new.with_field(target.field) if target.field else new
                job = Job(
                    new.namespace, f"finetune.{new.name}", job_type=link.job.job_type, source=link.job.source
                )
                f.links[i] = Link(
                    job,
                    link.source,
                    new,
                    link.key_path,
                    link.line,
                    link.snippet,
                    link.transformation,
                    link.path,
                )
