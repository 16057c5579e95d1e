"""Apply DataHub PATCH proposals to whole aspects, the way DataHub's GMS does, for targets (DataHub Lite)
that store whole aspects only.

GMS turns each array it can patch into a map keyed by the elements' natural key, applies the JSON Patch
operations to that map and turns it back into an array (its ``ArrayMergingTemplate``s). This module does the
same for the aspects flowscope patches, on plain JSON (acryl-datahub's ``to_obj`` form), so an ``add`` of an
upstream, tag or job edge merges with what other sources wrote instead of replacing it:

- ``upstreamLineage``: ``upstreams`` keyed by ``dataset``; ``fineGrainedLineages`` as
  transformOperation -> downstream field -> query -> upstream field -> {confidenceScore}, rebuilt as one
  lineage per (operation, downstream, query) whose confidence is the lowest of its upstreams' (as GMS does);
- ``globalTags``: ``tags`` keyed by ``tag`` (or the proposal's ``arrayPrimaryKeys``);
- ``dataJobInputOutput``: ``inputDatasetEdges`` / ``outputDatasetEdges`` keyed by ``destinationUrn``;
- ``editableSchemaMetadata``: ``editableSchemaFieldInfo`` keyed by ``fieldPath``, their tags by ``tag``.

Fine-grained lineages GMS cannot key (not exactly one downstream) are kept unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NONE = "NONE"  # GMS's key for a missing transformOperation or query
KEY_SEPARATOR = "\u241f"  # arrayPrimaryKeys name nested keys as "attribution\u241fsource"


@dataclass(frozen=True)
class ArraySpec:
    """An array patched as a map: ``keys`` (dotted paths into each element) form the map's nesting;
    ``children`` are arrays inside each element (dotted path from the element -> spec)."""

    keys: tuple[str, ...]
    children: Mapping[str, ArraySpec] = field(default_factory=dict)


_TAGS = ArraySpec(("tag",))
SPECS: dict[str, dict[str, ArraySpec]] = {
    "upstreamLineage": {"upstreams": ArraySpec(("dataset",))},
    "globalTags": {"tags": _TAGS},
    "dataJobInputOutput": {
        "inputDatasetEdges": ArraySpec(("destinationUrn",)),
        "outputDatasetEdges": ArraySpec(("destinationUrn",)),
    },
    "editableSchemaMetadata": {
        "editableSchemaFieldInfo": ArraySpec(("fieldPath",), {"globalTags.tags": _TAGS}),
    },
    "ownership": {"owners": ArraySpec(("owner", "type", "typeUrn", "attribution.source"))},
    "datasetProperties": {},
}
# What an aspect holds before anything was written (the required fields, as in DataHub's defaults).
DEFAULTS: dict[str, dict[str, Any]] = {
    "upstreamLineage": {"upstreams": []},
    "globalTags": {"tags": []},
    "dataJobInputOutput": {"inputDatasets": [], "outputDatasets": []},
    "editableSchemaMetadata": {
        "created": {"time": 0, "actor": "urn:li:corpuser:unknown"},
        "lastModified": {"time": 0, "actor": "urn:li:corpuser:unknown"},
        "editableSchemaFieldInfo": [],
    },
    "ownership": {"owners": []},
    "datasetProperties": {"customProperties": {}},
}


class PatchError(ValueError):
    """A patch this module cannot apply (an aspect or path it does not know)."""


def patchable(aspect_name: str) -> bool:
    return aspect_name in SPECS


def split_payload(payload: Any) -> tuple[list[Mapping[str, Any]], dict[str, list[str]]]:
    """A PATCH proposal's value: a list of operations, or ``{"patch": [...], "arrayPrimaryKeys": {...}}``."""
    if isinstance(payload, Mapping):
        return list(payload.get("patch") or []), dict(payload.get("arrayPrimaryKeys") or {})
    if isinstance(payload, list):
        return payload, {}
    raise PatchError(f"not a JSON patch: {type(payload).__name__}")


def apply(
    aspect_name: str,
    current: Mapping[str, Any] | None,
    operations: Sequence[Mapping[str, Any]],
    primary_keys: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """``current`` (or the aspect's default) with ``operations`` applied; ``current`` is not changed."""
    if aspect_name not in SPECS:
        raise PatchError(f"no patch template for aspect {aspect_name}")
    specs = dict(SPECS[aspect_name])
    for name, keys in (primary_keys or {}).items():
        old = specs.get(name, ArraySpec(()))
        specs[name] = ArraySpec(tuple(k.replace(KEY_SEPARATOR, ".") for k in keys), old.children)
    doc = copy.deepcopy(dict(current)) if current else copy.deepcopy(DEFAULTS[aspect_name])
    unkeyed: list[Any] = []
    for name, spec in specs.items():
        doc[name] = _to_map(doc.get(name) or [], spec)
    if aspect_name == "upstreamLineage":
        doc["fineGrainedLineages"], unkeyed = _lineages_to_map(doc.get("fineGrainedLineages") or [])
    for op in operations:
        _apply_one(doc, op)
    for name, spec in specs.items():
        doc[name] = _to_array(doc.get(name) or {}, spec)
    if aspect_name == "upstreamLineage":
        rebuilt = _lineages_to_array(doc.pop("fineGrainedLineages") or {}) + unkeyed
        if rebuilt:
            doc["fineGrainedLineages"] = rebuilt
    return doc


def _get(element: Mapping[str, Any], dotted: str) -> Any:
    value: Any = element
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _set(element: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        element = element.setdefault(part, {})
    element[last] = value


def _to_map(array: Any, spec: ArraySpec) -> Any:
    if isinstance(array, Mapping):  # already a map (a nested element created by an earlier operation)
        return array
    result: dict[str, Any] = {}
    for element in array:
        element = dict(element) if isinstance(element, Mapping) else element
        if isinstance(element, dict):
            for path, child in spec.children.items():
                inner = _get(element, path)
                if inner is not None:
                    _set(element, path, _to_map(inner, child))
        node = result
        keys = [
            str(_get(element, k) or "") if isinstance(element, Mapping) else str(element) for k in spec.keys
        ]
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1] if keys else str(element)] = element
    return result


def _to_array(mapped: Any, spec: ArraySpec) -> list[Any]:
    if isinstance(mapped, list):  # replaced wholesale by an operation on the array itself
        return mapped
    out: list[Any] = []

    def walk(node: Mapping[str, Any], keys: list[str], depth: int) -> None:
        for key, value in node.items():
            if depth < len(spec.keys) - 1:
                walk(value, [*keys, key], depth + 1)
                continue
            if isinstance(value, dict):
                value = dict(value)
                for name, k in zip(spec.keys, [*keys, key], strict=True):
                    if _get(value, name) is None and k:
                        _set(value, name, k)
                for path, child in spec.children.items():
                    inner = _get(value, path)
                    if inner is not None:
                        _set(value, path, _to_array(inner, child))
            out.append(value)

    walk(mapped, [], 0)
    return out


def _lineages_to_map(array: Sequence[Any]) -> tuple[dict[str, Any], list[Any]]:
    result: dict[str, Any] = {}
    unkeyed: list[Any] = []
    for fgl in array:
        downstreams = fgl.get("downstreams") or []
        if len(downstreams) != 1:
            unkeyed.append(fgl)
            continue
        score = fgl.get("confidenceScore", 1.0)
        query = result.setdefault(fgl.get("transformOperation") or NONE, {}).setdefault(downstreams[0], {})
        node = query.setdefault(fgl.get("query") or NONE, {})
        for up in fgl.get("upstreams") or []:
            node[up] = {
                "confidenceScore": score,
                "upstreamType": fgl.get("upstreamType", "FIELD_SET"),
                "downstreamType": fgl.get("downstreamType", "FIELD"),
            }
    return result, unkeyed


def _lineages_to_array(mapped: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for operation, by_downstream in mapped.items():
        for downstream, by_query in by_downstream.items():
            for query, ups in by_query.items():
                if not ups:
                    continue
                values = [v if isinstance(v, Mapping) else {} for v in ups.values()]
                fgl: dict[str, Any] = {
                    "upstreamType": next(
                        (v["upstreamType"] for v in reversed(values) if "upstreamType" in v), "FIELD_SET"
                    ),
                    "upstreams": list(ups),
                    "downstreamType": next(
                        (v["downstreamType"] for v in reversed(values) if "downstreamType" in v), "FIELD"
                    ),
                    "downstreams": [downstream],
                    "confidenceScore": min([1.0, *(float(v.get("confidenceScore", 1.0)) for v in values)]),
                }
                if operation != NONE:
                    fgl["transformOperation"] = operation
                if query != NONE:
                    fgl["query"] = query
                out.append(fgl)
    return out


def _segments(path: str) -> list[str]:
    if not path.startswith("/"):
        raise PatchError(f"bad patch path {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _apply_one(doc: dict[str, Any], op: Mapping[str, Any]) -> None:
    kind, parts = op.get("op"), _segments(str(op.get("path", "")))
    node: Any = doc
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict):
            raise PatchError(f"patch path {op.get('path')!r}: {'/'.join(parts[:i])} is not an object")
        if part not in node or node[part] is None:
            if kind == "remove":
                return  # removing something that is not there: nothing to do
            node[part] = {}
        node = node[part]
    if not isinstance(node, dict):
        raise PatchError(f"patch path {op.get('path')!r}: parent is not an object")
    if kind in ("add", "replace"):
        node[parts[-1]] = copy.deepcopy(op.get("value"))
    elif kind == "remove":
        node.pop(parts[-1], None)
    else:
        raise PatchError(f"unsupported patch operation {kind!r}")
