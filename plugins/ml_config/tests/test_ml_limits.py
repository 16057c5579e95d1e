"""No config can take the scan down: JSON size and depth, the per-file time budget, Hydra defaults that
leave the repository, protobuf-text nesting, environment placeholders. Each bad file costs one problem
line naming it, and the other files' lineage is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ml_helpers import collect, flow
from test_ml_bad_input import write

from flowscope.yamlsafe import DEFAULT_LIMITS, YamlLimits, set_limits

GOOD = "model: {name: m, registry: r}\ndataset: s3://lake/train\n"
GOOD_FLOW = "train.m: s3://lake/train -> model://r/m"


@pytest.fixture(autouse=True)
def default_limits() -> object:
    set_limits(DEFAULT_LIMITS)
    yield
    set_limits(DEFAULT_LIMITS)


def test_a_json_over_the_size_cap_is_refused_with_a_clear_problem(tmp_path: Path) -> None:
    big = json.dumps({"model": {"name": "m"}, "rows": ["x" * 1000] * 21_000})  # ~21 MB
    write(tmp_path, {"big.json": big, "good.yaml": GOOD})
    signals, _, problems = collect(tmp_path)
    assert [flow(s) for s in signals] == [GOOD_FLOW]
    size = (tmp_path / "big.json").stat().st_size
    assert problems == [f"big.json: skipped: file is {size} bytes, over the max_file_bytes cap of 8000000"]


def test_a_large_json_under_the_cap_is_parsed_and_its_lines_found(tmp_path: Path) -> None:
    config = {"padding": [{"i": i, "s": "y" * 50} for i in range(40_000)], "model": {"name": "m"}}
    config["dataset"] = "s3://lake/big"
    write(tmp_path, {"big.json": json.dumps(config, indent=1)})
    signals, _, problems = collect(tmp_path, max_file_bytes=32_000_000)
    assert problems == [] and [flow(s) for s in signals] == ["train.m: s3://lake/big -> model://default/m"]
    (ev,) = signals[0].evidence
    line = int(ev.location.rsplit(":", 1)[1])
    assert '"dataset"' in (tmp_path / "big.json").read_text().splitlines()[line - 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "big.json: JSON nests deeper than 200 levels (yaml.max_depth)"),
        ('{"a":' * 300 + "1" + "}" * 300, "big.json: JSON nests deeper than 200 levels (yaml.max_depth)"),
        (
            '{"model": {"name": "m"},',
            "big.json:1: invalid JSON: Expecting property name enclosed in double quotes",
        ),
    ],
)
def test_hostile_or_broken_json_fails_alone(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, {"big.json": text, "good.yaml": GOOD})
    signals, _, problems = collect(tmp_path)
    assert [flow(s) for s in signals] == [GOOD_FLOW]
    assert problems == [message]


def test_json_node_limit_comes_from_the_yaml_settings(tmp_path: Path) -> None:
    set_limits(YamlLimits(max_nodes=1000))
    write(
        tmp_path,
        {"wide.json": json.dumps({"model": {"name": "m"}, "xs": list(range(5000))}), "good.yaml": GOOD},
    )
    signals, _, problems = collect(tmp_path)
    assert [flow(s) for s in signals] == [GOOD_FLOW]
    assert problems == ["wide.json: JSON has more than 1000 nodes (yaml.max_nodes)"]


def test_a_file_over_its_time_budget_is_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    # Interpolations that double at every level: bounded by the budget (and the value cap), not by luck.
    levels = "\n".join(f"v{i}: ${{v{i + 1}}}${{v{i + 1}}}" for i in range(18)) + "\nv18: x\n"
    write(tmp_path, {"conf/config.yaml": "defaults: [_self_]\n" + levels + GOOD, "good.yaml": GOOD})
    signals, _, problems = collect(tmp_path, max_file_seconds=0.0)
    assert GOOD_FLOW in [flow(s) for s in signals]
    assert "conf/config.yaml: skipped: parsing took longer than 0 s (max_file_seconds)" in problems


def test_interpolation_growth_is_capped(tmp_path: Path) -> None:
    levels = "\n".join(f"v{i}: ${{v{i + 1}}}${{v{i + 1}}}" for i in range(20)) + "\nv20: xxxxxxxxxx\n"
    write(tmp_path, {"t.yaml": levels + GOOD})
    signals, _, problems = collect(tmp_path)
    assert [flow(s) for s in signals] == [GOOD_FLOW]
    assert any("grows past 100000 characters" in p for p in problems)


def test_hydra_defaults_outside_the_repository_are_refused_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text("dataset: s3://secret/should-not-appear\n", encoding="utf-8")
    repo = tmp_path / "repo"
    write(
        repo,
        {
            "conf/config.yaml": "defaults:\n  - ../../secret\n  - data: ../../../secret\n  - _self_\n" + GOOD,
            "conf/link.yaml": "defaults:\n  - ../escape\n  - _self_\n" + GOOD,
        },
    )
    (repo / "conf" / "escape.yaml").symlink_to(outside)
    signals, _, problems = collect(repo, paths=["conf/config.yaml"])
    assert [flow(s) for s in signals] == [GOOD_FLOW]
    assert sorted(problems) == [
        "conf/config.yaml:2: defaults: ../../secret points outside the repository; not read",
        "conf/config.yaml:3: defaults: data: ../../../secret points outside the repository; not read",
    ]
    signals, _, problems = collect(repo / "conf", paths=["config.yaml"])
    assert all("secret" not in flow(s) for s in signals)


def test_a_symlinked_default_leaving_the_scan_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.yaml").write_text("dataset: s3://secret/x\n", encoding="utf-8")
    repo = tmp_path / "repo"
    write(repo, {"conf/config.yaml": "defaults:\n  - data: shared\n  - _self_\n" + GOOD})
    (repo / "conf" / "data").mkdir()
    (repo / "conf" / "data" / "shared.yaml").symlink_to(outside / "data.yaml")
    signals, _, problems = collect(repo)
    assert [flow(s) for s in signals] == [GOOD_FLOW]
    assert problems == ["conf/config.yaml:2: defaults: shared.yaml is outside the scanned folder; not read"]


def test_optional_defaults_that_are_missing_are_not_problems(tmp_path: Path) -> None:
    write(tmp_path, {"conf/config.yaml": "defaults:\n  - optional local: default\n  - _self_\n" + GOOD})
    signals, _, problems = collect(tmp_path)
    assert [flow(s) for s in signals] == [GOOD_FLOW] and problems == []


def test_environment_references_are_visible_placeholders_reported_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.yaml": "model: {name: a}\ndataset: ${oc.env:DATA_ROOT}/clicks\n",
            "b.yaml": "model: {name: b}\ndatasets: [$DATA_ROOT/views, 's3://lake/${env:BUCKET_PREFIX}/x']\n",
        },
    )
    signals, _, problems = collect(tmp_path)
    assert sorted(flow(s) for s in signals) == [
        "train.a: file/${DATA_ROOT}/clicks -> model://default/a",
        "train.b: file/${DATA_ROOT}/views -> model://default/b",
        "train.b: s3://lake/${BUCKET_PREFIX}/x -> model://default/b",
    ]
    assert sorted(problems) == [
        "a.yaml:2: environment variable DATA_ROOT is not read; kept as ${DATA_ROOT} in asset names",
        "b.yaml:2: environment variable BUCKET_PREFIX is not read; kept as ${BUCKET_PREFIX} in asset names",
    ]


def test_deeply_nested_protobuf_text_fails_alone(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"models/m/config.pbtxt": 'name: "m"\n' + "a {" * 500 + "}" * 500, "good.yaml": GOOD},
    )
    signals, _, problems = collect(tmp_path)
    assert [flow(s) for s in signals] == [GOOD_FLOW]
    assert problems == ["models/m/config.pbtxt:2: protobuf text nests deeper than 64 levels"]


def test_feast_template_placeholders_in_feature_store_yaml_are_read_as_text(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "repo/feature_store.yaml": "project: p\nregistry: r.db\nprovider: aws\noffline_store:\n"
            "    type: redshift\n    cluster_id: %CLUSTER%\n    region: %REGION%\n    database: db\n",
            "repo/views.py": "from feast import FeatureView, RedshiftSource, Field\n"
            "src = RedshiftSource(table='trips')\nv = FeatureView(name='v', source=src, schema=[Field(name='km')])\n",
        },
    )
    signals, _, problems = collect(tmp_path)
    assert problems == []
    assert [flow(s) for s in signals] == [
        "materialize.v: redshift://%CLUSTER%.%REGION%:5439/db.public.trips#km -> feature://feast/v#km"
    ]


def test_an_absolute_default_is_refused_not_read(tmp_path: Path) -> None:
    write(tmp_path, {"conf/config.yaml": "defaults:\n  - /etc/hostname\n  - _self_\n" + GOOD})
    signals, _, problems = collect(tmp_path)
    assert [flow(s) for s in signals] == [GOOD_FLOW]
    assert problems == ["conf/config.yaml:2: defaults: hostname.yaml is outside the scanned folder; not read"]


def test_deeply_nested_python_fails_alone(tmp_path: Path) -> None:
    deep = "from feast import FeatureView\nx = " + "[" * 1000 + "]" * 1000 + "\n"
    write(tmp_path, {"repo/views.py": deep, "good.yaml": GOOD})
    signals, _, problems = collect(tmp_path)
    assert [flow(s) for s in signals] == [GOOD_FLOW]
    assert len(problems) == 1 and problems[0].startswith("repo/views.py: invalid Python")
