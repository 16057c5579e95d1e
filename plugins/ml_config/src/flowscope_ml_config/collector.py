"""Reads `SOURCE -> TARGET` lines. A starting point: replace with what your stack needs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flowscope import Asset, Evidence, Job, Signal
from flowscope.contracts import CollectContext
from flowscope.naming import job_namespace


@dataclass
class Settings:
    files: list[str] = field(default_factory=list)


def parse_asset(text: str) -> Asset:
    """``namespace/name[#field]``, e.g. ``postgres://db:5432/app.users#email``."""
    text, _, fld = text.strip().partition("#")
    scheme, sep, rest = text.partition("://")
    authority, _, name = rest.partition("/")
    return Asset(f"{scheme}{sep}{authority}", name, fld or None)


class ArrowCollector:
    name = "ml_config"
    config_section = "ml_config"
    config_class = Settings

    def collect(self, ctx: CollectContext) -> Iterator[Signal]:
        settings: Settings = ctx.settings
        for pattern in settings.files:
            for path in sorted(ctx.base_dir.glob(pattern)):
                yield from self._read(ctx, path)

    def _read(self, ctx: CollectContext, path: Path) -> Iterator[Signal]:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            ctx.problem(f"cannot read: {exc}", path)
            return
        job = Job(job_namespace(self.name), path.stem)
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            src, arrow, dst = line.partition("->")
            try:
                if not arrow:
                    raise ValueError("expected SOURCE -> TARGET")
                source, target = parse_asset(src), parse_asset(dst)
            except ValueError as exc:
                ctx.problem(str(exc), path, number)
                continue
            evidence = Evidence(self.name, "declared", f"{path.name}:{number}", line.strip())
            ctx.advance(1)
            yield Signal("declared", job, source, target, evidence=(evidence,))
