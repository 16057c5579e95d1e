"""Hook implementations only; the logic lives in collector.py, which never imports pluggy."""

from __future__ import annotations

from collections.abc import Callable

from flowscope import hookimpl
from flowscope.contracts import Collector

from flowscope_ml_config.collector import ArrowCollector


@hookimpl
def register_collectors(register: Callable[[Collector], None]) -> None:
    register(ArrowCollector())
