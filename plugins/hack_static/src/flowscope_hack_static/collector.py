"""The ``hack_static`` collector: walk code, lower each file, analyze it, and turn flows into signals."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from flowscope.contracts import CollectContext
from flowscope.model import Asset, AssetInfo, Job, Observation, Signal, SourceLocation, Transformation
from flowscope_hack_static import scanner
from flowscope_hack_static.frontends import Lowered, lower_star
from flowscope_hack_static.ir import FileIR
from flowscope_hack_static.packs import LANGUAGES, Models, load_models
from flowscope_hack_static.summaries import analyze_all
from flowscope_hack_static.taint import Flow

PARALLEL_MIN_FILES = 64  # below this a pool costs more than it saves


@dataclass
class Settings:
    """``plugins.hack_static`` in flowscope.yaml."""

    paths: list[str] = field(default_factory=lambda: ["."])
    models: list[str] = field(default_factory=list)  # extra model packs (YAML), checked before the built-ins
    builtin_models: bool = True
    jobs: dict[str, str] = field(default_factory=dict)  # folder prefix -> job namespace (service://www)
    job_namespace: str = "service://default"
    exclude: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=lambda: list(LANGUAGES))
    max_file_bytes: int = 2_000_000
    max_rounds: int = 4  # inter-procedural fixed point: rounds of summary propagation
    workers: int = 0  # processes lowering files; 0: one per core, 1: none

    def __post_init__(self) -> None:
        bad = [lang for lang in self.languages if lang not in LANGUAGES]
        if bad:
            raise ValueError(f"languages: unknown {bad[0]!r}; expected {', '.join(LANGUAGES)}")


@dataclass
class FileStats:
    path: str
    language: str
    lines: int
    flows: int = 0
    error_regions: int = 0
    prefiltered: bool = False


@dataclass
class Stats:
    files: list[FileStats] = field(default_factory=list)
    dead: int = 0
    seconds: float = 0.0

    def by_language(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for f in self.files:
            row = out.setdefault(f.language, {"files": 0, "lines": 0, "flows": 0, "error_regions": 0})
            row["files"] += 1
            row["lines"] += f.lines
            row["flows"] += f.flows
            row["error_regions"] += f.error_regions
        return out


class HackStaticCollector:
    name = "hack_static"
    config_section = "hack_static"
    config_class: type | None = Settings

    def __init__(self) -> None:
        self.stats = Stats()

    def collect(self, ctx: CollectContext) -> Iterator[Observation]:
        settings: Settings = ctx.settings if isinstance(ctx.settings, Settings) else Settings()
        models = load_models([ctx.resolve(m) for m in settings.models], builtins=settings.builtin_models)
        self.stats = Stats()
        start = time.perf_counter()
        unresolved: set[Asset] = set()
        lowered: list[tuple[FileIR, FileStats]] = []
        todo: list[tuple[str, bytes, str, bool, str]] = []
        pending: list[FileStats] = []

        def report(message: str, path: Path, line: int | None) -> None:
            ctx.problem(message, _rel(path, ctx.base_dir), line)

        for root in settings.paths:
            for path in scanner.walk(ctx.resolve(root), settings.exclude, report):
                src = scanner.read(path, settings.max_file_bytes, report)
                if src is None or src.language not in settings.languages:
                    continue
                rel = _rel(path, ctx.base_dir)
                stats = FileStats(rel, src.language, src.text.count("\n") + 1)
                self.stats.files.append(stats)
                ctx.advance(1)
                if not _prefilter(src.text, models):
                    stats.prefiltered = True
                    continue
                todo.append((src.language, src.data, src.text, src.utf8, rel))
                pending.append(stats)
        for stats, (ir, problem, line) in zip(pending, lower_all(todo, settings.workers), strict=True):
            if ir is None:
                ctx.problem(problem or "cannot analyze", stats.path, line)
                continue
            stats.error_regions = len(ir.error_regions)
            if ir.error_regions:
                lines = ", ".join(str(n) for n in ir.error_regions[:10])
                message = f"{len(ir.error_regions)} parse error region(s) skipped at lines {lines}"
                ctx.problem(message, stats.path, ir.error_regions[0])
            lowered.append((ir, stats))
        results = analyze_all([ir for ir, _ in lowered], models, settings.max_rounds)
        for (ir, stats), result in zip(lowered, results, strict=True):
            self.stats.dead += result.dead
            stats.flows = len(result.flows)
            namespace = _namespace(ir.path, settings)
            for flow in result.flows:
                if flow.unresolved:
                    unresolved.add(flow.target.dataset)
                yield to_signal(flow, namespace, ir.path)
        for asset in sorted(unresolved):
            yield AssetInfo(
                asset, tags=("unresolved",), description="name not a literal in code; see the evidence"
            )
        self.stats.seconds = time.perf_counter() - start


def lower_all(jobs: list[tuple[str, bytes, str, bool, str]], workers: int) -> list[Lowered]:
    """Lower files, on a process pool when there are enough of them to pay for it."""
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(jobs) < PARALLEL_MIN_FILES:
        return [lower_star(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lower_star, jobs, chunksize=max(1, len(jobs) // (workers * 4))))


def _prefilter(text: str, models: Models) -> bool:
    """The cheap textual check: parse only files that mention a source or a sink by name."""
    return any(word and word in text for word in models.prefilter_words())


def _namespace(rel: str, settings: Settings) -> str:
    best = ""
    for prefix in settings.jobs:
        if (rel == prefix or rel.startswith(prefix.rstrip("/") + "/")) and len(prefix) > len(best):
            best = prefix
    return settings.jobs[best] if best else settings.job_namespace


def _rel(path: Path, base: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(base)).as_posix()
    except ValueError:
        return path.as_posix()


def to_signal(flow: Flow, namespace: str, rel: str) -> Signal:
    job = Job(namespace, flow.function, job_type="FUNCTION", source=SourceLocation(rel))
    subtype = "TRANSFORMATION" if flow.transformed else "IDENTITY"
    transformation = Transformation(
        "DIRECT", subtype, masking=flow.masked, description="masked" if flow.masked else ""
    )
    guard = " && ".join(flow.guards) or None
    return Signal("static", job, flow.source, flow.target, transformation, flow.hops, guard=guard)
