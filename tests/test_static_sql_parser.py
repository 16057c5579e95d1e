"""hack_static reads SQL literals through flowscope-sql's parser when both are installed (the workspace).

The built-in reader's path is tested beside the plugin (plugins/hack_static/tests/test_static_sqlnames.py),
where flowscope-sql is absent."""

from __future__ import annotations

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


def test_flowscope_sql_parses_what_the_builtin_reader_cannot() -> None:
    sqlnames._sql_plugin.cache_clear()
    sqlnames._read.cache_clear()
    assert sqlnames._sql_plugin() is not None
    assert sqlnames.insert_columns("INSERT /* c */ INTO app.audit (who, what) VALUES (%(who)s, :what)") == (
        "app.audit",
        ["who", "what"],
    )
    assert sqlnames.insert_columns("INSERT INTO t VALUES (?, ?)") == ("t", [])
    assert sqlnames.insert_columns("DELETE FROM t WHERE x = 'UPDATE'") == (None, [])
    assert sqlnames.insert_columns("INSERT INTO ((( broken") == (None, []), (
        "unparsable: the small reader's answer"
    )
    got = targets()
    assert {"postgres://default:5432/app.audit#who", "postgres://default:5432/users#email"} <= got
    assert not any("unresolved:" in t for t in got)
