"""Request roots: the sampling decision, the job (the handler's name) and the request's sources."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import fields
from flask import Flask, request
from pydantic import BaseModel

import flowscope_probes
from flowscope_probes.context import CURRENT, Recorder
from flowscope_probes.roots.common import path_template
from flowscope_probes.roots.wsgi import ProbesMiddleware


def flask_app() -> Flask:
    app = Flask("shop")

    @app.route("/users/<int:user_id>/profile", methods=["GET", "POST"])
    def update_profile(user_id: int) -> dict[str, Any]:
        data = request.get_json(silent=True) or dict(request.form)
        return {"ok": True, "seen": sorted(data), "user": user_id}

    return app


def test_path_templates() -> None:
    assert path_template("/users/<int:user_id>/profile") == "/users/{user_id}/profile"
    assert path_template("users/<pk>/") == "/users/{pk}/"
    assert path_template("/items/{item_id:int}") == "/items/{item_id}"


def test_flask_json_body_query_and_path_params(probes: Callable[..., Any], finished: list[Recorder]) -> None:
    probes(http_host="shop.internal", headers=["X-Tenant"])
    client = flask_app().test_client()
    body = {"email": "ada@example.org", "address": {"city": "London", "lines": ["1 Main St"]}}
    r = client.post("/users/42/profile?ref=newsletter", json=body, headers={"X-Tenant": "acme-corp"})
    assert r.get_json()["seen"] == ["address", "email"]  # the view still reads the same body
    (rec,) = finished
    assert rec.job.namespace == "service://svc" and rec.job.name == "update_profile"
    base = "http://shop.internal/users/{user_id}/profile"
    assert fields(rec) == {
        f"{base}#ref": "newsletter",
        f"{base}#email": "ada@example.org",
        f"{base}#address.city": "London",
        f"{base}#address.lines[0]": "1 Main St",
        f"{base}#user_id": 42,
        f"{base}#x-tenant": "acme-corp",
    }
    assert CURRENT.get() is None


def test_flask_form_body(probes: Callable[..., Any], finished: list[Recorder]) -> None:
    probes(http_hosts=["localhost"])  # the Host header names assets only when allow-listed
    r = flask_app().test_client().post("/users/7/profile", data={"email": "bo@example.org"})
    assert r.get_json()["seen"] == ["email"]
    assert fields(finished[0])["http://localhost/users/{user_id}/profile#email"] == "bo@example.org"


def test_flask_hooks_around_the_view_record_into_the_request(
    probes: Callable[..., Any], finished: list[Recorder]
) -> None:
    """The root (``Flask.wsgi_app``) covers before- and after-request handlers as well as the view, also the
    500 response Flask builds when the view raises."""
    probes(http_hosts=["localhost"])  # the Host header names assets only when allow-listed
    app = flask_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.before_request
    def audit_in() -> None:
        flowscope_probes.sink("log://python/audit", f"in {request.path}")

    @app.after_request
    def audit_out(response: Any) -> Any:
        flowscope_probes.sink("log://python/audit", f"out {response.status_code}")
        return response

    @app.route("/boom/<name>")
    def boom(name: str) -> Any:
        flowscope_probes.sink("log://python/audit", f"boom {name}")
        raise RuntimeError("view failed")

    client = app.test_client()
    assert client.get("/users/3/profile").status_code == 200
    assert client.get("/boom/zed").status_code == 500
    ok, failed = finished
    assert [p for _, p in ok.sinks] == ["in /users/3/profile", "out 200"]
    assert failed.job.name == "boom"
    audit = [p for _, p in failed.sinks if isinstance(p, str)]  # Flask also logs the error (logging sink)
    assert audit == ["in /boom/zed", "boom zed", "out 500"]
    assert fields(failed)["http://localhost/boom/{name}#name"] == "zed"
    assert CURRENT.get() is None


def test_sampled_out_records_nothing(probes: Callable[..., Any], finished: list[Recorder]) -> None:
    probes(sample_rate=0.0, rates_by_route={"/users/1/*": 1.0})
    client = flask_app().test_client()
    for _ in range(20):
        client.get("/users/2/profile")
    assert finished == []
    client.get("/users/1/profile")
    assert len(finished) == 1


def test_no_route_no_job(probes: Callable[..., Any], finished: list[Recorder]) -> None:
    probes()
    assert flask_app().test_client().get("/nowhere").status_code == 404
    assert finished[0].job is None  # counted as unrouted by the worker, never a job


def test_uninstalled_flask_is_untouched(probes: Callable[..., Any]) -> None:
    import flowscope_probes

    original = Flask.wsgi_app
    probes()
    assert Flask.wsgi_app is not original
    flowscope_probes.uninstall()
    assert Flask.wsgi_app is original


def plain_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(size)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


def wsgi_call(app: Any, body: bytes, ctype: str, query: str = "") -> bytes:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/signup",
        "QUERY_STRING": query,
        "CONTENT_TYPE": ctype,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "api.internal:8080",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
    }
    return b"".join(app(environ, lambda status, headers: None))


def test_plain_wsgi_middleware_reads_the_body_and_gives_it_back(
    probes: Callable[..., Any], finished: list[Recorder]
) -> None:
    probes(http_hosts=["api.internal:8080"])  # the Host header names assets only when allow-listed
    app = ProbesMiddleware(plain_wsgi, job="signup")
    body = json.dumps({"email": "cy@example.org"}).encode()
    assert wsgi_call(app, body, "application/json", "src=ad") == body
    (rec,) = finished
    assert rec.job.name == "signup"
    assert fields(rec) == {
        "http://api.internal:8080/signup#email": "cy@example.org",
        "http://api.internal:8080/signup#src": "ad",
    }
    assert wsgi_call(app, b"not json", "application/json") == b"not json"  # undecodable: no sources


class Order(BaseModel):
    card: str
    qty: int


def test_fastapi_endpoint_path_params_and_body(probes: Callable[..., Any], finished: list[Recorder]) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()

    @app.post("/shops/{shop_id}/orders")
    async def place_order(shop_id: str, order: Order) -> dict[str, Any]:
        return {"ok": order.qty, "shop": shop_id}

    probes(http_host="orders.internal")
    r = TestClient(app).post(
        "/shops/berlin-1/orders?coupon=SPRING24", json={"card": "4111111111111111", "qty": 2}
    )
    assert r.json() == {"ok": 2, "shop": "berlin-1"}
    (rec,) = finished
    assert rec.job.name == "place_order"
    base = "http://orders.internal/shops/{shop_id}/orders"
    assert fields(rec) == {
        f"{base}#coupon": "SPRING24",
        f"{base}#card": "4111111111111111",
        f"{base}#qty": 2,
        f"{base}#shop_id": "berlin-1",
    }


def configure_django() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=True,
            ROOT_URLCONF=__name__,
            ALLOWED_HOSTS=["*"],
            SECRET_KEY="test",
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
        )
        django.setup()


def test_django_view_and_route(probes: Callable[..., Any], finished: list[Recorder]) -> None:
    configure_django()
    from django.test import Client

    probes(http_hosts=["testserver"])  # the Host header names assets only when allow-listed
    r = Client().post(
        "/accounts/31/email/?lang=de",
        data=json.dumps({"email": "dee@example.org"}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json() == {"email": "dee@example.org"}
    (rec,) = finished
    assert rec.job.name == "change_email"
    base = "http://testserver/accounts/{account_id}/email/"
    assert fields(rec) == {
        f"{base}#lang": "de",
        f"{base}#email": "dee@example.org",
        f"{base}#account_id": 31,
    }


def change_email(request: Any, account_id: int) -> Any:
    from django.http import JsonResponse

    body = json.loads(request.body)
    flowscope_probes.sink("log://python/audit", f"email changed to {body['email']}")
    return JsonResponse(body)


async def change_name(request: Any, account_id: int) -> Any:
    from django.http import JsonResponse

    body = json.loads(request.body)
    flowscope_probes.sink("log://python/audit", f"name changed to {body['name']}")
    return JsonResponse(body)


def _urls() -> list[Any]:
    from django.urls import path

    return [
        path("accounts/<int:account_id>/email/", change_email),
        path("accounts/<int:account_id>/name/", change_name),
    ]


def test_django_async_handler_sync_and_async_views(
    probes: Callable[..., Any], finished: list[Recorder]
) -> None:
    """Under ASGI (Django's AsyncClient drives get_response_async): an async view runs in the request's
    task, a sync view in a worker thread; both views' sinks land in their request."""
    import asyncio

    configure_django()
    from django.test import AsyncClient

    probes(http_hosts=["testserver"])  # the Host header names assets only when allow-listed

    async def both() -> list[Any]:
        client = AsyncClient()
        return [
            await client.post(
                "/accounts/7/name/", data=json.dumps({"name": "Ada Byron"}), content_type="application/json"
            ),
            await client.post(
                "/accounts/8/email/",
                data=json.dumps({"email": "ada@example.org"}),
                content_type="application/json",
            ),
        ]

    responses = asyncio.run(both())
    assert [r.status_code for r in responses] == [200, 200]
    by_job = {rec.job.name: rec for rec in finished}
    assert set(by_job) == {"change_name", "change_email"}
    name, email = by_job["change_name"], by_job["change_email"]
    assert fields(name)["http://testserver/accounts/{account_id}/name/#name"] == "Ada Byron"
    assert fields(email)["http://testserver/accounts/{account_id}/email/#account_id"] == 8
    assert [p for _, p in name.sinks] == ["name changed to Ada Byron"]
    assert [p for _, p in email.sinks] == ["email changed to ada@example.org"]


def __getattr__(name: str) -> Any:  # ROOT_URLCONF = this module; Django reads urlpatterns lazily
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


@pytest.fixture(autouse=True)
def _no_leftover_recorder() -> None:
    assert CURRENT.get() is None


def test_django_explicit_middleware(probes: Callable[..., Any], finished: list[Recorder]) -> None:
    configure_django()
    from django.test import Client, override_settings

    probes(disable=["django"], http_hosts=["testserver"])  # no automatic patch: the middleware is the root
    with override_settings(MIDDLEWARE=["flowscope_probes.roots.django.ProbesMiddleware"]):
        r = Client().post(
            "/accounts/5/email/",
            data=json.dumps({"email": "eve@example.org"}),
            content_type="application/json",
        )
    assert r.status_code == 200
    (rec,) = finished
    assert rec.job.name == "change_email"
    assert fields(rec)["http://testserver/accounts/{account_id}/email/#email"] == "eve@example.org"


def test_plain_asgi_middleware(probes: Callable[..., Any], finished: list[Recorder]) -> None:
    import asyncio

    from flowscope_probes.roots.asgi import ProbesASGIMiddleware

    received: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        received.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def call() -> None:
        body = json.dumps({"token": "tok-123456"}).encode()
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return messages.pop(0)

        async def send(message: dict[str, Any]) -> None:
            return None

        scope = {
            "type": "http",
            "path": "/login",
            "query_string": b"next=%2Fhome",
            "headers": [(b"host", b"auth.internal"), (b"content-type", b"application/json")],
            "scheme": "https",
        }
        await ProbesASGIMiddleware(app, job="login")(scope, receive, send)

    probes(http_hosts=["auth.internal"])  # the Host header names assets only when allow-listed
    asyncio.run(call())
    assert received == [json.dumps({"token": "tok-123456"}).encode()]  # the app read the same body
    (rec,) = finished
    assert rec.job.name == "login"
    assert fields(rec) == {
        "https://auth.internal/login#next": "/home",
        "https://auth.internal/login#token": "tok-123456",
    }
