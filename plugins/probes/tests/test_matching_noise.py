"""The noise floor, the configuration errors, salted hashes and the PayloadMatcher seen by core."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from flowscope import hookimpl
from flowscope.contracts import PayloadMatch, PayloadMatcher
from flowscope.errors import UserError
from flowscope.plugins import Plugins, make_manager
from flowscope_probes.matching import (
    DEFAULT_STOP_LIST,
    EXACT_MATCH,
    NO_MATCH,
    MatchConfig,
    MatchEngine,
    payload_matchers,
)
from flowscope_probes.matching import config as config_module
from flowscope_probes.matching.noise import entropy, entropy_at_least
from flowscope_probes.matching.normalize import hash_key, value_hash


@pytest.mark.parametrize(
    "value",
    [
        "abc",  # shorter than min_length
        "true", "False", " NULL ", "none", "info", "application/json", "admin",  # stop-list
        4217, "2024", "8080", 1.5, "-12.5",  # numbers with fewer than five digits
        "aaaaaaa", "0000000", 1_000_000, "----------",  # one symbol repeated: entropy under 1 bit
        True, None, "", "   ", {"a": 1}, [1, 2], object(),  # not source leaves
        float("inf"),
    ],
)  # fmt: skip
def test_below_the_noise_floor(value: Any) -> None:
    engine = MatchEngine()
    assert not engine.eligible(value)
    assert engine.match([value], [str(value), {"v": value}]) == []


@pytest.mark.parametrize(
    "value",
    ["alice", "Ada Lovelace", "ada@example.org", 42171, "42171", 37.7749, -122.4194, b"bob-smith", "abab"],
)
def test_above_the_noise_floor(value: Any) -> None:
    assert MatchEngine().eligible(value)


def test_each_threshold_is_configurable() -> None:
    assert MatchEngine(MatchConfig(min_length=3)).eligible("tom")
    assert MatchEngine(MatchConfig(min_digits=2)).eligible(4217)
    assert MatchEngine(MatchConfig(min_entropy=0.0)).eligible("aaaaaaa")
    assert not MatchEngine(MatchConfig(min_entropy=3.0)).eligible("alice")  # 5 characters: at most 2.32 bits
    assert MatchEngine(MatchConfig(stop_list=frozenset())).eligible("true")
    assert not MatchEngine(MatchConfig(stop_list=DEFAULT_STOP_LIST | {"acme-corp"})).eligible("ACME-Corp")


def test_entropy_shortcut_agrees_with_the_count() -> None:
    samples = ["aaaa", "aab", "abab", "aaaaaaab", "abcd", "aaaaaaaaaaaaaaaabc", "0000000001", "xy" * 20]
    for text in samples:
        for floor in (0.5, 0.9, 1.0, 1.5, 2.0, 3.0):
            assert entropy_at_least(text, floor) == (entropy(text) >= floor), (text, floor)
    assert entropy("abab") == pytest.approx(1.0)
    assert entropy("") == 0.0


def test_aho_on_without_the_package_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_module, "aho_available", lambda: False)
    with pytest.raises(UserError, match=r"aho_corasick is 'on' but pyahocorasick is not installed"):
        MatchConfig(aho_corasick="on")
    assert MatchConfig(aho_corasick="auto").aho_corasick == "auto"  # auto falls back to the plain path


def test_bad_config_values() -> None:
    with pytest.raises(UserError, match="aho_corasick must be one of auto, on, off"):
        MatchConfig(aho_corasick="yes")
    with pytest.raises(UserError, match="salt must be bytes"):
        MatchConfig(salt="text")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="min_length"):
        MatchConfig(min_length=0)
    with pytest.raises(ValueError, match="unknown strategy"):
        MatchEngine(strategy="fast")


def test_auto_without_the_package_uses_the_plain_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowscope_probes.matching import engine as engine_module

    monkeypatch.setattr(engine_module, "aho_available", lambda: False)
    engine = MatchEngine(MatchConfig(aho_corasick="auto"))
    sources = [f"user-{i:05d}-x" for i in range(300)]
    hits = engine.match(sources, ["big " * 5000 + "user-00007-x"])
    assert engine.last_strategy in ("compiled", "direct", "tokens")
    assert [h.source for h in hits] == [7]


def test_value_hash_is_salted_16_hex_and_normalized() -> None:
    a = MatchEngine(MatchConfig(salt=b"deployment-a"))
    b = MatchEngine(MatchConfig(salt=b"deployment-b"))
    ha = a.match(["Alice Smith"], ["alice smith"])[0].value_hash
    hb = b.match(["Alice Smith"], ["alice smith"])[0].value_hash
    assert re.fullmatch(r"[0-9a-f]{16}", ha) and re.fullmatch(r"[0-9a-f]{16}", hb)
    assert ha != hb
    assert ha == a.value_hash("  ALICE   smith")  # the normalized value is hashed
    assert a.value_hash(42171) == a.value_hash("42171")
    assert a.value_hash("abc") is None
    long_salt = MatchEngine(MatchConfig(salt=b"x" * 200))  # longer than a blake2b key: hashed down
    assert long_salt.value_hash("alice") not in (None, a.value_hash("alice"))
    assert MatchEngine().value_hash("alice") != ha  # no salt is a different key too
    # the engine copies a keyed hasher per value: the same as normalize.value_hash, the definition
    for salt in (b"deployment-a", b"x" * 200, b""):
        engine = MatchEngine(MatchConfig(salt=salt))
        for norm in ("alice smith", "42171", "josé", "\udcff"):
            assert engine._hash(norm) == value_hash(norm, hash_key(salt))


def test_payload_matcher_protocol() -> None:
    (matcher,) = payload_matchers(MatchConfig(salt=b"s"))
    assert isinstance(matcher, PayloadMatcher)
    assert matcher.kind == "payload" and matcher.name == "probes_payload"
    assert matcher.match(
        "ada@example.org", {"a": "to ada@example.org", "b": "ADA@example.org"}
    ) == PayloadMatch(EXACT_MATCH, "b")
    assert matcher.match("ada@example.org", "to ada@example.org") == PayloadMatch("CONTAINS", None)
    assert matcher.match("ada@example.org", "nothing here") == PayloadMatch(NO_MATCH)
    assert matcher.match("true", "true") == PayloadMatch(NO_MATCH)  # under the noise floor


def test_core_accepts_the_matcher() -> None:
    class Plugin:
        @hookimpl
        def register_matchers(self, register: Callable[[Any], None]) -> None:
            for m in payload_matchers():
                register(m)

    plugins = Plugins(make_manager(load_entrypoints=False, plugins=[("probes_test", Plugin())]))
    registered = plugins.matchers("payload")
    assert [r.name for r in registered] == ["probes_payload"]


def test_salt_is_not_in_the_config_repr() -> None:
    assert "s3cret" not in repr(MatchConfig(salt=b"s3cret"))
