from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import typer

from flowscope import hookimpl
from flowscope.contracts import CollectContext, PayloadMatch
from flowscope.errors import UserError
from flowscope.model import Asset, Job, Signal
from flowscope.plugins import DISABLE_ENV, Plugins, make_manager


@dataclass
class ListCollector:
    name: str = "fake"
    config_section: str = "fake"
    config_class: type | None = None

    def collect(self, ctx: CollectContext) -> Iterable[Signal]:
        job = Job("flowscope://fake", "copy")
        yield Signal(
            "declared",
            job,
            Asset("postgres://db:5432", "app.a", "x"),
            Asset("postgres://db:5432", "app.b", "x"),
        )


@dataclass
class ExactMatcher:
    name: str = "exact"
    kind: str = "payload"

    def match(self, value: object, payload: object) -> PayloadMatch:
        return PayloadMatch("EXACT_MATCH" if value == payload else "NO_MATCH")


class GoodPlugin:
    @hookimpl
    def register_collectors(self, register: Callable[[Any], None]) -> None:
        register(ListCollector())

    @hookimpl
    def register_matchers(self, register: Callable[[Any], None]) -> None:
        register(ExactMatcher())

    @hookimpl
    def register_commands(self, app: typer.Typer) -> None:
        @app.command("hello")
        def hello() -> None:
            typer.echo("hello from good")


@dataclass
class UpperRenderer:
    name: str = "upper"

    def render(self, value: object, options: Mapping[str, Any]) -> str:
        return str(value).upper() + str(options.get("suffix", ""))


class RendererPlugin:
    @hookimpl
    def register_renderers(self, register: Callable[[Any], None]) -> None:
        register(UpperRenderer())


class RaisingPlugin:
    @hookimpl
    def register_collectors(self, register: Callable[[Any], None]) -> None:
        raise RuntimeError("boom")

    @hookimpl
    def register_commands(self, app: typer.Typer) -> None:
        raise RuntimeError("no commands today")


class MalformedPlugin:
    @hookimpl
    def register_collectors(self, register: Callable[[Any], None]) -> None:
        register(object())


def test_collectors_matchers_and_commands_are_registered_with_plugin_names() -> None:
    plugins = Plugins(make_manager(load_entrypoints=False, plugins=[("good", GoodPlugin())]))
    by_name = {c.name: c.plugin for c in plugins.collectors()}
    assert by_name["fake"] == "good"
    assert by_name["declared"] == "declared"
    [matcher] = plugins.matchers("payload")
    assert matcher.plugin == "good"
    assert matcher.item.match("a@b.c", "a@b.c").match == "EXACT_MATCH"
    assert plugins.matchers("context") == []
    app = typer.Typer()
    plugins.add_commands(app)
    assert [c.name for c in app.registered_commands] == ["hello"]


def test_a_raising_plugin_is_logged_by_name_and_the_others_still_register(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plugins = Plugins(
        make_manager(load_entrypoints=False, plugins=[("good", GoodPlugin()), ("bad", RaisingPlugin())])
    )
    assert {c.name for c in plugins.collectors()} == {"fake", "declared"}
    app = typer.Typer()
    plugins.add_commands(app)
    assert "bad" in plugins.failures
    assert "boom" in plugins.failures["bad"]
    assert any("bad" in r.getMessage() and "boom" in r.getMessage() for r in caplog.records)


def test_a_malformed_collector_fails_at_once_naming_the_plugin() -> None:
    plugins = Plugins(make_manager(load_entrypoints=False, plugins=[("sloppy", MalformedPlugin())]))
    with pytest.raises(UserError, match="plugin 'sloppy' registered a collector without name"):
        plugins.collectors()


def test_duplicate_collector_names_are_rejected() -> None:
    pm = make_manager(load_entrypoints=False, plugins=[("good", GoodPlugin()), ("good2", GoodPlugin())])
    with pytest.raises(UserError, match="already registered by"):
        Plugins(pm).collectors()


def test_disable_env_blocks_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DISABLE_ENV, "good, declared")
    plugins = Plugins(make_manager(load_entrypoints=False, plugins=[("good", GoodPlugin())]))
    assert plugins.collectors() == []
    assert plugins.names() == []


def test_disable_env_with_unknown_name_suggests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DISABLE_ENV, "godo")
    with pytest.raises(UserError, match=r"unknown plugin 'godo'.*did you mean good"):
        make_manager(load_entrypoints=False, plugins=[("good", GoodPlugin())])


def test_installed_entry_points_are_loaded() -> None:
    plugins = Plugins(make_manager(load_entrypoints=True))
    assert "openlineage" in plugins.names()
    assert "register_emitters" in plugins.hooks_of("openlineage")


def test_renderers_are_registered_with_plugin_names_and_render() -> None:
    plugins = Plugins(make_manager(load_entrypoints=False, plugins=[("shout", RendererPlugin())]))
    [renderer] = plugins.renderers()
    assert (renderer.plugin, renderer.name) == ("shout", "upper")
    assert renderer.item.render("opened the camera", {"suffix": "!"}) == "OPENED THE CAMERA!"
    assert "register_renderers" in plugins.hooks_of("shout")


def test_a_duplicate_or_malformed_renderer_fails_naming_the_plugin() -> None:
    pm = make_manager(load_entrypoints=False, plugins=[("one", RendererPlugin()), ("two", RendererPlugin())])
    with pytest.raises(UserError, match="renderer 'upper', already registered by 'one'"):
        Plugins(pm).renderers()

    class NoRender:
        @hookimpl
        def register_renderers(self, register: Callable[[Any], None]) -> None:
            register(type("R", (), {"name": "half"})())

    with pytest.raises(UserError, match="plugin 'half' registered a renderer without render"):
        Plugins(make_manager(load_entrypoints=False, plugins=[("half", NoRender())])).renderers()


def test_plugin_commands_reach_the_facade_of_the_manager_that_built_the_cli() -> None:
    """``datalogs run`` looks renderers up through its ``typer.Context``'s ``obj``: a test's manager must be
    the one it sees, not a fresh one loading entry points."""
    from typer.testing import CliRunner

    from flowscope.cli import build_app

    class Commands:
        @hookimpl
        def register_commands(self, app: typer.Typer) -> None:
            @app.command("renderer-names")
            def names(ctx: typer.Context) -> None:
                facade = ctx.obj
                typer.echo(",".join(r.name for r in facade.renderers()))

    pm = make_manager(load_entrypoints=False, plugins=[("shout", RendererPlugin()), ("cmds", Commands())])
    result = CliRunner().invoke(build_app(pm), ["renderer-names"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "upper"
