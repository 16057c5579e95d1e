"""Attack: one bad byte, or a path outside the config's folder, costing a whole input (issue 14, item 9).

Before: one byte that is not UTF-8 in a query log or an access log dropped the whole log, in a JSON-lines
OpenLineage file the whole file (``flowscope ingest``), in a probes spool the rest of the file; an absolute
glob in ``plugins.ml_config.paths`` crashed the collector (``Path.glob``'s NotImplementedError). Now the bad
line alone is skipped and reported as ``file:line``, absolute globs work everywhere, and inputs read from
outside the config's folder are listed once in the scan summary. Run through the CLI, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowscope.model import Edge
from flowscope.store import Store

QUERY = '{"query": "INSERT INTO t%d SELECT email FROM users", "job_id": "job%d"}\n'
ACCESS = '{"job_id": "j1", "trace_id": "tr-%d", "timestamp": "2024-06-01T03:00:0%dZ", "access": "%s", "table": "%s"}\n'
FLOWS = """\
assets:
  users: {namespace: mysql://db:3306, name: app.users, fields: [email]}
  signups: {namespace: log://scribe, name: signups, fields: [email]}
jobs:
  signup: {namespace: service://www}
flows:
  - {job: signup, from: users, to: signups, fields: [email]}
"""


def flowscope(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FLOWSCOPE_STORE": str(cwd / ".flowscope"), "COLUMNS": "200"},
    )


def stored_edges(cwd: Path) -> list[Edge]:
    with Store.open(cwd / ".flowscope") as store:
        return store.edges()


def plugin_installed(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def bad_byte(line: str) -> bytes:
    """The line with one byte that is not UTF-8 (a Latin-1 'é') in the middle of a JSON string."""
    return line.replace("INSERT", "INS\udce9RT").replace("j1", "j\udce91").encode("utf-8", "surrogateescape")


@pytest.mark.skipif(not plugin_installed("flowscope_sql"), reason="the sql plugin is not installed")
def test_a_bad_byte_in_a_query_log_or_access_log_skips_that_line_only(tmp_path: Path) -> None:
    (tmp_path / "query.jsonl").write_bytes(
        (QUERY % (1, 1)).encode() + bad_byte(QUERY % (2, 2)) + (QUERY % (3, 3)).encode()
    )
    (tmp_path / "access.jsonl").write_bytes(
        (ACCESS % (1, 0, "READ", "a")).encode()
        + bad_byte(ACCESS % (1, 1, "READ", "b"))
        + (ACCESS % (1, 2, "WRITE", "c")).encode()
    )
    (tmp_path / "flowscope.yaml").write_text(
        "plugins:\n  sql:\n    logs: [query.jsonl]\n    access_logs: [access.jsonl]\n"
        "    sources: [{dialect: hive, namespace: 'hive://wh:9083', default_schema: s}]\n"
    )
    got = flowscope(tmp_path, "scan", "--only", "sql", "--json")
    assert got.returncode == 0, got.stderr
    assert "Traceback" not in got.stderr
    [sql] = json.loads(got.stdout)["collectors"]
    query_at = bad_byte(QUERY % (2, 2)).index(b"\xe9")
    access_at = bad_byte(ACCESS % (1, 1, "READ", "b")).index(b"\xe9")
    # line 3 of each file was read: the bad line cost itself only, not the rest of the log
    assert sorted(sql["problems"]) == [
        f"access.jsonl:2: not UTF-8 (byte {access_at} of the line); line skipped",
        f"query.jsonl:2: not UTF-8 (byte {query_at} of the line); line skipped",
    ]
    targets = {e.target.name for e in stored_edges(tmp_path) if e.target is not None}
    assert {"s.t1", "s.t3"} <= targets and "s.t2" not in targets


def test_a_bad_byte_in_an_openlineage_jsonl_file_skips_that_line_only(tmp_path: Path) -> None:
    def event(n: int) -> str:
        return json.dumps(
            {
                "eventType": "COMPLETE",
                "eventTime": "2024-06-01T00:00:00Z",
                "producer": "https://example.com/producer",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                "run": {"runId": f"01900000-0000-7000-8000-00000000000{n}"},
                "job": {"namespace": "airflow", "name": f"dag.task{n}"},
                "inputs": [{"namespace": "postgres://db:5432", "name": f"app.src{n}"}],
                "outputs": [{"namespace": "postgres://db:5432", "name": f"app.dst{n}"}],
            }
        )

    lines = [event(1).encode(), event(2).replace("task2", "t\udcffsk2").encode("utf-8", "surrogateescape")]
    (tmp_path / "events.jsonl").write_bytes(b"\n".join([*lines, event(3).encode()]) + b"\n")
    got = flowscope(tmp_path, "ingest", "events.jsonl")
    assert got.returncode == 1  # a line was skipped: not a clean run, but nothing valid was lost
    assert "events.jsonl:2: not UTF-8 (column " in got.stderr and "line skipped" in got.stderr
    assert "Traceback" not in got.stderr
    assert "2 events" in got.stdout
    targets = {e.target.name for e in stored_edges(tmp_path) if e.target is not None}
    assert targets == {"app.dst1", "app.dst3"}


def test_a_single_json_document_with_a_bad_byte_is_one_clear_problem(tmp_path: Path) -> None:
    doc = '{"eventType": "COMPLETE", "eventTime": "x", "producer": "p\udcff",\n "run": {}}'
    (tmp_path / "one.json").write_bytes(doc.encode("utf-8", "surrogateescape"))
    got = flowscope(tmp_path, "ingest", "one.json")
    assert got.returncode == 1
    assert "one.json" in got.stderr and "not UTF-8" in got.stderr and "Traceback" not in got.stderr


def test_absolute_globs_work_and_outside_inputs_are_listed_once(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (elsewhere / "flows").mkdir(parents=True)
    (elsewhere / "flows" / "a.yaml").write_text(FLOWS)
    (elsewhere / "flows" / "b.yaml").write_text(FLOWS.replace("users", "members").replace("signup", "login"))
    project.mkdir()
    config = f"plugins:\n  declared:\n    files: ['{elsewhere.as_posix()}/flows/*.yaml']\n"
    collectors = ["declared"]
    if plugin_installed("flowscope_ml_config"):
        (elsewhere / "ml").mkdir()
        (elsewhere / "ml" / "train.yaml").write_text(
            "model:\n  name: churn_model\ndata:\n  train: s3://lake/churn/train.parquet\n"
        )
        config += f"  ml_config:\n    paths: ['{elsewhere.as_posix()}/ml/*.yaml']\n"
        collectors.append("ml_config")
    (project / "flowscope.yaml").write_text(config + f"scan:\n  collectors: [{', '.join(collectors)}]\n")
    got = flowscope(project, "scan", "--json")
    assert got.returncode == 0, got.stderr
    summary = json.loads(got.stdout)
    for c in summary["collectors"]:
        assert c["status"] == "ok" and c["edges"] >= 1, c
    outside = summary["outside_inputs"]
    assert str((elsewhere / "flows" / "a.yaml").resolve()) in outside
    assert len(outside) == len(set(outside))
    got = flowscope(project, "scan")
    assert got.returncode == 0, got.stderr
    assert got.stderr.count("read from outside the config's folder") == 1
    assert f"{(elsewhere / 'flows').resolve()} (2 files)" in got.stderr.replace("\n", "")
    # an input inside the config's folder is not listed
    (project / "flows").mkdir()
    (project / "flows" / "a.yaml").write_text(FLOWS)
    (project / "flowscope.yaml").write_text(
        f"plugins:\n  declared:\n    files: ['{project.as_posix()}/flows/*.yaml']\n"
    )
    got = flowscope(project, "scan", "--only", "declared", "--json")
    assert json.loads(got.stdout)["outside_inputs"] == []
