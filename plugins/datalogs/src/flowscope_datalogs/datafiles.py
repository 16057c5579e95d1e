"""Finding a table's partitions and their files in the Hive layout ``table/ds=YYYY-MM-DD/...``.

Both engines are handed the same explicit file list per partition, so they read the same bytes: every
regular file of the partition's folder except names starting with ``_`` or ``.`` (``_SUCCESS``, ``.crc``
and temporary files, which Spark and Hive skip too). Partition values are the folder names' text after
``=``, Hive's ``%XX`` escapes decoded (as Spark decodes them), never type-inferred: ``ds=2024-06-01`` is the
string ``2024-06-01`` on every engine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from flowscope.errors import UserError
from flowscope_datalogs.catalog import Catalog, Table


@dataclass(frozen=True)
class Partition:
    key: str  # "ds=2024-06-01" or "ds=2024-06-01/hour=03"; "" for an unpartitioned table
    values: tuple[str, ...]
    files: tuple[Path, ...]

    @property
    def label(self) -> str:
        return self.key or "(whole table)"


def _data_files(folder: Path) -> tuple[Path, ...]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise UserError(f"cannot list the folder: {exc.strerror or exc}", path=str(folder)) from None
    return tuple(
        Path(e.path)
        for e in entries
        if e.is_file() and not e.name.startswith(("_", ".")) and e.stat().st_size
    )


def find_partitions(catalog: Catalog, table: Table) -> list[Partition]:
    """Every partition of ``table`` in key order; errors name the catalog line of ``location``."""
    loc = table.location
    if not loc.is_dir():
        what = "is not a folder" if loc.exists() else "no such folder"
        raise catalog.error(("tables", table.name, "location"), f"{what}: {loc}")
    if not table.partitions:
        files = _data_files(loc)
        return [Partition("", (), files)] if files else []
    found: list[Partition] = []

    def walk(folder: Path, depth: int, keys: list[str], values: list[str]) -> None:
        column = table.partitions[depth]
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if not entry.is_dir() or entry.name.startswith(("_", ".")):
                continue
            name, sep, raw = entry.name.partition("=")
            value = unquote(raw)
            if not sep or name != column:
                continue  # not a partition folder of this level (Hive leaves others around)
            path = Path(entry.path)
            if depth + 1 < len(table.partitions):
                walk(path, depth + 1, [*keys, entry.name], [*values, value])
            else:
                files = _data_files(path)
                if files:
                    found.append(Partition("/".join([*keys, entry.name]), (*values, value), files))

    walk(loc, 0, [], [])
    if not found and any(loc.iterdir()):
        expected = "/".join(f"{p}=..." for p in table.partitions)
        raise catalog.error(
            ("tables", table.name, "partitions"),
            f"no partition folders {expected} with data files under {loc}",
        )
    return found
