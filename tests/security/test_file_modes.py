"""Attack: another account on a shared machine reads what flowscope wrote.

The store, its caches and secret key, the emit spool and ``-o`` output hold lineage of personal data,
salted hashes and a signing key. Under the usual umask 022 they were created 0755/0644, readable by every
account. Now every folder flowscope creates there is 0700 and every file 0600 (minus a stricter umask).
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

FLOWS = """\
assets:
  users: {namespace: mysql://db:3306, name: app.users, fields: [email]}
  signups: {namespace: log://scribe, name: signups, fields: [email]}
jobs:
  signup: {namespace: service://www}
flows:
  - {job: signup, from: users, to: signups, fields: [email]}
"""

VIEWS = """from flask import request
import logging


def signup():
    logging.info("signup %s", request.form["email"])
"""


def flowscope(tmp: Path, umask: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(umask),
        env={**os.environ, "FLOWSCOPE_STORE": str(tmp / ".flowscope")},
    )


def dead_port() -> int:
    """A loopback port nobody listens on: the emit fails at once and its events are spooled."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def estate(tmp: Path) -> None:
    (tmp / "flows").mkdir()
    (tmp / "flows" / "a.yaml").write_text(FLOWS)
    collectors = ["declared"]
    extra = ""
    try:
        import flowscope_hack_static  # noqa: F401
    except ImportError:
        pass
    else:  # its cache writes folders and files into the store too
        (tmp / "app").mkdir()
        (tmp / "app" / "views.py").write_text(VIEWS)
        collectors.append("hack_static")
        extra = "  hack_static:\n    paths: [app]\n    workers: 1\n"
    (tmp / "flowscope.yaml").write_text(
        "plugins:\n  declared:\n    files: [flows/*.yaml]\n"
        + extra
        + f"scan:\n  collectors: [{', '.join(collectors)}]\n"
    )


def modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        out[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return out


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o027])
def test_store_spool_and_output_are_private(tmp_path: Path, umask: int) -> None:
    estate(tmp_path)
    (tmp_path / "old.jsonl").write_text("")
    os.chmod(tmp_path / "old.jsonl", 0o644)  # -o over an existing world-readable file narrows it
    scan = flowscope(tmp_path, umask, "scan", "-o", "out.jsonl")
    assert scan.returncode == 0, scan.stderr
    again = flowscope(tmp_path, umask, "scan", "-o", "old.jsonl")
    assert again.returncode == 0, again.stderr
    emit = flowscope(
        tmp_path, umask, "emit", "--to", "marquez", f"http://127.0.0.1:{dead_port()}", "--retries", "1"
    )
    assert emit.returncode == 1 and "resend with" in emit.stderr, emit.stderr
    found = modes(tmp_path / ".flowscope")
    assert "spool" in found and "secret" in found and "lineage.db" in found, sorted(found)
    if len(found) < 8:
        pytest.fail(f"expected the store, cache, spool and secret: {sorted(found)}")
    for name, mode in sorted(found.items()):
        is_dir = (tmp_path / ".flowscope" / name).is_dir()
        assert mode == (0o700 if is_dir else 0o600), f".flowscope/{name} is {mode:o}"
    for out in ("out.jsonl", "old.jsonl"):
        assert (tmp_path / out).stat().st_size > 0
        assert stat.S_IMODE((tmp_path / out).stat().st_mode) == 0o600, out
