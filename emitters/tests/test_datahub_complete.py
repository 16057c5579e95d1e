"""DataHub as its users run it: urns of DataHub's own connectors, retraction of what flowscope emitted last
time, the aspects a catalog shows (flows, typed fields, docs, owners, SQL, platforms, ML entities), and the
file output through DataHub's own ``datahub ingest`` pipeline into each sink. Real acryl-datahub code
throughout (DataHub Lite's SQLite backend, its Pipeline, its urn builders); skipped without the extra."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import flowscope_emitters.plugin
from flowscope.cli import main
from flowscope.events import build_events, event_to_dict
from flowscope.model import IDENTITY, Asset, AssetInfo, Basis, Edge, Job, SourceLocation, Transformation
from flowscope.plugins import make_manager
from flowscope.store import Store

pytest.importorskip(
    "datahub", reason="acryl-datahub not installed: pip install 'flowscope-emitters[datahub]'"
)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HIVE = "hive://warehouse:9083"
MYSQL = "mysql://appdb:3306"
WHEN = datetime(2024, 5, 1, tzinfo=UTC)


def edge(job: Job, source: Asset, target: Asset, t: Transformation = IDENTITY) -> Edge:
    return Edge(job, source, target, confidence=0.9, bases={Basis("sql")}, transformations={t}, count=1)


def events_of(edges: list[Edge], infos: dict[Asset, AssetInfo] | None = None) -> list[dict[str, Any]]:
    built = build_events(edges, infos or {}, scan_id="s", event_time=WHEN, collectors=["sql"])
    return [event_to_dict(e) for e in built]


def warehouse_events() -> list[dict[str, Any]]:
    """Two jobs: photos (MySQL) -> analytics.photo_events (Hive) -> analytics.user_location_daily."""
    load = Job(
        "flowscope://sql",
        "analytics.import_photo_events",
        job_type="QUERY",
        sql="INSERT INTO analytics.photo_events SELECT id, location FROM photos_app.photos WHERE deleted = 0",
        source=SourceLocation("queries/import.sql", url="https://git.example/queries/import.sql"),
        description="Copies photos into the warehouse",
        owner="alice",
    )
    daily = Job("flowscope://sql", "analytics.build_user_location_daily", job_type="QUERY", sql="INSERT ...")
    photos, events, daily_t = (
        Asset(MYSQL, "photos_app.photos"),
        Asset(HIVE, "analytics.photo_events"),
        Asset(HIVE, "analytics.user_location_daily"),
    )
    edges = [
        edge(load, photos.with_field("location"), events.with_field("location")),
        edge(load, photos.with_field("id"), events.with_field("photo_id")),
        edge(load, photos.with_field("deleted"), events, Transformation("INDIRECT", "FILTER")),
        edge(
            daily,
            events.with_field("location"),
            daily_t.with_field("top_location"),
            Transformation("DIRECT", "AGGREGATION"),
        ),
    ]
    infos = {
        photos: AssetInfo(
            photos,
            (("id", "BIGINT"), ("location", "VARCHAR(64)"), ("deleted", "TINYINT")),
            (),
            "Photos users uploaded",
        ),
        events: AssetInfo(events, (("photo_id", "bigint"), ("location", "string")), ("tier:gold",)),
    }
    return events_of(edges, infos)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "flowscope.cli.make_manager",
        lambda: make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)]),
    )


def put(store: Path, events: list[dict[str, Any]]) -> None:
    with Store.open(store) as s:
        s.replace("scan", "scope", [], [], events)


def run(capsys: Any, store: Path, *args: str) -> str:
    with pytest.raises(SystemExit) as done:
        main(["--store", str(store), *args])
    err = capsys.readouterr().err
    assert done.value.code in (0, None), err
    return err


def lite_get(path: Path, urn: str, aspect: str) -> Any:
    from datahub.lite.lite_util import get_datahub_lite

    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(path), "read_only": True}}, True)
    try:
        got = lite.get(urn, [aspect], typed=True) or {}
        return got.get(aspect)
    finally:
        lite.close()


def test_lineage_lands_on_the_urns_of_datahubs_own_connectors(cli: None, tmp_path: Path, capsys: Any) -> None:
    from datahub.emitter.mce_builder import make_dataset_urn, make_schema_field_urn

    put(tmp_path / "s", warehouse_events())
    lite = tmp_path / "lite.db"
    run(capsys, tmp_path / "s", "emit", "--to", "datahub-lite", str(lite))
    # What DataHub's Hive and MySQL sources call these tables:
    photos, events = (
        make_dataset_urn("mysql", "photos_app.photos"),
        make_dataset_urn("hive", "analytics.photo_events"),
    )
    lineage = lite_get(lite, events, "upstreamLineage")
    assert [u.dataset for u in lineage.upstreams] == [photos]
    fine = {(f.upstreams[0], f.downstreams[0]) for f in lineage.fineGrainedLineages}
    assert (make_schema_field_urn(photos, "location"), make_schema_field_urn(events, "location")) in fine
    daily = lite_get(lite, make_dataset_urn("hive", "analytics.user_location_daily"), "upstreamLineage")
    assert [u.dataset for u in daily.upstreams] == [events]


def test_a_removed_flow_disappears_and_other_producers_stay(cli: None, tmp_path: Path, capsys: Any) -> None:
    from datahub.emitter.mce_builder import make_dataset_urn
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.lite.lite_util import get_datahub_lite
    from datahub.metadata.schema_classes import UpstreamClass

    store, lite = tmp_path / "s", tmp_path / "lite.db"
    events = warehouse_events()
    put(store, events)
    run(capsys, store, "emit", "--to", "datahub-lite", str(lite))
    daily = make_dataset_urn("hive", "analytics.user_location_daily")
    other = make_dataset_urn("kafka", "location_updates")  # another producer's upstream of the same table
    writer = get_datahub_lite({"type": "sqlite", "config": {"file": str(lite)}})
    current = lite_get(lite, daily, "upstreamLineage")
    current.upstreams.append(UpstreamClass(other, "TRANSFORMED"))
    writer.write(MetadataChangeProposalWrapper(entityUrn=daily, aspect=current))
    writer.close()
    # The re-scan no longer finds the daily job.
    put(
        store,
        [e for e in events if (e.get("job") or {}).get("name") != "analytics.build_user_location_daily"],
    )
    err = run(capsys, store, "emit", "--to", "datahub-lite", str(lite))
    assert "items flowscope no longer finds removed" in err
    after = lite_get(lite, daily, "upstreamLineage")
    assert [u.dataset for u in after.upstreams] == [other], "flowscope's upstream gone, the other one kept"
    assert not after.fineGrainedLineages
    kept = lite_get(lite, make_dataset_urn("hive", "analytics.photo_events"), "upstreamLineage")
    assert kept.upstreams and kept.fineGrainedLineages  # flows still found stay
    # A third emit of the same graph removes nothing more.
    err = run(capsys, store, "emit", "--to", "datahub-lite", str(lite))
    assert "no longer finds" not in err


def test_a_removed_flow_is_retracted_from_gms_with_patch_removes(
    cli: None, tmp_path: Path, capsys: Any, server: Any
) -> None:
    store = tmp_path / "s"
    events = warehouse_events()
    put(store, events)
    run(capsys, store, "emit", "--to", "datahub", server.url)
    server.requests.clear()
    put(
        store,
        [e for e in events if (e.get("job") or {}).get("name") != "analytics.build_user_location_daily"],
    )
    run(capsys, store, "emit", "--to", "datahub", server.url)
    removes = [
        op
        for r in server.requests
        for p in r["body"]["proposals"]
        if p["changeType"] == "PATCH"
        for op in (lambda v: v["patch"] if isinstance(v, dict) else v)(json.loads(p["aspect"]["value"]))
        if op["op"] == "remove"
    ]
    paths = {op["path"] for op in removes}
    assert any(
        p.startswith("/upstreams/urn:li:dataset:(urn:li:dataPlatform:hive,analytics.photo_events")
        for p in paths
    )
    assert any(p.startswith("/fineGrainedLineages/") for p in paths)
    assert any(p.startswith("/inputDatasetEdges/") for p in paths)
    assert all("photos_app.photos" not in p for p in paths), "nothing still found is removed"


def test_catalog_aspects(tmp_path: Path) -> None:
    from datahub.emitter.mce_builder import make_dataset_urn

    from flowscope_emitters.datahub_convert import convert_all

    naming_events = warehouse_events()
    log_event = events_of(
        [
            edge(
                Job("flowscope://static", "Uploader.save"),
                Asset("log://scribe", "photo_uploads", "user_id"),
                Asset(MYSQL, "photos_app.photos", "owner_id"),
            )
        ]
    )
    p = convert_all(naming_events + log_event)
    by = {(m.entityUrn, m.aspectName): m for m in p.mcps()}
    job = next(u for u, a in by if a == "dataJobInfo" and "import_photo_events" in u)
    info = by[(job, "dataJobInfo")].aspect
    assert info.description == "Copies photos into the warehouse" and info.externalUrl.endswith("import.sql")
    assert info.flowUrn in {u for u, a in by if a == "dataFlowInfo"}
    sql = by[(job, "dataTransformLogic")].aspect.transforms[0].queryStatement.value
    assert sql.startswith("INSERT INTO analytics.photo_events")
    owners = json.loads(by[(job, "ownership")].aspect.value)["patch"]
    assert owners[0]["value"] == {"owner": "urn:li:corpuser:alice", "type": "TECHNICAL_OWNER"}
    photos = make_dataset_urn("mysql", "photos_app.photos")
    fields = {f.fieldPath: type(f.type.type).__name__ for f in by[(photos, "schemaMetadata")].aspect.fields}
    assert fields["id"] == "NumberTypeClass" and fields["location"] == "StringTypeClass"
    assert json.loads(by[(photos, "datasetProperties")].aspect.value)[0]["value"] == "Photos users uploaded"
    platform = by[("urn:li:dataPlatform:log", "dataPlatformInfo")].aspect
    assert platform.displayName == "Log"
    # The filter column alone (INDIRECT) still makes photos an upstream of photo_events.
    events_urn = make_dataset_urn("hive", "analytics.photo_events")
    assert ("upstream", events_urn, photos) in p.items


def test_features_and_models_are_ml_entities() -> None:
    from flowscope_emitters.datahub_convert import convert_all

    feature, model = (
        Asset("feature://feast", "photo_features", "photos_per_day"),
        Asset("model://mlflow", "ranker/3"),
    )
    materialize = Job("flowscope://ml_config", "materialize_photo_features")
    train = Job("flowscope://ml_config", "train_ranker")
    events = events_of(
        [
            edge(materialize, Asset(HIVE, "analytics.photo_events", "photo_id"), feature),
            edge(train, feature, model.with_field("photos_per_day")),
        ]
    )
    mcps = convert_all(events).mcps()
    by = {(m.entityUrn, m.aspectName): m.aspect for m in mcps}
    feature_urn = "urn:li:mlFeature:(photo_features,photos_per_day)"
    assert by[
        ("urn:li:mlFeatureTable:(urn:li:dataPlatform:feast,photo_features)", "mlFeatureTableProperties")
    ].mlFeatures == [feature_urn]
    assert by[(feature_urn, "mlFeatureProperties")].sources == [
        "urn:li:dataset:(urn:li:dataPlatform:hive,analytics.photo_events,PROD)"
    ]
    props = by[("urn:li:mlModel:(urn:li:dataPlatform:mlflow,ranker/3,PROD)", "mlModelProperties")]
    assert len(props.trainingJobs) == 1 and "train_ranker" in props.trainingJobs[0]
    assert props.mlFeatures == [feature_urn]
    assert not [m for m in mcps if m.entityUrn.startswith("urn:li:dataset:(urn:li:dataPlatform:feature")]


@pytest.mark.parametrize("sink", ["datahub-lite", "file"])
def test_datahub_ingest_writes_every_record(
    cli: None, tmp_path: Path, capsys: Any, sink: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``datahub ingest`` with a file source, through DataHub's own Pipeline, into each sink: every
    proposal is written, none dropped or warned about; the patch form (for GMS) is what Lite's sink drops."""
    from datahub.ingestion.run.pipeline import Pipeline

    monkeypatch.setenv("DATAHUB_TELEMETRY_ENABLED", "false")
    store = tmp_path / "s"
    put(store, warehouse_events())
    sinks = {
        "datahub-lite": {
            "type": "datahub-lite",
            "config": {"type": "sqlite", "config": {"file": str(tmp_path / "l.db")}},
        },
        "file": {"type": "file", "config": {"filename": str(tmp_path / "out.json")}},
    }

    def ingest(path: Path) -> tuple[int, int, int]:
        pipeline = Pipeline.create(
            {"source": {"type": "file", "config": {"path": str(path)}}, "sink": sinks[sink]}
        )
        pipeline.run()
        report = pipeline.sink.get_report()
        return report.total_records_written, len(report.failures), len(report.warnings)

    target = tmp_path / f"{sink}.json"
    run(capsys, store, "emit", "--to", "datahub-file", str(target), "--sink", sink)
    n = len(json.loads(target.read_text()))
    assert ingest(target) == (n, 0, 0)
    if sink == "datahub-lite":
        from datahub.emitter.mce_builder import make_dataset_urn

        lineage = lite_get(
            tmp_path / "l.db", make_dataset_urn("hive", "analytics.photo_events"), "upstreamLineage"
        )
        assert lineage.upstreams and lineage.fineGrainedLineages
        rest = tmp_path / "rest.json"
        run(capsys, store, "emit", "--to", "datahub-file", str(rest))
        written, _, warnings = ingest(rest)
        assert written < len(json.loads(rest.read_text())) and warnings, (
            "the GMS form's patches: Lite drops them"
        )
