"""OpenLineage ingest over hand-written sample files from Airflow-, Spark- and dbt-style producers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowscope import ingest
from flowscope.errors import UserError
from flowscope.model import IDENTITY, Asset, Edge, Transformation
from flowscope.specs import spec_dir, validate_event
from flowscope.store import Store

DATA = Path(__file__).parent / "data"
PHOTOS = Asset("mysql://appdb:3306", "photos_app.photos")
RAW = Asset("s3://acme-lake", "raw/photos")
GEO = Asset("hive://metastore:9083", "features.photo_geo")
DAILY = Asset("trino://trino.acme.internal:8080", "analytics.public.user_geo_daily")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / ".flowscope") as s:
        yield s


def by_pair(edges: list[Edge]) -> dict[tuple[Asset, Asset | None], Edge]:
    return {(e.source, e.target): e for e in edges}


def test_airflow_column_lineage_schema_tags_and_pure_reads(store: Store) -> None:
    got = ingest.ingest_file(store, DATA / "airflow_photos.jsonl")
    assert [line for line, _ in got.events] == [1, 2, 3] and not got.problems
    edges = by_pair(store.edges())
    geo_lat = edges[(PHOTOS.with_field("lat"), RAW.with_field("geo"))]
    assert geo_lat.transformations == {
        Transformation("DIRECT", "TRANSFORMATION", False, "ST_GeoHash(lat, lng, 7)")
    }
    assert edges[(PHOTOS.with_field("id"), RAW.with_field("id"))].transformations == {IDENTITY}  # none given
    owner = edges[(PHOTOS.with_field("owner_id"), RAW.with_field("owner_id"))]
    assert owner.kinds == ["declared"] and owner.confidence == 0.95 and owner.collectors == {"ingest"}
    (ev,) = owner.evidence
    assert ev.location.endswith("airflow_photos.jsonl:2") and ev.kind == "declared"
    assert dict(ev.detail) == {
        "producer": "https://github.com/apache/airflow/tree/providers-openlineage/1.8.0",
        "runId": "018f7560-3a1e-7c1a-9d43-6b0e2f1d9a01",
        "eventType": "COMPLETE",
    }
    assert owner.job.job_type == "TASK"
    filt = edges[(PHOTOS.with_field("created_at"), RAW)]
    assert {t.subtype for t in filt.transformations} == {"FILTER"}
    # The START event (line 1) has no column lineage; the COMPLETE event covers the pair, so no
    # dataset-level photos -> raw/photos edge is added.
    assert (PHOTOS, RAW) not in edges
    assert edges[(RAW, None)].job.name == "photos_daily.check_row_counts"
    info = store.asset_info(PHOTOS)
    assert info is not None and ("created_at", "TIMESTAMP") in info.fields and info.tags == ("tier:gold",)
    field_info = store.asset_info(PHOTOS.with_field("owner_id"))
    assert field_info is not None and field_info.tags == ("pii",)
    jobs = {e.job.name: e.job for e in store.edges()}
    # COMPLETE events of this producer omit the SQL; the events of one run are read together, so the
    # edges (from COMPLETE's column lineage) carry the SQL of the run's START event ...
    extract = jobs["photos_daily.extract_photos"]
    assert extract.sql is not None and extract.sql.startswith("SELECT id, owner_id")
    assert jobs["photos_daily.check_row_counts"].sql is None  # a run with no SQL anywhere
    raw = list(store.events())
    assert raw[0]["job"]["facets"]["sql"]["query"].startswith(
        "SELECT id, owner_id"
    )  # ... the raw event keeps them
    assert raw[1]["outputs"][0]["facets"]["acme_retention"]["retentionDays"] == 30  # unknown facets kept


def test_spark_single_event_with_dataset_dependencies_and_nested_schema(store: Store) -> None:
    ingest.ingest_file(store, DATA / "spark_photo_features.json")
    edges = by_pair(store.edges())
    # The input's symlinks facet names its metastore table: the path and the table are one asset, named
    # by the table (what Hive's own events and DataHub's Hive connector call it).
    RAW = Asset("hive://metastore:9083", "raw.photos")
    assert set(edges) == {
        (RAW.with_field("owner_id"), GEO.with_field("owner_id")),
        (RAW.with_field("geo"), GEO.with_field("geo_cell")),
        (RAW.with_field("id"), GEO.with_field("photo_count")),
        (RAW.with_field("owner_id"), GEO),
    }
    assert {
        t.subtype for t in edges[(RAW.with_field("id"), GEO.with_field("photo_count"))].transformations
    } == {"AGGREGATION"}
    assert {t.subtype for t in edges[(RAW.with_field("owner_id"), GEO)].transformations} == {"GROUP_BY"}
    assert (
        edges[(RAW.with_field("geo"), GEO.with_field("geo_cell"))]
        .evidence[0]
        .location.endswith("spark_photo_features.json:1")
    )
    info = store.asset_info(GEO)
    assert info is not None and ("stats.first_seen", "timestamp") in info.fields
    (event,) = store.events()
    assert event["outputs"][0]["facets"]["acme_customFacet"]["team"] == "maps-ml"
    assert event["run"]["facets"]["spark_properties"]["properties"]["spark.master"] == "yarn"


def test_json_array_with_legacy_masked_transformation(store: Store) -> None:
    got = ingest.ingest_file(store, DATA / "dbt_array.json")
    assert [line for line, _ in got.events] == [2, 12]
    edges = by_pair(store.edges())
    masked = edges[(GEO.with_field("owner_id"), DAILY.with_field("owner_hash"))]
    assert masked.transformations == {
        Transformation("DIRECT", "TRANSFORMATION", True, "sha256(cast(owner_id as varchar))")
    }
    assert masked.masked and masked.job.sql is not None and masked.job.sql.startswith("select sha256")
    assert (GEO, DAILY) not in edges  # covered by COMPLETE's column lineage
    assert masked.evidence[0].location.endswith("dbt_array.json:12")


def test_invalid_lines_are_reported_and_valid_ones_loaded(store: Store) -> None:
    path = DATA / "broken_lines.jsonl"
    got = ingest.ingest_file(store, path)
    assert [line for line, _ in got.events] == [1, 9]
    assert [(p.line, p.reason) for p in got.problems] == [
        (2, "not JSON: Unterminated string starting at (column 222)"),
        (3, "missing job.namespace or job.name"),
        (5, "missing eventType"),
        (6, "missing run.runId"),
        (7, "eventType 'DONE' is not one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER"),
        (8, "not a JSON object"),
    ]
    assert str(got.problems[1]) == f"{path}:3: missing job.namespace or job.name"
    assert {e.target for e in store.edges()} == {
        Asset("log://default", "feed_logs"),
        Asset("log://default", "ads_logs"),
    }


def test_unusable_files_are_user_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no valid OpenLineage events \(first: line 1: not JSON") as err:
        ingest.ingest_file(store, DATA / "all_invalid.jsonl")
    assert str(DATA / "all_invalid.jsonl") in str(err.value)
    with pytest.raises(UserError, match="no such file"):
        ingest.ingest_file(store, tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(UserError, match="no valid OpenLineage events"):
        ingest.ingest_file(store, tmp_path / "empty.jsonl")
    assert store.scopes() == []


def test_reingesting_a_file_replaces_instead_of_duplicating(store: Store, tmp_path: Path) -> None:
    copy = tmp_path / "events.jsonl"
    lines = (DATA / "airflow_photos.jsonl").read_text().splitlines()
    copy.write_text("\n".join(lines) + "\n")
    ingest.ingest_file(store, copy)
    ingest.ingest_file(store, DATA / "spark_photo_features.json")
    first = store.edges()
    ingest.ingest_file(store, copy)
    assert [(e.key, e.evidence) for e in store.edges()] == [(e.key, e.evidence) for e in first]
    assert len(list(store.events())) == 4
    copy.write_text(lines[2] + "\n")  # the file now holds only the pure read
    ingest.ingest_file(store, copy)
    assert {(e.source, e.target) for e in store.edges(collector="ingest", scope=str(copy.resolve()))} == {
        (RAW, None)
    }
    assert store.lookup(PHOTOS) is None  # nothing refers to it any more


def test_job_events_and_dataset_events_are_accepted() -> None:
    job_event = {
        "eventTime": "2024-05-01T00:00:00Z",
        "producer": "https://example.com/static-lineage",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {"namespace": "static", "name": "nightly_copy"},
        "inputs": [{"namespace": "s3://a", "name": "in"}],
        "outputs": [{"namespace": "s3://a", "name": "out"}],
    }
    dataset_event = {
        "eventTime": "2024-05-01T00:00:00Z",
        "producer": "https://example.com/catalog",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {"namespace": "s3://a", "name": "in", "facets": {"schema": {"fields": [{"name": "x"}]}}},
    }
    assert ingest.problem_of(job_event) == "" and ingest.problem_of(dataset_event) == ""
    loaded = ingest.Ingested(Path("x.json"), events=[(1, job_event), (2, dataset_event)])
    ingest.derive(loaded, "x.json")
    assert [(e.source.name, e.target.name if e.target else None) for e in loaded.edges] == [("in", "out")]
    assert [(i.asset.name, i.fields) for i in loaded.assets] == [("in", (("x", ""),))]


def test_unknown_transformation_subtypes_keep_their_name() -> None:
    got = ingest.transformations(
        {"transformations": [{"type": "INDIRECT", "subtype": "PIVOT"}, {"type": "DIRECT"}]}, {}
    )
    assert got == [Transformation("INDIRECT", "CONDITIONAL", False, "(subtype PIVOT)"), IDENTITY]


def test_sample_files_are_valid_openlineage() -> None:
    spec = spec_dir()
    if spec is None:
        pytest.skip("OpenLineage spec folder not found (set FLOWSCOPE_OL_SPEC)")
    events = [json.loads(line) for line in (DATA / "airflow_photos.jsonl").read_text().splitlines()]
    events.append(json.loads((DATA / "spark_photo_features.json").read_text()))
    events.extend(json.loads((DATA / "dbt_array.json").read_text()))
    broken = (DATA / "broken_lines.jsonl").read_text().splitlines()
    events += [json.loads(broken[0]), json.loads(broken[-1])]
    for event in events:
        assert validate_event(event, spec) == []
