"""The ml_config collector: find config files, recognise each document's format, parse it as data, yield
signals.

Files are read in dependency order: Feast repositories first (feature views and services), then
training, fine-tuning, MLflow, DVC and Kubeflow configs (which name features and models), then serving
configs (which serve the models just learnt). Nothing is imported or executed. Each file is read and
parsed under its own budget (size, YAML/JSON limits, ``max_file_seconds``): a file that fails costs
itself one problem line and the others' lineage is kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flowscope import naming
from flowscope.contracts import CollectContext
from flowscope.model import Evidence, Observation, Signal
from flowscope_ml_config import finetune, formats, hydra
from flowscope_ml_config.links import Found, Scope
from flowscope_ml_config.parsers import parse_item
from flowscope_ml_config.refs import Names
from flowscope_ml_config.source import Doc, SkipFile, budget, load_docs, load_json, read_text

log = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml", ".json", ".py", ".pbtxt")
NAMES = ("MLmodel", "MLproject")
ORDER = (
    "feast_store", "feast", "hydra", "training", "finetune", "mlflow_model", "mlflow_project", "dvc",
    "kubeflow", "serving", "kserve", "seldon", "torchserve", "triton",
)  # fmt: skip
_DEFAULTS_LINE = re.compile(r"^defaults\s*:", re.M)
_TEMPLATE_VALUE = re.compile(r"(:[ \t]*)(%[A-Z][A-Z0-9_]*%)(?=[ \t]*(#.*)?$)", re.M)


@dataclass
class Settings:
    """``plugins.ml_config``; see the plugin README for each key."""

    paths: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    registry: str = naming.DEFAULT_SYSTEM
    feature_store: str = "feast"
    table_namespace: str = ""
    max_file_bytes: int = 8_000_000
    max_file_seconds: float = 10.0
    strict: bool = False


@dataclass
class Input:
    path: Path
    rel: str
    real: Path = Path()  # the resolved path, computed once
    fmt: str = ""
    text: str = ""
    docs: list[Doc] = field(default_factory=list)
    doc_fmts: list[str | None] = field(default_factory=list)
    composed: hydra.Composed | None = None  # a Hydra primary config, composed with its groups


def discover(settings: Settings, ctx: CollectContext) -> list[Path]:
    found: dict[Path, None] = {}
    for pattern in settings.paths:
        # ctx.glob, not Path.glob: an absolute pattern (/srv/ml/**/*.yaml) raised NotImplementedError there
        target = ctx.resolve(pattern)
        matches = [target] if target.exists() else ctx.glob(pattern)
        if not matches:
            ctx.problem(f"paths: {pattern!r} matches no file")
        for m in matches:
            ctx.note_input(m)
            files = sorted(p for p in m.rglob("*") if p.is_file()) if m.is_dir() else [m]
            for f in files:
                if f.suffix in SUFFIXES or f.name in NAMES or m == f:
                    found.setdefault(f, None)
    return [p for p in found if not any(p.match(x) for x in settings.exclude)]


def display(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.name


def classify(item: Input, hydra_dirs: set[Path] | None = None, dvc_dirs: set[Path] | None = None) -> str:
    """The format of one loaded file (its first recognised document's), or ``skipped: <reason>``."""
    name = item.path.name
    if name in formats.BY_NAME:
        return formats.BY_NAME[name][0]
    if item.path.suffix == ".py":
        return "feast" if "feast" in item.text else "skipped: Python file that does not use feast"
    if name in ("params.yaml", "params.yml") and dvc_dirs is not None and item.path.parent in dvc_dirs:
        return "dvc_params"
    item.doc_fmts = [formats.classify_doc(d.data, name) for d in item.docs]
    fmt = next((f for f in item.doc_fmts if f), None)
    if (
        fmt == "hydra"
        and hydra_dirs is not None
        and any(p in hydra_dirs for p in (item.real or item.path.resolve()).parents[1:])
    ):
        return "hydra_group"  # an option of a config group, read through the primary that chooses it
    if fmt is not None:
        return fmt
    if not item.docs or all(d.data is None for d in item.docs):
        return "skipped: empty file"
    if not any(isinstance(d.data, dict) for d in item.docs):
        return "skipped: not a mapping at the top level"
    return formats.UNKNOWN


class MlConfigCollector:
    name = "ml_config"
    config_section = "ml_config"
    config_class: type | None = Settings

    def collect(self, ctx: CollectContext) -> Iterator[Observation]:
        settings: Settings = ctx.settings
        names = Names(settings.registry, settings.feature_store, settings.table_namespace)
        yield from collect_files(discover(settings, ctx), settings, names, ctx, self.name)


def load(path: Path, rel: str, settings: Settings, real: Path | None = None) -> Input:
    """Read and parse one file (raises SkipFile)."""
    item = Input(path, rel, real or path.resolve())
    item.text = read_text(path, settings.max_file_bytes)
    if path.suffix == ".json":
        item.docs = load_json(item.text)
    elif path.suffix in (".yaml", ".yml") or path.name in NAMES:
        try:
            item.docs = load_docs(item.text, rel)
        except SkipFile:
            if not (path.name.startswith("feature_store.") and _TEMPLATE_VALUE.search(item.text)):
                raise
            # A Feast template (`feast init`) before its %PLACEHOLDERS% are filled: read them as text.
            item.docs = load_docs(_TEMPLATE_VALUE.sub(r'\1"\2"', item.text), rel)
    return item


def _load(
    path: Path, base: Path, ctx: CollectContext, settings: Settings, hydra_dirs: set[Path]
) -> Input | None:
    real = path.resolve()
    try:
        rel = real.relative_to(base).as_posix()
    except ValueError:
        rel = path.name
    try:
        with budget(settings.max_file_seconds):
            item = load(path, rel, settings, real)
        if path.suffix in (".yaml", ".yml") and _DEFAULTS_LINE.search(item.text):
            hydra_dirs.add(real.parent)
        return item
    except SkipFile as exc:
        if path.suffix in (".yaml", ".yml") and exc.message.startswith("invalid YAML"):
            try:  # a config folder whose primary is broken (a template) still holds config groups
                if _DEFAULTS_LINE.search(read_text(path, settings.max_file_bytes)):
                    hydra_dirs.add(real.parent)
            except SkipFile:
                pass
        ctx.problem(exc.message, rel, exc.line)
    except (RecursionError, MemoryError) as exc:
        ctx.problem(f"skipped: {type(exc).__name__} while reading", rel)
    return None


def _report_env(var: str, item: Input, found: Found, ctx: CollectContext) -> None:
    """Said once per scan, at the first file (a Hydra group file, for a composed config) that writes it."""
    message = f"environment variable {var} is not read; kept as ${{{var}}} in asset names"
    texts = [(item.rel, item.text)]
    if item.composed is not None:
        for f in item.composed.files:
            try:
                texts.append((display(f, ctx.base_dir), read_text(f, ctx.settings.max_file_bytes)))
            except SkipFile:
                continue
    for rel, text in texts:
        at = text.find(var)
        if at >= 0:
            line = text.count("\n", 0, at) + 1
            if rel == item.rel:
                found.problem(message, line)
            else:
                ctx.problem(message, rel, line)
            return
    found.problem(message, None)


def collect_files(
    paths: list[Path], settings: Settings, names: Names, ctx: CollectContext, collector: str
) -> Iterator[Observation]:
    base = ctx.base_dir.resolve()
    scope = Scope(names, root=base, max_bytes=settings.max_file_bytes)
    hydra_dirs: set[Path] = set()
    loaded = [i for i in (_load(p, base, ctx, settings, hydra_dirs) for p in paths) if i is not None]
    dvc_dirs = {i.path.parent for i in loaded if i.path.name in ("dvc.yaml", "dvc.yml")}
    preloaded = {i.real: (i.text, i.docs) for i in loaded if i.docs}
    consumed: set[Path] = set()
    for item in sorted(loaded, key=lambda i: len(i.path.parts)):
        item.fmt = classify(item, hydra_dirs, dvc_dirs)
        if item.fmt == "hydra" and item.real not in consumed:
            try:
                with budget(settings.max_file_seconds):
                    composed = hydra.compose(item.path, base, settings.max_file_bytes, preloaded)
            except SkipFile as exc:
                ctx.problem(exc.message, item.rel, exc.line)
                item.fmt = "skipped: " + exc.message
                continue
            consumed |= {f.resolve() for f in composed.files[1:]}
            item.docs = [Doc(composed.data)]
            item.composed = composed
    scope.feast_stores = {i.real.parent: i.docs[0] for i in loaded if i.fmt == "feast_store" and i.docs}
    todo = [i for i in loaded if i.real not in consumed]
    for item in todo:
        if item.fmt.startswith("skipped: "):
            log.debug("%s: %s", item.rel, item.fmt)
            if settings.strict and item.path.suffix != ".py":
                ctx.problem(item.fmt, item.rel, None)
    todo = [i for i in todo if i.fmt in ORDER]
    founds: list[tuple[Input, Found]] = []
    env_said: set[str] = set()
    for item in sorted(todo, key=lambda i: (ORDER.index(i.fmt), i.rel)):
        ctx.advance(1)
        found = Found(item.fmt)
        try:
            with budget(settings.max_file_seconds):
                parse_item(item, scope, found, ctx)
        except SkipFile as exc:
            found = Found(item.fmt, problems=[(exc.message, exc.line)])
        except (RecursionError, MemoryError) as exc:
            found = Found(item.fmt, problems=[(f"skipped: {type(exc).__name__} while parsing", None)])
        for var in names.env_seen:
            if var not in env_said:
                env_said.add(var)
                _report_env(var, item, found, ctx)
        founds.append((item, found))
    finetune.link_chains([f for _, f in founds])
    said: set[tuple[str, str, int | None]] = set()
    for item, found in founds:
        for message, line in found.problems:
            if (item.rel, message, line) not in said:
                said.add((item.rel, message, line))
                ctx.problem(message, item.rel, line)
        yield from found.infos
        for link in found.links:
            detail = (("key_path", link.key_path), ("format", item.fmt))
            where = f"{link.path or item.rel}:{link.line}"
            ev = Evidence(collector, "config", where, link.snippet, detail)
            yield Signal("config", link.job, link.source, link.target, link.transformation, (ev,))
