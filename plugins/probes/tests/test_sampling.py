"""The sampling decision: per route, from the probes' own randomness; trace ids never decide it (see
test_steering.py for what a client sends)."""

from __future__ import annotations

from flowscope_probes.sampling import Sampler, current_otel_trace, trace_from_header

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def header(trace: str) -> str:
    return f"00-{trace}-00f067aa0ba902b7-01"


def test_all_or_nothing() -> None:
    assert Sampler(1.0).decide("/a") == (True, None)
    assert Sampler(0.0).decide("/a", header(TRACE)) == (False, None)


def test_rate_per_route_exact_then_glob_then_default() -> None:
    s = Sampler(0.25, {"/health": 0.0, "/api/*": 1.0, "/api/v1/*": 0.0})
    assert s.rate_for("/health") == 0.0
    assert s.rate_for("/api/v1/users") == 1.0  # first matching pattern, in the order written
    assert s.rate_for("/other") == 0.25
    assert all(s.decide("/api/x")[0] for _ in range(50))
    assert not any(s.decide("/health")[0] for _ in range(50))


def test_a_trace_id_never_decides() -> None:
    s = Sampler(0.5)
    low = "0" * 16 + "0000000000000001"  # decided "in" at any rate under the old TraceIdRatioBased rule
    high = "0" * 16 + "ffffffffffffffff"
    assert s.decide("/a", header(low))[1] is None  # and the client's trace id is not kept either
    for trace in (low, high, TRACE):
        drawn = [s.decide("/a", header(trace))[0] for _ in range(400)]
        assert 120 < sum(drawn) < 280


def test_rate_holds_over_many_trace_ids() -> None:
    import random

    rng = random.Random(3)
    s = Sampler(0.1)
    hits = sum(s.decide("/a", header(f"{rng.getrandbits(128):032x}"))[0] for _ in range(20000))
    assert 1700 < hits < 2300


def test_bad_traceparent_falls_back_to_random() -> None:
    assert trace_from_header("garbage") is None
    assert trace_from_header(header("0" * 32)) is None  # the all-zero trace id is invalid
    assert trace_from_header(header("zz" * 16)) is None
    assert Sampler(1.0).decide("/a", "garbage") == (True, None)


def test_current_opentelemetry_span_gives_the_trace_only_to_a_trusting_sampler() -> None:
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    assert current_otel_trace() is None  # no active span
    ctx = SpanContext(int(TRACE, 16), 0x00F067AA0BA902B7, is_remote=True, trace_flags=TraceFlags(1))
    with trace.use_span(NonRecordingSpan(ctx)):
        assert current_otel_trace() == TRACE
        assert Sampler(1.0).decide("/a") == (True, None)
        assert Sampler(0.01, trust_upstream=True).decide("/a") == (True, TRACE)
    unsampled = SpanContext(int(TRACE, 16), 0x00F067AA0BA902B7, is_remote=True, trace_flags=TraceFlags(0))
    with trace.use_span(NonRecordingSpan(unsampled)):
        assert Sampler(1.0, trust_upstream=True).decide("/a") == (False, TRACE)


def test_rate_holds_without_a_trace_id() -> None:
    s = Sampler(0.1)
    hits = sum(s.decide("/a")[0] for _ in range(20000))
    assert 1700 < hits < 2300
    assert Sampler(0.0).decide("/a") == (False, None)
    assert Sampler(1.0).decide("/a") == (True, None)
