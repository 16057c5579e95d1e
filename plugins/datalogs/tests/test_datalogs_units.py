"""Renderers, canonical kinds and request lines, directly."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flowscope_datalogs import kinds
from flowscope_datalogs.renderers import BUILTINS
from flowscope_datalogs.requests import parse_line


def render(name: str, value: object, **options: object) -> str:
    return str(BUILTINS[name].render(value, {"timezone": "UTC", **options}))


def test_enum_labels_integers_and_constants_and_refuses_unknown_values() -> None:
    values = {1: "Opened the camera", "PUBLIC": "Everyone"}
    assert render("enum", 1, values=values) == "Opened the camera"
    assert render("enum", "PUBLIC", values=values) == "Everyone"
    assert render("enum", None, values=values) == ""
    with pytest.raises(ValueError, match="no label for '7'"):
        render("enum", 7, values=values)
    with pytest.raises(ValueError, match="values must map"):
        BUILTINS["enum"].check_options({"values": []})


def test_timestamps_are_shown_in_the_persons_zone_and_epoch_numbers_take_a_unit() -> None:
    at = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
    assert render("timestamp", at, timezone="Europe/Paris") == "2024-01-15 13:00:00 CET"
    assert render("timestamp", at, timezone="America/Los_Angeles") == "2024-01-15 04:00:00 PST"
    assert render("timestamp", 1_705_320_000, timezone="UTC") == "2024-01-15 12:00:00 UTC"
    assert render("timestamp", 1_705_320_000_000, unit="ms", format="%d/%m/%Y") == "15/01/2024"
    with pytest.raises(ValueError):
        render("timestamp", "yesterday")


def test_durations_booleans_numbers_dates_and_lists() -> None:
    assert render("duration", 3723) == "1 h 2 min 3 s"
    assert render("duration", 90_061_000, unit="ms") == "1 d 1 h 1 min 1 s"
    assert render("duration", 0.25) == "250 ms"
    with pytest.raises(ValueError):
        render("duration", -1)
    assert render("boolean", True) == "Yes" and render("boolean", False, false="Off") == "Off"
    assert (
        render("number", 1234567) == "1,234,567"
        and render("number", Decimal("9.5"), decimals=2, unit="EUR") == "9.50 EUR"
    )
    assert render("date", date(2024, 2, 29), format="%d %B %Y") == "29 February 2024"
    assert (
        render(
            "list",
            ["FRIENDS", "PUBLIC"],
            item="enum",
            item_options={"values": {"FRIENDS": "Friends", "PUBLIC": "Everyone"}},
        )
        == "Friends, Everyone"
    )
    with pytest.raises(ValueError, match="item must be a built-in renderer"):
        BUILTINS["list"].check_options({"item": "list"})


def test_kinds_map_engine_types_and_decode_the_canonical_values() -> None:
    assert kinds.duckdb_kind("INTEGER") == "int" and kinds.duckdb_kind("DECIMAL(10,2)") == "decimal"
    assert (
        kinds.duckdb_kind("TIMESTAMP WITH TIME ZONE") == "timestamp"
        and kinds.duckdb_kind("VARCHAR[]") == "list:string"
    )
    assert kinds.duckdb_kind("STRUCT(a INTEGER)") is None and kinds.duckdb_kind("TIMESTAMP[]") is None
    assert kinds.to_python("timestamp", 1_000_000) == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert kinds.to_python("binary", "qgD/") == b"\xaa\x00\xff"
    assert kinds.to_python("list:decimal", ["1.50"]) == [Decimal("1.50")]
    ordered = sorted([3, None, float("nan"), 1], key=kinds.sort_key)
    assert ordered[0] is None and math.isnan(ordered[1]) and ordered[2:] == [1, 3]


def test_request_lines_are_checked_and_times_normalized_to_utc() -> None:
    r = parse_line(
        b'{"request_id": "r-12345678", "user_id": 7, "requested_at": "2024-06-10T09:00:00+02:00"}',
        "f:1",
        "bigint",
    )
    assert (r.user_id, r.requested_at, r.timezone) == (7, "2024-06-10T07:00:00+00:00", None)
    s = parse_line(
        b'{"request_id": "r-12345678", "user_id": "u-9", "requested_at": "2024-06-10"}', "f:2", "string"
    )
    assert s.user_id == "u-9" and s.requested_at == "2024-06-10T00:00:00+00:00"
    for line, why in [
        (b"[]", "expected a JSON object"),
        (
            b'{"request_id": "r-12345678", "user_id": true, "requested_at": "2024-06-10"}',
            "user_id must be an integer",
        ),
        (b'{"user_id": 1, "requested_at": "2024-06-10"}', "missing request_id"),
        (b'{"request_id": "../../etc", "user_id": 1, "requested_at": "2024-06-10"}', "request_id must be"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_line(line, "f:3", "bigint")
