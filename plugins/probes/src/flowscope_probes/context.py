"""The per-request recorder, carried in a contextvar (so it follows threads started with a copied context,
executors wrapped by the probes, and asyncio tasks).

Instrumentations call :func:`source` and :func:`sink`. Both are no-ops costing one contextvar read when no
sampled request is active; neither ever raises into the host application (faults are counted).

CONTRACT shared by the runtime, the instrumentations and the matcher: keep these signatures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from flowscope.model import Asset

P = ParamSpec("P")
R = TypeVar("R")


class Faults:
    """Counts of faults swallowed inside probe code, by site name. Never raises."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def add(self, site: str) -> None:
        with self._lock:
            self.counts[site] = self.counts.get(site, 0) + 1

    def total(self) -> int:
        return sum(self.counts.values())


FAULTS = Faults()


_DROP = object()
_COPIED = (bytearray, memoryview)  # mutable or borrowed buffers: the host may reuse them, so copied


class Recorder:
    """What one sampled request saw: (asset, value) at sources, (asset, payload) at sinks.

    Bounded, so a sampled request's cost is: ``limit`` captures (beyond, dropped and counted in
    ``overflow``); text and bytes payloads cut to ``max_payload`` bytes (a copy of that many, so the host's
    10 MB body is neither copied whole nor kept alive; counted in ``truncated``; a source value that long is
    not a field value and is dropped); and ``max_bytes`` of text and bytes in all, beyond which captures are
    dropped (counted in ``over_budget``). Containers (dicts, lists, rows) are the host's own objects, held
    by reference and never copied; the matcher bounds what it reads of them. ``unobserved``: the request
    may have written through a connection the probes cannot see (see :mod:`flowscope_probes.blind`).
    """

    __slots__ = (
        "bytes",
        "job",
        "limit",
        "max_bytes",
        "max_payload",
        "over_budget",
        "overflow",
        "route",
        "sinks",
        "sources",
        "started",
        "trace_id",
        "truncated",
        "unobserved",
    )

    def __init__(
        self,
        job: Any,
        route: str,
        trace_id: str | None = None,
        limit: int = 1000,
        max_payload: int = 65536,
        max_bytes: int = 1 << 20,
    ) -> None:
        self.job = job
        self.route = route
        self.trace_id = trace_id
        self.limit = limit
        self.max_payload = max_payload
        self.max_bytes = max_bytes
        self.bytes = 0
        self.overflow = 0
        self.truncated = 0
        self.over_budget = 0
        self.unobserved = False
        self.started = 0.0
        self.sources: list[tuple[Asset, object]] = []
        self.sinks: list[tuple[Asset, object]] = []

    def _fit(self, value: object, cut: bool) -> object:
        """``value`` within the byte caps (cut to ``max_payload`` when ``cut``, else dropped), or _DROP."""
        t = type(value)
        if t is str or t is bytes:
            size = len(value)  # type: ignore[arg-type]
        elif t in _COPIED:
            try:
                view = memoryview(value).cast("B")  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return _DROP
            size = view.nbytes
        else:
            return value
        over = size > self.max_payload
        if over and not cut:
            self.over_budget += 1
            return _DROP
        n = self.max_payload if over else size
        if self.bytes + n > self.max_bytes:
            self.over_budget += 1
            return _DROP
        self.bytes += n
        if over:
            self.truncated += 1
        if t is str or t is bytes:
            return value[:n] if over else value  # type: ignore[index]
        return view[:n].tobytes()

    def add_source(self, asset: Asset, value: object) -> None:
        if len(self.sources) + len(self.sinks) >= self.limit:
            self.overflow += 1
            return
        value = self._fit(value, False)
        if value is not _DROP:
            self.sources.append((asset, value))

    def add_sink(self, asset: Asset, payload: object) -> None:
        if len(self.sources) + len(self.sinks) >= self.limit:
            self.overflow += 1
            return
        payload = self._fit(payload, True)
        if payload is not _DROP:
            self.sinks.append((asset, payload))


CURRENT: ContextVar[Recorder | None] = ContextVar("flowscope_probes_recorder", default=None)


def current() -> Recorder | None:
    """The active sampled request's recorder, or None (no request, or sampled out)."""
    return CURRENT.get()


def source(asset: Asset, value: object) -> None:
    """Record a value read at a source (a request parameter, a row read) in the active request."""
    rec = CURRENT.get()
    if rec is None:
        return
    try:
        rec.add_source(asset, value)
    except Exception:
        FAULTS.add("source")


def sink(asset: Asset, payload: object) -> None:
    """Record a payload written to a sink (a row, a log line, an HTTP body) in the active request."""
    rec = CURRENT.get()
    if rec is None:
        return
    try:
        rec.add_sink(asset, payload)
    except Exception:
        FAULTS.add("sink")


def guarded(
    site: str, fallback: Callable[[], R] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Decorate probe-side code so an exception in it is counted under ``site`` and never reaches the host."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R | None]:
        def inner(*args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                return fn(*args, **kwargs)
            except Exception:
                FAULTS.add(site)
                return fallback() if fallback is not None else None

        inner.__name__ = getattr(fn, "__name__", "guarded")
        inner.__doc__ = fn.__doc__
        return inner

    return wrap
