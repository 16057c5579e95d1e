"""Which input each scope came from, so scopes that nothing backs any more can be reported and pruned.

A scan's scope is a hash of its config file's path, an ingest's scope the ingested file's path. Renaming
the config file therefore starts a new scope beside the old one, and deleting an ingested file leaves its
edges behind: both would stay forever. Each scope records its source here (``scope_sources``); a scope
whose source no longer exists is *stale*: ``flowscope scan`` says so, and ``flowscope store prune``
removes it (its edges, asset infos, events and job samples, re-scoring keys other scopes share). Scopes
written before this table existed have no recorded source: they are listed as unknown and kept until a
scan of their config records it (or the store is rebuilt).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class StaleScope:
    collector: str
    scope: str
    source: str | None  # None: written before sources were recorded
    edges: int

    @property
    def reason(self) -> str:
        if self.source is None:
            return "source unknown (stored before flowscope recorded it)"
        return f"{self.source} no longer exists"


def record(conn: sqlite3.Connection, scope: str, source: Path) -> None:
    conn.execute(
        "INSERT INTO scope_sources (scope, source, updated) VALUES (?, ?, ?) "
        "ON CONFLICT (scope) DO UPDATE SET source = excluded.source, updated = excluded.updated",
        (scope, str(source), datetime.now(UTC).isoformat()),
    )


def unbacked(conn: sqlite3.Connection) -> tuple[list[StaleScope], list[StaleScope]]:
    """(stale, unknown): scopes whose recorded source is gone, and scopes with no recorded source."""
    stale: list[StaleScope] = []
    unknown: list[StaleScope] = []
    rows = conn.execute(
        "SELECT s.collector, s.scope, s.edges, src.source FROM scopes s "
        "LEFT JOIN scope_sources src ON src.scope = s.scope ORDER BY src.source, s.scope, s.collector"
    )
    for collector, scope, edges, source in rows.fetchall():
        item = StaleScope(collector, scope, source, edges)
        if source is None:
            unknown.append(item)
        elif not Path(source).exists():
            stale.append(item)
    return stale, unknown


def forget(conn: sqlite3.Connection, scope: str) -> None:
    """Drop the source of ``scope`` once no collector holds rows under it."""
    if conn.execute("SELECT 1 FROM scopes WHERE scope = ? LIMIT 1", (scope,)).fetchone() is None:
        conn.execute("DELETE FROM scope_sources WHERE scope = ?", (scope,))
