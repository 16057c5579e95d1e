"""What the probes cannot see: connections opened before ``install()``.

sqlite3 and psycopg2 connections (C types whose methods cannot be patched) are observed through the
connection factory the probes hand to ``connect``; a confluent-kafka ``Producer`` through the subclass the
probes put in the module. A connection opened before ``install()``, or through a ``connect`` (or
``Producer``) a module imported before it bound to its own name (``from sqlite3 import connect``), is
invisible: its writes are never recorded. Such a connection cannot be wrapped afterwards either (the types
allow neither patching nor swapping an instance's class), so it is *reported*: each instrumentation counts,
when it installs, the open connections of its library that are not the probes' own (one garbage
collection and one pass over the live objects, once, at install) and the modules still holding the
original ``connect``. While any is found, no sampled request is counted as a sample: the probes cannot
tell which requests wrote through it, and a job counted as sampled without its writes seen would have
its static flows lowered on no evidence. ``flowscope probes status`` prints the warning; the fix is the
import order in docs/probes.md.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable
from typing import Any

from flowscope_probes.instrument import MARK


class Unobserved:
    """What each instrumentation found it cannot observe: ``{what: how many}``."""

    def __init__(self) -> None:
        self.found: dict[str, int] = {}
        self._lock = threading.Lock()
        self._objects: list[Any] | None = None  # the live objects, listed once per install()

    def objects(self) -> list[Any]:
        """The live objects (after one garbage collection: objects kept only by reference cycles are not
        anyone's connections any more); listed once while ``install()`` runs, for all instrumentations."""
        objects = self._objects
        if objects is None:
            gc.collect()
            objects = gc.get_objects()
            if self._installing:
                self._objects = objects
        return objects

    _installing = False

    def installing(self, on: bool) -> None:
        """``install()`` starts (True) or ends (False): the list of live objects is kept meanwhile only."""
        self._installing = on
        self._objects = None

    def add(self, what: str, n: int) -> None:
        if n > 0:
            with self._lock:
                self.found[what] = self.found.get(what, 0) + n

    @property
    def any(self) -> bool:
        return bool(self.found)

    def clear(self) -> None:
        with self._lock:
            self.found.clear()


UNOBSERVED = Unobserved()


def live(kind: type, ours: Callable[[Any], bool], is_open: Callable[[Any], bool]) -> int:
    """Open objects of ``kind`` (its subclasses included) that are not the probes' own."""
    n = 0
    for obj in UNOBSERVED.objects():
        # type(), not isinstance(): a lazy proxy's __class__ runs the host's code (and may raise)
        if issubclass(type(obj), kind) and not ours(obj):
            try:
                if is_open(obj):
                    n += 1
            except Exception:  # a closed or broken object: not a connection anyone can write through
                continue
    return n


def holders(original: object, skip: tuple[str, ...]) -> list[str]:
    """Modules (other than ``skip`` and their submodules) with ``original`` bound to a global name."""
    out = []
    for name, module in list(sys.modules.items()):
        if module is None or name.startswith(skip):
            continue
        try:
            values = vars(module).values()
        except TypeError:
            continue
        if any(v is original for v in list(values)):
            out.append(name)
    return sorted(out)


def unwrapped(obj: object) -> object:
    """What the probes' patch replaced (their wrapper keeps it as ``__wrapped__``)."""
    while getattr(obj, MARK, False) and getattr(obj, "__wrapped__", None) is not None:
        obj = obj.__wrapped__  # type: ignore[attr-defined]
    return obj


def report(
    what: str,
    kind: type,
    ours: Callable[[Any], bool],
    is_open: Callable[[Any], bool],
    original: object,
    original_name: str,
    skip: tuple[str, ...],
) -> None:
    """Count what an instrumentation about to install cannot observe (never raises): open ``kind`` objects
    that are not the probes' own (``what``), and modules holding ``original`` (``<original_name> in <module>``)."""
    try:
        UNOBSERVED.add(what, live(kind, ours, is_open))
        for module in holders(original, (*skip, "flowscope_probes")):
            UNOBSERVED.add(f"{original_name} in {module}", 1)
    except Exception:
        from flowscope_probes.context import FAULTS

        FAULTS.add(f"blind.{what}")
