"""The ``hack_static`` collector: walk code, lower each file, analyze it, and turn flows into signals."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from flowscope.contracts import CollectContext
from flowscope.errors import UserError
from flowscope.model import Asset, AssetInfo, Job, Observation, Signal, SourceLocation, Transformation
from flowscope_hack_static import scanner
from flowscope_hack_static.cache import Cache, analyzer_digest, default_dir, prune
from flowscope_hack_static.elements import CATEGORY, category_of
from flowscope_hack_static.packs import LANGUAGES, Models, load_models
from flowscope_hack_static.scan import FileJob, analyze_files
from flowscope_hack_static.taint import Flow


@dataclass
class Settings:
    """``plugins.hack_static`` in flowscope.yaml."""

    paths: list[str] = field(default_factory=lambda: ["."])
    models: list[str] = field(default_factory=list)  # extra model packs (YAML), checked before the built-ins
    pysa: list[str] = field(default_factory=list)  # Pysa .pysa model files and taint.config to import
    builtin_models: bool = True
    jobs: dict[str, str] = field(default_factory=dict)  # folder prefix -> job namespace (service://www)
    job_namespace: str = "service://default"
    exclude: list[str] = field(default_factory=list)
    skip_tests: bool = True  # test folders/files (tests/, test_*.py, *_test.cc, *Test.php) are not scanned
    languages: list[str] = field(default_factory=lambda: list(LANGUAGES))
    max_file_bytes: int = 2_000_000
    max_rounds: int = 32  # inter-procedural fixed point: a bound on rounds (they stop when nothing changes)
    workers: int = 0  # processes lowering and first analyzing files; 0: one per core, 1: none
    cache: bool = True  # per-file cache of facts and summaries
    cache_dir: str | None = None  # default: $FLOWSCOPE_STORE/cache/static, else .flowscope/cache/static
    cache_max_mb: int = 512  # least recently used entries go beyond it (0: no limit)

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
    cache_hits: int = 0
    cache_misses: int = 0
    cache_evicted: int = 0
    unresolved_flows: int = 0  # flows into a sink whose name is not a literal (``unresolved:<expr>``)
    unresolved_sinks: int = 0

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
        model_paths = [ctx.resolve(m) for m in settings.models]
        pysa_paths = [ctx.resolve(p) for p in settings.pysa]
        models = load_models(model_paths, builtins=settings.builtin_models, pysa=pysa_paths)
        for message in models.problems:
            file, line = _split_where(message)
            ctx.problem(message.split(": ", 1)[1] if file else message, file, line)
        self.stats = Stats()
        start = time.perf_counter()
        unresolved: set[Asset] = set()
        categories: dict[Asset, set[str]] = {}
        jobs: list[FileJob] = []
        pending: list[FileStats] = []

        def report(message: str, path: Path, line: int | None) -> None:
            ctx.problem(message, _rel(path, ctx.base_dir), line)

        for root in settings.paths:
            ctx.note_input(ctx.resolve(root))
            for path in scanner.walk(ctx.resolve(root), settings.exclude, report, settings.skip_tests):
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
                jobs.append(FileJob(src.language, src.data, src.text, src.utf8, rel))
                pending.append(stats)
        cache = self.open_cache(settings, ctx, models)
        outcomes = analyze_files(
            jobs,
            models,
            workers=settings.workers,
            max_rounds=settings.max_rounds,
            cache=cache,
        )
        if cache is not None:
            cache.report()
            self.stats.cache_hits, self.stats.cache_misses = cache.hits, cache.misses
            if cache.written and settings.cache_max_mb > 0:
                keep = cache.started - 1.0  # mtime granularity: what this scan used is never evicted
                self.stats.cache_evicted = prune(cache.root, settings.cache_max_mb << 20, keep)
        for stats, out in zip(pending, outcomes, strict=True):
            if out.problem is not None:
                ctx.problem(out.problem[0], stats.path, out.problem[1])
                continue
            stats.error_regions = len(out.error_regions)
            if out.error_regions:
                lines = ", ".join(str(n) for n in out.error_regions[:10])
                message = f"{len(out.error_regions)} parse error region(s) skipped at lines {lines}"
                ctx.problem(message, stats.path, out.error_regions[0])
            self.stats.dead += out.dead
            stats.flows = len(out.flows)
            namespace = _namespace(stats.path, settings)
            for flow in out.flows:
                if flow.unresolved:
                    unresolved.add(flow.target.dataset)
                    self.stats.unresolved_flows += 1
                category = category_of(flow.hops)
                if category:
                    for end in (flow.source, flow.target):
                        if end.field is not None:
                            categories.setdefault(end, set()).add(category)
                yield to_signal(flow, namespace, stats.path)
        for asset in sorted(unresolved):
            yield AssetInfo(
                asset, tags=("unresolved",), description="name not a literal in code; see the evidence"
            )
        self.stats.unresolved_sinks = len(unresolved)
        for end, cats in sorted(categories.items()):  # fields tagged as the zones expect them
            yield AssetInfo(end, tags=tuple(f"{CATEGORY}:{c}" for c in sorted(cats)))
        self.stats.seconds = time.perf_counter() - start

    def open_cache(self, settings: Settings, ctx: CollectContext, models: Models) -> Cache | None:
        if not settings.cache:
            return None
        root = ctx.resolve(settings.cache_dir) if settings.cache_dir else default_dir()
        salt = f"{analyzer_digest()}:{models.digest()}:{settings.max_rounds}"
        # one consolidated entry per scan configuration (not per folder: diff mode scans temporary ones);
        # it serves only a scan whose every file key matches, so two trees sharing it stay correct
        tree = f"{settings.paths}\0{settings.languages}\0{settings.exclude}\0{settings.skip_tests}"
        try:
            return Cache(root, salt, lambda message: ctx.problem(message), tree)
        except UserError as e:  # no usable store secret: nothing can be signed, so nothing is cached
            ctx.problem(f"cache off: {e}")
            return None


# Files that declare ORM tables name no source or sink, but the names of the tables are read from them.
_DECLARES_TABLES = (
    *("__tablename__", "db_table", "models.Model", "Table(", "::tableName", "Meta", "BaseModel"),
    *("db.Model", "Model)", "AbstractUser", "AbstractBaseUser"),  # Flask-SQLAlchemy, Peewee, Django users
)


def _prefilter(text: str, models: Models) -> bool:
    """The cheap textual check: parse only files that mention a source or a sink by name, or declare tables."""
    return any(word in text for word in models.prefilter_words()) or any(w in text for w in _DECLARES_TABLES)


_TRANSFORMATIONS = {
    (transformed, masked): Transformation(
        "DIRECT",
        "TRANSFORMATION" if transformed else "IDENTITY",
        masking=masked,
        description="masked" if masked else "",
    )
    for transformed in (False, True)
    for masked in (False, True)
}


@lru_cache(maxsize=65536)
def _job(namespace: str, function: str, rel: str) -> Job:
    """One Job per function: a file's flows share it (jobs are immutable)."""
    return Job(namespace, function, job_type="FUNCTION", source=SourceLocation(rel))


def _split_where(message: str) -> tuple[str | None, int | None]:
    """``path:12: text`` -> (path, 12)."""
    head = message.split(": ", 1)[0]
    path, _, line = head.rpartition(":")
    if path and line.isdigit():
        return path, int(line)
    return (head, None) if ": " in message else (None, None)


def _namespace(rel: str, settings: Settings) -> str:
    best = ""
    for prefix in settings.jobs:
        if (rel == prefix or rel.startswith(prefix.rstrip("/") + "/")) and len(prefix) > len(best):
            best = prefix
    return settings.jobs[best] if best else settings.job_namespace


def _rel(path: Path, base: Path) -> str:
    full, top = os.path.abspath(path), os.path.abspath(base)
    if full.startswith(top + os.sep):
        return full[len(top) + 1 :].replace(os.sep, "/")
    if full == top:
        return "."
    return path.as_posix()


def to_signal(flow: Flow, namespace: str, rel: str) -> Signal:
    job = _job(namespace, flow.function, rel)
    transformation = _TRANSFORMATIONS[(flow.transformed, flow.masked)]
    guard = " && ".join(flow.guards) or None
    return Signal(
        "static", job, flow.source, flow.target, transformation, flow.hops, guard=guard, match=strength(flow)
    )


def strength(flow: Flow) -> str:
    """The evidence core's scoring turns into a confidence: a direct, unconditional flow into a named sink
    ranks above one through a transformation, an unknown call or a guard, that above one through two or
    more calls nothing models (the data may not survive them), and all above an unresolved sink."""
    if flow.unresolved or "unresolved:" in flow.target.name:
        return "UNRESOLVED"
    if flow.opaque >= 2:
        return "OPAQUE"
    if flow.transformed or flow.guards or flow.masked or flow.opaque:
        return "INDIRECT"
    return "DIRECT"
