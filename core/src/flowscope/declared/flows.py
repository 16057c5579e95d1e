"""Turn ``flows:`` entries into declared signals, against the assets and jobs of every loaded file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flowscope.declared.reader import Reader, SpecError
from flowscope.declared.spec import DeclaredAsset, DeclaredJob
from flowscope.model import (
    DIRECT_SUBTYPES,
    IDENTITY,
    INDIRECT_SUBTYPES,
    Asset,
    Evidence,
    Signal,
    Transformation,
)
from flowscope.yamlpos import KeyPath, show, suggest

FLOW_KEYS = ("job", "from", "to", "fields", "dataset", "description", "guard")
MAPPING_KEYS = ("from", "to", "transformation", "masking", "description")
WHOLE_DATASET = "*"
COLLECTOR = "declared"

TRANSFORMATION_SPELLINGS: tuple[str, ...] = (
    "DIRECT",
    *DIRECT_SUBTYPES,
    *INDIRECT_SUBTYPES,
    *(f"DIRECT/{s}" for s in DIRECT_SUBTYPES),
    *(f"INDIRECT/{s}" for s in INDIRECT_SUBTYPES),
)


@dataclass
class Catalog:
    """Assets and jobs of all files by id, plus the ids whose declaration failed (not to report twice)."""

    assets: dict[str, DeclaredAsset] = field(default_factory=dict)
    jobs: dict[str, DeclaredJob] = field(default_factory=dict)
    broken: set[tuple[str, str]] = field(default_factory=set)


@dataclass(frozen=True)
class _Mapping:
    path: KeyPath
    sources: list[str]
    target: str | None
    transformation: Transformation
    explicit_target: bool


def parse_transformation(
    reader: Reader, path: KeyPath, value: Any, masking: bool, description: str
) -> Transformation:
    """``DIRECT/AGGREGATION``, ``AGGREGATION`` (subtypes are unique) or ``DIRECT`` (= DIRECT/IDENTITY)."""
    raw = reader.string(path, value)
    text = raw.upper().replace("-", "_").replace(" ", "_")
    kind: Literal["DIRECT", "INDIRECT"]
    if "/" in text:
        head, _, subtype = text.partition("/")
        if head not in ("DIRECT", "INDIRECT"):
            raise reader.error(
                path, f"unknown transformation {raw!r}" + suggest(text, TRANSFORMATION_SPELLINGS)
            )
        kind = "DIRECT" if head == "DIRECT" else "INDIRECT"
        allowed = DIRECT_SUBTYPES if kind == "DIRECT" else INDIRECT_SUBTYPES
        if subtype not in allowed:
            raise reader.error(path, f"unknown {kind} subtype {subtype!r}" + suggest(subtype, allowed))
    elif text == "DIRECT":
        kind, subtype = "DIRECT", "IDENTITY"
    elif text == "INDIRECT":
        raise reader.error(path, "INDIRECT needs a subtype: " + ", ".join(INDIRECT_SUBTYPES))
    elif text in DIRECT_SUBTYPES:
        kind, subtype = "DIRECT", text
    elif text in INDIRECT_SUBTYPES:
        kind, subtype = "INDIRECT", text
    else:
        raise reader.error(path, f"unknown transformation {raw!r}" + suggest(text, TRANSFORMATION_SPELLINGS))
    return Transformation(kind, subtype, masking, description)


def _lookup(reader: Reader, catalog: Catalog, kind: str, path: KeyPath, value: Any) -> Any:
    ident = reader.string(path, value)
    table: Mapping[str, Any] = catalog.assets if kind == "assets" else catalog.jobs
    if ident in table:
        return table[ident]
    what = kind[:-1]
    if (kind, ident) in catalog.broken:
        raise reader.error(path, f"{what} {ident!r} is invalid (reported above)")
    raise reader.error(path, f"unknown {what} {ident!r}" + suggest(ident, table, f"declared {kind}"))


def _ids(reader: Reader, catalog: Catalog, path: KeyPath, value: Any) -> list[DeclaredAsset]:
    if value is None:
        return []
    if isinstance(value, list):
        if not value:
            raise reader.error(path, "must name at least one asset")
        return [_lookup(reader, catalog, "assets", (*path, i), v) for i, v in enumerate(value)]
    return [_lookup(reader, catalog, "assets", path, value)]


def flow_signals(reader: Reader, catalog: Catalog, path: KeyPath, value: Any) -> list[Signal]:
    """All signals of one flow entry; any invalid part raises :class:`SpecError` for the whole entry."""
    entry = reader.mapping(path, value, FLOW_KEYS, required=("job", "from"))
    declared_job: DeclaredJob = _lookup(reader, catalog, "jobs", (*path, "job"), entry["job"])
    sources = _ids(reader, catalog, (*path, "from"), entry["from"])
    targets = _ids(reader, catalog, (*path, "to"), entry.get("to"))
    fields_value = entry.get("fields")
    whole = fields_value is None
    if entry.get("dataset") is not None:
        whole = reader.boolean((*path, "dataset"), entry["dataset"])
    description = reader.optional_string((*path, "description"), entry.get("description"))
    guard = reader.optional_string((*path, "guard"), entry.get("guard")) or None
    detail = tuple((k, v) for k, v in (("description", description),) if v)
    job_id = declared_job.id

    def signal(at: KeyPath, src: Asset, dst: Asset | None, t: Transformation, snippet: str) -> Signal:
        ev = Evidence(COLLECTOR, "declared", reader.where(at), snippet, detail)
        return Signal("declared", declared_job.job, src, dst, t, (ev,), guard=guard)

    out: list[Signal] = []
    if whole:
        for s in sources:
            if not targets:
                out.append(signal(path, s.asset, None, IDENTITY, f"{job_id} reads {s.id}"))
            for t in targets:
                out.append(signal(path, s.asset, t.asset, IDENTITY, f"{job_id}: {s.id} -> {t.id}"))
    if fields_value is None:
        return out
    for m in _mappings(reader, (*path, "fields"), fields_value):
        if not targets and m.explicit_target:
            raise reader.error((*m.path, "to"), "this flow has no 'to' asset to write into")
        src_refs = [_source_ref(reader, m.path, ref, sources) for ref in m.sources]
        if not targets:
            for s_asset, s_field in src_refs:
                snippet = f"{job_id} reads {s_asset.id}.{s_field}"
                out.append(signal(m.path, s_asset.asset.with_field(s_field), None, m.transformation, snippet))
            continue
        if m.target is None and len(src_refs) != 1:
            raise reader.error(m.path, "several source fields: name the target field with 'to'")
        target = m.target if m.target is not None else src_refs[0][1]
        t_asset, t_field = _field_ref(reader, m.path, target, targets, "output", m.explicit_target)
        for s_asset, s_field in src_refs:
            snippet = f"{job_id}: {s_asset.id}.{s_field} -> {t_asset.id}.{t_field or WHOLE_DATASET}"
            if m.transformation != IDENTITY:
                tr = m.transformation
                snippet += f" [{tr.type}/{tr.subtype}{', masked' if tr.masking else ''}]"
            out.append(
                signal(
                    m.path,
                    s_asset.asset.with_field(s_field),
                    t_asset.asset.with_field(t_field),
                    m.transformation,
                    snippet,
                )
            )
    return out


def _mappings(reader: Reader, path: KeyPath, value: Any) -> list[_Mapping]:
    """``{src: dst}``, ``[name, ...]`` (same name both sides) or ``[{from, to, transformation, ...}]``."""
    if isinstance(value, Mapping):
        return [
            _Mapping(
                (*path, str(k)),
                [reader.string((*path, str(k)), k)],
                reader.string((*path, str(k)), v) if v is not None else None,
                IDENTITY,
                v is not None,
            )
            for k, v in value.items()
        ]
    if not isinstance(value, list):
        raise reader.error(path, f"expected a mapping of source -> target field or a list, got {show(value)}")
    out: list[_Mapping] = []
    for i, item in enumerate(value):
        at = (*path, i)
        if not isinstance(item, Mapping):
            out.append(_Mapping(at, [reader.string(at, item)], None, IDENTITY, False))
            continue
        entry = reader.mapping(at, item, MAPPING_KEYS, required=("from",))
        masking = reader.boolean((*at, "masking"), entry["masking"]) if "masking" in entry else False
        desc = reader.optional_string((*at, "description"), entry.get("description"))
        if entry.get("transformation") is not None:
            t = parse_transformation(reader, (*at, "transformation"), entry["transformation"], masking, desc)
        else:
            t = Transformation("DIRECT", "IDENTITY", masking, desc)
        sources = reader.strings((*at, "from"), entry["from"])
        target = reader.string((*at, "to"), entry["to"]) if entry.get("to") is not None else None
        out.append(_Mapping(at, sources, target, t, target is not None))
    return out


def _source_ref(
    reader: Reader, at: KeyPath, ref: str, sources: list[DeclaredAsset]
) -> tuple[DeclaredAsset, str]:
    owner, name = _field_ref(reader, at, ref, sources, "input")
    assert name is not None  # _field_ref rejects '*' for inputs
    return owner, name


def _field_ref(
    reader: Reader,
    at: KeyPath,
    ref: str,
    candidates: list[DeclaredAsset],
    role: str,
    explicit: bool = True,
) -> tuple[DeclaredAsset, str | None]:
    """``field`` (the flow's only input/output) or ``asset.field``; ``*`` is the whole output dataset."""
    key = ("from" if role == "input" else "to") if explicit else None
    path = (*at, key) if key and _has_key(reader, (*at, key)) else at
    by_id = {c.id: c for c in candidates}
    head, dot, rest = ref.partition(".")
    if dot and head in by_id:
        owner, name = by_id[head], rest
    elif len(candidates) == 1:
        owner, name = candidates[0], ref
    else:
        names = ", ".join(by_id)
        raise reader.error(
            path, f"field {ref!r} is ambiguous: this flow's {role}s are {names}; write <asset>.{ref}"
        )
    if name == WHOLE_DATASET:
        if role == "input":
            raise reader.error(path, f"'{WHOLE_DATASET}' (the whole dataset) can only be a target")
        return owner, None
    known = owner.field_names()
    if known and name not in known:
        raise reader.error(
            path, f"unknown field {name!r} of asset {owner.id!r}" + suggest(name, known, "fields")
        )
    return owner, name


def _has_key(reader: Reader, path: KeyPath) -> bool:
    return path in reader.doc.lines


__all__ = ["Catalog", "SpecError", "flow_signals", "parse_transformation"]
