"""What each endpoint answers, as plain functions over an open store (no HTTP here, so they are tested and
benchmarked without a server). Walks, statuses and decisions come from core (:mod:`flowscope.graph`,
:mod:`flowscope.zones`); nothing here keeps a copy of them between requests.

Request values arrive as text and are checked here: a bad one raises :class:`BadRequest` (HTTP 400) and
an asset or zone that does not exist raises :class:`NotFound` (HTTP 404), each with one plain sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowscope import assetref, graph
from flowscope.cli.lineage import edge_json
from flowscope.errors import UserError
from flowscope.graph import WalkOptions
from flowscope.model import SIGNAL_KINDS, Asset
from flowscope.store import Store

STATUS_SORT = ("status", "asset", "confidence", "hops", "decision")


class BadRequest(UserError):
    """A request value the API cannot use (HTTP 400)."""


class NotFound(UserError):
    """An asset, zone or path that does not exist (HTTP 404)."""


Params = Mapping[str, str]


def text(params: Params, key: str, default: str | None = None, *, limit: int = 2000) -> str:
    value = params.get(key, default)
    if value is None:
        raise BadRequest(f"missing parameter {key!r}")
    if len(value) > limit:
        raise BadRequest(f"parameter {key!r} is longer than {limit} characters")
    return value


def integer(params: Params, key: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"parameter {key!r} must be an integer, got {raw[:40]!r}") from None
    if not lo <= value <= hi:
        raise BadRequest(f"parameter {key!r} must be between {lo} and {hi}, got {value}")
    return value


def number(params: Params, key: str, default: float, lo: float, hi: float) -> float:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"parameter {key!r} must be a number, got {raw[:40]!r}") from None
    if not lo <= value <= hi:  # also refuses nan
        raise BadRequest(f"parameter {key!r} must be between {lo:g} and {hi:g}, got {raw[:40]}")
    return value


def flag(params: Params, key: str) -> bool:
    raw = params.get(key, "").lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise BadRequest(f"parameter {key!r} must be true or false, got {raw[:40]!r}")


def listing(params: Params, key: str) -> tuple[str, ...]:
    raw = params.get(key, "")
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def walk_options(params: Params) -> WalkOptions:
    kinds = listing(params, "kinds")
    for k in kinds:
        if k not in SIGNAL_KINDS:
            raise BadRequest(f"unknown evidence kind {k!r}; expected one of {', '.join(SIGNAL_KINDS)}")
    return WalkOptions(
        depth=integer(params, "depth", 2, 1, 20),
        min_confidence=number(params, "min_confidence", 0.0, 0.0, 1.0),
        direct_only=flag(params, "direct_only"),
        kinds=frozenset(kinds),
    )


def resolve(store: Store, raw: str, namespaces: Callable[[], list[str]]) -> Asset:
    """An asset from an id (``dataset:...``, ``datasetField:...``) or any short form ``lineage`` takes.
    Ids are parsed against the stored namespaces the caller caches, so a lookup on a big store is one
    indexed query; short forms go through :func:`flowscope.assetref.resolve`."""
    raw = raw.strip()
    if not raw:
        raise BadRequest("empty asset name")
    try:
        if raw.startswith(("dataset:", "datasetField:")):
            asset = assetref.parse_id(raw, namespaces())
            if store.lookup(asset) is None:
                raise NotFound(f"unknown asset {raw}")
            return asset
        return assetref.resolve(store, raw)
    except NotFound:
        raise
    except UserError as exc:
        message = str(exc)
        if "ambiguous" in message or "bad " in message[:10]:
            raise BadRequest(message) from None
        raise NotFound(message) from None


def search(store: Store, query: str, limit: int) -> list[dict[str, Any]]:
    """Datasets and fields whose ``namespace/name[#field]`` contains the query, exact names first."""
    needle = query.strip().lower()
    if not needle:
        return []
    name_part = needle.replace("#", ".").rsplit(".", 1)[0] if ("#" in needle or "." in needle) else needle
    out: list[tuple[int, str, dict[str, Any]]] = []
    for info in store.assets(name_part if name_part else needle):
        a = info.asset
        full = f"{a.namespace}/{a.name}".lower()
        if needle in full or needle in a.name.lower():
            rank = 0 if a.name.lower() == needle or full.endswith("/" + needle) else 2
            out.append((rank, a.id, {"id": a.id, "label": f"{a.namespace}/{a.name}", "kind": "dataset"}))
        for f, _ in info.fields:
            for form in (f"{a.name}.{f}".lower(), f"{a.name}#{f}".lower()):
                if needle in form or needle in f"{a.namespace}/{form}":
                    exact = form == needle or form.endswith(("." + needle, "/" + needle))
                    fid = a.with_field(f).id
                    row = {"id": fid, "label": f"{a.namespace}/{a.name}#{f}", "kind": "field"}
                    out.append((1 if exact else 3, fid, row))
                    break
    out.sort(key=lambda t: (t[0], len(t[1]), t[1]))
    seen: set[str] = set()
    rows = []
    for _, i, row in out:
        if i not in seen:
            seen.add(i)
            rows.append(row)
    return rows[:limit]


def asset_details(store: Store, asset: Asset, tags: Mapping[Asset, tuple[str, ...]]) -> dict[str, Any]:
    """Fields, tags, description and owners of an asset. Owners are ``owner:`` tags and the owners of
    the jobs that write it (OpenLineage carries ownership on jobs)."""
    info = store.asset_info(asset)
    own_tags = list(tags.get(asset, ()))
    if asset.field is not None:
        own_tags += [t for t in tags.get(asset.dataset, ()) if t not in own_tags]
    owners = {t.removeprefix("owner:") for t in own_tags if t.startswith("owner:")}
    writers: set[tuple[str, str]] = set()
    for e in store.edges(asset):
        if e.target is not None and e.target.dataset == asset.dataset:
            writers.add(e.job.key)
            if e.job.owner:
                owners.add(e.job.owner)
    return {
        "id": asset.id,
        "namespace": asset.namespace,
        "name": asset.name,
        "field": asset.field,
        "fields": [{"name": n, "type": t} for n, t in (info.fields if info else ())],
        "tags": own_tags,
        "description": info.description if info else "",
        "owners": sorted(owners),
        "writers": [{"namespace": ns, "name": n} for ns, n in sorted(writers)],
    }


def edge_details(store: Store, source: Asset, target: Asset) -> dict[str, Any]:
    """Every stored edge that carries data from ``source`` to ``target`` as the graph draws them: the
    exact pair, or a dataset-level edge between their datasets (which carries every field)."""
    sources = {source, source.dataset}
    targets = {target, target.dataset}
    edges = [e for e in store.edges(source.dataset) if e.source in sources and e.target in targets]
    if not edges:
        raise NotFound(f"no stored edge from {source.id} to {target.id}")
    return {
        "source": source.id,
        "target": target.id,
        # runtime match types (EXACT_MATCH, CONTAINS, NO_MATCH) are on the edge's bases, not its evidence
        "edges": [{**edge_json(e), "matches": sorted({b.match for b in e.bases if b.match})} for e in edges],
    }


def why(store: Store, source: Asset, target: Asset, options: WalkOptions) -> dict[str, Any]:
    x = graph.why(store, source, target, options=options)
    if x is None:
        raise NotFound(f"no flow from {source.id} to {target.id} under these filters")
    return {
        "source": x.source.id,
        "target": x.target.id,
        "confidence": x.confidence,
        "hops": len(x.edges),
        "path": [edge_json(e) for e in x.edges],
    }
