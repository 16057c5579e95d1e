"""Django, automatically: ``BaseHandler.get_response`` (WSGI) and ``BaseHandler.get_response_async`` (ASGI)
become the request root and ``BaseHandler.resolve_request`` names the job and records the sources once the
URL is resolved.
``ProbesMiddleware`` does the same from ``MIDDLEWARE`` for setups that prefer it (put it first).

- job: the view function's ``__name__`` (a class-based view's class name);
- sources: ``http://<host>/<route>#<field>`` for GET params, form fields (urlencoded only: multipart
  bodies are left alone), JSON body leaves (``request.body`` is read, which Django caches for the view) and
  URL kwargs; ``<route>`` is the matched route with converters dropped (``users/<int:pk>/`` -> ``/users/{pk}/``).
Under ASGI, async views run in the request's task and sync views in the thread Django hands them to, which
gets a copy of the task's context (asgiref), so captures in either land in the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowscope_probes import runtime
from flowscope_probes.context import CURRENT, FAULTS, Recorder
from flowscope_probes.instrument import Instrumentation
from flowscope_probes.roots.common import (
    begin,
    end,
    parse_body,
    path_template,
    raw_path_template,
    record_request,
    set_job,
)

MARK = "_flowscope_probes"


def record_django(request: Any, match: Any, rec: Recorder) -> None:
    rt = runtime.STATE
    if rt is None or match is None:
        return
    func = match.func
    set_job(rec, getattr(func, "view_class", func), "")
    ctype = str(request.META.get("CONTENT_TYPE") or "")
    small = int(request.META.get("CONTENT_LENGTH") or 0) <= rt.settings.max_body
    form: list[tuple[str, object]] = []
    body: object = None
    if small and ctype.startswith("application/x-www-form-urlencoded"):
        form = [(k, v) for k, vs in request.POST.lists() for v in vs]
    elif small and ("json" in ctype):
        form, body = parse_body(ctype, request.body)
    headers = {k.lower(): str(v) for k, v in request.headers.items()} if rt.settings.headers else None
    record_request(
        rec,
        scheme=request.scheme,
        host=request.get_host(),
        template=path_template(str(match.route))
        if match.route
        else raw_path_template(str(request.path_info)),
        query=[(k, v) for k, vs in request.GET.lists() for v in vs],
        form=form,
        body=body,
        path_params=match.kwargs,
        headers=headers,
    )


def _root(request: Any, call: Callable[[], Any]) -> Any:
    if runtime.STATE is None or hasattr(request, MARK):
        return call()
    started = begin(request.path_info, request.META.get("HTTP_TRACEPARENT"))
    setattr(request, MARK, started is not None)
    if started is None:
        return call()
    rec, token = started
    try:
        return call()
    finally:
        end(rec, token)


def make_get_response(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_response(self: Any, request: Any) -> Any:
        return _root(request, lambda: original(self, request))

    return get_response


def make_get_response_async(original: Callable[..., Any]) -> Callable[..., Any]:
    async def get_response_async(self: Any, request: Any) -> Any:
        if runtime.STATE is None or hasattr(request, MARK):
            return await original(self, request)
        started = begin(request.path_info, request.META.get("HTTP_TRACEPARENT"))
        setattr(request, MARK, started is not None)
        if started is None:
            return await original(self, request)
        rec, token = started
        try:
            return await original(self, request)
        finally:
            end(rec, token)

    return get_response_async


def make_resolve(original: Callable[..., Any]) -> Callable[..., Any]:
    def resolve_request(self: Any, request: Any) -> Any:
        match = original(self, request)
        rec = CURRENT.get()
        if rec is not None and rec.job is None:
            try:
                record_django(request, match, rec)
            except Exception:
                FAULTS.add("django.sources")
        return match

    return resolve_request


class ProbesMiddleware:
    """``MIDDLEWARE = ["flowscope_probes.roots.django.ProbesMiddleware", ...]``."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return _root(request, lambda: self.get_response(request))

    def process_view(self, request: Any, view: Any, args: Any, kwargs: Any) -> None:
        rec = CURRENT.get()
        if rec is not None and rec.job is None:
            try:
                record_django(request, request.resolver_match, rec)
            except Exception:
                FAULTS.add("django.sources")


class DjangoRoot(Instrumentation):
    name = "django"
    module = "django"

    def _install(self) -> None:
        from django.core.handlers.base import BaseHandler

        self.patch(BaseHandler, "get_response", make_get_response)
        self.patch(BaseHandler, "get_response_async", make_get_response_async)
        self.patch(BaseHandler, "resolve_request", make_resolve)
