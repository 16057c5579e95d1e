"""Flask, automatically: ``Flask.wsgi_app`` becomes a request root and ``Flask.dispatch_request`` names the
job and records the request's sources once the URL rule is matched.

- job: the endpoint's view function ``__name__`` (what the static plugin names the handler);
- sources: ``http://<host><rule>#<field>`` for query args, form fields, the JSON body's leaves (field paths
  ``a.b[0]``) and path parameters, plus allow-listed headers. ``<rule>`` is the URL rule with converters
  dropped (``/users/<int:id>`` -> ``/users/{id}``); ``<host>`` is ``http_host`` when set, else the request's.
  The JSON body is read with ``get_json(silent=True)`` (Flask caches it, the view gets the same object) and
  only when the request says it is JSON and is at most ``max_body`` bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flowscope_probes import runtime
from flowscope_probes.context import CURRENT, FAULTS, Recorder
from flowscope_probes.instrument import Instrumentation
from flowscope_probes.roots import fast
from flowscope_probes.roots.common import begin, end, path_template, record_request, set_job
from flowscope_probes.roots.fast import DECIDED

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def record_flask(app: Any, rec: Recorder) -> None:
    """The request's sources. What the view does not read anyway is taken from the WSGI environ (query
    string, content type and length, host, scheme): werkzeug's parsed forms of them cost a sampled request
    ~20 us more. The JSON body and form go through Flask, which caches them for the view."""
    from flask import request as proxy

    rt = runtime.STATE
    request = proxy._get_current_object()  # once: every attribute read through the proxy costs a lookup
    rule = request.url_rule
    if rt is None or rule is None:
        return
    set_job(rec, app.view_functions.get(rule.endpoint), rule.endpoint)
    environ = request.environ
    mimetype = str(environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
    try:
        small = int(environ.get("CONTENT_LENGTH") or 0) <= rt.settings.max_body
    except ValueError:
        small = False
    is_json = mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )
    body = request.get_json(silent=True) if is_json and small else None
    form = list(request.form.items(multi=True)) if small and mimetype in FORM_TYPES else []
    headers = {k.lower(): v for k, v in request.headers.items()} if rt.settings.headers else None
    record_request(
        rec,
        scheme=str(environ.get("wsgi.url_scheme") or "http"),
        host=environ.get("HTTP_HOST") or request.host,
        template=path_template(rule.rule),
        query=parse_qsl(str(environ.get("QUERY_STRING") or "")),
        form=form,
        body=body,
        path_params=request.view_args,
        headers=headers,
    )


def make_root(original: Callable[..., Any]) -> Callable[..., Any]:
    """The root: in C when built (:mod:`flowscope_probes.roots.fast`), with ``wsgi_app`` below deciding
    what C hands over; ``wsgi_app`` alone otherwise."""

    def run(self: Any, environ: dict[str, Any], start_response: Callable[..., Any], sampled: bool) -> Any:
        started = begin(environ.get("PATH_INFO", ""), environ.get("HTTP_TRACEPARENT"), sampled)
        environ[DECIDED] = started is not None
        if started is None:
            return original(self, environ, start_response)
        rec, token = started
        try:
            return original(self, environ, start_response)
        finally:
            end(rec, token)

    def wsgi_app(self: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if runtime.STATE is None or DECIDED in environ:
            return original(self, environ, start_response)  # type: ignore[no-any-return]
        return run(self, environ, start_response, False)  # type: ignore[no-any-return]

    def sampled_in(self: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return run(self, environ, start_response, True)  # type: ignore[no-any-return]

    wsgi_app.__name__ = sampled_in.__name__ = "wsgi_app"
    return fast.wsgi_root(original, wsgi_app, sampled_in)


def make_dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    current = CURRENT.get

    def dispatch_request(self: Any, *args: Any, **kwargs: Any) -> Any:
        rec = current()
        if rec is not None and rec.job is None:
            try:
                record_flask(self, rec)
            except Exception:
                FAULTS.add("flask.sources")
        if args or kwargs:
            return original(self, *args, **kwargs)
        return original(self)  # what Flask does: no arguments, no tuple and dict passed on

    dispatch_request.__name__ = "dispatch_request"
    return dispatch_request


class FlaskRoot(Instrumentation):
    name = "flask"
    module = "flask"

    def _install(self) -> None:
        from flask import Flask

        self.patch(Flask, "wsgi_app", make_root)
        self.patch(Flask, "dispatch_request", make_dispatch)
