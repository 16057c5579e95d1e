"""SQL files -> signals: one QUERY job per statement, one ``sql`` signal per column flow."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from pathlib import Path

from flowscope.contracts import CollectContext
from flowscope.model import (
    Asset,
    AssetInfo,
    Evidence,
    Job,
    Observation,
    Signal,
    SourceLocation,
    Transformation,
)
from flowscope_sql.access import AccessContextMatcher, read_access_log
from flowscope_sql.analyze import Analyzer, Statement
from flowscope_sql.logs import read_log
from flowscope_sql.settings import NAME, Catalog, Settings, Source
from flowscope_sql.storeschemas import load_store_schemas, store_dir
from flowscope_sql.temptables import through_temp_tables

TABLE_LEVEL = Transformation("DIRECT", "TRANSFORMATION", description="table-level: no column referenced")


def decode(data: bytes) -> str:
    """The file as text; binary or non-UTF-8 bytes raise ValueError with a reason."""
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes), not SQL text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None


def job_name(base: str, index: int, total: int) -> str:
    return base if total == 1 else f"{base}#{index}"


def statement_observations(
    st: Statement, source: Source, job: Job, location: str, catalog: Catalog | None = None
) -> Iterator[Observation]:
    """The signals of one analysed statement (and what the catalog says about the tables it touches)."""
    snippet = st.text.strip().splitlines()[0][:200] if st.text.strip() else ""
    evidence = (
        Evidence(NAME, "sql", location, snippet, (("statement", str(st.index)), ("operation", st.operation))),
    )
    linked: set[tuple[tuple[str, ...], tuple[str, ...] | None]] = set()
    for f in st.flows:
        src = source.asset(f.source, f.source_column)
        tgt = source.asset(f.target, f.target_column) if f.target is not None else None
        linked.add((f.source, f.target))
        yield Signal("sql", job, src, tgt, f.transformation, evidence)
    targets: list[tuple[str, ...] | None] = [*st.writes] or [None]
    for target in targets:
        for table in sorted(st.reads):
            if (table, target) not in linked:
                tgt = source.asset(target) if target is not None else None
                yield Signal("sql", job, source.asset(table), tgt, TABLE_LEVEL, evidence)
    if catalog is not None:
        known = catalog.columns(source)
        for table in sorted({*st.reads, *st.writes}):
            if cols := known.get(table):
                types = dict(catalog.tables.get(table, []))
                yield AssetInfo(source.asset(table), tuple((c, types.get(c, "")) for c in cols))


def analyse_text(
    text: str, source: Source, settings: Settings, catalog: Catalog, relpath: str, job_base: str
) -> Iterator[tuple[Statement, Job]]:
    analyzer = Analyzer(
        source, catalog, max_chars=settings.max_statement_chars, timeout=settings.timeout_seconds
    )
    statements = analyzer.run(text)
    total = len(statements)
    if settings.through_temp_tables:
        patterns = settings.temp_tables

        def is_temp(key: tuple[str, ...]) -> bool:
            dotted = ".".join(key)
            return key in analyzer.temporary or any(
                fnmatch.fnmatch(dotted, p) or fnmatch.fnmatch(key[-1], p) for p in patterns
            )

        statements = through_temp_tables(statements, is_temp)
    for st in statements:
        name = job_name(job_base, st.index, total)
        job = Job(
            source.job_namespace or source.namespace,
            name,
            job_type="QUERY",
            sql=st.text,
            source=SourceLocation(path=relpath),
        )
        yield st, job


def _namer(source: Source) -> Callable[[str], Asset]:
    """``db.table`` as written in an access log -> the source's asset."""
    return lambda table: source.asset(tuple(table.split(".")))


def _relpath(ctx: CollectContext, path: Path) -> str:
    return path.relative_to(ctx.base_dir).as_posix() if path.is_relative_to(ctx.base_dir) else path.name


def _inputs(ctx: CollectContext, patterns: list[str], what: str) -> Iterator[tuple[str, str]]:
    """``(relpath, text)`` of every file the globs match, each once; a glob matching nothing and an
    unreadable or undecodable file are problems, and the other files still come."""
    seen: set[Path] = set()
    for pattern in patterns:
        matches = sorted(ctx.base_dir.glob(pattern))
        if not matches:
            ctx.problem(f"no {what} matches {pattern!r}")
        for path in matches:
            if path in seen or not path.is_file():
                continue
            seen.add(path)
            relpath = _relpath(ctx, path)
            try:
                yield relpath, decode(path.read_bytes())
            except (OSError, ValueError) as exc:
                ctx.problem(f"cannot read: {exc}", relpath)


class SqlCollector:
    name = NAME
    config_section = NAME
    config_class: type | None = Settings

    def collect(self, ctx: CollectContext) -> Iterator[Observation]:
        settings: Settings = ctx.settings
        catalog = Catalog()
        for entry in settings.catalog:
            catalog.load(ctx.resolve(entry))
        if settings.use_store_schemas:
            directory = store_dir(ctx.resolve(settings.store) if settings.store else None)
            try:
                added = load_store_schemas(catalog, directory, settings.sources)
                ctx.log.debug("%d table schemas from the store in %s", added, directory)
            except FileNotFoundError as exc:
                ctx.problem(f"use_store_schemas: {exc}")
        for relpath, text in _inputs(ctx, settings.files, "file"):
            yield from self._file(ctx, settings, catalog, relpath, text)
        for relpath, text in _inputs(ctx, settings.logs, "query log"):
            yield from self._log(ctx, settings, catalog, relpath, text)
        yield from self._access(ctx, settings)

    def _access(self, ctx: CollectContext, settings: Settings) -> Iterator[Observation]:
        """Access logs: every file's reads and writes, connected together by the context matcher."""
        reads: list[dict[str, object]] = []
        writes: list[dict[str, object]] = []
        for relpath, text in _inputs(ctx, settings.access_logs, "access log"):
            source = settings.source_for(relpath)
            log = read_access_log(text.splitlines(), relpath, _namer(source))
            for message, line in log.problems:
                ctx.problem(message, relpath, line)
            reads += log.reads
            writes += log.writes
            ctx.advance(len(log.reads) + len(log.writes))
        if writes:
            yield from AccessContextMatcher(settings.context_window_seconds).connect(reads, writes)

    def _log(
        self, ctx: CollectContext, settings: Settings, catalog: Catalog, relpath: str, text: str
    ) -> Iterator[Observation]:
        source = settings.source_for(relpath)
        analyzer = Analyzer(
            source, catalog, max_chars=settings.max_statement_chars, timeout=settings.timeout_seconds
        )
        result = read_log(iter(text.splitlines()), relpath, source, analyzer)
        for message, line in result.problems:
            ctx.problem(message, relpath, line)
        ctx.advance(result.entries)
        yield from result.signals

    def _file(
        self, ctx: CollectContext, settings: Settings, catalog: Catalog, relpath: str, text: str
    ) -> Iterator[Observation]:
        source = settings.source_for(relpath)
        base = settings.jobs.get(relpath, relpath)
        for st, job in analyse_text(text, source, settings, catalog, relpath, base):
            ctx.advance(1)
            if st.error:
                ctx.problem(st.error, relpath, st.line)
                continue
            yield from statement_observations(st, source, job, f"{relpath}:{st.line}", catalog)
