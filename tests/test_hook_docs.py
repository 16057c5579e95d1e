"""Every hookspec has a section in docs/plugin_hooks.md and a test that calls it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from flowscope import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(
    name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("register_")
)
FACADE_CALLS = {
    "register_collectors": "collectors()",
    "register_matchers": "matchers(",
    "register_emitters": "emitters()",
    "register_commands": "add_commands(",
    "register_renderers": "renderers()",
}


def test_hook_set_is_the_documented_one() -> None:
    assert HOOKS == [
        "register_collectors",
        "register_commands",
        "register_emitters",
        "register_matchers",
        "register_renderers",
    ]


def test_every_hook_has_a_docs_section_with_when_arguments_return_failure() -> None:
    text = (ROOT / "docs" / "plugin_hooks.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S))
    for hook in HOOKS:
        assert hook in sections, f"docs/plugin_hooks.md has no section for {hook}"
        for part in ("**When**", "**Arguments**", "**Return**", "**Failure**"):
            assert part in sections[hook], f"{hook} section lacks {part}"


def test_every_hook_is_called_by_some_test() -> None:
    tests = "".join(
        p.read_text(encoding="utf-8") for p in ROOT.glob("**/tests/**/*.py") if ".venv" not in p.parts
    )
    for hook in HOOKS:
        assert f"@hookimpl\n    def {hook}" in tests or f"def {hook}(" in tests, (
            f"no test plugin implements {hook}"
        )
        assert FACADE_CALLS[hook] in tests, f"no test calls {hook} through the facade"
