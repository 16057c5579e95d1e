"""The sampling decision, made once at the request root, from the probes' own randomness.

- The rate comes from ``rates_by_route`` (exact path first, then glob patterns in the order written), else
  ``sample_rate``; the per-path answer is cached (bounded), so a sampled-out request costs a dict lookup.
- The draw is ``RNG.random() < rate``, with ``RNG`` a ``random.Random`` of the probes' own, seeded from the
  OS (and again in a forked child): a host that seeds the ``random`` module cannot make it predictable.
- Nothing a client sends decides it. A W3C ``traceparent`` header or an active OpenTelemetry span carries a
  trace id the client chose (trace id 1 sampled every request under OpenTelemetry's TraceIdRatioBased
  rule), so neither is looked at — unless the deployment sets ``trust_upstream_sampled: true`` (a trusted
  proxy or tracer decides upstream): then a valid header's *sampled* flag decides (``-01`` in, ``-00``
  out; the rate still applies when it is 0), and without a valid header the probes draw as usual.
"""

from __future__ import annotations

import fnmatch
import random
import re
import sys

_MAX_CACHED = 4096
_OUT = (False, None)
_IN = (True, None)
_MODULES = sys.modules

RNG = random.Random()  # seeded from os.urandom; never the host's random module
_random = RNG.random


def reseed() -> None:
    """A forked child draws its own sequence (the runtime calls this after ``os.fork``)."""
    RNG.seed()


class Sampler:
    __slots__ = ("_cache", "_exact", "_patterns", "default", "trust_upstream")

    def __init__(
        self, default: float, by_route: dict[str, float] | None = None, trust_upstream: bool = False
    ) -> None:
        self.default = float(default)
        self.trust_upstream = trust_upstream
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
        """(sampled, trace id) for a request to ``path``; the trace id is the upstream one only when it is
        trusted (``trust_upstream``) and decided, else None."""
        rate = self.rate_for(path) if (self._exact or self._patterns) else self.default
        if rate <= 0.0:
            return _OUT
        if self.trust_upstream:
            upstream = upstream_decision(traceparent)
            if upstream is not None:
                return upstream
        if rate >= 1.0:
            return _IN
        return _OUT if _random() >= rate else _IN


def upstream_decision(traceparent: str | None) -> tuple[bool, str | None] | None:
    """(the upstream sampled flag, its trace id) from a valid header, or the active OpenTelemetry span's;
    None when neither is there (only consulted when the deployment trusts upstream decisions)."""
    if traceparent:
        parsed = parse_traceparent(traceparent)
        if parsed is not None:
            return parsed[1], parsed[0]
    if "opentelemetry.trace" in _MODULES:
        return current_otel_decision()
    return None


def parse_traceparent(value: str) -> tuple[str, bool] | None:
    """(trace id, sampled flag) of a W3C traceparent header (``00-<trace>-<span>-<flags>``), or None."""
    parts = value.strip().split("-")
    if len(parts) < 4 or len(parts[1]) != 32 or len(parts[2]) != 16 or len(parts[3]) != 2:
        return None
    trace = parts[1].lower()
    try:
        if int(trace, 16) == 0 or int(parts[2], 16) == 0:
            return None
        flags = int(parts[3], 16)
    except ValueError:
        return None
    return trace, bool(flags & 1)


def trace_from_header(value: str) -> str | None:
    """The 32-hex trace id of a W3C traceparent header, or None."""
    parsed = parse_traceparent(value)
    return parsed[0] if parsed is not None else None


def current_otel_decision() -> tuple[bool, str | None] | None:
    """The active OpenTelemetry span's (sampled flag, trace id), when opentelemetry is in use (never
    imports it); None without a valid span."""
    trace_mod = sys.modules.get("opentelemetry.trace")
    if trace_mod is None:
        return None
    try:
        ctx = trace_mod.get_current_span().get_span_context()
        if ctx.trace_id:
            return bool(int(ctx.trace_flags) & 1), f"{ctx.trace_id:032x}"
    except Exception:
        return None
    return None


def current_otel_trace() -> str | None:
    """The active OpenTelemetry span's trace id, when opentelemetry is in use (never imports it)."""
    found = current_otel_decision()
    return found[1] if found is not None else None
