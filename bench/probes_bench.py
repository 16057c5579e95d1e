"""Runtime probes benchmark (issue 5): runs ``plugins/probes/bench/probes_bench.py`` (request overhead of the
probes on a minimal WSGI app and on Flask, intercepted-call cost, and the matcher's rows from
``plugins/probes/bench/matcher_bench.py``). Same arguments; results in bench/README.md."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    script = Path(__file__).resolve().parents[1] / "plugins" / "probes" / "bench" / "probes_bench.py"
    sys.argv[0] = str(script)
    runpy.run_path(str(script), run_name="__main__")
