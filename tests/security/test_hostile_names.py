"""Attack: a crafted asset, job or field name drives the user's terminal or a catalog's URL paths.

Names come from other people's files. Printed as they were, ``\\x1b[2J`` cleared the screen, OSC 8 made a
fake link, ``\\r`` and newlines overwrote lines with a fake "ALL CLEAR", and rich read ``[red]`` and
``:smile:`` as its own markup. Now every name printed by the CLI (tables, warnings, errors, why, the scan
summary) is escaped and printed literally. A dataset named ``..`` or ``.`` went into Marquez URL paths as a
dot segment (``/datasets/../tags/pii`` is ``/tags/pii``); it is percent-encoded like any other name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HOSTILE = (
    "evil\x1b[2J\x1b[H"  # clear screen, cursor home
    "\x1b]8;;http://attacker.invalid\x07link\x1b]8;;\x07"  # OSC 8 hyperlink
    "\r[green]ALL CLEAR[/green]\nsecond line"  # carriage return, rich markup, newline
    " :smile: postgres_host:1234: \u202e\u200b\x9b"  # emoji code, RTL override, zero width, C1 CSI
)

FLOWS = f"""\
assets:
  users: {{namespace: mysql://db:3306, name: app.users, fields: [email]}}
  evil: {{namespace: log://scribe, name: {json.dumps(HOSTILE)}, fields: [email], tags: [pii]}}
  dots: {{namespace: log://scribe, name: "..", fields: [email], tags: [pii]}}
  dot: {{namespace: log://scribe, name: ".", tags: [pii]}}
jobs:
  signup: {{namespace: service://www, name: {json.dumps("job" + HOSTILE)}}}
flows:
  - {{job: signup, from: users, to: evil, fields: [email]}}
  - {{job: signup, from: users, to: dots, fields: [email]}}
  - {{job: signup, from: users, to: dot}}
"""

BROKEN = f"""\
assets:
  users: {{namespace: mysql://db:3306, name: app.users}}
flows:
  - {{job: {json.dumps(HOSTILE)}, from: users, to: {json.dumps("nowhere" + HOSTILE)}}}
"""


def flowscope(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FLOWSCOPE_STORE": str(tmp / ".flowscope"), "COLUMNS": "400"},
    )


def assert_inert(text: str, where: str) -> None:
    """Nothing in ``text`` acts on a terminal, and the markup and emoji codes are printed as written."""
    for char in "\x1b\x07\r\x9b\u202e\u200b":
        assert char not in text, f"{where}: raw {char!r} printed"
    assert "😄" not in text, f"{where}: :smile: became an emoji"
    assert not any(
        line.strip().startswith(("ALL CLEAR", "[green]ALL", "second line")) for line in text.splitlines()
    ), f"{where}: a name started a line of its own:\n{text}"


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "a.yaml").write_text(FLOWS)
    (tmp_path / "flows" / "b.yaml").write_text(BROKEN)
    (tmp_path / "flowscope.yaml").write_text(
        "plugins:\n  declared:\n    files: [flows/*.yaml]\nscan:\n  collectors: [declared]\n"
    )
    return tmp_path


def test_hostile_names_are_printed_inert(estate: Path) -> None:
    scan = flowscope(estate, "scan")
    assert scan.returncode == 0, scan.stderr
    assert "flows/b.yaml" in scan.stderr, "the broken file is a warning naming the hostile name"
    runs = {
        "scan": scan,
        "downstream": flowscope(estate, "lineage", "downstream", "mysql://db:3306/app.users"),
        "upstream": flowscope(estate, "lineage", "upstream", "log://scribe/..#email"),
        "assets": flowscope(estate, "assets"),
        "why": flowscope(estate, "lineage", "why", "mysql://db:3306/app.users", f"log://scribe/{HOSTILE}"),
        "error": flowscope(estate, "lineage", "downstream", f"log://scribe/{HOSTILE}x"),
    }
    for name, run in runs.items():
        assert_inert(run.stdout, f"{name} stdout")
        assert_inert(run.stderr, f"{name} stderr")
    assert runs["error"].returncode == 1 and runs["error"].stderr.count("\n") == 1, runs["error"].stderr
    shown = runs["downstream"].stdout
    for piece in (
        "evil\\x1b[2J",
        "CLEAR[/green]",
        "\\x0asecond line",
        ":smile: postgres_host:1234:",
        "\\u202e",
    ):
        assert piece in shown, f"{piece!r} not printed as written:\n{shown}"
    assert "\\x1b[2J" in runs["why"].stdout and ":smile:" in runs["why"].stdout, runs["why"].stdout
    # --json stays exact: the name is data there, escaped by JSON itself
    as_json = flowscope(estate, "lineage", "downstream", "mysql://db:3306/app.users", "--json")
    names = {r["name"] for r in json.loads(as_json.stdout)["reached"]}
    assert HOSTILE in names and ".." in names and "." in names


class Recorder:
    """A local stand-in for Marquez that records the raw request line of every call."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_POST

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def marquez() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_dot_names_are_percent_encoded_in_marquez_paths(estate: Path, marquez: Recorder) -> None:
    pytest.importorskip("flowscope_emitters")
    assert flowscope(estate, "scan").returncode == 0
    emit = flowscope(estate, "emit", "--to", "marquez", marquez.url)
    assert emit.returncode == 0, emit.stderr
    assert_inert(emit.stderr, "emit")
    tagged = [p for p in marquez.paths if "/datasets/" in p]
    assert "/api/v1/namespaces/log%3A%2F%2Fscribe/datasets/%2E%2E/tags/pii" in tagged, tagged
    assert "/api/v1/namespaces/log%3A%2F%2Fscribe/datasets/%2E/tags/pii" in tagged, tagged
    for path in marquez.paths:
        segments = path.split("?")[0].split("/")
        assert "." not in segments and ".." not in segments, path
