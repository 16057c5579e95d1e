"""Shared by the HTTP client instrumentations: one sink set per outgoing request, at the outermost client.

requests sits on urllib3, which sits on http.client; each is instrumented so that code using any of them is
seen, and a contextvar marks "inside an instrumented client call" so the layers below the first one record
nothing. The marker is only set on the sampled path, so a sampled-out call still costs one contextvar read.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from flowscope_probes.context import CURRENT, FAULTS, sink
from flowscope_probes.instrument import GATE, Instrumentation
from flowscope_probes.instrumentations._base import bind, copy_names
from flowscope_probes.instrumentations.names import body_payload, http_asset, query_payload

INSIDE: ContextVar[bool] = ContextVar("flowscope_probes_http_inside", default=False)

# record(self, args, kwargs) -> (url, body, content type) or None when the call is not worth recording
Extract = Callable[[Any, tuple[Any, ...], dict[str, Any]], tuple[str, object, str | None] | None]


def record_http(url: str, body: object, content_type: str | None) -> None:
    """Sinks of one outgoing HTTP request: its query fields and its body, each under the endpoint's asset."""
    asset = http_asset(url)
    query = query_payload(url)
    if query:
        sink(asset, query)
    rec = CURRENT.get()
    payload = body_payload(body, content_type, rec.max_payload if rec is not None else 1 << 16)
    if payload is not None:
        sink(asset, payload)


def _record(extract: Extract, site: str, self: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        found = extract(self, args, kwargs)
        if found is not None:
            record_http(*found)
    except Exception:
        FAULTS.add(site)


def client_method(probe: Instrumentation, extract: Extract) -> Callable[[Any], Any]:
    """``make_wrapper`` for a sync client method that sends one request."""

    def make(original: Any) -> Any:
        call = bind(original)
        get = CURRENT.get
        site = probe.name

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if get() is None or INSIDE.get() or not getattr(wrapper, GATE).on:
                return call(*args, **kwargs)
            _record(extract, site, args[0], args[1:], kwargs)
            token = INSIDE.set(True)
            try:
                return call(*args, **kwargs)
            finally:
                INSIDE.reset(token)

        copy_names(wrapper, original)
        return wrapper

    return make


def async_client_method(probe: Instrumentation, extract: Extract) -> Callable[[Any], Any]:
    """``make_wrapper`` for an ``async def`` client method that sends one request."""

    def make(original: Any) -> Any:
        call = bind(original)
        get = CURRENT.get
        site = probe.name

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if get() is None or INSIDE.get() or not getattr(wrapper, GATE).on:
                return await call(*args, **kwargs)
            _record(extract, site, args[0], args[1:], kwargs)
            token = INSIDE.set(True)
            try:
                return await call(*args, **kwargs)
            finally:
                INSIDE.reset(token)

        copy_names(wrapper, original)
        return wrapper

    return make


def header(headers: Any, name: str) -> str | None:
    """A header value from a dict, a case-insensitive mapping or a list of pairs; None when absent."""
    if not headers:
        return None
    items = headers.items() if hasattr(headers, "items") else headers
    lname = name.lower()
    for key, value in items:
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if k.lower() == lname:
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None
