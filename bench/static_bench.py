"""Static code analysis benchmark (issue 4): runs ``plugins/hack_static/bench/static_bench.py``, which lives
beside the plugin whose tests hold flowscope to the same labeled corpus. Same arguments (``--repeat``,
``--workers``, ``--json``, ``--skip-cache``); results and machine in bench/README.md."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    script = Path(__file__).resolve().parents[1] / "plugins" / "hack_static" / "bench" / "static_bench.py"
    sys.argv[0] = str(script)
    runpy.run_path(str(script), run_name="__main__")
