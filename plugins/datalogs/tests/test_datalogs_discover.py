"""``datalogs discover --owner users.id``: catalog proposals from column lineage in the embedded store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Result
from flowscope_datalogs.catalog import load_catalog

from flowscope.yamlpos import load_yaml

LINEAGE = Path(__file__).parent / "data" / "lineage"


@pytest.fixture
def scanned(cli: Callable[..., Result], tmp_path: Path) -> Path:
    from flowscope.cli import main

    try:
        main(["--store", str(tmp_path / "store"), "scan", "--config", str(LINEAGE / "flowscope.yaml")])
    except SystemExit as done:
        assert done.code in (0, None)
    return tmp_path / "store"


def test_discover_proposes_warehouse_tables_holding_the_user_id(
    scanned: Path, cli: Callable[..., Result]
) -> None:
    result = cli("discover", "--owner", "users.id", "--json")
    assert result.code == 0, result.err
    found = json.loads(result.out)
    owners = {(t["name"], t["owner"]) for t in found["tables"]}
    # both ends of a friend request hold a user id; the hashed id and the MySQL copy are not proposed
    assert owners == {
        ("analytics.app_events", "user_id"),
        ("analytics.friend_requests", "from_user_id"),
        ("analytics.friend_requests", "to_user_id"),
    }
    assert found["masked"] == [
        "hive://warehouse:9083/analytics.user_location_daily#user_id_hash (masked by analytics.build_user_location_daily)"
    ]
    events = next(t for t in found["tables"] if t["name"] == "analytics.app_events")
    assert {c["name"] for c in events["columns"]} == {"event_type", "event_time", "device_id", "ds"}


def test_the_proposal_is_a_catalog_that_exports_nothing_until_reviewed(
    scanned: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    out = tmp_path / "proposed.yaml"
    result = cli("discover", "--owner", "photos_app.users#id", "-o", str(out))
    assert result.code == 0 and "3 table(s) proposed" in result.out
    doc = load_yaml(out.read_text(encoding="utf-8"), str(out)).data
    assert doc["tables"]["app_events"]["partitions"] == ["ds"]  # guessed from the column names
    assert doc["tables"]["friend_requests_by_to_user_id"]["owner"] == "to_user_id"
    catalog = load_catalog(out)
    assert catalog.tables == [] and {s.why for s in catalog.skipped} == {"pending review"}
    again = cli("discover", "--owner", "users.id", "--catalog", str(out), "--json")
    assert json.loads(again.out)["tables"] == [] and json.loads(again.out)["already_in_catalog"] == 3


def test_discover_errors_are_one_line(scanned: Path, cli: Callable[..., Result]) -> None:
    assert "is a dataset; name its user-id field" in cli("discover", "--owner", "users").err
    assert "unknown asset 'userz.id'" in cli("discover", "--owner", "userz.id").err


def test_discover_without_a_store_says_to_scan_first(cli: Callable[..., Result]) -> None:
    result = cli("discover", "--owner", "users.id")
    assert result.code == 1 and "no lineage store here yet; run `flowscope scan` first" in result.err
