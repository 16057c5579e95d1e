"""SQL lineage benchmark (issue 3): runs ``plugins/sql/bench/sql_bench.py``, which lives beside the plugin whose
tests hold flowscope to the same corpus. Same arguments; see plugins/sql/bench/README.md for the environment
holding the reference tools (sqllineage, openlineage-sql, DataHub's parser)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    script = Path(__file__).resolve().parents[1] / "plugins" / "sql" / "bench" / "sql_bench.py"
    sys.argv[0] = str(script)
    runpy.run_path(str(script), run_name="__main__")
