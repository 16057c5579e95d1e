"""Flows written by hand in YAML, for systems no collector covers yet (docs/declared_flows.md)."""

from __future__ import annotations

from flowscope.declared.collector import DeclaredCollector, DeclaredSettings, find_files, load_declared

__all__ = ["DeclaredCollector", "DeclaredSettings", "find_files", "load_declared"]
