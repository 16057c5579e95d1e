"""The one YAML loader: safe_load's values on ordinary files, bounded cost on hostile ones."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from flowscope.errors import UserError
from flowscope.yamlpos import load_yaml, load_yaml_all
from flowscope.yamlsafe import YamlLimits, safe_load, safe_load_all

ROOT = Path(__file__).resolve().parents[2]


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_same_values_as_safe_load_on_every_yaml_file_of_the_repository() -> None:
    checked = 0
    for path in sorted(ROOT.glob("**/*.y*ml")):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        try:
            expected = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            with pytest.raises(UserError):
                safe_load_all(text, str(path))
            continue
        assert safe_load_all(text, str(path)) == expected, path
        checked += 1
    assert checked > 20


@pytest.mark.parametrize(
    "text",
    [
        "base: &b {x: 1, y: [1, 2]}\nd:\n  <<: *b\n  y: 3\n",
        "? complex key\n: value\n",
        "a: !!str 1\nb: !!binary aGk=\nc: 2024-01-02\nd: ~\ne: 0x1f\n",
        "- &x {a: 1}\n- *x\n- *x\n",
        "",
        "--- 1\n--- 2\n",
    ],
)
def test_same_values_as_safe_load(text: str) -> None:
    assert safe_load_all(text, "t.yaml") == list(yaml.safe_load_all(text))


def test_billion_laughs_is_refused_at_once_naming_the_line() -> None:
    start = time.process_time()
    with pytest.raises(UserError, match=r"bomb\.yaml:\d+: YAML expands to more than 5000000 nodes"):
        safe_load(billion_laughs(), "bomb.yaml")
    assert time.process_time() - start < 5  # a guard against expansion, not a speed target


def test_aliases_that_stay_under_the_limit_load() -> None:
    data = safe_load(billion_laughs(4), "small.yaml")  # 9^4 leaves
    assert len(data["a3"]) == 9


def test_self_referencing_alias_is_refused() -> None:
    for text in ("&a [*a]", "a: &x {b: {c: *x}}"):
        with pytest.raises(UserError, match="refers to a collection that contains it"):
            safe_load(text, "loop.yaml")


@pytest.mark.parametrize(
    "text", ["[" * 100_000 + "]" * 100_000, "- " * 1000 + "x", "{a: " * 500 + "1" + "}" * 500]
)
def test_deep_nesting_is_refused_not_a_crash(text: str) -> None:
    # 100,000 levels crash PyYAML's C composer with a segmentation fault; here they are one error.
    with pytest.raises(UserError, match=r"deep\.yaml:1: YAML nests deeper than 200 levels"):
        safe_load(text, "deep.yaml")


def test_nesting_at_the_limit_loads() -> None:
    assert safe_load("[" * 200 + "]" * 200, "ok.yaml") is not None


def test_limits_are_configurable() -> None:
    limits = YamlLimits(max_bytes=10, max_depth=2, max_nodes=3)
    with pytest.raises(UserError, match="over the limit of 10"):
        safe_load("a: " + "x" * 20, "big.yaml", limits)
    with pytest.raises(UserError, match="deeper than 2"):
        safe_load("[[[1]]]", "d.yaml", limits)
    with pytest.raises(UserError, match="more than 3 nodes"):
        safe_load("[1, 2, 3]", "n.yaml", limits)
    with pytest.raises(ValueError, match="max_depth"):
        YamlLimits(max_depth=10_000)


def test_syntax_errors_and_anchor_mistakes_name_the_line() -> None:
    with pytest.raises(
        UserError, match=r"f\.yaml:3: invalid YAML: expected .,. or .\]., but got .<stream end>."
    ):
        safe_load("a: 1\nb: [1, 2\n", "f.yaml")
    with pytest.raises(UserError, match=r"f\.yaml:3: invalid YAML: alias \*a names no anchor"):
        safe_load_all("&a x\n---\n*a\n", "f.yaml")
    with pytest.raises(
        UserError, match=r"f\.yaml:2: invalid YAML: anchor &x defined twice \(first on line 1\)"
    ):
        safe_load("a: &x 1\nb: &x 2\n", "f.yaml")


def test_positions_of_every_document() -> None:
    docs = load_yaml_all("a: 1\n---\nb:\n  c: 2\n", "m.yaml")
    assert [d.data for d in docs] == [{"a": 1}, {"b": {"c": 2}}]
    assert docs[1].line_of(("b", "c")) == 4
    with pytest.raises(UserError, match="expected a single YAML document"):
        load_yaml("a: 1\n---\nb: 2\n", "m.yaml")
