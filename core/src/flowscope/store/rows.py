"""Edges -> ``edge_rows`` rows for one write: the per-edge half of :func:`flowscope.store.write.replace_scope`.

The edges of one scan or ingested file share a handful of evidence kinds, transformation sets, jobs,
timestamps and (for an ingest) evidence objects: every event's evidence stands behind all of its column
edges. So each distinct one is summarised (flags, evidence text, score) and JSON-encoded once per write,
and an edge's document is the concatenation of cached pieces. The document equals
:func:`flowscope.store.codec.edge_doc` up to the order inside its sets (sorted here, so the same edges
always make the same bytes). Measured in-process on 174k ingested column edges (``bench/ingest_bench.py``'s
events): ~8 us of Python per edge for the row, beside ~7 us for ids and ~4 us in SQLite.

Ids: assets and jobs are resolved in bulk per chunk (one temporary table and one join each), and the
asset cache is bounded (:data:`ASSET_CACHE_MAX`) so a ten-million-edge load does not keep every asset's
name in memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

from flowscope import scoring
from flowscope.edgeflags import DIRECT, INDIRECT, KIND_BITS, MASKED
from flowscope.model import Basis, Edge, Evidence, Job, Transformation
from flowscope.store.codec import _encode, _job_doc

AssetKey = tuple[str, str, str]
JobKey = tuple[str, str]
NO_TARGET: AssetKey = ("", "", "")
ASSET_CACHE_MAX = 400_000  # ~150 MB of names and ids; past it the cache starts again (ids stay in SQLite)
OBJECT_CACHE_MAX = 20_000  # entries per cache; past it the cache starts again (edges come grouped by job)
_FIND = (
    "SELECT n.ns, n.name, n.field, a.id, a.ds FROM temp.need n CROSS "
    "JOIN assets a ON a.namespace = n.ns AND a.name = n.name AND a.field = n.field"
)
# (id, job_id, src, dst, src_ds, dst_ds, confidence, own, sampled, bases, data, flags)
Row = tuple[int, int, int, int, int, int, float, float, bool, str, str, int]


def asset_key_of(namespace: str, name: str, field: str | None) -> AssetKey:
    return (namespace, name, field or "")


class IdResolver:
    """Integer ids ``(id, dataset id)`` for assets and ids for jobs, created on first use (in name order,
    so ties in walks resolve the same way on every run of the same input), cached for one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.assets: dict[AssetKey, tuple[int, int]] = {NO_TARGET: (0, 0)}
        self.jobs: dict[JobKey, int] = {}
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS need (ns TEXT, name TEXT, field TEXT)")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS need_jobs (ns TEXT, name TEXT)")

    def resolve_assets(self, keys: Iterable[AssetKey]) -> None:
        known = self.assets
        keys = set(keys)
        # Membership tests only: set.difference_update(dict) would iterate the whole (growing) cache.
        missing = {k for k in keys if k not in known}
        if not missing:
            return
        if len(known) + len(missing) > ASSET_CACHE_MAX:  # start again: every key of this batch is looked up
            known.clear()
            known[NO_TARGET] = (0, 0)
            missing = keys - {NO_TARGET}
        missing.update([d for k in missing if k[2] and (d := (k[0], k[1], "")) not in known])
        c = self.conn
        c.execute("DELETE FROM temp.need")
        c.executemany("INSERT INTO temp.need VALUES (?, ?, ?)", sorted(missing))
        # Look up first: a re-scan or an overlapping scope names assets the store already has, and one join
        # is all they need; only the rest are created (datasets first, in name order) and looked up again.
        found = c.execute(_FIND).fetchall()
        if len(found) < len(missing):
            c.execute(
                "DELETE FROM temp.need WHERE EXISTS (SELECT 1 FROM assets a "
                "WHERE a.namespace = need.ns AND a.name = need.name AND a.field = need.field)"
            )
            c.execute(
                "INSERT OR IGNORE INTO assets (namespace, name, field, ds) SELECT ns, name, '', 0 FROM temp.need WHERE field = ''"
            )
            c.execute("UPDATE assets SET ds = id WHERE ds = 0")
            c.execute(
                "INSERT OR IGNORE INTO assets (namespace, name, field, ds) SELECT n.ns, n.name, n.field, d.id "
                "FROM temp.need n CROSS JOIN assets d ON d.namespace = n.ns AND d.name = n.name AND d.field = '' "
                "WHERE n.field != ''"
            )
            found += c.execute(_FIND).fetchall()
        for ns, name, field, id_, ds in found:
            known[(ns, name, field)] = (id_, ds)

    def resolve_jobs(self, keys: Iterable[JobKey]) -> None:
        missing = {k for k in keys if k not in self.jobs}
        if not missing:
            return
        c = self.conn
        c.execute("DELETE FROM temp.need_jobs")
        c.executemany("INSERT INTO temp.need_jobs VALUES (?, ?)", sorted(missing))
        c.execute(
            "INSERT OR IGNORE INTO jobs (namespace, name) SELECT ns, name FROM temp.need_jobs ORDER BY rowid"
        )
        found = c.execute(
            "SELECT n.ns, n.name, j.id FROM temp.need_jobs n CROSS JOIN jobs j ON j.namespace = n.ns AND j.name = n.name"
        )
        for ns, name, id_ in found:
            self.jobs[(ns, name)] = id_


def _basis_order(b: Basis) -> tuple[str, str]:
    return (b.kind, b.match or "")


def _text(b: Basis) -> str:
    return f"{b.kind}:{b.match}" if b.match else b.kind


class RowMaker:
    """Builds rows for one write; holds the caches described in the module docstring."""

    def __init__(self, ids: IdResolver) -> None:
        self.ids = ids
        # bases -> (evidence summary for merging, kind bits, JSON, score of the bases alone)
        self._bases: dict[object, tuple[str, int, str, float]] = {}
        self._transforms: dict[object, tuple[int, str]] = {}
        self._strings: dict[object, str] = {frozenset(): "[]"}
        self._times: dict[int, tuple[datetime, str]] = {}
        self._evidence: dict[int, tuple[Evidence, str]] = {}
        self._jobs: dict[int, tuple[Job, str]] = {}

    def _bases_info(self, bases: set[Basis]) -> tuple[str, int, str, float]:
        key: object = next(iter(bases)) if len(bases) == 1 else frozenset(bases)
        hit = self._bases.get(key)
        if hit is None:
            if len(self._bases) >= OBJECT_CACHE_MAX:
                self._bases.clear()
            ordered = sorted(bases, key=_basis_order)
            bits = 0
            for b in ordered:
                bits |= KIND_BITS.get(b.kind, 0)
            hit = (
                ",".join(sorted(_text(b) for b in ordered)),
                bits,
                _encode([[b.kind, b.match] for b in ordered]),
                scoring.score(ordered),
            )
            self._bases[key] = hit
        return hit

    def _transforms_info(self, transforms: set[Transformation]) -> tuple[int, str]:
        if not transforms:
            return (DIRECT, "[]")
        key: object = next(iter(transforms)) if len(transforms) == 1 else frozenset(transforms)
        hit = self._transforms.get(key)
        if hit is None:
            if len(self._transforms) >= OBJECT_CACHE_MAX:
                self._transforms.clear()
            ordered = sorted(transforms)
            flags = 0
            for t in ordered:
                flags |= DIRECT if t.type == "DIRECT" else INDIRECT
            if all(t.masking for t in ordered):
                flags |= MASKED
            hit = (flags, _encode([[t.type, t.subtype, t.masking, t.description] for t in ordered]))
            self._transforms[key] = hit
        return hit

    def _strings_json(self, values: set[str]) -> str:
        key: object = next(iter(values)) if len(values) == 1 else frozenset(values)
        hit = self._strings.get(key)
        if hit is None:
            if len(self._strings) >= OBJECT_CACHE_MAX:
                self._strings.clear()
            hit = self._strings[key] = _encode(sorted(values))
        return hit

    def _time_json(self, value: datetime | None) -> str:
        if value is None:
            return "null"
        # By identity (the edges of one event share its time object; held by the cache, so its id is
        # not reused while cached), not by value: equal instants in two zones print differently.
        hit = self._times.get(id(value))
        if hit is None:
            if len(self._times) >= OBJECT_CACHE_MAX:
                self._times.clear()
            hit = self._times[id(value)] = (value, _encode(value.isoformat()))
        return hit[1]

    def _one_evidence(self, ev: Evidence) -> str:
        cache = self._evidence
        hit = cache.get(id(ev))
        if hit is None:  # held by the cache, so its id is not reused while cached
            if len(cache) >= OBJECT_CACHE_MAX:
                cache.clear()
            hit = cache[id(ev)] = (ev, _encode([ev.collector, ev.kind, ev.location, ev.snippet, ev.detail]))
        return hit[1]

    def _evidence_json(self, evidence: list[Evidence]) -> str:
        if len(evidence) == 1:
            return "[" + self._one_evidence(evidence[0]) + "]"
        return "[" + ",".join(map(self._one_evidence, evidence)) + "]"

    def _job_json(self, job: Job) -> str:
        hit = self._jobs.get(id(job))
        if hit is None:
            if len(self._jobs) >= OBJECT_CACHE_MAX:
                self._jobs.clear()
            doc = _job_doc(job)
            hit = self._jobs[id(job)] = (job, "null" if doc is None else _encode(doc))
        return hit[1]

    def rows(self, batch: Sequence[Edge], first_id: int) -> list[Row]:
        """The rows of ``batch``, numbered from ``first_id``; ids resolved for the whole batch at once."""
        skeys = [(s.namespace, s.name, s.field or "") for s in (e.source for e in batch)]
        tkeys = [
            NO_TARGET if (t := e.target) is None else (t.namespace, t.name, t.field or "") for e in batch
        ]
        jkeys = [(e.job.namespace, e.job.name) for e in batch]
        ids = self.ids
        ids.resolve_assets(set(skeys).union(tkeys))
        ids.resolve_jobs(set(jkeys))
        assets, jobs = ids.assets, ids.jobs
        bases_info, transforms_info, strings = self._bases_info, self._transforms_info, self._strings_json
        time_json, evidence_json, job_json = self._time_json, self._evidence_json, self._job_json
        unobserved = scoring.UNOBSERVED
        out: list[Row] = []
        append = out.append
        n = first_id
        for e, sk, tk, jk in zip(batch, skeys, tkeys, jkeys, strict=True):
            btext, kind_bits, bjson, alone = bases_info(e.bases)
            tflags, tjson = transforms_info(e.transformations)
            s, d = assets[sk], assets[tk]
            conf = e.confidence
            doc = (
                f"[{bjson},{tjson},{evidence_json(e.evidence)},{e.count},{strings(e.collectors)},"
                f"{strings(e.guards)},{time_json(e.first_seen)},{time_json(e.last_seen)},{job_json(e.job)}]"
            )
            # was the edge lowered because its job was sampled often (scoring rule 5)? see write.was_sampled
            sampled = conf == unobserved and alone != unobserved
            append((n, jobs[jk], s[0], d[0], s[1], d[1], conf, conf, sampled, btext, doc, tflags | kind_bits))
            n += 1
        return out
