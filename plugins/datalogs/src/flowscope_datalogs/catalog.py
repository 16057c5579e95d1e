"""The data-logs catalog: which warehouse tables and columns a person gets back, reviewed like code.

Nothing leaves the warehouse unless a reviewer wrote it here: a table with no entry, a column with no
entry, and entries still marked ``pending: true`` (what ``datalogs discover`` proposes) are never
exported. Every exported column has the title a person reads and a renderer; every withheld one says
why (other people's data, integrity or security signals), so the package can tell the person what was
left out and why. The format is documented in the plugin's README.

Parsing goes through core's one YAML loader with line numbers (:func:`flowscope.yamlpos.load_yaml`), so
every error names the file, the line and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscope.errors import UserError
from flowscope.yamlpos import Document, KeyPath, dotted, load_yaml, show, suggest, type_name

USER_ID_TYPES = ("bigint", "string")
FORMATS = ("parquet", "csv")
WITHHELD_REASONS = ("other_people", "integrity", "security", "other")
REASON_TEXT = {
    "other_people": "it is about other people",
    "integrity": "it is an integrity signal (used to fight spam and abuse)",
    "security": "it is a security signal (used to protect accounts)",
    "other": "it is not about you",
}
# Declared column types: required for CSV (read as text, then cast the same way by both engines).
COLUMN_TYPES = ("bigint", "double", "string", "boolean", "timestamp", "date")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TABLE_KEYS = (
    "dataset",
    "title",
    "description",
    "location",
    "format",
    "partitions",
    "metastore",
    "owner",
    "near_duplicates",
    "columns",
    "withheld",
    "note",
    "pending",
)
COLUMN_KEYS = ("title", "description", "renderer", "options", "type", "withheld", "note", "pending")


@dataclass(frozen=True)
class Column:
    name: str
    line: int
    exported: bool
    title: str = ""
    description: str = ""
    renderer: str = ""  # empty: the default renderer for the column's type
    options: Mapping[str, Any] = field(default_factory=dict)
    type: str | None = None
    withheld: str | None = None  # the reason, for withheld columns
    note: str = ""
    pending: bool = False


@dataclass(frozen=True)
class NearDuplicates:
    """Rows one user logged several times (several app versions), collapsed into one with a count."""

    time: str
    within_seconds: float
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    line: int
    namespace: str
    dataset: str
    title: str
    description: str
    location: Path
    format: str
    partitions: tuple[str, ...]
    owner: str
    columns: tuple[Column, ...]
    metastore: str | None = None
    near_duplicates: NearDuplicates | None = None

    @property
    def exported(self) -> list[Column]:
        return [c for c in self.columns if c.exported]

    @property
    def withheld(self) -> list[Column]:
        return [c for c in self.columns if c.withheld]

    @property
    def pending(self) -> list[Column]:
        return [c for c in self.columns if c.pending]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Skipped:
    """A table entry that exports nothing: withheld as a whole, or still pending review."""

    name: str
    line: int
    why: str
    identity: tuple[str, str, str] | None = None  # (namespace, dataset, owner) when written


def _identity(entry: Mapping[str, Any]) -> tuple[str, str, str] | None:
    ds, owner = entry.get("dataset"), entry.get("owner")
    if isinstance(ds, Mapping) and isinstance(owner, str):
        ns, name = ds.get("namespace"), ds.get("name")
        if isinstance(ns, str) and isinstance(name, str):
            return (ns, name, owner)
    return None


@dataclass
class Catalog:
    path: Path
    doc: Document
    user_id_type: str
    timezone: str
    tables: list[Table]
    skipped: list[Skipped]

    def line(self, *key: str | int) -> int | None:
        return self.doc.line_of(tuple(key))

    def error(self, key: KeyPath, message: str) -> UserError:
        return UserError(f"{dotted(key)}: {message}", path=str(self.path), line=self.doc.line_of(key))


class _Reader:
    def __init__(self, path: Path, doc: Document) -> None:
        self.path = path
        self.doc = doc

    def fail(self, key: KeyPath, message: str) -> UserError:
        where = f"{dotted(key)}: " if key else ""
        return UserError(where + message, path=str(self.path), line=self.doc.line_of(key))

    def mapping(self, value: Any, key: KeyPath, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a mapping, got {type_name(value)}")
        for k in value:
            if str(k) not in allowed:
                raise self.fail((*key, str(k)), f"unknown key{suggest(str(k), allowed)}")
        return value

    def text(self, value: Any, key: KeyPath, required: bool = False) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, f"expected a non-empty string, got {show(value)}")
        return value.strip()

    def choice(self, value: Any, key: KeyPath, choices: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in choices:
            raise self.fail(key, f"got {show(value)}{suggest(str(value), choices)}")
        return value

    def name(self, value: Any, key: KeyPath) -> str:
        if not isinstance(value, str) or not NAME.match(value):
            raise self.fail(key, f"expected a column name (letters, digits, _), got {show(value)}")
        return value


def load_catalog(path: Path) -> Catalog:
    """Read and check the catalog's structure (not yet against the data: see :mod:`.datacheck`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("no such catalog file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the catalog: {exc}", path=str(path)) from None
    doc = load_yaml(text, str(path))
    r = _Reader(path, doc)
    for dup in doc.duplicates:
        raise UserError(
            f"{dotted(dup.path)}: written twice (first on line {dup.first_line})", str(path), dup.line
        )
    top = r.mapping(doc.data, (), ("version", "user_id", "timezone", "tables"))
    if top.get("version", 1) != 1:
        raise r.fail(("version",), f"unsupported version {show(top.get('version'))} (expected 1)")
    user = r.mapping(top.get("user_id") or {}, ("user_id",), ("type",))
    user_type = r.choice(user.get("type", "bigint"), ("user_id", "type"), USER_ID_TYPES)
    timezone = r.text(top.get("timezone"), ("timezone",)) or "UTC"
    _check_zone(r, timezone)
    tables_raw = top.get("tables")
    if not isinstance(tables_raw, Mapping) or not tables_raw:
        raise r.fail(("tables",), "expected a mapping of table entries (none are reviewed yet)")
    tables: list[Table] = []
    skipped: list[Skipped] = []
    for name, raw in tables_raw.items():
        key: KeyPath = ("tables", str(name))
        line = doc.line_of(key) or 0
        if not isinstance(name, str) or not NAME.match(name):
            raise r.fail(key, "a table's key is its name in packages: letters, digits and _")
        entry = r.mapping(raw, key, TABLE_KEYS)
        if entry.get("pending"):
            skipped.append(Skipped(name, line, "pending review", _identity(entry)))
            continue
        if entry.get("withheld") is not None:
            reason = r.choice(entry["withheld"], (*key, "withheld"), WITHHELD_REASONS)
            skipped.append(Skipped(name, line, f"withheld ({reason})", _identity(entry)))
            continue
        tables.append(_table(r, name, entry, key, line))
    return Catalog(path, doc, user_type, timezone, tables, skipped)


def _check_zone(r: _Reader, zone: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail(
            ("timezone",), f"unknown time zone {zone!r} (an IANA name such as Europe/Paris)"
        ) from None


def _table(r: _Reader, name: str, entry: Mapping[str, Any], key: KeyPath, line: int) -> Table:
    ds = r.mapping(entry.get("dataset"), (*key, "dataset"), ("namespace", "name"))
    namespace = r.text(ds.get("namespace"), (*key, "dataset", "namespace"), required=True)
    dataset = r.text(ds.get("name"), (*key, "dataset", "name"), required=True)
    location = r.text(entry.get("location"), (*key, "location"), required=True)
    fmt = r.choice(entry.get("format", "parquet"), (*key, "format"), FORMATS)
    parts_raw = entry.get("partitions", [])
    if not isinstance(parts_raw, list):
        raise r.fail(
            (*key, "partitions"), f"expected a list of partition columns, got {type_name(parts_raw)}"
        )
    partitions = tuple(r.name(p, (*key, "partitions", i)) for i, p in enumerate(parts_raw))
    owner = r.name(entry.get("owner"), (*key, "owner"))
    metastore = r.text(entry.get("metastore"), (*key, "metastore")) or None
    cols_raw = entry.get("columns") or {}
    if not isinstance(cols_raw, Mapping):
        raise r.fail((*key, "columns"), f"expected a mapping of columns, got {type_name(cols_raw)}")
    columns = tuple(_column(r, str(c), v, (*key, "columns", str(c)), fmt, owner) for c, v in cols_raw.items())
    if not any(c.exported for c in columns):
        raise r.fail(
            (*key, "columns"), "no column is exported; withhold the table instead (withheld: REASON)"
        )
    near = _near(r, entry.get("near_duplicates"), (*key, "near_duplicates"), columns)
    if fmt == "csv" and owner not in {c.name for c in columns if c.type}:
        raise r.fail((*key, "owner"), f"CSV tables need the owner column {owner!r} listed with its type")
    for p in partitions:
        col = next((c for c in columns if c.name == p), None)
        if col is not None and col.type not in (None, "string"):
            raise r.fail((*key, "columns", p), "partition values are read from folder names: type string")
    return Table(
        name=name,
        line=line,
        namespace=namespace,
        dataset=dataset,
        title=r.text(entry.get("title"), (*key, "title"), required=True),
        description=r.text(entry.get("description"), (*key, "description")),
        location=(r.path.parent / location),
        format=fmt,
        partitions=partitions,
        owner=owner,
        columns=columns,
        metastore=metastore,
        near_duplicates=near,
    )


def _column(r: _Reader, name: str, raw: Any, key: KeyPath, fmt: str, owner: str) -> Column:
    r.name(name, key)
    line = r.doc.line_of(key) or 0
    entry = r.mapping(raw, key, COLUMN_KEYS)
    ctype = None
    if entry.get("type") is not None:
        ctype = r.choice(entry["type"], (*key, "type"), COLUMN_TYPES)
    if fmt == "csv" and ctype is None and not entry.get("pending"):
        raise r.fail(key, f"CSV columns need a type ({', '.join(COLUMN_TYPES)})")
    if entry.get("pending"):
        return Column(name, line, exported=False, type=ctype, pending=True)
    if entry.get("withheld") is not None:
        reason = r.choice(entry["withheld"], (*key, "withheld"), WITHHELD_REASONS)
        note = r.text(entry.get("note"), (*key, "note"), required=reason == "other")
        extra = sorted(set(entry) & {"title", "renderer", "options"})
        if extra:
            raise r.fail((*key, extra[0]), "a withheld column is not rendered; remove this key")
        return Column(name, line, exported=False, type=ctype, withheld=reason, note=note)
    if "title" not in entry:
        if name == owner and set(entry) <= {"type", "description"}:
            return Column(name, line, exported=False, type=ctype)  # read to join on, not exported
        raise r.fail(key, "an exported column needs a title (or withheld: REASON, or pending: true)")
    options = entry.get("options") or {}
    if not isinstance(options, Mapping):
        raise r.fail((*key, "options"), f"expected a mapping, got {type_name(options)}")
    return Column(
        name,
        line,
        exported=True,
        title=r.text(entry.get("title"), (*key, "title"), required=True),
        description=r.text(entry.get("description"), (*key, "description")),
        renderer=r.text(entry.get("renderer"), (*key, "renderer")),
        options=dict(options),
        type=ctype,
    )


def _near(r: _Reader, raw: Any, key: KeyPath, columns: tuple[Column, ...]) -> NearDuplicates | None:
    if raw is None:
        return None
    entry = r.mapping(raw, key, ("time", "within_seconds", "ignore"))
    exported = {c.name for c in columns if c.exported}
    time = r.name(entry.get("time"), (*key, "time"))
    if time not in exported:
        raise r.fail((*key, "time"), f"{time!r} is not an exported column{suggest(time, exported)}")
    within = entry.get("within_seconds", 10)
    if isinstance(within, bool) or not isinstance(within, int | float) or not 0 <= within <= 86400:
        raise r.fail((*key, "within_seconds"), f"expected seconds between 0 and 86400, got {show(within)}")
    ignore_raw = entry.get("ignore", [])
    if not isinstance(ignore_raw, list):
        raise r.fail((*key, "ignore"), f"expected a list of columns, got {type_name(ignore_raw)}")
    ignore = []
    for i, c in enumerate(ignore_raw):
        col = r.name(c, (*key, "ignore", i))
        if col not in exported:
            raise r.fail((*key, "ignore", i), f"{col!r} is not an exported column{suggest(col, exported)}")
        ignore.append(col)
    return NearDuplicates(time, float(within), tuple(ignore))
