"""The three search strategies (str.find, token-set prefilter, Aho-Corasick) give the same hits, and those hits
are what a slow, obvious reference (one regex per value over each normalized leaf) gives. Randomized inputs
with fixed seeds, built to hit the edge cases: values glued to letters or digits, decimal points, whitespace
runs inside names, substrings of other values, JSON text, nested structures and bytes."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from flowscope_probes.matching import CONTAINS, EXACT_MATCH, MatchConfig, MatchEngine
from flowscope_probes.matching.engine import MAX_PATHS
from flowscope_probes.matching.leaves import leaves, speedups
from flowscope_probes.matching.normalize import norm_text

CONFIG = MatchConfig(min_length=3, min_digits=3, min_entropy=0.5, salt=b"t")
SEPARATORS = [" ", " ", "  ", "\n", ", ", ".", ":", "_", "-", "@", "/", "", "\t"]


def _value(rng: random.Random) -> object:
    kind = rng.randrange(7)
    if kind == 0:
        return rng.randint(100, 99_999)
    if kind == 1:
        return round(rng.uniform(-200, 200), rng.choice([1, 2, 4]))
    if kind == 2:
        return "".join(rng.choices("abc", k=rng.randint(3, 6)))  # a small alphabet: values inside values
    if kind == 3:
        return f"{rng.choice(['Ada', 'ada', 'Bob'])} {rng.choice(['Lovelace', 'Byron', 'ab'])}"
    if kind == 4:
        return f"{''.join(rng.choices('abcxyz', k=4))}@ex.org"
    if kind == 5:
        return rng.choice(["-x1y2", "#tag9", "a-b-c", "(555) 123"])
    return "".join(rng.choices("abcdefghij0123456789", k=rng.randint(4, 12)))


def _text(rng: random.Random, values: list[object]) -> str:
    parts = []
    for _ in range(rng.randint(1, 12)):
        r = rng.random()
        if r < 0.4 and values:
            v = rng.choice(values)
            word = str(v) if rng.random() < 0.8 else str(v).upper()
            if isinstance(v, str) and " " in v and rng.random() < 0.5:
                word = word.replace(" ", rng.choice(["  ", "\n", " \t "]))
        elif r < 0.6:
            word = str(rng.randint(0, 10**6))
        else:
            word = "".join(rng.choices("abcdefghxyz", k=rng.randint(1, 7)))
        parts.append(word)
        parts.append(rng.choice(SEPARATORS))
    return "".join(parts)


def _payload(rng: random.Random, values: list[object], depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 3 else 3)
    if kind == 0:
        return _text(rng, values)
    if kind == 1:
        return rng.choice(values) if values else 7
    if kind == 2:
        return _text(rng, values).encode()
    if kind == 3:
        return {f"k{i}": _payload(rng, values, depth + 1) for i in range(rng.randint(1, 4))}
    if kind == 4:
        return [_payload(rng, values, depth + 1) for _ in range(rng.randint(1, 4))]
    if kind == 5:
        return tuple(_payload(rng, values, depth + 1) for _ in range(rng.randint(1, 3)))
    if kind == 6:
        return json.dumps({"a": _text(rng, values), "b": [rng.choice(values) if values else 1]})
    return f"  {rng.choice(values) if values else 'x'}  "


def _request(rng: random.Random, n_sources: int, n_sinks: int) -> tuple[list[object], list[object]]:
    sources = [_value(rng) for _ in range(n_sources)]
    return sources, [_payload(rng, sources) for _ in range(n_sinks)]


def _reference(engine: MatchEngine, sources: list[object], sinks: list[object]) -> list[tuple[Any, ...]]:
    """One boundary regex per value over each leaf's normalized text; the first MAX_PATHS leaves per sink."""
    out = []
    for s_idx, value in enumerate(sources):
        norm = engine.normalized(value)
        if norm is None:
            continue
        left = r"(?<![^\W_])" if norm[0].isalnum() else ""
        left += r"(?<!\d\.)" if norm[0].isdigit() else ""
        right = r"(?![^\W_])" if norm[-1].isalnum() else ""
        right += r"(?!\.\d)" if norm[-1].isdigit() else ""
        pattern = re.compile(left + re.escape(norm) + right)
        for k_idx, payload in enumerate(sinks):
            found = []
            for path, text in leaves(payload):
                leaf = norm_text(text)
                if leaf == norm:
                    found.append((s_idx, k_idx, EXACT_MATCH, path))
                elif pattern.search(leaf):
                    found.append((s_idx, k_idx, CONTAINS, path))
            out.extend(found[:MAX_PATHS])
    return out


def _run(strategy: str, sources: list[object], sinks: list[object]) -> list[tuple[Any, ...]]:
    hits = MatchEngine(CONFIG, strategy=strategy).match(sources, sinks)
    return [(h.source, h.sink, h.match, h.sink_path) for h in hits]


def _cases() -> list[tuple[list[object], list[object]]]:
    rng = random.Random(20261122)
    cases = [_request(rng, rng.randint(1, 25), rng.randint(1, 8)) for _ in range(300)]
    cases += [_request(rng, 400, 30) for _ in range(3)]  # bulk-sized: many needles per sink
    return cases


CASES = _cases()


def test_random_inputs_make_real_hits() -> None:
    """The generator is not vacuous: both match types and nested paths occur."""
    refs = [r for s, k in CASES for r in _reference(MatchEngine(CONFIG), s, k)]
    assert len(refs) > 1000
    assert {r[2] for r in refs} == {EXACT_MATCH, CONTAINS}
    assert any("." in r[3] and "[" in r[3] for r in refs)


@pytest.mark.parametrize("strategy", ["compiled", "direct", "tokens"])
def test_plain_strategies_match_the_reference(strategy: str) -> None:
    if strategy == "compiled" and speedups is None:
        pytest.skip("the C speedups are not built here (FLOWSCOPE_PROBES_PURE=1 or no compiler)")
    engine = MatchEngine(CONFIG)
    for sources, sinks in CASES:
        assert _run(strategy, sources, sinks) == _reference(engine, sources, sinks), (sources, sinks)


def test_aho_corasick_gives_the_plain_hits() -> None:
    pytest.importorskip("ahocorasick", reason="the 'aho' extra (pyahocorasick) is not installed")
    for sources, sinks in CASES:
        assert _run("aho", sources, sinks) == _run("direct", sources, sinks), (sources, sinks)


def test_aho_corasick_with_json_escapes_and_full_hits() -> None:
    pytest.importorskip("ahocorasick", reason="the 'aho' extra (pyahocorasick) is not installed")
    sources: list[object] = ['O"Hara', "José Müller", "back\\slash", 4217.5, "ada lovelace"]
    sinks: list[object] = [
        "log " + json.dumps({"n": 'O"Hara', "m": "José Müller", "b": "back\\slash"}),
        "log " + json.dumps({"m": "José Müller"}, ensure_ascii=False),
        {"x": ["ADA\n Lovelace", 4217.5]},
    ]
    engines = [MatchEngine(CONFIG, strategy=s) for s in ("direct", "tokens", "aho")]
    results = [e.match(sources, sinks) for e in engines]
    assert results[0] == results[1] == results[2]
    assert len(results[0]) == 6
