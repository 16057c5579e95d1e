"""Who ran a logged query is personal data: a query log's ``user`` and ``trace_id`` are kept as salted hashes.

Equal values give equal hashes within one store (so evidence still says "the same five users ran this"), the
hashes differ across stores and cannot be reversed by hashing guesses without the store's secret. The raw
values are kept only when the user asks (``keep_raw_log_ids: true``, ``--keep-raw-ids``), as documented.

The key comes from the store's secret (core's ``flowscope.store.secret``); until a core without it is gone,
:func:`_store_key` falls back to the same file (``<store>/secret``, 32 random bytes in hex, mode 0600).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from flowscope.store.folder import store_dir

PURPOSE = "sql/log-ids"
PREFIX = "h:"  # a hashed id says so, where a raw one could be mistaken for it


def _store_key(folder: Path) -> bytes:
    try:
        from flowscope.store.secret import key  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        path = folder / "secret"
        try:
            value = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            value = b""
        if len(value) != 32:
            folder.mkdir(parents=True, exist_ok=True)
            value = secrets.token_bytes(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(value.hex() + "\n")
        return hashlib.blake2b(f"hash/{PURPOSE}".encode(), key=value, digest_size=32).digest()
    return bytes(key(f"hash/{PURPOSE}", folder))


def id_key(folder: Path | None = None) -> bytes:
    """The key log ids are hashed with, for ``folder`` (default: the active store)."""
    return _store_key(folder if folder is not None else store_dir())


def hasher(key: bytes | None) -> Callable[[str], str]:
    """``value -> "h:" + 16 hex`` under ``key``; ``None``: the identity (the raw-ids opt-in)."""
    if key is None:
        return str

    def hashed(value: str) -> str:
        return (
            PREFIX
            + hashlib.blake2b(value.encode("utf-8", "surrogatepass"), key=key, digest_size=8).hexdigest()
        )

    return hashed
