"""Table schemas from the embedded store: the ``schema`` facets other collectors (or ``flowscope ingest``
of Airflow, Spark or dbt events) already stored, used for star expansion like a catalog file."""

from __future__ import annotations

from pathlib import Path

from flowscope.store import Store
from flowscope.store.folder import store_dir as active_store_dir
from flowscope.store.schema import DB_NAME
from flowscope_sql.settings import Catalog, Source


def store_dir(configured: Path | None) -> Path:
    """The configured folder, else the CLI's store (``--store``, ``$FLOWSCOPE_STORE``, ``./.flowscope``)."""
    return configured if configured is not None else active_store_dir()


def load_store_schemas(catalog: Catalog, directory: Path, sources: list[Source]) -> int:
    """Add the stored tables of the sources' namespaces to ``catalog``; returns how many were added.

    Only typed fields count: a field the store knows from lineage alone (type ``""``) may be one column
    of many, and expanding ``*`` to part of a table would be wrong. Tables already in the catalog (from a
    catalog file) are kept as they are. A missing store raises FileNotFoundError; the store is never
    created here.
    """
    if not (directory / DB_NAME).is_file():
        raise FileNotFoundError(f"no flowscope store in {directory}")
    namespaces = {s.namespace for s in sources or [Source()]}
    namespaces |= {ns for s in sources for ns in s.schemas.values()}
    added = 0
    with Store.open(directory) as store:
        for info in store.assets():
            if info.asset.namespace not in namespaces or info.asset.field:
                continue
            fields = [(name, kind) for name, kind in info.fields if kind and name != "*"]
            key = tuple(p.lower() for p in info.asset.name.split("."))
            if fields and key not in catalog.tables:
                catalog.add(key, fields)
                added += 1
    return added
