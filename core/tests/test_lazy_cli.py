"""Commands registered lazily, and a CLI that imports only what the command it runs uses."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.testing import CliRunner

from flowscope import __version__, hookimpl
from flowscope.cli import build_app
from flowscope.cli.lazy import add_lazy_commands
from flowscope.model import Asset, Basis, Edge, Job
from flowscope.plugins import make_manager
from flowscope.store import Store

# Libraries a lineage query never needs; each costs 0.05-1 s to import (issue 23).
HEAVY = (
    "openlineage",
    "sqlglot",
    "libcst",
    "pydantic",
    "fideslang",
    "duckdb",
    "datahub",
    "httpx",
    "requests",
)


class LazyPlugin:
    def __init__(self) -> None:
        self.installed = 0

    def install(self, app: typer.Typer) -> None:
        self.installed += 1
        greet = typer.Typer(help="Greetings.", no_args_is_help=True)

        @greet.command("hello")
        def hello(name: str, times: Annotated[int, typer.Option(min=1)] = 1) -> None:
            """Say hello."""
            typer.echo(" ".join([f"hello {name}"] * times))

        app.add_typer(greet, name="greet")

        @app.command("shout")
        def shout(ctx: typer.Context, word: str) -> None:
            """Shout a word (and see the plugins facade)."""
            typer.echo(f"{word.upper()} {type(ctx.obj).__name__}")

    @hookimpl
    def register_commands(self, app: typer.Typer) -> None:
        add_lazy_commands(app, self.install, greet="Greetings from a plugin.", shout="Shout a word.")


def _run(plugin: LazyPlugin, *args: str) -> Any:
    app = build_app(make_manager(load_entrypoints=False, plugins=[("lazy", plugin)]))
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_help_lists_lazy_commands_without_importing_them() -> None:
    plugin = LazyPlugin()
    result = _run(plugin, "--help")
    assert result.exit_code == 0
    assert "greet" in result.output and "Greetings from a plugin." in result.output
    assert "shout" in result.output and "Shout a word." in result.output
    assert plugin.installed == 0


def test_a_lazy_group_and_a_lazy_command_run_as_registered() -> None:
    plugin = LazyPlugin()
    result = _run(plugin, "greet", "hello", "ada", "--times", "2")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "hello ada hello ada"
    assert plugin.installed == 1
    result = _run(plugin, "shout", "hi")
    assert result.output.strip() == "HI Plugins"  # ctx.obj reaches the real command
    bad = _run(plugin, "greet", "hello", "ada", "--times", "0")
    assert bad.exit_code == 2 and "--times" in bad.output
    sub_help = _run(plugin, "greet", "--help")
    assert sub_help.exit_code == 0 and "hello" in sub_help.output


def test_an_installer_that_adds_several_commands_runs_once_per_cli() -> None:
    plugin = LazyPlugin()
    app = build_app(make_manager(load_entrypoints=False, plugins=[("lazy", plugin)]))
    runner = CliRunner()
    runner.invoke(app, ["shout", "a"], catch_exceptions=False)
    runner.invoke(app, ["greet", "hello", "b"], catch_exceptions=False)
    assert plugin.installed == 1


def _modules_after(code: str, cwd: Path) -> tuple[str, set[str]]:
    script = (
        "import sys, json\n"
        f"{code}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=False
    )
    return done.stdout, set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_version_answers_before_the_cli_is_imported(tmp_path: Path) -> None:
    out, modules = _modules_after(
        "sys.argv = ['flowscope', '--version']\nfrom flowscope.__main__ import main\nmain()", tmp_path
    )
    assert out == f"flowscope {__version__}\n"
    assert not modules & {"typer", "rich", "pluggy", "sqlite3", *HEAVY}


def test_version_is_the_distributions() -> None:
    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    assert tomllib.loads(pyproject.read_text())["project"]["version"] == __version__


def test_a_lineage_query_imports_no_collector_or_emitter_library(tmp_path: Path) -> None:
    """Every installed plugin is loaded (entry points), as a user's ``flowscope lineage`` does."""
    a, b = Asset("postgres://db:5432", "app.a", "x"), Asset("postgres://db:5432", "app.b", "x")
    with Store.open(tmp_path / "store") as store:
        store.replace("sql", "r", [Edge(Job("j", "copy"), a, b, bases={Basis("sql")})], [], [])
    code = (
        "from flowscope.cli import main\n"
        f"try:\n    main(['--store', 'store', 'lineage', 'downstream', {a.id!r}, '--json'])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
    )
    out, modules = _modules_after(code, tmp_path)
    assert json.loads(out)["reached"][0]["asset"] == b.id
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
