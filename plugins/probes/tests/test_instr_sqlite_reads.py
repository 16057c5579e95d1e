"""sqlite3 reads: rows a sampled request fetches with a SELECT become per-column sources."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import spool_of
from flask import Flask
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from flowscope.model import Asset
from flowscope_probes.context import CURRENT, Recorder
from flowscope_probes.instrumentations.sqlite import SqliteInstrumentation

NS = "sqlite://memory"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]


@pytest.fixture
def inst() -> Iterator[SqliteInstrumentation]:
    i = SqliteInstrumentation()
    i.install({"sql_max_rows": 3})
    yield i
    i.uninstall()


def database(**kwargs: Any) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", **kwargs)
    conn.execute("CREATE TABLE users (id INT, email TEXT, name TEXT)")
    rows = [(i, f"user{i}@example.org", f"name{i}") for i in range(1, 6)]
    conn.executemany("INSERT INTO users VALUES (?, ?, ?)", rows)
    return conn


def emails(rec: Recorder) -> list[object]:
    return [v for a, v in rec.sources if a == Asset(NS, "users", "email")]


def test_each_way_of_fetching_records_what_it_returned(inst: SqliteInstrumentation, rec: Recorder) -> None:
    conn = database()
    cur = conn.execute("SELECT email, name AS n, id * 2 FROM users WHERE id = ?", (1,))
    assert cur.fetchone() == ("user1@example.org", "name1", 2)  # the host gets the rows it always got
    assert rec.sources == [
        (Asset(NS, "users", "email"), "user1@example.org"),
        (Asset(NS, "users", "name"), "name1"),
    ]
    rec.sources.clear()
    cur = conn.cursor()
    cur.execute("SELECT email FROM users WHERE id <= 2")
    assert cur.fetchmany(1) == [("user1@example.org",)] and cur.fetchall() == [("user2@example.org",)]
    assert [row for row in conn.execute("SELECT * FROM users WHERE id = 3")] == [
        (3, "user3@example.org", "name3")
    ]
    assert emails(rec) == ["user1@example.org", "user2@example.org", "user3@example.org"]


def test_at_most_sql_max_rows_per_statement_then_plain_again(
    inst: SqliteInstrumentation, rec: Recorder
) -> None:
    conn = database()
    cur = conn.execute("SELECT email FROM users ORDER BY id")
    assert len(cur.fetchall()) == 5
    assert emails(rec) == [f"user{i}@example.org" for i in (1, 2, 3)]  # sql_max_rows 3
    assert type(cur).__name__ == "ProbedCursor"  # done reading: the cursor's own class again


def test_cursors_outside_sampled_requests_never_change(inst: SqliteInstrumentation) -> None:
    conn = database()
    cur = conn.cursor()
    cur.execute("SELECT email FROM users")
    assert type(cur).__name__ == "ProbedCursor" and len(cur.fetchall()) == 5
    rec = Recorder("job", "/r")
    token = CURRENT.set(rec)
    cur.execute("SELECT email FROM users")
    assert type(cur).__name__ == "ReadingProbedCursor"
    CURRENT.reset(token)  # the request ends before the rows are fetched
    assert len(cur.fetchall()) == 5 and rec.sources == []
    assert type(cur).__name__ == "ProbedCursor"


def test_row_factories_and_the_hosts_cursor_class(inst: SqliteInstrumentation, rec: Recorder) -> None:
    conn = database()
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT email FROM users WHERE id = 1").fetchone()
    assert row["email"] == "user1@example.org"
    conn.row_factory = lambda cursor, values: {
        d[0]: v for d, v in zip(cursor.description, values, strict=True)
    }
    assert conn.execute("SELECT name, email FROM users WHERE id = 2").fetchall() == [
        {"name": "name2", "email": "user2@example.org"}
    ]

    class Mine(sqlite3.Cursor):
        def fetchall(self) -> list[Any]:
            return ["mine", *super().fetchall()]

    conn.row_factory = None
    cur = conn.cursor(Mine)
    cur.execute("SELECT email FROM users WHERE id = 3")
    assert cur.fetchall() == ["mine", ("user3@example.org",)]  # the host's override still runs
    assert isinstance(cur, Mine)
    assert emails(rec) == ["user1@example.org", "user2@example.org", "user3@example.org"]


def test_a_read_that_reaches_a_log_is_a_flow(probes: Callable[..., Any]) -> None:
    """End to end: a Flask view reads users.email and logs it; the spool holds the table -> log flow."""
    import logging

    rt = probes(sample_rate=1.0)
    conn = database(check_same_thread=False)
    app = Flask("reads")
    log = logging.getLogger("audit")

    @app.route("/users/<int:user_id>/notify", methods=["POST"])
    def notify(user_id: int) -> dict[str, bool]:
        (email,) = conn.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()
        log.warning("notified %s", email)
        return {"ok": True}

    client = app.test_client()
    for user_id in (1, 2, 3):
        assert client.post(f"/users/{user_id}/notify").get_json() == {"ok": True}
    rows = {(k[0], k[1], k[2], k[3]): r.count for k, r in spool_of(rt).rows.items()}
    flow = ("service://svc|notify", "sqlite://memory|users#email", "log://python|audit#")
    assert rows == {(*flow, "CONTAINS"): 3, (*flow, "EXACT_MATCH"): 3}  # the message and its argument


def test_sqlalchemy_orm_reads_through_the_sqlite_factory(inst: SqliteInstrumentation, rec: Recorder) -> None:
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([User(id=1, email="ada@example.org"), User(id=2, email="bo@example.org")])
        s.commit()
        rec.sources.clear()
        found = s.scalars(sa.select(User).where(User.id == 2)).one()
    assert found.email == "bo@example.org"
    assert (Asset(NS, "accounts", "email"), "bo@example.org") in rec.sources


def test_a_fault_while_reading_is_counted_never_raised(
    inst: SqliteInstrumentation, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowscope_probes.context import FAULTS
    from flowscope_probes.instrumentations import _db

    def broken(*args: object) -> None:
        raise RuntimeError("probe bug")

    conn = database()
    before = FAULTS.counts.get("sqlite3.read", 0)
    monkeypatch.setattr(_db, "read_assets", broken)
    assert conn.execute("SELECT email FROM users WHERE id = 1").fetchall() == [("user1@example.org",)]
    monkeypatch.undo()
    cur = conn.execute("SELECT email FROM users WHERE id = 2")
    monkeypatch.setattr(_db, "record_rows", broken)
    assert cur.fetchall() == [("user2@example.org",)]
    assert FAULTS.counts["sqlite3.read"] == before + 2 and rec.sources == []
