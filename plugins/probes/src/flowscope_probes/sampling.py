"""The sampling decision, made once at the request root.

- The rate comes from ``rates_by_route`` (exact path first, then glob patterns in the order written), else
  ``sample_rate``; the per-path answer is cached (bounded), so a sampled-out request costs a dict lookup.
- With a trace id (a W3C ``traceparent`` header, or the current OpenTelemetry span when opentelemetry is
  already imported) the decision is deterministic: sampled when the trace id's low 64 bits fall below
  ``rate * 2**64`` — the rule of OpenTelemetry's TraceIdRatioBased sampler, so every service of one trace,
  and the tracer itself at the same rate, agree.
- Otherwise ``random.random() < rate``.
"""

from __future__ import annotations

import fnmatch
import random
import re
import sys

_MAX_CACHED = 4096
_TWO64 = float(2**64)
_OUT = (False, None)
_IN = (True, None)
_MODULES = sys.modules
_random = random.random


class Sampler:
    __slots__ = ("_cache", "_exact", "_patterns", "default")

    def __init__(self, default: float, by_route: dict[str, float] | None = None) -> None:
        self.default = float(default)
        self._exact: dict[str, float] = {}
        self._patterns: list[tuple[re.Pattern[str], float]] = []
        for route, rate in (by_route or {}).items():
            if any(c in route for c in "*?["):
                self._patterns.append((re.compile(fnmatch.translate(route)), float(rate)))
            else:
                self._exact[route] = float(rate)
        self._cache: dict[str, float] = {}

    @property
    def by_route(self) -> bool:
        """Whether any route has its own rate (then the decision needs the path)."""
        return bool(self._exact or self._patterns)

    def rate_for(self, path: str) -> float:
        rate = self._cache.get(path)
        if rate is not None:
            return rate
        rate = self._exact.get(path)
        if rate is None:
            rate = self.default
            for pattern, r in self._patterns:
                if pattern.match(path):
                    rate = r
                    break
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        self._cache[path] = rate
        return rate

    def decide(self, path: str, traceparent: str | None = None) -> tuple[bool, str | None]:
        """(sampled, trace id) for a request to ``path``; the trace id is None when none was found."""
        rate = self.rate_for(path) if (self._exact or self._patterns) else self.default
        if rate <= 0.0:
            return _OUT
        if traceparent:
            trace_id = trace_from_header(traceparent)
        elif "opentelemetry.trace" in _MODULES:  # the common case, no tracer: no call
            trace_id = current_otel_trace()
        else:
            trace_id = None
        if trace_id is not None:
            return int(trace_id[16:], 16) < rate * _TWO64, trace_id
        if rate >= 1.0:
            return _IN
        return _OUT if _random() >= rate else _IN


def trace_from_header(value: str) -> str | None:
    """The 32-hex trace id of a W3C traceparent header (``00-<trace>-<span>-<flags>``), or None."""
    parts = value.strip().split("-")
    if len(parts) < 4 or len(parts[1]) != 32:
        return None
    trace = parts[1].lower()
    try:
        if int(trace, 16) == 0:
            return None
    except ValueError:
        return None
    return trace


def current_otel_trace() -> str | None:
    """The active OpenTelemetry span's trace id, when opentelemetry is in use (never imports it)."""
    trace_mod = sys.modules.get("opentelemetry.trace")
    if trace_mod is None:
        return None
    try:
        ctx = trace_mod.get_current_span().get_span_context()
        if ctx.trace_id:
            return f"{ctx.trace_id:032x}"
    except Exception:
        return None
    return None
