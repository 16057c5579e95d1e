"""Zone files: one YAML file per zone, kept in the user's repository and reviewed like code.

```yaml
name: precise_location
description: Where a user was when they shared a photo.
owner: privacy@photoshare.example
data_categories: [user.location.precise]     # fideslang data categories the zone protects
sources:                                     # where the data enters the estate
  - photos.location                          # an asset: id or a short form `lineage` accepts
  - "hive://warehouse:9083/raw_logs.*"       # a glob (datasets; NAME#FIELD for fields)
  - tag: location                            # every dataset or field tagged `location`
  - data_category: user.location             # every field tagged data_category:user.location[.*]
allowed: [personalize, essential.service]    # fideslang data uses the data may serve
denied: [marketing.advertising]              # ... and may not: reaching one is a violation
purposes:                                    # data uses of assets, for this zone (pattern -> use)
  model://registry/ad_targeting_model: marketing.advertising
discovery:
  min_confidence: 0.5                        # edges below this stop a walk
  direct_only: false                         # true: do not cross INDIRECT hops (filters, joins)
  max_depth: 10
  kinds: []                                  # only edges with evidence of these kinds (empty: all)
```

Everything is checked when the file is read (unknown keys, types, fideslang names, patterns); what needs
the store (a source that matches nothing) is checked when the zone is walked. Every error names the file,
the line and the key. Reading never touches the store, so a broken zone file fails alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscope.config import Config, parse_value
from flowscope.errors import UserError
from flowscope.graph import DEFAULT_DEPTH, WalkOptions
from flowscope.model import SIGNAL_KINDS, Asset
from flowscope.yamlpos import KeyPath, dotted, load_yaml
from flowscope.zones import taxonomy
from flowscope.zones.patterns import AssetPattern

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
REVIEW_SUFFIX = ".review.yaml"
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass
class _Discovery:
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    direct_only: bool = False
    max_depth: int = DEFAULT_DEPTH
    kinds: list[str] = field(default_factory=list)


@dataclass
class _ZoneDoc:
    name: str
    sources: list[str | dict[str, str]]
    description: str = ""
    owner: str = ""
    data_categories: list[str] | str = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    purposes: dict[str, list[str] | str] = field(default_factory=dict)
    discovery: _Discovery = field(default_factory=_Discovery)


@dataclass(frozen=True)
class Source:
    """One ``sources`` item: ``kind`` is ``asset`` (an id or short form), ``glob``, ``tag`` or
    ``data_category``; ``line`` is where it is written (errors found later name it)."""

    kind: str
    value: str
    line: int | None
    key: str  # the dotted key, ``sources[2]``


@dataclass(frozen=True)
class PurposeRule:
    """``pattern -> uses``: where a sink's data use comes from (``origin`` says which file and line)."""

    pattern: AssetPattern
    uses: tuple[str, ...]
    origin: str


@dataclass(frozen=True)
class Zone:
    """A checked zone file. ``review_path`` is its review file beside it (``<stem>.review.yaml``)."""

    name: str
    path: Path
    display: str
    sources: tuple[Source, ...]
    description: str = ""
    owner: str = ""
    data_categories: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    purposes: tuple[PurposeRule, ...] = ()
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    direct_only: bool = False
    max_depth: int = DEFAULT_DEPTH
    kinds: frozenset[str] = frozenset()

    @property
    def review_path(self) -> Path:
        return review_path_for(self.path)

    def walk_options(self, excluded: frozenset[Asset] = frozenset()) -> WalkOptions:
        return WalkOptions(
            depth=self.max_depth,
            min_confidence=self.min_confidence,
            direct_only=self.direct_only,
            kinds=self.kinds,
            stop_at=excluded,
        )

    def denies(self, use: str) -> bool:
        """Is ``use`` forbidden? The most specific matching rule wins (``allowed: [marketing.advertising.
        negative_targeting]`` beats ``denied: [marketing]``); a use no rule covers is allowed, except in a
        zone that lists only ``allowed`` uses, where everything else is denied."""
        allow = taxonomy.most_specific(use, self.allowed)
        deny = taxonomy.most_specific(use, self.denied)
        if allow is None and deny is None:
            return bool(self.allowed) and not self.denied
        if allow is None:
            return True
        return deny is not None and len(deny) > len(allow)


def review_path_for(zone_file: Path) -> Path:
    name = zone_file.name
    stem = (
        name[: -len(".yaml")]
        if name.endswith(".yaml")
        else name[: -len(".yml")]
        if name.endswith(".yml")
        else name
    )
    return zone_file.with_name(stem + REVIEW_SUFFIX)


def display_path(path: Path) -> str:
    """How errors name a file: relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_yaml_file(path: Path, duplicate: str = "key written twice") -> Config:
    """A YAML file as a :class:`Config` (value, lines, ``error()``), so zone and review files report
    problems exactly as the config does: ``FILE:LINE: key: message``. A key written twice in one mapping
    is an error (``duplicate``, naming both lines)."""
    holder = Config(path=path, base_dir=path.resolve().parent)
    shown = holder.display_path
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"not UTF-8 text (byte {exc.start}); is this a zone file?", shown) from None
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror or exc}", shown) from None
    holder.doc = load_yaml(text, shown)
    for dup in holder.doc.duplicates:
        raise UserError(f"{dotted(dup.path)}: {duplicate} (first on line {dup.first_line})", shown, dup.line)
    holder.raw = holder.doc.data if holder.doc.data is not None else {}
    return holder


def load_zone(path: Path) -> Zone:
    """Read and check one zone file; :class:`UserError` naming file, line and key on any problem."""
    holder = read_yaml_file(path)
    if not isinstance(holder.raw, dict):
        raise UserError("a zone file is a mapping (name, sources, ...)", holder.display_path, 1)
    doc: _ZoneDoc = parse_value(holder, (), holder.raw, _ZoneDoc)
    if not NAME_RE.match(doc.name):
        raise holder.error(
            ("name",), f"zone names are lower-case letters, digits, '_', '.', '-' (got {doc.name!r})"
        )
    categories = [doc.data_categories] if isinstance(doc.data_categories, str) else doc.data_categories
    for i, cat in enumerate(categories):
        key: KeyPath = (
            ("data_categories",) if isinstance(doc.data_categories, str) else ("data_categories", i)
        )
        if (why := taxonomy.problem("data category", cat)) is not None:
            raise holder.error(key, why)
    for which in ("allowed", "denied"):
        for i, use in enumerate(getattr(doc, which)):
            if (why := taxonomy.problem("data use", use)) is not None:
                raise holder.error((which, i), why)
    both = set(doc.allowed) & set(doc.denied)
    if both:
        use = sorted(both)[0]
        raise holder.error(("denied", doc.denied.index(use)), f"{use!r} is both allowed and denied")
    if not doc.sources:
        raise holder.error(("sources",), "a zone needs at least one source")
    sources = tuple(_source(holder, i, item) for i, item in enumerate(doc.sources))
    rules = purpose_rules(holder, ("purposes",), doc.purposes)
    disc = doc.discovery
    if not 0.0 <= disc.min_confidence <= 1.0:
        raise holder.error(
            ("discovery", "min_confidence"), f"expected a number from 0 to 1, got {disc.min_confidence}"
        )
    if disc.max_depth < 1:
        raise holder.error(("discovery", "max_depth"), f"expected at least 1, got {disc.max_depth}")
    for i, kind in enumerate(disc.kinds):
        if kind not in SIGNAL_KINDS:
            raise holder.error(
                ("discovery", "kinds", i),
                f"unknown evidence kind {kind!r}; expected one of {', '.join(SIGNAL_KINDS)}",
            )
    return Zone(
        name=doc.name,
        path=path,
        display=holder.display_path,
        sources=sources,
        description=doc.description,
        owner=doc.owner,
        data_categories=tuple(categories),
        allowed=tuple(doc.allowed),
        denied=tuple(doc.denied),
        purposes=rules,
        min_confidence=disc.min_confidence,
        direct_only=disc.direct_only,
        max_depth=disc.max_depth,
        kinds=frozenset(disc.kinds),
    )


def _source(holder: Config, i: int, item: str | dict[str, str]) -> Source:
    key: KeyPath = ("sources", i)
    line = holder.line_of(key)
    if isinstance(item, str):
        try:
            pattern = AssetPattern.parse(item)
        except ValueError as exc:
            raise holder.error(key, str(exc)) from None
        from flowscope.zones.patterns import is_glob

        return Source("glob" if is_glob(pattern.text) else "asset", item, line, dotted(key))
    if len(item) != 1 or next(iter(item)) not in ("tag", "data_category"):
        raise holder.error(key, "a source is an asset, a glob, {tag: NAME} or {data_category: NAME}")
    kind, value = next(iter(item.items()))
    if not value.strip():
        raise holder.error((*key, kind), "empty value")
    if kind == "data_category" and (why := taxonomy.problem("data category", value)) is not None:
        raise holder.error((*key, kind), why)
    return Source(kind, value, holder.line_of((*key, kind)), dotted((*key, kind)))


def purpose_rules(holder: Config, at: KeyPath, mapping: dict[str, Any]) -> tuple[PurposeRule, ...]:
    """``pattern: use`` or ``pattern: [use, ...]`` entries, each checked (pattern syntax, fideslang uses)."""
    rules = []
    for text, value in mapping.items():
        key = (*at, text)
        try:
            pattern = AssetPattern.parse(text)
        except ValueError as exc:
            raise holder.error(key, str(exc)) from None
        uses = [value] if isinstance(value, str) else list(value)
        if not uses:
            raise holder.error(key, "expected a data use or a list of them")
        for j, use in enumerate(uses):
            if (why := taxonomy.problem("data use", use)) is not None:
                raise holder.error(key if isinstance(value, str) else (*key, j), why)
        line = holder.line_of(key)
        rules.append(
            PurposeRule(
                pattern, tuple(uses), f"{holder.display_path}:{line}" if line else holder.display_path
            )
        )
    return tuple(rules)
