"""The embedded store's file, schema and connection settings.

Why SQLite (the standard library's ``sqlite3``): nothing to install or start; one file under ``.flowscope/``
that users can copy or delete; WAL journaling lets ``lineage`` queries read while a scan writes; every
``Store.replace`` is one atomic transaction, so a scan killed half-way leaves the previous graph intact.

Layout, chosen for graph traversal and bulk writes at a million edges (measured in bench/):

- ``assets`` gives every dataset and every field an integer id; ``ds`` is the id of the dataset row (a
  dataset's own id for itself), so "this node or its dataset" is an integer comparison.
- ``edge_rows`` holds one row per edge key per ``(collector, scope)``. Its rowid is
  ``scope_id << 32 | n``, so a scope's rows are one rowid range: replacing a scope needs no extra index.
  ``own`` is the scope's score, ``confidence`` the score of all rows of that key merged by
  :func:`flowscope.merge.merge_edges` (equal to ``own`` when the key has one row); ``bases`` is the
  evidence summary the merge needs, ``data`` (JSON) every detail, read only when shown; ``flags`` the bits
  walks filter on (DIRECT/INDIRECT, masked, evidence kinds: :mod:`flowscope.edgeflags`).
- Two covering indexes, ``edges_down`` (source side first) and ``edges_up`` (target side first), answer
  one BFS level with one index range scan per frontier dataset, and find the rows of one key.
  Only three B-trees are written per edge, which is what keeps ingest above 50,000 edges/s.
- ``dst = 0`` marks a pure read (an edge without a target); asset ids start at 1.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from flowscope import private
from flowscope.errors import UserError

DB_NAME = "lineage.db"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

# The traversal indexes, apart so a bulk load can drop and rebuild them (see flowscope.store.write.replace_scope).
EDGE_INDEXES = (
    "CREATE INDEX edges_down ON edge_rows (src_ds, src, dst, job_id, confidence, dst_ds, flags)",
    "CREATE INDEX edges_up ON edge_rows (dst_ds, dst, src, job_id, confidence, src_ds, flags)",
)

_DDL = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE scopes (
    id INTEGER PRIMARY KEY,
    collector TEXT NOT NULL,
    scope TEXT NOT NULL,
    updated TEXT NOT NULL,
    edges INTEGER NOT NULL DEFAULT 0,
    UNIQUE (collector, scope)
);
CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    field TEXT NOT NULL DEFAULT '',
    ds INTEGER NOT NULL,
    UNIQUE (namespace, name, field)
);
CREATE INDEX assets_ds ON assets (ds);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (namespace, name)
);
CREATE TABLE edge_rows (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL,
    src INTEGER NOT NULL,
    dst INTEGER NOT NULL,
    src_ds INTEGER NOT NULL,
    dst_ds INTEGER NOT NULL,
    confidence REAL NOT NULL,
    own REAL NOT NULL,
    sampled INTEGER NOT NULL,
    bases TEXT NOT NULL,
    data TEXT NOT NULL,
    flags INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE asset_infos (
    scope_id INTEGER NOT NULL,
    asset_id INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX asset_infos_scope ON asset_infos (scope_id);
CREATE INDEX asset_infos_asset ON asset_infos (asset_id);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    scope_id INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_scope ON events (scope_id);
"""

# Added after version 1 shipped: created in older stores when they are opened (additive, same version).
LATER_DDL = (
    "CREATE TABLE IF NOT EXISTS job_samples ("
    "scope_id INTEGER NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, samples INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS job_samples_scope ON job_samples (scope_id)",
    # The input a scope came from (a config file, an ingested file): flowscope.store.sources
    "CREATE TABLE IF NOT EXISTS scope_sources ("
    "scope TEXT PRIMARY KEY, source TEXT NOT NULL, updated TEXT NOT NULL)",
)


# What the walk index (flowscope.walkindex) needs to stay fresh without re-reading the store: a
# generation bumped by every Store.replace, and the datasets each generation touched (ds -1: too many
# to list, rebuild; a row with ds 0 marks a generation that touched none). Additive, same version.
WALK_DDL = (
    "CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS walk_changes (generation INTEGER NOT NULL, ds INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS walk_changes_generation ON walk_changes (generation)",
    # `lineage downstream users` finds the dataset by name without reading every asset
    "CREATE INDEX IF NOT EXISTS assets_dataset_name ON assets (name) WHERE field = ''",
)


def _fail(db: Path, reason: str) -> UserError:
    return UserError(reason, path=str(db))


def connect(directory: Path) -> sqlite3.Connection:
    """Open (creating if needed) ``directory/lineage.db``, check it is a flowscope store, set it up.

    Anything wrong with the folder or file becomes a one-line :class:`UserError` naming the path; a file
    that is not a flowscope store is never written to.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise _fail(directory, "the store location exists and is not a folder")
    try:
        private.make_dir(directory)  # 0700: lineage of personal data, salted hashes, the store's secret
    except OSError as e:
        raise _fail(directory, f"cannot create the store folder: {e.strerror or e}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise _fail(directory, "the store folder is not writable")
    db = directory / DB_NAME
    if db.exists() and not os.access(db, os.R_OK | os.W_OK):
        raise _fail(db, "the store file is not readable and writable")
    try:  # 0600 before SQLite creates it (its -wal and -shm files take the database file's mode)
        private.touch(db)
    except OSError as e:
        raise _fail(db, f"cannot create the store file: {e.strerror or e}") from None
    try:
        conn = sqlite3.connect(db, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as e:
        raise _fail(db, f"cannot open the store: {e}") from None
    try:
        _setup(conn, db)
    except sqlite3.DatabaseError as e:
        conn.close()
        raise _fail(
            db, f"not a usable flowscope store ({e}); move it away or choose another --store"
        ) from None
    except UserError:
        conn.close()
        raise
    return conn


def _setup(conn: sqlite3.Connection, db: Path) -> None:
    # Reading the schema first fails on a file that is not SQLite, before anything could be written.
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if tables and "schema_version" not in tables:
        raise _fail(db, "this SQLite file is not a flowscope store; move it away or choose another --store")
    if tables:
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        version = row[0] if row else None
        if version is None or version > SCHEMA_VERSION:
            raise _fail(
                db,
                f"store schema version {version} is not supported by this flowscope (wants {SCHEMA_VERSION})",
            )
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise _fail(db, f"cannot switch the store to WAL mode (got {mode})")
    # NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commit.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -131072")  # 128 MiB: keeps index pages of a 1M-edge graph hot
    conn.execute("PRAGMA temp_store = MEMORY")
    if not tables:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have created the schema while we waited for the write lock.
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone():
                for statement in [*_DDL.split(";"), *EDGE_INDEXES]:
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    if "job_samples" not in tables:  # a new store, or one written before the table existed
        for ddl in LATER_DDL:
            conn.execute(ddl)
    if "walk_changes" not in tables:
        for ddl in WALK_DDL:
            conn.execute(ddl)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(edge_rows)")}
    if "flags" not in columns:  # written before walks could filter (flowscope.edgeflags): rows hold 0
        conn.execute("ALTER TABLE edge_rows ADD COLUMN flags INTEGER NOT NULL DEFAULT 0")
