"""Clients cannot steer the probes (issue 21, item 2): sampling comes from the probes' own randomness (an
upstream *sampled* flag only when configured to trust it), and the ``Host`` header names request assets
only when it is on the ``http_hosts`` allow-list."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from conftest import fields
from flask import Flask, request

import flowscope_probes
from flowscope_probes import sampling
from flowscope_probes.context import Recorder
from flowscope_probes.sampling import Sampler

ONE = "0" * 31 + "1"  # the trace id a client picks to get sampled under the old rule


def traceparent(trace: str = ONE, flags: str = "01") -> str:
    return f"00-{trace}-00f067aa0ba902b7-{flags}"


def app() -> Flask:
    a = Flask("steer")

    @a.route("/api/v1/profile", methods=["POST"])
    def save_profile() -> dict[str, bool]:
        flowscope_probes.sink("log://python/audit", str(request.get_json()))
        return {"ok": True}

    return a


def test_a_chosen_trace_id_does_not_decide_sampling(probes: Callable[..., Any]) -> None:
    rt = probes(sample_rate=0.01)
    client = app().test_client()
    for _ in range(500):
        r = client.post("/api/v1/profile", json={"a": 1}, headers={"traceparent": traceparent()})
        assert r.status_code == 200
    assert rt.worker.stats.sampled < 25  # about 5 of 500 at 1%; the trace id 1 sampled all 500 before
    s = Sampler(0.01)
    assert sum(s.decide("/a", traceparent())[0] for _ in range(2000)) < 60


def test_an_active_opentelemetry_trace_does_not_decide_either() -> None:
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    ctx = SpanContext(1, 0x00F067AA0BA902B7, is_remote=True, trace_flags=TraceFlags(1))
    with trace.use_span(NonRecordingSpan(ctx)):
        assert sum(Sampler(0.01).decide("/a")[0] for _ in range(2000)) < 60


def test_the_upstream_sampled_flag_only_when_trusted(probes: Callable[..., Any]) -> None:
    trusting = Sampler(0.01, trust_upstream=True)
    assert all(trusting.decide("/a", traceparent(flags="01"))[0] for _ in range(200))
    assert not any(trusting.decide("/a", traceparent(flags="00"))[0] for _ in range(200))
    assert sum(trusting.decide("/a", "garbage")[0] for _ in range(2000)) < 60  # no valid header: own draw
    assert not any(Sampler(0.0, trust_upstream=True).decide("/a", traceparent())[0] for _ in range(50))
    rt = probes(sample_rate=0.01, trust_upstream_sampled=True)
    client = app().test_client()
    for flags in ("01", "00") * 10:
        client.post("/api/v1/profile", json={"a": 1}, headers={"traceparent": traceparent(flags=flags)})
    assert rt.worker.stats.sampled == 10


def test_the_host_seeding_random_does_not_make_sampling_predictable() -> None:
    def run() -> list[bool]:
        random.seed(1234)  # the host's own use of the random module
        s = Sampler(0.5)
        return [s.decide("/a")[0] for _ in range(64)]

    assert run() != run()
    assert sampling._random is not random.random


HOSTILE = "evil.example|/admin#ssn"


def host_of_sources(rec: Recorder) -> set[str]:
    return {a.namespace for a, _ in rec.sources}


def test_the_host_header_never_names_a_dataset_unless_allow_listed(
    probes: Callable[..., Any], finished: list[Recorder]
) -> None:
    probes()
    client = app().test_client()
    client.post("/api/v1/profile", json={"email": "x"}, headers={"Host": HOSTILE})
    client.post("/api/v1/profile", json={"email": "x"}, headers={"Host": "shop.internal"})
    assert [host_of_sources(r) for r in finished] == [{"http://svc"}, {"http://svc"}]
    assert all("evil" not in str(a) for r in finished for a, _ in r.sources)


@pytest.mark.parametrize("fixed", ["", "shop.internal"])
def test_only_allow_listed_hosts_name_request_assets(
    probes: Callable[..., Any], finished: list[Recorder], fixed: str
) -> None:
    probes(http_host=fixed, http_hosts=["Shop.Internal", "api.internal:8080"])
    client = app().test_client()
    for host in ("shop.internal", "API.internal:8080", HOSTILE, "other.internal", "shop.internal."):
        client.post("/api/v1/profile", json={"email": "x"}, headers={"Host": host})
    fallback = f"http://{fixed or 'svc'}"
    assert [host_of_sources(r) for r in finished] == [
        {"http://shop.internal"},
        {"http://api.internal:8080"},
        {fallback},
        {fallback},
        {"http://shop.internal"},
    ]
    assert fields(finished[0]) == {"http://shop.internal/api/v1/profile#email": "x"}


def test_http_hosts_must_be_plain_host_names(probes: Callable[..., Any]) -> None:
    from flowscope_probes.settings import SettingsError

    with pytest.raises(SettingsError, match="http_hosts"):
        probes(http_hosts=[HOSTILE])
