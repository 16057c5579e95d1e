"""The embedded lineage store: ``.flowscope/lineage.db``, one SQLite file (why SQLite: see
:mod:`flowscope.store.schema`).

Collectors' results are stored per ``(collector, scope)`` — a scope is whatever a collector re-scans as a
unit (a repository, a query-log file, an ingested OpenLineage file). :meth:`Store.replace` swaps one
scope's edges, asset infos and events in one transaction, so re-scanning replaces instead of
duplicating and a crash keeps the previous state. When several scopes hold the same edge key, reads
merge them with :func:`flowscope.merge.merge_edges`, the only place confidences are combined.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from flowscope import gcpause
from flowscope.edgeflags import DIRECT, INDIRECT
from flowscope.errors import UserError
from flowscope.model import Asset, AssetInfo, Edge
from flowscope.store import killpoint, sources
from flowscope.store.codec import decode_edge, merge_infos
from flowscope.store.schema import DB_NAME, connect
from flowscope.store.write import (
    assets_by_id,
    chunks,
    jobs_by_id,
    load_merged,
    merge_rows,
    replace_scope,
    scope_range,
)

DEFAULT_DIR = ".flowscope"

# (near, near_ds, far, far_ds, confidence, job_id, flags): one edge row as a traversal sees it (see
# Store.adjacent); flags are the row's bits of flowscope.edgeflags.
AdjacencyRow = tuple[int, int, int, int, float, int, int]
EdgeIds = tuple[int, int, int]


class Store:
    """A handle on one store folder. Not thread-safe: open one per thread or process."""

    def __init__(self, conn: sqlite3.Connection, directory: Path) -> None:
        self._conn = conn
        self.directory = directory

    @classmethod
    def open(cls, directory: Path) -> Store:
        """Open the store in ``directory``, creating folder and file if needed.

        An unwritable folder, or a file that is not a flowscope store, raises :class:`UserError` naming the
        path; the file is left as it was.
        """
        directory = Path(directory)
        return cls(connect(directory), directory)

    @property
    def path(self) -> Path:
        return self.directory / DB_NAME

    @property
    def connection(self) -> sqlite3.Connection:
        """The store's SQLite connection, for derived structures that read it in bulk (the walk index)."""
        return self._conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------------

    def replace(
        self,
        collector: str,
        scope: str,
        edges: Sequence[Edge],
        assets: Sequence[AssetInfo],
        events: Sequence[dict[str, Any]],
        samples: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        """Make ``(collector, scope)`` hold exactly these edges, asset infos and OpenLineage events, and
        the collector's job sample counts (``JobSampled``; see :meth:`job_samples`).

        One transaction: everything the scope held before is deleted and the new rows inserted, or, if
        anything fails (an exception, a killed process), nothing changes. ``edges`` is iterated once, in
        chunks, so a lazy sequence keeps memory flat. Readers see the old state until the commit.
        """
        with self.transaction(), gcpause.paused():  # millions of rows' objects, no cycles
            replace_scope(self._conn, collector, scope, edges, assets, events, samples)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction around everything done inside: ``flowscope scan`` replaces every
        collector's scope and the scan's events in one, so a scan killed at any point leaves the store
        exactly as the previous scan left it, never part old and part new. Nested uses join the outer one.

        A busy store (another scan writing) is a :class:`UserError`. For tests of that promise,
        ``FLOWSCOPE_TEST_KILL_AFTER_STATEMENTS=N`` kills the process (SIGKILL) when the transaction starts
        its N-th SQL statement (see :mod:`flowscope.store.killpoint`).
        """
        conn = self._conn
        if conn.in_transaction:
            yield
            return
        killpoint.arm(conn)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            killpoint.disarm(conn)
            raise UserError(
                f"the store is busy ({e}); is another flowscope scan writing?", path=str(self.path)
            ) from None
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            killpoint.disarm(conn)

    # -- reading -------------------------------------------------------------------------------------

    def job_samples(self, scope: str) -> dict[str, dict[tuple[str, str], int]]:
        """Per collector, the job sample counts its last scan of ``scope`` stored: a scan that does not run
        that collector (``--only``) still knows which jobs the probes sampled (scoring rule 5)."""
        out: dict[str, dict[tuple[str, str], int]] = {}
        for collector, ns, name, n in self._conn.execute(
            "SELECT s.collector, j.namespace, j.name, j.samples FROM job_samples j "
            "JOIN scopes s ON s.id = j.scope_id WHERE s.scope = ?",
            (scope,),
        ):
            out.setdefault(collector, {})[(ns, name)] = int(n)
        return out

    def record_source(self, scope: str, source: Path) -> None:
        """Note the input ``scope`` came from (:mod:`flowscope.store.sources`)."""
        sources.record(self._conn, scope, source)

    def unbacked_scopes(self) -> tuple[list[sources.StaleScope], list[sources.StaleScope]]:
        """(stale, unknown) scopes: their source is gone, or was never recorded."""
        return sources.unbacked(self._conn)

    def remove_scope(self, collector: str, scope: str) -> None:
        """Delete everything ``(collector, scope)`` holds, in one transaction, re-scoring shared keys."""
        with self.transaction():
            replace_scope(self._conn, collector, scope, [], [], [], {})
            self._conn.execute("DELETE FROM scopes WHERE collector = ? AND scope = ?", (collector, scope))
            sources.forget(self._conn, scope)

    def scopes(self) -> list[tuple[str, str]]:
        return [
            (c, s)
            for c, s in self._conn.execute("SELECT collector, scope FROM scopes ORDER BY collector, scope")
        ]

    def lookup(self, asset: Asset) -> tuple[int, int] | None:
        """The integer ids ``(id, dataset id)`` of a stored asset, or None."""
        row = self._conn.execute(
            "SELECT id, ds FROM assets WHERE namespace = ? AND name = ? AND field = ?",
            (asset.namespace, asset.name, asset.field or ""),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def lookup_many(self, assets: Iterable[Asset]) -> dict[Asset, tuple[int, int]]:
        """:meth:`lookup` for many assets in one query per 50,000 (a zone's excluded set can be large);
        assets not in the store are left out."""
        wanted = {(a.namespace, a.name, a.field or ""): a for a in assets}
        out: dict[Asset, tuple[int, int]] = {}
        sql = (
            "SELECT a.namespace, a.name, a.field, a.id, a.ds FROM assets a JOIN (SELECT "
            "json_extract(value, '$[0]') AS ns, json_extract(value, '$[1]') AS n, json_extract(value, '$[2]') AS f "
            "FROM json_each(?)) w ON a.namespace = w.ns AND a.name = w.n AND a.field = w.f"
        )
        for batch in chunks(sorted(wanted), 50_000):
            for ns, name, field, id_, ds in self._conn.execute(sql, (json.dumps(batch),)):
                out[wanted[(ns, name, field)]] = (id_, ds)
        return out

    def tags(self) -> dict[Asset, tuple[str, ...]]:
        """Every asset (dataset or field) that has tags, with the tags all scopes gave it, first seen first:
        what zones match ``tag`` sources and tagged data uses against, in one pass over the asset infos."""
        out: dict[Asset, dict[str, None]] = {}
        for ns, name, field, data in self._conn.execute(
            "SELECT a.namespace, a.name, a.field, i.data FROM asset_infos i JOIN assets a ON a.id = i.asset_id "
            "WHERE json_array_length(i.data, '$.tags') > 0 ORDER BY i.rowid"
        ):
            tags = json.loads(data).get("tags") or []
            out.setdefault(Asset(ns, name, field or None), {}).update(dict.fromkeys(str(t) for t in tags))
        return {a: tuple(t) for a, t in out.items()}

    def edges(
        self, asset: Asset | None = None, *, collector: str | None = None, scope: str | None = None
    ) -> list[Edge]:
        """Stored edges, merged per key across scopes, sorted by job, source, target.

        ``asset`` keeps edges whose source or target is that asset (for a dataset: it or any of its
        fields), pure reads included. ``collector`` / ``scope`` keep only rows those scopes stored.
        """
        cols = "id, job_id, src, dst, own, sampled, data FROM edge_rows"
        if asset is not None:
            ids = self.lookup(asset)
            if ids is None:
                return []
            id_, ds = ids
            if asset.field is None:
                sql, params = f"SELECT {cols} WHERE src_ds = ? UNION SELECT {cols} WHERE dst_ds = ?", [ds, ds]
            else:
                sql = f"SELECT {cols} WHERE src_ds = ? AND src = ? UNION SELECT {cols} WHERE dst_ds = ? AND dst = ?"
                params = [ds, id_, ds, id_]
            rows = self._conn.execute(sql, params).fetchall()
        else:
            rows = self._conn.execute(f"SELECT {cols}").fetchall()
        if collector is not None or scope is not None:
            ranges = [scope_range(i) for i in self._scope_ids(collector, scope)]
            rows = [r for r in rows if any(lo <= r[0] < hi for lo, hi in ranges)]
        rows.sort()
        return sorted(self._decode_rows(rows), key=_edge_order)

    def _scope_ids(self, collector: str | None, scope: str | None) -> list[int]:
        sql = "SELECT id FROM scopes WHERE (? IS NULL OR collector = ?) AND (? IS NULL OR scope = ?)"
        return [r[0] for r in self._conn.execute(sql, (collector, collector, scope, scope))]

    def _decode_rows(self, rows: Sequence[tuple[int, int, int, int, float, int, str]]) -> Iterator[Edge]:
        assets = assets_by_id(self._conn, {a for r in rows for a in (r[2], r[3]) if a})
        jobs = jobs_by_id(self._conn, {r[1] for r in rows})
        groups: dict[EdgeIds, list[tuple[Edge, bool]]] = defaultdict(list)
        for _, job_id, src, dst, own, sampled, data in rows:
            target = assets[dst] if dst else None
            edge = decode_edge(data, jobs[job_id], assets[src], target, own)
            groups[(job_id, src, dst)].append((edge, bool(sampled)))
        for group in groups.values():
            yield merge_rows(group)

    def edges_by_ids(self, keys: Sequence[EdgeIds]) -> list[Edge]:
        """Full merged edges for ``(job id, source id, target id)`` keys, as traversals return them."""
        return load_merged(self._conn, keys)

    def reads(self, asset: Asset) -> list[Edge]:
        """Pure reads: edges without a target whose source is ``asset`` (or, for a dataset, a field of it)."""
        return [e for e in self.edges(asset) if e.target is None]

    def readers(self) -> dict[Asset, list[tuple[str, str]]]:
        """Jobs that read a dataset (or a field of it) without writing anything, per dataset."""
        rows = self._conn.execute(
            "SELECT DISTINCT a.namespace, a.name, j.namespace, j.name FROM edge_rows e "
            "JOIN assets a ON a.id = e.src_ds JOIN jobs j ON j.id = e.job_id WHERE e.dst_ds = 0 "
            "ORDER BY a.namespace, a.name, j.namespace, j.name"
        )
        out: dict[Asset, list[tuple[str, str]]] = defaultdict(list)
        for ns, name, jns, jname in rows:
            out[Asset(ns, name)].append((jns, jname))
        return dict(out)

    def assets(self, query: str | None = None) -> list[AssetInfo]:
        """Stored datasets, one AssetInfo each, sorted by id.

        Fields are the union of every scope's schema and the fields seen in lineage (type ``""`` when only
        lineage knows them); tags and description come from asset infos. ``query`` keeps datasets whose
        ``namespace/name``, Marquez id, or any field name contains it, case-insensitively.
        """
        conn = self._conn
        fields: dict[int, list[str]] = defaultdict(list)
        datasets: dict[int, Asset] = {}
        for id_, ns, name, field, ds in conn.execute(
            "SELECT id, namespace, name, field, ds FROM assets ORDER BY id"
        ):
            if field:
                fields[ds].append(field)
            else:
                datasets[id_] = Asset(ns, name)
        docs: dict[int, list[str]] = defaultdict(list)
        for ds, field, data in conn.execute(
            "SELECT a.ds, a.field, i.data FROM asset_infos i JOIN assets a ON a.id = i.asset_id ORDER BY i.rowid"
        ):
            if field:
                continue  # field-level infos: see asset_info()
            docs[ds].append(data)
        needle = query.lower() if query else None
        out = []
        for ds, asset in sorted(datasets.items(), key=lambda kv: kv[1].id):
            info = merge_infos(asset, docs.get(ds, []), sorted(fields.get(ds, [])))
            if needle is None or _matches(needle, info):
                out.append(info)
        return out

    def asset_info(self, asset: Asset) -> AssetInfo | None:
        """What the scopes said about exactly this asset (dataset or field), merged; None if nothing."""
        ids = self.lookup(asset)
        if ids is None:
            return None
        docs = [
            r[0]
            for r in self._conn.execute(
                "SELECT data FROM asset_infos WHERE asset_id = ? ORDER BY rowid", (ids[0],)
            )
        ]
        extra: list[str] = []
        if asset.field is None:
            extra = [
                r[0]
                for r in self._conn.execute(
                    "SELECT field FROM assets WHERE ds = ? AND field != ''", (ids[1],)
                )
            ]
        return merge_infos(asset, docs, sorted(extra)) if docs or extra else AssetInfo(asset)

    def events(self, collector: str | None = None, scope: str | None = None) -> Iterator[dict[str, Any]]:
        """Stored OpenLineage events as dicts, in the order they were stored."""
        sql = "SELECT data FROM events"
        params: list[object] = []
        if collector is not None or scope is not None:
            sql += " WHERE scope_id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(self._scope_ids(collector, scope)))
        for (data,) in self._conn.execute(sql + " ORDER BY id", params):
            yield json.loads(data)

    # -- what graph traversal and asset lookup need ----------------------------------------------------

    def datasets(self) -> list[Asset]:
        return [
            Asset(ns, n)
            for ns, n in self._conn.execute("SELECT namespace, name FROM assets WHERE field = '' ORDER BY id")
        ]

    def datasets_named(self, name: str) -> list[Asset]:
        """Datasets whose name is exactly ``name``, in any namespace (an index look-up)."""
        return [
            Asset(ns, n)
            for ns, n in self._conn.execute(
                "SELECT namespace, name FROM assets WHERE field = '' AND name = ? ORDER BY id", (name,)
            )
        ]

    def datasets_ending(self, suffix: str) -> list[Asset]:
        """Datasets whose ``namespace/name`` ends with ``.suffix`` or ``/suffix`` (case-sensitive)."""
        rows = self._conn.execute(
            "SELECT namespace, name FROM assets WHERE field = '' AND "
            "substr(namespace || '/' || name, -?) IN (? , ?) ORDER BY id",
            (len(suffix) + 1, "." + suffix, "/" + suffix),
        )
        return [Asset(ns, n) for ns, n in rows]

    def fields_of(self, dataset: Asset) -> list[str]:
        """Field names known for a dataset, from lineage and from asset infos."""
        info = self.asset_info(dataset.dataset)
        return [f for f, _ in info.fields] if info else []

    def namespaces(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT namespace FROM assets")]

    def adjacent(
        self,
        nodes: Iterable[tuple[int, int]],
        direction: Literal["down", "up"],
        min_confidence: float = 0.0,
        *,
        direct_only: bool = False,
        kinds: int = 0,
    ) -> list[AdjacencyRow]:
        """Edges leaving (``down``) or entering (``up``) the given ``(node id, dataset id)`` nodes, pure reads
        left out, as rows ``(near, near_ds, far, far_ds, confidence, job_id, flags)``: near is the given side (the
        source going down, the target going up). A dataset node gets its own edges and its fields'; a
        field node its own edges and its dataset's dataset-level ones. One indexed query per kind of node
        for a whole BFS frontier.

        ``direct_only`` leaves out rows that carry only INDIRECT transformations; ``kinds`` (a mask of
        :data:`flowscope.edgeflags.KIND_BITS`, 0 for all) keeps rows with evidence of one of those kinds.
        An edge key stored by several scopes comes as one row per scope (same merged confidence, each
        with its own flags); the key's evidence kinds are the union of its rows'.
        """
        down = direction == "down"
        side_ds, side = ("src_ds", "src") if down else ("dst_ds", "dst")
        nodes = list(nodes)
        datasets = {ds for n, ds in nodes if n == ds}
        pairs = {(ds, n) for n, ds in nodes if n != ds}
        pairs |= {(ds, ds) for ds, _ in pairs if ds not in datasets}
        cols = (
            "src, src_ds, dst, dst_ds" if down else "dst, dst_ds, src, src_ds"
        ) + ", confidence, job_id, flags FROM edge_rows"
        where = "confidence >= ? AND dst != 0"
        params: list[object] = [min_confidence]
        if direct_only:
            where += f" AND (flags & {DIRECT | INDIRECT}) != {INDIRECT}"
        if kinds:
            where += " AND (flags = 0 OR (flags & ?) != 0)"
            params.append(kinds)
        by_dataset = f"SELECT {cols} WHERE {side_ds} IN (SELECT value FROM json_each(?)) AND {where}"
        by_node = (
            f"SELECT {cols} WHERE ({side_ds}, {side}) IN (SELECT json_extract(value, '$[0]'), "
            f"json_extract(value, '$[1]') FROM json_each(?)) AND {where}"
        )
        out: list[AdjacencyRow] = []
        for sql, items in ((by_dataset, sorted(datasets)), (by_node, sorted(pairs))):
            for batch in chunks(items, 50_000):
                out.extend(self._conn.execute(sql, (json.dumps(batch), *params)))
        return out

    def assets_by_id(self, ids: Iterable[int]) -> dict[int, Asset]:
        return assets_by_id(self._conn, ids)

    def jobs_by_id(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        return jobs_by_id(self._conn, ids)


def _matches(needle: str, info: AssetInfo) -> bool:
    a = info.asset
    if needle in f"{a.namespace}/{a.name}".lower() or needle in a.id.lower():
        return True
    return any(needle in f.lower() for f, _ in info.fields)


def _edge_order(e: Edge) -> tuple[str, str, str, str]:
    return (e.job.namespace, e.job.name, e.source.id, e.target.id if e.target else "")
