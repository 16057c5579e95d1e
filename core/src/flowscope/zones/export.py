"""Zone membership going out with the lineage.

- :func:`zone_tags`: OpenLineage tags for the events ``flowscope scan`` writes: every asset of a zone
  carries ``zone:<name>`` and ``data_category:<category>`` in its dataset's ``tags`` facet (field-level
  tags for fields), so Marquez gets them as tags and DataHub as tags on the dataset or schema field
  through the emitters that exist. Membership here is what people decided: the sources and the assets
  included (or acknowledged); it needs no walk, so a scan stays as fast with zones as without.
- :func:`fides_document`: the zone as fideslang dataset YAML, ``data_categories`` on every included
  field, for teams that enforce with Fides; checked with fideslang's own models before it is written.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from flowscope.errors import UserError
from flowscope.model import Asset, AssetInfo
from flowscope.store import Store
from flowscope.zones.resolve import bind
from flowscope.zones.status import ZoneStatus
from flowscope.zones.workspace import Workspace

ZONE_TAG_KEY = "zone"


def zone_tags(store: Store, ws: Workspace) -> tuple[list[AssetInfo], list[str]]:
    """Asset infos holding each zone member's tags, and one problem per zone that could not be read
    (a broken zone or review file, a source matching nothing): those zones are left out, never the scan."""
    tags: dict[Asset, dict[str, None]] = defaultdict(dict)
    problems = [str(e) for e in ws.broken.values()]
    for zone in ws.zones.values():
        try:
            bound = bind(store, ws, zone)
        except UserError as exc:
            problems.append(str(exc))
            continue
        members = set(bound.sources) | bound.kept
        for asset in members:
            tags[asset][f"{ZONE_TAG_KEY}:{zone.name}"] = None
            for category in zone.data_categories:
                tags[asset][f"data_category:{category}"] = None
    return [AssetInfo(a, tags=tuple(t)) for a, t in sorted(tags.items(), key=lambda kv: kv[0].id)], problems


_KEY_CHARS = re.compile(r"[^a-zA-Z0-9_.<>-]+")


def fides_key(text: str) -> str:
    """A fideslang ``fides_key`` (letters, digits, ``_ . < > -``) made from a namespace."""
    return _KEY_CHARS.sub("_", text).strip("_") or "dataset"


def fides_document(status: ZoneStatus, store: Store) -> dict[str, Any]:
    """``{"dataset": [...]}``: one fideslang Dataset per namespace, a collection per dataset, and the
    zone's data categories on every field in the zone (an included dataset brings all its known fields).
    Validated with ``fideslang.models.Dataset``; a failure is a UserError, nothing half-written."""
    zone = status.zone
    members = [
        s.asset
        for s in status.assets
        if s.source or (s.decision is not None and s.decision.decision != "exclude")
    ]
    fields: dict[Asset, set[str]] = defaultdict(set)
    whole: set[Asset] = set()
    for asset in members:
        if asset.field is not None:
            fields[asset.dataset].add(asset.field)
        else:
            whole.add(asset)
            fields[asset].update(store.fields_of(asset))
    categories = list(zone.data_categories)
    by_namespace: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for dataset in sorted(fields, key=lambda a: a.id):
        collection: dict[str, Any] = {
            "name": dataset.name,
            "fields": [{"name": f, "data_categories": categories} for f in sorted(fields[dataset])],
        }
        if dataset in whole:
            collection["data_categories"] = categories
        by_namespace[dataset.namespace].append(collection)
    datasets = [
        {
            "fides_key": fides_key(ns),
            "name": ns,
            "description": f"Assets of zone {zone.name} in {ns}, exported by flowscope",
            "collections": collections,
        }
        for ns, collections in sorted(by_namespace.items())
    ]
    from fideslang.models import Dataset
    from pydantic import ValidationError

    for item in datasets:
        try:
            Dataset.model_validate(item)
        except ValidationError as exc:
            raise UserError(f"fides export of zone {zone.name}: {exc.errors()[0]['msg']}") from None
    return {"dataset": datasets}
