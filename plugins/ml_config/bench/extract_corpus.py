"""Copy the real configs named in corpus/manifest.yaml out of local git mirrors into a cache.

The files belong to their repositories and are never committed here: the manifest records (repo, commit,
path); this script reads each blob from a mirror with ``git show COMMIT:PATH`` and writes it under
``CACHE/<group>/<path>``. A mirror is a git clone (or bare repository) found as
``MIRRORS/<owner>+<name>/repo`` (or ``.../repo/.git``), the layout the search tool's ``fetch`` uses.

    python bench/extract_corpus.py --mirrors DIR [--cache DIR]

``--mirrors`` defaults to $FLOWSCOPE_MIRRORS, ``--cache`` to $FLOWSCOPE_ML_CORPUS or
~/.cache/flowscope/ml-corpus. Missing repositories or commits are listed, not fatal.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).parent
MANIFEST = HERE / "corpus" / "manifest.yaml"


def default_cache() -> Path:
    env = os.environ.get("FLOWSCOPE_ML_CORPUS")
    return Path(env) if env else Path.home() / ".cache" / "flowscope" / "ml-corpus"


def git_dir(mirrors: Path, repo: str) -> Path | None:
    base = mirrors / repo.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if candidate.is_dir() and (candidate / "HEAD").exists():
            return candidate
    return None


def tree(gdir: Path, commit: str) -> list[str]:
    out = subprocess.run(
        ["git", "--git-dir", str(gdir), "ls-tree", "-r", "--name-only", commit],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.splitlines()


def matches(pattern: str, path: str) -> bool:
    """fnmatch per path part, so ``configs/*.yaml`` does not reach into sub-folders."""
    want, have = pattern.split("/"), path.split("/")
    return len(want) == len(have) and all(fnmatch.fnmatchcase(h, w) for w, h in zip(want, have, strict=True))


def expand(group: dict, paths: list[str]) -> list[str]:
    out: list[str] = []
    for pattern in group["files"]:
        hits = [p for p in paths if matches(pattern, p)] if any(c in pattern for c in "*?[") else [pattern]
        out += [h for h in sorted(hits) if h not in out]
    return out


def extract(mirrors: Path, cache: Path, only: str | None = None) -> int:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    missing = 0
    for group in manifest["groups"]:
        if only and only not in group["name"]:
            continue
        gdir = git_dir(mirrors, group["repo"])
        if gdir is None:
            print(f"missing mirror: {group['repo']} (group {group['name']})", file=sys.stderr)
            missing += 1
            continue
        try:
            files = expand(group, tree(gdir, group["commit"]))
        except subprocess.CalledProcessError:
            print(f"missing commit {group['commit']} in {group['repo']}", file=sys.stderr)
            missing += 1
            continue
        dest = cache / group["name"]
        for path in files:
            blob = subprocess.run(
                ["git", "--git-dir", str(gdir), "show", f"{group['commit']}:{path}"], capture_output=True
            )
            if blob.returncode != 0:
                print(f"missing file {group['repo']}:{path}", file=sys.stderr)
                missing += 1
                continue
            target = dest / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)
        print(f"{group['name']}: {len(files)} files")
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, default=os.environ.get("FLOWSCOPE_MIRRORS"))
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--only", help="groups whose name contains this")
    args = parser.parse_args()
    if args.mirrors is None:
        parser.error("--mirrors (or $FLOWSCOPE_MIRRORS) is required")
    sys.exit(1 if extract(args.mirrors, args.cache, args.only) else 0)


if __name__ == "__main__":
    main()
