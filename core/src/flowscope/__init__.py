"""flowscope: discover where data goes and emit it as OpenLineage lineage."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pluggy

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
hookimpl = pluggy.HookimplMarker(PROJECT)

try:
    __version__ = version("flowscope")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

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
