"""File globs as users write them in a config: relative to the config's folder, absolute (``/var/log/trino/*.json``),
with ``~``, or reaching outside the folder (``../logs/*.jsonl``). ``Path.glob`` takes none but the first."""

from __future__ import annotations

import glob as _glob
from pathlib import Path


def expand(base: Path, pattern: str) -> list[Path]:
    """The files ``pattern`` matches, sorted; relative patterns resolve against ``base``."""
    path = Path(pattern).expanduser()
    full = path if path.is_absolute() else base / path
    if not _glob.has_magic(str(full)):
        return [full] if full.exists() else []
    return sorted(Path(p) for p in _glob.glob(str(full), recursive=True))
