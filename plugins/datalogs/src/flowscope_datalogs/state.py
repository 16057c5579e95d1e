"""Checkpoints: one SQLite file recording requests, batches, (batch, table, partition) joins, verification
and user packages, so ``run`` after a crash or ``kill -9`` resumes where it stopped.

Every step writes its output under a temporary name, renames it into place, then commits its checkpoint
row. A process killed between the rename and the commit redoes that one step, which rewrites the same
file with the same bytes: no row is ever written twice, because each output has exactly one name per
(batch, table, partition) or (batch, request). SQLite in WAL mode commits in well under a millisecond,
so a checkpoint per package costs little next to building the package.

The run lock is an ``fcntl`` lock on ``run.lock``: the kernel drops it when its process dies, however it
dies, so a killed run never leaves a stale lock behind, and a second run is refused while one is alive.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowscope.errors import UserError
from flowscope_datalogs.private import FILE_MODE, private_dir

DB_NAME = "datalogs.db"
LOCK_NAME = "run.lock"

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, requested_at TEXT NOT NULL, timezone TEXT,
    source TEXT NOT NULL, batch_id TEXT, token TEXT, status TEXT NOT NULL DEFAULT 'pending');
CREATE INDEX IF NOT EXISTS requests_by_status ON requests (status, requested_at);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL,
    engine TEXT NOT NULL, catalog_sha TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS parts (
    batch_id TEXT NOT NULL, table_name TEXT NOT NULL, part TEXT NOT NULL, files TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'todo', rows INTEGER, attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
    PRIMARY KEY (batch_id, table_name, part));
CREATE TABLE IF NOT EXISTS verified (
    batch_id TEXT NOT NULL, table_name TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL,
    PRIMARY KEY (batch_id, table_name));
CREATE TABLE IF NOT EXISTS packages (
    batch_id TEXT NOT NULL, request_id TEXT NOT NULL, status TEXT NOT NULL, sha256 TEXT, rows INTEGER,
    PRIMARY KEY (batch_id, request_id));
"""


@dataclass(frozen=True)
class Request:
    request_id: str
    user_id: int | str
    requested_at: str  # ISO 8601 in UTC
    timezone: str | None
    source: str  # FILE:LINE it was read from
    token: str = ""  # the package's random file name, set when the request joins a batch


@dataclass(frozen=True)
class Part:
    table: str
    key: str
    files: tuple[str, ...]
    status: str  # todo, done, failed
    rows: int | None
    attempts: int
    error: str | None


@dataclass(frozen=True)
class Batch:
    batch_id: str
    seq: int
    created_at: str
    status: str  # joining, packaging, blocked, done
    engine: str
    catalog_sha: str
    detail: str


class State:
    """The checkpoint database of one state folder. One process at a time (see :meth:`lock`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = private_dir(directory)
        self.lock_fd: int | None = None
        path = directory / DB_NAME
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))  # SQLite's WAL files copy this mode
        try:
            self.conn = sqlite3.connect(path, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise UserError(f"not a datalogs checkpoint database ({exc})", path=str(path)) from None

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run lock, or refuse naming the run that holds it."""
        path = self.directory / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        self.lock_fd = fd  # packaging workers close their copy: only this process holds the lock
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                raise UserError(
                    f"another datalogs run ({holder}) holds the batch; wait for it to finish "
                    "(flowscope datalogs status shows its progress)",
                    path=str(self.directory),
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, started {now_iso()}".encode(), 0)
            yield
        finally:
            self.lock_fd = None
            os.close(fd)  # closing drops the lock

    # -- requests ------------------------------------------------------------------------------------

    def add_requests(self, requests: Iterable[Request]) -> tuple[int, list[str]]:
        """Record new requests as pending; returns how many were new and one problem per conflict."""
        new, problems = 0, []
        with self.tx() as c:
            for r in requests:
                row = c.execute(
                    "SELECT user_id FROM requests WHERE request_id = ?", (r.request_id,)
                ).fetchone()
                if row is not None:
                    if json.loads(row[0]) != r.user_id:
                        problems.append(
                            f"{r.source}: request id {r.request_id} was already used for another user; skipped"
                        )
                    continue
                c.execute(
                    "INSERT INTO requests (request_id, user_id, requested_at, timezone, source) VALUES (?,?,?,?,?)",
                    (r.request_id, json.dumps(r.user_id), r.requested_at, r.timezone, r.source),
                )
                new += 1
        return new, problems

    def pending(self) -> list[Request]:
        rows = self.conn.execute(
            "SELECT request_id, user_id, requested_at, timezone, source FROM requests "
            "WHERE status = 'pending' ORDER BY requested_at, request_id"
        )
        return [Request(r[0], json.loads(r[1]), r[2], r[3], r[4]) for r in rows]

    def batch_requests(self, batch_id: str) -> list[Request]:
        rows = self.conn.execute(
            "SELECT request_id, user_id, requested_at, timezone, source, token FROM requests "
            "WHERE batch_id = ? ORDER BY request_id",
            (batch_id,),
        )
        return [Request(r[0], json.loads(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    # -- batches -------------------------------------------------------------------------------------

    def create_batch(
        self,
        batch_id: str,
        requests: list[Request],
        tokens: dict[str, str],
        parts: list[tuple[str, str, list[str]]],
        engine: str,
        catalog_sha: str,
    ) -> None:
        with self.tx() as c:
            seq = c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM batches").fetchone()[0]
            c.execute(
                "INSERT INTO batches (batch_id, seq, created_at, status, engine, catalog_sha) VALUES (?,?,?,?,?,?)",
                (batch_id, seq, now_iso(), "joining", engine, catalog_sha),
            )
            for r in requests:
                c.execute(
                    "UPDATE requests SET batch_id = ?, token = ?, status = 'batched' WHERE request_id = ?",
                    (batch_id, tokens[r.request_id], r.request_id),
                )
            c.executemany(
                "INSERT INTO parts (batch_id, table_name, part, files) VALUES (?,?,?,?)",
                [(batch_id, t, k, json.dumps(f)) for t, k, f in parts],
            )

    def batches(self, open_only: bool = False) -> list[Batch]:
        sql = "SELECT batch_id, seq, created_at, status, engine, catalog_sha, detail FROM batches"
        if open_only:
            sql += " WHERE status != 'done'"
        return [Batch(*r) for r in self.conn.execute(sql + " ORDER BY seq")]

    def set_batch(self, batch_id: str, status: str, detail: str = "") -> None:
        with self.tx() as c:
            c.execute(
                "UPDATE batches SET status = ?, detail = ? WHERE batch_id = ?", (status, detail, batch_id)
            )
            if status == "done":
                c.execute("UPDATE requests SET status = 'delivered' WHERE batch_id = ?", (batch_id,))

    def parts(self, batch_id: str) -> list[Part]:
        rows = self.conn.execute(
            "SELECT table_name, part, files, status, rows, attempts, error FROM parts WHERE batch_id = ? "
            "ORDER BY table_name, part",
            (batch_id,),
        )
        return [Part(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], r[5], r[6]) for r in rows]

    def mark_part(
        self,
        batch_id: str,
        table: str,
        key: str,
        status: str,
        rows: int | None = None,
        error: str | None = None,
        attempts: int = 1,
    ) -> None:
        with self.tx() as c:
            c.execute(
                "UPDATE parts SET status = ?, rows = ?, error = ?, attempts = attempts + ? "
                "WHERE batch_id = ? AND table_name = ? AND part = ?",
                (status, rows, error, attempts, batch_id, table, key),
            )

    def retry_failed(self, batch_id: str) -> int:
        with self.tx() as c:
            return c.execute(
                "UPDATE parts SET status = 'todo' WHERE batch_id = ? AND status = 'failed'", (batch_id,)
            ).rowcount

    def set_verified(self, batch_id: str, table: str, status: str, detail: str) -> None:
        with self.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO verified (batch_id, table_name, status, detail) VALUES (?,?,?,?)",
                (batch_id, table, status, detail),
            )

    def verified(self, batch_id: str) -> dict[str, tuple[str, str]]:
        rows = self.conn.execute(
            "SELECT table_name, status, detail FROM verified WHERE batch_id = ?", (batch_id,)
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def mark_package(
        self, batch_id: str, request_id: str, status: str, sha256: str | None, rows: int
    ) -> None:
        self.mark_packages(batch_id, [(request_id, status, sha256, rows)])

    def mark_packages(self, batch_id: str, marks: list[tuple[str, str, str | None, int]]) -> None:
        """Checkpoint several packages in one commit (a commit per package would cost more than the
        package); a crash loses at most one group, whose packages are rebuilt the same."""
        with self.tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO packages (batch_id, request_id, status, sha256, rows) VALUES (?,?,?,?,?)",
                [(batch_id, *m) for m in marks],
            )

    def clear_packages(self, batch_id: str) -> None:
        with self.tx() as c:
            c.execute("DELETE FROM packages WHERE batch_id = ?", (batch_id,))

    def packages(self, batch_id: str) -> dict[str, tuple[str, str | None, int]]:
        rows = self.conn.execute(
            "SELECT request_id, status, sha256, rows FROM packages WHERE batch_id = ?", (batch_id,)
        )
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def counts(self) -> dict[str, Any]:
        by = dict(self.conn.execute("SELECT status, COUNT(*) FROM requests GROUP BY status").fetchall())
        return {
            "pending": by.get("pending", 0),
            "batched": by.get("batched", 0),
            "delivered": by.get("delivered", 0),
        }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
