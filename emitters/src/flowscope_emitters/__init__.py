"""flowscope-emitters: send flowscope's OpenLineage events through the OpenLineage client's transports."""

from __future__ import annotations

from flowscope_emitters.openlineage_emitter import OpenLineageEmitter, OpenLineageEmitterFactory

__all__ = ["OpenLineageEmitter", "OpenLineageEmitterFactory"]
