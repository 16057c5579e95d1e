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

    Dataset-level answers are cached: a walk reaches many fields of few datasets."""

    def __init__(
        self,
        zone_rules: Sequence[PurposeRule],
        config_rules: Sequence[PurposeRule],
        tags: Mapping[Asset, Sequence[str]],
    ) -> None:
        self._rules = [*zone_rules, *config_rules]
        self._dataset_rules = [r for r in self._rules if not r.pattern.for_fields]
        self._field_rules = [r for r in self._rules if r.pattern.for_fields]
        self._tags = tags
        self._cache: dict[Asset, tuple[Use, ...]] = {}

    def _own(self, asset: Asset, rules: Sequence[PurposeRule]) -> list[Use]:
        out = [Use(u, r.origin) for r in rules if r.pattern.matches(asset) for u in r.uses]
        for tag in self._tags.get(asset, ()):
            value = tag_value(tag, USE_TAG_KEYS)
            if value is not None:
                out.append(Use(value, f"tag {tag}"))
        return out

    def uses_of(self, asset: Asset) -> tuple[Use, ...]:
        """Every data use stated for ``asset`` (and, for a field, its dataset), each use once."""
        found = self._cache.get(asset)
        if found is not None:
            return found
        uses = self._own(asset, self._field_rules if asset.field is not None else self._dataset_rules)
        if asset.field is not None:
            uses += self.uses_of(asset.dataset)
        seen: dict[str, Use] = {}
        for u in uses:
            seen.setdefault(u.use, u)
        result = tuple(seen.values())
        self._cache[asset] = result
        return result


def categories_of(tags: Sequence[str]) -> list[str]:
    """The fideslang data categories among an asset's tags (``data_category:user.location.precise``)."""
    return [v for t in tags if (v := tag_value(t, (CATEGORY_TAG_KEY,))) is not None]
