"""Where a sink's data use comes from, in order: the zone file's ``purposes:``, the config's
``purposes:`` (both ``asset pattern -> fideslang data use``), and tags already on the asset
(``data_use:marketing.advertising`` or ``purpose:...``, from declared flows or ingested OpenLineage tags
facets). An asset gets the union of them; a dataset's uses are its fields' too.

Data categories ride on tags the same way (``data_category:user.location.precise``), which is how zone
sources by category find the fields static analysis classified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flowscope.model import Asset
from flowscope.zones.spec import PurposeRule

USE_TAG_KEYS = ("data_use", "purpose")
CATEGORY_TAG_KEY = "data_category"


@dataclass(frozen=True)
class Use:
    """One data use of an asset and where it was stated (``flowscope.yaml:31``, ``tag data_use:...``)."""

    use: str
    origin: str

    def to_json(self) -> dict[str, str]:
        return {"use": self.use, "origin": self.origin}


def tag_value(tag: str, keys: Sequence[str]) -> str | None:
    """The value of a ``key:value`` or ``key=value`` tag whose key is one of ``keys``, else None."""
    for sep in (":", "="):
        key, found, value = tag.partition(sep)
        if found and key in keys and value:
            return value
    return None


class Purposes:
    """The data uses of assets under one zone's rules, the config's rules and the stored tags.

    Answers are cached per dataset (a walk reaches many fields of few datasets) and keyed by plain tuples:
    hashing 100,000 dataclass assets twice each was a tenth of a status at that size."""

    def __init__(
        self,
        zone_rules: Sequence[PurposeRule],
        config_rules: Sequence[PurposeRule],
        tags: Mapping[Asset, Sequence[str]],
    ) -> None:
        rules = [*zone_rules, *config_rules]
        self._dataset_rules = [r for r in rules if not r.pattern.for_fields]
        self._field_rules = [r for r in rules if r.pattern.for_fields]
        self._tag_uses: dict[tuple[str, str, str], list[Use]] = {}
        for asset, asset_tags in tags.items():
            for tag in asset_tags:
                value = tag_value(tag, USE_TAG_KEYS)
                if value is not None:
                    key = (asset.namespace, asset.name, asset.field or "")
                    self._tag_uses.setdefault(key, []).append(Use(value, f"tag {tag}"))
        self._datasets: dict[tuple[str, str], tuple[Use, ...]] = {}

    def _dataset_uses(self, namespace: str, name: str) -> tuple[Use, ...]:
        found = self._datasets.get((namespace, name))
        if found is None:
            dataset = Asset(namespace, name)
            uses = [
                Use(u, r.origin) for r in self._dataset_rules if r.pattern.matches(dataset) for u in r.uses
            ]
            uses += self._tag_uses.get((namespace, name, ""), [])
            found = self._datasets[(namespace, name)] = _unique(uses)
        return found

    def uses_of(self, asset: Asset) -> tuple[Use, ...]:
        """Every data use stated for ``asset`` and, for a field, its dataset; each use once."""
        of_dataset = self._dataset_uses(asset.namespace, asset.name)
        if asset.field is None:
            return of_dataset
        own = self._tag_uses.get((asset.namespace, asset.name, asset.field), [])
        if self._field_rules:
            own = [
                Use(u, r.origin) for r in self._field_rules if r.pattern.matches(asset) for u in r.uses
            ] + own
        return _unique([*own, *of_dataset]) if own else of_dataset


def _unique(uses: Sequence[Use]) -> tuple[Use, ...]:
    seen: dict[str, Use] = {}
    for u in uses:
        seen.setdefault(u.use, u)
    return tuple(seen.values())


def categories_of(tags: Sequence[str]) -> list[str]:
    """The fideslang data categories among an asset's tags (``data_category:user.location.precise``)."""
    return [v for t in tags if (v := tag_value(t, (CATEGORY_TAG_KEY,))) is not None]
