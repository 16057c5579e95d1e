"""Input paths as users write them in a config: relative to the config's folder, absolute
(``/var/log/trino/*.json``), with ``~``, or reaching outside the folder (``../logs/*.jsonl``).

``Path.glob`` takes only the first kind (an absolute pattern raises ``NotImplementedError``), so every
collector that expands a config's ``files`` / ``logs`` / ``paths`` goes through :func:`expand` instead
(via :meth:`flowscope.contracts.CollectContext.glob`, which also notes inputs outside the folder).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path


def expand(base: Path, pattern: str) -> list[Path]:
    """What ``pattern`` names, sorted (files and folders; ``**`` recurses); relative patterns resolve
    against ``base``. A pattern without wildcards names one path, returned only if it exists."""
    path = Path(os.path.expanduser(pattern))
    full = path if path.is_absolute() else base / path
    if not glob.has_magic(str(full)):
        return [full] if full.exists() else []
    return sorted(Path(p) for p in glob.glob(str(full), recursive=True))


def is_outside(path: Path, base: Path) -> bool:
    """Whether ``path`` lies outside ``base`` once both are resolved (``..`` and symlinks followed)."""
    try:
        path.resolve().relative_to(base.resolve())
    except ValueError:
        return True
    return False


def outside_summary(paths: list[str]) -> list[str]:
    """``folder (n files)`` per folder, in first-seen order: a scan reading 500 logs from one folder
    outside the config's says so in one line, not 500."""
    folders: dict[str, int] = {}
    for p in paths:
        parent = str(Path(p).parent)
        folders[parent] = folders.get(parent, 0) + 1
    return [f"{folder} ({n} file{'s' if n != 1 else ''})" for folder, n in folders.items()]
