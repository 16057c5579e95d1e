"""The labeled set is part of the suite: precision and recall may not fall below the issue's targets."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "static_bench.py"


def test_labeled_set_meets_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("static_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--repeat", "1", "--runs", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    overall = report["overall"]
    assert overall["flows"] >= 60 and overall["non_flows"] >= 20
    assert set(report["languages"]) == {"cpp", "hack", "python"}
    assert overall["precision"] >= 0.9 and overall["recall"] >= 0.85, report["misses"]
