"""psycopg2 against a real PostgreSQL (the throwaway server of test_instr_psycopg.py), through the probes'
connection factory, with the host's own cursor factory too."""

from __future__ import annotations

from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extras
import pytest
from test_instr_psycopg import dsn, t

from flowscope_probes.context import Recorder
from flowscope_probes.instrumentations.psycopg2 import Psycopg2Instrumentation

__all__ = ["dsn"]  # a fixture shared with test_instr_psycopg.py


def test_psycopg2_through_the_connection_factory(rec: Recorder, dsn: str) -> None:
    original = psycopg2.connect
    inst = Psycopg2Instrumentation()
    inst.install()
    Psycopg2Instrumentation().install()
    try:
        assert psycopg2.connect.__wrapped__ is original
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS p2; CREATE TABLE p2 (name text, city text)")
            cur.execute("INSERT INTO p2 (name, city) VALUES (%s, %s)", ("erin", "Leeds"))
            cur.executemany("INSERT INTO p2 (name) VALUES (%(n)s)", [{"n": "fay"}])
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:  # the host's own factory
            cur.execute("UPDATE p2 SET city = %s WHERE name = %s", ("York", "fay"))
            cur.execute("SELECT name, city FROM p2 ORDER BY name")
            assert cur.fetchall() == [{"name": "erin", "city": "Leeds"}, {"name": "fay", "city": "York"}]
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.UndefinedTable):
            cur.execute("INSERT INTO nope (a) VALUES (%s)", (1,))
        conn.close()
    finally:
        inst.uninstall()
    assert psycopg2.connect is original
    table = "postgres.public.p2"
    assert rec.sinks == [
        (t("name", table), "erin"),
        (t("city", table), "Leeds"),
        (t("name", table), "fay"),
        (t("city", table), "York"),
    ]


def test_a_psycopg2_connection_opened_before_install_is_reported(dsn: str, tmp_path: Any) -> None:
    """Installing too late (issue 21, item 4): the early connection is counted, and while it is open no
    sampled request counts as a sample; one opened through the probes' factory is not counted."""
    import flowscope_probes

    early = psycopg2.connect(dsn)
    try:
        rt = flowscope_probes.install(service="svc", spool=tmp_path / "spool", sample_rate=1.0, salt="s")
        assert rt is not None
        later = psycopg2.connect(dsn)
        assert rt.status()["unobserved"] == {"psycopg2": 1}
        later.close()
    finally:
        flowscope_probes.uninstall()
        early.close()
    rt = flowscope_probes.install(service="svc", spool=tmp_path / "spool2", sample_rate=1.0, salt="s")
    try:
        assert rt is not None and rt.status()["unobserved"] == {}  # the early one is closed now
    finally:
        flowscope_probes.uninstall()
