"""Flows added and removed between two git commits: ``flowscope static diff BASE HEAD [PATH]`` (for CI).

Each commit's tree under PATH is read with ``git archive`` into its own temporary folder and scanned like
``flowscope static scan``; both trees sit at the same relative paths, so the per-file cache serves every
file the two commits share and only changed files are analyzed twice. A flow is (job, source, target):
no line numbers, so moving code is not a change. Masking is part of what is compared, since a flow that
loses its hash is a new exposure.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from flowscope.errors import UserError
from flowscope.model import Edge
from flowscope.pipeline import collect_alone
from flowscope_hack_static.collector import HackStaticCollector, Settings

FlowKey = tuple[str, str, str, bool]  # job, source, target, masked


@dataclass
class FlowDiff:
    base: str
    head: str
    added: list[Edge] = field(default_factory=list)
    removed: list[Edge] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def failing(self, sinks: list[str]) -> list[Edge]:
        """Added flows whose target matches one of ``sinks`` (shell patterns over the asset id); all when empty."""
        if not sinks:
            return self.added
        return [e for e in self.added if any(fnmatchcase(_target(e), p) for p in sinks)]


def _target(e: Edge) -> str:
    return str(e.target) if e.target is not None else ""


def flow_key(e: Edge) -> FlowKey:
    return (f"{e.job.namespace}/{e.job.name}", str(e.source), _target(e), e.masked)


def _git(repo: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, check=False)
    except FileNotFoundError:
        raise UserError("git is not installed; static diff reads commits with git") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UserError(f"git {' '.join(args[:2])}: {message[-1] if message else 'failed'}")
    return done.stdout


def repo_root(cwd: Path) -> Path:
    """The top folder of the repository holding ``cwd``."""
    try:
        return Path(_git(cwd, "rev-parse", "--show-toplevel").decode().strip())
    except UserError:
        raise UserError(f"{cwd}: not inside a git repository (static diff compares two commits)") from None


def export(repo: Path, commit: str, path: str, into: Path) -> None:
    """The files of ``commit`` under ``path`` (repository-relative), written below ``into``."""
    try:
        sha = _git(repo, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").decode().strip()
    except UserError:
        raise UserError(f"{commit}: not a commit in {repo}") from None
    spec = path.rstrip("/") or "."
    listed = _git(repo, "ls-tree", "-r", "--name-only", sha, "--", spec)
    if not listed.strip():
        into.mkdir(parents=True, exist_ok=True)
        return
    with tempfile.TemporaryFile() as tar:
        subprocess.run(["git", "archive", "--format=tar", sha, "--", spec], cwd=repo, stdout=tar, check=True)
        tar.seek(0)
        with tarfile.open(fileobj=tar) as archive:
            archive.extractall(into, filter="data")


def diff(
    repo: Path,
    base: str,
    head: str,
    path: str,
    settings: Callable[[], Settings],
) -> FlowDiff:
    out = FlowDiff(base, head)
    edges: list[dict[FlowKey, Edge]] = []
    with tempfile.TemporaryDirectory(prefix="flowscope-diff-") as tmp:
        for side, commit in (("base", base), ("head", head)):
            root = Path(tmp) / side
            export(repo, commit, path, root)
            target = root / path if path else root
            chosen = settings()
            if target.is_file():  # one file: scanned from its folder, so evidence names it
                chosen.paths, target = [target.name], target.parent
            run = collect_alone(HackStaticCollector(), chosen, target)
            edges.append({flow_key(e): e for e in run.edges})
            out.problems += [f"{commit}: {p}" for p in run.problems]
    old, new = edges
    out.added = [new[k] for k in sorted(set(new) - set(old))]
    out.removed = [old[k] for k in sorted(set(old) - set(new))]
    return out
