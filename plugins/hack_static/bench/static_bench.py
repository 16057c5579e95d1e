"""Precision, recall and speed of the hack_static analysis on its labeled corpus.

``python plugins/hack_static/bench/static_bench.py [--repeat N] [--json]``

The corpus (``corpus/{python,hack,cpp}``) is small realistic programs whose comments label the truth:
``FLOW SOURCE -> TARGET`` for a flow that must be found, ``NOFLOW SOURCE -> TARGET`` for one that must
not (masked, dead branch, overwritten or unrelated variable). A reported masked flow counts as "not a flow"
(it carries a hash, not the value). Any unmasked flow that is not labeled FLOW is a false positive.
Speed: every file is analyzed ``--repeat`` times as distinct files, front end (on ``--workers`` processes,
default one per core) plus analysis (one process), reported as lines per second per language.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from flowscope_hack_static import pyfront, tsfront
from flowscope_hack_static.collector import lower_all
from flowscope_hack_static.ir import FileIR
from flowscope_hack_static.packs import load_models
from flowscope_hack_static.scanner import language_of
from flowscope_hack_static.summaries import analyze_all

CORPUS = Path(__file__).parent / "corpus"
LABEL = re.compile(r"(?:#|//)\s*(NO)?FLOW\s+(\S+)\s*->\s*(\S+)")


def lower(path: Path, name: str) -> FileIR:
    lang = language_of(path)
    if lang == "python":
        return pyfront.lower(path.read_text(encoding="utf-8"), name)
    return tsfront.lower(path.read_bytes(), name, str(lang))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--workers", type=int, default=0, help="processes lowering files (0: one per core)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    models = load_models([])
    report: dict[str, dict[str, float]] = {}
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
        lines = sum(f.read_text(encoding="utf-8").count("\n") + 1 for f in files)
        start = time.perf_counter()
        jobs = [
            (str(language_of(f)), data, data.decode("utf-8"), True, f"{i}/{f.name}")
            for i in range(args.repeat)
            for f, data in ((f, f.read_bytes()) for f in files)
        ]
        analyze_all([ir for ir, _, _ in lower_all(jobs, args.workers) if ir is not None], models)
        seconds = time.perf_counter() - start
        report[lang_dir.name] = {
            "files": len(files),
            "flows": len(truth),
            "non_flows": len(negatives),
            "true_positives": tp,
            "false_positives": fp,
            "negatives_reported": len(found & negatives),
            "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
            "recall": round(tp / len(truth), 3) if truth else 1.0,
            "lines_per_second": round(lines * args.repeat / seconds),
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
    if args.json:
        print(json.dumps({"languages": report, "overall": overall, "misses": misses}, indent=2))
    else:
        print(f"{'language':<8} {'flows':>5} {'non':>4} {'prec':>6} {'recall':>6} {'lines/s':>9}")
        for lang, r in report.items():
            print(
                f"{lang:<8} {r['flows']:>5} {r['non_flows']:>4} {r['precision']:>6.3f} {r['recall']:>6.3f}"
                f" {r['lines_per_second']:>9,}"
            )
        print(
            f"{'overall':<8} {overall['flows']:>5} {overall['non_flows']:>4} {overall['precision']:>6.3f} {overall['recall']:>6.3f}"
        )
        for m in misses:
            print(m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
