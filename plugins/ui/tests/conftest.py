"""Fixtures: a store filled by ``flowscope ingest`` with OpenLineage events written by other tools
(core's ingest fixtures: Airflow's and Spark's integrations), a zone over it, and one server process per
test module (starting one costs about a second on this machine)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowscope_ui.testing import Server, chromium_path, run_server

REPO = Path(__file__).resolve().parents[3]
EVENTS = [
    REPO / "core" / "tests" / "data" / "airflow_photos.jsonl",
    REPO / "core" / "tests" / "data" / "spark_photo_features.json",
]
ZONE = """name: photo_geo
description: where a photo was taken
owner: privacy@example.com
data_categories: [user.location.precise]
sources: [photos_app.photos#lat, photos_app.photos#lng]
denied: [marketing.advertising]
"""
CONFIG = """purposes:
  "hive://metastore:9083/features.photo_geo": marketing.advertising.first_party.targeted
"""
_skipped: list[str] = []


def flowscope(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from flowscope.cli import main; main()", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def make_estate(root: Path) -> Path:
    """An estate folder: flowscope.yaml, zones/photo_geo.yaml, and .flowscope filled by ingest."""
    (root / "zones").mkdir(parents=True)
    (root / "flowscope.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "zones" / "photo_geo.yaml").write_text(ZONE, encoding="utf-8")
    out = flowscope("--store", str(root / ".flowscope"), "ingest", *map(str, EVENTS), cwd=root)
    assert out.returncode == 0, out.stderr
    return root


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_estate(tmp_path_factory.mktemp("estate"))


@pytest.fixture(scope="module")
def server(estate: Path) -> Iterator[Server]:
    env = {"FLOWSCOPE_CONFIG": str(estate / "flowscope.yaml"), "FLOWSCOPE_REVIEWER": "alice"}
    with run_server(estate / ".flowscope", env=env, cwd=estate) as s:
        yield s


@pytest.fixture
def need_browser() -> str:
    path, why = chromium_path()
    if path is None:
        _skipped.append(why)
        pytest.skip(f"BROWSER TESTS NOT RUN: {why}")
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped:
        terminalreporter.write_line(
            f"flowscope-ui: {len(_skipped)} BROWSER TEST(S) SKIPPED, NOT RUN: {_skipped[0]}",
            red=True,
            bold=True,
        )
