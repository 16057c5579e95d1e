"""Attack (or accident): ``kill -9`` during the store phase of ``flowscope scan``.

Each collector's scope and the scan's events used to be replaced in separate transactions, so a scan killed
between two of them left some collectors' edges new and others old, or edges new and events old. Now the
whole result is written in one transaction. The test kills a real scan (SIGKILL, through the store's
``FLOWSCOPE_TEST_KILL_AFTER_STATEMENTS`` hook) at every statement of its store phase in turn and checks,
each time, that the store equals the old scan's exactly, and that a scan that finishes equals the new one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("flowscope_sql")

FLOWS = """\
assets:
  users: {{namespace: mysql://db:3306, name: app.users, fields: [email, city]}}
  log: {{namespace: log://scribe, name: {log}, fields: [email]}}
jobs:
  signup: {{namespace: service://www}}
flows:
  - {{job: signup, from: users, to: log, fields: [email]}}
"""

SQL = """\
INSERT INTO analytics.{table} SELECT email, city FROM app.users;
"""


def flowscope(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FLOWSCOPE_STORE": str(tmp / ".flowscope"), **(env or {})},
    )


def write_inputs(tmp: Path, version: str) -> None:
    """Old and new inputs differ in every collector, so a mixed store shows."""
    (tmp / "flows").mkdir(exist_ok=True)
    (tmp / "sql").mkdir(exist_ok=True)
    (tmp / "flows" / "a.yaml").write_text(FLOWS.format(log=f"signups_{version}"))
    (tmp / "sql" / "a.sql").write_text(SQL.format(table=f"daily_{version}"))


def dump(store: Path) -> dict[str, list[str]]:
    """Everything the store holds, by name rather than by row id (ids follow set order, which differs from
    process to process), minus the times that differ between two runs of one scan."""
    conn = sqlite3.connect(store / "lineage.db")
    queries = {
        "scopes": "SELECT collector, scope, edges FROM scopes",
        "assets": "SELECT a.namespace, a.name, a.field, d.namespace, d.name FROM assets a "
        "JOIN assets d ON d.id = a.ds",
        "jobs": "SELECT namespace, name FROM jobs",
        "edge_rows": "SELECT s.collector, s.scope, e.id & 4294967295, j.namespace, j.name, a.namespace, "
        "a.name, a.field, b.namespace, b.name, b.field, e.confidence, e.own, e.sampled, e.bases, e.data "
        "FROM edge_rows e JOIN scopes s ON s.id = e.id >> 32 JOIN jobs j ON j.id = e.job_id "
        "JOIN assets a ON a.id = e.src LEFT JOIN assets b ON b.id = e.dst",
        "asset_infos": "SELECT s.collector, s.scope, a.namespace, a.name, a.field, i.data FROM asset_infos i "
        "JOIN scopes s ON s.id = i.scope_id JOIN assets a ON a.id = i.asset_id",
        "events": "SELECT s.collector, s.scope, e.data FROM events e JOIN scopes s ON s.id = e.scope_id "
        "ORDER BY e.id",
        "job_samples": "SELECT s.collector, s.scope, j.namespace, j.name, j.samples FROM job_samples j "
        "JOIN scopes s ON s.id = j.scope_id",
    }
    try:
        out: dict[str, list[str]] = {}
        for table, sql in queries.items():
            rows = []
            for row in conn.execute(sql):
                if table == "events":
                    event = json.loads(row[-1])
                    event.pop("eventTime", None)
                    row = (*row[:-1], event)
                rows.append(json.dumps(row, sort_keys=True))
            out[table] = rows if table == "events" else sorted(rows)
        count = conn.execute("SELECT count(*) FROM edge_rows").fetchone()[0]
        assert count == len(out["edge_rows"]), "every row names a scope, a job and its assets"
        return out
    finally:
        conn.close()


def test_kill_at_every_statement_of_the_store_phase_leaves_old_or_new(tmp_path: Path) -> None:
    (tmp_path / "flowscope.yaml").write_text(
        "plugins:\n  declared:\n    files: [flows/*.yaml]\n  sql:\n    files: [sql/*.sql]\n"
        "scan:\n  collectors: [declared, sql]\n"
    )
    write_inputs(tmp_path, "old")
    assert flowscope(tmp_path, "scan").returncode == 0
    store = tmp_path / ".flowscope"
    saved = tmp_path / "saved"
    shutil.copytree(store, saved)
    old = dump(store)
    write_inputs(tmp_path, "new")
    finished = flowscope(tmp_path, "scan")
    assert finished.returncode == 0, finished.stderr
    new = dump(store)
    assert old != new
    for table in ("edge_rows", "events", "asset_infos"):
        assert old[table] != new[table], f"both collectors and the events change: {table}"

    # how many statements the store phase runs (old -> new), then kill at points spread over all of them
    shutil.rmtree(store)
    shutil.copytree(saved, store)
    count_file = tmp_path / "statements"
    counted = flowscope(tmp_path, "scan", env={"FLOWSCOPE_TEST_COUNT_STATEMENTS": str(count_file)})
    assert counted.returncode == 0 and dump(store) == new, counted.stderr
    total = int(count_file.read_text())
    assert total >= 20, f"the store phase ran only {total} statements"
    points = sorted({1, 2, 3, total - 2, total - 1, total} | {round(i * total / 12) for i in range(1, 12)})
    for n in points:
        shutil.rmtree(store)
        shutil.copytree(saved, store)
        run = flowscope(tmp_path, "scan", env={"FLOWSCOPE_TEST_KILL_AFTER_STATEMENTS": str(n)})
        assert run.returncode == -signal.SIGKILL, f"not killed at statement {n} of {total}: {run.stderr}"
        assert dump(store) == old, f"killed at statement {n} of {total}: the store is neither old nor new"
    # the store a killed scan left is usable: the next scan completes and stores the new result
    finished = flowscope(tmp_path, "scan")
    assert finished.returncode == 0 and dump(store) == new, finished.stderr
