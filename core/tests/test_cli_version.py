"""``flowscope --version``: the version on its own, exit 0 (click used to demand a command first)."""

from __future__ import annotations

import subprocess
import sys

from flowscope import __version__


def test_version_alone_prints_it_and_exits_0() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"flowscope {__version__}\n" and result.stderr == ""
    assert __version__ != "0.0.0", "read from the installed distribution"
