"""What every instrumentation here shares: patching that survives other wrappers, and cheap wrappers.

:class:`Probe` keeps the :class:`~flowscope_probes.instrument.Instrumentation` contract (``patch`` records
the original, ``uninstall`` restores it, a marked wrapper is never wrapped again) and adds what living beside
OpenTelemetry's instrumentations needs:

* the original is read from the class ``__dict__`` (not ``getattr``), so a wrapt ``FunctionWrapper`` put there
  by OpenTelemetry is kept as the very object, called bound, and put back as it was on uninstall;
* each wrapper carries a :class:`Gate`. If another library wrapped *our* wrapper after us (so restoring the
  original would drop its wrapper), uninstall closes the gate and leaves ours in place, inert; a later install
  finds it through the mark (``functools.wraps`` copies it, wrapt proxies it) and opens it again instead of
  wrapping twice.

Wrappers built by :func:`method` / :func:`function` do one contextvar read when no sampled request is active and
then call the original exactly as the host did. Probe work runs under ``try``; a fault is counted in
``FAULTS`` under the instrumentation's name and never raised.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable
from typing import Any

from flowscope_probes.context import CURRENT, FAULTS
from flowscope_probes.instrument import MARK, Instrumentation

GATE = "__flowscope_gate__"

Record = Callable[[Any, tuple[Any, ...], dict[str, Any]], None]


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


class Probe(Instrumentation):
    """Base of the instrumentations in this package."""

    def __init__(self) -> None:
        super().__init__()
        self._reopened: list[Gate] = []

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

    def _unhook(self) -> None:
        """Undo what is not a patch (event listeners); instrumentations that add such things override."""

    def _hooked(self) -> bool:
        return False


def bind(original: Any) -> Callable[..., Any]:
    """A callable taking ``(self, *args, **kwargs)`` that calls ``original`` as the class would have."""
    if type(original) is types.FunctionType:  # not isinstance: wrapt proxies pretend to be functions
        return original
    get = getattr(original, "__get__", None)
    if get is None:
        return original  # type: ignore[no-any-return]

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return get(self, type(self))(*args, **kwargs)

    return call


# The wrappers take ``*args`` whole (self included) rather than ``self, *args``: on CPython 3.11 that saves
# about a third of the cost of a sampled-out call, which is the one the target (<= 0.3 us) is about.


def method(probe: Probe, record: Record, after: bool = False) -> Callable[[Any], Any]:
    """``make_wrapper`` for a method: ``record(self, args, kwargs)`` around the original when sampled.

    By default the attempt is recorded, before the call (an HTTP request or a message that fails was still
    sent towards that sink). With ``after``, only a call that returned is recorded: SQL that fails may name
    no real table.
    """

    def make(original: Any) -> Any:
        call = bind(original)
        get = CURRENT.get
        site = probe.name

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if get() is None:
                return call(*args, **kwargs)
            if not getattr(wrapper, GATE).on:
                return call(*args, **kwargs)
            if after:
                result = call(*args, **kwargs)
            try:
                record(args[0], args[1:], kwargs)
            except Exception:
                FAULTS.add(site)
            return result if after else call(*args, **kwargs)

        copy_names(wrapper, original)
        return wrapper

    return make


def async_method(probe: Probe, record: Record, after: bool = False) -> Callable[[Any], Any]:
    """``make_wrapper`` for an ``async def`` method (the wrapper stays a coroutine function)."""

    def make(original: Any) -> Any:
        call = bind(original)
        get = CURRENT.get
        site = probe.name

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if get() is None or not getattr(wrapper, GATE).on:
                return await call(*args, **kwargs)
            if after:
                result = await call(*args, **kwargs)
            try:
                record(args[0], args[1:], kwargs)
            except Exception:
                FAULTS.add(site)
            return result if after else await call(*args, **kwargs)

        copy_names(wrapper, original)
        return wrapper

    return make


def copy_names(wrapper: Any, original: Any) -> None:
    for name in ("__name__", "__qualname__", "__doc__", "__module__"):
        with contextlib.suppress(AttributeError, TypeError):
            setattr(wrapper, name, getattr(original, name))
