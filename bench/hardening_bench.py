"""Scale checks of issue 14 (hardening), run end to end through the CLI: time and peak memory per process.

    .venv/bin/python bench/hardening_bench.py                 # both parts, the issue's sizes
    .venv/bin/python bench/hardening_bench.py --part declared --flows 20000
    .venv/bin/python bench/hardening_bench.py --part lineage --steps 500 1000 2000

``declared``: ``flowscope scan`` of generated declared-flow files: ``--flows`` flows over ``--jobs`` jobs
(each flow its own source and target dataset, with one field each), and one job holding 2k, 4k and 8k flows
(the quadratic case the issue measured at 18 / 60 / 180 s). Targets: 200,000 flows in <= 60 s and <= 1.5 GB.

``lineage``: a declared chain of ``--steps`` hops is scanned, then ``lineage downstream --depth N --json``
from its first asset: output bytes, seconds and peak RSS of that process (the issue: a 2,000-step chain gave
624 MB of JSON and 4.7 GB; target < 500 MB); plus a store of ``--events`` jobs in one long random chain walked
at depth 1000.

Peak RSS is ``ru_maxrss`` of the flowscope process alone (``os.wait4``). Each row is one run: the machine is
shared, so wall times are noisy; CPU seconds (user + system of the process) are printed beside them.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

FLOWSCOPE = [sys.executable, "-c", "from flowscope.cli import main; main()"]


def run(cwd: Path, *args: str, out: Path | None = None) -> tuple[int, float, float, float]:
    """Exit code, wall seconds, CPU seconds and peak RSS (MB) of one flowscope process."""
    start = time.perf_counter()
    with open(out or os.devnull, "wb") as fh:
        proc = subprocess.Popen(
            [*FLOWSCOPE, *args],
            cwd=cwd,
            stdout=fh,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "FLOWSCOPE_STORE": str(cwd / ".flowscope")},
        )
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def estate(root: Path, files: dict[str, str]) -> None:
    (root / "flows").mkdir(parents=True)
    for name, text in files.items():
        (root / "flows" / name).write_text(text)
    (root / "flowscope.yaml").write_text(
        "plugins:\n  declared:\n    files: [flows/*.yaml]\nscan:\n  collectors: [declared]\n"
    )


def flows_file(first: int, count: int, jobs: int) -> str:
    """Flows ``first`` .. ``first + count``, each from its own table to its own log, spread over ``jobs``."""
    lines = ["ns: {db: 'postgres://db:5432', logs: 'log://scribe'}", "assets:"]
    for i in range(first, first + count):
        lines.append(f"  s{i}: {{namespace: db, name: app.t{i}, fields: [email]}}")
        lines.append(f"  d{i}: {{namespace: logs, name: cat{i}, fields: [email]}}")
    lines.append("jobs:")
    for j in sorted({i % jobs for i in range(first, first + count)}):
        lines.append(f"  j{j}: {{namespace: 'service://bench'}}")
    lines.append("flows:")
    for i in range(first, first + count):
        lines.append(f"  - {{job: j{i % jobs}, from: s{i}, to: d{i}, fields: [email]}}")
    return "\n".join(lines) + "\n"


def declared_row(tmp: Path, label: str, flows: int, jobs: int, per_file: int = 20_000) -> str:
    root = tmp / label.replace(" ", "_").replace(",", "")
    files: dict[str, str] = {}
    for first in range(0, flows, per_file):
        files[f"f{first:07d}.yaml"] = flows_file(first, min(per_file, flows - first), jobs)
    if jobs == 1:  # one job: one file, so its jobs: entry is declared once
        files = {"one.yaml": flows_file(0, flows, 1)}
    estate(root, files)
    code, wall, cpu, rss = run(root, "scan", "--json")
    return f"{label:<34} {flows:>8,} {jobs:>6,} {wall:>9.1f} {cpu:>9.1f} {rss:>9.0f}  {'ok' if code == 0 else f'exit {code}'}"


def chain_file(steps: int) -> str:
    lines = ["assets:"]
    lines += [f"  a{i}: {{namespace: 'file://chain', name: step{i:05d}}}" for i in range(steps + 1)]
    lines.append("jobs:")
    lines += [f"  j{i}: {{namespace: 'service://chain'}}" for i in range(steps)]
    lines.append("flows:")
    lines += [f"  - {{job: j{i}, from: a{i}, to: a{i + 1}}}" for i in range(steps)]
    return "\n".join(lines) + "\n"


def random_store_file(events: int, seed: int = 14) -> str:
    """``events`` jobs, each moving one dataset to a later one: a long, branching chain."""
    rng = random.Random(seed)
    n = events + 1
    lines = ["assets:"]
    lines += [f"  a{i}: {{namespace: 'file://g', name: n{i:06d}}}" for i in range(n)]
    lines.append("jobs:")
    lines += [f"  j{i}: {{namespace: 'service://g'}}" for i in range(events)]
    lines.append("flows:")
    for i in range(events):
        src = max(0, i - rng.randint(0, 3))
        lines.append(f"  - {{job: j{i}, from: a{src}, to: a{i + 1}}}")
    return "\n".join(lines) + "\n"


def lineage_row(tmp: Path, label: str, text: str, start: str, depth: int) -> str:
    root = tmp / label.replace(" ", "_").replace(",", "")
    estate(root, {"g.yaml": text})
    code, _, _, _ = run(root, "scan", "--json")
    if code != 0:
        return f"{label:<34} scan failed (exit {code})"
    out = root / "down.json"
    code, wall, cpu, rss = run(root, "lineage", "downstream", start, "--depth", str(depth), "--json", out=out)
    size = out.stat().st_size / 1e6
    return f"{label:<34} {depth:>6} {size:>10.2f} {wall:>9.1f} {cpu:>9.1f} {rss:>9.0f}  {'ok' if code == 0 else f'exit {code}'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("declared", "lineage", "both"), default="both")
    parser.add_argument("--flows", type=int, default=200_000)
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument("--one-job", type=int, nargs="*", default=[2_000, 4_000, 8_000])
    parser.add_argument("--steps", type=int, nargs="*", default=[500, 1_000, 2_000])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()} {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.part in ("declared", "both"):
            print(
                f"\n{'declared flows: flowscope scan':<34} {'flows':>8} {'jobs':>6} {'wall s':>9} {'CPU s':>9} {'RSS MB':>9}"
            )
            for n in args.one_job:
                print(declared_row(tmp, f"one job, {n:,} flows", n, 1), flush=True)
            print(declared_row(tmp, f"{args.flows:,} flows", args.flows, args.jobs), flush=True)
        if args.part in ("lineage", "both"):
            print(
                f"\n{'lineage downstream --json':<34} {'depth':>6} {'JSON MB':>10} {'wall s':>9} {'CPU s':>9} {'RSS MB':>9}"
            )
            for steps in args.steps:
                print(
                    lineage_row(
                        tmp, f"chain of {steps:,} steps", chain_file(steps), "file://chain/step00000", steps
                    ),
                    flush=True,
                )
            if args.events:
                text = random_store_file(args.events)
                print(
                    lineage_row(tmp, f"{args.events:,} events, random chain", text, "file://g/n000000", 1000),
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
