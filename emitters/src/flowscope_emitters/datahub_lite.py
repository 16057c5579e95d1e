"""DataHub Lite (acryl-datahub's embedded DataHub, ``datahub.lite``) as a target and a lineage source.

acryl-datahub ships two Lite backends: SQLite (``datahub.lite.sqlite_lite``, no extra dependency, the one
its ``datahub lite`` CLI uses by default) and DuckDB (needs ``acryl-datahub[duckdb]``). flowscope uses SQLite.

Lite stores whole aspects (``write`` takes ``MetadataChangeProposalWrapper`` only), while flowscope's lineage,
job edges and tags are PATCH proposals so that they never replace what other sources wrote. So each patched
aspect is read from Lite, merged with :mod:`flowscope_emitters.datahub_patch` (GMS's merge rules) and
written back whole.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from flowscope.errors import UserError
from flowscope_emitters.datahub_patch import PatchError, apply, patchable, split_payload

LITE_TYPE = "sqlite"


def default_path() -> Path:
    """Where ``datahub lite`` looks by default (``~/.datahub/lite/datahub.db``)."""
    return Path("~/.datahub/lite/datahub.db").expanduser()


@contextmanager
def open_lite(path: Path, read_only: bool = False) -> Iterator[Any]:
    """A Lite instance on ``path``; failures to open are one-line errors naming the file."""
    from datahub.lite.lite_util import get_datahub_lite

    if read_only and not path.is_file():
        raise UserError("no DataHub Lite database here", str(path))
    if path.is_dir():
        raise UserError("is a folder, expected a DataHub Lite database file", str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lite = get_datahub_lite(
            {"type": LITE_TYPE, "config": {"file": str(path), "read_only": read_only}}, read_only=read_only
        )
    except (sqlite3.Error, OSError) as exc:
        raise UserError(f"cannot open DataHub Lite: {_reason(exc)}", str(path)) from None
    try:
        yield lite
    except sqlite3.Error as exc:
        raise UserError(f"DataHub Lite: {_reason(exc)}", str(path)) from None
    finally:
        with suppress(sqlite3.Error):  # the error that got us here is the one to report
            close(lite, read_only)


def close(lite: Any, read_only: bool) -> None:
    """``lite.close()``, whose browse-index rebuild runs in one transaction (it commits every edge it
    writes otherwise: minutes for a few thousand entities)."""
    rebuild, disconnect = getattr(lite, "reindex", None), getattr(lite, "_close_connection", None)
    if read_only or not callable(rebuild) or not callable(disconnect):
        lite.close()
        return
    with one_transaction(lite):
        rebuild()
    disconnect()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@contextmanager
def one_transaction(lite: Any) -> Iterator[None]:
    """Everything Lite writes inside as one SQLite transaction: all of it or, on any error, none of it
    (Lite otherwise commits after every aspect and every browse edge, which is also most of its time).
    Lite's engines route every commit through ``_commit``; without it, Lite commits as it always does."""
    commit = getattr(lite, "_commit", None)
    if commit is None or not callable(getattr(lite, "_rollback", None)):
        yield
        return
    lite._commit = lambda: None
    try:
        yield
    except BaseException:
        lite._rollback()
        raise
    else:
        commit()
    finally:
        del lite._commit  # back to the class's method


def write(lite: Any, mcps: Iterable[Any]) -> int:
    """Write proposals into Lite, in one transaction: upserts as they are, patches merged into the stored
    aspect. Returns how many aspects were written. Patches of one aspect are merged in order, then written
    once."""
    with one_transaction(lite):
        return _write(lite, mcps)


def _write(lite: Any, mcps: Iterable[Any]) -> int:
    written = 0
    for mcp in whole_aspects(mcps, lambda urn, name: _stored(lite, urn, name)):
        lite.write(mcp)
        written += 1
    return written


def _stored(lite: Any, urn: str, name: str) -> dict[str, Any] | None:
    stored = lite.get(urn, [name], typed=True)
    return stored[name].to_obj() if stored and name in stored else None


def whole_aspects(mcps: Iterable[Any], current: Any = None) -> list[Any]:
    """Proposals a store of whole aspects takes (DataHub Lite, a file sink): upserts as they are, each
    patched aspect merged into ``current(urn, aspect)`` (None: DataHub's default) with GMS's rules."""
    from datahub.emitter.aspect import ASPECT_MAP
    from datahub.emitter.mcp import MetadataChangeProposalWrapper

    patches: dict[tuple[str, str], list[tuple[list[Any], dict[str, list[str]]]]] = {}
    out: list[Any] = []
    for mcp in mcps:
        if mcp.changeType != "PATCH":
            out.append(mcp)
            continue
        if not patchable(mcp.aspectName):
            raise UserError(f"DataHub Lite: cannot apply a patch to aspect {mcp.aspectName}")
        ops = split_payload(json.loads(mcp.aspect.value))
        patches.setdefault((mcp.entityUrn, mcp.aspectName), []).append(ops)
    for (urn, name), changes in patches.items():
        doc = current(urn, name) if current is not None else None
        try:
            for operations, keys in changes:
                doc = apply(name, doc, operations, keys)
        except PatchError as exc:
            raise UserError(f"DataHub Lite: {urn} {name}: {exc}") from None
        assert doc is not None  # at least one change was applied
        out.append(MetadataChangeProposalWrapper(entityUrn=urn, aspect=ASPECT_MAP[name].from_obj(doc)))
    return out


def lineage_hops(lite: Any, urn: str, direction: str, depth: int) -> list[tuple[str, str | None, str]]:
    """Lite has no lineage query (only get, search and browse), so walk the aspects it holds:
    ``upstreamLineage`` (datasets and fine-grained fields) for edges, ``dataJobInputOutput`` for the job
    of each hop. A dataset reached brings its fields along. Returns (source urn, job urn or None, target
    urn) within ``depth`` hops."""
    from datahub.metadata.urns import SchemaFieldUrn

    def dataset_of(u: str) -> str:
        return str(SchemaFieldUrn.from_string(u).parent) if u.startswith("urn:li:schemaField:") else u

    ups: dict[str, set[str]] = {}  # downstream -> upstreams
    jobs: dict[tuple[str, str], str] = {}
    for entity in lite.get_all_entities(typed=True):
        for owner, aspects in entity.items():
            lineage = aspects.get("upstreamLineage")
            for up in getattr(lineage, "upstreams", None) or []:
                ups.setdefault(owner, set()).add(up.dataset)
            for fgl in getattr(lineage, "fineGrainedLineages", None) or []:
                for down in fgl.downstreams or []:
                    ups.setdefault(down, set()).update(fgl.upstreams or [])
            io = aspects.get("dataJobInputOutput")
            if io is not None:
                ins = [e.destinationUrn for e in io.inputDatasetEdges or []] + list(io.inputDatasets or [])
                outs = [e.destinationUrn for e in io.outputDatasetEdges or []] + list(io.outputDatasets or [])
                for i in ins:
                    for o in outs:
                        jobs.setdefault((i, o), owner)
    step: dict[str, set[str]] = {}
    if direction == "upstream":
        step = ups
    else:
        for down, sources in ups.items():
            for up in sources:
                step.setdefault(up, set()).add(down)
    # A dataset's neighbourhood includes its fields' (as Marquez's column lineage does for `marquez pull`).
    fields: dict[str, set[str]] = {}
    for node in step:
        if node.startswith("urn:li:schemaField:"):
            fields.setdefault(dataset_of(node), set()).add(node)
    found: list[tuple[str, str | None, str]] = []
    frontier, seen = [urn], {urn}
    for _ in range(depth):
        nxt: list[str] = []
        for node in list(frontier):
            for f in sorted(fields.get(node, ())):
                if f not in seen:
                    seen.add(f)
                    frontier.append(f)
        for node in frontier:
            for other in sorted(step.get(node, ())):
                source, target = (node, other) if direction == "downstream" else (other, node)
                found.append((source, jobs.get((dataset_of(source), dataset_of(target))), target))
                if other not in seen:
                    seen.add(other)
                    nxt.append(other)
        frontier = nxt
    return found
