"""``plugins.sql`` configuration, dialect checking, table naming and the catalog of known schemas."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot.dialects.dialect import Dialects

from flowscope.errors import UserError
from flowscope.model import Asset
from flowscope.yamlsafe import safe_load
from flowscope_sql.lineage import TableKey

NAME = "sql"
DIALECTS: tuple[str, ...] = tuple(sorted(d.value for d in Dialects if d.value))


def check_dialect(name: str) -> str:
    """The dialect name as sqlglot spells it; an unknown one is a UserError listing the valid ones."""
    if name.lower() not in DIALECTS:
        raise UserError(f"unknown SQL dialect {name!r}; valid dialects: {', '.join(DIALECTS)}")
    return name.lower()


@dataclass
class Source:
    """One engine: its dialect, the OpenLineage namespace of its tables and its defaults.

    Table names follow the OpenLineage naming spec: the parts the engine uses (``db.table`` for Hive and
    MySQL, ``catalog.schema.table`` for Trino, ``database.schema.table`` for Postgres and Snowflake,
    ``project.dataset.table`` for BigQury), with missing parts filled from ``default_catalog`` and
    ``default_schema``. ``schemas`` maps a schema (or ``catalog.schema``) to another namespace, for
    federated or external tables that live in another system (a MySQL database mounted in Hive).
    """

    dialect: str = "hive"
    namespace: str = ""
    default_catalog: str | None = None
    default_schema: str | None = None
    schemas: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # which files this source reads; empty: all of them
    job_namespace: str | None = None

    def __post_init__(self) -> None:
        self.dialect = check_dialect(self.dialect)
        if not self.namespace:
            self.namespace = f"{self.dialect}://default"

    def matches(self, relpath: str) -> bool:
        return not self.files or any(fnmatch.fnmatch(relpath, p) for p in self.files)

    def full_key(self, key: TableKey) -> TableKey:
        parts = list(key)
        if len(parts) == 1 and self.default_schema:
            parts.insert(0, self.default_schema)
        if len(parts) == 2 and self.default_catalog:
            parts.insert(0, self.default_catalog)
        return tuple(parts)

    def asset(self, key: TableKey, column: str | None = None) -> Asset:
        full = self.full_key(key)
        namespace = self.namespace
        for n in (2, 1):  # catalog.schema first, then schema
            if len(full) > n and ".".join(full[-1 - n : -1]) in self.schemas:
                namespace = self.schemas[".".join(full[-1 - n : -1])]
                break
        return Asset(namespace, ".".join(full), column)


@dataclass
class Settings:
    """``plugins.sql``: see the plugin README for every key."""

    files: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)  # JSONL query logs (see logs.py)
    sources: list[Source] = field(default_factory=list)
    catalog: list[str] = field(default_factory=list)
    jobs: dict[str, str] = field(default_factory=dict)  # file path -> job name
    max_statement_chars: int = 1_000_000
    timeout_seconds: float = 10.0
    access_logs: list[str] = field(default_factory=list)  # JSONL table accesses (see access.py)
    context_window_seconds: float = 300.0  # same user, a read this long before a write: USER_WINDOW
    use_store_schemas: bool = False  # star expansion from schema facets already in the store
    store: str | None = None  # the store folder (default: $FLOWSCOPE_STORE, else ./.flowscope)
    through_temp_tables: bool = False  # trace end to end through a script's temporary tables
    temp_tables: list[str] = field(default_factory=list)  # globs of table names treated as temporary

    def source_for(self, relpath: str) -> Source:
        for s in self.sources:
            if s.matches(relpath):
                return s
        return self.sources[0] if self.sources else Source()


class Catalog:
    """Known table schemas (for star expansion and column resolution), keyed by full table name."""

    def __init__(self) -> None:
        self.tables: dict[TableKey, list[tuple[str, str]]] = {}

    def add(self, key: TableKey, columns: list[tuple[str, str]]) -> None:
        self.tables[tuple(p.lower() for p in key)] = [(c.lower(), t) for c, t in columns]

    def load(self, path: Path) -> None:
        """``{tables: {db.table: {column: type}}}`` in YAML or JSON (a bare mapping of tables works too)."""
        try:
            text = path.read_text(encoding="utf-8")
            data: Any = json.loads(text) if path.suffix == ".json" else safe_load(text, str(path))
        except UserError:
            raise
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UserError(f"cannot read catalog: {exc}", str(path)) from None
        tables = data.get("tables", data) if isinstance(data, dict) else None
        if not isinstance(tables, dict):
            raise UserError("a catalog is a mapping of table name to {column: type}", str(path))
        for name, cols in tables.items():
            if not isinstance(cols, dict):
                raise UserError(f"table {name}: expected a mapping of column to type", str(path))
            self.add(tuple(str(name).split(".")), [(str(c), str(t)) for c, t in cols.items()])

    def mapping(self, source: Source) -> dict[str, Any]:
        """A nested mapping for sqlglot's MappingSchema, every name filled to the same depth."""
        keys = {k: source.full_key(k) for k in self.tables}
        depth = max((len(k) for k in keys.values()), default=0)
        out: dict[str, Any] = {}
        for key, full in keys.items():
            if len(full) != depth:
                continue
            node = out
            for part in full[:-1]:
                node = node.setdefault(part, {})
            node[full[-1]] = dict(self.tables[key])
        return out

    def columns(self, source: Source) -> dict[TableKey, list[str]]:
        out: dict[TableKey, list[str]] = {}
        for key, cols in self.tables.items():
            names = [c for c, _ in cols]
            out[key] = out[source.full_key(key)] = names
        return out
