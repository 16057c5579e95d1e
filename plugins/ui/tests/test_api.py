"""The JSON API over a store filled by ``flowscope ingest`` (Airflow and Spark OpenLineage events): every
endpoint answers, bad requests are 4xx JSON errors (never a 500), and review writes the same review file
as ``flowscope zone review``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowscope.zones.review import load_review
from flowscope_ui.testing import Server, request

LAT = "datasetField:mysql://appdb:3306:photos_app.photos:lat"
GEO = "datasetField:hive://metastore:9083:raw.photos:geo"
CELL = "datasetField:hive://metastore:9083:features.photo_geo:geo_cell"


def q(**params: str) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def test_search_completes_names_and_fields(server: Server) -> None:
    status, body = server.get("api/search?" + q(q="photos.lat"))
    assert status == 200
    assert body["results"][0]["id"] == LAT
    status, body = server.get("api/search?" + q(q="photo_geo"))
    assert body["results"][0]["id"] == "dataset:hive://metastore:9083:features.photo_geo"


def test_neighbourhood_down_and_up(server: Server) -> None:
    status, body = server.get("api/neighbourhood?" + q(asset="photos.lat", depth="3"))
    assert status == 200, body
    ids = {n["id"] for n in body["nodes"]}
    assert {LAT, GEO, CELL} <= ids
    edges = {(e["source"], e["target"]) for e in body["edges"]}
    assert (LAT, GEO) in edges and (GEO, CELL) in edges
    assert all(0 < e["confidence"] <= 1 for e in body["edges"])
    status, up = server.get("api/neighbourhood?" + q(asset=CELL, direction="up", depth="3"))
    assert status == 200 and LAT in {n["id"] for n in up["nodes"]}
    # a confidence floor above every edge leaves the start alone
    status, none = server.get("api/neighbourhood?" + q(asset="photos.lat", min_confidence="0.99"))
    assert status == 200 and [n["id"] for n in none["nodes"]] == [LAT]
    # the system filter keeps only mysql assets: nothing downstream is in mysql
    status, mysql = server.get("api/neighbourhood?" + q(asset="photos.lat", namespace="mysql://"))
    assert [n["id"] for n in mysql["nodes"]] == [LAT]


def test_why_edge_and_asset(server: Server) -> None:
    status, body = server.get("api/why?" + q(source="photos.lat", target=CELL))
    assert status == 200 and body["hops"] == 2
    assert body["path"][0]["job"]["name"] == "photos_daily.extract_photos"
    status, edge = server.get("api/edge?" + q(source=LAT, target=GEO))
    assert status == 200
    ev = edge["edges"][0]["evidence"]
    assert any(e["location"].endswith("airflow_photos.jsonl:2") for e in ev), ev
    status, asset = server.get("api/asset?" + q(asset="dataset:mysql://appdb:3306:photos_app.photos"))
    assert status == 200 and "tier:gold" in asset["tags"]
    assert {"lat", "lng", "owner_id"} <= {f["name"] for f in asset["fields"]}


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("api/neighbourhood?" + q(asset="no_such_table"), 404, "no_such_table"),
        ("api/neighbourhood?" + q(asset="dataset:hive://metastore:9083:nope"), 404, "unknown asset"),
        ("api/neighbourhood?" + q(asset="photos.lat", depth="0"), 400, "depth"),
        ("api/neighbourhood?" + q(asset="photos.lat", depth="ten"), 400, "integer"),
        ("api/neighbourhood?" + q(asset="photos.lat", min_confidence="1.5"), 400, "min_confidence"),
        ("api/neighbourhood?" + q(asset="photos.lat", min_confidence="nan"), 400, "min_confidence"),
        ("api/neighbourhood?" + q(asset="photos.lat", kinds="sql,telepathy"), 400, "telepathy"),
        ("api/neighbourhood?" + q(asset="photos.lat", direction="sideways"), 400, "direction"),
        ("api/neighbourhood?" + q(asset="photos.lat", direct_only="maybe"), 400, "direct_only"),
        ("api/neighbourhood?" + q(asset="photos.lat", limit="100000"), 400, "limit"),
        ("api/neighbourhood", 400, "asset"),
        ("api/why?" + q(source="photos.lat", target="photos.lat"), 400, "same"),
        ("api/why?" + q(source=CELL, target="photos.lat"), 404, "no flow"),
        ("api/edge?" + q(source=CELL, target=LAT), 404, "no stored edge"),
        ("api/asset?" + q(asset="photos.nosuchfield"), 404, "nosuchfield"),
        ("api/zones/nope/status", 404, "unknown zone"),
        ("api/zones/photo_geo/status?" + q(sort="colour"), 400, "sort"),
        ("api/zones/photo_geo/status?" + q(status="purple"), 400, "purple"),
        ("api/nothing-here", 404, ""),
    ],
)
def test_bad_requests_are_json_4xx(server: Server, path: str, status: int, words: str) -> None:
    got, body = server.get(path)
    assert got == status, body
    assert isinstance(body, dict) and words in body["error"]


def test_openapi_lists_every_route(server: Server) -> None:
    status, doc = server.get("api/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    for path in (
        "/api/search",
        "/api/neighbourhood",
        "/api/why",
        "/api/zones/{zone}/status",
        "/api/zones/{zone}/review",
    ):
        assert path in doc["paths"]


def test_page_and_its_files_are_served_with_a_strict_policy(server: Server) -> None:
    import urllib.request

    with urllib.request.urlopen(server.url) as res:
        html = res.read().decode()
        csp = res.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    for src in ("/static/vendor/cytoscape.min.js", "/static/vendor/cytoscape-dagre.min.js", "/static/app.js"):
        assert src in html
        with urllib.request.urlopen(server.url + src.lstrip("/")) as res:
            assert res.status == 200 and len(res.read()) > 1000
    assert "http://" not in html and "https://" not in html  # nothing from a CDN


def test_zone_status_queue_and_review_write_the_cli_review_file(server: Server, estate: Path) -> None:
    status, body = server.get("api/zones/photo_geo/status")
    assert status == 200, body
    colours = body["colours"]
    assert colours[LAT] == "protected" and colours[GEO] == "needs_review"
    assert colours[CELL] == "violation"  # the config gives features.photo_geo an advertising use
    status, queue = server.get("api/zones/photo_geo/queue")
    assert status == 200 and GEO in {c["asset"] for c in queue["candidates"]}
    status, out = server.post(
        "api/zones/photo_geo/review",
        {"action": "exclude", "assets": [GEO], "reason": "rounded", "downstream": True},
    )
    assert status == 200, out
    assert {d["asset"] for d in out["applied"]} == {GEO, CELL}
    review = load_review(estate / "zones" / "photo_geo.review.yaml", "photo_geo")
    assert review.decisions[GEO].by == "alice" and review.decisions[GEO].reason == "rounded"
    status, body = server.get("api/zones/photo_geo/status")
    assert body["colours"][GEO] == "excluded" and body["colours"][CELL] == "excluded"
    status, queue = server.get("api/zones/photo_geo/queue")
    assert GEO not in {c["asset"] for c in queue["candidates"]}
    # the CLI reads what the page wrote
    cli = subprocess.run(
        [
            sys.executable,
            "-c",
            "from flowscope.cli import main; main()",
            "zone",
            "status",
            "photo_geo",
            "--all",
            "--json",
        ],
        cwd=estate,
        capture_output=True,
        text=True,
        env=_env(estate),
        timeout=120,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    states = {a["asset"]: a["status"] for a in json.loads(cli.stdout)["assets"]}
    assert states[GEO] == "excluded"
    status, out = server.post("api/zones/photo_geo/review", {"action": "clear", "assets": [GEO, CELL]})
    assert status == 200 and set(out["cleared"]) == {GEO, CELL}


def _env(estate: Path) -> dict[str, str]:
    import os

    return {**os.environ, "FLOWSCOPE_CONFIG": str(estate / "flowscope.yaml")}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"action": "delete", "assets": [GEO]}, "action"),
        ({"action": "exclude", "assets": []}, "assets"),
        ({"action": "exclude", "assets": [GEO]}, "reason"),
        ({"action": "exclude", "assets": ["nope.nope"], "reason": "x"}, "nope"),
        ({"action": "exclude", "assets": [GEO], "reason": "x", "downstream": "yes"}, "downstream"),
        ([1, 2], "object"),
    ],
)
def test_bad_reviews_are_refused_and_write_nothing(
    server: Server, estate: Path, body: Any, words: str
) -> None:
    before = (
        (estate / "zones" / "photo_geo.review.yaml").read_bytes()
        if (estate / "zones" / "photo_geo.review.yaml").exists()
        else b""
    )
    status, out = server.post("api/zones/photo_geo/review", body)
    assert 400 <= status < 500 and words in out["error"], out
    after = (
        (estate / "zones" / "photo_geo.review.yaml").read_bytes()
        if (estate / "zones" / "photo_geo.review.yaml").exists()
        else b""
    )
    assert after == before


def test_writes_need_json_and_same_origin_on_loopback(server: Server) -> None:
    body = json.dumps({"action": "clear", "assets": [GEO]}).encode()
    status, out = request(
        server.url + "api/zones/photo_geo/review", data=body, headers={"Content-Type": "text/plain"}
    )
    assert status == 400 and "application/json" in out["error"]
    status, out = server.post(
        "api/zones/photo_geo/review", {"action": "clear", "assets": [GEO]}, {"Origin": "http://evil.example"}
    )
    assert status == 403 and "cross-origin" in out["error"]
    status, out = server.post("api/zones/photo_geo/review", b"{not json")
    assert status == 400 and "JSON" in out["error"]


def test_a_foreign_host_header_is_refused(server: Server) -> None:
    status, out = server.get("api/info", {"Host": "attacker.example:8321"})
    assert status == 400 and "Host" in out["error"]
