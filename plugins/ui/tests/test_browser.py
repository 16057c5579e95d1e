"""The page in the machine's Chromium over a store filled by ``flowscope ingest`` with Airflow's and
Spark's OpenLineage events: it loads with no console error, search completes a field, a click expands,
the edge panel shows the event's evidence, and nothing from the data is rendered as HTML."""

from __future__ import annotations

from flowscope_ui.testing import Server, browser_page, tap, wait_until

LAT = "datasetField:mysql://appdb:3306:photos_app.photos:lat"
GEO = "datasetField:hive://metastore:9083:raw.photos:geo"
CELL = "datasetField:hive://metastore:9083:features.photo_geo:geo_cell"


def test_ingested_events_in_the_page(server: Server, need_browser: str) -> None:
    with browser_page() as (page, errors):
        page.goto(server.url)
        wait_until(page, "document.body.dataset.ready === 'true'")
        page.fill("#search", "photos.la")
        page.wait_for_selector(f"#suggestions li[data-id='{LAT}']")
        page.click(f"#suggestions li[data-id='{LAT}']")
        wait_until(page, "window.flowscopeUI.cy.nodes().length === 1")
        tap(page, LAT)
        wait_until(page, f"window.flowscopeUI.cy.getElementById('{CELL}').nonempty()")
        # zone colours: the source green, the advertising feature table red
        assert page.evaluate(f"window.flowscopeUI.colourOf('{LAT}')") == "#22a06b"
        assert page.evaluate(f"window.flowscopeUI.colourOf('{CELL}')") == "#d93025"
        tap(page, f"{LAT}->{GEO}")
        page.wait_for_selector("#panel .ev")
        panel = page.text_content("#panel") or ""
        assert "airflow_photos.jsonl:2" in panel and "photos_daily.extract_photos" in panel
        # collapse: the same click again removes what the expansion added
        tap(page, LAT)
        wait_until(page, "window.flowscopeUI.cy.nodes().length === 1")
        assert errors == [], errors
