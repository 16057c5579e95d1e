"""SQLAlchemy Core and ORM writes through the after_cursor_execute event (SQLite engine, in memory)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from flowscope.model import Asset
from flowscope_probes.context import CURRENT, FAULTS, Recorder
from flowscope_probes.instrumentations import sqlalchemy as probe_sa
from flowscope_probes.instrumentations.sqlalchemy import SqlalchemyInstrumentation, names
from flowscope_probes.instrumentations.sqlite import SqliteInstrumentation


class Base(DeclarativeBase):
    pass


class Photo(Base):
    __tablename__ = "photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str]
    caption: Mapped[str]


@pytest.fixture
def inst() -> Iterator[SqlalchemyInstrumentation]:
    i = SqlalchemyInstrumentation()
    i.install()
    yield i
    i.uninstall()


def run(engine: Engine) -> list[tuple[int, str, str]]:
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Photo(id=1, owner="alice", caption="at the beach"))
        s.commit()
        s.get(Photo, 1).caption = "edited"  # type: ignore[union-attr]
        s.commit()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Photo.__table__),
            [{"id": 2, "owner": "bob", "caption": "c2"}, {"id": 3, "owner": "cy", "caption": "c3"}],
        )
        return [tuple(r) for r in conn.execute(sa.select(Photo.__table__).order_by(Photo.id))]  # type: ignore[misc]


def test_orm_flush_and_core_executemany_are_column_sinks(
    inst: SqlalchemyInstrumentation, rec: Recorder
) -> None:
    rows = run(sa.create_engine("sqlite://"))
    assert rows == [(1, "alice", "edited"), (2, "bob", "c2"), (3, "cy", "c3")]
    t = lambda col: Asset("sqlite://memory", "photos", col)  # noqa: E731
    assert rec.sinks == [
        (t("id"), 1), (t("owner"), "alice"), (t("caption"), "at the beach"),
        (t("caption"), "edited"),
        (t("id"), 2), (t("owner"), "bob"), (t("caption"), "c2"),
        (t("id"), 3), (t("owner"), "cy"), (t("caption"), "c3"),
    ]  # fmt: skip


def test_with_the_sqlite_factory_each_write_is_recorded_once(
    inst: SqlalchemyInstrumentation, rec: Recorder
) -> None:
    lite = SqliteInstrumentation()
    lite.install()
    try:
        run(sa.create_engine("sqlite://"))
    finally:
        lite.uninstall()
    assert len(rec.sinks) == 10
    assert rec.sinks[0] == (Asset("sqlite://memory", "photos", "id"), 1)


def test_names_follow_openlineage_for_postgres() -> None:
    ns, qualify = names(sa.make_url("postgresql+psycopg://u:secret@db.internal/app"))
    assert (ns, qualify("photos"), qualify("media.photos")) == (
        "postgres://db.internal:5432",
        "app.public.photos",
        "app.media.photos",
    )
    ns, qualify = names(sa.make_url("sqlite:////var/data/photos.db"))
    assert (ns, qualify("p")) == ("sqlite://photos", "p")


def test_nothing_without_recorder_and_same_results(inst: SqlalchemyInstrumentation) -> None:
    probed = run(sa.create_engine("sqlite://"))
    inst.uninstall()
    assert run(sa.create_engine("sqlite://")) == probed


def test_uninstall_removes_the_listener_and_double_install_adds_one() -> None:
    a, b = SqlalchemyInstrumentation(), SqlalchemyInstrumentation()
    a.install()
    b.install()
    assert event.contains(Engine, "after_cursor_execute", probe_sa.after_cursor_execute)
    rec = Recorder("job", "/r")
    token = CURRENT.set(rec)
    try:
        with sa.create_engine("sqlite://").begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (a TEXT)"))
            conn.execute(sa.text("INSERT INTO t (a) VALUES (:a)"), {"a": "once"})
    finally:
        CURRENT.reset(token)
    assert rec.sinks == [(Asset("sqlite://memory", "t", "a"), "once")]
    a.uninstall()
    assert not event.contains(Engine, "after_cursor_execute", probe_sa.after_cursor_execute)


def test_probe_fault_is_counted_not_raised(
    inst: SqlalchemyInstrumentation, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("probe bug")

    monkeypatch.setattr(probe_sa, "names", broken)
    before = FAULTS.counts.get("sqlalchemy", 0)
    with sa.create_engine("sqlite://").begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (a TEXT)"))
        assert FAULTS.counts["sqlalchemy"] == before + 1
        conn.execute(sa.text("INSERT INTO t (a) VALUES (:a)"), {"a": "x"})
        assert conn.execute(sa.text("SELECT a FROM t")).scalar() == "x"
    assert rec.sinks == []
