"""Validate emitted events against the official OpenLineage JSON Schemas, offline.

The schemas are not shipped with flowscope: they live in a spec folder (``OpenLineage.json``,
``facets/*.json``, ``registry/``) found through ``FLOWSCOPE_OL_SPEC`` or next to the repository.
An event is checked against ``OpenLineage.json`` and then every facet against its own facet schema,
including flowscope's facet against the schema shipped in this package. ``jsonschema`` is imported
only here, when validating, so it stays a test/dev dependency.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscope.errors import UserError
from flowscope.facets import load_schema

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

SPEC_ENV = "FLOWSCOPE_OL_SPEC"
CORE_SCHEMA_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
# Where each facet map of an event sits, and the OpenLineage base facet its entries extend.
_CATEGORIES = ("RunFacet", "JobFacet", "DatasetFacet", "InputDatasetFacet", "OutputDatasetFacet")


def spec_dir() -> Path | None:
    """The OpenLineage spec folder: ``$FLOWSCOPE_OL_SPEC``, else ``<repo>/../shared/spec/openlineage``.

    Returns None when the folder does not exist, so callers (tests) can skip with a reason.
    """
    env = os.environ.get(SPEC_ENV)
    if env:
        path = Path(env).expanduser()
        return path if (path / "OpenLineage.json").is_file() else None
    repo = Path(__file__).resolve().parents[3]  # core/src/flowscope/specs.py -> repository root
    if not (repo / "pyproject.toml").is_file():
        return None
    path = (repo / ".." / "shared" / "spec" / "openlineage").resolve()
    return path if (path / "OpenLineage.json").is_file() else None


def validate_event(event: Mapping[str, Any], spec: Path) -> list[str]:
    """Human-readable schema violations of one event (as a dict); an empty list means valid."""
    schemas = _load(str(spec))
    kind = "RunEvent" if "run" in event else "DatasetEvent" if "dataset" in event else "JobEvent"
    # The specific event definition gives precise errors; the root's oneOf then checks it is unambiguous.
    errors = [
        m
        for e in _validator(schemas, f"{CORE_SCHEMA_ID}#/$defs/{kind}").iter_errors(event)
        for m in _describe(e, "")
    ]
    if not errors:
        errors = [m for e in _validator(schemas, CORE_SCHEMA_ID).iter_errors(event) for m in _describe(e, "")]
    for where, category, key, facet in _facets(event):
        schema_id = schemas.facet_ids.get((category, key))
        if schema_id is None:
            continue  # a custom facet nobody published a schema for: the core schema already checked it
        validator = _validator(schemas, schema_id)
        errors += [m for e in validator.iter_errors({key: facet}) for m in _describe(e, f"{where}/")]
    return list(dict.fromkeys(errors))


class _Schemas:
    def __init__(self, resources: dict[str, dict[str, Any]], facet_ids: dict[tuple[str, str], str]) -> None:
        self.resources = resources
        self.facet_ids = facet_ids
        self.validators: dict[str, Validator] = {}


@lru_cache(maxsize=4)
def _load(spec: str) -> _Schemas:
    root = Path(spec)
    core = root / "OpenLineage.json"
    if not core.is_file():
        raise UserError(f"no OpenLineage.json in the spec folder {root} (set {SPEC_ENV})")
    docs = [json.loads(core.read_text("utf-8")), load_schema()]
    for path in sorted([*root.glob("facets/*.json"), *root.glob("registry/**/facets/*.json")]):
        docs.append(json.loads(path.read_text("utf-8")))
    resources = {str(d["$id"]): d for d in docs if "$id" in d}
    facet_ids: dict[tuple[str, str], str] = {}
    for schema_id, doc in resources.items():
        for key, prop in doc.get("properties", {}).items():
            for category in _categories_of(doc, prop):
                facet_ids.setdefault((category, key), schema_id)
    return _Schemas(resources, facet_ids)


def _categories_of(doc: Mapping[str, Any], prop: Mapping[str, Any]) -> Iterator[str]:
    """Which OpenLineage facet kinds a facet file's top-level property is (a file may offer several)."""
    refs = [prop.get("$ref")] + [alt.get("$ref") for alt in prop.get("anyOf", []) + prop.get("oneOf", [])]
    for ref in refs:
        if not ref or not str(ref).startswith("#/$defs/"):
            continue
        definition = doc.get("$defs", {}).get(str(ref).removeprefix("#/$defs/"), {})
        for part in definition.get("allOf", []):
            base = str(part.get("$ref", "")).rpartition("#/$defs/")[2]
            if base in _CATEGORIES:
                yield base


def _validator(schemas: _Schemas, schema_id: str) -> Validator:
    found = schemas.validators.get(schema_id)
    if found is not None:
        return found
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        raise UserError("validating OpenLineage events needs jsonschema: pip install jsonschema") from None
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    registry: Registry[Any] = Registry().with_resources(
        (sid, Resource.from_contents(doc, default_specification=DRAFT202012))
        for sid, doc in schemas.resources.items()
    )
    base, _, fragment = schema_id.partition("#")
    schema: dict[str, Any] = {"$ref": schema_id} if fragment else schemas.resources[base]
    validator: Validator = Draft202012Validator(schema, registry=registry, format_checker=_format_checker())
    schemas.validators[schema_id] = validator
    return validator


def _format_checker() -> Any:
    """jsonschema's checker, plus plain ``uri`` and ``date-time`` checks when the optional
    format libraries (rfc3987, rfc3339-validator) are not installed."""
    from datetime import datetime
    from urllib.parse import urlsplit

    from jsonschema import FormatChecker

    def uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return bool(urlsplit(value).scheme) and not any(c.isspace() for c in value)

    def date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return "T" in value.upper() and datetime.fromisoformat(value).tzinfo is not None

    checker = FormatChecker()
    for name, check in (("uri", uri), ("date-time", date_time)):
        if name not in checker.checkers:
            checker.checks(name, raises=ValueError)(check)
    return checker


def _facets(event: Mapping[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """(location, facet kind, key, facet) for every facet in the event."""

    def each(where: str, category: str, facets: object) -> Iterator[tuple[str, str, str, Any]]:
        if isinstance(facets, Mapping):
            for key, facet in facets.items():
                yield f"{where}/{key}", category, str(key), facet

    run, job = event.get("run"), event.get("job")
    if isinstance(run, Mapping):
        yield from each("run/facets", "RunFacet", run.get("facets"))
    if isinstance(job, Mapping):
        yield from each("job/facets", "JobFacet", job.get("facets"))
    for side, extra, category in (
        ("inputs", "inputFacets", "InputDatasetFacet"),
        ("outputs", "outputFacets", "OutputDatasetFacet"),
    ):
        datasets = event.get(side)
        for i, ds in enumerate(datasets if isinstance(datasets, list) else []):
            if isinstance(ds, Mapping):
                yield from each(f"{side}/{i}/facets", "DatasetFacet", ds.get("facets"))
                yield from each(f"{side}/{i}/{extra}", category, ds.get(extra))


def _describe(error: ValidationError, prefix: str) -> Iterator[str]:
    """``path: message`` per failure; an anyOf/oneOf failure reports the leaves of its closest branch."""
    for leaf in _leaves(error):
        parts = [str(p) for p in leaf.absolute_path]
        if prefix:  # facet errors are located from the facet itself, not from the {key: facet} wrapper
            parts = parts[1:]
        where = (prefix + "/".join(parts)).rstrip("/") or "(event)"
        yield f"{where}: {leaf.message}"


def _leaves(error: ValidationError) -> list[ValidationError]:
    if not error.context:
        return [error]
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
    closest = max(branches.values(), key=lambda errs: max(len(e.absolute_path) for e in errs))
    return [leaf for sub in closest for leaf in _leaves(sub)]
