"""The C request root (``roots/_fast.c``): each decision it makes itself, what it hands to Python, and the
same sampled requests as the Python root for the same random draws."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

import flowscope_probes
from flowscope_probes import sampling
from flowscope_probes.context import CURRENT, Recorder
from flowscope_probes.roots import fast
from flowscope_probes.roots.fast import DECIDED

pytestmark = pytest.mark.skipif(
    fast._fast is None, reason="the C roots are not built (FLOWSCOPE_PROBES_PURE)"
)


def test_built_when_ci_requires_it() -> None:
    if os.environ.get("FLOWSCOPE_PROBES_REQUIRE_SPEEDUPS") == "1":
        assert fast.build() == "compiled"


class Calls:
    """The three callables a Root is made of, recording which one ran."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def make(self, name: str) -> Callable[..., str]:
        def fn(*args: Any, **kwargs: Any) -> str:
            self.seen.append((name, args, kwargs))
            return name

        return fn

    def root(self) -> Any:
        return fast._fast.Root(self.make("original"), self.make("slow"), self.make("sampled"))


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Sets what C roots decide with; opentelemetry counts as not imported (another test may have)."""
    monkeypatch.delitem(sys.modules, "opentelemetry.trace", raising=False)

    def set_mode(mode: int, rate: float, draw: Callable[[], float] = sampling._random) -> None:
        fast._fast.configure(mode, rate, CURRENT, draw, DECIDED)

    yield set_mode
    fast.configure(None)


def call(root: Any, environ: object) -> str:
    return root("app", environ, "start_response")  # type: ignore[no-any-return]


def test_each_decision(configure: Any) -> None:
    c = Calls()
    root = c.root()
    configure(fast._fast.OFF, 1.0)
    env: dict[str, Any] = {"PATH_INFO": "/a"}
    assert call(root, env) == "original" and DECIDED not in env  # probes off: nothing touched

    configure(fast._fast.FAST, 0.0)
    assert call(root, env) == "original" and env[DECIDED] is False  # rate 0: out, marked
    assert call(root, {DECIDED: True}) == "original"  # an outer root decided
    assert call(root, "not a dict") == "original"

    configure(fast._fast.FAST, 1.0)
    assert call(root, {}) == "sampled"
    # a client's trace header decides nothing (only a trusting deployment reads it: mode SLOW, below)
    assert call(root, {"HTTP_TRACEPARENT": "00-" + "0" * 31 + "1-" + "b" * 16 + "-01"}) == "sampled"
    configure(fast._fast.FAST, 0.5, lambda: 0.9)
    assert call(root, {"HTTP_TRACEPARENT": "00-" + "0" * 31 + "1-" + "b" * 16 + "-01"}) == "original"
    configure(fast._fast.FAST, 1.0)

    token = CURRENT.set(Recorder("job", "/outer"))
    try:
        env = {}
        assert call(root, env) == "original" and env[DECIDED] is False  # inside a sampled request already
    finally:
        CURRENT.reset(token)

    configure(fast._fast.SLOW, 0.0)  # rates by route: Python decides
    assert call(root, {}) == "slow"


def test_random_draw_and_its_failure(configure: Any) -> None:
    c = Calls()
    root = c.root()
    configure(fast._fast.FAST, 0.5, lambda: 0.49)
    assert call(root, {}) == "sampled"
    configure(fast._fast.FAST, 0.5, lambda: 0.5)
    env: dict[str, Any] = {}
    assert call(root, env) == "original" and env[DECIDED] is False

    def broken() -> float:
        raise RuntimeError("no randomness")

    configure(fast._fast.FAST, 0.5, broken)
    assert call(root, {}) == "slow"  # Python decides (and guards) when the draw fails
    assert sys.exc_info() == (None, None, None)


def test_opentelemetry_imported_changes_nothing(configure: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    c = Calls()
    root = c.root()
    configure(fast._fast.FAST, 0.5, lambda: 0.0)
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", object())  # type: ignore[arg-type]
    assert call(root, {}) == "sampled"  # the draw decides, not a trace someone else chose
    configure(fast._fast.FAST, 0.0)
    assert call(root, {}) == "original"


def test_trusting_upstream_decisions_means_python_decides(tmp_path: Any) -> None:
    rt = flowscope_probes.install(
        service="svc", spool=tmp_path / "spool", sample_rate=0.5, salt="s", trust_upstream_sampled=True
    )
    try:
        c = Calls()
        assert rt is not None and call(c.root(), {}) == "slow"
    finally:
        flowscope_probes.uninstall()


class Interrupting:
    """A key whose comparison raises what a signal handler would (hash equal to the decided key's)."""

    def __hash__(self) -> int:
        return hash(DECIDED)

    def __eq__(self, other: object) -> bool:
        raise KeyboardInterrupt


def test_a_keyboard_interrupt_inside_the_checks_propagates(configure: Any) -> None:
    c = Calls()
    configure(fast._fast.FAST, 0.5, lambda: 0.9)
    with pytest.raises(KeyboardInterrupt):
        call(c.root(), {Interrupting(): 1})

    def interrupted() -> float:
        raise KeyboardInterrupt

    configure(fast._fast.FAST, 0.5, interrupted)
    with pytest.raises(KeyboardInterrupt):
        call(c.root(), {})
    assert [name for name, _, _ in c.seen] == []  # nothing ran after it, as without the probes


def test_arguments_results_and_exceptions_pass_through(configure: Any) -> None:
    configure(fast._fast.FAST, 0.0)

    def original(app: object, environ: dict[str, Any], start_response: object, **kw: Any) -> tuple[Any, ...]:
        if kw.get("fail"):
            raise KeyError("from the app")
        return app, start_response, kw

    root = fast._fast.Root(original, original, original)
    assert root("app", {}, "sr", extra=1) == ("app", "sr", {"extra": 1})
    with pytest.raises(KeyError, match="from the app"):
        root("app", {}, "sr", fail=True)
    c = Calls()
    assert c.root()("only the app") == "original"  # no environ argument: nothing to decide on


def test_binds_like_a_method_and_carries_attributes(configure: Any) -> None:
    configure(fast._fast.FAST, 0.0)

    class App:
        def wsgi_app(self, environ: dict[str, Any], start_response: object) -> tuple[object, object]:
            return self, start_response

    original = App.__dict__["wsgi_app"]
    root = fast._fast.Root(original, original, original)
    root.__wrapped__ = original
    root.__name__ = "wsgi_app"
    App.wsgi_app = root  # type: ignore[method-assign]
    app = App()
    assert app.wsgi_app({}, "sr") == (app, "sr")
    assert App.wsgi_app is root and root.__wrapped__ is original and root.__name__ == "wsgi_app"


def _flask_app() -> Flask:
    app = Flask("fast")

    @app.route("/orders/<int:order_id>")
    def show_order(order_id: int) -> dict[str, int]:
        return {"id": order_id}

    return app


def _sampled_ids(use_c: bool, tmp_path: Any, finished: list[Recorder]) -> list[int]:
    flowscope_probes.uninstall()
    saved = fast._fast
    if not use_c:
        fast._fast = None
    try:
        rt = flowscope_probes.install(service="svc", spool=tmp_path / "spool", sample_rate=0.3, salt="s")
        assert rt is not None
        assert (type(Flask.__dict__["wsgi_app"]).__name__ == "Root") is use_c
        client = _flask_app().test_client()
        finished.clear()
        sampling.RNG.seed(11)
        for i in range(400):
            assert client.get(f"/orders/{i}").get_json() == {"id": i}
        return [int(rec.route.rsplit("/", 1)[1]) for rec in finished]
    finally:
        fast._fast = saved
        flowscope_probes.uninstall()


def test_same_requests_sampled_as_the_python_root(
    tmp_path: Any, finished: list[Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One draw of the probes' generator per request in both roots: the same seed samples the same requests."""
    monkeypatch.delitem(sys.modules, "opentelemetry.trace", raising=False)
    in_c = _sampled_ids(True, tmp_path, finished)
    in_python = _sampled_ids(False, tmp_path, finished)
    assert in_c == in_python
    assert 80 < len(in_c) < 160  # 30% of 400
    assert sampling._random.__self__ is sampling.RNG and sampling._random is not random.random  # type: ignore[attr-defined]


def test_flask_app_behind_a_wsgi_middleware_and_introspection(
    tmp_path: Any, finished: list[Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``app.wsgi_app = ProxyFix(app.wsgi_app)`` keeps the bound C root inside; inspect sees Flask's method."""
    import inspect

    from werkzeug.middleware.proxy_fix import ProxyFix

    monkeypatch.delitem(sys.modules, "opentelemetry.trace", raising=False)
    rt = flowscope_probes.install(service="svc", spool=tmp_path / "spool", sample_rate=1.0, salt="s")
    try:
        assert rt is not None and type(Flask.__dict__["wsgi_app"]).__name__ == "Root"
        app = _flask_app()
        app.wsgi_app = ProxyFix(app.wsgi_app)  # type: ignore[method-assign]
        assert app.test_client().get("/orders/7").get_json() == {"id": 7}
        assert [rec.job.name for rec in finished] == ["show_order"]
        assert list(inspect.signature(Flask.wsgi_app).parameters) == ["self", "environ", "start_response"]
        assert Flask.wsgi_app.__name__ == "wsgi_app" and Flask.wsgi_app.__doc__
    finally:
        flowscope_probes.uninstall()
