from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowscope_hack_static import plugin, scanner

FLOW = "import logging\n\ndef handle(user):\n    logging.info('signup %s', user.email)\n"


def _tree(root: Path) -> None:
    """The same flow in product code and in each kind of test code the default skips."""
    for rel in [
        "app/views.py",
        "app/tests/helpers.py",
        "tests/factories.py",
        "fixtures/users.py",
        "app/test_views.py",
        "app/views_test.py",
        "conftest.py",
    ]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(FLOW)


def _scan(pm: Any, run_cli: Callable[..., Any], path: Path, *extra: str) -> dict[str, Any]:
    result = run_cli(pm, "static", "scan", str(path), "--json", "--no-cache", *extra)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_test_code_is_skipped_by_default_and_included_on_request(
    tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    _tree(tmp_path)
    pm = plugin_manager(("hack_static", plugin))
    default = _scan(pm, run_cli, tmp_path)
    assert default["files"] == 1
    assert {e["evidence"][0]["location"].split(":")[0] for e in default["edges"]} == {"app/views.py"}
    everything = _scan(pm, run_cli, tmp_path, "--include-tests")
    assert everything["files"] == 7
    assert {e["evidence"][0]["location"].split(":")[0] for e in everything["edges"]} >= {
        "tests/factories.py",
        "conftest.py",
    }


def test_a_test_folder_or_file_named_explicitly_is_scanned(
    tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    _tree(tmp_path)
    pm = plugin_manager(("hack_static", plugin))
    assert _scan(pm, run_cli, tmp_path / "tests")["files"] == 1
    assert _scan(pm, run_cli, tmp_path / "app" / "test_views.py")["files"] == 1


def test_test_names_by_language_convention() -> None:
    for name in ["test_x.py", "x_test.py", "conftest.py", "x_test.cc", "x_unittest.cpp", "UserTest.php"]:
        assert scanner.is_test(name, folder=False), name
    for name in ["tests", "__tests__", "Testing", "fixtures", "testdata"]:
        assert scanner.is_test(name, folder=True), name
    for name in ["testimonials.py", "contest.py", "latest.cc", "Tester.php", "attest.py"]:
        assert not scanner.is_test(name, folder=False), name
    for name in ["attestation", "contests", "latest"]:
        assert not scanner.is_test(name, folder=True), name
