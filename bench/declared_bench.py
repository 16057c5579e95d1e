"""Event building stays linear (issue 14, item 8): ``flowscope scan`` of generated declared flows.

    .venv/bin/python bench/declared_bench.py                       # 2k, 8k, 50k, 200k flows; about 5 minutes
    .venv/bin/python bench/declared_bench.py --flows 2000 8000     # quick run
    .venv/bin/python bench/declared_bench.py --shape one-job       # only the one-job case

Two shapes per size, each flow from its own table to its own log with one field (the generator of
``hardening_bench.py``): all flows in **one job** (the case that was quadratic: each output dataset rescanned
every edge of the job, 2k / 4k / 8k flows took 18 / 60 / 180 s) and flows spread over **1,000 jobs**.
Target of the issue: 200,000 declared flows scan in <= 60 s and <= 1.5 GB.

Each row is one ``flowscope scan --only declared`` in its own process, into a fresh store, files under a
temporary folder that is deleted at the end. Wall seconds, CPU seconds (user + system of that process) and
peak RSS (``ru_maxrss`` via ``os.wait4``) are printed; the machine is shared, so CPU seconds are the steadier
figure and "per 1k" shows whether the cost per flow stays flat as the size grows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from hardening_bench import estate, run

PER_FILE = 20_000  # flows per file: 200,000 in one file would pass yaml.max_bytes (32 MiB)


def flows_file(first: int, count: int, jobs: int) -> str:
    """Flows ``first`` .. ``first + count``, each from its own table to its own log, over ``jobs`` jobs; the
    jobs are declared in the first file only (ids are global across files, as in a real estate)."""
    lines = ["ns: {db: 'postgres://db:5432', logs: 'log://scribe'}", "assets:"]
    for i in range(first, first + count):
        lines.append(f"  s{i}: {{namespace: db, name: app.t{i}, fields: [email]}}")
        lines.append(f"  d{i}: {{namespace: logs, name: cat{i}, fields: [email]}}")
    if first == 0:
        lines.append("jobs:")
        lines += [f"  j{j}: {{namespace: 'service://bench'}}" for j in range(jobs)]
    lines.append("flows:")
    for i in range(first, first + count):
        lines.append(f"  - {{job: j{i % jobs}, from: s{i}, to: d{i}, fields: [email]}}")
    return "\n".join(lines) + "\n"


def row(tmp: Path, flows: int, jobs: int) -> str:
    root = tmp / f"{flows}-{jobs}"
    files = {
        f"f{first:07d}.yaml": flows_file(first, min(PER_FILE, flows - first), jobs)
        for first in range(0, flows, PER_FILE)
    }
    estate(root, files)
    out = root / "summary.json"
    code, wall, cpu, rss = run(root, "scan", "--only", "declared", "--json", out=out)
    summary = json.loads(out.read_text()) if out.stat().st_size else {}
    edges = summary.get("edges", 0)
    problems = sum(len(c["problems"]) for c in summary.get("collectors", []))
    status = (
        "ok"
        if code == 0 and edges == flows and not problems
        else f"exit {code}, {edges} edges, {problems} problems"
    )
    shape = "one job" if jobs == 1 else f"{jobs:,} jobs"
    return (
        f"{flows:>9,} {shape:>11} {wall:>9.1f} {cpu:>9.1f} {cpu / flows * 1000:>9.2f} {rss:>9.0f}  {status}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, nargs="*", default=[2_000, 8_000, 50_000, 200_000])
    parser.add_argument("--shape", choices=("one-job", "many-jobs", "both"), default="both")
    parser.add_argument("--jobs", type=int, default=1_000, help="jobs of the many-jobs shape")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()} {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    shapes = {"one-job": [1], "many-jobs": [args.jobs], "both": [1, args.jobs]}[args.shape]
    print(f"\n{'flows':>9} {'shape':>11} {'wall s':>9} {'CPU s':>9} {'CPU s/1k':>9} {'RSS MB':>9}")
    with tempfile.TemporaryDirectory(prefix="flowscope-declared-bench-") as name:
        for jobs in shapes:
            for flows in args.flows:
                print(row(Path(name), flows, jobs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
