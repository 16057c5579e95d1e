"""Pytest fixtures for flowscope and its plugin authors (loaded automatically as the ``flowscope`` pytest plugin).

- ``plugin_manager(*plugins, entrypoints=False)``: a fresh manager with core's built-ins and your plugins.
- ``memory_emitter``: an emitter plugin that keeps every event in ``.events``; pass ``memory_emitter.plugin``.
- ``run_cli(pm, *args)``: runs the CLI built by ``build_app(pm)`` in-process and returns click's Result.
- ``assert_valid_event(event)``: validates an event dict against the official OpenLineage schemas.
Never mutate a module-level manager in tests; build one per test with ``plugin_manager``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import RunEvent

from flowscope import hookimpl
from flowscope.plugins import Manager, make_manager


@dataclass
class MemoryEmitter:
    """Keeps every emitted event in memory. ``kind`` is ``memory``; always configured."""

    kind: str = "memory"
    events: list[RunEvent] = field(default_factory=list)
    closed: int = 0

    def from_config(self, config: Mapping[str, Any], base_dir: Path) -> MemoryEmitter:
        return self

    def emit(self, event: RunEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed += 1

    @property
    def plugin(self) -> tuple[str, object]:
        emitter = self

        class _Plugin:
            @hookimpl
            def register_emitters(self, register: Callable[[object], None]) -> None:
                register(emitter)

        return ("memory", _Plugin())


@pytest.fixture
def plugin_manager() -> Callable[..., Manager]:
    def make(*plugins: tuple[str, object], entrypoints: bool = False) -> Manager:
        return make_manager(load_entrypoints=entrypoints, plugins=plugins)

    return make


@pytest.fixture
def memory_emitter() -> MemoryEmitter:
    return MemoryEmitter()


@pytest.fixture
def run_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Run the CLI in-process with the store in a temporary folder (override with ``--store``)."""
    from typer.testing import CliRunner

    from flowscope.cli import build_app

    monkeypatch.setenv("FLOWSCOPE_STORE", str(tmp_path / "store"))

    def run(pm: Manager, *args: str) -> Any:
        return CliRunner().invoke(build_app(pm), list(args), catch_exceptions=False)

    return run


@pytest.fixture
def ol_spec() -> Path:
    """The official OpenLineage schema folder; the test is skipped with a reason when it is absent."""
    pytest.importorskip("jsonschema", reason="validating events needs jsonschema (a dev dependency)")
    from flowscope.specs import spec_dir

    found = spec_dir()
    if found is None:
        pytest.skip("OpenLineage spec folder not found: set FLOWSCOPE_OL_SPEC to ../shared/spec/openlineage")
    return found


@pytest.fixture
def assert_valid_event(ol_spec: Path) -> Callable[[Mapping[str, Any]], None]:
    from flowscope.specs import validate_event

    def check(event: Mapping[str, Any]) -> None:
        errors = validate_event(dict(event), ol_spec)
        assert not errors, "event does not validate:\n" + "\n".join(errors)

    return check
