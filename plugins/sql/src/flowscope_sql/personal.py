"""Who ran a logged query is personal data: a query log's ``user`` and ``trace_id`` are kept as salted hashes.

Equal values give equal hashes within one store (so evidence still says "the same five users ran this"), the
hashes differ across stores and cannot be reversed by hashing guesses without the store's secret. The raw
values are kept only when the user asks (``keep_raw_log_ids: true``, ``--keep-raw-ids``), as documented.

The key is derived from the store's secret (core's :mod:`flowscope.store.secret`, ``<store>/secret``) for this
one purpose, so the hash key is no signing key, and the secret itself never leaves the driver (the Spark path
ships only the derived key to its executors).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from flowscope.store.folder import store_dir
from flowscope.store.secret import key

PURPOSE = "sql/log-ids"
PREFIX = "h:"  # a hashed id says so, where a raw one could be mistaken for it


def _store_key(folder: Path) -> bytes:
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
