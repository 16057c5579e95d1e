"""SQL literals without flowscope-sql: the built-in reader (tests/test_static_sql_parser.py at the top of the
workspace runs the path through flowscope-sql, which is installed there)."""

from __future__ import annotations

import sys

import pytest

from flowscope_hack_static import pyfront, sqlnames
from flowscope_hack_static.engine import analyze_all
from flowscope_hack_static.packs import load_models

CODE = """from flask import request


def save(cur):
    email = request.form["email"]
    cur.execute("INSERT /* audit */ INTO app.audit (who, what) VALUES (%(who)s, %(what)s)", (email, "x"))
    cur.execute("UPDATE users SET email = %s, seen = NOW() WHERE id = %s", (email, 1))
"""


def targets() -> set[str]:
    [result] = analyze_all([pyfront.lower(CODE, "a.py")], load_models([]))
    return {str(f.target) for f in result.flows}


@pytest.fixture
def without_sql_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    sqlnames._sql_plugin.cache_clear()
    sqlnames._read.cache_clear()
    monkeypatch.setitem(sys.modules, "flowscope_sql.statements", None)  # import fails as if absent
    yield
    sqlnames._sql_plugin.cache_clear()
    sqlnames._read.cache_clear()


def test_the_builtin_reader_without_flowscope_sql(without_sql_plugin: None) -> None:
    assert sqlnames._sql_plugin() is None
    assert sqlnames.insert_columns("UPDATE users SET email = %s, name = ? WHERE id = 1") == (
        "users",
        ["email", "name"],
    )
    assert sqlnames.insert_columns("INSERT INTO t (a, b) VALUES (?, ?)") == ("t", ["a", "b"])
    assert sqlnames.insert_columns("SELECT 1") == (None, [])
    got = targets()
    assert "postgres://default:5432/users#email" in got
    assert any("unresolved:" in t for t in got), "the comment hides the INSERT from the small reader"


def test_an_execute_given_no_statement_is_no_database_write() -> None:
    """graphql-core's ``document.execute(root=..., context=...)`` (saleor's webhook payloads) is no DB-API
    call: every database API takes the statement first. A cursor's execute with one still is."""
    code = (
        "def payload(document, cur, user):\n"
        "    email = user.email\n"
        "    document.execute(root=(email, 1), context=None, return_promise=True)\n"
        "    cur.execute(sql_text, (email,))\n"
    )
    [result] = analyze_all([pyfront.lower(code, "a.py")], load_models([]))
    got = sorted(str(f.target) for f in result.flows)
    assert got and all("sql_text" in t for t in got), got
