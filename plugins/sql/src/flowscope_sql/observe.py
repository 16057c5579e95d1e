"""Analysed statements -> observations: one ``sql`` signal per column flow, a table-level one per (read,
written) pair no column links, one per column filled with literal rows, and what the catalog knows."""

from __future__ import annotations

from collections.abc import Iterator

from flowscope.model import AssetInfo, Evidence, Job, Observation, Signal, Transformation
from flowscope_sql.analyze import Statement
from flowscope_sql.settings import NAME, RESULT, Catalog, Source, asset_of, values_asset

TABLE_LEVEL = Transformation("DIRECT", "TRANSFORMATION", description="table-level: no column referenced")
LITERAL_ROWS = Transformation("DIRECT", "IDENTITY", description="literal rows (INSERT ... VALUES)")


def statement_observations(
    st: Statement,
    source: Source,
    job: Job,
    location: str,
    catalog: Catalog | None = None,
    *,
    origin: str = "",
    kind: str = "sql",
    snippet: str | None = None,
) -> Iterator[Observation]:
    """The signals of one analysed statement (and what the catalog says about the tables it touches);
    ``origin`` is the file the statement came from (the source of INSERT ... VALUES rows)."""
    if snippet is None:
        snippet = st.text.strip().splitlines()[0][:200] if st.text.strip() else ""
    detail = (("statement", str(st.index)), ("operation", st.operation))
    evidence = (Evidence(NAME, kind, location, snippet, detail),)
    yield from flow_signals(st, source, job, evidence, origin or location.rsplit(":", 1)[0])
    if catalog is not None:
        known = catalog.columns(source)
        for table in sorted({*st.reads, *st.writes} - {RESULT}):
            if cols := known.get(table):
                types = dict(catalog.tables.get(table, []))
                yield AssetInfo(source.asset(table), tuple((c, types.get(c, "")) for c in cols))


def flow_signals(
    st: Statement, source: Source, job: Job, evidence: tuple[Evidence, ...], origin: str, **counts: object
) -> Iterator[Signal]:
    """One signal per flow, a table-level one per (read, written) pair no column links, and one per
    column filled with literal rows (from ``origin``, the statement's own file)."""
    linked: set[tuple[tuple[str, ...], tuple[str, ...] | None]] = set()
    for f in st.flows:
        src = asset_of(source, f.source, f.source_column or None, job)
        tgt = asset_of(source, f.target, f.target_column, job) if f.target is not None else None
        linked.add((f.source, f.target))
        yield Signal("sql", job, src, tgt, f.transformation, evidence, **counts)  # type: ignore[arg-type]
    targets: list[tuple[str, ...] | None] = [*st.writes] or [None]
    for target in targets:
        for table in sorted(st.reads):
            if (table, target) not in linked:
                tgt = asset_of(source, target, None, job) if target is not None else None
                yield Signal("sql", job, source.asset(table), tgt, TABLE_LEVEL, evidence, **counts)  # type: ignore[arg-type]
    for table, columns in st.values_into.items():
        targets_of: list[str | None] = [*columns] or [None]  # no column list: the table as a whole
        for column in targets_of:
            yield Signal(
                "sql",
                job,
                values_asset(origin),
                source.asset(table, column),
                LITERAL_ROWS,
                evidence,
                **counts,  # type: ignore[arg-type]
            )
