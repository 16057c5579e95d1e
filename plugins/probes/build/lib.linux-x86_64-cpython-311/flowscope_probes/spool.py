"""The spool: JSON lines the worker appends and the ``probes`` collector reads.

One file per process (``<service>-<pid>-<start>.jsonl``) in the spool folder, so pre-fork workers never
interleave writes. Every line has ``v`` (format version 1), ``type`` and ``at`` (unix seconds):

- ``match``: ``job``, ``source``, ``sink`` (labels, see :mod:`flowscope_probes.labels`), ``match``
  (EXACT_MATCH, CONTAINS, NO_MATCH), ``sink_path``, ``count``, ``first_seen``, ``last_seen``,
  ``distinct_values``, ``noisy``;
- ``samples``: ``job`` and ``samples`` (sampled requests of that job since the last flush);
- ``health``: the process's counters (drops, faults, restarts, spool errors);
- ``sample`` (only with ``debug_samples: true``): a redacted sample (see :mod:`flowscope_probes.redact`).

No line ever holds a raw captured value.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERSION = 1
MAX_PENDING = 20_000  # lines kept in memory while the spool is unwritable; beyond, dropped and counted


class SpoolWriter:
    """Appends lines to this process's spool file; keeps them pending (bounded) while the folder fails."""

    def __init__(self, folder: Path, service: str) -> None:
        self.folder = folder
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in service) or "app"
        self.path = folder / f"{safe}-{os.getpid()}-{int(time.time())}.jsonl"
        self.pending: list[str] = []
        self.dropped = 0
        self.errors = 0
        self.last_error: str | None = None

    def write(self, records: list[dict[str, Any]]) -> bool:
        """Append ``records`` (and whatever is pending); False when the spool could not be written."""
        now = time.time()
        for rec in records:
            self.pending.append(json.dumps({"v": VERSION, "at": round(now, 3), **rec}, sort_keys=True))
        if not self.pending:
            return True
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write("\n".join(self.pending) + "\n")
        except OSError as exc:
            self.errors += 1
            self.last_error = f"{self.path}: {exc.strerror or exc}"
            if len(self.pending) > MAX_PENDING:
                over = len(self.pending) - MAX_PENDING
                del self.pending[:over]
                self.dropped += over
            return False
        self.pending.clear()
        return True


def resolve_salt(configured: str, folder: Path) -> bytes:
    """The deployment's salt: configured, else ``<spool>/salt`` (created once, mode 0600), else random.

    Processes sharing a spool share its salt, so their value hashes (distinct counts) agree; a salt that
    cannot be stored is random per process, which only weakens distinct counts across processes.
    """
    env = os.environ.get("FLOWSCOPE_PROBES_SALT", "")
    if configured or env:
        return (configured or env).encode()
    salt_file = folder / "salt"
    try:
        return salt_file.read_bytes().strip()
    except OSError:
        pass
    fresh = secrets.token_hex(16).encode()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(salt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(fresh)
    except FileExistsError:
        try:
            return salt_file.read_bytes().strip()
        except OSError:
            return fresh
    except OSError:
        return fresh
    return fresh


@dataclass(frozen=True)
class SpoolLine:
    path: Path
    line: int
    data: dict[str, Any]


MAX_BAD_LINES = 5  # per file; the rest are counted in one line


@dataclass(frozen=True)
class BadLine:
    path: Path
    line: int  # 0: the whole file
    message: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


def spool_files(where: Path) -> list[Path]:
    """The spool files at ``where``: the file itself, or the folder's ``*.jsonl`` in name order."""
    if where.is_file():
        return [where]
    return sorted(p for p in where.glob("*.jsonl") if p.is_file())


def read_spool(where: Path) -> Iterator[SpoolLine | BadLine]:
    """Every line of every spool file; a line cut short or not a known record is a :class:`BadLine`."""
    for path in spool_files(where):
        try:
            fh = path.open("r", encoding="utf-8", errors="replace")
        except OSError as exc:
            yield BadLine(path, 0, f"cannot read: {exc.strerror or exc}")
            continue
        with fh:
            bad = 0
            for no, text in enumerate(fh, 1):
                text = text.strip()
                if not text:
                    continue
                if "\x00" in text or "\ufffd" in text:
                    yield BadLine(
                        path, no, "binary or not UTF-8: not a probes spool file; rest of file skipped"
                    )
                    break
                try:
                    data = json.loads(text)
                except ValueError:
                    data = None
                    problem = "line cut short or not JSON; skipped"
                else:
                    problem = "not a probes spool record (v1); skipped"
                if not isinstance(data, dict) or data.get("v") != VERSION or "type" not in data:
                    bad += 1
                    if bad <= MAX_BAD_LINES:
                        yield BadLine(path, no, problem)
                    continue
                yield SpoolLine(path, no, data)
            if bad > MAX_BAD_LINES:
                yield BadLine(path, 0, f"{bad - MAX_BAD_LINES} more bad lines skipped")
