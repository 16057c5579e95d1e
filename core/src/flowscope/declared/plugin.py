"""Hook implementations of the built-in ``declared`` plugin; the logic lives in :mod:`.collector` (imported
when collectors are asked for, not on every command)."""

from __future__ import annotations

from collections.abc import Callable

from flowscope import hookimpl
from flowscope.contracts import Collector


@hookimpl
def register_collectors(register: Callable[[Collector], None]) -> None:
    from flowscope.declared.collector import DeclaredCollector

    register(DeclaredCollector())
