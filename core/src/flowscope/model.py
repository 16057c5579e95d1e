"""The vocabulary of DESIGN.md as plain data: Asset, Job, Transformation, Evidence, Signal, Edge.

Everything here is immutable or cheap to copy; nothing imports pluggy or touches storage, so plugins and
tests can build these freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SignalKind = Literal["sql", "static", "runtime", "config", "context", "declared"]
SIGNAL_KINDS: tuple[str, ...] = ("sql", "static", "runtime", "config", "context", "declared")

# Runtime payload matches (DESIGN.md) and the context matcher's bases, strongest first.
MATCH_TYPES: tuple[str, ...] = ("EXACT_MATCH", "CONTAINS", "NO_MATCH")
CONTEXT_BASES: tuple[str, ...] = ("JOB_ID", "TRACE_ID", "USER_WINDOW")
# How strong a static flow's evidence is (flowscope.scoring): a direct, unconditional flow into a named
# sink; one through a transformation, an unknown call or a guard; one through two or more calls the
# analysis could not see into; one into a sink whose name is not known.
STATIC_STRENGTHS: tuple[str, ...] = ("DIRECT", "INDIRECT", "OPAQUE", "UNRESOLVED")
# A declared flow of a run its producer reported as failed or aborted (``flowscope ingest``): low confidence.
FAILED_RUN = "FAILED_RUN"

# OpenLineage column-lineage transformation vocabulary (ColumnLineageDatasetFacet 1-2-0).
DIRECT_SUBTYPES: tuple[str, ...] = ("IDENTITY", "TRANSFORMATION", "AGGREGATION")
INDIRECT_SUBTYPES: tuple[str, ...] = ("FILTER", "JOIN", "GROUP_BY", "SORT", "WINDOW", "CONDITIONAL")


@dataclass(frozen=True, order=True)
class Asset:
    """An OpenLineage dataset identity, optionally narrowed to one field (column, key, feature)."""

    namespace: str
    name: str
    field: str | None = None

    def __post_init__(self) -> None:
        if not self.namespace or not self.name:
            raise ValueError(f"an asset needs a namespace and a name, got {self.namespace!r}, {self.name!r}")
        if self.field == "":
            object.__setattr__(self, "field", None)

    @classmethod
    def stored(cls, namespace: str, name: str, field: str | None) -> Asset:
        """An asset read back from the store, where every one was checked when it was made: half the cost
        of the checking constructor, which counts when a walk names 100,000 reached assets."""
        asset = object.__new__(cls)
        asset.__dict__.update(namespace=namespace, name=name, field=field or None)
        return asset

    @property
    def dataset(self) -> Asset:
        """The same asset without its field."""
        return self if self.field is None else Asset.stored(self.namespace, self.name, None)

    def with_field(self, name: str | None) -> Asset:
        return Asset(self.namespace, self.name, name)

    @property
    def id(self) -> str:
        """Marquez-style node id: ``dataset:<ns>:<name>`` or ``datasetField:<ns>:<name>:<field>``."""
        if self.field is None:
            return f"dataset:{self.namespace}:{self.name}"
        return f"datasetField:{self.namespace}:{self.name}:{self.field}"

    def __str__(self) -> str:
        suffix = f"#{self.field}" if self.field is not None else ""
        return f"{self.namespace}/{self.name}{suffix}"


@dataclass(frozen=True)
class SourceLocation:
    """Where a job's code lives, for the ``sourceCodeLocation`` job facet."""

    path: str
    type: str = "file"
    url: str | None = None
    repo_url: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class Job:
    """The code that moves data. Identity is ``(namespace, name)``; the rest describes it."""

    namespace: str
    name: str
    job_type: str = field(default="JOB", compare=False)
    processing_type: Literal["BATCH", "STREAMING"] = field(default="BATCH", compare=False)
    sql: str | None = field(default=None, compare=False)
    source: SourceLocation | None = field(default=None, compare=False)
    description: str | None = field(default=None, compare=False)
    owner: str | None = field(default=None, compare=False)

    @property
    def richness(self) -> int:
        """How much this description of the job says; merging keeps the richest one."""
        return sum(x is not None for x in (self.sql, self.source, self.description, self.owner)) + (
            self.job_type != "JOB"
        )

    def __post_init__(self) -> None:
        if not self.namespace or not self.name:
            raise ValueError(f"a job needs a namespace and a name, got {self.namespace!r}, {self.name!r}")

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


@dataclass(frozen=True, order=True)
class Transformation:
    """One OpenLineage transformation: DIRECT/INDIRECT with a subtype, and whether it masks the value."""

    type: Literal["DIRECT", "INDIRECT"] = "DIRECT"
    subtype: str = "IDENTITY"
    masking: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        allowed = DIRECT_SUBTYPES if self.type == "DIRECT" else INDIRECT_SUBTYPES
        if self.type not in ("DIRECT", "INDIRECT") or self.subtype not in allowed:
            raise ValueError(f"unknown transformation {self.type}/{self.subtype}")


IDENTITY = Transformation()


@dataclass(frozen=True)
class Evidence:
    """Why we believe a flow exists: a file:line with a snippet, a query id, a trace or job id, a config path."""

    collector: str
    kind: str
    location: str
    snippet: str = ""
    detail: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"collector": self.collector, "kind": self.kind, "location": self.location}
        if self.snippet:
            out["snippet"] = self.snippet
        if self.detail:
            out["detail"] = dict(self.detail)
        return out


@dataclass(frozen=True)
class Signal:
    """One piece of evidence that data flows ``source`` -> ``target`` through ``job``.

    ``target`` is None for a pure read (a SELECT with no output): the job and the fields it reads are
    still recorded. ``match`` is the runtime match type or the context basis; plugins never set the final
    confidence, core's scoring does (see :mod:`flowscope.scoring`).
    """

    kind: SignalKind
    job: Job
    source: Asset
    target: Asset | None
    transformation: Transformation = IDENTITY
    evidence: tuple[Evidence, ...] = ()
    match: str | None = None
    guard: str | None = None
    count: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind not in SIGNAL_KINDS:
            raise ValueError(f"unknown signal kind {self.kind!r}; expected one of {', '.join(SIGNAL_KINDS)}")
        if self.match is not None and self.match not in (
            *MATCH_TYPES,
            *CONTEXT_BASES,
            *STATIC_STRENGTHS,
            FAILED_RUN,
        ):
            raise ValueError(f"unknown match {self.match!r}")
        if self.count < 1:
            raise ValueError("a signal's count must be at least 1")

    @classmethod
    def trusted(
        cls,
        kind: SignalKind,
        job: Job,
        source: Asset,
        target: Asset | None,
        transformation: Transformation,
        evidence: tuple[Evidence, ...],
        match: str | None,
        first_seen: datetime | None,
        last_seen: datetime | None,
    ) -> Signal:
        """A signal from a collector's hot loop whose kind and match are constants it knows to be valid:
        skips the checks and the frozen dataclass's per-field setattr (an ingest makes one per column
        edge; this is a third of the cost). Equal to the checked constructor's result (tested)."""
        sig = object.__new__(cls)
        sig.__dict__.update(
            kind=kind,
            job=job,
            source=source,
            target=target,
            transformation=transformation,
            evidence=evidence,
            match=match,
            guard=None,
            count=1,
            first_seen=first_seen,
            last_seen=last_seen,
        )
        return sig


@dataclass(frozen=True)
class AssetInfo:
    """What a collector knows about an asset besides its flows: field types, tags, a description."""

    asset: Asset
    fields: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class JobSampled:
    """A runtime collector saw ``job`` run ``samples`` times; unconfirmed static flows of it lose confidence."""

    job: Job
    samples: int


Observation = Signal | AssetInfo | JobSampled


@dataclass(frozen=True)
class Basis:
    """The scoring-relevant summary of one signal: its kind and, for runtime and context, its match."""

    kind: str
    match: str | None = None


@dataclass
class Edge:
    """All signals for one (job, source[.field], target[.field]) merged, with one confidence.

    The identity never includes a line number, so moving code does not make a new flow.
    """

    job: Job
    source: Asset
    target: Asset | None
    confidence: float = 0.0
    bases: set[Basis] = field(default_factory=set)
    transformations: set[Transformation] = field(default_factory=set)
    evidence: list[Evidence] = field(default_factory=list)
    collectors: set[str] = field(default_factory=set)
    guards: set[str] = field(default_factory=set)
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def key(self) -> tuple[str, str, Asset, Asset | None]:
        return (self.job.namespace, self.job.name, self.source, self.target)

    @property
    def kinds(self) -> list[str]:
        return sorted({b.kind for b in self.bases})

    @property
    def masked(self) -> bool:
        return bool(self.transformations) and all(t.masking for t in self.transformations)
