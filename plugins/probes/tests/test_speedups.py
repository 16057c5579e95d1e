"""The C speedups (matching/_speedups.c) give exactly what the Python code gives: the same leaves, truncation
and field paths from the walk, and the same hits from the search, on randomized and hostile payloads."""

from __future__ import annotations

import collections
import decimal
import json
import random
import uuid
from typing import Any

import pytest

from flowscope_probes.matching import MatchConfig, MatchEngine
from flowscope_probes.matching.leaves import MAX_DEPTH, RequestText, leaves, speedups

pytestmark = pytest.mark.skipif(speedups is None, reason="the C speedups are not built here")


class Odd:
    def __str__(self) -> str:  # never called: unknown objects are skipped
        raise AssertionError("__str__ called")


def _scalar(rng: random.Random) -> object:
    return rng.choice(
        [
            "plain text 12345",
            '  {"j": [1, "two", {"k": null}]}',
            "[not json",
            "nul\x00inside",
            "café olé",
            "ключ значение",
            b"bytes \x00 with nul",
            b"\xff\xfe undecodable",
            bytearray(b"a bytearray"),
            True,
            False,
            None,
            0,
            -17,
            2**70,
            3.5,
            1e20,
            float("nan"),
            float("inf"),
            decimal.Decimal("12.50"),
            uuid.UUID(int=7),
            {1, 2},
            Odd(),
            "",
        ]
    )


def _payload(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(9 if depth < 6 else 1)
    if kind == 0:
        return _scalar(rng)
    if kind == 1:
        return {
            rng.choice(["a", "b", "", 3, 2.5, None]): _payload(rng, depth + 1)
            for _ in range(rng.randint(0, 4))
        }
    if kind == 2:
        return [_payload(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == 3:
        return tuple(_payload(rng, depth + 1) for _ in range(rng.randint(0, 3)))
    if kind == 4:
        return collections.OrderedDict(x=_payload(rng, depth + 1), y=[_payload(rng, depth + 1)])
    if kind == 5:
        return json.dumps({"doc": _json_safe(_payload(rng, depth + 1))})
    if kind == 6:
        return [[[[_payload(rng, depth + 1)]]]]
    if kind == 7:

        class MyList(list):  # type: ignore[type-arg]
            pass

        return MyList([_scalar(rng), _payload(rng, depth + 1)])
    return {"nested": {"deeper": _payload(rng, depth + 1)}}


def _json_safe(value: object) -> object:
    """``value`` as JSON would bring it back (other objects become "x")."""
    try:
        return json.loads(json.dumps(value, default=lambda o: "x"))
    except (ValueError, TypeError):  # e.g. keys JSON cannot hold
        return "x"


def _deep(n: int) -> object:
    value: object = "bottom value"
    for i in range(n):
        value = {"k": value} if i % 2 else [value]
    return value


def _flatten(payloads: list[Any], compiled: bool) -> tuple[str, int, list[str]]:
    rt = RequestText(payloads, compiled=compiled)
    n_leaves = len(rt._lens)
    ks = range(n_leaves) if n_leaves <= 200 else [*range(5), *range(n_leaves - 5, n_leaves)]
    return rt.text, rt.truncated, [rt.path(k) for k in ks]


def test_walk_gives_the_python_leaves_truncation_and_paths() -> None:
    rng = random.Random(4242)
    cases = [[_payload(rng) for _ in range(rng.randint(1, 6))] for _ in range(400)]
    cases.append([_deep(MAX_DEPTH + 5), _deep(MAX_DEPTH - 1), _deep(3)])
    cases.append([list(range(20_000))])  # over MAX_LEAVES: truncated
    cases.append([{"big": "word " * 300_000}, "after"])  # over MAX_CHARS: trimmed
    seen_paths = set()
    for payloads in cases:
        assert _flatten(payloads, True) == _flatten(payloads, False), payloads
        seen_paths.update(_flatten(payloads, True)[2])
    assert any("." in p and "[" in p for p in seen_paths)  # the generator reaches nested paths


def test_paths_agree_with_leaves() -> None:
    payload = {"user": {"emails": ["a@x.org", "b@x.org"]}, 3: ("t", 4.5), "": {"": "empty keys"}}
    rt = RequestText([payload], compiled=True)
    assert [rt.path(k) for k in range(len(leaves(payload)))] == [p for p, _ in leaves(payload)]


def test_walk_propagates_errors_from_python_parts_and_checks_arguments() -> None:
    class Boom(collections.abc.Mapping):  # type: ignore[type-arg]
        def __getitem__(self, key: object) -> object:
            raise KeyError(key)

        def __iter__(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

        def __len__(self) -> int:
            return 1

    with pytest.raises(RuntimeError, match="boom"):
        speedups.walk_sinks([[Boom()]], [], 10, [], [])
    with pytest.raises(TypeError):
        speedups.walk_sinks(["x"], [], 10, [], None)


def test_find_records_leaves_and_leaves_spaced_and_short_anchors_to_python() -> None:
    leaves_ = ["x12345", " 12345 ", "12345 -12.5 12345", "a-12.5 ab cd"]
    text = "\x00".join(leaves_)
    at = [text.index(leaf) for leaf in leaves_]  # where each leaf starts
    found: dict[int, dict[int, bool]] = {}
    known: dict[int, int] = {}
    places = speedups.find(
        text, ["12345", "-12.5", "a b c", "ключ", "ab cd", "-12.5"], [0, 1, 2, 3, 4, 1], found, known
    )
    assert places == [2, -1, 4, text.index("cd")]  # a one-character anchor; the anchor of "ab cd"
    assert found == {
        0: {
            at[1]: True,
            at[2]: False,
        },  # whole leaf but for spaces: EXACT_MATCH; once per leaf, not in x12345
        1: {at[2]: False, at[3]: False},  # punctuation-first needles anywhere; two needles, one canon
    }  # and "ключ" cannot occur in one-byte text
    assert known == {at[1]: 1, at[2]: 2, at[3]: 3}
    with pytest.raises(TypeError):
        speedups.find(text, ["12345"], [0, 1], {}, {})
    assert speedups.find("abc", ["xyz"], None, {}, {}) == []
    assert (
        speedups.find("ключ", ["ключ"], None, {}, {}) is None
    )  # not one byte per character: Python searches


def test_engine_compiled_equals_direct_on_latin1_and_wide_text() -> None:
    sources: list[object] = ["José Müller", 'O"Hara', "a b c d", 4217.5, "ключ-доступа", "back\\slash"]
    sinks: list[object] = [
        "log José  Müller " + json.dumps({"n": 'O"Hara', "b": "back\\slash"}),
        {"x": ["A B  C\nD", 4217.5]},
        "ключ-доступа в логе",
    ]
    config = MatchConfig(min_length=3, min_digits=3, min_entropy=0.5, salt=b"t")
    compiled = MatchEngine(config, strategy="compiled")
    direct = MatchEngine(config, strategy="direct")
    latin1 = sinks[:2]
    assert compiled.match(sources, latin1) == direct.match(sources, latin1)
    assert compiled.last_strategy == "compiled" and len(compiled.match(sources, latin1)) >= 5
    assert compiled.match(sources, sinks) == direct.match(sources, sinks)
    assert compiled.last_strategy != "compiled"  # wide text: the Python search


def _value(rng: random.Random) -> object:
    alphabet = "aAbB0123456789 .,+-_@\t\n\x1c\x85\xa0ÀÉéßµ²\xd7\x00ÿ"
    kind = rng.randrange(6)
    if kind == 0:
        return "".join(rng.choices(alphabet, k=rng.randint(0, 14)))
    if kind == 1:
        return rng.choice([rng.randint(-(10**9), 10**9), 10**5000, 0, 7])
    if kind == 2:
        return rng.choice([rng.uniform(-1e6, 1e6), 12.0, float("nan"), float("-inf"), 1e300, 37.7749])
    if kind == 3:
        return rng.choice(["TRUE", " Null ", "Ada  Lovelace", "ключ", "x" * 300 + "yz", "aaaa", "abab"])
    if kind == 4:
        return rng.choice(
            [True, None, b"bytes 12345", decimal.Decimal("1234.50"), ["list"], uuid.UUID(int=9)]
        )
    return f"{rng.choice('+-')}{rng.randint(0, 10**7)}{rng.choice(['', '.5', ',000', 'e5'])}"


@pytest.mark.parametrize(
    "config",
    [
        MatchConfig(),
        MatchConfig(min_length=1, min_digits=1, min_entropy=0.0, stop_list=frozenset()),
        MatchConfig(min_length=3, min_digits=3, min_entropy=1.5, stop_list=frozenset({"abab", "12345"})),
    ],
)
def test_normalize_gives_the_python_noise_floor(config: MatchConfig) -> None:
    rng = random.Random(99)
    values = [_value(rng) for _ in range(5000)]
    engine = MatchEngine(config)
    expected = [engine.normalized(v) for v in values]
    assert engine.normalized_all(values) == expected
    assert sum(e is not None for e in expected) > 500 and None in expected  # both outcomes are exercised
