"""One person's package: their rows rendered, near-duplicates collapsed, as HTML, JSON, CSV and a manifest
in one ZIP.

The bytes depend only on the request, the catalog and the rows, never on the engine, the clock, the row
order an engine returned, or the machine's time zone: rows are sorted on their canonical values, ZIP
entries carry a fixed date and fixed permissions, JSON keys are sorted. So a resumed run rewrites a
package identically, and DuckDB and Spark packages are the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any

from flowscope_datalogs import kinds
from flowscope_datalogs.catalog import REASON_TEXT, Column
from flowscope_datalogs.cells import CSV, JSON, OK, TEXT, Cell, ColumnRenderer, csv_line, csv_quote
from flowscope_datalogs.datacheck import TablePlan
from flowscope_datalogs.page import Layout, Section, layout, render_page
from flowscope_datalogs.split import Row
from flowscope_datalogs.state import Request
from flowscope_datalogs.zipwrite import zip_entries

FORMAT = "flowscope-datalogs/1"
_PER_SECOND = {"us": 1e6, "ms": 1e3, "s": 1.0, "min": 1 / 60, "h": 1 / 3600}
_OK = itemgetter(OK)
_TEXT = itemgetter(TEXT)


@dataclass(frozen=True)
class TableStatic:
    """The parts of a table's files that are the same in every package of a batch, encoded once."""

    slots: list[int]  # the row object's members in sorted key order: column index, or -1 for the count
    json_head: str  # the table's JSON up to its rows
    json_tail: str  # and after them
    csv_header: str
    page: Layout
    collapse: bool


def table_static(plan: TablePlan) -> TableStatic:
    table = plan.table
    cols = table.exported
    collapse = table.near_duplicates is not None
    # A row's JSON object, keys sorted as json.dumps(sort_keys=True) sorts them; -1 is the count, which
    # (as a dict key would) replaces a column of the same name.
    names = {c.name: i for i, c in enumerate(cols)}
    if collapse:
        names["times_logged"] = -1
    doc = {
        "table": table.name,
        "title": table.title,
        "description": table.description,
        "columns": [{"name": c.name, "title": c.title, "description": c.description} for c in cols],
    }
    withheld = [
        (c.name, REASON_TEXT[c.withheld or "other"] + (f" ({c.note})" if c.note else ""))
        for c in table.withheld
    ]
    return TableStatic(
        slots=[names[k] for k in sorted(names)],
        json_head="{\n" + "".join(_line(k, doc[k]) + ",\n" for k in sorted(doc) if k < "rows"),
        json_tail="".join(",\n" + _line(k, doc[k]) for k in sorted(doc) if k > "rows") + "\n}\n",
        csv_header=csv_line([csv_quote(c.title) for c in cols] + (["Times"] if collapse else [])),
        page=layout(
            table.name,
            table.title,
            table.description,
            [(c.title, c.description) for c in cols],
            table.near_duplicates.within_seconds if table.near_duplicates else None,
            withheld,
        ),
        collapse=collapse,
    )


@dataclass
class RenderedTable:
    plan: TablePlan
    static: TableStatic
    rows: list[Sequence[Cell]]
    counts: list[int]
    unrendered: dict[str, int] = field(default_factory=dict)

    @property
    def logged(self) -> int:
        return sum(self.counts)


class TableRenderer:
    """Renders one table's rows for one person, column by column; its column renderers remember the
    cells they made in this batch."""

    def __init__(self, plan: TablePlan, renderers: Mapping[str, Any]) -> None:
        self.plan = plan
        cols = plan.columns
        self.exported: list[Column] = plan.table.exported
        self.index = [cols.index(c.name) for c in self.exported]
        self.columns = [
            ColumnRenderer(
                c, plan.kinds[c.name], renderers[c.renderer or kinds.default_renderer(plan.kinds[c.name])]
            )
            for c in self.exported
        ]
        near = plan.table.near_duplicates
        self.time_pos = next((i for i, c in enumerate(self.exported) if near and c.name == near.time), None)
        self.compare = [
            i
            for i, c in enumerate(self.exported)
            if not near or (c.name != near.time and c.name not in near.ignore)
        ]
        self.time_scale = 1.0  # time column units per second: micros for timestamps, else its unit
        if self.time_pos is not None:
            col = self.exported[self.time_pos]
            unit = str(col.options.get("unit", "s"))
            self.time_scale = 1e6 if plan.kinds[col.name] == "timestamp" else _PER_SECOND.get(unit, 1.0)
        # Rows sort on every intermediate column, the near-duplicate time first.
        if near is not None and self.time_pos is not None:
            t = self.index[self.time_pos]
            self.order = [t] + [i for i in range(len(cols)) if i != t]
        else:
            self.order = list(range(len(cols)))
        col_kinds = [plan.kinds.get(c, "string") for c in cols]
        self.plain_sort = not any(k.startswith("list:") for k in col_kinds)
        self.float_pos = [i for i, k in enumerate(col_kinds) if k == "float"]
        self.order_key = itemgetter(*self.order)
        self.static = table_static(plan)

    @property
    def errors(self) -> dict[str, str]:
        """The first failure message per column, for the run report."""
        return {c.column.name: c.error for c in self.columns if c.error}

    def _sorted(self, rows: Sequence[Row]) -> list[Row]:
        """Rows in :func:`kinds.sort_key` order. Comparing the values themselves gives the same order
        whenever it works: a None beside a value raises TypeError (then the full key decides), NaN and
        lists are the only values it would order differently, so those take the full key up front."""
        nan = any(r[i] != r[i] for i in self.float_pos for r in rows)
        if len(rows) > 1 and self.plain_sort and not nan:
            try:
                return sorted(rows, key=self.order_key)
            except TypeError:
                pass
        order = self.order
        return sorted(rows, key=lambda r: tuple(kinds.sort_key(r[i]) for i in order))

    def render(self, rows: Sequence[Row], zone: str) -> RenderedTable:
        ordered = self._sorted(rows)
        n = len(ordered)
        columns = [
            col.cells([r[pos] for r in ordered], zone)
            for col, pos in zip(self.columns, self.index, strict=True)
        ]
        unrendered = {}
        for col, cells in zip(self.columns, columns, strict=True):
            bad = n - sum(map(_OK, cells))
            if bad:
                unrendered[col.column.name] = bad
        cell_rows: list[Sequence[Cell]] = list(zip(*columns, strict=True)) if columns else [()] * n
        near = self.plan.table.near_duplicates
        if near is None or self.time_pos is None:
            return RenderedTable(self.plan, self.static, cell_rows, [1] * n, unrendered)
        # Near-duplicates: equal rendered values (but the time and ignored columns), logged within the
        # window of the first of them, are shown once with a count.
        keys = (
            zip(*[map(_TEXT, columns[i]) for i in self.compare], strict=True) if self.compare else repeat(())
        )
        t = self.index[self.time_pos]
        window = near.within_seconds * self.time_scale
        out = RenderedTable(self.plan, self.static, [], [], unrendered)
        open_groups: dict[tuple[str, ...], tuple[int, Any]] = {}
        for row_cells, key, row in zip(cell_rows, keys, ordered, strict=False):  # keys may repeat(())
            when = row[t]
            seen = open_groups.get(key)
            if seen is not None and _within(seen[1], when, window):
                out.counts[seen[0]] += 1
                continue
            open_groups[key] = (len(out.rows), when)
            out.rows.append(row_cells)
            out.counts.append(1)
        return out


def _within(first: Any, when: Any, window: float) -> bool:
    if first is None or when is None:
        return first is None and when is None
    return bool(abs(when - first) <= window)


def _line(key: str, value: Any) -> str:
    """One top-level member of :func:`dumps`: a non-empty list one item per line."""
    if isinstance(value, list) and value:
        items = ",\n    ".join(json.dumps(v, sort_keys=True, ensure_ascii=False) for v in value)
        return f"  {json.dumps(key)}: [\n    {items}\n  ]"
    return f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True, ensure_ascii=False)}"


def dumps(doc: Mapping[str, Any]) -> str:
    """Readable JSON: one top-level key, and one list item, per line. json's C encoder does each line;
    ``indent=`` would switch to its pure-Python encoder, several times slower per package."""
    return "{\n" + ",\n".join(_line(k, doc[k]) for k in sorted(doc)) + "\n}\n"


def _table_files(t: RenderedTable) -> tuple[bytes, bytes]:
    """The table's JSON and CSV: the batch's static parts around this person's rows."""
    st = t.static
    slots = st.slots
    records = [
        "{" + ", ".join([cells[j][JSON] if j >= 0 else f'"times_logged": {count}' for j in slots]) + "}"
        for cells, count in zip(t.rows, t.counts, strict=True)
    ]
    rows = '  "rows": [\n    ' + ",\n    ".join(records) + "\n  ]" if records else '  "rows": []'
    lines = [st.csv_header]
    if st.collapse:
        lines += [
            csv_line([c[CSV] for c in cells] + [str(count)])
            for cells, count in zip(t.rows, t.counts, strict=True)
        ]
    else:
        lines += [csv_line([c[CSV] for c in cells]) for cells in t.rows]
    return (st.json_head + rows + st.json_tail).encode("utf-8"), "".join(lines).encode("utf-8")


@dataclass(frozen=True)
class Held:
    """A table kept out of this batch's packages, and the sentence that tells the person why."""

    name: str
    title: str
    why: str


def build_package(
    request: Request,
    batch_id: str,
    zone: str,
    tables: Sequence[RenderedTable],
    held: Sequence[Held],
) -> tuple[bytes, dict[str, Any]]:
    """The ZIP's bytes and its manifest."""
    files: dict[str, bytes] = {}
    sections = []
    manifest_tables = []
    for t in tables:
        table = t.plan.table
        as_json, as_csv = _table_files(t)
        files[f"tables/{table.name}.json"] = as_json
        files[f"tables/{table.name}.csv"] = as_csv
        sections.append(Section(t.static.page, t.rows, t.counts, t.static.collapse))
        manifest_tables.append(
            {
                "name": table.name,
                "title": table.title,
                "rows": len(t.rows),
                "logged_rows": t.logged,
                "unrendered": t.unrendered,
            }
        )
    for h in held:
        sections.append(Section(layout(h.name, h.title, "", [], None, [], note=h.why)))
    total = sum(t.logged for t in tables)
    notes = []
    if total == 0:
        notes.append(
            "We found no rows about you in the tables this export covers. If you think that is wrong, reply to this message."
        )
    heading = [
        ("Request", request.request_id),
        ("Requested at", request.requested_at),
        ("Times shown in", zone),
    ]
    page = render_page(
        heading,
        "These are the rows about you that our analytics warehouse holds, in plain words.",
        sections,
        notes,
    )
    files["index.html"] = page.encode("utf-8")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "request_id": request.request_id,
        "user_id": request.user_id,
        "requested_at": request.requested_at,
        "batch": batch_id,
        "timezone": zone,
        "tables": manifest_tables,
        "held_back": [{"name": h.name, "why": h.why} for h in held],
        "notes": notes,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files["manifest.json"] = dumps(manifest).encode("utf-8")
    order = [
        "index.html",
        "manifest.json",
        *sorted(n for n in files if n not in ("index.html", "manifest.json")),
    ]
    return zip_entries([(name, files[name]) for name in order]), manifest
