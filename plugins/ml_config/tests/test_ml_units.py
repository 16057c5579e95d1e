"""Logic modules on their own: SELECT lists, interpolation, names, Feast syntax trees."""

from __future__ import annotations

import pytest

from flowscope.model import Asset
from flowscope_ml_config.hydra import Composed, resolve
from flowscope_ml_config.pyfeast import dtype_name, read_python
from flowscope_ml_config.refs import Names, Unresolved
from flowscope_ml_config.sqlselect import parse_select


def test_select_list_maps_aliases_to_columns_and_kinds() -> None:
    select = parse_select(
        "SELECT k, mode(city) AS home, lower(a.city) city2, CAST(max(ds) AS timestamp) AS ts "
        "FROM db.t a JOIN db.u b ON a.k = b.k -- trailing comment"
    )
    assert select is not None and select.tables == ("db.t", "db.u")
    got = {c.name: (c.sources, c.kind) for c in select.columns}
    assert got == {
        "k": (("k",), "IDENTITY"),
        "home": (("city",), "AGGREGATION"),
        "city2": (("city",), "TRANSFORMATION"),
        "ts": (("ds",), "AGGREGATION"),
    }
    assert parse_select("not sql") is None


def test_interpolation_absolute_relative_nested_and_env_default() -> None:
    data = {
        "root": "s3://lake",
        "data": {"base": "${root}/v1", "train": "${.base}/train", "n": "${epochs}"},
        "epochs": 3,
        "user": "${oc.env:USER,nobody}",
    }
    out = resolve(data, Composed())
    assert out["data"] == {"base": "s3://lake/v1", "train": "s3://lake/v1/train", "n": 3}
    assert out["user"] == "nobody"


def test_names_follow_openlineage_and_flowscope_naming() -> None:
    names = Names(registry="reg", table_namespace="hive://h:9083")
    assert names.dataset("s3://bucket/a/b.parquet") == Asset("s3://bucket", "a/b.parquet")
    assert names.dataset("bigquery:p.d.t") == Asset("bigquery", "p.d.t")
    assert names.dataset("analytics.t") == Asset("hive://h:9083", "analytics.t")
    assert names.dataset({"table": "x.y", "namespace": "postgres://db:5432"}) == Asset(
        "postgres://db:5432", "x.y"
    )
    assert names.model("models:/churn/3") == Asset("model://reg", "churn/3")
    assert names.model({"name": "m", "version": 2, "registry": "other"}) == Asset("model://other", "m/2")
    assert names.feature("view:feat") == Asset("feature://feast", "view", "feat")
    with pytest.raises(Unresolved):
        names.dataset("${x}/y")


def test_feast_reader_resolves_bound_names_and_never_imports() -> None:
    repo = read_python(
        "import os\nos.system('rm -rf /')\n"
        "src = FileSource(path='s3://b/p')\nv = FeatureView(name='v', source=src, schema=[Field(name='f', dtype=Array(Int64))])\n"
    )
    view = next(c for c in repo.calls if c.kind == "FeatureView")
    assert view.kwargs["source"].kwargs == {"path": "s3://b/p"}
    assert view.kwargs["schema"][0].kwargs == {"name": "f", "dtype": "array<int64>"}
    assert dtype_name("feast.types.String") == "string"
