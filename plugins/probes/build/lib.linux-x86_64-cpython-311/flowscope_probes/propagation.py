"""Carry the request's recorder into threads and executors.

asyncio tasks copy the context themselves, and ``asyncio.to_thread`` / ``loop.run_in_executor`` go through
``ThreadPoolExecutor.submit``. Plain threads start with an empty context, so the ``threads``
instrumentation patches ``threading.Thread.start`` and ``ThreadPoolExecutor.submit`` to run the target in
a copy of the caller's context — only while a sampled request is active (otherwise one contextvar read).
:func:`wrap` does the same for one callable, for code that schedules work some other way.

A thread that outlives its request may still add captures after the request was handed to the worker;
the worker copies the capture lists when it takes the request, so such late captures are simply not seen.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from flowscope_probes.context import CURRENT
from flowscope_probes.instrument import Instrumentation

P = ParamSpec("P")
R = TypeVar("R")


def wrap(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` bound to the current context when a sampled request is active, else ``fn`` itself."""
    if CURRENT.get() is None:
        return fn
    ctx = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return ctx.run(fn, *args, **kwargs)

    return run


def make_start(original: Callable[..., Any]) -> Callable[..., Any]:
    def start(self: threading.Thread) -> None:
        if CURRENT.get() is not None:
            self.run = wrap(self.run)  # type: ignore[method-assign]
        original(self)

    return start


def make_submit(original: Callable[..., Any]) -> Callable[..., Any]:
    def submit(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if CURRENT.get() is not None:
            fn = wrap(fn)
        return original(self, fn, *args, **kwargs)

    return submit


class ThreadsInstrumentation(Instrumentation):
    name = "threads"
    module = ""

    def _install(self) -> None:
        self.patch(threading.Thread, "start", make_start)
        self.patch(ThreadPoolExecutor, "submit", make_submit)
