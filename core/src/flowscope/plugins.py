"""The plugin manager and the one typed facade core uses to call hooks."""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pluggy

from flowscope import __version__, hookspecs
from flowscope.contracts import Collector, EmitterFactory, Matcher, Renderer
from flowscope.errors import UserError

if TYPE_CHECKING:
    import typer

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "flowscope"
DISABLE_ENV = "FLOWSCOPE_DISABLE_PLUGINS"
BUILTINS: tuple[tuple[str, str], ...] = (("declared", "flowscope.declared.plugin"),)

T = TypeVar("T")


@dataclass(frozen=True)
class Registered(Generic[T]):
    """An item a plugin registered, with the plugin's name for logs and errors."""

    plugin: str
    item: T

    @property
    def name(self) -> str:
        return str(getattr(self.item, "name", None) or getattr(self.item, "kind", ""))


def disabled_plugins() -> set[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return {n.strip() for n in raw.split(",") if n.strip()}


class Manager(pluggy.PluginManager):
    """pluggy's manager plus the entry points that failed to load, so ``flowscope plugins`` can show them."""

    def __init__(self) -> None:
        super().__init__("flowscope")
        self.load_failures: dict[str, str] = {}
        self.versions: dict[str, str] = {}


def make_manager(load_entrypoints: bool = True, plugins: Sequence[tuple[str, object]] = ()) -> Manager:
    """A fresh plugin manager: core's built-ins, installed entry points (optional) and ``plugins``.

    ``plugins`` are ``(name, module_or_object)`` pairs; tests pass their own here instead of touching a
    global manager. ``FLOWSCOPE_DISABLE_PLUGINS`` (comma-separated names) applies to all three sources;
    a name there that matches no plugin is an error with close-match suggestions.
    """
    import importlib

    pm = Manager()
    pm.add_hookspecs(hookspecs)
    disabled = disabled_plugins()
    known: set[str] = set()

    def add(name: str, obj: object) -> None:
        known.add(name)
        if name in disabled:
            pm.set_blocked(name)
            return
        pm.register(obj, name=name)

    for name, module in BUILTINS:
        add(name, importlib.import_module(module))
    if load_entrypoints:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            known.add(ep.name)
            if ep.name in disabled:
                pm.set_blocked(ep.name)
                continue
            if ep.dist is not None:
                pm.versions[ep.name] = ep.dist.version
            try:
                add(ep.name, ep.load())
            except Exception as exc:  # a broken install must not sink the CLI
                log.error("plugin %s failed to load: %s", ep.name, exc)
                pm.load_failures[ep.name] = str(exc)
    for name, obj in plugins:
        add(name, obj)
    unknown = disabled - known
    if unknown:
        bad = sorted(unknown)[0]
        hint = difflib.get_close_matches(bad, sorted(known), n=3)
        suggestion = (
            f" (did you mean {', '.join(hint)}?)" if hint else f" (installed: {', '.join(sorted(known))})"
        )
        raise UserError(f"{DISABLE_ENV} names unknown plugin {bad!r}{suggestion}")
    return pm


_REQUIRED: dict[str, tuple[str, ...]] = {
    "collector": ("name", "config_section", "config_class", "collect"),
    "matcher": ("name", "kind"),
    "emitter": ("kind", "from_config"),
    "renderer": ("name", "render"),
}


class Plugins:
    """The typed facade over ``pm.hook``: every hook call in core goes through here."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.failures: dict[str, str] = dict(getattr(pm, "load_failures", {}))
        self._collectors: list[Registered[Collector]] | None = None
        self._matchers: list[Registered[Matcher]] | None = None
        self._emitters: list[Registered[EmitterFactory]] | None = None
        self._renderers: list[Registered[Renderer]] | None = None

    def _fail(self, plugin: str, message: str) -> None:
        known = self.failures.get(plugin)
        self.failures[plugin] = f"{known}; {message}" if known else message

    def blocked(self) -> list[str]:
        return sorted(n for n, p in self.pm.list_name_plugin() if p is None)

    def names(self) -> list[str]:
        return sorted(n for n, p in self.pm.list_name_plugin() if p is not None)

    def _collect(self, hook_name: str, what: str) -> list[Registered[Any]]:
        found: list[Registered[Any]] = []
        seen: dict[str, str] = {}
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            plugin = impl.plugin_name

            def register(item: Any, _plugin: str = plugin) -> None:
                missing = [a for a in _REQUIRED[what] if not hasattr(item, a)]
                if missing:
                    raise UserError(f"plugin {_plugin!r} registered a {what} without {', '.join(missing)}")
                reg = Registered(_plugin, item)
                if what == "matcher" and getattr(item, "kind", None) not in ("payload", "context"):
                    raise UserError(f"plugin {_plugin!r} registered matcher {reg.name!r} of unknown kind")
                if reg.name in seen:
                    raise UserError(
                        f"plugin {_plugin!r} registered {what} {reg.name!r}, already registered by {seen[reg.name]!r}"
                    )
                seen[reg.name] = _plugin
                found.append(reg)

            try:
                impl.function(register=register)
            except UserError:
                raise
            except Exception as exc:
                log.error("plugin %s failed in %s: %s", plugin, hook_name, exc)
                self._fail(plugin, f"{hook_name}: {exc}")
        return found

    def collectors(self) -> list[Registered[Collector]]:
        if self._collectors is None:
            self._collectors = self._collect("register_collectors", "collector")
        return self._collectors

    def matchers(self, kind: str | None = None) -> list[Registered[Matcher]]:
        if self._matchers is None:
            self._matchers = self._collect("register_matchers", "matcher")
        return [m for m in self._matchers if kind is None or m.item.kind == kind]

    def emitters(self) -> list[Registered[EmitterFactory]]:
        if self._emitters is None:
            self._emitters = self._collect("register_emitters", "emitter")
        return self._emitters

    def renderers(self) -> list[Registered[Renderer]]:
        if self._renderers is None:
            self._renderers = self._collect("register_renderers", "renderer")
        return self._renderers

    def add_commands(self, app: typer.Typer) -> None:
        for impl in self.pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(app=app)
            except Exception as exc:
                log.error("plugin %s failed in register_commands: %s", impl.plugin_name, exc)
                self._fail(impl.plugin_name, f"register_commands: {exc}")

    def hooks_of(self, plugin_name: str) -> list[str]:
        plugin = self.pm.get_plugin(plugin_name)
        return sorted(c.name for c in self.pm.get_hookcallers(plugin) or []) if plugin is not None else []

    def version_of(self, plugin_name: str) -> str:
        """The installed distribution's version; core's for built-ins; empty for plugins passed in code."""
        versions: dict[str, str] = getattr(self.pm, "versions", {})
        if plugin_name in versions:
            return versions[plugin_name]
        return __version__ if plugin_name in dict(BUILTINS) else ""


def collector_by_name(plugins: Plugins) -> Callable[[str], Registered[Collector]]:
    table = {c.name: c for c in plugins.collectors()}

    def get(name: str) -> Registered[Collector]:
        if name not in table:
            hint = difflib.get_close_matches(name, list(table), n=3)
            suggestion = (
                f"; did you mean {', '.join(hint)}?" if hint else f"; available: {', '.join(sorted(table))}"
            )
            raise UserError(f"unknown collector {name!r}{suggestion}")
        return table[name]

    return get
