"""A random sample of the flows the static scan reports on a real repository, to judge by reading the code.

``python plugins/hack_static/bench/flow_sample.py draw --git DIR --commit SHA [--seed N] [--per-repo N]``
``python plugins/hack_static/bench/flow_sample.py score [--labels FILE] [--json]``

The issue's precision check on real code: "a sample of flows on real public repositories judged by reading
the code (aim: at least 80% are real personal-data flows)". ``draw`` extracts the repository's source files
at ``--commit`` from a git clone (``DIR``, e.g. a mirror the search tool's ``fetch`` made) into a cache folder
outside this repository (``--cache``, default ``~/.cache/flowscope-sample``), scans them as a user would
(``flowscope static scan --no-cache``: built-in models only, default settings, test code skipped), and draws
``--per-repo`` flows at random with ``--seed``, stratified by language (each language gets its share of the
sample in proportion to its flows, at least one). It prints each flow's key (job | source -> target), data
categories and evidence, with the source line at every evidence location, so the judge reads the code
the flow claims to pass through. ``--json`` writes the same as JSON.

``sample_labels.yaml`` (beside this script) keeps the verdicts: per repository its commit and seed, and per flow
the key, a verdict and a one-line reason. Verdicts:

* ``real``: personal data (the source is about a person) reaches the named sink (and, for a column
  target, that column);
* ``not-personal``: the value flows, but it is not personal data (a name the classifier took wrongly);
* ``not-a-flow``: the source's value does not reach the sink (taint over-approximated);
* ``wrong-sink``: personal data does reach a sink, but not the one (or the column) named.

``score`` prints the share of ``real`` per repository and overall. The same seed on the same commit draws
the same flows as long as the scan's flow set is unchanged; after analysis changes, draw again and judge
the new keys (verdicts of keys that are still drawn carry over).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from flowscope.model import Edge
from flowscope.pipeline import collect_alone
from flowscope.yamlsafe import safe_load
from flowscope_hack_static.collector import HackStaticCollector, Settings
from flowscope_hack_static.scanner import EXTENSIONS

HERE = Path(__file__).parent
SOURCE_SUFFIXES = {*EXTENSIONS, ".py"}
VERDICTS = ("real", "not-personal", "not-a-flow", "wrong-sink")


def extract(git_dir: Path, commit: str, cache: Path) -> Path:
    """The repository's source files at ``commit``, extracted once into ``cache`` (never into this repo)."""
    name = git_dir.name if git_dir.name != "repo" else git_dir.parent.name
    tree = cache / f"{name}-{commit[:12]}"
    done = tree / ".extracted"
    if done.exists():
        return tree
    listing = subprocess.run(
        ["git", "-C", str(git_dir), "ls-tree", "-r", "-z", "--name-only", commit],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    paths = [p.decode() for p in listing if p and os.path.splitext(p.decode())[1].lower() in SOURCE_SUFFIXES]
    tree.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(paths), 500):  # keep each command line short
        archive = subprocess.run(
            ["git", "-C", str(git_dir), "archive", commit, "--", *paths[start : start + 500]],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    done.write_text(commit)
    return tree


def flow_key(e: Edge) -> str:
    target = e.target.id if e.target else "-"
    return f"{e.job.namespace}/{e.job.name} | {e.source.id} -> {target}"


def language(e: Edge) -> str:
    for ev in reversed(e.evidence):
        suffix = os.path.splitext((ev.location or "").rpartition(":")[0])[1].lower()
        if suffix == ".py":
            return "python"
        if suffix in EXTENSIONS:
            return EXTENSIONS[suffix]
    return "unknown"


def scan(tree: Path) -> list[Edge]:
    settings = Settings(paths=["."], cache=False)
    return collect_alone(HackStaticCollector(), settings, tree).edges


def draw(edges: list[Edge], seed: int, n: int) -> list[Edge]:
    """``n`` edges at random, each language's share in proportion to its flows (at least one each)."""
    by_lang: dict[str, list[Edge]] = defaultdict(list)
    for e in sorted(edges, key=flow_key):
        by_lang[language(e)].append(e)
    rng = random.Random(seed)
    total = len(edges)
    picked: list[Edge] = []
    for lang in sorted(by_lang):
        group = by_lang[lang]
        share = max(1, round(n * len(group) / total)) if total else 0
        picked.extend(rng.sample(group, min(share, len(group))))
    return sorted(picked, key=flow_key)


def code_line(tree: Path, location: str) -> str:
    path, _, line = location.rpartition(":")
    try:
        lines = (tree / path).read_text(encoding="utf-8", errors="replace").splitlines()
        return lines[int(line) - 1].strip()[:160]
    except (OSError, ValueError, IndexError):
        return ""


def describe(tree: Path, e: Edge) -> dict[str, Any]:
    return {
        "key": flow_key(e),
        "language": language(e),
        "categories": sorted({v for ev in e.evidence for k, v in ev.detail if k == "data_category"}),
        "confidence": e.confidence,
        "masked": e.masked,
        "evidence": [
            {"location": ev.location, "code": code_line(tree, ev.location or "")}
            for ev in e.evidence
            if ev.location
        ],
    }


def cmd_draw(args: argparse.Namespace) -> int:
    git_dir = Path(args.git).resolve()
    cache = Path(args.cache or Path.home() / ".cache" / "flowscope-sample")
    tree = extract(git_dir, args.commit, cache)
    edges = scan(tree)
    sample = [describe(tree, e) for e in draw(edges, args.seed, args.per_repo)]
    counts: dict[str, int] = defaultdict(int)
    for e in edges:
        counts[language(e)] += 1
    if args.json:
        out = {"tree": str(tree), "commit": args.commit, "seed": args.seed, "flows": len(edges)}
        print(json.dumps(out | {"by_language": counts, "sample": sample}, indent=1))
        return 0
    print(
        f"{git_dir} at {args.commit}: {len(edges)} flows {dict(counts)}; seed {args.seed}, {len(sample)} drawn"
    )
    for i, s in enumerate(sample, 1):
        print(
            f"\n[{i}] {s['key']}\n    {s['language']} {s['categories']} conf {s['confidence']}"
            f"{' masked' if s['masked'] else ''}"
        )
        for ev in s["evidence"]:
            print(f"      {ev['location']}: {ev['code']}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    path = Path(args.labels)
    doc = safe_load(path.read_text(encoding="utf-8"), str(path))
    rows = []
    totals: dict[str, int] = defaultdict(int)
    by_analysis: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for repo in doc["repos"]:
        verdicts: dict[str, int] = defaultdict(int)
        for f in repo["flows"]:
            if f["verdict"] not in VERDICTS:
                raise SystemExit(f"{path}: {repo['repo']}: unknown verdict {f['verdict']!r}")
            verdicts[f["verdict"]] += 1
            totals[f["verdict"]] += 1
            by_analysis[str(repo.get("round", repo.get("analysis", "?")))][f["verdict"]] += 1
        n = sum(verdicts.values())
        name = f"{repo['repo']}@{repo.get('analysis', '?')}"
        rows.append((name, repo["commit"][:12], repo.get("flows_total", "?"), n, dict(verdicts)))
    n = sum(totals.values())
    if args.json:
        print(
            json.dumps({"repos": rows, "overall": dict(totals), "share_real": totals["real"] / n if n else 0})
        )
        return 0
    print(
        f"{'repo@analysis':36} {'commit':12} {'flows':>6} {'judged':>6} {'real':>5} {'share':>6}  other verdicts"
    )
    for repo, commit, total, judged, v in rows:
        other = ", ".join(f"{k} {c}" for k, c in sorted(v.items()) if k != "real")
        share = v.get("real", 0) / judged if judged else 0
        print(
            f"{repo[:36]:36} {commit:12} {total:>6} {judged:>6} {v.get('real', 0):>5} {share:>6.2f}  {other}"
        )
    for analysis, t in sorted(by_analysis.items()):
        judged = sum(t.values())
        other = ", ".join(f"{k} {c}" for k, c in sorted(t.items()) if k != "real")
        label = f"overall, round {analysis}"
        print(f"{label:36} {'':12} {'':>6} {judged:>6} {t['real']:>5} {t['real'] / judged:>6.2f}  {other}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("draw", help="scan a repository at a commit and draw a sample of its flows")
    d.add_argument("--git", required=True, help="a git clone of the repository")
    d.add_argument("--commit", required=True)
    d.add_argument("--seed", type=int, default=16)
    d.add_argument("--per-repo", type=int, default=20)
    d.add_argument("--cache", help="where extracted trees go (default ~/.cache/flowscope-sample)")
    d.add_argument("--json", action="store_true")
    s = sub.add_parser("score", help="share of real personal-data flows in the judged sample")
    s.add_argument("--labels", default=str(HERE / "sample_labels.yaml"))
    s.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return cmd_draw(args) if args.cmd == "draw" else cmd_score(args)


if __name__ == "__main__":
    sys.exit(main())
