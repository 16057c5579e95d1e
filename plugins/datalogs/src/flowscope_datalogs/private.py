"""Files that hold personal data: folders 0700, files 0600, written atomically.

Everything the export writes — the requesters table, the intermediate Parquet, the checkpoint database,
staged and delivered packages — holds someone's user id or rows. A world-readable umask must not leak
them to other accounts on the machine, so every folder is created 0700 and every file 0600 whatever the
umask, and a file appears under its final name only once complete (``os.replace`` of a sibling temporary
file), so a reader or a crashed run never sees half a package.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from flowscope.errors import UserError

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` and its missing parents created 0700; an existing folder is tightened to 0700."""
    missing = []
    parent = path
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    try:
        for folder in reversed(missing):  # parents we create are private too (mkdir's mode skips them)
            folder.mkdir(mode=DIR_MODE, exist_ok=True)
            os.chmod(folder, DIR_MODE)
        if not path.is_dir():
            raise NotADirectoryError(20, "not a folder")
        os.chmod(path, DIR_MODE)
    except OSError as exc:
        raise UserError(f"cannot create a private folder: {exc.strerror or exc}", path=str(path)) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError("folder is not writable", path=str(path))
    return path


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` through a 0600 temporary sibling that replaces it only when the block succeeds."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except OSError as exc:
        raise UserError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_private(path: Path, data: bytes) -> None:
    with atomic_file(path) as fh:
        fh.write(data)


def write_scratch(path: Path, data: bytes) -> None:
    """A 0600 file no reader looks at until a checkpoint says it is complete (staged packages): a crash
    mid-write leaves a file that the resumed run overwrites, so no temporary name is needed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def tighten(path: Path) -> None:
    """A file another library created (DuckDB's COPY, Spark's writers): 0600 like ours."""
    os.chmod(path, FILE_MODE)
