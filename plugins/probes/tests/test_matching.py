"""Payload matching: match types, normalization, boundaries, field paths, JSON, bytes, numbers."""

from __future__ import annotations

import json
import os

import pytest

from flowscope_probes.matching import CONTAINS, EXACT_MATCH, Hit, MatchConfig, MatchEngine
from flowscope_probes.matching.leaves import MAX_LEAVES, leaves

# A floor low enough to use short readable values; the noise floor has its own tests.
LOW = MatchConfig(min_length=1, min_digits=1, min_entropy=0.0, stop_list=frozenset(), aho_corasick="off")


def one(value: object, payload: object, config: MatchConfig = LOW) -> list[tuple[str, str]]:
    """(match, sink_path) of each hit of one value in one payload."""
    return [(h.match, h.sink_path) for h in MatchEngine(config).match([value], [payload])]


def test_exact_match_whole_leaf_after_normalization() -> None:
    assert one("Alice", "alice") == [(EXACT_MATCH, "")]
    assert one("  Ada   Lovelace ", "ada lovelace") == [(EXACT_MATCH, "")]
    assert one("ada lovelace", " ADA\n\tLovelace  ") == [(EXACT_MATCH, "")]


def test_contains_inside_text() -> None:
    assert one("alice", "hello Alice, welcome") == [(CONTAINS, "")]
    assert one("ada lovelace", "name: ADA\n   lovelace!") == [(CONTAINS, "")]


def test_no_match_is_no_hit() -> None:
    assert one("alice", "bob and carol") == []
    assert one("ada lovelace", "ada, lovelace") == []  # the space of the value is not optional


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        ("user 42 x", True),
        ("42", True),
        ("id=42,", True),
        ("last_location:42", True),
        ("user_42", True),  # "_" separates tokens
        ("1423", False),
        ("x42", False),
        ("42b", False),
        ("42.5", False),  # part of a decimal number
        ("v 0.42", False),
        ("42. end", True),  # a full stop after it is not a decimal point
        ("[42,43]", True),
    ],
)
def test_token_boundaries(payload: str, found: bool) -> None:
    assert bool(one(42, payload)) is found


def test_boundary_inside_decimal_numbers() -> None:
    assert one("7749", "lat 37.7749") == []
    assert one(37.7749, "lat 37.7749;") == [(CONTAINS, "")]
    assert one("-122.4194", "lng=-122.4194") == [(CONTAINS, "")]


def test_value_starting_with_punctuation_needs_no_boundary_there() -> None:
    assert one("@alice", "ping x@alice now") == [(CONTAINS, "")]


def test_nested_paths() -> None:
    payload = {"user": {"id": 7, "friends": [{"name": "bob"}, {"name": "Alice"}]}, "note": "from alice"}
    assert one("alice", payload) == [(EXACT_MATCH, "user.friends[1].name"), (CONTAINS, "note")]
    assert one("alice", ("x", "alice")) == [(EXACT_MATCH, "[1]")]
    assert one("alice", [["q", ["alice w"]]]) == [(CONTAINS, "[0][1][0]")]
    assert one(3, {1: {2: 3}}) == [(EXACT_MATCH, "1.2")]


def test_dict_keys_are_not_searched() -> None:
    assert one("alice", {"alice": "bob"}) == []


def test_json_text_is_decoded_and_walked() -> None:
    body = json.dumps({"location": {"lat": 37.7749, "who": "Ada Lovelace"}})
    assert one("ada lovelace", body) == [(EXACT_MATCH, "location.who")]
    assert one(37.7749, body) == [(EXACT_MATCH, "location.lat")]
    nested = {"value": json.dumps([1, {"email": "a@b.example"}])}
    assert one("A@B.example", nested) == [(EXACT_MATCH, "value[1].email")]


def test_json_escaped_value_inside_text_still_matches() -> None:
    quoted = 'O\'Brien "the third"'
    line = "audit " + json.dumps({"name": quoted})  # not JSON as a whole: searched as text
    assert one(quoted, line) == [(CONTAINS, "")]
    accented = "José Müller"
    for ensure_ascii in (True, False):
        line = "payload=" + json.dumps({"n": accented}, ensure_ascii=ensure_ascii)
        assert one(accented, line) == [(CONTAINS, "")], ensure_ascii


def test_invalid_json_text_is_searched_as_text() -> None:
    assert one("alice", '{"name": "alice", broken') == [(CONTAINS, "")]


def test_bytes_sources_and_sinks() -> None:
    assert one(b"alice", "Alice") == [(EXACT_MATCH, "")]
    assert one("alice", b"hello alice") == [(CONTAINS, "")]
    assert one("alice", {"blob": bytearray(b"\x00\xffalice\x00")}) == [(CONTAINS, "blob")]
    assert one("alice", memoryview(b'{"who": "alice"}')) == [(EXACT_MATCH, "who")]


def test_numbers_compare_as_text() -> None:
    assert one(4217, "4217") == [(EXACT_MATCH, "")]
    assert one("4217", 4217) == [(EXACT_MATCH, "")]
    assert one(4217.0, {"n": 4217}) == [(EXACT_MATCH, "n")]
    assert one(4217, [4217.0]) == [(EXACT_MATCH, "[0]")]
    assert one(0.5, {"p": 0.5}) == [(EXACT_MATCH, "p")]
    assert one(True, "true") == []  # booleans are never source values
    assert one(float("nan"), "nan") == []


def test_other_scalar_sinks() -> None:
    import datetime
    import decimal
    import uuid

    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert one(str(u).upper(), {"id": u}) == [(EXACT_MATCH, "id")]
    assert one("12.5", decimal.Decimal("12.50")) == [(EXACT_MATCH, "")]
    assert one("2024-05-01", datetime.date(2024, 5, 1)) == [(EXACT_MATCH, "")]
    assert one("alice", {"s": {"alice"}, "o": object()}) == []  # sets and unknown objects are skipped


def test_several_sources_and_sinks_are_indexed() -> None:
    engine = MatchEngine(LOW)
    hits = engine.match(["alice", "nobody", 90210], ["zip 90210", {"who": "alice"}, "alice moved to 90210"])
    assert [(h.source, h.sink, h.match, h.sink_path) for h in hits] == [
        (0, 1, EXACT_MATCH, "who"),
        (0, 2, CONTAINS, ""),
        (2, 0, CONTAINS, ""),
        (2, 2, CONTAINS, ""),
    ]


def test_equal_sources_each_get_their_hits() -> None:
    hits = MatchEngine(LOW).match(["alice", "ALICE"], ["alice"])
    assert [(h.source, h.match) for h in hits] == [(0, EXACT_MATCH), (1, EXACT_MATCH)]
    assert hits[0].value_hash == hits[1].value_hash


def test_exact_wins_over_contains_in_the_same_leaf_and_paths_are_capped() -> None:
    payload = [f"alice {i}" for i in range(10)] + ["alice"]
    got = one("alice", payload)
    assert got == [(CONTAINS, "[0]"), (CONTAINS, "[1]"), (CONTAINS, "[2]"), (CONTAINS, "[3]")]
    assert one("alice", ["alice", "alice alice"]) == [(EXACT_MATCH, "[0]"), (CONTAINS, "[1]")]


def test_hits_never_cross_leaves() -> None:
    assert one("ada lovelace", ["ada", "lovelace"]) == []
    assert one("ab", {"x": "a", "y": "b"}) == []


def test_non_leaf_sources_are_not_searched() -> None:
    engine = MatchEngine(LOW)
    assert engine.match([{"a": "alice"}, ["alice"], None], ["alice"]) == []
    assert engine.match([], ["alice"]) == []
    assert engine.match(["alice"], []) == []
    assert engine.match(["alice"], [None, {}, [], ""]) == []


def test_huge_payloads_are_bounded_and_counted() -> None:
    engine = MatchEngine(LOW)
    hits = engine.match(["needle"], [["x"] * (MAX_LEAVES + 5) + ["needle"]])
    assert hits == []  # the leaf past the bound is not searched
    assert engine.truncated_sinks == 1
    deep: object = "needle"
    for _ in range(100):
        deep = [deep]
    assert engine.match(["needle"], [deep]) == []
    assert engine.truncated_sinks == 2


def test_leaves_helper_lists_paths() -> None:
    assert leaves({"a": [1, "x"], "b": None, "c": '{"d": true}'}) == [
        ("a[0]", "1"),
        ("a[1]", "x"),
        ("c.d", "true"),
    ]


def test_hit_holds_no_raw_value() -> None:
    secret = "sensitive.person@example.org"
    hits = MatchEngine(MatchConfig(salt=b"s")).match([secret], [f"mail to {secret}", {"to": secret}])
    assert len(hits) == 2
    assert all(isinstance(h, Hit) for h in hits)
    text = repr(hits)
    assert secret not in text and "sensitive" not in text and "example" not in text


def test_nul_inside_a_leaf_keeps_paths_right() -> None:
    payload = {"a": "x\x00y", "b": "first\x00alice", "c": "alice"}
    assert one("alice", payload) == [(CONTAINS, "b"), (EXACT_MATCH, "c")]


def test_dict_leaves_keep_their_paths() -> None:
    """Dicts of plain strings, and dicts mixing JSON texts, leading spaces, numbers and non-string keys."""
    flat = {"a": "x", "b": "", "c": "y z"}
    assert leaves({"doc": flat}) == [("doc.a", "x"), ("doc.b", ""), ("doc.c", "y z")]
    assert leaves(flat) == [("a", "x"), ("b", ""), ("c", "y z")]
    mixed = {"a": "x", 7: "k", "j": '{"in": "v"}', "s": " w", "n": 12}
    assert leaves({"doc": mixed}) == [
        ("doc.a", "x"), ("doc.7", "k"), ("doc.j.in", "v"), ("doc.s", " w"), ("doc.n", "12")
    ]  # fmt: skip
    assert one("needle", {"d": {"k": "a needle here"}}) == [(CONTAINS, "d.k")]


def test_match_normalized_is_match_on_normalized_values() -> None:
    engine = MatchEngine(MatchConfig(salt=b"s"))
    sources: list[object] = ["Ada  Lovelace", 4821937, "no", 52.520008, "ada@example.org", "ada@example.org"]
    sinks: list[object] = ['{"who": "ada lovelace", "id": 4821937}', "mail ADA@example.org", (52.520008, "x")]
    hits = engine.match(sources, sinks)
    assert hits and hits == engine.match_normalized([engine.normalized(v) for v in sources], sinks)
    assert engine.normalized("no") is None


def test_the_speedups_are_built_where_required() -> None:
    """CI sets FLOWSCOPE_PROBES_REQUIRE_SPEEDUPS=1, so a build that silently fell back to the pure-Python
    matcher (no compiler, a broken setup.py) fails there instead of testing only the fallback."""
    from flowscope_probes.matching.leaves import matcher_build, speedups
    from flowscope_probes.settings import ProbeSettings
    from flowscope_probes.worker import Worker

    assert matcher_build() == ("python" if speedups is None else "compiled")
    if os.environ.get("FLOWSCOPE_PROBES_REQUIRE_SPEEDUPS") == "1":
        assert speedups is not None, "the C speedups were not built"
    worker = Worker(ProbeSettings(service="t"), b"salt")
    assert worker.health()["matcher"] == matcher_build()
