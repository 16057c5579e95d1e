from __future__ import annotations

import pytest

from flowscope import naming
from flowscope.merge import normalize_asset
from flowscope.model import Asset


def test_each_kind_has_one_scheme() -> None:
    made = {
        "log": naming.log("photo_uploads", "scribe", "location"),
        "http": naming.http("api/v1/nearby_friends", "nearby-friends.internal", "location"),
        "cache": naming.cache("photo:", "memcache-main"),
        "queue": naming.queue("photo_jobs", "sqs"),
        "kafka": naming.kafka("photos", "broker:9092"),
        "feature": naming.feature("user_location_features", "home_city", "feast"),
        "model": naming.model("ad_targeting_model", "3", "registry"),
        "service": naming.service("ads-ranking", "rank"),
        "code": naming.code("www/photos/upload.php", "www"),
        "result": naming.result("query/15b5c594", "trino://coordinator:8080", "user_id"),
    }
    assert set(made) == set(naming.KINDS)
    for kind, asset in made.items():
        assert naming.kind_of(asset) == kind
    assert made["http"].name == "/api/v1/nearby_friends"
    assert made["model"].name == "ad_targeting_model/3"
    assert made["feature"].field == "home_city"
    assert made["result"] == Asset("result://coordinator:8080", "query/15b5c594", "user_id")


def test_empty_system_gets_default() -> None:
    assert naming.log("x").namespace == "log://default"


def test_http_rejects_other_schemes() -> None:
    with pytest.raises(ValueError):
        naming.http("/p", "h", scheme="ftp")


def test_normalize_folds_host_case_and_quotes() -> None:
    a = normalize_asset(Asset("MySQL://AppDB:3306/", '"photos_app".`photos`', "`location`"))
    assert a == Asset("mysql://appdb:3306", "photos_app.photos", "location")


def test_asset_ids_are_marquez_style() -> None:
    assert (
        Asset("mysql://appdb:3306", "photos_app.photos").id == "dataset:mysql://appdb:3306:photos_app.photos"
    )
    assert (
        Asset("mysql://appdb:3306", "photos_app.photos", "location").id
        == "datasetField:mysql://appdb:3306:photos_app.photos:location"
    )


def test_job_namespaces_follow_openlineage_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The naming spec: a job lives in its producer's namespace; OPENLINEAGE_NAMESPACE names it."""
    from datetime import UTC, datetime

    from flowscope.events import build_events
    from flowscope.model import Edge, Job

    monkeypatch.delenv("OPENLINEAGE_NAMESPACE", raising=False)
    assert naming.job_namespace("sql") == "flowscope://sql" and naming.scan_job_namespace() == "flowscope"
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "acme-lineage")
    assert naming.job_namespace("sql") == "acme-lineage" == naming.scan_job_namespace()
    edge = Edge(Job(naming.job_namespace("declared"), "copy"), naming.log("a"), naming.log("b"))
    scan_event, job_event = build_events([edge], {}, scan_id="s", event_time=datetime(2024, 1, 1, tzinfo=UTC))
    assert scan_event.job.namespace == "acme-lineage" and job_event.job.namespace == "acme-lineage"
    assert job_event.run.facets["parent"].job.namespace == "acme-lineage"


def test_the_fast_path_spells_assets_as_the_full_normalization_does() -> None:
    from flowscope.merge import _normalize_asset

    names = [
        "app.users",
        '"app"."users"',
        "app. users",
        " app.users",
        "s3://b/k",
        "/data/x.csv",
        "a b.c",
        "[dbo].[t]",
        "s3://user:pw@bucket/key",  # user-info: dropped by the slow path (flowscope.redact.strip_url)
        "https://h/p?token=abc",
    ]
    fields = [None, "email", "`email`", " email", "e mail", "[x]"]
    namespaces = ["postgres://db:5432", "Postgres://DB:5432/", "file", "hive://m/", "postgres://u:p@db:5432"]
    for ns in namespaces:
        for name in names:
            for field in fields:
                a = Asset(ns, name, field)
                assert normalize_asset(a) == _normalize_asset(a), a
    plain = Asset("postgres://db:5432", "app.users", "email")
    assert normalize_asset(plain) is plain
