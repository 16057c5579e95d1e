"""What every request root shares: begin (sample or not), record the request's sources, end."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from contextvars import Token
from functools import lru_cache
from urllib.parse import parse_qsl

from flowscope import naming
from flowscope.model import Asset
from flowscope_probes import runtime
from flowscope_probes.context import CURRENT, FAULTS, Recorder
from flowscope_probes.instrumentations.names import template
from flowscope_probes.keys import PLAIN
from flowscope_probes.labels import flatten
from flowscope_probes.settings import normal_host

_PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>|\{([^{}:]+)(?::[^{}]*)?\}")


@lru_cache(maxsize=4096)
def field_asset(namespace: str, name: str, field: str) -> Asset:
    """Assets are frozen dataclasses; a service names the same few thousand fields over and over."""
    return Asset(namespace, name, field)


@lru_cache(maxsize=1024)
def request_asset(template: str, host: str, scheme: str) -> Asset:
    return naming.http(template, host, scheme=scheme)


@lru_cache(maxsize=1024)
def path_template(rule: str) -> str:
    """A route in one spelling: Flask/Django ``<int:id>`` and Starlette ``{id:int}`` become ``{id}``."""
    out = _PLACEHOLDER.sub(lambda m: "{" + (m.group(1) or m.group(2)) + "}", rule)
    return "/" + out.lstrip("/")


def raw_path_template(path: str) -> str:
    """A request path no router has matched: the client wrote it, so its values become ``{}`` (not cached:
    raw paths carry user ids)."""
    return "/" + template(path[:2048]).lstrip("/")


def begin(
    path: str, traceparent: str | None, sampled: bool = False
) -> tuple[Recorder, Token[Recorder | None]] | None:
    """Start a sampled request at a root; None when probes are off, sampled out, or already inside one.
    ``sampled``: a C root already drew this request in (no trace id), so the sampler is not asked again."""
    rt = runtime.STATE
    if rt is None or CURRENT.get() is not None:
        return None
    try:
        trace_id = None
        if not sampled:
            sampled, trace_id = rt.sampler.decide(path, traceparent)
            if not sampled:
                return None
        rec = rt.recorder(path, trace_id)
        return rec, CURRENT.set(rec)
    except Exception:
        FAULTS.add("root.begin")
        return None


def end(rec: Recorder, token: Token[Recorder | None]) -> None:
    try:
        CURRENT.reset(token)
    except Exception:  # reset from another context (a framework that switched contexts): just clear it
        CURRENT.set(None)
    rt = runtime.STATE
    if rt is not None:
        rt.finish(rec)


def set_job(rec: Recorder, handler: object, fallback: str) -> None:
    rt = runtime.STATE
    if rt is None:
        return
    name = getattr(handler, "__name__", None) or fallback
    if name:  # no handler and no fallback: the request stays unrouted (counted, not a job)
        rec.job = rt.job(str(name))


def host_of(host: str | None) -> str:
    """The host of request assets. A client chooses its ``Host`` header, so it names them only when it is
    on the ``http_hosts`` allow-list; otherwise ``http_host``, else the service's name."""
    rt = runtime.STATE
    if rt is None:
        return naming.DEFAULT_SYSTEM
    settings = rt.settings
    if host and settings.http_hosts:
        plain = normal_host(host) if len(host) <= 300 else None
        if plain is not None and plain in settings.http_hosts:
            return plain
    return settings.http_host or settings.service or naming.DEFAULT_SYSTEM


def record_request(
    rec: Recorder,
    *,
    scheme: str,
    host: str | None,
    template: str,
    query: Iterable[tuple[str, object]] = (),
    form: Iterable[tuple[str, object]] = (),
    body: object = None,
    path_params: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Record a request's values as sources ``http://<host><template>#<field>`` (never raises)."""
    try:
        rt = runtime.STATE
        scheme = scheme if scheme in ("http", "https") else "http"
        base = request_asset(template, host_of(host), scheme)
        ns, name = base.namespace, base.name
        add = rec.add_source
        keys = rt.keys if rt is not None else PLAIN  # parameter names and JSON keys are user data too

        def put(key: str, value: object) -> None:
            part = keys(key)
            for path, leaf in flatten(value, part, name=keys):
                add(field_asset(ns, name, path or part), leaf)

        for key, value in query:
            put(key, value)
        for key, value in form:
            put(key, value)
        if body is not None:
            for path, leaf in flatten(body, name=keys):
                add(field_asset(ns, name, path or "body"), leaf)
        for key, value in (path_params or {}).items():
            put(str(key), value)
        if headers and rt is not None and rt.settings.headers:
            for header in rt.settings.headers:
                value = headers.get(header.lower())
                if value is not None:
                    add(field_asset(ns, name, header.lower()), value)
    except Exception:
        FAULTS.add("root.sources")


def parse_body(content_type: str, raw: bytes) -> tuple[list[tuple[str, object]], object]:
    """(form pairs, decoded JSON) of a request body; ([], None) for anything else or undecodable."""
    ctype = content_type.split(";", 1)[0].strip().lower()
    try:
        if ctype == "application/json" or ctype.endswith("+json"):
            return [], json.loads(raw)
        if ctype == "application/x-www-form-urlencoded":
            return list(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=False)), None
    except ValueError:
        FAULTS.add("root.body")
    return [], None
