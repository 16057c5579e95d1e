"""Hook implementations of flowscope-emitters: the OpenLineage client's transports as one emitter."""

from __future__ import annotations

from collections.abc import Callable

from flowscope import hookimpl
from flowscope.contracts import EmitterFactory
from flowscope_emitters.openlineage_emitter import OpenLineageEmitterFactory


@hookimpl
def register_emitters(register: Callable[[EmitterFactory], None]) -> None:
    register(OpenLineageEmitterFactory())
