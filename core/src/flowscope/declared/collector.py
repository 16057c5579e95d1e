"""The built-in ``declared`` collector: flows written by hand in YAML (docs/declared_flows.md).

Loading never stops at the first mistake: a file that is not valid YAML is reported and skipped, an
invalid asset, job or flow is reported and skipped, and everything else still loads.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flowscope.contracts import CollectContext
from flowscope.declared.flows import Catalog, flow_signals
from flowscope.declared.reader import Reader, SpecError
from flowscope.declared.spec import DeclaredAsset, DeclaredJob, FileSpec, read_file_spec
from flowscope.errors import UserError
from flowscope.model import Observation
from flowscope.yamlpos import load_yaml

# (message, file, line) -> None; CollectContext.problem has exactly this shape.
ProblemSink = Callable[[str, str | None, int | None], None]


@dataclass
class DeclaredSettings:
    """``plugins.declared``: glob patterns of flow files, relative to the config file's folder."""

    files: list[str] = field(default_factory=list)


def find_files(patterns: Sequence[str], base_dir: Path, problem: ProblemSink) -> list[Path]:
    """Files matching ``patterns`` (``**`` recurses), each once, in pattern order then name order."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        expanded = os.path.expanduser(pattern)
        matches = sorted(
            glob.glob(expanded, root_dir=None if os.path.isabs(expanded) else base_dir, recursive=True)
        )
        paths = [Path(m) if os.path.isabs(m) else base_dir / m for m in matches]
        paths = [p for p in paths if p.is_file()]
        if not paths:
            problem(f"plugins.declared.files: {pattern!r} matches no file", None, None)
        for p in paths:
            found.setdefault(p, None)
    return list(found)


def display_name(path: Path, base_dir: Path) -> str:
    """How evidence and errors name a file: relative to the config's folder, with forward slashes."""
    try:
        return Path(os.path.relpath(path, base_dir)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def load_declared(paths: Iterable[Path], base_dir: Path, problem: ProblemSink) -> Iterator[Observation]:
    """Asset infos, then signals, from every file; problems go to ``problem`` and loading goes on."""
    specs: list[FileSpec] = []
    catalog = Catalog()
    for path in paths:
        spec = _read(path, base_dir, problem)
        if spec is None:
            continue
        specs.append(spec)
        catalog.broken |= spec.broken
        for asset in spec.assets:
            if _is_new(catalog.assets.get(asset.id), "assets", asset.id, spec, problem):
                catalog.assets[asset.id] = asset
        for job in spec.jobs:
            if _is_new(catalog.jobs.get(job.id), "jobs", job.id, spec, problem):
                catalog.jobs[job.id] = job
    for declared in catalog.assets.values():
        yield from declared.infos()
    for spec in specs:
        for path_, value in spec.flows:
            try:
                yield from flow_signals(spec.reader, catalog, path_, value)
            except SpecError as exc:
                problem(exc.message, spec.reader.source, exc.line)


def _is_new(
    known: DeclaredAsset | DeclaredJob | None, kind: str, ident: str, spec: FileSpec, problem: ProblemSink
) -> bool:
    # Ids are global across files so one file can read what another declares; a second declaration
    # of the same id is a mistake we report rather than silently picking one.
    if known is None:
        return True
    line = spec.reader.doc.line_of((kind, ident))
    problem(f"{kind}.{ident}: already declared at {known.where}", spec.reader.source, line)
    return False


def _read(path: Path, base_dir: Path, problem: ProblemSink) -> FileSpec | None:
    source = display_name(path, base_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem(f"cannot read: {exc}", source, None)
        return None
    try:
        reader = Reader(load_yaml(text, source), source)
        return read_file_spec(reader, lambda message, line: problem(message, source, line))
    except UserError as exc:  # invalid YAML
        problem(exc.message, source, exc.line)
    except SpecError as exc:  # the file as a whole is unusable (not a mapping, unknown version)
        problem(exc.message, source, exc.line)
    return None


class DeclaredCollector:
    """Reads ``plugins.declared.files``; can run alone with ``flowscope scan --only declared``."""

    name = "declared"
    config_section = "declared"
    config_class: type | None = DeclaredSettings

    def collect(self, ctx: CollectContext) -> Iterator[Observation]:
        settings = ctx.settings
        if isinstance(settings, Mapping):
            settings = DeclaredSettings(files=list(settings.get("files") or []))
        if not isinstance(settings, DeclaredSettings) or not settings.files:
            ctx.log.info("declared: no files configured (plugins.declared.files)")
            return
        paths = find_files(settings.files, ctx.base_dir, ctx.problem)
        for path in paths:
            ctx.note_input(path)
        yield from load_declared(paths, ctx.base_dir, ctx.problem)
        ctx.advance(len(paths))
