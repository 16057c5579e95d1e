"""What every parser returns: flows found in one file, with the key path and line that say so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from flowscope.model import IDENTITY, Asset, AssetInfo, Job, Transformation
from flowscope_ml_config.refs import Names, Unresolved
from flowscope_ml_config.source import Doc, KeyPath, SkipFile, dotted, load_docs, load_json, read_text


@dataclass(frozen=True)
class Link:
    """One flow source -> target through job, found at ``key_path`` (line ``line`` of ``path``)."""

    job: Job
    source: Asset
    target: Asset | None
    key_path: str
    line: int
    snippet: str = ""
    transformation: Transformation = IDENTITY
    path: str = ""  # set when the evidence is in another file (Hydra config groups)


@dataclass
class Found:
    """A parser's result for one file: flows, asset infos and problems (message, line)."""

    fmt: str
    links: list[Link] = field(default_factory=list)
    infos: list[AssetInfo] = field(default_factory=list)
    problems: list[tuple[str, int | None]] = field(default_factory=list)
    consumed: set[str] = field(default_factory=set)  # other files this one composed (Hydra groups)

    def problem(self, message: str, line: int | None = None) -> None:
        self.problems.append((message, line))

    def add(self, link: Link) -> None:
        self.links.append(link)


@dataclass
class Scope:
    """Shared by the parsers of one scan: naming defaults, what earlier files taught (model inputs,
    feature views and services), and bounded access to files a config names (dataset registries)."""

    names: Names
    root: Path = field(default_factory=Path.cwd)  # the scan's base folder: nothing above it is read
    max_bytes: int = 8_000_000
    model_fields: dict[Asset, list[str]] = field(default_factory=dict)
    feature_views: dict[str, list[str]] = field(default_factory=dict)
    feature_services: dict[str, list[str]] = field(default_factory=dict)  # name -> ["view:feature"]
    services: dict[str, Asset] = field(default_factory=dict)  # serving name -> its endpoint asset
    feast_stores: dict[Path, Doc] = field(default_factory=dict)  # repo folder -> its feature_store.yaml
    said: set[str] = field(default_factory=set)
    _files: dict[Path, Any] = field(default_factory=dict)

    def learn_model(self, model: Asset, fields: list[str]) -> None:
        known = self.model_fields.setdefault(model.dataset, [])
        known.extend(f for f in fields if f not in known)

    def once(self, found: Found, message: str, line: int | None) -> None:
        """A problem worth saying once per scan (the same missing registry for every recipe)."""
        if message not in self.said:
            self.said.add(message)
            found.problem(message, line)

    def find_json(self, config: str, rel: str) -> tuple[Any, str]:
        return self._find(config, rel, json=True)

    def find_yaml(self, config: str, rel: str) -> tuple[Any, str]:
        return self._find(config, rel, json=False)

    def _find(self, config: str, rel: str, json: bool) -> tuple[Any, str]:
        """``rel`` (as a tool running from the repository root would open it), searched from the folder
        of ``config`` up to the scan root. Paths leaving the scan root are not read."""
        want = PurePosixPath(rel)
        if want.is_absolute() or ".." in want.parts:
            return None, rel
        root = self.root.resolve()
        here = (root / config).parent
        for folder in [here, *here.parents]:
            candidate = folder / want
            if candidate in self._files:
                return self._files[candidate], _show(candidate, root)
            if candidate.is_file():
                try:
                    text = read_text(candidate, self.max_bytes)
                    docs = load_json(text) if json else load_docs(text, str(candidate))
                    data = docs[0].data if docs else None
                except SkipFile:
                    data = None
                self._files[candidate] = data
                return data, _show(candidate, root)
            if folder == root or root not in folder.parents:
                break
        return None, rel


def _show(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def guarded(found: Found, line: int, make: Callable[[], Asset | None]) -> Asset | None:
    """Build an asset; an unresolved interpolation is reported and the asset skipped (partial lineage)."""
    try:
        return make()
    except Unresolved as exc:
        # Interpolation already reported the key it could not resolve; say it once per line.
        if not any(m.startswith("unresolved interpolation") and at == line for m, at in found.problems):
            found.problem(str(exc), line)
        return None
    except ValueError as exc:
        found.problem(f"bad name: {exc}", line)
        return None


def key(path: KeyPath) -> str:
    return dotted(path)


__all__ = ["Doc", "Found", "Link", "Scope", "guarded", "key"]
