"""File writes as sinks: ``naming.table("file", <absolute path as a template>)`` (OpenLineage's local file
naming; ids and other values in the path become ``{}``, as in the static plugin's f-string names:
``/exports/42/report.csv`` -> ``/exports/{}/report.csv``) with the written text or bytes as payload.

``builtins.open`` and ``io.open`` (which ``pathlib`` uses) are patched. A sampled-out ``open`` costs one
contextvar read. In a sampled request, a file opened for writing (mode with ``w``, ``a``, ``x`` or ``+``) gets
its ``write`` shadowed on the instance, so the object keeps its type and everything else;
each write then records into whichever request is current when it happens. Not seen: files opened outside a
sampled request (a long-lived log file), ``os.write`` on descriptors, and files under the skipped folders: the
Python installation (``sys.prefix``, ``sys.base_prefix``, ``sys.exec_prefix``), ``/dev``, ``/proc``, ``/sys``,
the probes' ``spool`` folder, and the folders listed in this instrumentation's own setting ``skip_paths``
(``instrumentations: {files: {skip_paths: [...]}}``).
"""

from __future__ import annotations

import builtins
import io
import os
import sys
import weakref
from typing import Any

from flowscope import naming
from flowscope_probes.context import CURRENT, FAULTS, sink
from flowscope_probes.instrument import GATE, Instrumentation
from flowscope_probes.instrumentations._base import copy_names
from flowscope_probes.instrumentations.names import template

NAMESPACE = "file"
_WRITE_MODES = frozenset("wax+")


def _skip_roots(settings: dict[str, Any]) -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, "/dev", "/proc", "/sys"}
    roots.update(str(p) for p in settings.get("skip_paths") or ())
    if settings.get("spool"):
        roots.add(str(settings["spool"]))
    return tuple(os.path.join(os.path.realpath(r), "") for r in roots if r)


def _watch(f: Any, path: str) -> None:
    """Shadow ``write`` on this file object so each call records a sink (``writelines`` and ``print`` call
    ``write`` through the instance, so they are seen too).

    The shadow reaches the file through a weak reference: a strong one would make a cycle, and a file the host
    forgets without closing would then be flushed by the garbage collector instead of at once.
    """
    asset = naming.table(NAMESPACE, template(path))
    ref = weakref.ref(f)
    write = type(f).write

    def probed_write(data: Any) -> Any:
        if CURRENT.get() is not None:
            sink(asset, data)
        return write(ref(), data)

    f.write = probed_write


class FileInstrumentation(Instrumentation):
    name = "files"
    module = ""

    def _install(self) -> None:
        self._roots = _skip_roots(self.settings)
        self.patch(builtins, "open", self._make)
        self.patch(io, "open", self._make)

    def _make(self, original: Any) -> Any:
        probe = self
        get = CURRENT.get

        def open(*args: Any, **kwargs: Any) -> Any:
            f = original(*args, **kwargs)
            if get() is None:
                return f
            if getattr(open, GATE).on:
                try:
                    file = args[0] if args else kwargs.get("file")
                    mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
                    probe._opened(f, file, mode)
                except Exception:
                    FAULTS.add("files")
            return f

        copy_names(open, original)
        return open

    def _opened(self, f: Any, file: Any, mode: str) -> None:
        if not isinstance(mode, str) or _WRITE_MODES.isdisjoint(mode) or isinstance(file, int):
            return
        path = os.path.realpath(os.fsdecode(file))
        if path.startswith(self._roots):
            return
        _watch(f, path)
