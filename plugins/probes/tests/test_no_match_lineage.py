"""NO_MATCH is not column lineage (issue 21, item 5): pairs that met in a request but never matched stay in
flowscope's own facet, at the dataset level, and never appear in the standard ``columnLineage`` facet."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, request

import flowscope_probes
from flowscope_probes import plugin


def signup_app(db: Path) -> Flask:
    app = Flask("signup")

    @app.route("/signup", methods=["POST"])
    def signup() -> dict[str, bool]:
        body = request.get_json()
        conn = sqlite3.connect(db)
        with conn:  # name and city are stored; email, phone and referrer never are
            conn.execute("INSERT INTO users (name, city) VALUES (?, ?)", (body["name"], body["city"]))
        conn.close()
        return {"ok": True}

    return app


def test_no_match_pairs_are_never_column_lineage(
    probes: Callable[..., Any],
    tmp_path: Path,
    plugin_manager: Callable[..., Any],
    run_cli: Callable[..., Any],
    assert_valid_event: Callable[[dict[str, Any]], None],
) -> None:
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE users (name TEXT, city TEXT)")
    probes(service="signup", http_host="signup.internal", spool=tmp_path / "spool")
    client = signup_app(db).test_client()
    for i in range(20):
        body = {
            "name": f"Person Number{i:04d}",
            "city": f"Springfield-{i:05d}",
            "email": f"person{i:04d}@example.org",
            "phone": f"+44 7700 9{i:05d}",
        }
        assert client.post("/signup", json=body).status_code == 200
    flowscope_probes.uninstall()
    cfg = tmp_path / "flowscope.yaml"
    cfg.write_text("plugins:\n  probes:\n    spool: spool\n")
    result = run_cli(
        plugin_manager(("probes", plugin)), "scan", "--config", str(cfg), "-o", str(tmp_path / "events.jsonl")
    )
    assert result.exit_code == 0, result.output
    column_lineage: set[tuple[str, str]] = set()  # (input field, output field)
    review: list[dict[str, Any]] = []
    for line in (tmp_path / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        assert_valid_event(event)
        for out in event.get("outputs", []):
            facets = out.get("facets", {})
            for name, fields in facets.get("columnLineage", {}).get("fields", {}).items():
                column_lineage.update((i["field"], name) for i in fields["inputFields"])
            assert facets.get("columnLineage", {}).get("dataset", []) == []
            edges = facets.get("flowscope", {}).get("edges", [])
            review += [e for e in edges if {k["match"] for k in e["kinds"]} == {"NO_MATCH"}]
    assert column_lineage == {("name", "name"), ("city", "city")}
    assert review, "the NO_MATCH pairs are kept for review in flowscope's facet"
    assert {e["input"]["field"] for e in review} == {"email", "phone", "name", "city"}
    assert all(e.get("outputField") is None for e in review)  # the sink dataset, not a column
