"""Attack: credentials in URLs (``user:password@``, ``?token=``, ``?apikey=``) leak into output and files.

A config's transport URL, a declared asset's connection string and an emit target carry credentials. They
used to come back on the terminal (errors, warnings, ``--debug`` logs and tracebacks), in the store, in
``-o`` output and in the emit spool. Every byte flowscope prints or writes is grepped for each secret.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

SECRETS = ("hunter2pw", "T0K3NVALUE", "K3YVALUE99", "s3cr3tpw", "pa55w0rdX", "EM1TT0KEN")

FLOWS = """\
assets:
  users: {namespace: "postgres://bob:hunter2pw@db:5432", name: app.users, fields: [email]}
  hook: {namespace: "https://api.example.com", name: "/v1/hook?token=T0K3NVALUE", fields: [email]}
jobs:
  signup: {namespace: service://www}
flows:
  - {job: signup, from: users, to: hook, fields: [email]}
"""


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def flowscope(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FLOWSCOPE_STORE": str(tmp / ".flowscope")},
    )


def leaks(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [s for s in SECRETS if s.encode() in data]


def written(root: Path) -> dict[str, list[str]]:
    """Secrets in every file under ``root`` (the store's SQLite pages included), by file."""
    out = {}
    for path in root.rglob("*"):
        if path.is_file() and path.name != "flowscope.yaml" and path.parent.name != "flows":
            found = leaks(path.read_bytes())
            if found:
                out[str(path.relative_to(root))] = found
    return out


def estate(tmp: Path) -> None:
    (tmp / "flows").mkdir()
    (tmp / "flows" / "a.yaml").write_text(FLOWS)
    port = dead_port()
    (tmp / "flowscope.yaml").write_text(
        "openlineage:\n  transport:\n    type: http\n"
        f"    url: http://alice:s3cr3tpw@127.0.0.1:{port}/?apikey=K3YVALUE99\n    timeout: 1\n"
        "plugins:\n  declared:\n    files: [flows/*.yaml]\nscan:\n  collectors: [declared]\n"
    )


def test_url_credentials_are_never_printed_or_written(tmp_path: Path) -> None:
    estate(tmp_path)
    runs = {
        "scan": flowscope(tmp_path, "--debug", "scan", "-o", "out.jsonl"),
        "scan --json": flowscope(tmp_path, "scan", "--json"),
        "downstream": flowscope(tmp_path, "lineage", "downstream", "postgres://db:5432/app.users", "--json"),
        "assets": flowscope(tmp_path, "assets"),
        "emit": flowscope(
            tmp_path,
            "--debug",
            "emit",
            "--to",
            "marquez",
            f"http://carol:pa55w0rdX@127.0.0.1:{dead_port()}/?access_token=EM1TT0KEN",
            "--retries",
            "1",
        ),
        "replay": flowscope(tmp_path, "--debug", "emit", "--replay", "--retries", "1"),
    }
    assert runs["scan"].returncode == 1, "the dead transport fails the scan"
    assert "Traceback" not in runs["scan"].stderr
    assert runs["emit"].returncode == 1 and (tmp_path / ".flowscope" / "spool").is_dir()
    assert "app.users" in runs["downstream"].stdout or "app.users" in runs["assets"].stdout
    for name, run in runs.items():
        assert not leaks(run.stdout), f"{name} printed a secret: {leaks(run.stdout)}"
        assert not leaks(run.stderr), f"{name} printed a secret on stderr: {leaks(run.stderr)}"
    assert written(tmp_path) == {}, "a secret was written to a file"


def test_errors_and_debug_tracebacks_are_stripped_too(tmp_path: Path) -> None:
    """An error names what the user typed; under --debug it comes with a traceback that repeats it."""
    estate(tmp_path)
    assert flowscope(tmp_path, "scan").returncode == 1
    for args in (
        ("lineage", "downstream", "postgres://bob:hunter2pw@db:5432/app.nothere"),
        ("--debug", "lineage", "downstream", "postgres://bob:hunter2pw@db:5432/app.nothere?token=T0K3NVALUE"),
        ("--debug", "lineage", "why", "https://api.example.com/v1/hook?token=T0K3NVALUE", "nothere"),
    ):
        run = flowscope(tmp_path, *args)
        assert run.returncode == 1, run.stderr
        assert ("Traceback" in run.stderr) == ("--debug" in args), run.stderr
        assert not leaks(run.stdout) and not leaks(run.stderr), run.stderr
