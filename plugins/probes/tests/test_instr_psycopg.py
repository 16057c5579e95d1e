"""psycopg 3 against a real PostgreSQL started for this module (a throwaway cluster on a Unix socket, no TCP).

Needs the PostgreSQL server programs (``initdb``, ``postgres``); when running as root they run as the
``postgres`` user. Without them the module is skipped with that reason.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from flowscope.model import Asset
from flowscope_probes.context import CURRENT, FAULTS, Recorder
from flowscope_probes.instrumentations import psycopg as probe_pg
from flowscope_probes.instrumentations.psycopg import PsycopgInstrumentation


def bindir() -> Path | None:
    for cand in [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))]:
        if cand and Path(cand).with_name("postgres").exists():
            return Path(cand).resolve().parent
    return None


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    bins = bindir()
    if bins is None:
        pytest.skip("PostgreSQL server programs (initdb, postgres) are not installed")
    root = Path(tempfile.mkdtemp(prefix="flowscope-pg-"))  # short, and outside pytest's 0700 folders
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser to start PostgreSQL as another user")
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    data = root / "data"
    server: subprocess.Popen[bytes] | None = None
    try:
        initdb = [str(bins / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
        subprocess.run([*prefix, *initdb], check=True, capture_output=True)
        options = ["-k", str(root), "-c", "listen_addresses=", "-c", "fsync=off"]
        server = subprocess.Popen(
            [*prefix, str(bins / "postgres"), "-D", str(data), *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        dsn = f"host={root} dbname=postgres user=postgres"
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(dsn).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        yield dsn
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def inst() -> Iterator[PsycopgInstrumentation]:
    i = PsycopgInstrumentation()
    i.install()
    yield i
    i.uninstall()


def t(column: str, table: str = "postgres.public.users") -> Asset:
    return Asset("postgres://localhost:5432", table, column)


def test_execute_executemany_and_async(inst: PsycopgInstrumentation, rec: Recorder, dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS users; CREATE TABLE users (name text, email text)")
        cur.execute("INSERT INTO users (name, email) VALUES (%s, %s)", ("alice", "alice@example.org"))
        cur.execute(
            "UPDATE users SET email = %(e)s WHERE name = %(n)s", {"e": "al@example.org", "n": "alice"}
        )
        cur.executemany("INSERT INTO public.users (name) VALUES (%s)", [("bob",), ("cy",)])
        cur.execute("SELECT count(*) FROM users WHERE name = %s", ("bob",))
        assert cur.fetchone() == (1,)

    async def go() -> None:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
            await cur.execute("INSERT INTO users (name) VALUES (%s)", ("dee",))

    asyncio.run(go())
    assert rec.sinks == [
        (t("name"), "alice"),
        (t("email"), "alice@example.org"),
        (t("email"), "al@example.org"),
        (t("name"), "bob"),
        (t("name"), "cy"),
        (t("name"), "dee"),
    ]


def test_same_results_and_errors_and_nothing_without_recorder(inst: PsycopgInstrumentation, dsn: str) -> None:
    def run() -> list[object]:
        out: list[object] = []
        with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS s; CREATE TABLE s (a int)")
            out.append(cur.execute("INSERT INTO s (a) VALUES (%s) RETURNING a", (7,)).fetchall())
            with pytest.raises(psycopg.errors.UndefinedTable) as err:
                cur.execute("INSERT INTO nope (a) VALUES (%s)", (1,))
            out.append(str(err.value).splitlines()[0])
        return out

    probed = run()
    assert CURRENT.get() is None
    inst.uninstall()
    assert run() == probed == [[(7,)], 'relation "nope" does not exist']


def test_uninstall_restores_double_install_and_fault(
    rec: Recorder, dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = psycopg.Cursor.__dict__["execute"]
    a, b = PsycopgInstrumentation(), PsycopgInstrumentation()
    a.install()
    b.install()
    try:
        assert b._patched == [] and psycopg.Cursor.__dict__["execute"].__wrapped__ is original

        def broken(*args: object) -> None:
            raise RuntimeError("probe bug")

        monkeypatch.setattr(probe_pg, "namespace", broken)
        before = FAULTS.counts.get("psycopg", 0)
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT %s::int", (5,)).fetchone() == (5,)
        assert FAULTS.counts["psycopg"] == before + 1
    finally:
        a.uninstall()
    assert psycopg.Cursor.__dict__["execute"] is original
