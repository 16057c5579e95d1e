"""Score ``flowscope ingest`` on the held-out labels of the OpenLineage integration-test corpus.

    python tests/corpus/openlineage/score.py [--cache DIR]

Each labelled test's files are ingested together (as ``flowscope ingest FILE...`` reads them) and the
stored edges compared with the labels: an edge counts when its source, target and confidence all match.
Prints one row per test and the totals (precision, recall, failed runs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from flowscope import ingest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from extract import default_cache  # noqa: E402


def labels() -> dict[str, Any]:
    held: dict[str, Any] = json.loads((HERE / "labels.json").read_text(encoding="utf-8"))["held_out"]
    return held


def score_test(
    cache: Path, label: dict[str, Any]
) -> tuple[set[tuple[str, str, float]], set[tuple[str, str, float]], int]:
    """(expected edges, got edges, failed runs) for one labelled test."""
    loaded = [ingest.read_events(cache / f) for f in label["files"]]
    derived = ingest.derive_all(loaded)
    got = {
        (e.source.id, e.target.id if e.target else "", e.confidence) for item in loaded for e in item.edges
    }
    got = {g for g in got if g[1]}  # pure reads are not labelled
    want = {(s, t, float(c)) for s, t, c in label["edges"]}
    return want, got, derived.failed_runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=default_cache())
    args = parser.parse_args(argv)
    tp = fp = fn = runs_ok = 0
    rows = []
    for name, label in labels().items():
        want, got, failed = score_test(args.cache, label)
        tp += len(want & got)
        fp += len(got - want)
        fn += len(want - got)
        runs_ok += failed == label["runs_failed"]
        rows.append((name, len(want), len(want & got), len(got - want), f"{failed}/{label['runs_failed']}"))
    print(f"{'test':28} {'labelled':>8} {'found':>6} {'extra':>6} {'failed runs got/want':>21}")
    for row in rows:
        print(f"{row[0]:28} {row[1]:>8} {row[2]:>6} {row[3]:>6} {row[4]:>21}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(
        f"edges: precision {precision:.3f}, recall {recall:.3f} ({tp} of {tp + fn}); "
        f"failed-run counts right in {runs_ok} of {len(rows)} tests"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
