"""The data-logs part of the photo-sharing example, as its README runs it: scan, discover the tables that
hold a user id, export the example requests, and open a package."""

from __future__ import annotations

import importlib.util
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowscope.plugins import make_manager

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "photo_sharing"


def test_discover_finds_the_reviewed_tables_and_the_export_delivers(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    pm = make_manager(load_entrypoints=True)
    store = str(tmp_path / "store")
    assert run_cli(pm, "--store", store, "scan", "--config", str(EXAMPLE / "flowscope.yaml")).exit_code == 0
    found = json.loads(
        run_cli(pm, "--store", store, "datalogs", "discover", "--owner", "users.id", "--json").stdout
    )
    proposed = {(t["name"], t["owner"]) for t in found["tables"]}
    assert proposed == {
        ("analytics.app_events", "user_id"),
        ("analytics.photo_uploads", "user_id"),
        ("analytics.friend_requests", "from_user_id"),
        ("analytics.friend_requests", "to_user_id"),
        ("analytics.account_settings", "user_id"),
    }
    catalog = EXAMPLE / "warehouse" / "datalogs" / "catalog.yaml"
    covered = json.loads(
        run_cli(
            pm,
            "--store",
            store,
            "datalogs",
            "discover",
            "--owner",
            "users.id",
            "--catalog",
            str(catalog),
            "--json",
        ).stdout
    )
    assert covered["tables"] == [] and covered["already_in_catalog"] == 5  # the catalog reviews every one

    spec = importlib.util.spec_from_file_location("make_data", EXAMPLE / "warehouse" / "make_data.py")
    assert spec is not None and spec.loader is not None
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    make_data.generate(tmp_path / "data")
    shutil.copytree(EXAMPLE / "warehouse" / "datalogs", tmp_path / "datalogs")
    result = run_cli(
        pm, "--store", store, "datalogs", "run", "--catalog", str(tmp_path / "datalogs" / "catalog.yaml"),
        "--requests", str(tmp_path / "datalogs" / "requests.jsonl"), "--delivery", str(tmp_path / "delivery"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [index] = (tmp_path / "delivery").glob("batch-*.jsonl")
    first = json.loads(index.read_text().splitlines()[0])
    with zipfile.ZipFile(tmp_path / "delivery" / first["package"]) as z:
        page = z.read("index.html").decode()
        assert "Friend requests you received" in page and "Your privacy settings" in page
    # the export is in the graph: where did the photos' captions go?
    down = json.loads(
        run_cli(pm, "--store", store, "lineage", "downstream", "photos.caption", "--json").stdout
    )
    reached = {(r["namespace"], r["name"]) for r in down["reached"]}
    assert ("file", str((tmp_path / "delivery").resolve())) in reached
