"""The per-file cache: one entry per file, keyed by its content hash, its path, the analyzer and the models.

An entry holds what the last scan concluded about the file: its functions' flows, summaries and
dependencies (which summaries each function looked up, see :mod:`flowscope_hack_static.engine`), its
parse problems and the ORM tables it declares. A re-scan of an unchanged tree reads the entries and analyzes
nothing; when a summary a cached function used has changed, that file is lowered again from its source
(cheaper than storing every lowered file, which costs more to write than to redo).

Entries live under ``$FLOWSCOPE_STORE/cache/static`` (default ``.flowscope/cache/static``), one file per
key in folders named by its first two hex digits. Each file is plain data, never a pickle: the entry's
records as nested lists of strings, numbers and booleans in msgpack (:mod:`flowscope_hack_static.cachecodec`),
signed with the store's secret key (:mod:`flowscope.store.secret`; keyed BLAKE2b over the entry's name and
bytes). A file whose signature does not verify (crafted, tampered, truncated, copied from another checkout)
is not decoded at all: it is a miss, analyzed again and rewritten, and the scan says once how many it
discarded. Even a signed file is only ever data: decoding builds the analysis's records from primitives
and checks their types, so no byte sequence can make it run code (pickle, which entries were until
2026-12, could). A cache that cannot be written is reported once and the scan goes on. What the switch
costs is measured in the plugin's ``bench/README.md`` (cached re-scans of a real repository).

Beside them, ``trees/`` holds one consolidated entry per scan configuration: each file's key with its
entry and final outcome, each encoded alone. A re-scan whose keys all match reuses the outcomes (one file
read, no fixed point); otherwise its entries serve the unchanged files. It is checked by the same keys, so
it never serves a file whose content, path, analyzer or models differ.

Size: after a scan that wrote entries, :func:`prune` keeps the folder under ``cache_max_mb``
(default 512): beyond it the least recently used files go first (an entry read is touched, so "used"
means read or written), down to 80% of the cap, never one this scan read or wrote. Leftover ``.tmp``
files of interrupted writes older than an hour go too. An unchanged re-scan writes nothing and walks
nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from flowscope import private
from flowscope.store import secret
from flowscope.store.folder import store_dir
from flowscope_hack_static import cachecodec
from flowscope_hack_static.engine import Unit

FORMAT = 3  # 3: msgpack of primitives (2: signed pickles, never read now)
MAGIC = b"FSC\x03"  # then the signature (secret.TAG_SIZE bytes), then the msgpack data
_HEAD = len(MAGIC) + secret.TAG_SIZE
SUFFIX = ".fsc"
_WRITE_ERRORS = (OSError, TypeError, ValueError, OverflowError, RecursionError)


class Foreign(ValueError):
    """A cache file this store did not write: no or a bad signature."""


@dataclass
class Entry:
    """What the last scan concluded about one file."""

    units: list[Unit] = field(default_factory=list)  # file index rewritten on load
    error_regions: list[int] = field(default_factory=list)
    problem: tuple[str, int | None] | None = None  # the front end gave up on the file
    tables: dict[str, str] = field(default_factory=dict)  # ORM classes / Table variables it defines


def default_dir() -> Path:
    """``cache/static`` in the store folder (``flowscope --store``, ``$FLOWSCOPE_STORE``, ``./.flowscope``)."""
    return store_dir() / "cache" / "static"


def analyzer_digest() -> str:
    """The plugin's version and the hash of its own source: any change to the analysis invalidates entries."""
    h = hashlib.blake2b(digest_size=16)
    with contextlib.suppress(PackageNotFoundError):
        h.update(version("flowscope-hack-static").encode())
    root = Path(__file__).parent
    for path in sorted(root.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(str(FORMAT).encode())
    return h.hexdigest()


def signing_key() -> bytes:
    """The static cache's subkey of the store's secret (raises UserError when there is no usable secret)."""
    return secret.key("cache/static")


class Cache:
    def __init__(
        self,
        root: Path,
        salt: str,
        note: Callable[[str], None],
        tree: str | None = None,
        key: bytes | None = None,
    ) -> None:
        self.root, self.salt, self.note = root, salt, note
        self._key = key if key is not None else signing_key()
        self.hits = 0
        self.misses = 0
        self.discarded: list[str] = []  # files not signed by this store, or unreadable: one note at the end
        self.write_failed = False
        # The tree's consolidated entry (see load_tree): ``tree`` names the scan (paths and options).
        self.tree = tree
        self._tree_keys: tuple[str, ...] | None = None
        self._tree_tables: dict[str, str] | None = None
        self._blobs: dict[str, tuple[bytes, bytes]] = {}  # key -> (entry, outcome), each encoded alone
        self.started = time.time()
        self.written = 0  # files this scan wrote

    def key(self, rel: str, language: str, data: bytes) -> str:
        h = hashlib.blake2b(data, digest_size=20)
        h.update(b"\0" + rel.encode() + b"\0" + language.encode() + b"\0" + self.salt.encode())
        return h.hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}{SUFFIX}"

    def tree_path(self) -> Path:
        name = hashlib.blake2b(f"{self.tree}\0{self.salt}".encode(), digest_size=16).hexdigest()
        return self.root / "trees" / f"{name}{SUFFIX}"

    def load_tree(self, keys: list[str]) -> Any:
        """The last scan of this tree, one file: per file key (content hash, path, analyzer, models) its
        entry and its final outcome, each encoded alone, and the ORM tables the outcomes were named with.

        When ``keys`` are exactly the last scan's, its outcomes are returned as they were (nothing changed,
        so the fixed point has the same answer); otherwise the entries serve :meth:`load`, which then opens
        no file per entry, and :meth:`save_tree` re-encodes only what changed."""
        if self.tree is None:
            return None
        path = self.tree_path()
        try:
            head = cachecodec.unpack(self._read(path))
            if not (isinstance(head, list) and len(head) == 5 and head[0] == FORMAT):
                raise ValueError("unknown format")
            _, key_list, pairs, entries, outcomes = head
            tree_keys = tuple(key_list)
            tables = {k: v for k, v in pairs}
            if not (
                all(isinstance(k, str) for k in tree_keys)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in tables.items())
                and all(isinstance(b, bytes) for b in entries)
                and all(isinstance(b, bytes) for b in outcomes)
                and len(tree_keys) == len(entries) == len(outcomes)
            ):
                raise ValueError("not a tree entry")
            self._tree_keys, self._tree_tables = tree_keys, tables
            self._blobs = dict(zip(tree_keys, zip(entries, outcomes, strict=True), strict=True))
            if tree_keys == tuple(keys):
                found = [cachecodec.decode_outcome(blob) for blob in outcomes]
                self.hits += len(keys)
                _touch(path)
                return found
        except (FileNotFoundError, NotADirectoryError):
            return None
        except Exception as exc:  # corrupt, truncated, foreign: the per-file entries still serve
            self.discarded.append(f"{path} ({type(exc).__name__})")
            self._tree_keys, self._tree_tables, self._blobs = None, None, {}
        return None

    def save_tree(
        self,
        keys: list[str],
        entries: list[Entry | None],
        outcomes: list[Any],
        fresh: set[int],
        tables: dict[str, str],
    ) -> None:
        """Write the tree's entry; files not in ``fresh`` (neither new nor analyzed again) keep their old
        bytes — and their old outcomes too while the ORM tables that name the outcomes' targets stay."""
        if self.tree is None or self.write_failed or tuple(keys) == self._tree_keys:
            return
        same_tables = tables == self._tree_tables
        out_entries: list[bytes] = []
        out_outcomes: list[bytes] = []
        try:
            for i, key in enumerate(keys):
                old = None if i in fresh else self._blobs.get(key)
                entry = entries[i]
                if old is None and entry is None:
                    raise ValueError(f"no entry for {key}")
                out_entries.append(old[0] if old else cachecodec.encode_entry(entry))  # type: ignore[arg-type]
                reuse = old is not None and same_tables
                out_outcomes.append(old[1] if reuse else cachecodec.encode_outcome(outcomes[i]))  # type: ignore[index]
            pairs = [[k, v] for k, v in tables.items()]
            data = cachecodec.pack([FORMAT, list(keys), pairs, out_entries, out_outcomes])
            self._write(self.tree_path(), data)
            self.written += 1
        except _WRITE_ERRORS as exc:
            self.write_failed = True
            self.note(f"cache not written under {self.root}: {getattr(exc, 'strerror', None) or exc}")

    def _read(self, path: Path) -> bytes:
        """The data of the file at ``path`` once its signature verifies; raises :class:`Foreign` otherwise."""
        with open(path, "rb") as f:
            head, data = f.read(_HEAD), f.read()
        if head[: len(MAGIC)] != MAGIC or not secret.verify(
            head[len(MAGIC) :], data, self._key, path.name.encode()
        ):
            raise Foreign("not signed by this store")
        return data

    def _write(self, path: Path, data: bytes) -> None:
        private.write_bytes(path, MAGIC + secret.sign(data, self._key, path.name.encode()) + data)

    def report(self) -> None:
        """One note for every file discarded this scan (a copied cache can be thousands of them)."""
        if not self.discarded:
            return
        n = len(self.discarded)
        foreign = sum("(Foreign)" in d for d in self.discarded)
        why = "not signed by this store (foreign, tampered or truncated)" if foreign == n else "unreadable"
        self.note(
            f"cache: {n} entr{'y' if n == 1 else 'ies'} under {self.root} {why}, discarded; "
            f"files analyzed again and entries rebuilt (first: {self.discarded[0]})"
        )

    def _from_tree(self, key: str) -> Entry | None:
        blobs = self._blobs.get(key)
        if blobs is None:
            return None
        try:
            return cachecodec.decode_entry(blobs[0])
        except Exception as exc:
            self.discarded.append(f"{self.tree_path()} ({type(exc).__name__})")
            return None

    def load(self, key: str) -> Entry | None:
        entry = self._from_tree(key)
        if entry is not None:
            self.hits += 1
            return entry
        path = self.path(key)
        try:
            entry = cachecodec.decode_entry(self._read(path))
        except (FileNotFoundError, NotADirectoryError):
            self.misses += 1
            return None
        except Exception as exc:  # corrupt, truncated, foreign: a miss, never fatal
            self.discarded.append(f"{path} ({type(exc).__name__})")
            self.misses += 1
            return None
        self.hits += 1
        _touch(path)
        return entry

    def save(self, key: str, entry: Entry) -> None:
        if self.write_failed:
            return
        try:
            self._write(self.path(key), cachecodec.encode_entry(entry))
            self.written += 1
        except _WRITE_ERRORS as exc:
            self.write_failed = True
            self.note(f"cache not written under {self.root}: {getattr(exc, 'strerror', None) or exc}")


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)


def prune(root: Path, max_bytes: int, keep_since: float) -> int:
    """Remove least recently used files under ``root`` until it holds at most 80% of ``max_bytes``; files
    used at or after ``keep_since`` stay. Returns how many went. Never raises (a cache is best effort)."""
    files: list[tuple[float, int, Path]] = []
    now = time.time()
    removed = 0
    try:
        dirs = [d for d in root.iterdir() if d.is_dir()]
    except OSError:
        return 0
    for folder in dirs:
        try:
            items = list(os.scandir(folder))
        except OSError:
            continue
        for item in items:
            try:
                st = item.stat(follow_symlinks=False)
            except OSError:
                continue
            path = Path(item.path)
            if item.name.endswith(".tmp"):
                if now - st.st_mtime > 3600:
                    with contextlib.suppress(OSError):
                        path.unlink()
                        removed += 1
                continue
            if item.name.endswith(".pkl"):  # format 2 (signed pickles): never read again
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
                continue
            if item.name.endswith(SUFFIX):
                files.append((st.st_mtime, st.st_size, path))
    total = sum(size for _, size, _ in files)
    if total <= max_bytes:
        return removed
    files.sort()
    for mtime, size, path in files:
        if total <= max_bytes * 0.8 or mtime >= keep_since:
            break
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        removed += 1
    return removed
