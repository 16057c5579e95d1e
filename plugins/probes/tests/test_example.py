"""The example service under probes: its traffic driver confirms the cache write and never sees the user id
reach the metrics log (the static plugin finds both in service.py)."""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from pathlib import Path

from flowscope_probes import runtime
from flowscope_probes.collector import summarize

DRIVER = Path(__file__).resolve().parents[3] / "examples/photo_sharing/app/nearby_friends/drive.py"
JOB = "service://nearby-friends|update_last_location"
SRC = "http://nearby-friends.internal|/api/v1/nearby_friends#"


def test_driver_writes_the_spool_the_scan_reads(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("drive", DRIVER)
    assert spec is not None and spec.loader is not None
    drive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(drive)
    try:
        assert drive.main(["--requests", "120", "--spool", str(tmp_path / "spool")]) == 0
    finally:
        sys.modules.pop("service", None)
        sys.path.remove(str(DRIVER.parent)) if str(DRIVER.parent) in sys.path else None
    assert runtime.STATE is None
    s = summarize(tmp_path / "spool")
    rows = {(k[1].removeprefix(SRC), k[2], k[3]): r.count for k, r in s.rows.items()}
    assert rows == {
        ("location", "cache://nearby-cache|last_location:{}#", "EXACT_MATCH"): 120,
        ("location", "log://python|nearby_friends.metrics#", "NO_MATCH"): 120,
        ("user_id", "cache://nearby-cache|last_location:{}#", "NO_MATCH"): 120,
        ("user_id", "log://python|nearby_friends.metrics#", "NO_MATCH"): 120,
    }
    assert s.samples == {JOB: 120}
    text = "".join(p.read_text() for p in (tmp_path / "spool").glob("*.jsonl"))
    rng = random.Random(7)  # the driver's values, again: none of them is in the spool
    for _ in range(120):
        user_id = str(rng.randrange(100_000, 999_999))
        location = f"{rng.uniform(-80, 80):.5f},{rng.uniform(-170, 170):.5f}"
        assert re.search(rf"(?<![\d.]){user_id}(?![\d.])", text) is None and location not in text
