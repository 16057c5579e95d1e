"""The one-pass builder against PyYAML and against the node-tree path: values, sharing, lines, errors.

``fast_documents`` is called directly so that a builder that gave up on everything (and let the
reference path answer) would fail these tests instead of passing them slowly.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
import yamlgen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowscope.errors import UserError
from flowscope.yamlpos import Document, load_yaml, load_yaml_all, reference_documents
from flowscope.yamlsafe import (
    DEFAULT_LIMITS,
    YamlLimits,
    compose_all,
    fast_documents,
    safe_load,
    safe_load_all,
)

ROOT = Path(__file__).resolve().parents[2]
LIMITS = DEFAULT_LIMITS


def same(a: Any, b: Any, pairs: dict[int, int] | None = None) -> bool:
    """Equal values of the same types, dict keys in the same order, and the same objects shared."""
    pairs = {} if pairs is None else pairs
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict | list | set):
        if id(a) in pairs:  # an object met before (an alias): the other side must share it too
            return pairs[id(a)] == id(b)
        if id(b) in pairs.values():
            return False
        pairs[id(a)] = id(b)
        if isinstance(a, set):
            return a == b
        if isinstance(a, dict):
            return list(a) == list(b) and all(same(a[k], b[k], pairs) for k in a)
        return len(a) == len(b) and all(same(x, y, pairs) for x, y in zip(a, b, strict=True))
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y, pairs) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def positions(docs: list[Document]) -> list[Any]:
    return [(list(d.lines.items()), d.duplicates) for d in docs]


def fast_positions(text: str) -> list[Document] | None:
    built = fast_documents(text, LIMITS, positions=True)
    return None if built is None else [Document(v, lines or {}, dups_of(d)) for v, lines, d in built]


def dups_of(raw: Any) -> list[Any]:
    from flowscope.yamlpos import Duplicate

    return [Duplicate(*d) for d in raw or []]


def yaml_files() -> list[Path]:
    skip = {".venv", "node_modules", ".git"}
    return [p for p in sorted(ROOT.glob("**/*.y*ml")) if not skip & set(p.parts)]


def test_every_yaml_file_of_the_repository_is_built_in_one_pass_as_pyyaml_and_the_node_walk_do() -> None:
    checked = 0
    for path in yaml_files():
        text = path.read_text(encoding="utf-8")
        try:
            expected = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            assert fast_documents(text, LIMITS, positions=False) is None, path
            continue
        values = fast_documents(text, LIMITS, positions=False)
        assert values is not None, path
        assert same([v for v, _, _ in values], expected), path
        built = fast_positions(text)
        assert built is not None, path
        reference = reference_documents(text, str(path))
        assert same([d.data for d in built], expected), path
        assert positions(built) == positions(reference), path
        checked += 1
    assert checked > 20


def check(text: str) -> str:
    """Compare every path on ``text``; returns what happened, for the statistics."""
    try:
        expected: Any = list(yaml.load_all(text, yaml.CSafeLoader))
    except Exception as exc:  # PyYAML also fails with KeyError, ValueError, ... on bad values
        expected = exc
    try:
        ours: Any = safe_load_all(text, "h.yaml")
    except UserError as exc:
        ours = exc
    fast = fast_documents(text, LIMITS, positions=False)
    if isinstance(expected, Exception):
        assert isinstance(ours, UserError), (text, expected, ours)
        assert re.match(r"h\.yaml(:\d+)?: ", str(ours)), ours
        assert fast is None, text
        return "error"
    if isinstance(ours, UserError):  # refused on purpose: PyYAML builds a recursive value
        assert "refers to a collection that contains it" in str(ours), (text, ours)
        assert fast is None
        return "recursive"
    assert same(ours, expected), (text, ours, expected)
    rare = any(tag in text for tag in yamlgen.RARE)
    if not rare:
        assert fast is not None, text
    if fast is not None:
        assert same([v for v, _, _ in fast], expected), text
    reference = reference_documents(text, "h.yaml")
    built = fast_positions(text)
    assert same([d.data for d in load_yaml_all(text, "h.yaml")], expected), text
    assert positions(load_yaml_all(text, "h.yaml")) == positions(reference), text
    if built is None:
        return "rare" if rare else "positions by the node walk"
    assert same([d.data for d in built], expected), text
    assert positions(built) == positions(reference), text
    check_limits(text, expected)
    return "one pass"


# small enough that random documents cross them often, at every kind of event
SMALL_LIMITS = [
    YamlLimits(max_depth=d, max_nodes=n) for d, n in ((2, 1_000), (3, 9), (9, 2), (9, 14), (4, 30))
]


def check_limits(text: str, expected: list[Any]) -> None:
    """Under small limits, the one pass fails exactly where the reference composer fails, with its message."""
    for limits in SMALL_LIMITS:
        try:
            compose_all(text, "h.yaml", limits)
            over = None
        except UserError as exc:
            over = str(exc)
        for pos in (False, True):
            fast = fast_documents(text, limits, positions=pos)
            if over is None:
                assert fast is not None and same([v for v, _, _ in fast], expected), (text, limits)
            else:
                assert fast is None, (text, limits, over)
        for load in (safe_load_all, load_yaml_all):
            if over is None:
                load(text, "h.yaml", limits)
            else:
                with pytest.raises(UserError) as raised:
                    load(text, "h.yaml", limits)
                assert str(raised.value) == over, (text, limits)


def test_random_documents_load_as_pyyaml_loads_them() -> None:
    """Random streams (yamlgen): every path gives PyYAML's values or an error where PyYAML fails.

    The counts at the end keep the generator honest: enough texts load in one pass, merge and fail.
    """
    seen: dict[str, int] = {}

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(yamlgen.TAME, yamlgen.TAME, yamlgen.WILD))
    def run(documents: list[Any]) -> None:
        text = yamlgen.emit(documents)
        outcome = check(text)
        seen[outcome] = seen.get(outcome, 0) + 1
        if outcome == "one pass" and "<<" in text:
            seen["merged"] = seen.get("merged", 0) + 1

    run()
    assert seen.get("one pass", 0) >= 100, seen
    assert seen.get("merged", 0) >= 40, seen
    assert seen.get("error", 0) >= 30, seen


@pytest.mark.parametrize(
    "text",
    [
        "base: &b {x: 1, y: [1, 2]}\nd:\n  <<: *b\n  y: 3\n",
        "base: &b {x: 1, y: 2}\nd:\n  y: 3\n  <<: *b\n  z: 4\n",  # keys before the merge still win
        "a: &a {x: 1, z: 0}\nb: &b {x: 2, y: 2}\nd: {<<: [*a, *b], q: 1}\n",  # the first of a list wins
        "a: &a {x: 1}\nb: &b {x: 2}\nd:\n  <<: *a\n  <<: *b\n",  # the later merge key wins
        "d:\n  <<: {x: 1, <<: {y: 2}}\n  z: 3\n",
        "a: &a {x: 1, x: 2}\nd: {<<: *a}\n",
        "d:\n  k: 1\n  <<: {k: 2, j: {m: 1}}\n  k: 3\n",
        "d:\n  k: &q {a: 1}\n  <<: {k: 2}\n  <<: {j: 3}\ne: *q\n",  # anchors among keys before a merge
        "base: &b {x: 1}\n<<: *b\nl: [*b]\n",
        "- &x {a: 1}\n- *x\n- *x\n",
        "a: &s [1, 2]\nb: *s\nc: {k: *s}\n",
        "{1: a, 1.0: b, true: c, .nan: d, .nan: e}",
        "=: 1\n'=': 2\nx: [yes, No, ~, '', 0x1f, 0o17, 017, 1_0, 1:30, .5, -.inf, 2024-01-02]\n",
        "a: !!str 1\nb: !!binary aGk=\nc: 2001-12-14t21:59:43.10-05:00\nd: ! 12\ne: !!float 1\n",
        "? complex key\n: value\n",
        "--- 1\n--- 2\n",
        "",
        "---\n...\n",
    ],
)
def test_one_pass_cases(text: str) -> None:
    assert check(text) == "one pass"


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        ("[[[]]]", YamlLimits(max_nodes=2)),  # the last node counted is a collection: the check is at its end
        ("a: {b: {c: {}}}", YamlLimits(max_nodes=4)),
        ("a: &x [1, 2]\nb: [*x, *x]\n", YamlLimits(max_nodes=8)),
        ("[[[[1]]]]", YamlLimits(max_depth=3)),
    ],
)
def test_limits_fail_in_one_pass_where_the_composer_fails(text: str, limits: YamlLimits) -> None:
    with pytest.raises(UserError, match=r"^h\.yaml:\d+: YAML (expands|nests)"):
        compose_all(text, "h.yaml", limits)
    assert fast_documents(text, limits, positions=False) is None
    assert fast_documents(text, limits, positions=True) is None
    check_limits(text, list(yaml.safe_load_all(text)))


@pytest.mark.parametrize(
    "text",
    [
        "a: !!set {x, y}\n",
        "a: !!omap [{x: 1}, {y: 2}]\n",
        "a: !!pairs [{x: 1}, {x: 2}]\n",
        "d:\n  <<: &m {y: 1, y: 2}\ne: *m\n",  # an anchor inside a merged mapping, aliased again
        "d: {<<: [{x: 1}, {x: 2}]}\n",  # mappings written inside a list of merges
    ],
)
def test_rare_inputs_take_the_node_path_with_the_same_result(text: str) -> None:
    assert check(text) in ("rare", "positions by the node walk")


def test_lines_and_duplicates_follow_aliases_and_merges() -> None:
    text = "base: &b\n  x: 1\n  y: {z: 2}\nd:\n  <<: *b\n  y: 3\n  y: 4\nl:\n  - *b\n"
    doc = load_yaml(text, "m.yaml")
    assert doc.data["d"] == {"x": 1, "y": 4}
    assert doc.lines[("d", "x")] == 2  # merged: where the anchor wrote it
    assert doc.lines[("d", "y")] == 7  # written here twice: the last one
    assert doc.lines[("d", "y", "z")] == 3  # the node walk kept the merged subtree's lines too
    assert doc.lines[("l", 0)] == 1  # an alias item: the line of the node it names, where &b stands
    assert doc.lines[("l", 0, "y", "z")] == 3
    assert [(d.path, d.line, d.first_line) for d in doc.duplicates] == [(("d", "y"), 7, 6)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: !!int 0b_\n", r"f\.yaml:2: invalid YAML: cannot read '0b_' as !!int"),
        ("a:\n  b: 2024-02-30\n", r"f\.yaml:2: invalid YAML: cannot read '2024-02-30' as !!timestamp"),
        ("a: !!bool maybe\n", r"f\.yaml:1: invalid YAML: cannot read 'maybe' as !!bool"),
        ("a: !!binary é\n", r"f\.yaml:1: invalid YAML: failed to convert base64"),
        ("a: {[1]: 2}\n", r"f\.yaml:1: invalid YAML: found unhashable key"),
        ("a: <<\n", r"f\.yaml:1: invalid YAML: could not determine a constructor for the tag .*merge"),
        ("a: {<<: 1}\n", r"f\.yaml:1: invalid YAML: expected a mapping or list of mappings for merging"),
    ],
)
def test_values_pyyaml_cannot_construct_are_one_error_line(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        safe_load(text, "f.yaml")
    with pytest.raises(UserError, match=message):
        load_yaml(text, "f.yaml")


def test_resolvers_registered_by_someone_else_send_every_file_to_pyyaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loader = yaml.CSafeLoader
    resolvers = {k: list(v) for k, v in loader.yaml_implicit_resolvers.items()}
    resolvers.setdefault("$", []).append(("tag:yaml.org,2002:str", re.compile(r"^\$")))
    monkeypatch.setattr(loader, "yaml_implicit_resolvers", resolvers, raising=False)
    assert fast_documents("a: 1\n", LIMITS, positions=False) is None
    assert safe_load("a: 1\n", "f.yaml") == {"a": 1}


def test_without_libyaml_the_pure_python_parser_gives_the_same_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PyYAML built without libyaml: the same pass over the pure-Python parser's events, the same answers."""
    import flowscope.yamlbuild

    texts = [
        "base: &b {x: 1, y: [1, 2]}\nd:\n  <<: *b\n  y: 3\n",
        "a: &a {x: 1, z: 0}\nb: &b {x: 2, y: 2}\nd: {<<: [*a, *b], q: 1}\n",
        "x: [yes, No, ~, '', 0x1f, 0o17, 017, 1_0, 1:30, .5, -.inf, 2024-01-02]\n--- 2\n",
        "- &x {a: 1, a: 2}\n- *x\n",
    ]
    with_libyaml = [(fast_documents(t, LIMITS, False), fast_positions(t)) for t in texts]
    monkeypatch.setattr(flowscope.yamlbuild, "_Parser", yaml.SafeLoader)
    for text, (values, built) in zip(texts, with_libyaml, strict=True):
        pure_values = fast_documents(text, LIMITS, False)
        pure_built = fast_positions(text)
        assert values is not None and pure_values is not None and built is not None and pure_built is not None
        assert same([v for v, _, _ in pure_values], list(yaml.safe_load_all(text))), text
        assert same([v for v, _, _ in pure_values], [v for v, _, _ in values]), text
        assert positions(pure_built) == positions(built), text


@pytest.mark.skipif(
    os.environ.get("FLOWSCOPE_YAML_REQUIRE_LIBYAML") != "1",
    reason="scripts/test sets it: the lock has the wheels",
)
def test_the_locked_pyyaml_parses_with_libyaml() -> None:
    """The speed of the loader rests on libyaml; a PyYAML wheel without it would quietly be 4x slower."""
    import flowscope.yamlbuild

    assert yaml.__with_libyaml__
    assert flowscope.yamlbuild._Parser is yaml.cyaml.CParser
