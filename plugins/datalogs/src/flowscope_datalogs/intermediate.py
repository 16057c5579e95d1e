"""The batch's intermediate store: one folder of Parquet files per (table, partition).

Both engines write a partition's files into a fresh hidden folder and then swap it in for whatever an
earlier, interrupted attempt left (:func:`place`), so a partition folder only ever holds the files of
one finished attempt, and the packager, which skips hidden paths, never reads half of one. The
checkpoint is committed after the swap: a crash in between redoes the partition, replacing the same rows.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from flowscope_datalogs.datafiles import Partition
from flowscope_datalogs.private import private_dir, tighten


def partition_folder(out_dir: Path, part: Partition) -> Path:
    return out_dir / part.key if part.key else out_dir / "whole_table"


def scratch(out_dir: Path) -> Path:
    """A fresh hidden folder beside the partition folders, to write one attempt into."""
    return private_dir(out_dir / f".{secrets.token_hex(6)}.tmp")


def place(out_dir: Path, part: Partition, written: Path, rows: int) -> int:
    """Make ``written`` (a scratch folder) the partition's folder; a partition without rows has none."""
    final = partition_folder(out_dir, part)
    for f in written.iterdir():
        tighten(f)
    if final.exists():
        trash = out_dir / f".{secrets.token_hex(6)}.old"
        os.replace(final, trash)
        shutil.rmtree(trash)
    if rows == 0:
        shutil.rmtree(written)
        return 0
    private_dir(final.parent)
    os.replace(written, final)
    return rows


def files_of(joined: Path, table: str) -> list[Path]:
    """Every finished intermediate file of ``table`` in this batch (hidden scratch folders skipped)."""
    folder = joined / table
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*.parquet")
        if not any(s.startswith(".") for s in p.relative_to(folder).parts)
    )
