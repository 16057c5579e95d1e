"""One person's package: their rows rendered, near-duplicates collapsed, as HTML, JSON, CSV and a manifest
in one ZIP.

The bytes depend only on the request, the catalog and the rows, never on the engine, the clock, the row
order an engine returned, or the machine's time zone: rows are sorted on their canonical values, ZIP
entries carry a fixed date and fixed permissions, JSON keys are sorted. So a resumed run rewrites a
package identically, and DuckDB and Spark packages are the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowscope_datalogs import kinds
from flowscope_datalogs.catalog import REASON_TEXT, Column
from flowscope_datalogs.datacheck import TablePlan
from flowscope_datalogs.page import Section, render_page
from flowscope_datalogs.split import Row
from flowscope_datalogs.state import Request

FORMAT = "flowscope-datalogs/1"
RAW_MARK = " [shown as stored]"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_PER_SECOND = {"us": 1e6, "ms": 1e3, "s": 1.0, "min": 1 / 60, "h": 1 / 3600}


@dataclass
class RenderedTable:
    plan: TablePlan
    rows: list[list[tuple[str, bool]]]
    counts: list[int]
    unrendered: dict[str, int] = field(default_factory=dict)

    @property
    def logged(self) -> int:
        return sum(self.counts)


class TableRenderer:
    """Renders one table's rows for one person; remembers labels it already rendered in this batch."""

    def __init__(self, plan: TablePlan, renderers: Mapping[str, Any]) -> None:
        self.plan = plan
        cols = plan.columns
        self.exported: list[Column] = plan.table.exported
        self.index = [cols.index(c.name) for c in self.exported]
        self.kinds = [plan.kinds[c.name] for c in self.exported]
        self.renderers = [
            renderers[c.renderer or kinds.default_renderer(k)]
            for c, k in zip(self.exported, self.kinds, strict=True)
        ]
        self.errors: dict[str, str] = {}  # first failure message per column, for the run report
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
            self.time_scale = 1e6 if self.kinds[self.time_pos] == "timestamp" else _PER_SECOND.get(unit, 1.0)
        self._cache: dict[tuple[int, str, Any], tuple[str, bool]] = {}
        self._options: dict[tuple[int, str], dict[str, Any]] = {}

    def _cell(self, i: int, raw: Any, zone: str) -> tuple[str, bool]:
        hashable = not isinstance(raw, list)
        key = (i, zone, raw)
        if hashable and key in self._cache:
            return self._cache[key]
        value = kinds.to_python(self.kinds[i], raw)
        col = self.exported[i]
        options = self._options.get((i, zone))
        if options is None:
            options = self._options[(i, zone)] = {**col.options, "timezone": zone}
        try:
            out = (self.renderers[i].render(value, options), True)
        except Exception as exc:  # a renderer's failure shows the raw value; it never sinks the run
            self.errors.setdefault(col.name, f"{type(exc).__name__}: {exc}")
            out = (kinds.raw_text(value) + RAW_MARK, False)
        if hashable:
            if len(self._cache) > 200_000:
                self._cache.clear()
            self._cache[key] = out
        return out

    def render(self, rows: Sequence[Row], zone: str) -> RenderedTable:
        near = self.plan.table.near_duplicates
        if near is not None and self.time_pos is not None:
            t = self.index[self.time_pos]
            order = [t] + [i for i in range(len(self.plan.columns)) if i != t]
        else:
            order = list(range(len(self.plan.columns)))
        ordered = sorted(rows, key=lambda r: tuple(kinds.sort_key(r[i]) for i in order))
        out = RenderedTable(self.plan, [], [])
        open_groups: dict[tuple[str, ...], tuple[int, Any]] = {}
        for row in ordered:
            cells = [self._cell(i, row[pos], zone) for i, pos in enumerate(self.index)]
            for (_text, ok), col in zip(cells, self.exported, strict=True):
                if not ok:
                    out.unrendered[col.name] = out.unrendered.get(col.name, 0) + 1
            if near is not None and self.time_pos is not None:
                key = tuple(cells[i][0] for i in self.compare)
                when = row[self.index[self.time_pos]]
                seen = open_groups.get(key)
                if seen is not None and _within(seen[1], when, near.within_seconds * self.time_scale):
                    out.counts[seen[0]] += 1
                    continue
                open_groups[key] = (len(out.rows), when)
            out.rows.append(cells)
            out.counts.append(1)
        return out


def _within(first: Any, when: Any, window: float) -> bool:
    if first is None or when is None:
        return first is None and when is None
    return bool(abs(when - first) <= window)


def dumps(doc: Mapping[str, Any]) -> str:
    """Readable JSON: one top-level key, and one list item, per line. json's C encoder does each line;
    ``indent=`` would switch to its pure-Python encoder, several times slower per package."""
    lines = []
    for key in sorted(doc):
        value = doc[key]
        if isinstance(value, list) and value:
            items = ",\n    ".join(json.dumps(v, sort_keys=True, ensure_ascii=False) for v in value)
            lines.append(f"  {json.dumps(key)}: [\n    {items}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _csv_cell(text: str) -> str:
    # A spreadsheet runs cells starting with = + - @ as formulas (CSV injection): quote them as text.
    return "'" + text if text.startswith(_FORMULA) else text


def _table_files(t: RenderedTable) -> tuple[bytes, bytes]:
    cols = t.plan.table.exported
    collapse = t.plan.table.near_duplicates is not None
    records = []
    for cells, count in zip(t.rows, t.counts, strict=True):
        rec: dict[str, Any] = {c.name: text for c, (text, _) in zip(cols, cells, strict=True)}
        if collapse:
            rec["times_logged"] = count
        records.append(rec)
    doc = {
        "table": t.plan.table.name,
        "title": t.plan.table.title,
        "description": t.plan.table.description,
        "columns": [{"name": c.name, "title": c.title, "description": c.description} for c in cols],
        "rows": records,
    }
    as_json = dumps(doc).encode("utf-8")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.title for c in cols] + (["Times"] if collapse else []))
    for cells, count in zip(t.rows, t.counts, strict=True):
        w.writerow([_csv_cell(text) for text, _ in cells] + ([count] if collapse else []))
    return as_json, buf.getvalue().encode("utf-8")


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
        withheld = [
            (c.name, REASON_TEXT[c.withheld or "other"] + (f" ({c.note})" if c.note else ""))
            for c in table.withheld
        ]
        sections.append(
            Section(
                table.name,
                table.title,
                table.description,
                [(c.title, c.description) for c in table.exported],
                t.rows,
                t.counts,
                table.near_duplicates.within_seconds if table.near_duplicates else None,
                withheld,
            )
        )
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
        sections.append(Section(h.name, h.title, "", [], [], [], None, [], note=h.why))
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
    return zip_bytes(files), manifest


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in [
            "index.html",
            "manifest.json",
            *sorted(n for n in files if n not in ("index.html", "manifest.json")),
        ]:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            z.writestr(info, files[name], compresslevel=6)
    return buf.getvalue()
