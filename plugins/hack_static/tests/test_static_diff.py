"""``flowscope static diff BASE HEAD``: flows added and removed between two commits of a real git repo."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowscope.errors import UserError
from flowscope_hack_static import plugin

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

BASE = """import logging
from flask import request


def signup():
    email = request.form["email"]
    logging.info("signup %s", email)
"""

HEAD = """import logging
import requests
from flask import request


def unrelated():
    return 1


def signup():
    email = request.form["email"]
    phone = request.form["phone"]
    logging.info("signup %s", email)
    requests.post("https://crm.example/api/contacts", json={"phone": phone})
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    git(root, "init", "-q")
    git(root, "config", "user.email", "ci@example.com")
    git(root, "config", "user.name", "ci")
    (root / "app" / "views.py").write_text(BASE, encoding="utf-8")
    (root / "README").write_text("not code\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    (root / "app" / "views.py").write_text(HEAD, encoding="utf-8")  # the log call moves down 5 lines
    git(root, "commit", "-qam", "head")
    monkeypatch.chdir(root)
    return root


def test_diff_reports_the_added_flow_and_not_the_moved_one(
    repo: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    pm = plugin_manager(("hack_static", plugin))
    result = run_cli(pm, "static", "diff", "HEAD~1", "HEAD", "--json")
    assert result.exit_code == 1, result.output
    out = json.loads(result.stdout)
    assert [(e["source"], e["target"]) for e in out["added"]] == [
        (
            "service://python-app/request#phone",
            "https://crm.example//api/contacts#phone",
        )
    ]
    assert out["removed"] == [] and out["problems"] == []
    text = run_cli(pm, "static", "diff", "HEAD~1", "HEAD", "app")
    assert text.stdout.startswith("1 flows added, 0 removed (HEAD~1 -> HEAD)"), text.stdout
    assert "+ service://default/signup  [views.py:14]" in text.stdout
    one = run_cli(pm, "static", "diff", "HEAD~1", "HEAD", "app/views.py")
    assert one.exit_code == 1 and "[views.py:14]" in one.stdout, one.stdout


def test_removed_flows_alone_exit_zero(
    repo: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    pm = plugin_manager(("hack_static", plugin))
    result = run_cli(pm, "static", "diff", "HEAD", "HEAD~1", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["added"] == [] and len(out["removed"]) == 1


def test_fail_on_limits_the_exit_code_to_given_sinks(
    repo: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    pm = plugin_manager(("hack_static", plugin))
    assert run_cli(pm, "static", "diff", "HEAD~1", "HEAD", "--fail-on", "log://*").exit_code == 0
    assert run_cli(pm, "static", "diff", "HEAD~1", "HEAD", "--fail-on", "https://crm*").exit_code == 1


def test_an_unknown_commit_is_a_one_line_error(
    repo: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    pm = plugin_manager(("hack_static", plugin))
    with pytest.raises(UserError, match="nope: not a commit"):
        run_cli(pm, "static", "diff", "nope", "HEAD")


def test_a_path_missing_in_one_commit_means_all_flows_added(
    repo: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    (repo / "svc").mkdir()
    (repo / "svc" / "views.py").write_text(BASE, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "svc")
    pm = plugin_manager(("hack_static", plugin))
    result = run_cli(pm, "static", "diff", "HEAD~1", "HEAD", "svc", "--json")
    assert result.exit_code == 1 and len(json.loads(result.stdout)["added"]) == 1


def test_outside_a_repository_is_a_one_line_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    plugin_manager: Callable[..., Any],
    run_cli: Callable[..., Any],
) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    pm = plugin_manager(("hack_static", plugin))
    with pytest.raises(UserError, match="plain: not inside a git repository"):
        run_cli(pm, "static", "diff", "HEAD~1", "HEAD")
