"""Importing sources and sinks from Pysa models (.pysa and taint.config)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowscope.contracts import CollectContext
from flowscope.model import Signal
from flowscope_hack_static import plugin
from flowscope_hack_static.collector import HackStaticCollector, Settings
from flowscope_hack_static.packs import load_models
from flowscope_hack_static.pysa import import_pysa, statements

DATA = Path(__file__).parent / "data" / "pysa"
EXPECTED = {
    ("service://pysa/UserControlled#q", "https://search.example//v1/q#q"),
    ("service://pysa/Secrets", "https://search.example//v1/q"),
    ("service://pysa/UserControlled#q", "log://pysa/Logging#q"),
    ("service://pysa/UserControlled#q", "log://pysa/RemoteCodeExecution#q"),
}


def test_statements_join_lines_and_drop_comments() -> None:
    text = "# c\ndef a(\n  x: TaintSink[K],\n): ...\nb: TaintSource[S] = ...  # tail\n"
    assert statements(text) == [(2, "def a( x: TaintSink[K], ): ..."), (5, "b: TaintSource[S] = ...")]


def test_sources_and_sinks_become_entries_and_bad_lines_are_errors_with_lines() -> None:
    got = import_pysa([DATA / "taint.config", DATA / "models.pysa"])
    calls = {s.call for s in got.sinks}
    assert {"requests.api.post", "requests.post", "*AuditLog.write", "subprocess.run"} <= calls
    post = next(s for s in got.sinks if s.call == "requests.post")
    assert post.kind == "http" and post.path_arg == 0 and post.data_kwargs == ("data", "json")
    assert {(s.call, s.name) for s in got.sources if s.call} >= {("os.getenv", "Secrets")}
    assert {s.var for s in got.sources if s.var} == {"django.http.request.HttpRequest.GET", "*.GET"}
    assert got.problems == [
        f"{DATA / 'models.pysa'}:19: cannot read this Pysa model: this line is not Pysa",
        f"{DATA / 'models.pysa'}:20: sink kind NotDeclared is not declared in taint.config",
    ]


def test_a_scan_with_pysa_models_finds_their_flows(tmp_path: Path) -> None:
    shutil.copy(DATA / "app.py", tmp_path / "app.py")
    settings = Settings(pysa=[str(DATA / "models.pysa"), str(DATA / "taint.config")], cache=False)
    ctx = CollectContext(collector="hack_static", settings=settings, base_dir=tmp_path)
    flows = {
        (str(o.source), str(o.target)) for o in HackStaticCollector().collect(ctx) if isinstance(o, Signal)
    }
    assert flows == EXPECTED
    assert [(p.line, p.message) for p in ctx.problems] == [
        (19, "cannot read this Pysa model: this line is not Pysa"),
        (20, "sink kind NotDeclared is not declared in taint.config"),
    ]


def test_a_pack_can_name_pysa_files(tmp_path: Path) -> None:
    for name in ("models.pysa", "taint.config"):
        shutil.copy(DATA / name, tmp_path / name)
    pack = tmp_path / "pack.yaml"
    pack.write_text("name: from-pysa\npysa: [models.pysa, taint.config]\n", encoding="utf-8")
    models = load_models([pack])
    assert any(s.call == "subprocess.run" for s in models.sinks) and len(models.problems) == 2


def test_cli_pysa_option(
    tmp_path: Path, plugin_manager: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    shutil.copy(DATA / "app.py", tmp_path / "app.py")
    pm = plugin_manager(("hack_static", plugin))
    result = run_cli(
        pm,
        "static",
        "scan",
        str(tmp_path),
        "--pysa",
        str(DATA / "models.pysa"),
        "--pysa",
        str(DATA / "taint.config"),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("4 flows from 1 files")
    assert "models.pysa:19: cannot read this Pysa model" in result.stderr


def test_sanitize_decorators_become_masking_functions(tmp_path: Path) -> None:
    got = import_pysa([DATA / "taint.config", DATA / "models.pysa"])
    assert [m.call for m in got.masking] == ["myapp.clean"]
    (tmp_path / "app.py").write_text(
        "import subprocess\nfrom myapp import clean\n\n\n"
        "def handler(request):\n"
        '    q = request.GET["q"]\n'
        "    subprocess.run(clean(q))\n"
        '    subprocess.run(request.GET["raw"])\n',
        encoding="utf-8",
    )
    settings = Settings(pysa=[str(DATA / "models.pysa"), str(DATA / "taint.config")], cache=False)
    ctx = CollectContext(collector="hack_static", settings=settings, base_dir=tmp_path)
    flows = {
        (str(o.source), o.transformation.masking)
        for o in HackStaticCollector().collect(ctx)
        if isinstance(o, Signal)
    }
    assert flows == {
        ("service://pysa/UserControlled#q", True),  # through the sanitizer: masked, still reported
        ("service://pysa/UserControlled#raw", False),
    }
