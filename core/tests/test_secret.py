"""The store's secret: created private once, reused, replaced when it cannot be trusted."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from flowscope import private
from flowscope.errors import UserError
from flowscope.store import secret


@pytest.fixture(autouse=True)
def _fresh() -> None:
    secret.forget()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_created_once_private_and_reused(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = secret.secret(store)
    assert len(first) == 32
    assert mode(store / "secret") == 0o600 and mode(store) == 0o700
    secret.forget()
    assert secret.secret(store) == first, "read back, not made again"


def test_a_stricter_umask_wins(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        secret.secret(tmp_path / "store")
    finally:
        os.umask(old)
    assert mode(tmp_path / "store" / "secret") == 0o400


def test_salted_hash_is_stable_in_a_store_and_differs_across_stores(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    h = secret.salted_hash("alice@example.com", "user", a)
    assert h == secret.salted_hash("alice@example.com", "user", a) and len(h) == 16
    assert h != secret.salted_hash("alice@example.com", "user", b)
    assert h != secret.salted_hash("alice@example.com", "trace_id", a), "each purpose has its own salt"
    assert "alice" not in h


def test_signatures_bind_key_name_and_data(tmp_path: Path) -> None:
    k = secret.key("cache/test", tmp_path)
    tag = secret.sign(b"data", k, b"entry-1")
    assert secret.verify(tag, b"data", k, b"entry-1")
    assert not secret.verify(tag, b"datA", k, b"entry-1")
    assert not secret.verify(tag, b"data", k, b"entry-2")
    assert not secret.verify(tag, b"data", secret.key("cache/other", tmp_path), b"entry-1")


def test_a_shared_or_planted_secret_is_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A secret readable by others (unpacked from an archive, checked out of a repository) signs nothing:
    whoever planted it could sign a crafted cache with it."""
    store = tmp_path / "store"
    store.mkdir()
    planted = bytes(range(32))
    (store / "secret").write_text(planted.hex() + "\n")
    os.chmod(store / "secret", 0o644)
    with caplog.at_level(logging.WARNING):
        got = secret.secret(store)
    assert got != planted and mode(store / "secret") == 0o600
    assert any("readable by others" in r.getMessage() for r in caplog.records)


def test_a_symlinked_or_garbled_secret_is_replaced(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    target = tmp_path / "elsewhere"
    target.write_text(bytes(32).hex())
    os.chmod(target, 0o600)
    (store / "secret").symlink_to(target)
    assert secret.secret(store) != bytes(32)
    assert not (store / "secret").is_symlink() and target.read_text() == bytes(32).hex()
    secret.forget()
    private.write_text(store / "secret", "not hex")
    fresh = secret.secret(store)
    assert len(fresh) == 32 and (store / "secret").read_text().strip() == fresh.hex()


def test_an_unusable_store_folder_is_a_user_error(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.write_text("a file where the store folder should be")
    with pytest.raises(UserError, match="store/secret: cannot create the store's secret key"):
        secret.secret(store)


def test_private_files_narrow_existing_modes(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("old")
    os.chmod(out, 0o664)
    private.write_text(out, "new")
    assert out.read_text() == "new" and mode(out) == 0o600
    private.touch(tmp_path / "db")
    assert mode(tmp_path / "db") == 0o600
    private.make_dir(tmp_path / "a" / "b")
    assert mode(tmp_path / "a") == 0o700 and mode(tmp_path / "a" / "b") == 0o700


def test_private_files_keep_a_stricter_umask(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        private.write_text(tmp_path / "f", "x")
        private.make_dir(tmp_path / "d")
    finally:
        os.umask(old)
    assert mode(tmp_path / "f") == 0o400 and mode(tmp_path / "d") == 0o500
