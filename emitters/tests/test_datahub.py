"""OpenLineage events to DataHub proposals, with real acryl-datahub code (the ``datahub`` extra).

Skipped when acryl-datahub is not installed. DataHub Lite round trips are not here yet: Lite (its SQLite
backend ships with acryl-datahub) accepts whole aspects only, not the PATCH proposals flowscope writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import RunEvent

from flowscope.events import event_to_dict

pytest.importorskip(
    "datahub", reason="acryl-datahub not installed: pip install 'flowscope-emitters[datahub]'"
)

from flowscope_emitters.datahub_convert import convert_all, dataset_urn, write_file

USERS = "urn:li:dataset:(urn:li:dataPlatform:postgres,db.internal_5432.shop.public.users,PROD)"
EMAILS = "urn:li:dataset:(urn:li:dataPlatform:postgres,db.internal_5432.shop.public.emails,PROD)"


def with_tags(events: list[RunEvent]) -> list[dict[str, Any]]:
    dicts = [event_to_dict(e) for e in events]
    out = next(e for e in dicts if e.get("outputs"))["outputs"][0]
    out["facets"]["tags"] = {
        "_producer": "x",
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/TagsDatasetFacet.json",
        "tags": [
            {"key": "zone", "value": "emails", "source": "flowscope"},
            {"key": "pii", "value": "true", "source": "flowscope", "field": "email_hash"},
        ],
    }
    return dicts


def patches(mcps: list[Any], urn: str, aspect: str) -> list[dict[str, Any]]:
    found = [m for m in mcps if m.entityUrn == urn and m.aspectName == aspect]
    assert all(m.changeType == "PATCH" for m in found), "lineage and tags must be patches"
    values = [json.loads(m.aspect.value) for m in found]
    return [op for v in values for op in (v["patch"] if isinstance(v, dict) else v)]


def test_urns_from_namespaces() -> None:
    assert dataset_urn("postgres://db.internal:5432", "shop.public.users") == USERS
    assert dataset_urn("hive://warehouse:9083", "a.b", env="DEV").endswith("warehouse_9083.a.b,DEV)")
    assert "dataPlatform:bigquery" in dataset_urn("bigquery", "p.d.t")


def test_events_become_patches_with_confidence_and_tags(events: list[RunEvent]) -> None:
    mcps = convert_all(with_tags(events))
    aspects = {(m.entityUrn.split(":")[2], m.aspectName) for m in mcps}
    assert {("dataJob", "dataJobInfo"), ("dataJob", "dataJobInputOutput")} <= aspects
    assert {
        ("dataset", "schemaMetadata"),
        ("dataset", "upstreamLineage"),
        ("dataset", "globalTags"),
    } <= aspects
    lineage = patches(mcps, EMAILS, "upstreamLineage")
    assert {"op": "add", "path": f"/upstreams/{USERS}"}.items() <= lineage[0].items()
    fine = [op["value"] for op in lineage if op["path"].startswith("/fineGrainedLineages/")]
    assert [f["confidenceScore"] for f in fine] == [0.95]
    [tag] = patches(mcps, EMAILS, "globalTags")
    assert tag["op"] == "add" and tag["value"] == {"tag": "urn:li:tag:zone:emails"}
    field_tags = patches(mcps, EMAILS, "editableSchemaMetadata")
    assert any("urn:li:tag:pii" in op["path"] and "email_hash" in op["path"] for op in field_tags)
    job_io = [m for m in mcps if m.aspectName == "dataJobInputOutput"]
    paths = [op["path"] for op in patches(job_io, job_io[0].entityUrn, "dataJobInputOutput")]
    assert f"/inputDatasetEdges/{USERS}" in paths and f"/outputDatasetEdges/{EMAILS}" in paths


def test_file_of_proposals_reads_back_through_datahub(events: list[RunEvent], tmp_path: Path) -> None:
    from datahub.ingestion.source.file import read_metadata_file

    mcps = convert_all(with_tags(events))
    path = tmp_path / "mcps.json"
    assert write_file(mcps, path) == len(mcps)
    back = list(read_metadata_file(path))
    assert [(m.entityUrn, m.aspectName, m.changeType) for m in back] == [
        (m.entityUrn, m.aspectName, m.changeType) for m in mcps
    ]


def test_cli_emit_to_a_datahub_file(
    events: list[RunEvent], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import flowscope_emitters.plugin
    from flowscope.cli import main
    from flowscope.plugins import make_manager
    from flowscope.store import Store

    with Store.open(tmp_path / "store") as s:
        s.replace("scan", "scope-1", [], [], with_tags(events))
    monkeypatch.setenv("FLOWSCOPE_STORE", str(tmp_path / "store"))
    monkeypatch.setattr(
        "flowscope.cli.make_manager",
        lambda: make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)]),
    )
    target = tmp_path / "mcps.json"
    with pytest.raises(SystemExit) as done:
        main(["emit", "--to", "datahub-file", str(target)])
    err = capsys.readouterr().err
    assert done.value.code == 0, err
    n = len(json.loads(target.read_text()))
    assert err.strip() == f"datahub-file {target}: {n} proposals from {len(events)} events"


def test_cli_unreachable_gms_is_one_line(
    events: list[RunEvent], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, dead_url: str
) -> None:
    import flowscope_emitters.plugin
    from flowscope.cli import main
    from flowscope.plugins import make_manager
    from flowscope.store import Store

    with Store.open(tmp_path / "store") as s:
        s.replace("scan", "scope-1", [], [], with_tags(events))
    monkeypatch.setenv("FLOWSCOPE_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("DATAHUB_GMS_TOKEN", "tok-s3cret")
    monkeypatch.setattr(
        "flowscope.cli.make_manager",
        lambda: make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)]),
    )
    with pytest.raises(SystemExit) as done:
        main(["emit", "--to", "datahub", dead_url, "--retries", "1", "--timeout", "1"])
    err = capsys.readouterr().err
    assert done.value.code == 1
    assert err.startswith(f"error: datahub {dead_url}: ") and len(err.strip().splitlines()) == 1
    assert "tok-s3cret" not in err
