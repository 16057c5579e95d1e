"""The corpus under tests/corpus holds realistic configs of every format; expected.yaml is the lineage
they must give, file by file (an edge whose evidence is in two files is listed under both)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml
from ml_helpers import CORPUS, collect, flow

EXPECTED = yaml.safe_load((Path(__file__).parent / "expected.yaml").read_text(encoding="utf-8"))


@cache
def scanned() -> tuple[list, list, list]:  # type: ignore[type-arg]
    return collect(CORPUS, **EXPECTED["settings"])


@cache
def by_file() -> dict[str, set[str]]:
    signals, _, _ = scanned()
    out: dict[str, set[str]] = {}
    for s in signals:
        for ev in s.evidence:
            out.setdefault(ev.location.rsplit(":", 1)[0], set()).add(flow(s))
    return out


def test_corpus_is_big_enough_and_covers_every_format() -> None:
    files = [p for p in CORPUS.rglob("*") if p.is_file()]
    assert len(files) >= 50
    signals, _, _ = scanned()
    formats = {dict(ev.detail)["format"] for s in signals for ev in s.evidence}
    assert formats == {
        "feast",
        "hydra",
        "training",
        "finetune",
        "mlflow_model",
        "mlflow_project",
        "kubeflow",
        "serving",
        "kserve",
        "seldon",
        "torchserve",
        "triton",
        "dvc",
    }


@pytest.mark.parametrize("path", sorted(EXPECTED["flows"]))
def test_file_gives_expected_lineage(path: str) -> None:
    assert by_file().get(path, set()) == set(EXPECTED["flows"][path])


def test_no_unexpected_file_gives_lineage() -> None:
    assert set(by_file()) == set(EXPECTED["flows"])


def test_problems_are_exactly_the_expected_ones() -> None:
    _, _, problems = scanned()
    assert sorted(problems) == sorted(EXPECTED["problems"])


def test_strict_also_lists_the_files_of_unknown_format() -> None:
    _, _, problems = collect(CORPUS, **EXPECTED["settings"], strict=True)
    extra = sorted(set(problems) - set(EXPECTED["problems"]))
    assert extra == [
        "bad/github_ci.yaml: skipped: unknown format (no training, fine-tuning, feature store, MLflow, DVC,"
        " Kubeflow or serving keys)"
    ]


def test_every_signal_is_config_with_key_path_evidence() -> None:
    signals, _, _ = scanned()
    for s in signals:
        assert s.kind == "config"
        (ev,) = s.evidence
        assert ev.kind == "config" and ev.collector == "ml_config"
        path, line = ev.location.rsplit(":", 1)
        assert (CORPUS / path).is_file() and int(line) >= 1
        assert dict(ev.detail)["key_path"]


def test_feature_views_describe_their_fields_and_tags() -> None:
    _, infos, _ = scanned()
    by_asset = {(i.asset.namespace, i.asset.name, i.asset.field): i for i in infos}
    view = by_asset[("feature://feast", "driver_hourly_stats", None)]
    assert ("conv_rate", "float32") in view.fields and ("driver_id", "") in view.fields
    assert view.tags == ("team:driver_performance",)
    assert by_asset[("feature://feast", "card_txn_1h", "amount_sum_1h")].tags == ("pii:financial",)
    model = by_asset[("model://mlflow", "eta_regressor", None)]
    assert ("distance_km", "double") in model.fields
