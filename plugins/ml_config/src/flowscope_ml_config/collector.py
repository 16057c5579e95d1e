"""The ml_config collector: find config files, recognise each format, parse it as data, yield signals.

Files are read in dependency order: Feast repositories first (feature views and services), then
training, fine-tuning, MLflow and Kubeflow configs (which name features and models), then serving
configs (which serve the models just learnt). Nothing is imported or executed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flowscope import naming
from flowscope.contracts import CollectContext
from flowscope.model import Evidence, Observation, Signal
from flowscope_ml_config import feast, hydra, kubeflow, mlflow, serving, training
from flowscope_ml_config.links import Found, Scope
from flowscope_ml_config.refs import Names
from flowscope_ml_config.source import Doc, SkipFile, load_docs, read_text

log = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml", ".json", ".py")
NAMES = ("MLmodel", "MLproject")
ORDER = ("feast", "hydra", "training", "finetune", "mlflow_model", "mlflow_project", "kubeflow", "serving")


@dataclass
class Settings:
    """``plugins.ml_config``; see the plugin README for each key."""

    paths: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    registry: str = naming.DEFAULT_SYSTEM
    feature_store: str = "feast"
    table_namespace: str = ""
    max_file_bytes: int = 1_000_000


@dataclass
class Input:
    path: Path
    rel: str
    fmt: str = ""
    text: str = ""
    docs: list[Doc] = field(default_factory=list)
    composed: hydra.Composed | None = None  # a Hydra primary config, composed with its groups


def discover(settings: Settings, ctx: CollectContext) -> list[Path]:
    found: dict[Path, None] = {}
    for pattern in settings.paths:
        target = ctx.resolve(pattern)
        matches = [target] if target.exists() else sorted(ctx.base_dir.glob(pattern))
        if not matches:
            ctx.problem(f"paths: {pattern!r} matches no file")
        for m in matches:
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


def classify(item: Input) -> str:
    """The format of one loaded file, or ``skipped: <reason>``."""
    name = item.path.name
    if name == "MLmodel":
        return "mlflow_model"
    if name == "MLproject":
        return "mlflow_project"
    if name == "feature_store.yaml":
        return "feast_store"
    if item.path.suffix == ".py":
        return "feast" if "feast" in item.text else "skipped: Python file that does not use feast"
    data = item.docs[0].data if item.docs else None
    if not isinstance(data, dict):
        return "skipped: not a mapping at the top level"
    checks = (
        ("hydra", hydra.is_primary),
        ("kubeflow", kubeflow.is_kubeflow),
        ("serving", serving.is_serving),
        ("feast_store", lambda d: {"project", "provider", "registry"} <= set(d)),
        ("finetune", training.is_finetune),
        ("training", training.is_training),
    )
    for fmt, check in checks:
        if check(data):
            return fmt
    return "skipped: unknown format (no training, feature store, MLflow, Kubeflow or serving keys)"


class MlConfigCollector:
    name = "ml_config"
    config_section = "ml_config"
    config_class: type | None = Settings

    def collect(self, ctx: CollectContext) -> Iterator[Observation]:
        settings: Settings = ctx.settings
        names = Names(settings.registry, settings.feature_store, settings.table_namespace)
        yield from collect_files(discover(settings, ctx), settings, names, ctx, self.name)


def _load(path: Path, ctx: CollectContext, settings: Settings) -> Input | None:
    item = Input(path, display(path, ctx.base_dir))
    try:
        item.text = read_text(path, settings.max_file_bytes)
        if path.suffix != ".py":
            item.docs = load_docs(item.text)
    except SkipFile as exc:
        ctx.problem(exc.message, item.rel, exc.line)
        return None
    return item


def collect_files(
    paths: list[Path], settings: Settings, names: Names, ctx: CollectContext, collector: str
) -> Iterator[Observation]:
    scope = Scope(names)
    loaded = [i for i in (_load(p, ctx, settings) for p in paths) if i is not None]
    consumed: set[Path] = set()
    for item in sorted(loaded, key=lambda i: len(i.path.parts)):
        item.fmt = classify(item)
        if item.fmt == "hydra" and item.path.resolve() not in consumed:
            composed = hydra.compose(item.path, ctx.base_dir.resolve(), settings.max_file_bytes)
            consumed |= {f.resolve() for f in composed.files if f != item.path}
            item.docs = [Doc(composed.data)]
            item.composed = composed
    stores = {i.path.parent.resolve(): i.docs[0] for i in loaded if i.fmt == "feast_store" and i.docs}
    todo = [i for i in loaded if i.path.resolve() not in consumed]
    for item in todo:
        if item.fmt.startswith("skipped: "):
            log.debug("%s: %s", item.rel, item.fmt)
            if item.path.suffix != ".py":
                ctx.problem(item.fmt, item.rel, None)
    todo = [i for i in todo if i.fmt in ORDER or i.fmt == "feast_store"]
    for item in sorted(todo, key=lambda i: (ORDER.index(i.fmt) if i.fmt in ORDER else 0, i.rel)):
        ctx.advance(1)
        found = Found(item.fmt)
        _parse(item, scope, found, stores, ctx)
        for message, line in found.problems:
            ctx.problem(message, item.rel, line)
        yield from found.infos
        for link in found.links:
            detail = (("key_path", link.key_path), ("format", item.fmt))
            where = f"{link.path or item.rel}:{link.line}"
            ev = Evidence(collector, "config", where, link.snippet, detail)
            yield Signal("config", link.job, link.source, link.target, link.transformation, (ev,))


def _store_for(path: Path, stores: dict[Path, Doc]) -> Doc | None:
    for parent in path.resolve().parents:
        if parent in stores:
            return stores[parent]
    return None


def _module_loader(path: Path, stores: dict[Path, Doc], max_bytes: int) -> Callable[[str, int], str | None]:
    """Finds ``from x.y import z`` modules beside the file or at the Feast repo root (where
    ``feature_store.yaml`` is); their text is parsed, never imported."""
    here = path.resolve().parent
    root = next((p for p in here.parents if p in stores), here) if here not in stores else here

    def load(module: str, level: int) -> str | None:
        bases = [here.parents[level - 2] if level > 1 else here] if level else [here, root]
        rel = Path(*module.split(".")) if module else Path()
        for base in bases:
            for candidate in (base / rel.with_suffix(".py"), base / rel / "__init__.py"):
                if module and candidate.is_file() and candidate != path.resolve():
                    try:
                        return read_text(candidate, max_bytes)
                    except SkipFile:
                        return None
        return None

    return load


def _parse(item: Input, scope: Scope, found: Found, stores: dict[Path, Doc], ctx: CollectContext) -> None:
    doc = item.docs[0] if item.docs else Doc({})
    if item.fmt == "feast_store":
        feast.parse_store_yaml(doc, found)
    elif item.fmt == "feast":
        loader = _module_loader(item.path, stores, ctx.settings.max_file_bytes)
        feast.parse_python(item.text, item.rel, scope, _store_for(item.path, stores), found, loader)
    elif item.fmt == "mlflow_model":
        mlflow.parse_mlmodel(doc, item.rel, scope, found)
    elif item.fmt == "mlflow_project":
        mlflow.parse_mlproject(doc, item.rel, scope, found)
    elif item.fmt == "kubeflow":
        for d in item.docs:
            if kubeflow.is_kubeflow(d.data):
                kubeflow.parse_kubeflow(d, item.rel, scope, found)
    elif item.fmt == "serving":
        serving.parse_serving(doc, item.rel, scope, found)
    else:
        _parse_training(item, doc, scope, found, ctx)


def _parse_training(item: Input, doc: Doc, scope: Scope, found: Found, ctx: CollectContext) -> None:
    composed = item.composed
    if composed is None:
        composed = hydra.Composed(origin={k: (item.rel, v) for k, v in doc.lines.items()})
        composed.data = hydra.resolve(doc.data, composed)
    for rel, message, line in composed.problems:
        if rel == item.rel:
            found.problem(message, line)
        else:
            ctx.problem(message, rel, line)
    data = composed.data
    if item.fmt == "finetune" or (item.fmt == "hydra" and training.is_finetune(data)):
        training.parse_finetune(data, composed.where, item.rel, scope, found)
    elif training.is_training(data):
        training.parse_training(data, composed.where, item.rel, scope, found)
    else:
        found.problem("composed Hydra config names no model with datasets or features; skipped", 1)
