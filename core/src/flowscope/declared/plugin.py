"""Hook implementations of the built-in ``declared`` plugin; the logic lives in :mod:`.collector`."""

from __future__ import annotations

from collections.abc import Callable

from flowscope import hookimpl
from flowscope.contracts import Collector
from flowscope.declared.collector import DeclaredCollector


@hookimpl
def register_collectors(register: Callable[[Collector], None]) -> None:
    register(DeclaredCollector())
