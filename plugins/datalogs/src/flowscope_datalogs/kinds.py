"""One canonical shape for every value that leaves the warehouse, whichever engine read it.

DuckDB and Spark read the same Parquet file into different types (Spark's timestamps are instants in
the session zone, DuckDB's may be naive or zoned; decimals print differently; partition values get
inferred). Packages must be byte-identical across engines, so each engine casts every exported column
to one of a few *kinds* in its join query, and the intermediate Parquet holds only these:

=============  ==============================  =======================================================
kind           stored in the intermediate as   handed to renderers as
=============  ==============================  =======================================================
``int``        BIGINT                          int
``float``      DOUBLE                          float
``decimal``    VARCHAR (the exact digits)      decimal.Decimal
``string``     VARCHAR                         str
``bool``       BOOLEAN                         bool
``timestamp``  BIGINT microseconds since epoch datetime in UTC (naive warehouse timestamps are UTC)
``date``       VARCHAR ``YYYY-MM-DD``          datetime.date
``binary``     VARCHAR base64                  bytes
``list:K``     list of K (K one of the above   list
               but timestamp, date, binary)
=============  ==============================  =======================================================

Struct and map columns have no kind: the catalog must name a scalar (or a list of scalars).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

SCALARS = ("int", "float", "decimal", "string", "bool", "timestamp", "date", "binary")
LIST_ITEMS = ("int", "float", "decimal", "string", "bool")
CSV_TYPES = {
    "bigint": "int",
    "double": "float",
    "string": "string",
    "boolean": "bool",
    "timestamp": "timestamp",
    "date": "date",
}
DEFAULT_RENDERER = {
    "int": "number",
    "float": "number",
    "decimal": "number",
    "string": "text",
    "bool": "boolean",
    "timestamp": "timestamp",
    "date": "date",
    "binary": "text",
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_DUCK_SCALARS = [
    (re.compile(r"^(U?TINYINT|U?SMALLINT|U?INTEGER|U?BIGINT|HUGEINT|UHUGEINT|INT\d*)$"), "int"),
    (re.compile(r"^(FLOAT|DOUBLE|REAL|FLOAT\d)$"), "float"),
    (re.compile(r"^DECIMAL(\(\d+,\s*\d+\))?$"), "decimal"),
    (re.compile(r"^(VARCHAR|UUID|JSON|ENUM\(.*\))$"), "string"),
    (re.compile(r"^BOOLEAN$"), "bool"),
    (re.compile(r"^TIMESTAMP(_S|_MS|_NS| WITH TIME ZONE)?$"), "timestamp"),
    (re.compile(r"^DATE$"), "date"),
    (re.compile(r"^BLOB$"), "binary"),
]


def duckdb_kind(type_name: str) -> str | None:
    """The kind of a DuckDB column type (``DESCRIBE``'s ``column_type``), or None when unsupported."""
    t = type_name.strip().upper()
    if t.endswith("[]"):
        inner = duckdb_kind(t[:-2])
        return f"list:{inner}" if inner in LIST_ITEMS else None
    for pattern, kind in _DUCK_SCALARS:
        if pattern.match(t):
            return kind
    return None


def is_integer(kind: str) -> bool:
    return kind == "int"


def owner_kind(user_id_type: str) -> str:
    return "int" if user_id_type == "bigint" else "string"


def default_renderer(kind: str) -> str:
    return "list" if kind.startswith("list:") else DEFAULT_RENDERER[kind]


def to_python(kind: str, value: Any) -> Any:
    """A canonical intermediate value as renderers receive it (see the table above)."""
    if value is None:
        return None
    if kind == "timestamp":
        return EPOCH + timedelta(microseconds=int(value))
    if kind == "date":
        return date.fromisoformat(str(value))
    if kind == "decimal":
        return Decimal(str(value))
    if kind == "binary":
        return base64.b64decode(value)
    if kind.startswith("list:"):
        item = kind[5:]
        return [to_python(item, v) for v in value]
    return value


def _same(value: Any) -> Any:
    return value


def _instant(value: Any) -> Any:
    return None if value is None else EPOCH + timedelta(microseconds=int(value))


def converter(kind: str) -> Callable[[Any], Any]:
    """:func:`to_python` for one kind, with the kinds stored as they are handed over skipped."""
    if kind in ("int", "float", "string", "bool"):
        return _same
    if kind == "timestamp":
        return _instant
    return lambda value: to_python(kind, value)


def raw_text(value: Any) -> str:
    """How a value is shown when its renderer could not render it: as stored, plainly."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list):
        return "[" + ", ".join(raw_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sort_key(value: Any) -> tuple[Any, ...]:
    """Total order over one column's canonical values (None first, NaN next), engine-independent."""
    if value is None:
        return (0,)
    if isinstance(value, float) and value != value:
        return (1,)
    if isinstance(value, list):
        return (2, tuple(sort_key(v) for v in value))
    return (2, value)
