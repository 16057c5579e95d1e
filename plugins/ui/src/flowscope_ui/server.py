"""The HTTP layer: Starlette routes over :mod:`flowscope_ui.answers` and :mod:`flowscope_ui.zoneviews`,
the page's static files, and the write rules.

Write rules (reviews are the only writes):

- ``--read-only``: every write is refused (403).
- Bound to a loopback name (127.0.0.1, localhost, ::1): writes need no token, but requests must name that
  host in ``Host`` (a DNS-rebinding page cannot reach the API) and writes must be ``application/json``
  with no foreign ``Origin`` (a cross-site form cannot post one without a CORS preflight we never grant).
- Bound anywhere else: every write also needs ``Authorization: Bearer <token>`` (401 without), the token
  from ``$FLOWSCOPE_UI_TOKEN`` (``label:secret`` names the reviewer ``label``) or generated and printed at
  start. Reads stay open, as the lineage graph holds names, not data.

Every error is JSON ``{"error": "..."}`` with a 4xx status; a bug is a 500 with the same shape and the
traceback only in the server log.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from flowscope.errors import UserError
from flowscope.model import Asset
from flowscope.store import Store
from flowscope.store.schema import DB_NAME
from flowscope_ui import answers, graphview, zoneviews
from flowscope_ui.answers import BadRequest, NotFound
from flowscope_ui.cli import TOKEN_ENV
from flowscope_ui.openapi import OPENAPI

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_BODY = 4 * 1024 * 1024
# cytoscape sets inline styles on its canvases; scripts stay 'self' only (data is never HTML anyway)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class Forbidden(UserError):
    pass


class Unauthorized(UserError):
    pass


STATUS_OF: dict[type[Exception], int] = {BadRequest: 400, NotFound: 404, Forbidden: 403, Unauthorized: 401}


@dataclass
class Settings:
    store: Path
    host: str = "127.0.0.1"
    port: int = 8321
    read_only: bool = False
    config: Path | None = None
    token: str | None = None  # None: no token needed (loopback)
    reviewer: str = ""
    _cache: dict[str, tuple[tuple[float, ...], Any]] = field(default_factory=dict, repr=False)

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        """Namespaces and tags, rebuilt when the store file changes (a scan or ingest while serving)."""
        stamp = tuple(
            p.stat().st_mtime if p.exists() else 0.0
            for p in (self.store / DB_NAME, self.store / (DB_NAME + "-wal"))
        )
        hit = self._cache.get(key)
        if hit is None or hit[0] != stamp:
            hit = (stamp, make())
            self._cache[key] = hit
        return hit[1]


def _reviewer_from(token_env: str) -> tuple[str | None, str]:
    label, sep, secret = token_env.partition(":")
    return (secret, label) if sep and label and secret else (token_env, "")


def settings_for(
    store: Path, host: str, port: int, read_only: bool, config: Path | None, env: dict[str, str] | None = None
) -> Settings:
    from flowscope.cli.zone import reviewer

    env = dict(os.environ) if env is None else env
    s = Settings(store, host, port, read_only, config)
    raw = env.get(TOKEN_ENV, "").strip()
    label = ""
    if raw:
        s.token, label = _reviewer_from(raw)
    elif not s.loopback and not read_only:
        s.token = secrets.token_urlsafe(24)
    if s.loopback:  # the Host and Origin checks guard loopback writes; a token there is only a label
        s.token = None
    s.reviewer = label or reviewer()
    return s


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


def _error(status: int, message: str) -> JSONResponse:
    return _json({"error": message}, status)


def build_app(s: Settings) -> Any:
    """The ASGI app for one store (Starlette behind the Host and header guard)."""

    def open_store() -> Store:
        if not (s.store / DB_NAME).exists():
            raise NotFound(f"no lineage store in {s.store}; run `flowscope scan` or `flowscope ingest` first")
        return Store.open(s.store)

    def namespaces(store: Store) -> Callable[[], list[str]]:
        return lambda: s.cached("namespaces", store.namespaces)

    def tags(store: Store) -> dict[Asset, tuple[str, ...]]:
        return s.cached("tags", store.tags)  # type: ignore[no-any-return]

    def endpoint(fn: Callable[[Request, Store], Any]) -> Callable[[Request], Any]:
        def run(request: Request) -> Response:
            with open_store() as store:
                return _json(fn(request, store))

        return run

    def check_write(request: Request) -> None:
        if s.read_only:
            raise Forbidden("the server runs with --read-only: writes are refused")
        if s.token is not None:
            auth = request.headers.get("authorization", "")
            given = auth[7:] if auth.lower().startswith("bearer ") else ""
            if not given or not hmac.compare_digest(given.encode(), s.token.encode()):
                raise Unauthorized("this write needs the server's token (Authorization: Bearer <token>)")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise BadRequest("writes must be application/json")
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host", ""):
            raise Forbidden(f"cross-origin write refused (origin {origin[:80]})")

    # -- reads ------------------------------------------------------------------------------------------
    def info(request: Request) -> Response:
        return _json(
            {
                "read_only": s.read_only,
                "token_required": s.token is not None,
                "reviewer": s.reviewer,
                "max_nodes": graphview.MAX_NODES,
                "store": s.store.name,
            }
        )

    def search(request: Request, store: Store) -> Any:
        q = answers.text(request.query_params, "q", "", limit=200)
        limit = answers.integer(request.query_params, "limit", 20, 1, 200)
        return {"query": q, "results": answers.search(store, q, limit)}

    def neighbourhood(request: Request, store: Store) -> Any:
        p = request.query_params
        direction = answers.text(p, "direction", "down")
        if direction not in ("down", "up", "both"):
            raise BadRequest(f"parameter 'direction' must be down, up or both, got {direction[:40]!r}")
        options = answers.walk_options(p)
        filters = graphview.Filters(answers.listing(p, "namespace"), answers.listing(p, "category"))
        limit = answers.integer(p, "limit", graphview.MAX_NODES, 2, graphview.MAX_NODES)
        start = answers.resolve(store, answers.text(p, "asset"), namespaces(store))
        t = tags(store) if filters.categories else {}
        return graphview.neighbourhood(store, start, direction, options, filters, t, limit)  # type: ignore[arg-type]

    def why(request: Request, store: Store) -> Any:
        p = request.query_params
        source = answers.resolve(store, answers.text(p, "source"), namespaces(store))
        target = answers.resolve(store, answers.text(p, "target"), namespaces(store))
        if source == target:
            raise BadRequest("source and target are the same asset")
        return answers.why(store, source, target, answers.walk_options({**p, "depth": "1"}))

    def asset(request: Request, store: Store) -> Any:
        a = answers.resolve(store, answers.text(request.query_params, "asset"), namespaces(store))
        return answers.asset_details(store, a, tags(store))

    def edge(request: Request, store: Store) -> Any:
        p = request.query_params
        source = answers.resolve(store, answers.text(p, "source"), namespaces(store))
        target = answers.resolve(store, answers.text(p, "target"), namespaces(store))
        return answers.edge_details(store, source, target)

    def zones(request: Request) -> Response:
        return _json(zoneviews.list_zones(zoneviews.workspace(s.config)))

    def zone_status(request: Request, store: Store) -> Any:
        ws = zoneviews.workspace(s.config)
        z = zoneviews.zone_of(ws, request.path_params["zone"])
        return zoneviews.status_table(store, ws, z, request.query_params)

    def zone_queue(request: Request, store: Store) -> Any:
        ws = zoneviews.workspace(s.config)
        return zoneviews.queue(store, ws, zoneviews.zone_of(ws, request.path_params["zone"]))

    def zone_decisions(request: Request) -> Response:
        ws = zoneviews.workspace(s.config)
        return _json(zoneviews.decisions(ws, zoneviews.zone_of(ws, request.path_params["zone"])))

    # -- the one write ----------------------------------------------------------------------------------
    async def zone_review(request: Request) -> Response:
        check_write(request)
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise BadRequest(f"the body is larger than {MAX_BODY} bytes")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("the body is not valid JSON") from None
        from starlette.concurrency import run_in_threadpool

        def write() -> Any:
            ws = zoneviews.workspace(s.config)
            z = zoneviews.zone_of(ws, request.path_params["zone"])
            with open_store() as store:
                return zoneviews.review(
                    store, ws, z, body, s.reviewer, lambda t: answers.resolve(store, t, namespaces(store))
                )

        return _json(await run_in_threadpool(write))

    def openapi(request: Request) -> Response:
        return _json(OPENAPI)

    def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def user_error(request: Request, exc: Exception) -> Response:
        status = next((code for kind, code in STATUS_OF.items() if isinstance(exc, kind)), 400)
        return _error(status, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(exc.status_code, str(exc.detail))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("error serving %s", request.url.path, exc_info=exc)
        return _error(500, f"internal error: {type(exc).__name__} (see the server log)")

    routes = [
        Route("/", index),
        Route("/api/info", info),
        Route("/api/openapi.json", openapi),
        Route("/api/search", endpoint(search)),
        Route("/api/neighbourhood", endpoint(neighbourhood)),
        Route("/api/why", endpoint(why)),
        Route("/api/asset", endpoint(asset)),
        Route("/api/edge", endpoint(edge)),
        Route("/api/zones", zones),
        Route("/api/zones/{zone}/status", endpoint(zone_status)),
        Route("/api/zones/{zone}/queue", endpoint(zone_queue)),
        Route("/api/zones/{zone}/decisions", zone_decisions),
        Route("/api/zones/{zone}/review", zone_review, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={UserError: user_error, HTTPException: http_error, Exception: server_error},
    )
    return _guard(app, s)


def _guard(app: Starlette, s: Settings) -> Any:
    """Host check (DNS rebinding) on loopback, and the page's security headers on every response."""
    allowed = {f"{h}:{s.port}" for h in ("127.0.0.1", "localhost", "[::1]")} if s.loopback else None

    async def guarded(scope: dict[str, Any], receive: Any, send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] == "http" and allowed is not None:
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if host not in allowed:
                await _error(400, f"unexpected Host header {host[:80]!r}")(scope, receive, send)
                return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return guarded


def serve(store: Path, *, host: str, port: int, read_only: bool, config: Path | None) -> None:
    """Bind, print where the page is (and the token when one is needed), serve until interrupted."""
    import uvicorn

    if not (store / DB_NAME).exists():
        raise UserError(
            "no lineage store here yet; run `flowscope scan` or `flowscope ingest FILE` first", str(store)
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_port = sock.getsockname()[1]
    s = settings_for(store, host, bound_port, read_only, config)
    app = build_app(s)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound_port}/"
    # the mode lines first, the address last: a script waiting for the address has read them all
    if s.read_only:
        print("read-only: review decisions are refused", flush=True)
    elif s.token is not None:
        if os.environ.get(TOKEN_ENV):
            print(f"writes need the token from ${TOKEN_ENV}; reviewer: {s.reviewer}", flush=True)
        else:
            print(f"writes need this token: {s.token}  (open {url}#token={s.token})", flush=True)
    print(f"flowscope ui: serving {s.store} on {url}", flush=True)
    sys.stdout.flush()
    config_ = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config_)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
