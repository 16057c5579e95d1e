"""The zones of one configuration: found through ``zones.files`` (globs, default ``zones/*.yaml`` beside
the config), with the config's ``purposes:``.

A broken zone file does not hide the others: it is kept as a problem and raised only when that zone is
asked for (or when every zone is checked). Review files are read when a zone is walked, so a review file
broken by hand fails that zone alone.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from flowscope.config import Config
from flowscope.errors import UserError
from flowscope.zones.review import Review, load_review
from flowscope.zones.spec import REVIEW_SUFFIX, PurposeRule, Zone, display_path, load_zone, purpose_rules


@dataclass
class Workspace:
    """Zones by name, the config's purpose rules, and the zone files that could not be read."""

    config: Config
    zones: dict[str, Zone] = field(default_factory=dict)
    purposes: tuple[PurposeRule, ...] = ()
    broken: dict[Path, UserError] = field(default_factory=dict)

    def zone(self, ref: str) -> Zone:
        """The zone named ``ref``, or the zone file at path ``ref``; UserError listing the known zones."""
        if ref in self.zones:
            return self.zones[ref]
        for path, error in self.broken.items():
            if ref in (path.stem, str(path)) or Path(ref).resolve() == path.resolve():
                raise error
        candidate = Path(ref)
        if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
            zone = load_zone(candidate)
            for known in self.zones.values():
                if known.name == zone.name and known.path.resolve() != candidate.resolve():
                    raise UserError(f"zone {zone.name!r} is also defined in {known.display}", zone.display)
            return zone
        names = ", ".join(sorted(self.zones)) or "none"
        where = ", ".join(self.config.zones.files)
        raise UserError(f"unknown zone {ref!r} (zones found in {where}: {names})")

    def review(self, zone: Zone) -> Review:
        return load_review(zone.review_path, zone.name)


def zone_files(config: Config) -> list[Path]:
    """The zone files ``zones.files`` names, sorted, review files left out."""
    found: set[Path] = set()
    for pattern in config.zones.files:
        full = pattern if Path(pattern).is_absolute() else str(config.base_dir / pattern)
        for name in glob.glob(full, recursive=True):
            path = Path(name)
            if path.is_file() and not path.name.endswith(REVIEW_SUFFIX):
                found.add(path)
    return sorted(found)


def load_workspace(config: Config) -> Workspace:
    """Every zone of ``config``. The config's ``purposes:`` are checked here (fideslang names), and a
    problem with them fails at once: every zone depends on them."""
    purposes = purpose_rules(config, ("purposes",), config.purposes) if config.purposes else ()
    ws = Workspace(config, purposes=purposes)
    for path in zone_files(config):
        try:
            zone = load_zone(path)
        except UserError as exc:
            ws.broken[path] = exc
            continue
        if zone.name in ws.zones:
            first = ws.zones[zone.name]
            ws.broken[path] = UserError(
                f"name: zone {zone.name!r} is already defined in {first.display}", display_path(path)
            )
            continue
        ws.zones[zone.name] = zone
    return ws
