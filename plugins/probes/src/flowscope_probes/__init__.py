"""Runtime privacy probes: capture values at sources and payloads at sinks within one request, match them.

``install(...)`` / ``uninstall()`` (or ``FLOWSCOPE_PROBES=1`` with ``install_from_env()`` or
``python -m flowscope_probes``), explicit ``source`` / ``sink``, ``wrap`` for hand-made thread hand-offs,
``flush()`` and ``status()``. See docs/probes.md.

The names load on first use: flowscope imports this package to register the plugin on every command,
and a lineage query has no use for the runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowscope_probes.api import sink, source
    from flowscope_probes.propagation import wrap
    from flowscope_probes.runtime import flush, install, install_from_env, status, uninstall

_HOME = {
    "sink": "api",
    "source": "api",
    "wrap": "propagation",
    "flush": "runtime",
    "install": "runtime",
    "install_from_env": "runtime",
    "status": "runtime",
    "uninstall": "runtime",
}
__all__ = ["flush", "install", "install_from_env", "sink", "source", "status", "uninstall", "wrap"]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(f"flowscope_probes.{_HOME[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'flowscope_probes' has no attribute {name!r}")
