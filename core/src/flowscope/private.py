"""Files only their owner reads: folders 0700, files 0600, whatever the umask (a stricter one still wins).

flowscope's store, caches, spools and ``-o`` output hold lineage of personal data, salted hashes and the
store's secret key; other accounts on a shared machine have no business reading them. Everything flowscope
writes goes through these helpers, so the modes are decided in one place. Modes are only ever narrowed: a
file that already exists loses its group and other bits and keeps the rest; a folder that already exists is
left alone (``--store .`` may name the user's own project folder).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents as 0700 (minus the umask); existing folders are untouched."""
    path = Path(path)
    if path.is_dir():
        return path
    missing: list[Path] = []
    walk = path
    while not walk.exists() and walk != walk.parent:
        missing.append(walk)
        walk = walk.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)
    return path


def narrow(fd: int) -> None:
    """Drop group and other bits of an open file (one that existed before keeps only its owner's bits)."""
    with contextlib.suppress(OSError):
        mode = os.fstat(fd).st_mode & 0o777
        if mode & 0o077:
            os.fchmod(fd, mode & FILE_MODE)


def open_fd(path: Path, flags: int) -> int:
    """``os.open`` creating the file 0600 (minus the umask) and narrowing one that already existed."""
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    narrow(fd)
    return fd


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a private temporary file renamed over it)."""
    path = Path(path)
    make_dir(path.parent)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        narrow(fd)  # a leftover temporary file of a crashed run keeps its mode through O_TRUNC
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    write_bytes(path, text.encode(encoding))


def touch(path: Path) -> None:
    """Create ``path`` empty and private if it does not exist, narrow it if it does (before a library such as
    SQLite opens it with its own default mode)."""
    make_dir(Path(path).parent)
    fd = open_fd(Path(path), os.O_RDONLY)
    os.close(fd)
