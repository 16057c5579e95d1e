"""Render the plugin template, install it beside core in a fresh environment, and run its own tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "templates"))
from render import render  # noqa: E402


def test_rendered_template_installs_and_its_tests_pass(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (pip install uv)")
    plugin = render("demo_flows", tmp_path / "flowscope-demo-flows")
    venv = tmp_path / "venv"
    env_python = venv / "bin" / "python"
    run = lambda *cmd: subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: E731
    run(uv, "venv", "-q", "--python", sys.executable, str(venv))
    run(
        uv,
        "pip",
        "install",
        "-q",
        "--python",
        str(env_python),
        "-e",
        str(ROOT / "core"),
        "-e",
        str(plugin),
        "pytest",
        "jsonschema",
    )
    result = subprocess.run(
        [str(env_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(plugin / "tests")],
        capture_output=True,
        text=True,
        cwd=plugin,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_render_rejects_bad_names(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="must be lower-case"):
        render("Bad-Name", tmp_path / "x")
