"""A zone bound to a store: its sources as stored assets, its decisions by asset, its purposes.

This is where a zone file meets the graph, so this is where "a source that matches nothing" and "a
decision on an asset the store no longer holds" are found: the first is an error naming the zone file's
line, the second is reported and the decision kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flowscope import assetref
from flowscope.errors import UserError
from flowscope.model import Asset
from flowscope.store import Store
from flowscope.zones import taxonomy
from flowscope.zones.patterns import AssetPattern
from flowscope.zones.purposes import Purposes, categories_of
from flowscope.zones.review import Decision, Review
from flowscope.zones.spec import Source, Zone
from flowscope.zones.workspace import Workspace


@dataclass
class Bound:
    """One zone over one store. ``decisions`` holds decisions on stored assets; ``missing`` the others."""

    zone: Zone
    review: Review
    sources: tuple[Asset, ...]
    decisions: dict[Asset, Decision]
    missing: tuple[Decision, ...]
    purposes: Purposes
    tags: Mapping[Asset, tuple[str, ...]]

    def __post_init__(self) -> None:
        self._by_key = {(a.namespace, a.name, a.field or ""): d for a, d in self.decisions.items()}

    def decision_of(self, asset: Asset) -> tuple[Decision | None, bool]:
        """The decision that applies to ``asset`` and whether it is inherited from its dataset: a field
        without a decision of its own follows its dataset's. (Tuple keys: called for every reached asset.)"""
        if not self._by_key:
            return None, False
        own = self._by_key.get((asset.namespace, asset.name, asset.field or ""))
        if own is not None or asset.field is None:
            return own, False
        inherited = self._by_key.get((asset.namespace, asset.name, ""))
        return inherited, inherited is not None

    @property
    def excluded(self) -> frozenset[Asset]:
        return frozenset(a for a, d in self.decisions.items() if d.decision == "exclude")

    @property
    def kept(self) -> frozenset[Asset]:
        """Assets a person put in the zone (included, or a violation acknowledged)."""
        return frozenset(a for a, d in self.decisions.items() if d.decision != "exclude")


def bind(store: Store, ws: Workspace, zone: Zone, review: Review | None = None) -> Bound:
    """Resolve ``zone``'s sources and decisions against ``store``; UserError for a source matching nothing."""
    review = review if review is not None else ws.review(zone)
    tags = store.tags()
    sources: dict[Asset, None] = {}
    for src in zone.sources:
        for asset in _select(store, zone, src, tags):
            sources.setdefault(asset, None)
    namespaces = store.namespaces()
    parsed: dict[str, Asset] = {}
    unparsable: list[Decision] = []
    for asset_id, d in review.decisions.items():
        try:
            parsed[asset_id] = assetref.parse_id(asset_id, namespaces)
        except UserError:
            unparsable.append(d)
    stored = store.lookup_many(parsed.values())
    decisions = {a: review.decisions[i] for i, a in parsed.items() if a in stored}
    missing = tuple(unparsable) + tuple(review.decisions[i] for i, a in parsed.items() if a not in stored)
    purposes = Purposes(zone.purposes, ws.purposes, tags)
    return Bound(zone, review, tuple(sources), decisions, missing, purposes, tags)


def _fail(zone: Zone, src: Source, message: str) -> UserError:
    return UserError(f"{src.key}: {message}", zone.display, src.line)


def _by_id(asset: Asset) -> str:
    return asset.id


def _select(store: Store, zone: Zone, src: Source, tags: Mapping[Asset, tuple[str, ...]]) -> list[Asset]:
    if src.kind == "asset":
        try:
            return [assetref.resolve(store, src.value)]
        except UserError as exc:
            raise _fail(zone, src, exc.message) from None
    if src.kind == "glob":
        pattern = AssetPattern.parse(src.value)
        if pattern.for_fields:
            infos = store.assets()
            fields = [i.asset.with_field(f) for i in infos for f, _ in i.fields]
            candidates = [a for a in fields if pattern.matches(a)]
            found = sorted(store.lookup_many(candidates), key=_by_id)
        else:
            found = [d for d in store.datasets() if pattern.matches(d)]
    elif src.kind == "tag":
        found = sorted((a for a, t in tags.items() if src.value in t), key=_by_id)
    else:  # data_category
        found = sorted(
            (a for a, t in tags.items() if any(taxonomy.covers(src.value, c) for c in categories_of(t))),
            key=_by_id,
        )
    if not found:
        what = {"glob": "the glob", "tag": "the tag", "data_category": "the data category"}[src.kind]
        raise _fail(zone, src, f"{what} {src.value!r} matches no asset in the store")
    return found
