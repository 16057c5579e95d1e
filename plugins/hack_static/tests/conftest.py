from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-file cache goes under $FLOWSCOPE_STORE: keep every test's cache out of the checkout."""
    if "FLOWSCOPE_STORE" not in __import__("os").environ:
        monkeypatch.setenv("FLOWSCOPE_STORE", str(Path(tmp_path_factory.mktemp("store"))))
