"""``plugins.sql`` configuration, dialect checking, table naming and the catalog of known schemas."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot.dialects.dialect import Dialects

from flowscope import naming
from flowscope.errors import UserError
from flowscope.model import Asset, Job
from flowscope.yamlsafe import safe_load
from flowscope_sql.lineage import TableKey

NAME = "sql"
RESULT: TableKey = ("<query result>",)  # a SELECT's result set: the job's query-result dataset
DIALECTS: tuple[str, ...] = tuple(sorted(d.value for d in Dialects if d.value))
# Names people type (other tools', engines' own) -> the sqlglot dialect that reads them; "" is sqlglot's
# generic dialect (ANSI-ish). Engines sqlglot has no dialect for map to the one whose syntax they follow.
ALIASES: dict[str, str] = {
    "ansi": "",
    "generic": "",
    "sql": "",
    "sparksql": "spark",
    "spark-sql": "spark",
    "spark3": "spark",
    "postgresql": "postgres",
    "pg": "postgres",
    "greenplum": "postgres",
    "vertica": "postgres",
    "mssql": "tsql",
    "sqlserver": "tsql",
    "azuresql": "tsql",
    "synapse": "tsql",
    "mariadb": "mysql",
    "hiveql": "hive",
    "impala": "hive",
    "bq": "bigquery",
    "db2": "",
}


def check_dialect(name: str) -> str:
    """The dialect name as sqlglot spells it (an alias resolved); an unknown one is a UserError listing
    the valid ones."""
    key = name.strip().lower()
    if key in ALIASES:
        return ALIASES[key]
    if key not in DIALECTS:
        valid = ", ".join(DIALECTS)
        raise UserError(
            f"unknown SQL dialect {name!r}; valid dialects: {valid} (aliases: {', '.join(ALIASES)})"
        )
    return key


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
            self.namespace = f"{self.dialect or 'sql'}://default"

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


def asset_of(source: Source, key: TableKey, column: str | None, job: Job) -> Asset:
    """The asset of a table key; :data:`RESULT` is the job's query result (``result://`` in
    :mod:`flowscope.naming`)."""
    if key == RESULT:
        return naming.result(job.name, source.namespace, column)  # the engine the query ran on
    return source.asset(key, column)


def values_asset(path: str) -> Asset:
    """Where the rows of ``INSERT ... VALUES`` come from: the statement's own text, a ``code://`` asset of
    the SQL file (or of the query log the statement was logged in)."""
    return naming.code(path)


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
    through_temp_tables: bool = True  # trace end to end through a script's temporary tables
    temp_tables: list[str] = field(default_factory=list)  # globs of table names treated as temporary
    keep_raw_log_ids: bool = False  # opt-in: keep query logs' users and trace ids as they are, not hashed

    def source_for(self, relpath: str) -> Source:
        for s in self.sources:
            if s.matches(relpath):
                return s
        return self.sources[0] if self.sources else Source()


class Catalog:
    """Known table schemas (for star expansion and column resolution), keyed by full table name.

    Tables are added as a script or a query log creates them, so every view of the catalog (the per-source
    column index, an analyzer's sqlglot schema) is extended from ``added`` rather than rebuilt: a log with
    thousands of CTAS shapes and a 50,000-table catalog costs each statement what a small catalog does.
    """

    def __init__(self) -> None:
        self.tables: dict[TableKey, list[tuple[str, str]]] = {}
        self.added: list[TableKey] = []  # every add, in order (views catch up from where they stopped)
        self._columns: dict[tuple[str | None, str | None], tuple[int, dict[TableKey, list[str]]]] = {}

    def add(self, key: TableKey, columns: list[tuple[str, str]]) -> None:
        lowered = tuple(p.lower() for p in key)
        self.tables[lowered] = [(c.lower(), t) for c, t in columns]
        self.added.append(lowered)

    def load(self, path: Path) -> None:
        """``{tables: {db.table: {column: type}}}`` in YAML or JSON (a bare mapping of tables works too), or
        the simple form ``{db.table: [column, ...]}`` that other lineage tools read."""
        try:
            text = path.read_text(encoding="utf-8")
            data: Any = json.loads(text) if path.suffix == ".json" else safe_load(text, str(path))
        except UserError:
            raise
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UserError(f"cannot read catalog: {exc}", str(path)) from None
        tables = data.get("tables", data) if isinstance(data, dict) else None
        if not isinstance(tables, dict):
            raise UserError(
                "a catalog is a mapping of table name to {column: type} or [column, ...]", str(path)
            )
        for name, cols in tables.items():
            if isinstance(cols, list) and all(isinstance(c, str | int | float) for c in cols):
                self.add(split_name(str(name)), [(str(c), "") for c in cols])
            elif isinstance(cols, dict):
                self.add(
                    split_name(str(name)), [(str(c), "" if t is None else str(t)) for c, t in cols.items()]
                )
            else:
                raise UserError(f"table {name}: expected {{column: type}} or a list of columns", str(path))

    def mapping(self, source: Source) -> dict[str, Any]:
        """A nested mapping for sqlglot's MappingSchema, every name filled to the same depth."""
        keys = {k: source.full_key(k) for k in self.tables if len(source.full_key(k)) <= 3}
        depth = max((len(k) for k in keys.values()), default=0)
        out: dict[str, Any] = {}
        for key, full in keys.items():
            if len(full) != depth:
                continue
            node = out
            for part in full[:-1]:
                node = node.setdefault(part, {})
            node[full[-1]] = typed(self.tables[key])
        return out

    def columns(self, source: Source) -> dict[TableKey, list[str]]:
        """Columns by the name as written and by the full name under ``source``'s defaults; kept per set
        of defaults and extended with the tables added since the last call."""
        defaults = (source.default_catalog, source.default_schema)
        seen, out = self._columns.get(defaults, (0, {}))
        for key in self.added[seen:]:
            names = [c for c, _ in self.tables[key]]
            out[key] = out[source.full_key(key)] = names
        self._columns[defaults] = (len(self.added), out)
        return out


def typed(columns: list[tuple[str, str]]) -> dict[str, str]:
    """Columns for sqlglot's schema; an unknown type is UNKNOWN (some sqlglot versions cannot parse "")."""
    return {c: t or "UNKNOWN" for c, t in columns}


def split_name(name: str) -> TableKey:
    """``db.table`` -> parts; a part in double quotes or backticks may hold dots (``"my.db".t``)."""
    if '"' not in name and "`" not in name:
        return tuple(name.split("."))
    parts = re.findall(r'"((?:[^"]|"")*)"|`([^`]*)`|([^."`]+)', name)
    return tuple((a or b or c).replace('""', '"') for a, b, c in parts)
