"""sqlite3 through the probes' connection factory: per-column sinks of real in-memory writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowscope.model import Asset
from flowscope_probes.context import CURRENT, FAULTS, Recorder
from flowscope_probes.instrumentations import sqlite as probe_sqlite
from flowscope_probes.instrumentations.sqlite import SqliteInstrumentation


@pytest.fixture
def inst() -> Iterator[SqliteInstrumentation]:
    i = SqliteInstrumentation()
    i.install()
    yield i
    i.uninstall()


def users(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE users (name TEXT, email TEXT, age INT)")


def test_insert_update_and_executemany_record_per_column(inst: SqliteInstrumentation, rec: Recorder) -> None:
    conn = sqlite3.connect(":memory:")
    users(conn)
    conn.execute("INSERT INTO users (name, email, age) VALUES (?, ?, 41)", ("alice", "alice@example.org"))
    cur = conn.cursor()
    cur.execute(
        "UPDATE users SET email = :email WHERE name = :name", {"email": "al@example.org", "name": "alice"}
    )
    cur.executemany("INSERT INTO users (name, email) VALUES (?, ?)", [("bob", "bob@example.org")])
    cur.execute("SELECT * FROM users WHERE name = ?", ("alice",))
    ns = "sqlite://memory"
    assert rec.sinks == [
        (Asset(ns, "users", "name"), "alice"),
        (Asset(ns, "users", "email"), "alice@example.org"),
        (Asset(ns, "users", "email"), "al@example.org"),
        (Asset(ns, "users", "name"), "bob"),
        (Asset(ns, "users", "email"), "bob@example.org"),
    ]


def test_file_database_is_named_by_its_stem_and_own_factory_is_kept(
    inst: SqliteInstrumentation, rec: Recorder, tmp_path: Path
) -> None:
    seen: list[str] = []

    class Mine(sqlite3.Connection):
        def execute(self, sql: str, parameters: object = (), /) -> sqlite3.Cursor:
            seen.append(sql)  # the host's own override still runs under the probes
            return super().execute(sql, parameters)  # type: ignore[arg-type]

    conn = sqlite3.connect(tmp_path / "photos.db", factory=Mine)
    assert isinstance(conn, Mine)
    conn.execute("CREATE TABLE p (owner TEXT)")
    conn.execute("INSERT INTO p (owner) VALUES (?)", ("carol",))
    conn.commit()
    assert rec.sinks == [(Asset("sqlite://photos", "p", "owner"), "carol")]
    assert seen == ["CREATE TABLE p (owner TEXT)", "INSERT INTO p (owner) VALUES (?)"]


def test_insert_select_maps_placeholders_of_the_projection(
    inst: SqliteInstrumentation, rec: Recorder
) -> None:
    conn = sqlite3.connect(":memory:")
    users(conn)
    conn.execute("CREATE TABLE src (age INT)")
    conn.execute("INSERT INTO src VALUES (3)")
    conn.execute("INSERT INTO users (name, age) SELECT ?, age FROM src WHERE age > ?", ("dave", 1))
    assert rec.sinks == [(Asset("sqlite://memory", "users", "name"), "dave")]
    assert conn.execute("SELECT name, age FROM users").fetchall() == [("dave", 3)]


def test_nothing_recorded_without_a_recorder(inst: SqliteInstrumentation) -> None:
    probe = Recorder("job", "/r")
    conn = sqlite3.connect(":memory:")
    users(conn)
    conn.execute("INSERT INTO users (name) VALUES (?)", ("eve",))
    assert CURRENT.get() is None and probe.sinks == []


def test_host_sees_the_same_results_and_errors(inst: SqliteInstrumentation, rec: Recorder) -> None:
    def run(connect: object) -> tuple[list[tuple[object, ...]], str, str]:
        conn = connect(":memory:")  # type: ignore[operator]
        users(conn)
        conn.executemany("INSERT INTO users (name, age) VALUES (?, ?)", [("a", 1), ("b", 2)])
        rows = conn.execute("SELECT name, age FROM users ORDER BY age").fetchall()
        with pytest.raises(sqlite3.OperationalError) as bad:
            conn.execute("INSERT INTO nope (x) VALUES (?)", (1,))
        with pytest.raises(sqlite3.ProgrammingError) as wrong:
            conn.execute("INSERT INTO users (name) VALUES (?)", (1, 2))
        return rows, str(bad.value), str(wrong.value)

    probed = run(sqlite3.connect)
    inst.uninstall()
    plain = run(sqlite3.connect)
    assert probed == plain
    assert probed[0] == [("a", 1), ("b", 2)]
    assert {a.name for a, _ in rec.sinks} == {"users"}  # failing statements are not recorded


def test_uninstall_restores_and_double_install_patches_once() -> None:
    original = sqlite3.connect
    a, b = SqliteInstrumentation(), SqliteInstrumentation()
    a.install()
    patched = sqlite3.connect
    a.install()
    b.install()
    assert sqlite3.connect is patched and sqlite3.dbapi2.connect is not original
    assert not b.installed or b._patched == []
    a.uninstall()
    assert sqlite3.connect is original and sqlite3.dbapi2.connect is original
    assert type(sqlite3.connect(":memory:")) is sqlite3.Connection


def test_probe_fault_is_counted_not_raised(
    inst: SqliteInstrumentation, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("probe bug")

    conn = sqlite3.connect(":memory:")
    users(conn)
    monkeypatch.setattr(probe_sqlite._db, "record", broken)
    before = FAULTS.counts.get("sqlite3", 0)
    conn.execute("INSERT INTO users (name) VALUES (?)", ("frank",))
    assert FAULTS.counts["sqlite3"] == before + 1
    assert conn.execute("SELECT name FROM users").fetchall() == [("frank",)]


def test_explicit_connect_wrapper_and_generators_are_not_consumed(
    inst: SqliteInstrumentation, rec: Recorder
) -> None:
    conn = probe_sqlite.connect(":memory:")
    assert isinstance(conn, probe_sqlite.ProbedConnection)
    users(conn)
    conn.executemany("INSERT INTO users (name) VALUES (?)", ((n,) for n in ["g1", "g2"]))
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (2,)
    assert rec.sinks == []  # a generator is never read by the probe
