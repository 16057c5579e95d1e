"""Lines per CPU-second of the static scan on real repositories, and the flow set it finds.

``python plugins/hack_static/bench/real_speed.py TREE [TREE...] [--workers N] [--runs N] [--flows OUT.json]
[--profile OUT.prof] [--include-tests]``

Each ``TREE`` is a checkout of a real repository (extract one outside the repository with
``git -C MIRROR archive COMMIT | tar -x -C DIR``; the bench README names the commits measured). Every tree is
scanned with the real collector (``HackStaticCollector.collect`` through ``collect_alone``, classifier on,
default settings, no cache) and core's merge of its signals into edges, as ``flowscope static scan
--no-cache`` does, in this process (``--workers 1``, the default: one core) or with forked children.
CPU seconds are this process's and its finished children's (``os.times()``): on a shared machine they stay
meaningful where wall seconds do not, and "lines per CPU-second" is the per-core rate. Imports are done
before the clock starts. ``--flows`` writes each tree's flow keys (job, source, target, masked, evidence
locations) so two versions of the plugin can be compared for identical results on the same input.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sys
import time
from pathlib import Path

from flowscope.model import Edge
from flowscope.pipeline import collect_alone
from flowscope_hack_static.collector import HackStaticCollector, Settings


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def flow_key(e: Edge) -> str:
    where = ",".join(ev.location or "" for ev in e.evidence)
    target = e.target.id if e.target else ""
    return f"{e.job.namespace}/{e.job.name} | {e.source.id} -> {target} | masked={e.masked} | {where}"


def scan(
    tree: Path, workers: int, include_tests: bool
) -> tuple[float, float, dict[str, dict[str, int]], list[str]]:
    settings = Settings(paths=["."], cache=False, workers=workers, skip_tests=not include_tests)
    collector = HackStaticCollector()
    start, c0 = time.perf_counter(), cpu()
    run = collect_alone(collector, settings, tree)
    edges = run.edges
    wall, used = time.perf_counter() - start, cpu() - c0
    return wall, used, collector.stats.by_language(), sorted(flow_key(e) for e in edges)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trees", nargs="+")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="best of N (CPU seconds)")
    parser.add_argument("--flows", help="write {tree: [flow key, ...]} as JSON")
    parser.add_argument("--profile", help="write a cProfile of the last run (use with --workers 1)")
    parser.add_argument("--include-tests", action="store_true")
    args = parser.parse_args(argv)
    print(
        f"{'tree':28} {'language':8} {'files':>6} {'lines':>8} {'flows':>6} {'wall s':>7} {'CPU s':>7} "
        f"{'lines/CPU-s':>11}"
    )
    flows: dict[str, list[str]] = {}
    for name in args.trees:
        tree = Path(name).resolve()
        best: tuple[float, float, dict[str, dict[str, int]], list[str]] | None = None
        for _ in range(args.runs):
            prof = cProfile.Profile() if args.profile else None
            if prof:
                prof.enable()
            got = scan(tree, args.workers, args.include_tests)
            if prof:
                prof.disable()
                prof.dump_stats(args.profile)
            if best is None or got[1] < best[1]:
                best = got
        assert best is not None
        wall, used, langs, keys = best
        flows[tree.name] = keys
        lines = sum(v["lines"] for v in langs.values())
        main_lang = max(langs, key=lambda k: langs[k]["lines"]) if langs else "-"
        files = sum(v["files"] for v in langs.values())
        print(
            f"{tree.name[:28]:28} {main_lang:8} {files:>6} {lines:>8,} {len(keys):>6} {wall:>7.2f} "
            f"{used:>7.2f} {lines / used if used else 0:>11,.0f}"
        )
        for lang, v in sorted(langs.items()):
            if lang != main_lang:
                print(f"{'':28} {lang:8} {v['files']:>6} {v['lines']:>8,}")
    if args.flows:
        Path(args.flows).write_text(json.dumps(flows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
