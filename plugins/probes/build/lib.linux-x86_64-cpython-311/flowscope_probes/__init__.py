"""Runtime privacy probes: capture values at sources and payloads at sinks within one request, match them.

``install(...)`` / ``uninstall()`` (or ``FLOWSCOPE_PROBES=1`` with ``install_from_env()`` or
``python -m flowscope_probes``), explicit ``source`` / ``sink``, ``wrap`` for hand-made thread hand-offs,
``flush()`` and ``status()``. See docs/probes.md.
"""

from flowscope_probes.api import sink, source
from flowscope_probes.propagation import wrap
from flowscope_probes.runtime import flush, install, install_from_env, status, uninstall

__all__ = ["flush", "install", "install_from_env", "sink", "source", "status", "uninstall", "wrap"]
