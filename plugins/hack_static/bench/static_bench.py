"""Precision, recall and speed of the hack_static analysis on its labeled corpus.

``python plugins/hack_static/bench/static_bench.py [--repeat N] [--json]``

The corpus (``corpus/{python,hack,cpp}``) is small realistic programs whose comments label the truth:
``FLOW SOURCE -> TARGET`` for a flow that must be found, ``NOFLOW SOURCE -> TARGET`` for one that must
not (masked, dead branch, overwritten or unrelated variable). A reported masked flow counts as "not a flow"
(it carries a hash, not the value). Any unmasked flow that is not labeled FLOW is a false positive.
Speed: the corpus of each language is copied ``--repeat`` times as distinct files whose classes and
functions are renamed per copy (so copies do not merge into one program), and scanned the way the collector
does (front end and first analysis per file, shared with forked children for ``--workers`` > 1; then the
fixed point):
lines per second on one core (``--workers 1``) and on ``--workers`` processes (default 2). The cache rows
scan all three languages' copies written to a temporary tree with the real collector, first with an empty
cache, then again unchanged, then with one file edited.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flowscope.contracts import CollectContext
from flowscope_hack_static import pyfront, tsfront
from flowscope_hack_static.collector import HackStaticCollector, Settings
from flowscope_hack_static.engine import analyze_all
from flowscope_hack_static.ir import FileIR
from flowscope_hack_static.packs import Models, load_models
from flowscope_hack_static.scan import FileJob, analyze_files
from flowscope_hack_static.scanner import language_of

CORPUS = Path(__file__).parent / "corpus"
LABEL = re.compile(r"(?:#|//)\s*(NO)?FLOW\s+(\S+)\s*->\s*(\S+)")
PRIVATE = re.compile(r"\b(?:get|set|gen|log|insert|execute|post|send|produce|create|save|update|add)\b")


def lower(path: Path, name: str) -> FileIR:
    lang = language_of(path)
    if lang == "python":
        return pyfront.lower(path.read_text(encoding="utf-8"), name)
    return tsfront.lower(path.read_bytes(), name, str(lang))


def renamer(files: list[Path], models: Models) -> Callable[[str, int], str]:
    """Rename the corpus's own classes and functions with a copy number, leaving modelled names alone."""
    names: set[str] = set()
    for f in files:
        for fn in lower(f, f.name).functions:
            names.update(part for part in fn.name.split(".") if part)
    names = {n for n in names if not PRIVATE.fullmatch(n) and not models.knows("python", n)}
    if not names:
        return lambda text, i: text
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b")
    return lambda text, i: pattern.sub(lambda m: f"{m.group(1)}_{i}", text)


def copies(files: list[Path], repeat: int, models: Models) -> list[tuple[str, str]]:
    """(relative path, text) of ``repeat`` renamed copies of ``files``."""
    rename = renamer(files, models)
    return [
        (f"c{i}/{f.name}", rename(f.read_text(encoding="utf-8"), i)) for i in range(repeat) for f in files
    ]


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the scan's forked workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def rate(
    tree: list[tuple[str, str]], models: Models, workers: int, runs: int = 1
) -> tuple[float, float, int]:
    """(lines per wall-clock second, lines per CPU-second, flows), each the best of ``runs`` scans.

    Wall clock is what a user waits; CPU seconds (this process and its workers) are what a core
    spends, and stay honest when other programs share the machine."""
    jobs = [FileJob(str(language_of(Path(rel))), t.encode(), t, True, rel) for rel, t in tree]
    wall = cpu = float("inf")
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), _cpu()
        outcomes = analyze_files(jobs, models, workers=workers, cache=None)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, _cpu() - start_cpu)
    lines = sum(t.count("\n") + 1 for _, t in tree)
    per_cpu = lines / cpu if cpu > 0 else 0.0  # 0: too short for os.times()' 10 ms ticks
    return lines / wall, per_cpu, sum(len(o.flows) for o in outcomes)


def scan_tree(root: Path, cache_dir: Path, workers: int) -> tuple[float, float, int, HackStaticCollector]:
    settings = Settings(paths=["."], cache_dir=str(cache_dir), workers=workers)
    ctx = CollectContext(collector="hack_static", settings=settings, base_dir=root)
    collector = HackStaticCollector()
    start, start_cpu = time.perf_counter(), _cpu()
    n = sum(1 for _ in collector.collect(ctx))
    return time.perf_counter() - start, _cpu() - start_cpu, n, collector


def cache_rows(tree: list[tuple[str, str]], workers: int, runs: int = 1) -> list[dict[str, float]]:
    """First scan (empty cache), re-scan unchanged, re-scan with one file edited: best of ``runs`` each."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "src"
        for rel, text in tree:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        lines = sum(t.count("\n") + 1 for _, t in tree)
        labels = ("first scan", "re-scan, unchanged", "re-scan, 1 file edited")
        best: dict[str, tuple[float, int, int]] = {}
        best_cpu: dict[str, float] = {}
        edited_rel, edited_text = tree[0]
        for run in range(runs):
            cache_dir = Path(tmp) / f"cache{run}"
            for label in labels:
                if label.endswith("edited"):
                    note = "\n# edited\n" if edited_rel.endswith(".py") else "\n// edited\n"
                    (root / edited_rel).write_text(edited_text + note, encoding="utf-8")
                seconds, cpu, n, collector = scan_tree(root, cache_dir, workers)
                if label not in best or seconds < best[label][0]:
                    best[label] = (seconds, n, collector.stats.cache_hits)
                best_cpu[label] = min(cpu, best_cpu.get(label, cpu))
            (root / edited_rel).write_text(edited_text, encoding="utf-8")
        return [
            {
                "scan": label,
                "seconds": round(best[label][0], 3),
                "cpu_seconds": round(best_cpu[label], 3),
                "lines_per_second": round(lines / best[label][0]),
                "observations": best[label][1],
                "cache_hits": best[label][2],
            }
            for label in labels
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="speed: best of this many scans")
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel rate")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-cache", action="store_true", help="leave out the first-scan/re-scan rows")
    args = parser.parse_args(argv)
    models = load_models([])
    report: dict[str, dict[str, float]] = {}
    trees: list[tuple[str, str]] = []
    misses: list[str] = []
    for lang_dir in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        files = sorted(p for p in lang_dir.iterdir() if language_of(p))
        truth: set[tuple[str, str, str]] = set()
        negatives: set[tuple[str, str, str]] = set()
        for f in files:
            for m in LABEL.finditer(f.read_text(encoding="utf-8")):
                (negatives if m.group(1) else truth).add((f.name, m.group(2), m.group(3)))
        irs = [lower(f, f.name) for f in files]
        found: set[tuple[str, str, str]] = set()
        for ir, result in zip(irs, analyze_all(irs, models), strict=True):
            found |= {(ir.path, str(fl.source), str(fl.target)) for fl in result.flows if not fl.masked}
        tp = len(found & truth)
        fp = len(found - truth)
        misses += [f"missed {x}" for x in sorted(truth - found)] + [
            f"false {x}" for x in sorted(found - truth)
        ]
        tree = copies(files, args.repeat, models)
        trees.extend(tree)
        one_core, one_cpu, flows_one = rate(tree, models, 1, args.runs)
        many, many_cpu, flows_many = rate(tree, models, args.workers, args.runs)
        if flows_one != flows_many:
            misses.append(f"{lang_dir.name}: {flows_one} flows on one core, {flows_many} on {args.workers}")
        report[lang_dir.name] = {
            "files": len(files),
            "flows": len(truth),
            "non_flows": len(negatives),
            "true_positives": tp,
            "false_positives": fp,
            "negatives_reported": len(found & negatives),
            "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
            "recall": round(tp / len(truth), 3) if truth else 1.0,
            "lines_per_second_1_core": round(one_core),
            "lines_per_cpu_second_1_core": round(one_cpu),
            f"lines_per_second_{args.workers}_cores": round(many),
            f"lines_per_cpu_second_{args.workers}_cores": round(many_cpu),
        }
    total_tp = sum(r["true_positives"] for r in report.values())
    total_fp = sum(r["false_positives"] for r in report.values())
    total_truth = sum(r["flows"] for r in report.values())
    overall = {
        "flows": total_truth,
        "non_flows": sum(r["non_flows"] for r in report.values()),
        "precision": round(total_tp / (total_tp + total_fp), 3) if total_tp + total_fp else 1.0,
        "recall": round(total_tp / total_truth, 3) if total_truth else 1.0,
    }
    cached = cache_rows(trees, args.workers, args.runs) if not args.skip_cache else []
    if args.json:
        out = {"languages": report, "overall": overall, "cache": cached, "misses": misses}
        print(json.dumps(out, indent=2))
    else:
        w = args.workers
        print(
            f"{'language':<8} {'flows':>5} {'non':>4} {'prec':>6} {'recall':>6} {'1 core lines/s':>15}"
            f" {'(per CPU-s)':>11} {f'{w} cores lines/s':>16} {'(per CPU-s)':>11}"
        )
        for lang, r in report.items():
            print(
                f"{lang:<8} {r['flows']:>5} {r['non_flows']:>4} {r['precision']:>6.3f} {r['recall']:>6.3f}"
                f" {r['lines_per_second_1_core']:>15,} {r['lines_per_cpu_second_1_core']:>11,}"
                f" {r[f'lines_per_second_{w}_cores']:>16,} {r[f'lines_per_cpu_second_{w}_cores']:>11,}"
            )
        print(
            f"{'overall':<8} {overall['flows']:>5} {overall['non_flows']:>4} {overall['precision']:>6.3f} {overall['recall']:>6.3f}"
        )
        if cached:
            first, first_cpu = cached[0]["seconds"], cached[0]["cpu_seconds"]
            title = f"cache (all languages, {w} workers)"
            print(
                f"\n{title:<34} {'seconds':>8} {'lines/s':>10} {'hits':>6} {'speed-up':>9}"
                f" {'CPU s':>7} {'CPU speed-up':>13}"
            )
            for row in cached:
                print(
                    f"{row['scan']:<34} {row['seconds']:>8.3f} {row['lines_per_second']:>10,}"
                    f" {row['cache_hits']:>6} {first / row['seconds']:>8.1f}x"
                    f" {row['cpu_seconds']:>7.3f} {first_cpu / max(row['cpu_seconds'], 0.01):>12.1f}x"
                )
        for m in misses:
            print(m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
