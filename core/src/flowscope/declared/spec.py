"""The declarations of one file: the ``ns`` alias table, assets and jobs (docs/declared_flows.md).

Flows are resolved later (:mod:`flowscope.declared.flows`), once every file's assets and jobs are known,
so a warehouse file can read a table the app file declares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowscope import naming
from flowscope.declared.reader import Reader, SpecError
from flowscope.model import Asset, AssetInfo, Job, SourceLocation
from flowscope.yamlpos import KeyPath, dotted, suggest

TOP_LEVEL_KEYS = ("version", "ns", "assets", "jobs", "flows")
ASSET_KEYS = ("namespace", "name", "description", "tags", "fields")
FIELD_KEYS = ("type", "tags", "description")
JOB_KEYS = ("namespace", "name", "type", "processing", "description", "owner", "sql", "source")
SOURCE_KEYS = ("path", "type", "url", "repo_url", "version")
PROCESSING = ("BATCH", "STREAMING")

# Namespaces in flowscope's own schemes go through flowscope.naming, so a hand-written name is spelt
# exactly as the collector that later replaces it will spell it.
_BUILDERS: dict[str, Callable[[str, str], Asset]] = {
    "log": lambda auth, name: naming.log(name, auth),
    "http": lambda auth, name: naming.http(name, auth),
    "https": lambda auth, name: naming.http(name, auth, scheme="https"),
    "cache": lambda auth, name: naming.cache(name, auth),
    "queue": lambda auth, name: naming.queue(name, auth),
    "kafka": lambda auth, name: naming.kafka(name, auth),
    "feature": lambda auth, name: naming.feature(name, store=auth),
    "model": lambda auth, name: naming.model(name, registry=auth),
    "service": lambda auth, name: naming.service(auth, name),
    "code": lambda auth, name: naming.code(name, auth),
}


@dataclass(frozen=True)
class DeclaredAsset:
    id: str
    asset: Asset
    fields: tuple[tuple[str, str], ...]  # (name, type or "") in file order; empty: any field allowed
    tags: tuple[str, ...]
    description: str
    field_tags: tuple[tuple[str, tuple[str, ...], str], ...]  # (field, tags, description)
    where: str

    def infos(self) -> list[AssetInfo]:
        out = [AssetInfo(self.asset, self.fields, self.tags, self.description)]
        out += [AssetInfo(self.asset.with_field(f), (), tags, desc) for f, tags, desc in self.field_tags]
        return out

    def field_names(self) -> list[str]:
        return [name for name, _ in self.fields]


@dataclass(frozen=True)
class DeclaredJob:
    id: str
    job: Job
    owner: str
    description: str
    where: str


@dataclass
class FileSpec:
    """What one file declares; ``flows`` are the raw entries with their key paths, resolved later."""

    reader: Reader
    aliases: dict[str, str] = field(default_factory=dict)
    assets: list[DeclaredAsset] = field(default_factory=list)
    jobs: list[DeclaredJob] = field(default_factory=list)
    flows: list[tuple[KeyPath, Any]] = field(default_factory=list)
    broken: set[tuple[str, str]] = field(default_factory=set)  # ("assets" | "jobs", id) that failed


Report = Callable[[str, int | None], None]


def read_file_spec(reader: Reader, report: Report) -> FileSpec:
    """Everything valid in the file; each invalid part is reported and skipped."""
    spec = FileSpec(reader)
    data = reader.doc.data
    if data is None:
        return spec
    if not isinstance(data, Mapping):
        raise reader.error((), "expected a mapping with ns, assets, jobs and flows")
    for key in data:
        if str(key) not in TOP_LEVEL_KEYS:
            err = reader.error((str(key),), "unknown top-level key" + suggest(str(key), TOP_LEVEL_KEYS))
            report(err.message, err.line)
    for dup in reader.doc.duplicates:
        report(
            f"{dotted(dup.path)}: written twice (first on line {dup.first_line}); the last one is used",
            dup.line,
        )
    version = data.get("version", 1)
    if version != 1:
        raise reader.error(("version",), f"unsupported version {version!r} (this flowscope reads version 1)")
    try:
        spec.aliases = _aliases(reader, data.get("ns"))
    except SpecError as exc:
        report(exc.message, exc.line)
    for kind, parse in (("assets", _asset), ("jobs", _job)):
        try:
            entries = reader.entries(kind)
        except SpecError as exc:
            report(exc.message, exc.line)
            continue
        for path, value in entries:
            try:
                reader.identifier(path, path[-1], kind[:-1])
                parsed = parse(reader, spec.aliases, path, value)
            except SpecError as exc:
                report(exc.message, exc.line)
                spec.broken.add((kind, str(path[-1])))
                continue
            getattr(spec, kind).append(parsed)
    try:
        spec.flows = reader.entries("flows")
    except SpecError as exc:
        report(exc.message, exc.line)
    return spec


def _aliases(reader: Reader, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise reader.error(("ns",), "expected a mapping of alias -> namespace")
    return {str(k): reader.string(("ns", str(k)), v) for k, v in value.items()}


def namespace(reader: Reader, aliases: Mapping[str, str], path: KeyPath, value: Any) -> str:
    """An alias from ``ns``, or a namespace written out (``mysql://appdb:3306``, ``bigquery``)."""
    text = reader.string(path, value)
    if text in aliases:
        return aliases[text]
    if "://" not in text and aliases:
        hint = suggest(text, aliases, "aliases")
        if hint.startswith(" (did you mean"):
            raise reader.error(path, f"unknown namespace alias {text!r}{hint}")
    return text


def build_asset(namespace_: str, name: str) -> Asset:
    scheme, sep, authority = namespace_.partition("://")
    builder = _BUILDERS.get(scheme.lower()) if sep else None
    if builder is not None:
        return builder(authority, name)
    return Asset(namespace_, name)


def _asset(reader: Reader, aliases: Mapping[str, str], path: KeyPath, value: Any) -> DeclaredAsset:
    entry = reader.mapping(path, value, ASSET_KEYS, required=("namespace", "name"))
    ns = namespace(reader, aliases, (*path, "namespace"), entry["namespace"])
    name = reader.string((*path, "name"), entry["name"])
    try:
        asset = build_asset(ns, name)
    except ValueError as exc:
        raise reader.error((*path, "namespace"), str(exc)) from None
    fields: list[tuple[str, str]] = []
    field_tags: list[tuple[str, tuple[str, ...], str]] = []
    raw_fields = entry.get("fields")
    fpath = (*path, "fields")
    if isinstance(raw_fields, list):
        fields = [(reader.string((*fpath, i), f), "") for i, f in enumerate(raw_fields)]
    elif isinstance(raw_fields, Mapping):
        for key, spec in raw_fields.items():
            fname = reader.string((*fpath, str(key)), key)
            ftype, tags, desc = _field(reader, (*fpath, fname), spec)
            fields.append((fname, ftype))
            if tags or desc:
                field_tags.append((fname, tags, desc))
    elif raw_fields is not None:
        raise reader.error(
            fpath, f"expected a mapping of field -> type, or a list of names, got {raw_fields!r}"
        )
    return DeclaredAsset(
        id=str(path[-1]),
        asset=asset,
        fields=tuple(fields),
        tags=tuple(reader.strings((*path, "tags"), entry.get("tags"))),
        description=reader.optional_string((*path, "description"), entry.get("description")),
        field_tags=tuple(field_tags),
        where=reader.where(path),
    )


def _field(reader: Reader, path: KeyPath, spec: Any) -> tuple[str, tuple[str, ...], str]:
    """``location: string``, ``location:`` (type unknown) or ``location: {type, tags, description}``."""
    if spec is None:
        return "", (), ""
    if not isinstance(spec, Mapping):
        return reader.string(path, spec), (), ""
    entry = reader.mapping(path, spec, FIELD_KEYS)
    return (
        reader.optional_string((*path, "type"), entry.get("type")),
        tuple(reader.strings((*path, "tags"), entry.get("tags"))),
        reader.optional_string((*path, "description"), entry.get("description")),
    )


def _job(reader: Reader, aliases: Mapping[str, str], path: KeyPath, value: Any) -> DeclaredJob:
    entry = reader.mapping(path, value or {}, JOB_KEYS)
    ns = naming.job_namespace("declared")
    if entry.get("namespace") is not None:
        ns = namespace(reader, aliases, (*path, "namespace"), entry["namespace"])
    name = reader.string((*path, "name"), entry.get("name", path[-1]))
    processing = reader.string((*path, "processing"), entry.get("processing", "BATCH")).upper()
    if processing not in PROCESSING:
        raise reader.error((*path, "processing"), f"expected BATCH or STREAMING, got {processing!r}")
    sql = entry.get("sql")
    owner = reader.optional_string((*path, "owner"), entry.get("owner"))
    description = reader.optional_string((*path, "description"), entry.get("description"))
    job = Job(
        namespace=ns,
        name=name,
        job_type=reader.string((*path, "type"), entry.get("type", "JOB")).upper(),
        processing_type="STREAMING" if processing == "STREAMING" else "BATCH",
        sql=reader.string((*path, "sql"), sql) if sql is not None else None,
        source=_source(reader, (*path, "source"), entry.get("source")),
        description=description or None,
        owner=owner or None,
    )
    return DeclaredJob(
        id=str(path[-1]),
        job=job,
        owner=owner,
        description=description,
        where=reader.where(path),
    )


def _source(reader: Reader, path: KeyPath, value: Any) -> SourceLocation | None:
    """``source: www/photos/Upload.php`` or ``source: {path, type, url, repo_url, version}``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return SourceLocation(path=reader.string(path, value))
    entry = reader.mapping(path, value, SOURCE_KEYS, required=("path",))

    def opt(key: str) -> str | None:
        return reader.string((*path, key), entry[key]) if entry.get(key) is not None else None

    return SourceLocation(
        path=reader.string((*path, "path"), entry["path"]),
        type=opt("type") or "file",
        url=opt("url"),
        repo_url=opt("repo_url"),
        version=opt("version"),
    )
