"""The store's secret: one random key per store folder, for signing what flowscope reads back and for
salting hashes of personal data.

A cache is read back by the next scan, so a file planted there (a crafted pickle, a cache copied from another
checkout) must be recognisable as not written by this store: :func:`sign` and :func:`verify` tag bytes with
a key only this store holds. Personal data that is kept for matching but should not be readable (a query
log's ``user`` and ``trace_id``) is stored as :func:`salted_hash`: equal values give equal hashes within a
store, and the hashes cannot be reversed by hashing guesses without the key.

The secret is ``<store>/secret``: 32 random bytes, hex, created 0600 with ``O_EXCL`` (two processes racing
agree on one). A file that is not a regular file owned by this user and private to it (say, unpacked from
an archive or checked out of a repository) is not trusted: it is replaced by a fresh one, which only costs
a cache rebuild and makes new hashes differ from old ones (logged once). Each use derives its own subkey
from the secret and a purpose string (keyed BLAKE2b), so a signature for one purpose is no signature for
another and a hash is never a signature; signatures are HMAC-SHA256.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets as _random
import stat
from pathlib import Path

from flowscope import private
from flowscope.errors import UserError
from flowscope.store.folder import store_dir

log = logging.getLogger(__name__)

FILE_NAME = "secret"
TAG_SIZE = 32
_SIZE = 32
_LOADED: dict[Path, bytes] = {}


def secret(folder: Path | None = None) -> bytes:
    """The store's 32-byte secret (``folder`` defaults to :func:`store_dir`), created on first use.

    Raises :class:`UserError` naming the file when it can neither be read nor created.
    """
    folder = Path(folder) if folder is not None else store_dir()
    cached = _LOADED.get(folder.absolute())
    if cached is not None:
        return cached
    path = folder / FILE_NAME
    value = _read(path)
    if value is None:
        value = _create(path)
    _LOADED[folder.absolute()] = value
    return value


def key(purpose: str, folder: Path | None = None) -> bytes:
    """A 32-byte subkey of the store's secret for one ``purpose`` (``"cache/static"``, ``"hash/user"``)."""
    return hashlib.blake2b(purpose.encode(), key=secret(folder), digest_size=_SIZE).digest()


def salted_hash(value: str | bytes, purpose: str = "value", folder: Path | None = None, size: int = 8) -> str:
    """``value`` hashed with the store's salt for ``purpose``: ``2 * size`` hex characters, stable within a
    store, different across stores, not reversible without the store's secret."""
    data = value.encode() if isinstance(value, str) else value
    return hashlib.blake2b(data, key=key(f"hash/{purpose}", folder), digest_size=size).hexdigest()


def sign(data: bytes | memoryview, signing_key: bytes, name: bytes = b"") -> bytes:
    """The tag of ``data`` (and of ``name``, what the data is: a tag for one cache entry does not verify
    another's) under ``signing_key``, :data:`TAG_SIZE` bytes. HMAC-SHA256: OpenSSL's, with the CPU's SHA
    instructions where it has them, signs a 50 MB cache file about 1.5x faster than keyed BLAKE2b here."""
    h = hmac.new(signing_key, len(name).to_bytes(4, "big") + name, "sha256")
    h.update(data)
    return h.digest()


def verify(tag: bytes, data: bytes | memoryview, signing_key: bytes, name: bytes = b"") -> bool:
    return hmac.compare_digest(tag, sign(data, signing_key, name))


def forget() -> None:
    """Drop the secrets read by this process (tests that make stores in one process)."""
    _LOADED.clear()


def _read(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:  # a symbolic link, unreadable: not ours
        log.warning("%s: store secret not usable (%s); a new one replaces it", path, e.strerror or e)
        _discard(path)
        return None
    try:
        st = os.fstat(fd)
        raw = os.read(fd, 256)
    finally:
        os.close(fd)
    reason = None
    if not stat.S_ISREG(st.st_mode):
        reason = "not a regular file"
    elif hasattr(os, "getuid") and st.st_uid != os.getuid():
        reason = "owned by another user"
    elif st.st_mode & 0o077:
        reason = f"readable by others (mode {stat.S_IMODE(st.st_mode):o})"
    else:
        try:
            value = bytes.fromhex(raw.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            value = b""
        if len(value) == _SIZE:
            return value
        reason = "not a flowscope secret"
    log.warning(
        "%s: store secret not trusted (%s); a new one replaces it, caches are rebuilt and new salted "
        "hashes differ from stored ones",
        path,
        reason,
    )
    _discard(path)
    return None


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):  # what cannot be removed makes _create fail with a clear error
        path.unlink()


def _create(path: Path, attempts: int = 3) -> bytes:
    """Write a fresh secret to a private temporary file, then link it into place: the name appears with its
    whole content or not at all, and a process that loses the race reads the winner's."""
    value = _random.token_bytes(_SIZE)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{_random.token_hex(4)}.tmp")
    try:
        private.make_dir(path.parent)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, private.FILE_MODE)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(value.hex() + "\n")
        os.link(tmp, path)
    except FileExistsError:  # another process made it first: use theirs
        again = _read(path)
        if again is not None or attempts <= 1:
            if again is None:
                raise UserError("cannot create the store's secret key", path=str(path)) from None
            return again
        return _create(path, attempts - 1)
    except OSError as e:
        raise UserError(f"cannot create the store's secret key: {e.strerror or e}", path=str(path)) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return value
