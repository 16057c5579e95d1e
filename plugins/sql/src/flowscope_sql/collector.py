"""SQL files -> signals: one QUERY job per statement, one ``sql`` signal per column flow."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from pathlib import Path

from flowscope import naming
from flowscope.contracts import CollectContext
from flowscope.model import Asset, Job, Observation, SourceLocation
from flowscope_sql.access import AccessContextMatcher, read_access_log
from flowscope_sql.analyze import Analyzer, Statement
from flowscope_sql.globs import expand
from flowscope_sql.logs import ShapeTable, collect
from flowscope_sql.observe import statement_observations
from flowscope_sql.personal import hasher, id_key
from flowscope_sql.settings import NAME, Catalog, Settings, Source
from flowscope_sql.storeschemas import load_store_schemas, store_dir
from flowscope_sql.temptables import through_temp_tables


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
        read = {r for st in statements for r in st.reads}

        def is_temp(key: tuple[str, ...]) -> bool:
            """Temporary and read again by the script: a staging step to trace through. One nobody reads
            again stays an output (what the script leaves behind, even if only for its session)."""
            dotted = ".".join(key)
            return key in read and (
                key in analyzer.temporary
                or any(fnmatch.fnmatch(dotted, p) or fnmatch.fnmatch(key[-1], p) for p in patterns)
            )

        statements = through_temp_tables(statements, is_temp)
    for st in statements:
        name = job_name(job_base, st.index, total)
        job = Job(
            source.job_namespace or naming.job_namespace("sql"),
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
    """Relative to the config's folder when inside it, else the path as given (a log in /var/log/trino)."""
    return path.relative_to(ctx.base_dir).as_posix() if path.is_relative_to(ctx.base_dir) else path.as_posix()


def _paths(ctx: CollectContext, patterns: list[str], what: str) -> Iterator[tuple[str, Path]]:
    """``(relpath, path)`` of every file the globs match, each once, in order; a glob matching nothing is a
    problem. Absolute globs and globs reaching outside the config's folder work too."""
    seen: set[Path] = set()
    for pattern in patterns:
        try:
            matches = expand(ctx.base_dir, pattern)
        except (OSError, ValueError) as exc:
            ctx.problem(f"bad {what} glob {pattern!r}: {exc}")
            continue
        if not matches:
            ctx.problem(f"no {what} matches {pattern!r}")
        for path in matches:
            if path in seen or not path.is_file():
                continue
            seen.add(path)
            ctx.note_input(path)
            yield _relpath(ctx, path), path


def _inputs(ctx: CollectContext, patterns: list[str], what: str) -> Iterator[tuple[str, str]]:
    """``(relpath, text)`` of every file the globs match; an unreadable or undecodable file is a problem
    and the other files still come."""
    for relpath, path in _paths(ctx, patterns, what):
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
        yield from self._logs(ctx, settings, catalog)
        yield from self._access(ctx, settings)

    def _access(self, ctx: CollectContext, settings: Settings) -> Iterator[Observation]:
        """Access logs: every file's reads and writes, connected together by the context matcher."""
        reads: list[dict[str, object]] = []
        writes: list[dict[str, object]] = []
        for relpath, path in _paths(ctx, settings.access_logs, "access log"):
            source = settings.source_for(relpath)
            try:  # read as bytes: a line that is not UTF-8 is skipped alone (read_access_log)
                data = path.read_bytes()
            except OSError as exc:
                ctx.problem(f"cannot read: {exc.strerror or exc}", relpath)
                continue
            if b"\x00" in data[:8192]:
                ctx.problem("cannot read: binary file (NUL bytes), not an access log", relpath)
                continue
            log = read_access_log(data.splitlines(), relpath, _namer(source))
            for message, line in log.problems:
                ctx.problem(message, relpath, line)
            reads += log.reads
            writes += log.writes
            ctx.advance(len(log.reads) + len(log.writes))
        if writes:
            yield from AccessContextMatcher(settings.context_window_seconds).connect(reads, writes)

    def _logs(self, ctx: CollectContext, settings: Settings, catalog: Catalog) -> Iterator[Observation]:
        """Every query log, streamed line by line; shapes shared by the logs of one source are parsed once."""
        if not settings.logs:
            return
        key = (
            None
            if settings.keep_raw_log_ids
            else id_key(ctx.resolve(settings.store) if settings.store else None)
        )
        tables: dict[int, tuple[Source, ShapeTable]] = {}
        for file_no, (relpath, path) in enumerate(_paths(ctx, settings.logs, "query log")):
            source = settings.source_for(relpath)
            _, table = tables.setdefault(id(source), (source, ShapeTable(source.dialect, hasher(key))))
            before = table.entries
            try:
                with path.open("rb") as fh:
                    if b"\x00" in fh.peek(8192)[:8192]:
                        ctx.problem("cannot read: binary file (NUL bytes), not a query log", relpath)
                        continue
                    table.feed(fh, relpath, file_no)
            except OSError as exc:
                ctx.problem(f"cannot read: {exc.strerror or exc}", relpath)
            ctx.advance(table.entries - before)
        for source, table in tables.values():
            analyzer = Analyzer(
                source, catalog, max_chars=settings.max_statement_chars, timeout=settings.timeout_seconds
            )
            result = collect(table, source, analyzer)
            for file, message, line in result.file_problems:
                ctx.problem(message, file, line)
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
