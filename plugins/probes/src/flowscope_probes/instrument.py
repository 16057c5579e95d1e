"""Instrumentations: one per library, discovered through the entry-point group
``flowscope_probes.instrumentations`` (name -> an :class:`Instrumentation` subclass or instance).

CONTRACT shared by the runtime and the instrumentations: keep these names.

An instrumentation patches with :meth:`Instrumentation.patch`, which records the original so
:meth:`Instrumentation.uninstall` restores it, and marks the wrapper so a second install (or an install on
top of a wrapper that is already ours) patches nothing twice. Wrappers call the original first-class and
record around it with :func:`flowscope_probes.context.source` / ``sink``; probe code inside a wrapper runs
under try/except (or :func:`flowscope_probes.context.guarded`) so the host's call behaves exactly as
unpatched, exceptions of the original included.

Living beside OpenTelemetry's (wrapt-based) instrumentations:

* the original is read from the defining class's ``__dict__`` (not ``getattr``), so a wrapt
  ``FunctionWrapper`` put there first is kept as the very object and put back as it was on uninstall;
* each wrapper carries a :class:`Gate`. If another library wrapped *our* wrapper after us (so restoring the
  original would drop its wrapper), uninstall closes the gate and leaves ours in place, inert; a later
  install finds it through the mark (``functools.wraps`` copies it, wrapt proxies it) and opens it again
  instead of wrapping twice.
"""

from __future__ import annotations

import importlib.util
from typing import Any

MARK = "__flowscope_probes__"
GATE = "__flowscope_gate__"


class Gate:
    """Whether a wrapper records; closed when it had to stay in place after uninstall."""

    __slots__ = ("on",)

    def __init__(self) -> None:
        self.on = True


def raw_attr(owner: Any, attr: str) -> Any:
    """``owner.attr`` as stored: from the defining class's ``__dict__`` for classes, else ``getattr``."""
    if isinstance(owner, type):
        for klass in owner.__mro__:
            if attr in klass.__dict__:
                return klass.__dict__[attr]
    return getattr(owner, attr)


def _defining(owner: Any, attr: str) -> Any:
    if isinstance(owner, type):
        for klass in owner.__mro__:
            if attr in klass.__dict__:
                return klass
    return owner


class Instrumentation:
    """Base class. Subclasses set ``name`` and ``module`` (the library they need) and implement ``_install``."""

    name: str = ""
    module: str = ""  # importable name of the instrumented library; empty for stdlib-only ones

    def available(self) -> bool:
        return not self.module or importlib.util.find_spec(self.module) is not None

    def _install(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __init__(self) -> None:
        self._patched: list[tuple[Any, str, Any]] = []
        self._reopened: list[Gate] = []
        self.settings: dict[str, Any] = {}

    def patch(self, owner: Any, attr: str, make_wrapper: Any) -> bool:
        owner = _defining(owner, attr)
        original = raw_attr(owner, attr)
        if getattr(original, MARK, False):
            gate = getattr(original, GATE, None)
            if not isinstance(gate, Gate) or gate.on:
                return False
            inner = getattr(original, "__wrapped__", None)
            if inner is None or getattr(inner, GATE, None) is gate:  # still under another wrapper: reopen
                gate.on = True
                self._reopened.append(gate)
                return False
            setattr(owner, attr, inner)  # our closed wrapper, alone again: take it out and wrap afresh
            original = inner
        wrapper = make_wrapper(original)
        gate = Gate()
        try:
            setattr(wrapper, MARK, True)
            setattr(wrapper, GATE, gate)
            wrapper.__wrapped__ = original
        except (AttributeError, TypeError):
            pass
        setattr(owner, attr, wrapper)
        self._patched.append((owner, attr, original))
        return True

    def uninstall(self) -> None:
        while self._patched:
            owner, attr, original = self._patched.pop()
            now = raw_attr(owner, attr)
            gate = getattr(now, GATE, None)
            if getattr(now, "__wrapped__", None) is original or not isinstance(gate, Gate):
                setattr(owner, attr, original)
            else:  # someone wrapped our wrapper: restoring would drop theirs, so ours stays, closed
                gate.on = False
        while self._reopened:
            self._reopened.pop().on = False
        self._unhook()

    @property
    def installed(self) -> bool:
        return bool(self._patched) or bool(self._reopened) or self._hooked()

    def install(self, settings: dict[str, Any] | None = None) -> None:
        self.settings = dict(settings or {})
        if not self.installed:
            self._install()

    def survey(self) -> None:
        """Count what this library's objects made before ``install()`` keep from the probes' view (see
        :mod:`flowscope_probes.blind`); called by the runtime after every install, never raising."""

    def _unhook(self) -> None:
        """Undo what is not a patch (event listeners); instrumentations that add such things override."""

    def _hooked(self) -> bool:
        return False
