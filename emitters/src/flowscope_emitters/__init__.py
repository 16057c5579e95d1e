"""flowscope-emitters: send flowscope's OpenLineage events through the OpenLineage client's transports.

The emitter classes load on first use: importing the package (which every flowscope command does to
register the plugin) must not import the OpenLineage client and its HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowscope_emitters.openlineage_emitter import OpenLineageEmitter, OpenLineageEmitterFactory

__all__ = ["OpenLineageEmitter", "OpenLineageEmitterFactory"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from flowscope_emitters import openlineage_emitter

        return getattr(openlineage_emitter, name)
    raise AttributeError(f"module 'flowscope_emitters' has no attribute {name!r}")
