"""What flowscope adds to DataHub's patchable aspects, as plain items, and the PATCH proposals for them.

An item is one thing flowscope says about an entity: an upstream of a dataset, a fine-grained lineage, a
tag, a field tag, an input or output of a job, an owner. Items are what flowscope remembers per target
(:mod:`flowscope_emitters.datahub_state`), so that what a re-scan no longer finds is removed on the next emit
with a ``remove`` operation for that item alone, never touching what other producers wrote.

Adding renders the JSON acryl-datahub's ``DatasetPatchBuilder`` / ``DataJobPatchBuilder`` produce, written
directly: the builders' per-operation avro objects made the whole conversion 2.5x slower (1,607 against
3,966 events/s, bench/README.md), below the 2,000 events/s target. :func:`build_with_builders` renders the
same items with the builders, and a test checks both are identical. Removing (a handful of items per emit)
goes through the builders' ``remove_*`` methods.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

# (kind, entity urn, *arguments): every element a string, so items round-trip through JSON.
Item = tuple[str, ...]
TAG_KEYS = {"tags": ["attribution\u241fsource", "tag"]}  # acryl-datahub's keys of globalTags.tags (add)
OWNER_KEYS = {"owners": ["owner", "type", "typeUrn", "attribution\u241fsource"]}
AUDIT = {"time": 0, "actor": "urn:li:corpuser:unknown"}  # UpstreamClass's default audit stamp
ASPECT = {
    "upstream": "upstreamLineage",
    "fgl": "upstreamLineage",
    "tag": "globalTags",
    "field_tag": "editableSchemaMetadata",
    "job_in": "dataJobInputOutput",
    "job_out": "dataJobInputOutput",
    "owner": "ownership",
    "description": "datasetProperties",
}


def entity_type(urn: str) -> str:
    return urn[len("urn:li:") :].split(":", 1)[0]


def _quote(part: str) -> str:
    """A JSON Pointer path component (RFC 6901), as acryl-datahub's patch builders quote them."""
    return part.replace("~", "~0").replace("/", "~1") if "~" in part or "/" in part else part


def _path(*parts: str) -> str:
    return "/" + "/".join(_quote(p) for p in parts)


def _op(item: Item) -> tuple[str, Any]:
    """(path, value) of the ``add`` operation for one item."""
    kind, _, *args = item
    if kind == "upstream":
        return _path("upstreams", args[0]), {
            "auditStamp": dict(AUDIT),
            "dataset": args[0],
            "type": "TRANSFORMED",
        }
    if kind == "fgl":
        operation, down, up, confidence = args
        return _path("fineGrainedLineages", operation or "NONE", down, "NONE", up), {
            "confidenceScore": float(confidence)
        }
    if kind == "tag":
        return _path("tags", "", args[0]), {"tag": args[0]}
    if kind == "field_tag":
        return _path("editableSchemaFieldInfo", args[0], "globalTags", "tags", args[1]), {"tag": args[1]}
    if kind in ("job_in", "job_out"):
        edges = "inputDatasetEdges" if kind == "job_in" else "outputDatasetEdges"
        return _path(edges, args[0]), {"destinationUrn": args[0]}
    if kind == "owner":
        return _path("owners", args[0], args[1], "", ""), {"owner": args[0], "type": args[1]}
    if kind == "description":
        return "/description", args[0]
    raise ValueError(f"unknown DataHub item {kind!r}")


def key(item: Item) -> Item:
    """What identifies an item for retraction: a fine-grained lineage without its confidence."""
    return item[:-1] if item[0] == "fgl" else item


class _DataHub:
    """acryl-datahub's classes, imported once (the import takes about a second)."""

    def __init__(self) -> None:
        from datahub.emitter.aspect import JSON_PATCH_CONTENT_TYPE
        from datahub.emitter.mcp import MetadataChangeProposalWrapper
        from datahub.metadata import schema_classes

        self.sc: Any = schema_classes  # its classes are partly untyped
        self.wrapper = MetadataChangeProposalWrapper
        self.content_type = JSON_PATCH_CONTENT_TYPE

    def patch(self, urn: str, aspect: str, value: bytes) -> Any:
        sc = self.sc
        return sc.MetadataChangeProposalClass(
            entityUrn=urn,
            entityType=entity_type(urn),
            changeType=sc.ChangeTypeClass.PATCH,
            aspectName=aspect,
            aspect=sc.GenericAspectClass(value=value, contentType=self.content_type),
        )


@lru_cache(maxsize=1)
def dh() -> _DataHub:
    return _DataHub()


def build(items: Iterable[Item]) -> Iterator[Any]:
    """PATCH proposals adding ``items``: one per entity and aspect, entities in the order they first
    appear, operations in the order given (the JSON ``MetadataPatchProposal.build`` makes, without its
    avro objects)."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}  # entity -> aspect -> operations
    for item in items:
        path, value = _op(item)
        aspects = grouped.setdefault(item[1], {})
        aspects.setdefault(ASPECT[item[0]], []).append({"op": "add", "path": path, "value": value})
    for urn, aspect, ops in ((u, a, o) for u, by in grouped.items() for a, o in by.items()):
        keys = TAG_KEYS if aspect == "globalTags" else OWNER_KEYS if aspect == "ownership" else None
        payload: Any = {"arrayPrimaryKeys": keys, "patch": ops} if keys else ops
        yield dh().patch(urn, aspect, json.dumps(payload).encode())


def _builders(items: Iterable[Item], remove: bool) -> list[Any]:
    from datahub.specific.datajob import DataJobPatchBuilder
    from datahub.specific.dataset import DatasetPatchBuilder

    sc = dh().sc
    builders: dict[str, Any] = {}
    for item in items:
        kind, urn, *args = item
        if urn not in builders:
            builders[urn] = (DataJobPatchBuilder if entity_type(urn) == "dataJob" else DatasetPatchBuilder)(
                urn
            )
        b = builders[urn]
        verb = "remove" if remove else "add"
        if kind == "upstream":
            b.remove_upstream_lineage(args[0]) if remove else b.add_upstream_lineage(
                sc.UpstreamClass(args[0], "TRANSFORMED")
            )
        elif kind == "fgl":
            operation, down, up, *confidence = args
            fgl = sc.FineGrainedLineageClass(
                upstreamType="FIELD_SET",
                upstreams=[up],
                downstreamType="FIELD",
                downstreams=[down],
                confidenceScore=float(confidence[0]) if confidence else 1.0,
                transformOperation=operation or None,
            )
            getattr(b, f"{verb}_fine_grained_lineage")(fgl)
        elif kind == "tag":
            b.remove_tag(args[0]) if remove else b.add_tag(sc.TagAssociationClass(args[0]))
        elif kind == "field_tag":
            field = b.for_field(args[0])
            field.remove_tag(args[1]) if remove else field.add_tag(sc.TagAssociationClass(args[1]))
        elif kind in ("job_in", "job_out"):
            side = "input" if kind == "job_in" else "output"
            getattr(b, f"{verb}_{side}_dataset")(args[0])
        elif kind == "owner":
            b.remove_owner(args[0], args[1]) if remove else b.add_owner(sc.OwnerClass(args[0], args[1]))
        elif kind == "description":
            b.set_description(None if remove else args[0])
    return [mcp for b in builders.values() for mcp in b.build()]


def build_with_builders(items: Iterable[Item]) -> list[Any]:
    """:func:`build` through acryl-datahub's patch builders: the reference (tests) and the bench's baseline."""
    return _builders(items, remove=False)


def build_removals(items: Iterable[Item]) -> list[Any]:
    """PATCH proposals removing ``items`` (what flowscope added last time and no longer finds)."""
    return _builders(items, remove=True)
