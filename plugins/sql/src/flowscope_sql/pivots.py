"""PIVOT and UNPIVOT: which table columns each column of a pivoted table comes from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from flowscope_sql.lineage import Direct, Indirect, TableKey


def pivot_alias(source: object) -> str | None:
    if not isinstance(source, exp.Table):
        return None
    pivot = next(iter(source.args.get("pivots") or []), None)
    return pivot.alias if isinstance(pivot, exp.Pivot) and pivot.alias else None


def pivoted(table: TableKey, pivot: exp.Pivot, name: str) -> tuple[list[Direct], set[Indirect]]:
    """A column of ``table PIVOT (...)`` or ``UNPIVOT (...)``.

    PIVOT: a pivoted column (``jan``) is the aggregate of the aggregated columns, and the FOR column decides
    which rows land in it (CONDITIONAL); UNPIVOT: the value column is a copy of each listed column, the name
    column holds column names (no data of the table). Any other column passes through."""
    from flowscope_sql.lineage import Direct, Indirect

    fields = [f for f in pivot.args.get("fields") or [] if isinstance(f, exp.In)]
    if pivot.args.get("unpivot"):
        values = [e.name for e in pivot.expressions]
        if name in values:
            listed = [c for f in fields for e in f.expressions for c in e.find_all(exp.Column)]
            return [Direct(table, c.name) for c in listed], set()
        if name in [f.this.name for f in fields]:
            return [], set()
        return [Direct(table, name)], set()
    pivoted = {c.name for c in pivot.args.get("columns") or []}
    pivoted |= {a.alias for f in fields for a in f.expressions if isinstance(a, exp.PivotAlias) and a.alias}
    if name not in pivoted:
        return [Direct(table, name)], set()
    direct = [
        Direct(table, c.name, "AGGREGATION") for agg in pivot.expressions for c in agg.find_all(exp.Column)
    ]
    keys = {Indirect(table, c.name, "CONDITIONAL") for f in fields for c in f.this.find_all(exp.Column)}
    return direct, keys
