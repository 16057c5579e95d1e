"""Write rules: beyond loopback every write needs the token (401 without), --read-only refuses writes, and
importing the plugin does not import the server's libraries."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from flowscope_ui.testing import run_server

GEO = "datasetField:hive://metastore:9083:raw.photos:geo"


def _can_bind(host: str) -> bool:
    try:
        with socket.socket() as s:
            s.bind((host, 0))
        return True
    except OSError:
        return False


def test_beyond_loopback_writes_need_the_token(estate: Path) -> None:
    # 127.0.0.2 is not one of the loopback names the server trusts (127.0.0.1, localhost, ::1), so it takes
    # the rule of any other address, without exposing the test server to the network.
    if not _can_bind("127.0.0.2"):
        pytest.skip("cannot bind 127.0.0.2 here")
    env = {"FLOWSCOPE_CONFIG": str(estate / "flowscope.yaml"), "FLOWSCOPE_UI_TOKEN": "bob:s3cret-token"}
    with run_server(estate / ".flowscope", env=env, cwd=estate, host="127.0.0.2") as s:
        assert any("token" in line for line in s.lines), s.lines
        assert not any("s3cret" in line for line in s.lines)  # a token from the environment is not echoed
        status, info = s.get("api/info")
        assert status == 200 and info["token_required"] and info["reviewer"] == "bob"
        body = {"action": "exclude", "assets": [GEO], "reason": "not precise"}
        status, out = s.post("api/zones/photo_geo/review", body)
        assert status == 401 and "token" in out["error"]
        status, out = s.post("api/zones/photo_geo/review", body, {"Authorization": "Bearer wrong"})
        assert status == 401
        status, out = s.get("api/zones/photo_geo/status")  # reads stay open
        assert status == 200
        status, out = s.post("api/zones/photo_geo/review", body, {"Authorization": "Bearer s3cret-token"})
        assert status == 200, out
        assert out["applied"][0]["by"] == "bob"
        status, out = s.post(
            "api/zones/photo_geo/review",
            {"action": "clear", "assets": [GEO]},
            {"Authorization": "Bearer s3cret-token"},
        )
        assert status == 200


def test_a_generated_token_is_printed(estate: Path) -> None:
    if not _can_bind("127.0.0.2"):
        pytest.skip("cannot bind 127.0.0.2 here")
    env = {"FLOWSCOPE_CONFIG": str(estate / "flowscope.yaml"), "FLOWSCOPE_UI_TOKEN": ""}
    with run_server(estate / ".flowscope", env=env, cwd=estate, host="127.0.0.2") as s:
        line = next(line for line in s.lines if "writes need this token:" in line)
        token = line.split("token:", 1)[1].split()[0]
        status, _ = s.post("api/zones/photo_geo/review", {"action": "clear", "assets": [GEO]})
        assert status == 401
        status, out = s.post(
            "api/zones/photo_geo/review",
            {"action": "clear", "assets": [GEO]},
            {"Authorization": f"Bearer {token}"},
        )
        assert status == 200, out


def test_read_only_refuses_writes(estate: Path) -> None:
    env = {"FLOWSCOPE_CONFIG": str(estate / "flowscope.yaml")}
    with run_server(estate / ".flowscope", "--read-only", env=env, cwd=estate) as s:
        status, out = s.post(
            "api/zones/photo_geo/review", {"action": "exclude", "assets": [GEO], "reason": "x"}
        )
        assert status == 403 and "read-only" in out["error"]
        assert s.get("api/info")[1]["read_only"] is True
    assert (
        not (estate / "zones" / "photo_geo.review.yaml").exists()
        or "raw.photos:geo" not in (estate / "zones" / "photo_geo.review.yaml").read_text()
    )


def test_no_store_is_one_error_line(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from flowscope.cli import main; main()",
            "ui",
            "--store",
            str(tmp_path / "none"),
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 1
    assert (
        out.stderr.startswith("error: ")
        and "no lineage store" in out.stderr
        and "Traceback" not in out.stderr
    )


def test_a_busy_port_is_one_error_line(estate: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "from flowscope.cli import main; main()",
                "ui",
                "--store",
                str(estate / ".flowscope"),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert (
        out.returncode == 1 and "cannot listen on 127.0.0.1" in out.stderr and "Traceback" not in out.stderr
    )


def test_registering_the_command_does_not_import_the_server() -> None:
    code = (
        "import sys; from flowscope.cli import build_app; from flowscope.plugins import make_manager;"
        "build_app(make_manager()); "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'flowscope_ui.server') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"
    out = subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", "ui", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0 and "--read-only" in out.stdout
