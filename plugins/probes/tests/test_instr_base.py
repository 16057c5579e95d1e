"""The shared parts: SQL write plans, names, payload shapes, and patching that survives other wrappers."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from flowscope import naming
from flowscope_probes.context import FAULTS, Recorder, sink
from flowscope_probes.instrument import GATE, MARK, Instrumentation
from flowscope_probes.instrumentations import sqlmap
from flowscope_probes.instrumentations._base import method
from flowscope_probes.instrumentations.names import body_payload, http_asset, query_payload


@pytest.mark.parametrize(
    ("sql", "table", "columns"),
    [
        ("INSERT INTO users (a, b) VALUES (?, ?)", "users", [("a", (0,)), ("b", (1,))]),
        ("insert into s.users (a,b) values (%s, lower(%s))", "s.users", [("a", (0,)), ("b", (1,))]),
        ("INSERT INTO t (a, b) VALUES (%(x)s, :y)", "t", [("a", ("x",)), ("b", ("y",))]),
        ("INSERT INTO t (a, b) VALUES ($2, $1)", "t", [("a", (1,)), ("b", (0,))]),
        ("UPDATE t SET a = ?, b = 3 WHERE id = ?", "t", [("a", (0,))]),
        ("INSERT INTO t (a, b) SELECT ?, c FROM u WHERE d = ?", "t", [("a", (0,))]),
        ('INSERT OR REPLACE INTO "t" (a) VALUES (?)', "t", [("a", (0,))]),
        ("INSERT INTO t VALUES (?, ?)", "t", [(None, (0,)), (None, (1,))]),
        # a ? or %s inside a quoted string or a comment is text, not a parameter
        ("INSERT INTO t (a, b, c) VALUES ('why?', ?, 'x%s') -- ?", "t", [("b", (0,))]),
        ("UPDATE t SET a = 'a:b?', b = ? /* ? */ WHERE id = ?", "t", [("b", (0,))]),
    ],
)
def test_write_plans(sql: str, table: str, columns: list[tuple[str | None, tuple[object, ...]]]) -> None:
    plan = sqlmap.plan(sql)
    assert plan is not None and plan.table == table and list(plan.columns) == columns


def test_reads_and_ddl_have_no_plan_and_plans_are_cached() -> None:
    assert sqlmap.plan("SELECT * FROM t WHERE a = ?") is None
    assert sqlmap.plan("CREATE TABLE t (a int)") is None
    assert sqlmap.plan("DELETE FROM t WHERE a = ?") is None
    sql = "INSERT INTO cached (a) VALUES (?)"
    assert sqlmap.plan(sql) is sqlmap.plan(sql)


def test_regex_fallback_without_sqlglot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlmap, "sqlglot", None)
    sqlmap.plan.cache_clear()
    try:
        p = sqlmap.plan("INSERT INTO users (name, email) VALUES (%s, %s)")
        u = sqlmap.plan("UPDATE users SET email = :e WHERE id = :i")
        quoted = sqlmap.plan("INSERT INTO t (a, b, c) VALUES ('x, y?', lower(?, 'p,q'), ?)")
        set_quoted = sqlmap.plan("UPDATE t SET a = 'k:v, ?', b = :b WHERE id = :i")
    finally:
        sqlmap.plan.cache_clear()
    assert p == sqlmap.WritePlan("users", (("name", (0,)), ("email", (1,))))
    assert u == sqlmap.WritePlan("users", (("email", ("e",)),))
    assert quoted == sqlmap.WritePlan("t", (("b", (0,)), ("c", (1,))))  # commas in strings and calls
    assert set_quoted == sqlmap.WritePlan("t", (("b", ("b",)),))


def test_values_take_positional_and_named_parameters() -> None:
    plan = sqlmap.plan("INSERT INTO t (a, b) VALUES (?, ?)")
    assert plan is not None
    assert sqlmap.values(plan, ("x", "y")) == [("a", "x"), ("b", "y")]
    assert sqlmap.values(plan, ("only",)) == [("a", "only")]
    named = sqlmap.plan("INSERT INTO t (a) VALUES (:a)")
    assert (
        named is not None and sqlmap.values(named, {"a": 1}) == [("a", 1)] and sqlmap.values(named, {}) == []
    )


def test_http_names_and_payloads() -> None:
    assert http_asset("https://api.example.org/v1/users/42?x=1") == naming.http(
        "/v1/users/{}", "api.example.org", scheme="https"
    )
    assert http_asset("http://u:secret@svc:8080/a") == naming.http("/a", "svc:8080")
    assert http_asset("http://svc:80/") == naming.http("/", "svc")
    assert query_payload("http://h/p?a=1&b=&a=2") == {"a": ["1", "2"], "b": ""}
    assert body_payload(b"a=1&b=x%40y", "application/x-www-form-urlencoded") == {"a": "1", "b": "x@y"}
    assert body_payload(b'{"k": 1}', "application/json") == '{"k": 1}'
    assert body_payload(b"\xff\xfe", None) == b"\xff\xfe"
    assert body_payload(iter([b"x"]), None) is None


class Target:
    def send(self, x: int, *, y: int = 0) -> int:
        if x < 0:
            raise ValueError("negative")
        return x + y


class Demo(Instrumentation):
    name = "demo"

    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    def _install(self) -> None:
        self.patch(Target, "send", method(self, self._record))

    def _record(self, obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.fail:
            raise RuntimeError("probe bug")
        sink(naming.log("demo"), args[0])


def test_wrapper_passes_everything_through_and_counts_faults(rec: Recorder) -> None:
    original = Target.__dict__["send"]
    demo = Demo()
    demo.install()
    try:
        assert Target().send(2, y=3) == 5
        with pytest.raises(ValueError, match="negative"):
            Target().send(-1)
        demo.fail = True
        before = FAULTS.counts.get("demo", 0)
        assert Target().send(1) == 1
        assert FAULTS.counts["demo"] == before + 1
        assert Target.send.__name__ == "send" and getattr(Target.send, MARK)
    finally:
        demo.uninstall()
    assert Target.__dict__["send"] is original
    assert rec.sinks == [(naming.log("demo"), 2), (naming.log("demo"), -1)]


def test_someone_wrapping_ours_keeps_theirs_on_uninstall(rec: Recorder) -> None:
    original = Target.__dict__["send"]
    demo = Demo()
    demo.install()
    ours = Target.__dict__["send"]

    @functools.wraps(ours)
    def theirs(self: Target, *args: Any, **kwargs: Any) -> Any:
        return ours(self, *args, **kwargs) * 10

    Target.send = theirs  # type: ignore[method-assign]
    try:
        Demo().install()  # the mark shows through functools.wraps: nothing wrapped twice
        assert Target.__dict__["send"] is theirs
        demo.uninstall()
        assert Target.__dict__["send"] is theirs and not getattr(ours, GATE).on
        assert Target().send(1) == 10 and rec.sinks == []  # theirs still runs, ours records nothing
    finally:
        Target.send = original  # type: ignore[method-assign]
