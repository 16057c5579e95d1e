"""A test hook: kill the process at the N-th SQL statement of its store transactions.

The store promises that a scan killed at any point of its write leaves the previous scan's state, whole.
Only a real ``kill -9`` at many points checks that: ``FLOWSCOPE_TEST_KILL_AFTER_STATEMENTS=N`` makes the
N-th statement of this process's store transactions, counted across all of them (each ``BEGIN`` and
``COMMIT`` counts, and each row of an ``executemany``), send SIGKILL to this process before it runs.
``FLOWSCOPE_TEST_COUNT_STATEMENTS=FILE`` writes the count so far to FILE when each transaction ends, so a
test knows how many points there are to kill at. ``tests/security`` replays both; unset, nothing is traced.
"""

from __future__ import annotations

import os
import signal
import sqlite3

KILL_ENV = "FLOWSCOPE_TEST_KILL_AFTER_STATEMENTS"
COUNT_ENV = "FLOWSCOPE_TEST_COUNT_STATEMENTS"
_count = [0]  # statements traced so far in this process


def arm(conn: sqlite3.Connection) -> None:
    raw = os.environ.get(KILL_ENV, "").strip()
    limit = int(raw) if raw.isdigit() and int(raw) > 0 else None
    if limit is None and not os.environ.get(COUNT_ENV):
        return

    def trace(_statement: str) -> None:
        _count[0] += 1
        if limit is not None and _count[0] >= limit:
            os.kill(os.getpid(), signal.SIGKILL)

    conn.set_trace_callback(trace)


def disarm(conn: sqlite3.Connection) -> None:
    if not (os.environ.get(KILL_ENV) or os.environ.get(COUNT_ENV)):
        return
    conn.set_trace_callback(None)
    if path := os.environ.get(COUNT_ENV):
        with open(path, "w", encoding="ascii") as fh:
            fh.write(str(_count[0]))
