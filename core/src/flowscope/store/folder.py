"""Where the store lives: ``flowscope --store DIR``, else ``$FLOWSCOPE_STORE``, else ``./.flowscope``.

Plugins that keep files beside the store (a collector's cache, an emitter's spool) call :func:`store_dir`,
so they follow ``--store`` exactly as the store does.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path

from flowscope.store import DEFAULT_DIR

DEFAULT_STORE = DEFAULT_DIR

STORE_ENV = "FLOWSCOPE_STORE"

_CHOSEN: ContextVar[Path | None] = ContextVar("flowscope_store_dir", default=None)


def choose(path: Path | None) -> None:
    """Set by the CLI from ``--store`` before a command runs (None: fall back to the environment)."""
    _CHOSEN.set(path)


def store_dir() -> Path:
    return Path(_CHOSEN.get() or os.environ.get(STORE_ENV) or DEFAULT_STORE)
