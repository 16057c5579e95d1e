"""Attack: a crafted cache file under ``.flowscope/cache/`` runs a shell command during ``flowscope scan``.

The static plugin's cache entries were pickles read through an allow-list that admitted any dotted name under
``flowscope.*``; protocol 4 resolves ``os.system`` as an attribute path from any flowscope module that imports
``os``, so a 60-byte file ran a command and the scan exited 0 with a warning. Then every cache file was signed
with the store's secret key and checked before it was unpickled. Now nothing is unpickled at all: entries are
plain data (msgpack of strings, numbers and lists), still signed, so a file flowscope did not write is
discarded and the file it stood for analyzed again, with the same lineage as a clean scan, and even a file
signed with the store's key (a leaked key) is only ever decoded as data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("flowscope_hack_static")

VIEWS = """from flask import request
import logging


def signup():
    email = request.form["email"]
    logging.info("signup %s", email)
"""


def crafted_pickle(command: str) -> bytes:
    """Protocol-4 opcodes: STACK_GLOBAL("flowscope.store.folder", "os.system"), (command,), REDUCE."""

    def text(value: str) -> bytes:
        raw = value.encode()
        return b"\x8c" + bytes([len(raw)]) + raw

    return (
        b"\x80\x04" + text("flowscope.store.folder") + text("os.system") + b"\x93" + text(command) + b"\x85R."
    )


def flowscope(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FLOWSCOPE_STORE": str(tmp / ".flowscope")},
    )


def estate(tmp: Path) -> None:
    (tmp / "app").mkdir()
    (tmp / "app" / "views.py").write_text(VIEWS)
    (tmp / "flowscope.yaml").write_text(
        "plugins:\n  hack_static:\n    paths: [app]\n    workers: 1\nscan:\n  collectors: [hack_static]\n"
    )


def downstream(tmp: Path) -> list[str]:
    result = flowscope(tmp, "lineage", "downstream", "service://python-app/request", "--json")
    assert result.returncode == 0, result.stderr
    return sorted(f"{r['namespace']}/{r['name']}" for r in json.loads(result.stdout)["reached"])


def cache_files(tmp: Path) -> list[Path]:
    return sorted(p for p in (tmp / ".flowscope" / "cache").rglob("*") if p.is_file())


def test_crafted_pickle_in_the_cache_runs_no_command(tmp_path: Path) -> None:
    estate(tmp_path)
    first = flowscope(tmp_path, "scan")
    assert first.returncode == 0, first.stderr
    clean = downstream(tmp_path)
    assert clean, "the clean scan found the flow"
    files = cache_files(tmp_path)
    assert files, "the scan wrote cache entries"
    marker = tmp_path / "pwned"
    for path in files:  # every cache file the scan reads, tree entry and per-file entries alike
        path.write_bytes(crafted_pickle(f"touch {marker}"))
    again = flowscope(tmp_path, "scan")
    assert not marker.exists(), "a cache file ran a shell command"
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert downstream(tmp_path) == clean
    # the bad files were discarded and rebuilt: a third scan reads good entries and reports nothing
    third = flowscope(tmp_path, "scan")
    assert third.returncode == 0 and "cache" not in third.stderr, third.stderr
    for path in cache_files(tmp_path):
        assert b"os.system" not in path.read_bytes()


def test_crafted_pickle_signed_with_the_stores_key_runs_no_command(tmp_path: Path) -> None:
    """Even with the store's key (copied along with the cache, say), a pickle in the cache is not read as one."""
    estate(tmp_path)
    assert flowscope(tmp_path, "scan").returncode == 0
    clean = downstream(tmp_path)
    marker = tmp_path / "pwned"
    code = (
        "import sys; from pathlib import Path; from flowscope_hack_static import cache; "
        "key = cache.signing_key(); data = bytes.fromhex(sys.argv[2]); "
        "[p.write_bytes(cache.MAGIC + cache.secret.sign(data, key, p.name.encode()) + data) "
        "for p in Path(sys.argv[1]).rglob('*') if p.is_file()]"
    )
    payload = crafted_pickle(f"touch {marker}").hex()
    signed = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / ".flowscope" / "cache"), payload],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FLOWSCOPE_STORE": str(tmp_path / ".flowscope")},
    )
    assert signed.returncode == 0, signed.stderr
    again = flowscope(tmp_path, "scan")
    assert not marker.exists(), "a signed cache file ran a shell command"
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert "unreadable" in again.stderr and "rebuilt" in again.stderr, again.stderr
    assert downstream(tmp_path) == clean


def test_cache_copied_from_another_store_is_discarded(tmp_path: Path) -> None:
    """A cache copied from elsewhere (another checkout, a shared archive) is foreign even when it describes
    the same files: it is not signed with this store's key, so it is discarded and rebuilt, never read."""
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    for root in (mine, theirs):
        root.mkdir()
        estate(root)
        assert flowscope(root, "scan").returncode == 0, root
    clean = downstream(mine)
    for their_file in cache_files(theirs):
        mine_file = mine / their_file.relative_to(theirs)
        mine_file.parent.mkdir(parents=True, exist_ok=True)
        mine_file.write_bytes(their_file.read_bytes())
    again = flowscope(mine, "scan")
    assert again.returncode == 0, again.stderr
    notes = [line for line in again.stderr.splitlines() if "cache" in line]
    assert len(notes) == 1 and "rebuilt" in notes[0], again.stderr
    assert downstream(mine) == clean
    third = flowscope(mine, "scan")
    assert third.returncode == 0 and "cache" not in third.stderr, third.stderr
