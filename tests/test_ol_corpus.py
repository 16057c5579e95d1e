"""``flowscope ingest`` on real integration events: the OpenLineage repository's Spark, Flink, dbt and Hive
expected events, extracted by ``tests/corpus/openlineage/extract.py`` into a cache outside the repo (set
``FLOWSCOPE_OL_CORPUS``, or ``~/.cache/flowscope/ol-corpus``). Skipped with that reason when the cache is
absent: the events are never committed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from flowscope.cli import main

CORPUS = Path(__file__).parent / "corpus" / "openlineage"
sys.path.insert(0, str(CORPUS))
from extract import default_cache  # noqa: E402
from score import labels, score_test  # noqa: E402

CACHE = default_cache()
pytestmark = pytest.mark.skipif(
    not (CACHE / "SOURCE").is_file(),
    reason=f"no OpenLineage corpus at {CACHE}: run tests/corpus/openlineage/extract.py --repo PATH",
)


@pytest.mark.parametrize("name", sorted(labels()))
def test_held_out_labels(name: str) -> None:
    label = labels()[name]
    want, got, failed = score_test(CACHE, label)
    assert got == want
    assert failed == label["runs_failed"]


def test_the_whole_corpus_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every file at once: runs merged across files, symlinks folded, failed runs kept; the expected
    events that leave out required fields are reported by name, and the rest is stored."""
    with pytest.raises(SystemExit) as stop:
        main(["--store", str(tmp_path / "s"), "ingest", str(CACHE), "--json"])
    assert stop.value.code == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["failed_runs"] > 0 and doc["aliases"] and doc["edges"] > 0
    bad = {Path(f["path"]).name for f in doc["failed_files"]}
    assert bad and all(f"error: {f['path']}: no valid OpenLineage events" in err for f in doc["failed_files"])
    assert len(doc["files"]) + len(bad) == sum(1 for p in CACHE.rglob("*.json"))
