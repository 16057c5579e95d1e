"""flowscope: discover where data goes and emit it as OpenLineage lineage.

``hookimpl`` is made on first use: pluggy (and the importlib.metadata it loads) is needed by plugins and
the plugin manager, not by ``flowscope --version`` or code that only uses the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowscope._version import __version__
from flowscope.errors import UserError
from flowscope.model import (
    Asset,
    AssetInfo,
    Basis,
    Edge,
    Evidence,
    Job,
    JobSampled,
    Signal,
    SourceLocation,
    Transformation,
)

PROJECT = "flowscope"

if TYPE_CHECKING:
    import pluggy

    hookimpl: pluggy.HookimplMarker


def __getattr__(name: str) -> Any:
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker(PROJECT)
        globals()["hookimpl"] = marker
        return marker
    raise AttributeError(f"module 'flowscope' has no attribute {name!r}")


__all__ = [
    "PROJECT",
    "Asset",
    "AssetInfo",
    "Basis",
    "Edge",
    "Evidence",
    "Job",
    "JobSampled",
    "Signal",
    "SourceLocation",
    "Transformation",
    "UserError",
    "__version__",
    "hookimpl",
]
