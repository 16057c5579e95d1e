"""The only place flowscope declares hooks. Each is documented in docs/plugin_hooks.md.

Core calls every hook through :class:`flowscope.plugins.Plugins`, one plugin at a time, so a plugin
that raises is named in the error and does not take the others down.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from flowscope.contracts import Collector, EmitterFactory, Matcher, Renderer

hookspec = pluggy.HookspecMarker("flowscope")


@hookspec
def register_collectors(register: Callable[[Collector], None]) -> None:
    """Register signal sources.

    Called once per plugin manager, the first time core needs the collectors (``scan``, ``plugins``).
    ``register`` takes one :class:`~flowscope.contracts.Collector`; call it once per collector.
    Return nothing. A malformed collector (missing ``name``, ``config_section``, ``config_class`` or
    ``collect``) or a duplicate name raises :class:`~flowscope.UserError` naming your plugin; an exception
    raised by the hook itself is logged with the plugin's name and the plugin's collectors are skipped.
    """


@hookspec
def register_matchers(register: Callable[[Matcher], None]) -> None:
    """Register payload matchers (``kind = "payload"``) and context matchers (``kind = "context"``).

    Called once, the first time core or a plugin asks for matchers. ``register`` takes one matcher.
    Return nothing. Failures are handled as for :func:`register_collectors`.
    """


@hookspec
def register_emitters(register: Callable[[EmitterFactory], None]) -> None:
    """Register places OpenLineage events go besides the embedded store.

    Called once, when a scan starts emitting. ``register`` takes an
    :class:`~flowscope.contracts.EmitterFactory`; its ``from_config`` gets the whole config and returns an
    emitter, or None when the config does not ask for it. Return nothing. Failures are handled as for
    :func:`register_collectors`; an emitter that fails while emitting makes the scan exit non-zero, but
    the store keeps what was collected.
    """


@hookspec
def register_commands(app: typer.Typer) -> None:
    """Add CLI sub-commands: ``app.add_typer(sub, name="sql")`` or ``app.command()(fn)``, preferably
    through :func:`flowscope.cli.lazy.add_lazy_commands` so that their imports load only when they run.

    Called once, while ``build_app`` assembles the CLI. Return nothing. A plugin that raises here is
    logged with its name and its commands are missing; the rest of the CLI works.
    """


@hookspec
def register_renderers(register: Callable[[Renderer], None]) -> None:
    """Register data-logs renderers: a raw warehouse value -> the text a person reads in their package.

    Called once per plugin manager, the first time the data-logs export needs renderers (``datalogs
    check``, ``datalogs run``). ``register`` takes one :class:`~flowscope.contracts.Renderer` (``name``
    and ``render(value, options)``); call it once per renderer. Return nothing. A renderer without
    ``name`` or ``render``, or a name already registered, raises :class:`~flowscope.UserError` naming your
    plugin; an exception raised by the hook itself is logged with the plugin's name and its renderers
    are missing, so catalog columns naming them are reported as unknown renderers.
    """
