"""Labels, the explicit-name rule and flattening of request bodies."""

from __future__ import annotations

from flowscope import naming
from flowscope.model import Asset, Job
from flowscope_probes.labels import (
    asset_from_name,
    asset_label,
    flatten,
    job_label,
    parse_asset_label,
    parse_job_label,
)


def test_labels_round_trip() -> None:
    for asset in (
        naming.http("/api/v1/nearby_friends", "nearby-friends.internal", key="location"),
        naming.cache("last_location:{}", "nearby-cache"),
        Asset("postgres://db:5432", "app.users", "email"),
        Asset("file", "/tmp/a#b.txt"),
    ):
        assert parse_asset_label(asset_label(asset)) == asset
    job = Job("service://nearby-friends", "update_last_location")
    assert parse_job_label(job_label(job)) == job


def test_explicit_names() -> None:
    assert asset_from_name("signup#email", "shop") == Asset("service://shop", "signup", "email")
    assert asset_from_name("log://python/audit#user_id", "shop") == naming.log("audit", "python", "user_id")
    assert asset_from_name("http://api.internal//v1/users#email", "shop") == naming.http(
        "/v1/users", "api.internal", key="email"
    )
    given = Asset("kafka://b:9092", "events")
    assert asset_from_name(given, "shop") is given
    # the rule is the inverse of how an Asset prints itself
    for a in (naming.http("/x", "h", key="k"), naming.log("cat", "python")):
        assert asset_from_name(str(a), "shop") == a


def test_flatten_keeps_leaves_with_paths() -> None:
    body = {"user": {"id": 12345, "emails": ["a@x.org", "b@x.org"], "ok": True, "nick": None}, "n": 1.5}
    assert list(flatten(body)) == [
        ("user.id", 12345),
        ("user.emails[0]", "a@x.org"),
        ("user.emails[1]", "b@x.org"),
        ("n", 1.5),
    ]
