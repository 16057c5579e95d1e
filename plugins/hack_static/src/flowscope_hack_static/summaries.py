"""Kept for callers of the first milestone: the engine lives in :mod:`flowscope_hack_static.engine`."""

from __future__ import annotations

from flowscope_hack_static.engine import Index, analyze_all

__all__ = ["Index", "analyze_all"]
