"""SELECT result columns -> table columns, with sqlglot and with the regex fallback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowscope_probes.instrumentations import readmap, sqlmap


@pytest.fixture(params=["sqlglot", "regex"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "regex":
        monkeypatch.setattr(sqlmap, "sqlglot", None)
    readmap.read_plan.cache_clear()
    yield str(request.param)
    readmap.read_plan.cache_clear()


def targets(sql: str, names: list[str]) -> list[tuple[str, str] | None] | None:
    plan = readmap.read_plan(sql)
    return None if plan is None else plan.targets(names)


def test_one_table(parser: str) -> None:
    sql = "SELECT email, name AS n, id + 1, 'x' FROM users WHERE id = ? AND note = 'a?b'"
    assert targets(sql, ["email", "n", "id + 1", "'x'"]) == [
        ("users", "email"),
        ("users", "name"),
        None,
        None,
    ]
    assert targets("select u.email from app.users u order by 1", ["email"]) == [("app.users", "email")]
    assert targets("SELECT * FROM users WHERE id = %s", ["id", "email"]) == [
        ("users", "id"),
        ("users", "email"),
    ]


def test_nothing_to_map(parser: str) -> None:
    assert readmap.read_plan("SELECT 1") is None
    assert readmap.read_plan("SELECT count(*) FROM users") is None
    assert readmap.read_plan("INSERT INTO users (email) VALUES (?)") is None
    assert readmap.read_plan("SELECT u.*, 1 FROM users u") is None
    assert readmap.read_plan("not sql at all") is None


def test_shape_mismatch_maps_nothing(parser: str) -> None:
    assert targets("SELECT email, name FROM users", ["email"]) == []


def test_joins_with_sqlglot() -> None:
    readmap.read_plan.cache_clear()
    sql = "SELECT u.email, p.caption AS c, taken FROM users u JOIN photos p ON p.uid = u.id WHERE u.id = ?"
    assert targets(sql, ["email", "c", "taken"]) == [("users", "email"), ("photos", "caption"), None]
    assert readmap.read_plan("SELECT * FROM users u JOIN photos p ON p.uid = u.id") is None
    assert readmap.read_plan("SELECT email FROM (SELECT email FROM users) t") is None


def test_joins_without_sqlglot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlmap, "sqlglot", None)
    readmap.read_plan.cache_clear()
    assert readmap.read_plan("SELECT u.email FROM users u JOIN photos p ON p.uid = u.id") is None
    readmap.read_plan.cache_clear()
