"""Fixtures of the runtime tests: probes installed with a spool in a temporary folder, always uninstalled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import flowscope_probes
from flowscope_probes import runtime
from flowscope_probes.collector import SpoolSummary, summarize
from flowscope_probes.context import CURRENT, Recorder


@pytest.fixture
def probes(tmp_path: Path) -> Iterator[Callable[..., runtime.Runtime]]:
    """``probes(**settings)`` installs the probes (every request sampled unless told otherwise)."""

    def start(**settings: Any) -> runtime.Runtime:
        settings.setdefault("sample_rate", 1.0)
        settings.setdefault("spool", tmp_path / "spool")
        settings.setdefault("service", "svc")
        settings.setdefault("salt", "test-salt")
        rt = flowscope_probes.install(**settings)
        assert rt is not None
        return rt

    yield start
    flowscope_probes.uninstall()


@pytest.fixture
def finished(monkeypatch: pytest.MonkeyPatch) -> list[Recorder]:
    """Recorders of finished sampled requests, kept here instead of going to the worker."""
    out: list[Recorder] = []
    monkeypatch.setattr(runtime.Runtime, "finish", lambda self, rec: out.append(rec))
    return out


def spool_of(rt: runtime.Runtime) -> SpoolSummary:
    """Flush everything the runtime holds and read its spool back."""
    flowscope_probes.flush()
    return summarize(rt.settings.spool)


def fields(rec: Recorder) -> dict[str, object]:
    return {f"{a.namespace}{a.name}#{a.field}": v for a, v in rec.sources}


@pytest.fixture
def rec() -> Iterator[Recorder]:
    """A sampled request's recorder, active for the test (instrumentation tests record into it)."""
    r = Recorder("job", "/r")
    token = CURRENT.set(r)
    yield r
    CURRENT.reset(token)
