"""The review page on the example estate, in the machine's Chromium, as a new user would use it: search
``photos.location``, expand it, see the path to ``ad_targeting_model`` with the violation in red, read an
edge's evidence, and exclude the aggregate table with its downstream from the table view (its nodes turn
grey and leave the review queue). The graph's screenshot is written as an artifact
($FLOWSCOPE_UI_SCREENSHOT, else the test's temporary folder); docs/images/ui_example.png is a copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from flowscope_ui.testing import Server, browser_page, chromium_path, run_server, tap, wait_until

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "photo_sharing"
LOCATION = "datasetField:mysql://appdb:3306:photos_app.photos:location"
AD_MODEL = "datasetField:model://registry:ad_targeting_model:home_city"
EVENTS = "datasetField:hive://warehouse:9083:analytics.photo_events:location"
AGGREGATE = "dataset:hive://warehouse:9083:analytics.upload_counts_daily"
AGG_FIELDS = [
    f"datasetField:hive://warehouse:9083:analytics.upload_counts_daily:{f}" for f in ("area_lat", "area_lng")
]
WEEKLY = "dataset:hive://warehouse:9083:reporting.growth_uploads_weekly"
GREY, RED = "#9aa0a6", "#d93025"


@pytest.fixture(scope="module")
def browser() -> str:
    path, why = chromium_path()
    if path is None:
        print(f"\nflowscope-ui: BROWSER TESTS NOT RUN: {why}", file=sys.stderr)
        pytest.skip(f"BROWSER TESTS NOT RUN: {why}")
    return path


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Server]]:
    copy = tmp_path_factory.mktemp("ui") / "photo_sharing"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("*.review.yaml", ".flowscope"))
    env = {**os.environ, "FLOWSCOPE_CONFIG": str(copy / "flowscope.yaml"), "FLOWSCOPE_REVIEWER": "alice"}
    scan = subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", "scan"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert scan.returncode == 0, scan.stderr
    with run_server(copy / ".flowscope", env=env, cwd=copy) as server:
        yield copy, server


def test_search_expand_violation_evidence_and_bulk_exclude(
    browser: str, example: tuple[Path, Server], tmp_path: Path
) -> None:
    estate, server = example
    _, why = server.get("api/why?" + urlencode({"source": LOCATION, "target": AD_MODEL}))
    hops = [(h["source"], h["target"]) for h in why["path"]]
    assert len(hops) == 4
    _, edge = server.get("api/edge?" + urlencode({"source": LOCATION, "target": EVENTS}))
    evidence = [e for x in edge["edges"] for e in x["evidence"]]
    assert evidence
    with browser_page() as (page, errors):
        page.goto(server.url)
        wait_until(page, "document.body.dataset.ready === 'true'")
        page.fill("#search", "photos.location")
        page.wait_for_selector(f"#suggestions li[data-id='{LOCATION}']")
        page.click(f"#suggestions li[data-id='{LOCATION}']")
        wait_until(page, "window.flowscopeUI.cy.nodes().length === 1")
        tap(page, LOCATION)  # expand
        wait_until(page, f"window.flowscopeUI.cy.getElementById('{AD_MODEL}').nonempty()")
        for source, target in hops:  # the whole path to the ad model is drawn
            assert page.evaluate(
                "(id) => window.flowscopeUI.cy.getElementById(id).nonempty()", f"{source}->{target}"
            ), (source, target)
        assert page.evaluate("(id) => window.flowscopeUI.colourOf(id)", AD_MODEL) == RED
        shot = Path(os.environ.get("FLOWSCOPE_UI_SCREENSHOT") or tmp_path / "ui_example.png")
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
        # the edge panel: every evidence line of the example's flow, with its snippet
        tap(page, f"{LOCATION}->{EVENTS}")
        page.wait_for_selector("#panel .ev")
        panel = page.text_content("#panel") or ""
        for ev in evidence:
            assert ev["location"] in panel
            if ev.get("snippet"):
                assert ev["snippet"] in panel
        # the table view: exclude the aggregate with its downstream
        page.click("#tab-table")
        page.wait_for_selector(f"#table tr[data-asset='{AGGREGATE}']")
        page.check(f"#table tr[data-asset='{AGGREGATE}'] input[type=checkbox]")
        page.fill("#reason", "upload counts per 11 km area: no user, no precise place")
        page.check("#downstream")
        page.click("#do-exclude")
        wait_until(
            page, "document.getElementById('table-message').textContent.includes('decision(s) written')"
        )
        page.click("#tab-graph")
        for asset in AGG_FIELDS:  # recoloured without a reload
            wait_until(page, f"window.flowscopeUI.colourOf('{asset}') === '{GREY}'")
        assert page.evaluate("(id) => window.flowscopeUI.colourOf(id)", WEEKLY) == GREY
        page.click("#tab-queue")
        wait_until(page, "document.getElementById('table-title').textContent.startsWith('review queue')")
        queued = page.evaluate("[...document.querySelectorAll('#table tbody tr')].map(r => r.dataset.asset)")
        assert queued and not {AGGREGATE, *AGG_FIELDS, WEEKLY} & set(queued)
        assert errors == [], errors
    review = (estate / "zones" / "precise_location.review.yaml").read_text(encoding="utf-8")
    assert f"{AGGREGATE}:\n    decision: exclude\n    by: alice" in review
