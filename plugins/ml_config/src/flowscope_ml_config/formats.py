"""Which format a config is: every document of a file is recognised on its own (a KServe file mixes
InferenceServices and an InferenceGraph; a Seldon file starts with a Namespace).

Each format says which keys it looks for, so a file skipped as unknown can say what it was compared
with (``flowscope ml-config scan --explain FILE``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowscope_ml_config import dvc, finetune, hydra, kserve, kubeflow, seldon, serving, torchserve, training


@dataclass(frozen=True)
class Format:
    name: str
    looks_for: str
    check: Callable[[Any], bool]


def _feast_store(d: Any) -> bool:
    return isinstance(d, dict) and {"project", "provider", "registry"} <= set(d)


# By file name, before looking inside.
BY_NAME = {
    "MLmodel": ("mlflow_model", "an MLflow logged model (file name MLmodel)"),
    "MLproject": ("mlflow_project", "an MLflow project (file name MLproject)"),
    "feature_store.yaml": ("feast_store", "a Feast repository's feature_store.yaml"),
    "feature_store.yml": ("feast_store", "a Feast repository's feature_store.yaml"),
    "config.pbtxt": ("triton", "a Triton model configuration (config.pbtxt)"),
    "dataset_info.json": ("llamafactory_datasets", "LLaMA-Factory's dataset registry (dataset_info.json)"),
}

# In order: the first that matches a document is its format.
FORMATS: tuple[Format, ...] = (
    Format("hydra", "a top-level `defaults:` list (Hydra primary config)", hydra.is_primary),
    Format("kubeflow", "`pipelineInfo` with `root` or `deploymentSpec` (compiled KFP v2 IR)", kubeflow.is_kubeflow),
    Format("kserve", "`kind:` InferenceService / InferenceGraph / TrainedModel / LLMInferenceService", kserve.is_kserve),
    Format("seldon", "`kind:` SeldonDeployment, or Model / Pipeline / Experiment of mlops.seldon.io", seldon.is_seldon),
    Format("torchserve", "TorchServe workflow: `models:` with `url:` entries and a `dag:`", torchserve.is_workflow),
    Format("torchserve_config", "TorchServe model-config.yaml: `handler:` with minWorkers/maxWorkers/...", torchserve.is_model_config),
    Format("serving", "`services:` / `serving:` / `deployments:` / `endpoints:` entries with `model` or `models`", serving.is_serving),
    Format("feast_store", "`project`, `provider` and `registry` (Feast feature_store.yaml)", _feast_store),
    Format("finetune", "a base model (`model_name_or_path`, `base_model`, ...) with datasets "
           "(`dataset_mixture`, `datasets`, `dataset_name`, `dataset`, `train_file`, ...)", finetune.is_finetune),
    Format("training", "a model (`model.name`, `output.model`, `registered_model_name`, ...) with "
           "`features`, `feature_service` or datasets (`data.train`, `datasets`, ...)", training.is_training),
)  # fmt: skip

SUPPORT = ("llamafactory_datasets", "dvc_params", "hydra_group", "torchserve_config")
UNKNOWN = (
    "skipped: unknown format (no training, fine-tuning, feature store, MLflow, DVC, Kubeflow or serving keys)"
)


def classify_doc(data: Any, file_name: str) -> str | None:
    if not isinstance(data, dict):
        return None
    if dvc.is_dvc(data, file_name):
        return "dvc"
    for fmt in FORMATS:
        if fmt.check(data):
            return fmt.name
    return None


def explain(data: Any, file_name: str) -> list[str]:
    """One line per known format: whether this document matched it and what it looks for."""
    lines = []
    keys = sorted(str(k) for k in data) if isinstance(data, dict) else []
    lines.append(
        f"top-level keys: {', '.join(keys[:30]) or '(not a mapping)'}{' ...' if len(keys) > 30 else ''}"
    )
    dvc_hit = dvc.is_dvc(data, file_name)
    lines.append(f"  {'yes' if dvc_hit else 'no '}  dvc: a file named dvc.yaml with `stages:`")
    for fmt in FORMATS:
        lines.append(
            f"  {'yes' if isinstance(data, dict) and fmt.check(data) else 'no '}  {fmt.name}: {fmt.looks_for}"
        )
    return lines


__all__ = ["BY_NAME", "FORMATS", "SUPPORT", "UNKNOWN", "Format", "classify_doc", "explain"]
