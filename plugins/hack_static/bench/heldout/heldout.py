"""Precision and recall of the static plugin on real public code it was not written beside.

``python plugins/hack_static/bench/heldout/heldout.py --mirrors DIR [--split heldout|tune|tune-r1|tune-r2|all] [--json]``

``labels.yaml`` names files of public repositories by (repo, path, commit) with hand labels written before
the tool ran on them. The code is never committed: this script reads each file at its commit from a git
mirror (``DIR/<owner>+<name>/repo``, as the search tool's ``fetch`` lays them out; ``--mirrors`` or
``$FLOWSCOPE_HELDOUT_MIRRORS``) into a cache folder outside the repository (``--cache``, default
``~/.cache/flowscope-heldout``), then scans each repository's extracted files with the real collector and
built-in models only, and scores the flows whose sink call is in a labelled file:

* a flow belongs to the labelled file of its repository that holds its latest evidence (its sink call, or
  the call through which a helper elsewhere reaches the sink: ``send_email(...)`` in a view whose
  ``mail.send`` is in ``app/email.py``);
* a label (source category, sink KIND:NAME) is found when an unmasked flow of that file reaches a sink
  of that kind and name with a source of that category (the same or a more specific one; ``user`` is any
  personal data) or of that field;
* a flow is a false positive when it matches no label of its file and its source is not on the file's
  ``ignore`` list (a category, or ``field:NAME``). Masked flows (hashes) are not counted either way.

``--summary`` prints the totals only, not the flows missed or wrongly reported: scoring the held-out split
at a milestone must not turn into tuning on it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscope.contracts import CollectContext
from flowscope.model import Signal
from flowscope.yamlsafe import safe_load
from flowscope_hack_static.collector import HackStaticCollector, Settings

HERE = Path(__file__).parent
SCHEMES = {"log": "log", "http": "http", "https": "http", "cache": "cache", "queue": "queue"}
SCHEMES |= {"kafka": "kafka", "service": "service", "smtp": "email"}
SPLITS = ("heldout", "tune", "tune-r1", "tune-r2", "all")


@dataclass
class Label:
    source: str
    field: str
    sink: str
    found: bool = False


@dataclass
class FileCase:
    repo: str
    path: str
    split: str
    flows: list[Label]
    noflows: list[Label]
    ignore: list[str]
    context: list[str] = field(default_factory=list)


def load(path: Path) -> tuple[dict[str, dict[str, str]], list[FileCase]]:
    doc = safe_load(path.read_text(encoding="utf-8"), str(path))
    cases = []
    for f in doc["files"]:

        def labels(items: list[dict[str, str]] | None) -> list[Label]:
            return [Label(i["source"], i.get("field", ""), i["sink"]) for i in items or []]

        cases.append(
            FileCase(
                f["repo"],
                f["path"],
                f["split"],
                labels(f.get("flows")),
                labels(f.get("noflows")),
                list(f.get("ignore") or []),
                list(f.get("context") or []),
            )
        )
    return doc["repos"], cases


def extract(repos: dict[str, dict[str, str]], cases: list[FileCase], mirrors: Path, cache: Path) -> None:
    """Each labelled (and context) file at its commit, written under ``cache/<key>/<path>``."""
    for case in cases:
        info = repos[case.repo]
        git_dir = mirrors / info["repo"].replace("/", "+") / "repo"
        if (git_dir / ".git").is_dir():  # a mirror with a work tree
            git_dir = git_dir / ".git"
        for rel in [case.path, *case.context]:
            out = cache / case.repo / rel
            if out.exists():
                continue
            blob = subprocess.run(
                ["git", "--git-dir", str(git_dir), "show", f"{info['commit']}:{rel}"],
                capture_output=True,
                check=False,
            )
            if blob.returncode != 0:
                raise SystemExit(
                    f"{info['repo']}@{info['commit'][:10]}:{rel}: {blob.stderr.decode().strip()}"
                )
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(blob.stdout)


def scan(root: Path) -> list[Signal]:
    settings = Settings(paths=["."], cache=False, workers=1)
    ctx = CollectContext(collector="hack_static", settings=settings, base_dir=root)
    return [s for s in HackStaticCollector().collect(ctx) if isinstance(s, Signal)]


def category_of(sig: Signal) -> str:
    for ev in sig.evidence:
        for key, value in ev.detail:
            if key == "data_category":
                return value
    return ""


def sink_matches(spec: str, sig: Signal) -> bool:
    kind, _, name = spec.partition(":")
    target = sig.target
    if target is None:
        return False
    scheme, _, system = target.namespace.partition("://")
    got = SCHEMES.get(scheme, "table")
    if got == "service" and system.split("/")[0] == "email":
        got = "email"
    if kind != "*" and kind != got:
        return False
    if name in ("*", ""):
        return True
    if "unresolved:" in target.name:
        return False
    name = name.lower()
    if got == "http":
        return name in target.namespace.lower() or name in target.name.lower()
    if got == "table":
        return target.name.lower().rpartition(".")[2].strip('`"') == name
    return name in target.name.lower()


def words(name: str) -> str:
    return "_".join(w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name))


def source_matches(label: Label, sig: Signal) -> bool:
    category = category_of(sig)
    if category and (category == label.source or category.startswith(label.source + ".")):
        return True
    return bool(label.field) and words(sig.source.field or "") == words(label.field)


def ignored(case: FileCase, sig: Signal) -> bool:
    category = category_of(sig)
    field_words = words(sig.source.field or "")
    for item in case.ignore:
        if item.startswith("field:"):
            if field_words and field_words == words(item[len("field:") :]):
                return True
        elif category == item or category.startswith(item + "."):
            return True
    return False


def attribute(cases: list[FileCase], signals: dict[str, list[Signal]]) -> dict[tuple[str, str], list[Signal]]:
    """Each flow under the labelled file of its repository that holds its latest evidence."""
    labelled: dict[str, set[str]] = {}
    for case in cases:
        labelled.setdefault(case.repo, set()).add(case.path)
    owned: dict[tuple[str, str], list[Signal]] = {}
    for repo, sigs in signals.items():
        paths = labelled.get(repo, set())
        for sig in sigs:
            for ev in reversed(sig.evidence):
                path = ev.location.rpartition(":")[0]
                if path in paths:
                    owned.setdefault((repo, path), []).append(sig)
                    break
    return owned


def score(cases: list[FileCase], signals: dict[str, list[Signal]]) -> dict[str, Any]:
    rows = []
    tp_flows = fp_flows = found = total = 0
    false_positives: list[str] = []
    missed: list[str] = []
    owned = attribute(cases, signals)
    for case in cases:
        here = owned.get((case.repo, case.path), [])
        unique = {(s.job.name, s.source, s.target): s for s in here if not s.transformation.masking}
        fp = tp = 0
        for sig in unique.values():
            hit = [lb for lb in case.flows if sink_matches(lb.sink, sig) and source_matches(lb, sig)]
            for lb in hit:
                lb.found = True
            if hit:
                tp += 1
            elif not ignored(case, sig):
                fp += 1
                false_positives.append(f"{case.path}: {sig.source} -> {sig.target} [{category_of(sig)}]")
        n_found = sum(lb.found for lb in case.flows)
        missed += [f"{case.path}: {lb.source} ({lb.field}) -> {lb.sink}" for lb in case.flows if not lb.found]
        rows.append(
            {
                "file": f"{case.repo}:{case.path}",
                "language": language(case.path),
                "labels": len(case.flows),
                "found": n_found,
                "true": tp,
                "fp": fp,
            }
        )
        tp_flows, fp_flows = tp_flows + tp, fp_flows + fp
        found, total = found + n_found, total + len(case.flows)
    return {
        "files": len(cases),
        "labels": total,
        "found": found,
        "flows_true": tp_flows,
        "flows_false": fp_flows,
        "precision": round(tp_flows / (tp_flows + fp_flows), 3) if tp_flows + fp_flows else 1.0,
        "recall": round(found / total, 3) if total else 1.0,
        "rows": rows,
        "false_positives": false_positives,
        "missed": missed,
    }


def language(path: str) -> str:
    ext = path.rpartition(".")[2]
    return "python" if ext == "py" else "hack" if ext in ("php", "hack", "hh") else "cpp"


def by_language(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for lang in ("python", "hack", "cpp"):
        mine = [r for r in rows if r["language"] == lang]
        if not mine:
            continue
        labels, found = sum(r["labels"] for r in mine), sum(r["found"] for r in mine)
        tp, fp = sum(r["true"] for r in mine), sum(r["fp"] for r in mine)
        out.append(
            {
                "language": lang,
                "files": len(mine),
                "labels": labels,
                "found": found,
                "flows_true": tp,
                "flows_false": fp,
                "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
                "recall": round(found / labels, 3) if labels else 1.0,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mirrors", default=os.environ.get("FLOWSCOPE_HELDOUT_MIRRORS"))
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "flowscope-heldout"))
    parser.add_argument("--labels", default=str(HERE / "labels.yaml"))
    parser.add_argument("--split", choices=SPLITS, default="heldout")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--summary", action="store_true", help="totals only: no missed or false flows")
    args = parser.parse_args(argv)
    if not args.mirrors:
        raise SystemExit(
            "error: --mirrors DIR (or $FLOWSCOPE_HELDOUT_MIRRORS): folder of <owner>+<name>/repo mirrors"
        )
    repos, cases = load(Path(args.labels))
    cases = [c for c in cases if args.split == "all" or c.split == args.split]
    cache = Path(args.cache)
    extract(repos, cases, Path(args.mirrors), cache)
    signals = {key: scan(cache / key) for key in sorted({c.repo for c in cases})}
    result = score(cases, signals)
    result["languages"] = by_language(result["rows"])
    if args.summary:
        for key in ("rows", "false_positives", "missed"):
            del result[key]
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"split {args.split}: {result['files']} files, {result['labels']} labelled flows")
    print(
        f"{'language':10} {'files':>5} {'labels':>6} {'found':>6} {'true':>5} {'false':>5} {'prec':>6} {'recall':>6}"
    )
    for lang in result["languages"]:
        print(
            f"{lang['language']:10} {lang['files']:>5} {lang['labels']:>6} {lang['found']:>6} "
            f"{lang['flows_true']:>5} {lang['flows_false']:>5} {lang['precision']:>6.3f} {lang['recall']:>6.3f}"
        )
    print(f"precision {result['precision']:.3f}  recall {result['recall']:.3f}")
    if args.summary:
        return 0
    print(f"{'file':60} {'labels':>6} {'found':>6} {'false':>6}")
    for row in result["rows"]:
        print(f"{row['file']:60} {row['labels']:>6} {row['found']:>6} {row['fp']:>6}")
    for line in result["false_positives"]:
        print(f"  false  {line}")
    for line in result["missed"]:
        print(f"  missed {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
