"""flowscope's own OpenLineage dataset facet: confidence, signal kinds and evidence for every edge.

The facet is an attrs class on top of the client's ``DatasetFacet`` so ``Serde`` serializes it like the
standard ones. Its JSON Schema ships in the package (``schemas/FlowscopeLineageDatasetFacet.json``) and
``_schemaURL`` points at the stable public address of that file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import attr
from openlineage.client.facet_v2 import DatasetFacet

from flowscope.model import Edge

FACET_NAME = "flowscope"
SCHEMA_FILE = "FlowscopeLineageDatasetFacet.json"
SCHEMA_ID = f"https://flowscope.dev/spec/facets/1-2-0/{SCHEMA_FILE}"
SCHEMA_URL = f"{SCHEMA_ID}#/$defs/FlowscopeLineageDatasetFacet"


def schema_path() -> Path:
    """Where the shipped JSON Schema of the facet lives when flowscope is installed as files."""
    return Path(str(files("flowscope") / "schemas" / SCHEMA_FILE))


def load_schema() -> dict[str, Any]:
    """The shipped JSON Schema of the facet, read through importlib.resources (works from any install)."""
    data: dict[str, Any] = json.loads((files("flowscope") / "schemas" / SCHEMA_FILE).read_text("utf-8"))
    return data


def iso(dt: datetime) -> str:
    """RFC 3339 with an offset: naive datetimes are taken as UTC, which is what collectors record."""
    return (dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)).isoformat()


@attr.define
class FlowscopeInput:
    namespace: str
    name: str
    field: str | None = None


@attr.define
class FlowscopeBasis:
    kind: str
    match: str | None = None


@attr.define
class FlowscopeTransformation:
    type: str
    subtype: str
    masking: bool
    description: str | None = None


@attr.define
class FlowscopeEvidence:
    collector: str
    kind: str
    location: str
    snippet: str | None = None
    detail: dict[str, str] | None = None


@attr.define
class FlowscopeEdge:
    input: FlowscopeInput
    confidence: float
    count: int
    outputField: str | None = None  # camelCase: OpenLineage spells facet keys that way
    kinds: list[FlowscopeBasis] = attr.field(factory=list)
    transformations: list[FlowscopeTransformation] = attr.field(factory=list)
    firstSeen: str | None = None
    lastSeen: str | None = None
    guards: list[str] = attr.field(factory=list)
    collectors: list[str] = attr.field(factory=list)
    evidence: list[FlowscopeEvidence] = attr.field(factory=list)


@attr.define
class FlowscopeLineageDatasetFacet(DatasetFacet):
    """Per-edge confidence and evidence, keyed ``flowscope`` in a dataset's facets."""

    edges: list[FlowscopeEdge] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_URL


def edge_entry(edge: Edge) -> FlowscopeEdge:
    """One edge as the facet records it; the job and the output dataset are implied by where it sits."""
    bases = sorted(edge.bases, key=lambda b: (b.kind, b.match or ""))
    return FlowscopeEdge(
        input=FlowscopeInput(edge.source.namespace, edge.source.name, edge.source.field),
        outputField=edge.target.field if edge.target is not None else None,
        confidence=round(float(edge.confidence), 4),
        count=edge.count,
        kinds=[FlowscopeBasis(b.kind, b.match) for b in bases],
        transformations=[
            FlowscopeTransformation(t.type, t.subtype, t.masking, t.description or None)
            for t in sorted(edge.transformations)
        ],
        firstSeen=iso(edge.first_seen) if edge.first_seen else None,
        lastSeen=iso(edge.last_seen) if edge.last_seen else None,
        guards=sorted(edge.guards),
        collectors=sorted(edge.collectors),
        evidence=[
            FlowscopeEvidence(
                collector=ev.collector,
                kind=ev.kind,
                location=ev.location,
                snippet=ev.snippet or None,
                detail=dict(ev.detail) or None,
            )
            for ev in edge.evidence
        ],
    )


def lineage_facet(edges: list[Edge], producer: str) -> FlowscopeLineageDatasetFacet:
    ordered = sorted(edges, key=lambda e: (e.source.id, e.target.id if e.target else ""))
    return FlowscopeLineageDatasetFacet(edges=[edge_entry(e) for e in ordered], producer=producer)
