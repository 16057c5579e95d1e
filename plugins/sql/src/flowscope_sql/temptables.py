"""End-to-end lineage through a script's temporary tables (``through_temp_tables: true``).

Per statement, a script that stages data in ``CREATE TEMPORARY TABLE tmp AS ...`` and then writes
``INSERT INTO final SELECT ... FROM tmp`` gives ``src -> tmp`` and ``tmp -> final``; ``tmp`` is gone when the
script ends, so those edges point at a table nobody can look up. With the option on, each flow out of a
temporary table is replaced by the flows into it, composed: DIRECT hops keep the strongest subtype
(IDENTITY < TRANSFORMATION < AGGREGATION) and masking if either hop masked; a hop that is INDIRECT on
either side is INDIRECT (with the downstream subtype when that hop is the indirect one). What shaped the
temporary table indirectly (its filters, joins, groupings) shapes the final table too. Statements that only
fill temporary tables then have no output of their own and are dropped; chains of temporary tables resolve
in script order. Temporary means ``CREATE TEMPORARY|TEMP TABLE|VIEW`` in the script, or a name matching
one of ``temp_tables`` (globs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from flowscope.model import Transformation
from flowscope_sql.analyze import Flow, Statement
from flowscope_sql.lineage import TableKey

_RANK = {"IDENTITY": 0, "TRANSFORMATION": 1, "AGGREGATION": 2}


def compose(first: Transformation, then: Transformation) -> Transformation:
    """``then`` applied after ``first``."""
    if first.type == "DIRECT" and then.type == "DIRECT":
        subtype = max(first.subtype, then.subtype, key=lambda s: _RANK.get(s, 1))
        return Transformation("DIRECT", subtype, first.masking or then.masking, first.description)
    subtype = then.subtype if then.type == "INDIRECT" else first.subtype
    return Transformation("INDIRECT", subtype)


def through_temp_tables(statements: list[Statement], is_temp: Callable[[TableKey], bool]) -> list[Statement]:
    """The statements with temporary tables traced through (see the module docstring)."""
    into: dict[tuple[TableKey, str], list[Flow]] = defaultdict(list)  # (temp, column) -> DIRECT flows into it
    shaped: dict[TableKey, set[Flow]] = defaultdict(set)  # temp -> INDIRECT flows into it
    reads_behind: dict[TableKey, set[TableKey]] = defaultdict(set)
    out: list[Statement] = []
    for st in statements:
        if st.error:
            out.append(st)
            continue
        flows: list[Flow] = []
        used: set[TableKey] = set()
        for f in st.flows:
            if not is_temp(f.source):
                flows.append(f)
                continue
            used.add(f.source)
            origins = into.get((f.source, f.source_column))
            if origins is None and f.source_column == "*":
                origins = [o for (t, _), found in into.items() if t == f.source for o in found]
            for o in origins or into.get((f.source, "*"), []):
                how = compose(o.transformation, f.transformation)
                column = f.target_column if how.type == "DIRECT" else None
                flows.append(Flow(o.source, o.source_column, f.target, column, how))
        targets: list[TableKey | None] = [*st.writes] or [None]
        for temp in used:
            for s in shaped[temp]:
                flows += [Flow(s.source, s.source_column, t, None, s.transformation) for t in targets]
        reads = {r for r in st.reads if not is_temp(r)}
        reads |= {r for t in st.reads if is_temp(t) for r in reads_behind[t]}
        for f in flows:
            if f.target is not None and is_temp(f.target):
                if f.transformation.type == "DIRECT" and f.target_column is not None:
                    into[(f.target, f.target_column)].append(f)
                else:
                    shaped[f.target].add(f)
        for w in st.writes:
            if is_temp(w):
                reads_behind[w] |= reads
        kept = [w for w in st.writes if not is_temp(w)]
        if st.writes and not kept:
            continue  # it only filled temporary tables
        final = [f for f in dict.fromkeys(flows) if f.target is None or not is_temp(f.target)]
        out.append(replace(st, flows=final, reads=reads, writes=kept))
    return out
