"""Rendered cells, encoded once for every place they appear in a package.

A cell's text goes into the page (HTML-escaped, in a ``<td>``), the table's JSON (as a ``"column":
"text"`` member) and its CSV (formula-guarded, quoted when needed). A column renderer makes all of these
the first time it meets a raw value and keeps them (per time zone), so a value repeated across rows and
people (an enum, an app version) is rendered and encoded once per batch, and building a package is
mostly joining strings that are ready. Each encoding is the one :mod:`json`, :mod:`csv` and
:func:`html.escape` produce (unit tests compare them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from html import escape
from json.encoder import encode_basestring  # json's C string encoder
from typing import Any, Final

from flowscope_datalogs import kinds
from flowscope_datalogs.catalog import Column

# (text, rendered?, "<td>...</td>", '"column": "text"', CSV field)
Cell = tuple[str, bool, str, str, str]
TEXT: Final = 0
OK: Final = 1
TD: Final = 2
JSON: Final = 3
CSV: Final = 4
RAW_MARK = " [shown as stored]"
RAW_NOTE = "shown as stored: no readable label for this value"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_CSV_QUOTE = re.compile(r'[,"\r\n]')
_SPECIAL = re.compile(r'[&<>"\',\r\n]')  # any character that HTML or CSV would escape or quote
CACHE_LIMIT = 20_000  # cells kept per column and time zone; a column of distinct instants just cycles


def html(text: object) -> str:
    return escape(str(text), quote=True)


def csv_quote(text: str) -> str:
    """One field as :mod:`csv`'s default writer writes it: quoted when it holds a comma, a quote or a line
    break, quotes doubled."""
    if _CSV_QUOTE.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_field(text: str) -> str:
    """A cell's CSV field: a spreadsheet runs cells starting with = + - @ as formulas (CSV injection),
    so those are first turned into text (``'=cmd``)."""
    return csv_quote("'" + text if text.startswith(_FORMULA) else text)


def csv_line(fields: list[str]) -> str:
    """Fields made by :func:`csv_quote`, as one CRLF-terminated line (csv writes a lone empty field
    as ``""``)."""
    if len(fields) == 1 and not fields[0]:
        return '""\r\n'
    return ",".join(fields) + "\r\n"


def json_member(name: str, text: str) -> str:
    """``"name": "text"`` as ``json.dumps(..., ensure_ascii=False)`` writes a dict member."""
    return f"{encode_basestring(name)}: {encode_basestring(text)}"


def make_cell(name: str, text: str, ok: bool) -> Cell:
    member = f"{encode_basestring(name)}: {encode_basestring(text)}"
    if ok and not _SPECIAL.search(text) and not text.startswith(_FORMULA):  # most cells: nothing to escape
        return (text, ok, f"<td>{text}</td>", member, text)
    td = f"<td>{html(text)}</td>" if ok else f'<td class="raw" title="{RAW_NOTE}">{html(text)}</td>'
    return (text, ok, td, member, csv_field(text))


class ColumnRenderer:
    """One exported column: raw canonical value -> :data:`Cell`, per time zone, remembered."""

    def __init__(self, column: Column, kind: str, renderer: Any) -> None:
        self.column = column
        self.kind = kind
        self.renderer = renderer
        self.convert = kinds.converter(kind)
        self.hashable = not kind.startswith("list:")
        self.error = ""  # the first failure, for the run report
        self._by_zone: dict[str, tuple[dict[Any, Cell], Callable[[Any], Cell]]] = {}

    def for_zone(self, zone: str) -> tuple[dict[Any, Cell], Callable[[Any], Cell]]:
        """``(cache, make)``: look a raw value up in ``cache``, else ``make(raw)`` renders and keeps it."""
        found = self._by_zone.get(zone)
        if found is not None:
            return found
        options: Mapping[str, Any] = {**self.column.options, "timezone": zone}
        compile_ = getattr(self.renderer, "compile", None)
        if compile_ is not None:
            render: Callable[[Any], str] = compile_(options)
        else:
            render = lambda value: self.renderer.render(value, options)  # noqa: E731
        cache: dict[Any, Cell] = {}
        name, convert, hashable = self.column.name, self.convert, self.hashable

        def make(raw: Any) -> Cell:
            value = convert(raw)
            try:
                cell = make_cell(name, str(render(value)), True)
            except Exception as exc:  # a renderer's failure shows the raw value; it never sinks the run
                if not self.error:
                    self.error = f"{type(exc).__name__}: {exc}"
                cell = make_cell(name, kinds.raw_text(value) + RAW_MARK, False)
            if hashable:
                if len(cache) >= CACHE_LIMIT:
                    cache.clear()
                cache[raw] = cell
            return cell

        self._by_zone[zone] = (cache, make)
        return cache, make

    def cells(self, values: list[Any], zone: str) -> list[Cell]:
        cache, make = self.for_zone(zone)
        if not self.hashable:
            return [make(v) for v in values]
        get = cache.get
        return [get(v) or make(v) for v in values]
