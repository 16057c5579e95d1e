"""Replay a real repository's recent history and compare, at every commit, a cached scan with a fresh one.

``python plugins/hack_static/bench/cache_replay.py --git-dir MIRROR --commits 50 [--paths sub/dir]``

The commits (first parent, oldest first) are written one after the other into one work folder, changing
only the files each commit changed, as a developer's checkout changes; at each, the folder is scanned with
the incremental cache kept from the commit before and with ``--no-cache`` (no cache at all), and the two
results are compared signal by signal (job, source, target, transformation, guard and every piece of
evidence). A cached scan must give exactly what a fresh scan gives, on every change; the table says where it
did not and how long each took. Nothing of the repository is kept: the work folder and the cache live in a
temporary folder removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flowscope.contracts import CollectContext
from flowscope.model import Signal
from flowscope_hack_static.collector import HackStaticCollector, Settings
from flowscope_hack_static.scanner import EXTENSIONS


def git(git_dir: str, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", git_dir, *args], capture_output=True, check=True).stdout


def tree(git_dir: str, commit: str, paths: list[str]) -> dict[str, str]:
    """path -> blob id of the source files at ``commit`` (under ``paths``)."""
    out = {}
    for line in git(git_dir, "ls-tree", "-r", commit, "--", *paths).decode().splitlines():
        meta, _, path = line.partition("\t")
        mode, kind, blob = meta.split()
        if kind == "blob" and mode != "120000" and os.path.splitext(path)[1].lower() in EXTENSIONS:
            out[path] = blob
    return out


def checkout(git_dir: str, work: Path, old: dict[str, str], new: dict[str, str]) -> int:
    """Make ``work`` hold ``new`` (it holds ``old``): write changed and added files, delete removed ones."""
    changed = 0
    for path in old.keys() - new.keys():
        (work / path).unlink(missing_ok=True)
        changed += 1
    for path, blob in new.items():
        if old.get(path) != blob:
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_bytes(git(git_dir, "cat-file", "blob", blob))
            changed += 1
    return changed


def scan(work: Path, cache_dir: Path | None, workers: int) -> tuple[list[str], float, HackStaticCollector]:
    settings = Settings(
        paths=["."],
        cache=cache_dir is not None,
        cache_dir=str(cache_dir) if cache_dir else None,
        workers=workers,
    )
    ctx = CollectContext(collector="hack_static", settings=settings, base_dir=work)
    collector = HackStaticCollector()
    start = time.perf_counter()
    signals = [o for o in collector.collect(ctx) if isinstance(o, Signal)]
    seconds = time.perf_counter() - start
    return sorted(map(_key, signals)), seconds, collector


def _key(s: Signal) -> str:
    return repr((s.job.name, s.source, s.target, s.transformation, s.guard, s.match, s.evidence))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--git-dir", required=True, help="a repository's git folder (a bare mirror is fine)")
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--rev", default="HEAD")
    parser.add_argument("--paths", nargs="*", default=[], help="only these folders of the repository")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    commits = git(args.git_dir, "rev-list", "--first-parent", "-n", str(args.commits + 1), args.rev).split()
    commits = [c.decode() for c in reversed(commits)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="flowscope-replay-") as tmp:
        work, cache_dir = Path(tmp) / "work", Path(tmp) / "cache"
        work.mkdir()
        files: dict[str, str] = {}
        for i, commit in enumerate(commits):
            new = tree(args.git_dir, commit, args.paths)
            changed = checkout(args.git_dir, work, files, new)
            files = new
            cached, cached_s, collector = scan(work, cache_dir, args.workers)
            if i == 0:  # the first commit only warms the cache
                continue
            fresh, fresh_s, _ = scan(work, None, args.workers)
            rows.append(
                {
                    "commit": commit[:10],
                    "changed": changed,
                    "files": len(files),
                    "cached": len(cached),
                    "fresh": len(fresh),
                    "identical": cached == fresh,
                    "only_cached": len(set(cached) - set(fresh)),
                    "only_fresh": len(set(fresh) - set(cached)),
                    "cached_s": round(cached_s, 3),
                    "fresh_s": round(fresh_s, 3),
                    "hits": collector.stats.cache_hits,
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(
            f"{'commit':10} {'changed':>7} {'files':>6} {'cached':>7} {'fresh':>6} {'same':>5} {'cached s':>9} {'fresh s':>8}"
        )
        for r in rows:
            print(
                f"{r['commit']:10} {r['changed']:>7} {r['files']:>6} {r['cached']:>7} {r['fresh']:>6} "
                f"{'yes' if r['identical'] else 'NO':>5} {r['cached_s']:>9.3f} {r['fresh_s']:>8.3f}"
            )
        bad = [r for r in rows if not r["identical"]]
        print(f"{len(rows)} commits replayed, {len(bad)} where the cached scan differed from a fresh one")
    return 1 if any(not r["identical"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
