"""Flows written by hand in YAML, for systems no collector covers yet (docs/declared_flows.md).

Names load on first use: the built-in plugin is registered on every command, and a lineage query must not
import the YAML readers and parsers it never runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowscope.declared.collector import DeclaredCollector, DeclaredSettings, find_files, load_declared

__all__ = ["DeclaredCollector", "DeclaredSettings", "find_files", "load_declared"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from flowscope.declared import collector

        return getattr(collector, name)
    raise AttributeError(f"module 'flowscope.declared' has no attribute {name!r}")
