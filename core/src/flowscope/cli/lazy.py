"""Commands that are listed at once and imported only when they run.

``flowscope lineage downstream`` should not pay for sqlglot, libcst, the OpenLineage client or DuckDB just
because the plugins that use them are installed: before commands were registered lazily, a lineage query
spent about a second importing them. A plugin's ``register_commands`` hands :func:`add_lazy_commands` a
function that adds its commands to an app, and the short help of each command it adds. ``flowscope --help``
shows that help; the function (and every import inside it) runs only when one of those commands is
invoked, its ``--help`` asked for, or its arguments completed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

Installer = Callable[[typer.Typer], None]


class LazyCommand(TyperGroup):
    """A stand-in for one command (or command group) of an installer: it answers ``--help`` listings of
    its parent from the help it was registered with, and becomes the real command when click makes its
    context (which is where a command's own arguments are parsed)."""

    installer: Installer
    target: str
    built: list[TyperGroup]  # shared by the stand-ins of one installer, so it runs once

    def real(self) -> Any:
        if not self.built:
            app = typer.Typer()
            self.installer(app)
            self.built.append(typer.main.get_group(app))
        command = self.built[0].commands.get(self.target)
        if command is None:
            raise RuntimeError(f"the commands registered lazily as {self.target!r} do not define it")
        return command

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        return self.real().make_context(info_name, args, parent=parent, **extra)


def add_lazy_commands(app: typer.Typer, installer: Installer, **helps: str) -> None:
    """Register the commands ``installer(app)`` would add, by name, without running it yet.

    ``helps`` maps each command name the installer adds to its one-line help (a Python keyword argument,
    so a name with a dash is passed as ``**{"ml-config": "..."}``). Invoking one of them runs ``installer``
    on a fresh app once and hands over to the command it added under that name.
    """
    built: list[TyperGroup] = []
    for name, help_text in helps.items():
        attrs = {"installer": staticmethod(installer), "target": name, "built": built}
        cls = type(f"Lazy_{name}", (LazyCommand,), attrs)
        app.add_typer(typer.Typer(cls=cls, add_completion=False), name=name, help=help_text)
