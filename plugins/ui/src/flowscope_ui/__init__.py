"""flowscope-ui: ``flowscope ui``, a page for lineage and policy-zone review (a thin HTTP layer over core)."""

from __future__ import annotations

__version__ = "0.1.0"
