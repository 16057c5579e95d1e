"""Score the ml_config collector on the real-config corpus: recall and precision of dataset-level edges.

Each group of corpus/manifest.yaml is scanned as one folder (as its files sit in their repository) with
the collector's default settings; its edges (source -> target, fields dropped, reads without a target
left out) are compared with the union of the group's hand-written labels. Asset names are compared in
a canonical form (see ``canon``): services by name only (endpoint dropped), paths without ``./`` or a
trailing ``/``, case folded. Files labelled with edges must be parsed (not skipped as unknown, no read
error); files labelled ``invalid`` must be reported.

    python bench/score_corpus.py [--split heldout|tuning|all] [--show] [--cache DIR]

Run bench/extract_corpus.py first. Held-out figures are for milestones: never tune on their misses.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from extract_corpus import MANIFEST, default_cache

from flowscope.contracts import CollectContext
from flowscope.model import Asset, Signal
from flowscope_ml_config.collector import MlConfigCollector, Settings

HERE = Path(__file__).parent
LABELS = HERE / "corpus" / "labels"


def norm_path(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path)
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/") or "/"


def canon(asset: Asset) -> str:
    ns, name = asset.namespace, asset.name
    if ns.startswith("service://"):
        out = "svc:" + ns.removeprefix("service://")
    elif ns == "model://huggingface":
        out = "hf:" + name.strip("/")
    elif ns.startswith("https://huggingface.co") and name.lstrip("/").startswith("datasets/"):
        out = "hfd:" + name.lstrip("/").removeprefix("datasets/")
    elif ns == "file":
        out = "file:" + norm_path(name)
    elif ns.startswith("feature://"):
        out = "feast:" + name
    elif ns.startswith("model://"):
        out = "model:" + ns.removeprefix("model://") + "/" + name
    else:
        out = (ns.rstrip("/") + "/" + name.lstrip("/")).rstrip("/")
    return out.lower()


def canon_label(text: str) -> str:
    text = text.strip()
    if text.startswith("file:"):
        return ("file:" + norm_path(text.removeprefix("file:"))).lower()
    return text.rstrip("/").lower()


@dataclass
class Expected:
    edges: dict[tuple[str, str], str] = field(default_factory=dict)  # edge -> file
    must_parse: set[str] = field(default_factory=set)
    invalid: set[str] = field(default_factory=set)


def load_labels(group: str) -> Expected:
    data = yaml.safe_load((LABELS / f"{group}.yaml").read_text(encoding="utf-8"))
    out = Expected()
    for path, entry in (data.get("files") or {}).items():
        prefix, edges = "", None
        if isinstance(entry, list):
            edges = entry
        elif isinstance(entry, dict) and "edges" in entry:
            prefix, edges = entry.get("prefix", ""), entry["edges"]
        elif isinstance(entry, dict) and "invalid" in entry:
            out.invalid.add(path)
        if edges is None:
            continue
        out.must_parse.add(path)
        for line in edges:
            src, _, dst = line.partition(" -> ")
            pair = (canon_label(src.replace("@", prefix)), canon_label(dst.replace("@", prefix)))
            out.edges[pair] = path
    return out


@dataclass
class Result:
    group: str
    family: str
    expected: int
    found: int
    hits: int
    files: int
    parsed_ok: int
    must_parse: int
    seconds: float
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)


def scan(base: Path) -> tuple[list[Signal], list[str]]:
    settings = (
        Settings(paths=["."], strict=True)
        if "strict" in Settings.__dataclass_fields__
        else Settings(paths=["."])
    )
    ctx = CollectContext(collector="ml_config", settings=settings, base_dir=base)
    signals = [o for o in MlConfigCollector().collect(ctx) if isinstance(o, Signal)]
    return signals, [str(p).removeprefix("ml_config: ") for p in ctx.problems]


def score_group(group: dict, cache: Path) -> Result:
    name = group["name"]
    base = cache / name
    expected = load_labels(name)
    start = time.perf_counter()
    signals, problems = scan(base)
    seconds = time.perf_counter() - start
    found: dict[tuple[str, str], str] = {}
    for s in signals:
        if s.target is None:
            continue
        pair = (canon(s.source.dataset), canon(s.target.dataset))
        if pair[0] != pair[1]:
            found.setdefault(pair, s.evidence[0].location.rsplit(":", 1)[0] if s.evidence else "")
    hits = set(found) & set(expected.edges)
    files = [p for p in base.rglob("*") if p.is_file()]
    bad: dict[str, str] = {}
    for p in problems:
        path, _, message = p.partition(": ")
        path = path.rsplit(":", 1)[0] if re.search(r":\d+$", path) else path
        if (
            message.startswith(("skipped: unknown", "invalid YAML", "cannot read", "skipped: not"))
            or "limit" in message
        ):
            bad.setdefault(path, message)
    parsed_ok = sum(1 for f in expected.must_parse if f not in bad)
    parsed_ok += sum(1 for f in expected.invalid if f in bad)
    file_problems = [f"{f}: {bad.get(f, 'parsed')}" for f in sorted(expected.must_parse) if f in bad]
    file_problems += [f"{f}: expected a problem, none" for f in sorted(expected.invalid) if f not in bad]
    family = re.sub(r"-(tuning|heldout).*$", "", name)
    return Result(
        name, family, len(expected.edges), len(found), len(hits), len(files), parsed_ok,
        len(expected.must_parse) + len(expected.invalid), seconds,
        misses=[f"{expected.edges[e]}: {e[0]} -> {e[1]}" for e in sorted(set(expected.edges) - hits)],
        extras=[f"{found[e]}: {e[0]} -> {e[1]}" for e in sorted(set(found) - hits)],
        file_problems=file_problems,
    )  # fmt: skip


def ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="heldout", choices=["heldout", "tuning", "all"])
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--show", action="store_true", help="list misses, extras and unparsed files")
    parser.add_argument("--only", help="groups whose name contains this")
    args = parser.parse_args()
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    groups = [g for g in manifest["groups"] if args.split in ("all", g["split"])]
    groups = [g for g in groups if not args.only or args.only in g["name"]]
    missing = [g["name"] for g in groups if not (args.cache / g["name"]).is_dir()]
    if missing:
        sys.exit(f"not extracted: {', '.join(missing)} (run bench/extract_corpus.py)")
    results = [score_group(g, args.cache) for g in groups]
    by_family: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_family[r.family].append(r)
    print(f"split: {args.split}")
    print("| family | files | parsed as labelled | expected edges | found | recall | precision |")
    print("|---|---|---|---|---|---|---|")
    for fam, rs in by_family.items():
        e, f, h = sum(r.expected for r in rs), sum(r.found for r in rs), sum(r.hits for r in rs)
        ok, need = sum(r.parsed_ok for r in rs), sum(r.must_parse for r in rs)
        print(
            f"| {fam} | {sum(r.files for r in rs)} | {ok}/{need} | {e} | {f} | {ratio(h, e)} | {ratio(h, f)} |"
        )
    e, f, h = sum(r.expected for r in results), sum(r.found for r in results), sum(r.hits for r in results)
    ok, need = sum(r.parsed_ok for r in results), sum(r.must_parse for r in results)
    fams = [rs for rs in by_family.values() if sum(r.expected for r in rs)]
    macro_r = sum(sum(r.hits for r in rs) / max(1, sum(r.expected for r in rs)) for rs in fams) / len(fams)
    print(
        f"| **all (micro)** | {sum(r.files for r in results)} | {ok}/{need} | {e} | {f} | **{ratio(h, e)}** | **{ratio(h, f)}** |"
    )
    print(f"macro recall over families: {macro_r:.3f}; scan time {sum(r.seconds for r in results):.2f} s")
    if args.show:
        for r in results:
            for line in r.file_problems:
                print(f"[{r.group}] FILE {line}")
            for line in r.misses:
                print(f"[{r.group}] MISS {line}")
            for line in r.extras:
                print(f"[{r.group}] EXTRA {line}")


if __name__ == "__main__":
    main()
