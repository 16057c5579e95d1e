"""Bad input is reported with file and line, and never stops the rest of the scan."""

from __future__ import annotations

from pathlib import Path

from ml_helpers import collect, flow

GOOD = "model: {name: m, registry: r}\nfeatures: [v:f]\n"


def write(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")


def test_malformed_yaml_names_file_and_line_and_the_good_file_still_counts(tmp_path: Path) -> None:
    write(tmp_path, {"bad.yaml": "model:\n  name: x\n  features: [a, b\n", "good.yaml": GOOD})
    signals, _, problems = collect(tmp_path)
    assert [flow(s) for s in signals] == ["train.m: feature://feast/v#f -> model://r/m#f"]
    assert len(problems) == 1 and problems[0].startswith("bad.yaml:4: invalid YAML")


def test_unresolved_interpolation_is_reported_and_the_rest_is_kept(tmp_path: Path) -> None:
    text = "model: {name: m}\ndata:\n  train: ${paths.missing}/train\n  test: s3://b/test\nfeatures: [v:f]\n"
    write(tmp_path, {"train.yaml": text})
    signals, _, problems = collect(tmp_path, registry="r")
    assert sorted(flow(s) for s in signals) == [
        "train.m: feature://feast/v#f -> model://r/m#f",
        "train.m: s3://b/test -> model://r/m",
    ]
    assert problems == [
        "train.yaml:3: unresolved interpolation '${paths.missing}/train' at data.train (paths.missing)"
    ]


def test_interpolation_cycle_is_reported_not_looped(tmp_path: Path) -> None:
    write(tmp_path, {"t.yaml": "a: ${b}\nb: ${a}\nmodel: {name: m}\ndataset: s3://x/y\n"})
    signals, _, problems = collect(tmp_path)
    assert len(signals) == 1 and len(problems) == 2 and all("unresolved interpolation" in p for p in problems)


def test_unknown_format_is_skipped_and_listed_only_with_strict(tmp_path: Path) -> None:
    write(tmp_path, {"docker-compose.yml": "services:\n  web: {image: nginx}\n", "list.json": "[1, 2]"})
    signals, _, problems = collect(tmp_path)
    assert signals == [] and problems == []
    signals, _, problems = collect(tmp_path, strict=True)
    assert signals == []
    assert sorted(problems) == [
        "docker-compose.yml: skipped: unknown format (no training, fine-tuning, feature store, MLflow, DVC,"
        " Kubeflow or serving keys)",
        "list.json: skipped: not a mapping at the top level",
    ]


def test_python_without_feast_is_skipped_quietly_and_bad_python_is_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"util.py": "def f():\n    return 1\n", "views.py": "from feast import FeatureView\nx = (\n"},
    )
    signals, _, problems = collect(tmp_path)
    assert signals == []
    assert len(problems) == 1 and problems[0].startswith("views.py: invalid Python")


def test_huge_file_is_skipped_and_reported(tmp_path: Path) -> None:
    write(tmp_path, {"huge.yaml": GOOD + "# padding\n" * 2000, "good.yaml": GOOD})
    signals, _, problems = collect(tmp_path, max_file_bytes=10_000)
    assert len(signals) == 1
    size = (tmp_path / "huge.yaml").stat().st_size
    assert problems == [f"huge.yaml: skipped: file is {size} bytes, over the max_file_bytes cap of 10000"]


def test_binary_files_are_skipped_and_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"model.json": b"\x89PNG\r\n\x1a\n\x00\x00\x00", "latin.yaml": "name: caf\xe9".encode("latin-1")},
    )
    signals, _, problems = collect(tmp_path)
    assert signals == []
    assert sorted(problems) == [
        "latin.yaml: skipped: not UTF-8 text (binary?)",
        "model.json: skipped: binary file",
    ]


def test_a_path_matching_nothing_is_reported(tmp_path: Path) -> None:
    signals, _, problems = collect(tmp_path, paths=["configs/*.yaml"])
    assert signals == [] and problems == ["paths: 'configs/*.yaml' matches no file"]


def test_missing_hydra_group_is_reported_and_the_rest_composes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "conf/config.yaml": "defaults:\n  - data: clicks\n  - trainer: missing\n  - _self_\nmodel: {name: m}\n",
            "conf/data/clicks.yaml": "train: s3://lake/clicks/\n",
        },
    )
    signals, _, problems = collect(tmp_path)
    assert [flow(s) for s in signals] == ["train.m: s3://lake/clicks -> model://default/m"]
    assert [s.evidence[0].location for s in signals] == ["conf/data/clicks.yaml:1"]
    assert problems == ["conf/config.yaml:3: defaults: config conf/trainer/missing.yaml not found"]
