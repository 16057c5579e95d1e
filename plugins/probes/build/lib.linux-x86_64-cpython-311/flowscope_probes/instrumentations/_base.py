"""Cheap wrappers shared by the instrumentations here (patching itself lives in
:class:`flowscope_probes.instrument.Instrumentation`).

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
from flowscope_probes.instrument import GATE, Instrumentation

Record = Callable[[Any, tuple[Any, ...], dict[str, Any]], None]


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


def method(probe: Instrumentation, record: Record, after: bool = False) -> Callable[[Any], Any]:
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


def async_method(probe: Instrumentation, record: Record, after: bool = False) -> Callable[[Any], Any]:
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
