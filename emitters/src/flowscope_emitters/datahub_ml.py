"""Features and models as DataHub's ML entities rather than datasets.

- ``feature://<store>`` + view (+ field = feature): an ``mlFeatureTable`` (``mlFeatureTableProperties`` lists
  its features) and one ``mlFeature`` per field. A feature a job writes gets the job's dataset inputs as its
  ``sources`` (DataHub draws that as the feature's lineage).
- ``model://<registry>`` + name[/version]: an ``mlModel``. A job that writes it is a training job
  (``trainingJobs``), the features it reads are the model's ``mlFeatures``; a job that reads it is a
  ``downstreamJobs``.

The platform is the store's or registry's name when DataHub knows it (feast, tecton, sagemaker, mlflow,
vertexai), else ``feature`` / ``model``. These aspects have no patch form, so they are upserted with what
this emit knows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowscope_emitters.datahub_items import dh
from flowscope_emitters.datahub_names import Naming

if TYPE_CHECKING:
    from flowscope_emitters.datahub_convert import Proposals

KNOWN = frozenset({"feast", "tecton", "sagemaker", "mlflow", "vertexai", "databricks"})


def _platform(namespace: str, kind: str) -> str:
    host = namespace.partition("://")[2].strip("/").split(".")[0].lower()
    return host if host in KNOWN else kind


def _fields(d: Mapping[str, Any]) -> list[str]:
    schema = ((d.get("facets") or {}).get("schema") or {}).get("fields") or []
    return [str(f["name"]) for f in schema if isinstance(f, dict) and f.get("name")]


@dataclass
class MLEntities:
    naming: Naming

    def table_urn(self, d: Mapping[str, Any]) -> str:
        from datahub.emitter.mce_builder import make_ml_feature_table_urn

        return str(make_ml_feature_table_urn(_platform(d["namespace"], "feature"), d["name"]))

    def feature_urn(self, d: Mapping[str, Any], feature: str) -> str:
        from datahub.emitter.mce_builder import make_ml_feature_urn

        return str(make_ml_feature_urn(d["name"], feature))

    def model_urn(self, d: Mapping[str, Any]) -> str:
        from datahub.emitter.mce_builder import make_ml_model_urn

        return str(make_ml_model_urn(_platform(d["namespace"], "model"), d["name"], self.naming.env))

    def add(
        self,
        p: Proposals,
        job: str,
        inputs: list[Mapping[str, Any]],
        outputs: list[Mapping[str, Any]],
        urns: Mapping[tuple[str, str], str],
    ) -> None:
        sc = dh().sc
        plain_inputs = [
            urns[(d["namespace"], d["name"])] for d in inputs if (d["namespace"], d["name"]) in urns
        ]
        features_read: list[str] = []
        for d in inputs + outputs:
            if _scheme(d) != "feature":
                continue
            names = _fields(d) or sorted(_lineage_fields(d))
            feature_urns = [self.feature_urn(d, f) for f in names]
            p.once(self.table_urn(d), sc.MLFeatureTablePropertiesClass(mlFeatures=feature_urns))
            written = d in outputs
            for f, urn in zip(names, feature_urns, strict=True):
                sources = _sources(d, f, urns) or plain_inputs if written else []
                p.once(urn, sc.MLFeaturePropertiesClass(sources=sources or None))
            if not written:
                features_read.extend(feature_urns)
        training: dict[str, list[str]] = defaultdict(list)
        for d in outputs:
            if _scheme(d) == "model":
                training[self.model_urn(d)].append(job)
        for d in inputs:
            if _scheme(d) == "model":
                p.once(self.model_urn(d), sc.MLModelPropertiesClass(downstreamJobs=[job]))
        for model, jobs in training.items():
            p.once(model, sc.MLModelPropertiesClass(trainingJobs=jobs, mlFeatures=features_read or None))


def _scheme(d: Mapping[str, Any]) -> str:
    return str(d["namespace"]).partition("://")[0]


def _lineage_fields(d: Mapping[str, Any]) -> set[str]:
    lineage = (d.get("facets") or {}).get("columnLineage") or {}
    return set(lineage.get("fields") or {})


def _sources(d: Mapping[str, Any], feature: str, urns: Mapping[tuple[str, str], str]) -> list[str]:
    spec = (((d.get("facets") or {}).get("columnLineage") or {}).get("fields") or {}).get(feature) or {}
    found = [urns.get((i["namespace"], i["name"])) for i in spec.get("inputFields") or []]
    return list(dict.fromkeys(u for u in found if u))
