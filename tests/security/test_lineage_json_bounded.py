"""Attack: a long chain makes ``lineage --json`` output and memory grow as assets x depth.

Every reached asset used to carry its whole path: a 2,000-step chain gave 624 MB of JSON and 4.7 GB of RSS.
Now each reached asset carries its predecessor and the edge it was reached by (the walk's tree of best
paths), so output and memory grow with the assets reached; ``why`` rebuilds one path.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

STEPS = 2000


def chain_flows(steps: int) -> str:
    """A declared chain a0 -> a1 -> ... -> a<steps>, one job per hop."""
    lines = ["assets:"]
    lines += [f"  a{i}: {{namespace: 'file://chain', name: step{i:05d}}}" for i in range(steps + 1)]
    lines.append("jobs:")
    lines += [f"  j{i}: {{namespace: 'service://chain'}}" for i in range(steps)]
    lines.append("flows:")
    lines += [f"  - {{job: j{i}, from: a{i}, to: a{i + 1}}}" for i in range(steps)]
    return "\n".join(lines) + "\n"


def run_measured(tmp: Path, out: Path, *args: str) -> tuple[int, float]:
    """Exit code and peak RSS (MB) of one flowscope process, stdout to ``out``; address space capped at
    3 GB so a blow-up fails this test instead of the machine."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))

    with open(out, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from flowscope.cli import main; main()", *args],
            cwd=tmp,
            stdout=fh,
            stderr=subprocess.DEVNULL,
            preexec_fn=cap,
            env={**os.environ, "FLOWSCOPE_STORE": str(tmp / ".flowscope")},
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024


def test_a_2000_step_chain_json_is_linear(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "chain.yaml").write_text(chain_flows(STEPS))
    (tmp_path / "flowscope.yaml").write_text(
        "plugins:\n  declared:\n    files: [flows/*.yaml]\nscan:\n  collectors: [declared]\n"
    )
    scan = subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", "scan", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "FLOWSCOPE_STORE": str(tmp_path / ".flowscope")},
    )
    assert scan.returncode == 0, scan.stderr
    out = tmp_path / "down.json"
    start = "file://chain/step00000"
    code, rss = run_measured(tmp_path, out, "lineage", "downstream", start, "--depth", str(STEPS), "--json")
    assert code == 0, f"lineage --json failed (exit {code}, peak RSS {rss:.0f} MB)"
    size = out.stat().st_size
    assert size < 2_000_000, f"{size} bytes of JSON for {STEPS} assets"
    assert rss < 500, f"peak RSS {rss:.0f} MB"
    doc = json.loads(out.read_text())
    reached = {r["asset"]: r for r in doc["reached"]}
    assert len(reached) == STEPS
    # the tree rebuilds any path: from the far end back to the start in STEPS links
    node, links = reached[f"dataset:file://chain:step{STEPS:05d}"], 0
    while True:
        links += 1
        if node["predecessor"] == f"dataset:{start.replace('/step', ':step')}":
            break
        node = reached[node["predecessor"]]
    assert links == STEPS
    why = tmp_path / "why.json"
    code, _ = run_measured(tmp_path, why, "lineage", "why", start, f"file://chain/step{STEPS:05d}", "--json")
    assert code == 0 and json.loads(why.read_text())["hops"] == STEPS
