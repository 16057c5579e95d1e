"""Signals -> edges: normalize names, dedup, merge evidence, score.

Pure functions over the model, used by the scan pipeline and by the store when it combines what several
collectors found for the same edge.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from datetime import datetime
from functools import lru_cache

from flowscope import scoring
from flowscope.model import Asset, Basis, Edge, Evidence, Job, Signal
from flowscope.redact import redact_evidence, strip_url

EdgeKey = tuple[str, str, Asset, Asset | None]


def _strip_quotes(part: str) -> str:
    part = part.strip()
    if len(part) >= 2 and part[0] == part[-1] and part[0] in "\"`'":
        return part[1:-1]
    if len(part) >= 2 and part[0] == "[" and part[-1] == "]":
        return part[1:-1]
    return part


def normalize_namespace(namespace: str) -> str:
    """Lower-case the scheme and authority (hosts are case-insensitive) and drop a trailing slash;
    credentials (``user:password@``, ``?token=``) are no part of a name (:func:`flowscope.redact.strip_url`)."""
    namespace = strip_url(namespace.strip())
    scheme, sep, rest = namespace.partition("://")
    if not sep:
        return namespace.rstrip("/") or namespace
    authority, slash, path = rest.partition("/")
    tail = f"{slash}{path}".rstrip("/")
    return f"{scheme.lower()}://{authority.lower()}{tail}"


# Whitespace, quotes, brackets, or what flowscope.redact.strip_url looks for (user-info, query values):
# a name or field the slow path may change. Most names have none.
_SPECIAL = re.compile(r"[\s\"'`\[=@]")


@lru_cache(maxsize=1 << 10)
def _namespace(namespace: str) -> str:
    return normalize_namespace(namespace)


def normalize_asset(asset: Asset) -> Asset:
    """One spelling per asset: quotes around identifier parts removed, whitespace trimmed.

    Table names keep their case (some engines are case-sensitive); plugins that know their engine folds
    case should fold it themselves. An asset that is already spelled so (no whitespace, quotes or
    brackets, a normalized namespace) is returned as it is, after one regex search per part: an ingest
    of 100,000 column edges names 150,000 distinct assets, too many for the memo of the slow path.
    """
    if (
        _namespace(asset.namespace) == asset.namespace
        and not _SPECIAL.search(asset.name)
        and (asset.field is None or not _SPECIAL.search(asset.field))
    ):
        return asset
    return _normalize_asset(asset)


@lru_cache(maxsize=1 << 16)
def _normalize_asset(asset: Asset) -> Asset:
    """The slow path of :func:`normalize_asset`, memoized: a scan's signals name the same assets again and
    again (35,000 static signals of 253k lines of code name 48 distinct assets)."""
    name = strip_url(asset.name.strip())
    if not name.startswith("/") and "://" not in name:
        name = ".".join(_strip_quotes(p) for p in name.split("."))
    field = _strip_quotes(asset.field) if asset.field is not None else None
    return Asset(normalize_namespace(asset.namespace), name, field or None)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _richer_job(a: Job, b: Job) -> Job:
    """Keep the job description that says more (SQL text, a source location, a specific type)."""
    return b if b.richness > a.richness else a


def merge_signals(
    signals: Iterable[tuple[str, Signal]],
    job_samples: Mapping[tuple[str, str], int] | None = None,
    *,
    origins: Iterable[Hashable] | None = None,
) -> list[Edge]:
    """Merge ``(collector, signal)`` pairs into scored edges, one per (job, source, target).

    Identical evidence is kept once; counts add up; first/last seen span all signals. ``origins``, one
    per signal, makes an edge's count the number of distinct origins among its signals instead (an
    ingest counts one observation per event, however many transformations the event lists).

    This is the hot loop of a scan and of an ingest (a signal per column edge), so what many signals
    share is worked out once per object: the same Asset is normalized once and the same Evidence
    redacted once (memos keyed by identity, holding the object so its id stays unique), and scores
    are computed once per distinct evidence summary.
    """
    edges: dict[EdgeKey, Edge] = {}
    seen_evidence: dict[EdgeKey, set[Evidence]] = {}
    seen_origins: dict[EdgeKey, set[Hashable]] = {}
    names: dict[int, tuple[Asset, Asset]] = {}
    redacted: dict[int, tuple[Evidence, Evidence]] = {}
    bases: dict[tuple[str, str | None], Basis] = {}
    pairs: Iterable[tuple[tuple[str, Signal], Hashable]] = (
        ((pair, None) for pair in signals) if origins is None else zip(signals, origins, strict=True)
    )
    for (collector, sig), origin in pairs:
        named = names.get(id(sig.source))
        if named is None:
            named = names[id(sig.source)] = (sig.source, normalize_asset(sig.source))
        source = named[1]
        target = None
        if sig.target is not None:
            named = names.get(id(sig.target))
            if named is None:
                named = names[id(sig.target)] = (sig.target, normalize_asset(sig.target))
            target = named[1]
        key: EdgeKey = (sig.job.namespace, sig.job.name, source, target)
        edge = edges.get(key)
        if edge is None:
            edge = edges[key] = Edge(job=sig.job, source=source, target=target)
            seen = seen_evidence[key] = set()
            if origins is not None:
                seen_origins[key] = {origin}
        else:
            edge.job = _richer_job(edge.job, sig.job)
            seen = seen_evidence[key]
            if origins is not None:
                seen_origins[key].add(origin)
        basis = bases.get((sig.kind, sig.match))
        if basis is None:
            basis = bases[(sig.kind, sig.match)] = Basis(sig.kind, sig.match)
        edge.bases.add(basis)
        edge.transformations.add(sig.transformation)
        edge.collectors.add(collector)
        if sig.guard:
            edge.guards.add(sig.guard)
        edge.count += sig.count
        if sig.first_seen is not None or sig.last_seen is not None:
            edge.first_seen = _earliest(edge.first_seen, sig.first_seen)
            edge.last_seen = _latest(edge.last_seen, sig.last_seen)
        for raw in sig.evidence:
            done = redacted.get(id(raw))
            if done is None:
                done = redacted[id(raw)] = (raw, redact_evidence(raw))
            ev = done[1]
            if ev not in seen:
                seen.add(ev)
                edge.evidence.append(ev)
    if origins is not None:
        for key, edge in edges.items():
            edge.count = len(seen_origins[key])
    _score_all(edges.values(), job_samples or {})
    return sorted(edges.values(), key=_sort_key)


def _score_all(edges: Iterable[Edge], samples: Mapping[tuple[str, str], int]) -> None:
    """Score every edge, once per distinct (evidence summary, job sample count)."""
    scores: dict[tuple[object, int], float] = {}
    for edge in edges:
        n = samples.get(edge.job.key, 0) if samples else 0
        key = (next(iter(edge.bases)) if len(edge.bases) == 1 else frozenset(edge.bases), n)
        conf = scores.get(key)
        if conf is None:
            conf = scores[key] = scoring.score(edge.bases, n)
        edge.confidence = conf


def merge_edges(
    edges: Iterable[Edge], job_samples: Mapping[tuple[str, str], int] | None = None
) -> list[Edge]:
    """Combine already-merged edges (from several collectors or scans) that share a key, and re-score."""
    out: dict[EdgeKey, Edge] = {}
    for e in edges:
        cur = out.get(e.key)
        if cur is None:
            out[e.key] = Edge(
                job=e.job,
                source=e.source,
                target=e.target,
                bases=set(e.bases),
                transformations=set(e.transformations),
                evidence=list(e.evidence),
                collectors=set(e.collectors),
                guards=set(e.guards),
                count=e.count,
                first_seen=e.first_seen,
                last_seen=e.last_seen,
            )
            continue
        cur.job = _richer_job(cur.job, e.job)
        cur.bases |= e.bases
        cur.transformations |= e.transformations
        cur.collectors |= e.collectors
        cur.guards |= e.guards
        cur.count += e.count
        cur.first_seen = _earliest(cur.first_seen, e.first_seen)
        cur.last_seen = _latest(cur.last_seen, e.last_seen)
        known = set(cur.evidence)
        cur.evidence.extend(ev for ev in e.evidence if ev not in known)
    _score_all(out.values(), job_samples or {})
    return sorted(out.values(), key=_sort_key)


def _sort_key(e: Edge) -> tuple[str, str, str, str]:
    return (e.job.namespace, e.job.name, e.source.id, e.target.id if e.target else "")
