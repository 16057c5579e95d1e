"""What every parser returns: flows found in one file, with the key path and line that say so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flowscope.model import IDENTITY, Asset, AssetInfo, Job, Transformation
from flowscope_ml_config.refs import Names, Unresolved
from flowscope_ml_config.source import KeyPath, dotted


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
    """Shared by the parsers of one scan: naming defaults, and model inputs learnt from training configs."""

    names: Names
    model_fields: dict[Asset, list[str]] = field(default_factory=dict)
    feature_views: dict[str, list[str]] = field(default_factory=dict)
    feature_services: dict[str, list[str]] = field(default_factory=dict)  # name -> ["view:feature"]

    def learn_model(self, model: Asset, fields: list[str]) -> None:
        known = self.model_fields.setdefault(model.dataset, [])
        known.extend(f for f in fields if f not in known)


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
