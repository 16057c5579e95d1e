"""What plugins hand to core through the registration hooks: collectors, matchers, emitters, renderers.

These are Protocols, so a plugin needs no base class, only the attributes below. Core checks them when
they are registered and fails at once, naming the plugin, when one is malformed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from flowscope.model import Observation, Signal
from flowscope.paths import expand, is_outside

if TYPE_CHECKING:  # the OpenLineage client takes 0.2 s to import; only emitting needs it
    from openlineage.client.event_v2 import RunEvent


@dataclass
class Problem:
    """A non-fatal problem a collector hit (a bad file, an unparsable statement); the scan goes on."""

    collector: str
    message: str
    path: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}{self.message}"


@dataclass
class CollectContext:
    """Everything a collector gets for one run.

    ``settings`` is the collector's own config section, already parsed into its ``config_class`` when it
    declares one (else the raw mapping). ``base_dir`` is the config file's folder: resolve relative paths
    against it. Report a bad input with :meth:`problem` and keep going; raise only when nothing at all
    can be collected.
    """

    collector: str
    settings: Any
    base_dir: Path
    config: Mapping[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("flowscope.collect"))
    advance: Callable[[int], None] = field(default=lambda n: None)
    # Inputs read from outside ``base_dir`` (resolved paths, each once): allowed, and listed in the summary
    # so a config that reaches into /var/log or ../other-repo says so.
    outside: dict[str, None] = field(default_factory=dict)

    def problem(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        p = Problem(self.collector, message, str(path) if path is not None else None, line)
        self.log.debug("%s: %s", self.collector, p)  # the CLI prints problems; logging them too doubled them
        self.problems.append(p)

    def resolve(self, path: str | Path) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def glob(self, pattern: str) -> list[Path]:
        """What a config glob matches (files and folders, sorted): relative to ``base_dir``, absolute, with
        ``~`` or ``..``; those outside ``base_dir`` are noted (:meth:`note_input`)."""
        matches = expand(self.base_dir, pattern)
        for m in matches:
            self.note_input(m)
        return matches

    def note_input(self, path: Path) -> None:
        """Record that ``path`` was read; one outside ``base_dir`` is listed in the scan summary."""
        if is_outside(path, self.base_dir):
            self.outside.setdefault(str(path.resolve()), None)


@runtime_checkable
class Collector(Protocol):
    """A signal source. ``name`` is unique; ``config_section`` is its key under ``plugins:`` in the config.

    ``config_class`` (optional, may be None) is a dataclass the section is parsed into; unknown keys and
    wrong types are reported with file, line and key before ``collect`` runs.
    """

    name: str
    config_section: str
    config_class: type | None

    def collect(self, ctx: CollectContext) -> Iterable[Observation]: ...


@runtime_checkable
class Emitter(Protocol):
    """Receives every OpenLineage event of a scan. ``close`` flushes; it may raise on delivery failure."""

    def emit(self, event: RunEvent) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class EmitterFactory(Protocol):
    """Builds an emitter from the whole config, or returns None when the config does not ask for it.

    ``kind`` names it in ``flowscope plugins`` and in errors (like an OpenLineage transport's ``kind``).
    """

    kind: str

    def from_config(self, config: Mapping[str, Any], base_dir: Path) -> Emitter | None: ...


@dataclass(frozen=True)
class PayloadMatch:
    """A payload matcher's verdict on one source value against one sink payload."""

    match: str  # EXACT_MATCH, CONTAINS or NO_MATCH
    field_path: str | None = None


@runtime_checkable
class PayloadMatcher(Protocol):
    """Compares a captured source value with a sink payload, in memory, without storing either."""

    name: str
    kind: str  # "payload"

    def match(self, value: object, payload: object) -> PayloadMatch: ...


@runtime_checkable
class ContextMatcher(Protocol):
    """Connects reads and writes that share a job id, a trace id, or a user and time window."""

    name: str
    kind: str  # "context"

    def connect(
        self, reads: Iterable[Mapping[str, Any]], writes: Iterable[Mapping[str, Any]]
    ) -> Iterable[Signal]: ...


Matcher = PayloadMatcher | ContextMatcher


@runtime_checkable
class Renderer(Protocol):
    """Turns one raw warehouse value into the text a person reads in their data-logs package.

    ``name`` is what a data-logs catalog column names as its ``renderer``. ``render`` gets the raw value
    (None, bool, int, float, Decimal, str, bytes, a timezone-aware UTC datetime, a date, or a list of
    these) and the column's renderer options from the catalog, plus ``timezone`` (the requester's IANA
    zone). It must be a pure function of its arguments: the same value renders to the same text on every
    engine, so packages stay byte-identical. A value it cannot render raises ``ValueError``; the export
    then shows the raw value with a marker and counts it instead of failing.
    """

    name: str

    def render(self, value: object, options: Mapping[str, Any]) -> str: ...
