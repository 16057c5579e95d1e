"""ASGI: ``ProbesASGIMiddleware(app)`` for any ASGI app, and automatically for Starlette and FastAPI
(the ``starlette`` instrumentation patches ``Starlette.__call__``, which FastAPI calls).

The decision uses the path and the ``traceparent`` header. A sampled request's body is teed from
``receive`` as the app reads it (up to ``max_body`` bytes; nothing is read ahead of the app), and when the
app returns the request's sources are recorded: query args, JSON or form body leaves, path params and
allow-listed headers. Starlette's router leaves the matched route in the scope, so the job is the endpoint's
``__name__`` (the FastAPI path operation function) and the asset is named by the route's path template.
The recorder lives in a contextvar, so tasks the app spawns inherit it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from flowscope_probes import runtime
from flowscope_probes.context import FAULTS, Recorder
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

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
DECIDED = "flowscope.probes"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def record_asgi(rec: Recorder, scope: Scope, body: bytes, job: str) -> None:
    rt = runtime.STATE
    if rt is None:
        return
    try:
        route = scope.get("route")
        routed = getattr(route, "path", None)
        template = path_template(str(routed)) if routed else raw_path_template(str(scope.get("path") or "/"))
        set_job(rec, scope.get("endpoint"), job)
        form: list[tuple[str, object]] = []
        decoded: object = None
        ctype = _header(scope, b"content-type")
        if body and ctype:
            form, decoded = parse_body(ctype, body)
        headers = None
        if rt.settings.headers:
            headers = {
                bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1") for k, v in scope["headers"]
            }
        record_request(
            rec,
            scheme="https" if scope.get("scheme") in ("https", "wss") else "http",
            host=_header(scope, b"host"),
            template=template,
            query=parse_qsl(bytes(scope.get("query_string") or b"").decode("latin-1")),
            form=form,
            body=decoded,
            path_params=scope.get("path_params"),
            headers=headers,
        )
    except Exception:
        FAULTS.add("asgi.sources")


async def asgi_root(
    call: Callable[[Receive], Awaitable[None]], scope: Scope, receive: Receive, job: str
) -> None:
    """Run ``call(receive)`` as a request root (the caller checked the scope is an undecided HTTP request)."""
    started = begin(str(scope.get("path") or ""), _header(scope, b"traceparent"))
    scope[DECIDED] = started is not None
    if started is None:
        await call(receive)
        return
    rec, token = started
    chunks: list[bytes] = []
    limit = runtime.STATE.settings.max_body if runtime.STATE else 0
    size = 0

    async def teed() -> MutableMapping[str, Any]:
        nonlocal size
        message = await receive()
        try:
            if message.get("type") == "http.request" and size <= limit:
                chunk = message.get("body") or b""
                size += len(chunk)
                if size <= limit:
                    chunks.append(chunk)
        except Exception:
            FAULTS.add("asgi.receive")
        return message

    try:
        await call(teed)
    finally:
        record_asgi(rec, scope, b"".join(chunks) if size <= limit else b"", job)
        end(rec, token)


class ProbesASGIMiddleware:
    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], job: str | None = None
    ) -> None:
        self.app = app
        self.job = job or getattr(app, "__name__", None) or type(app).__name__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if runtime.STATE is None or scope.get("type") != "http" or DECIDED in scope:
            await self.app(scope, receive, send)
            return
        await asgi_root(lambda r: self.app(scope, r, send), scope, receive, self.job)


def make_call(original: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    async def __call__(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
        if runtime.STATE is None or scope.get("type") != "http" or DECIDED in scope:
            await original(self, scope, receive, send)
            return
        await asgi_root(lambda r: original(self, scope, r, send), scope, receive, "")

    return __call__


class StarletteRoot(Instrumentation):
    name = "starlette"
    module = "starlette"

    def _install(self) -> None:
        from starlette.applications import Starlette

        self.patch(Starlette, "__call__", make_call)
