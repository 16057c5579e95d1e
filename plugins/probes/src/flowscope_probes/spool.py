"""The spool: what the worker writes and the ``probes`` collector reads.

One file per process (``<service>-<pid>-<start>.jsonl``) in the spool folder, so pre-fork workers never
interleave writes. The folder (and any parent the probes create) is made 0700 and every file 0600, less
whatever a stricter umask takes away.

**Format 2: one framed batch per line.** Each write is one line ``FSP2 <length> <crc32> <payload>``: the
payload is ``{"at": <unix seconds>, "records": [...]}`` in JSON (ASCII), ``<length>`` its size in bytes and
``<crc32>`` its CRC-32 in 8 hex digits. A batch is appended with one ``write`` on an ``O_APPEND`` file; if the
disk fills up in the middle, the bytes that made it are cut off again (``ftruncate``) and the whole batch stays
pending, to be written again at the next flush. The reader keeps a batch only when its length and checksum
match, so a batch is counted exactly once or not at all — never twice, never in part. If even the cut fails,
the next batch starts on a new line and the reader skips and reports the piece left behind. Records:

- ``match``: ``job``, ``source``, ``sink`` (labels, see :mod:`flowscope_probes.labels`), ``match``
  (EXACT_MATCH, CONTAINS, NO_MATCH), ``sink_path``, ``count``, ``first_seen``, ``last_seen``,
  ``distinct_values``, ``noisy``;
- ``samples``: ``job`` and ``samples`` (sampled requests of that job since the last flush, only requests
  whose sinks the probes could all observe);
- ``health``: the process's counters (drops, faults, restarts, spool failures, unobserved connections);
- ``sample`` (only with ``debug_samples: true``): a redacted sample (see :func:`flowscope_probes.worker.redact`).

Format 1 files (one JSON record per line with ``"v": 1``), written by earlier versions, are still read.
No record ever holds a raw captured value, and URL credentials are stripped from every record as it is
written (:mod:`flowscope_probes.scrub`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowscope_probes.scrub import strip_credentials

VERSION = 2
LEGACY = 1
MAGIC = b"FSP2 "
MAX_PENDING = 20_000  # records kept in memory while the spool is unwritable; beyond, dropped and counted
MAX_BATCH = 1 << 20  # bytes of payload per framed line: a large flush is written as several batches
MAX_LINE = 64 << 20  # the reader skips longer lines (a corrupt file must not cost unbounded memory)

_write = os.write  # module-level so tests can make the disk fail
_truncate = os.ftruncate


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and its missing parents with mode 0700 (less the umask); existing ones are left."""
    missing = []
    here = folder
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            os.mkdir(path, 0o700)


def frame(records: list[dict[str, Any]], at: float) -> bytes:
    """One batch as a spool line (without its newline); credentials stripped before the checksum."""
    payload = strip_credentials(json.dumps({"at": round(at, 3), "records": records}, sort_keys=True))
    data = payload.encode("ascii")
    return b"%s%d %08x %s" % (MAGIC, len(data), zlib.crc32(data), data)


def batches(records: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """``records`` cut into batches of at most about MAX_BATCH bytes of JSON each."""
    batch: list[dict[str, Any]] = []
    size = 0
    for rec in records:
        n = len(json.dumps(rec)) + 2
        if batch and size + n > MAX_BATCH:
            yield batch
            batch, size = [], 0
        batch.append(rec)
        size += n
    if batch:
        yield batch


class SpoolWriter:
    """Appends framed batches to this process's spool file; keeps them pending (bounded) while it fails."""

    def __init__(self, folder: Path, service: str) -> None:
        self.folder = folder
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in service) or "app"
        self.path = folder / f"{safe}-{os.getpid()}-{int(time.time())}.jsonl"
        self.pending: list[tuple[bytes, int]] = []  # (framed batch, records in it), oldest first
        self.pending_records = 0
        self.dropped = 0  # records dropped because too many were pending
        self.errors = 0
        self.last_error: str | None = None
        self.dirty = False  # a failed write may have left a partial line that could not be cut off

    def write(self, records: list[dict[str, Any]]) -> bool:
        """Append ``records`` (after whatever is pending), each batch whole or not at all; False when the
        spool could not be written (the rest stays pending)."""
        now = time.time()
        for batch in batches(records):
            self.pending.append((frame(batch, now), len(batch)))
            self.pending_records += len(batch)
        if not self.pending:
            return True
        try:
            make_private_dirs(self.folder)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            return self._failed(exc)
        try:
            while self.pending:
                data, n = self.pending[0]
                self._append(fd, data + b"\n")
                self.pending.pop(0)
                self.pending_records -= n
        except OSError as exc:
            return self._failed(exc)
        finally:
            os.close(fd)
        return True

    def _append(self, fd: int, data: bytes) -> None:
        """All of ``data`` at the end of the file, or none of it (as far as the file system lets us)."""
        start = os.lseek(fd, 0, os.SEEK_END)
        if self.dirty:
            data = b"\n" + data  # end the partial line a failed write left behind
        view = memoryview(data)
        done = 0
        try:
            while done < len(data):
                n = _write(fd, view[done:])
                if n <= 0:
                    raise OSError(28, "No space left on device")
                done += n
        except OSError:
            if done:
                try:
                    _truncate(fd, start)
                except OSError:
                    self.dirty = True  # the reader skips the piece; the next batch starts a new line
            raise
        self.dirty = False

    def _failed(self, exc: OSError) -> bool:
        self.errors += 1
        self.last_error = f"{self.path}: {exc.strerror or exc}"
        while self.pending_records > MAX_PENDING and len(self.pending) > 1:
            _, n = self.pending.pop(0)
            self.pending_records -= n
            self.dropped += n
        return False


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
        make_private_dirs(folder)
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


class _NotSpool(Exception):
    """The rest of the file is not a spool (binary data)."""


def _lines(fh: Any) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes without the newline) of each line; None for a line longer than MAX_LINE."""
    no = 0
    while True:
        raw = fh.readline(MAX_LINE + 1)
        if not raw:
            return
        no += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line, in bounded reads
                raw = fh.readline(MAX_LINE)
            yield no, None
            continue
        yield no, raw.rstrip(b"\r\n")


def _framed(raw: bytes) -> tuple[list[dict[str, Any]], float] | str:
    """(records, at) of a format-2 line, or what is wrong with it."""
    head = raw[len(MAGIC) :].split(b" ", 2)
    if len(head) != 3 or not head[0].isdigit() or len(head[1]) != 8:
        return "record cut short; skipped"
    size, crc, payload = int(head[0]), head[1], head[2]
    if len(payload) != size:
        return "record cut short; skipped"
    try:
        if int(crc, 16) != zlib.crc32(payload):
            return "record does not match its checksum; skipped"
    except ValueError:
        return "record does not match its checksum; skipped"
    try:
        doc = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return f"not UTF-8 (byte {exc.start} of the record); skipped"
    except ValueError:
        return "record is not JSON; skipped"
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
        return "not a probes spool record; skipped"
    at = doc.get("at")
    return [r for r in doc["records"] if isinstance(r, dict)], float(at) if isinstance(
        at, int | float
    ) else 0.0


def _legacy(raw: bytes) -> dict[str, Any] | str:
    """A format-1 line's record, or what is wrong with it. NUL bytes mean a binary file (the rest of it is
    skipped); a line that is only not UTF-8 is skipped alone, like any other bad line."""
    if b"\x00" in raw:
        raise _NotSpool
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 (byte {exc.start} of the line); skipped"
    try:
        data = json.loads(text)
    except ValueError:
        return "line cut short or not JSON; skipped"
    if not isinstance(data, dict) or data.get("v") != LEGACY or "type" not in data:
        return "not a probes spool record (v1); skipped"
    return data


def read_spool(where: Path) -> Iterator[SpoolLine | BadLine]:
    """Every record of every spool file; a line cut short, failing its checksum or not a known record is a
    :class:`BadLine` (the rest of the file is still read)."""
    for path in spool_files(where):
        try:
            fh = path.open("rb")
        except OSError as exc:
            yield BadLine(path, 0, f"cannot read: {exc.strerror or exc}")
            continue
        with fh:
            bad = 0
            try:
                for no, raw in _lines(fh):
                    if raw is None:
                        problem = f"line longer than {MAX_LINE} bytes; skipped"
                    elif not raw.strip():
                        continue
                    elif raw.startswith(MAGIC):
                        got = _framed(raw)
                        if isinstance(got, str):
                            problem = got
                        else:
                            records, at = got
                            for rec in records:
                                if "type" in rec:
                                    yield SpoolLine(path, no, {**rec, "v": VERSION, "at": at})
                            continue
                    else:
                        one = _legacy(raw)
                        if not isinstance(one, str):
                            yield SpoolLine(path, no, one)
                            continue
                        problem = one
                    bad += 1
                    if bad <= MAX_BAD_LINES:
                        yield BadLine(path, no, problem)
            except _NotSpool:
                yield BadLine(path, no, "binary (NUL bytes): not a probes spool file; rest of file skipped")
            except OSError as exc:
                yield BadLine(path, 0, f"cannot read: {exc.strerror or exc}")
            if bad > MAX_BAD_LINES:
                yield BadLine(path, 0, f"{bad - MAX_BAD_LINES} more bad lines skipped")
