"""WSGI: ``ProbesMiddleware(app, job=...)`` for any WSGI application.

The sampling decision uses ``PATH_INFO`` (``rates_by_route``) and the ``traceparent`` header. For a sampled
request the middleware records the query string and, for JSON and form bodies up to ``max_body`` bytes, the
body (it reads ``wsgi.input`` and puts an identical stream back, so the app reads the same bytes). A plain
WSGI app has no routing the probes can see: the job is ``job`` (default: the app's ``__name__``) and the
request asset is named by the raw path made a template (ids, e-mail addresses and other values a client put
in it become ``{}``: see :func:`flowscope_probes.instrumentations.names.template`). Frameworks with routing (Flask, Django) get better names from their
own roots. The recorder is handed to the worker when the app returns its response iterable.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flowscope_probes import runtime
from flowscope_probes.context import FAULTS, Recorder
from flowscope_probes.roots.common import begin, end, parse_body, raw_path_template, record_request, set_job
from flowscope_probes.roots.fast import DECIDED

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def headers_of(environ: dict[str, Any]) -> dict[str, str]:
    out = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
    if "CONTENT_TYPE" in environ:
        out["content-type"] = str(environ["CONTENT_TYPE"])
    return out


def _read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length <= 0 or length > limit:
        return None
    stream = environ.get("wsgi.input")
    if stream is None:
        return None
    raw: bytes = stream.read(length)
    environ["wsgi.input"] = io.BytesIO(raw)
    return raw


def record_wsgi(rec: Recorder, environ: dict[str, Any], job: str) -> None:
    rt = runtime.STATE
    if rt is None:
        return
    try:
        set_job(rec, None, job)
        ctype = str(environ.get("CONTENT_TYPE") or "")
        form: list[tuple[str, object]] = []
        body: object = None
        if ctype:
            raw = _read_body(environ, rt.settings.max_body)
            if raw is not None:
                form, body = parse_body(ctype, raw)
        record_request(
            rec,
            scheme=str(environ.get("wsgi.url_scheme", "http")),
            host=environ.get("HTTP_HOST") or environ.get("SERVER_NAME"),
            template=raw_path_template(str(environ.get("PATH_INFO") or "/")),
            query=parse_qsl(str(environ.get("QUERY_STRING") or "")),
            form=form,
            body=body,
            headers=headers_of(environ) if rt.settings.headers else None,
        )
    except Exception:
        FAULTS.add("wsgi.sources")


class ProbesMiddleware:
    """Wrap a WSGI app: ``app.wsgi_app = ProbesMiddleware(app.wsgi_app)`` or ``ProbesMiddleware(app)``."""

    def __init__(self, app: WSGIApp, job: str | None = None) -> None:
        self.app = app
        self.job = job or getattr(app, "__name__", None) or type(app).__name__

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if runtime.STATE is None or DECIDED in environ:
            return self.app(environ, start_response)
        started = begin(environ.get("PATH_INFO", ""), environ.get("HTTP_TRACEPARENT"))
        environ[DECIDED] = started is not None
        if started is None:
            return self.app(environ, start_response)
        rec, token = started
        record_wsgi(rec, environ, self.job)
        try:
            return self.app(environ, start_response)
        finally:
            end(rec, token)
