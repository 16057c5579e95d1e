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

from flowscope_emitters.datahub_convert import convert, convert_all, dataset_urn, write_file
from flowscope_emitters.datahub_items import build, build_with_builders
from flowscope_emitters.datahub_names import Naming, Rule

# As DataHub's Postgres connector and make_dataset_urn name them: no host, the table's own name.
USERS = "urn:li:dataset:(urn:li:dataPlatform:postgres,shop.public.users,PROD)"
EMAILS = "urn:li:dataset:(urn:li:dataPlatform:postgres,shop.public.emails,PROD)"


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
    from datahub.emitter.mce_builder import make_dataset_urn

    assert dataset_urn("postgres://db.internal:5432", "shop.public.users") == USERS
    # DataHub's own Hive, MySQL, Kafka and Trino connectors name these tables the same way.
    assert dataset_urn("hive://warehouse:9083", "analytics.photo_events") == make_dataset_urn(
        "hive", "analytics.photo_events"
    )
    assert dataset_urn("mysql://appdb:3306", "photos_app.photos") == make_dataset_urn(
        "mysql", "photos_app.photos"
    )
    assert dataset_urn("kafka://b1:9092,b2:9092", "clicks") == make_dataset_urn("kafka", "clicks")
    assert dataset_urn("trino://t:8080", "hive.a.b") == make_dataset_urn("trino", "hive.a.b")
    assert dataset_urn("s3://lake", "raw/photos") == make_dataset_urn("s3", "lake/raw/photos")
    assert "dataPlatform:bigquery" in dataset_urn("bigquery", "p.d.t")
    assert dataset_urn("sqlserver://db:1433", "a.dbo.t") == make_dataset_urn("mssql", "a.dbo.t")
    # flowscope's own kinds: a platform each, the system as the platform instance
    assert (
        dataset_urn("log://scribe", "photo_uploads")
        == "urn:li:dataset:(urn:li:dataPlatform:log,scribe.photo_uploads,PROD)"
    )
    assert (
        dataset_urn("log://default", "photo_uploads")
        == "urn:li:dataset:(urn:li:dataPlatform:log,photo_uploads,PROD)"
    )


def test_the_namespace_mapping_is_configurable() -> None:
    naming = Naming(
        env="DEV",
        rules={
            "postgres://db.internal:5432": Rule(platform_instance="shop_pg", drop_prefix="shop."),
            "trino://t:8080": Rule(platform="presto", env="PROD", lowercase=True),
        },
    )
    assert dataset_urn("postgres://db.internal:5432", "shop.public.users", naming) == (
        "urn:li:dataset:(urn:li:dataPlatform:postgres,shop_pg.public.users,DEV)"
    )
    assert dataset_urn("trino://t:8080", "Hive.A.B", naming) == (
        "urn:li:dataset:(urn:li:dataPlatform:presto,hive.a.b,PROD)"
    )
    assert dataset_urn("hive://h:9083", "a.b", naming) == "urn:li:dataset:(urn:li:dataPlatform:hive,a.b,DEV)"


def test_events_become_patches_with_confidence_and_tags(events: list[RunEvent]) -> None:
    mcps = convert_all(with_tags(events)).mcps()
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

    mcps = convert_all(with_tags(events)).mcps()
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
    assert (
        err.strip()
        == f"datahub-file {target}: {n} proposals for the datahub-rest sink from {len(events)} events"
    )


@pytest.fixture
def cli_store(events: list[RunEvent], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import flowscope_emitters.plugin
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
    return tmp_path / "store"


def run(capsys: Any, *args: str) -> tuple[int, str]:
    from flowscope.cli import main

    with pytest.raises(SystemExit) as done:
        main(list(args))
    code = done.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


def sent_proposals(server: Any) -> list[tuple[str, str, str]]:
    return [
        (p["entityUrn"], p["aspectName"], p["changeType"])
        for r in server.requests
        for p in r["body"]["proposals"]
    ]


def test_cli_emit_to_gms(cli_store: Path, events: list[RunEvent], server: Any, capsys: Any) -> None:
    code, err = run(capsys, "emit", "--to", "datahub", server.url)
    assert code == 0, err
    assert err.strip() == f"datahub {server.url}: {len(events) - 1} sent"  # the scan event has no datasets
    assert {r["path"] for r in server.requests} == {"/aspects?action=ingestProposalBatch"}
    assert {r["headers"]["Authorization"] for r in server.requests} == {"Bearer tok-s3cret"}
    mcps = [m for e in with_tags(events) for m in convert(e)]
    assert sent_proposals(server) == [(m.entityUrn, m.aspectName, m.changeType) for m in mcps]


def test_dead_gms_spools_and_replay_resends(
    cli_store: Path, events: list[RunEvent], capsys: Any, dead_url: str, server: Any
) -> None:
    code, err = run(capsys, "emit", "--to", "datahub", dead_url, "--retries", "2", "--backoff", "0.01")
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0] == f"datahub {dead_url}: 0 sent"  # the scan event has no datasets: not sent
    assert (
        lines[1]
        == f"error: datahub {dead_url}: cannot reach GMS: connection refused (gave up after 2 attempts)"
    )
    assert lines[2].startswith(f"{len(events) - 1} event(s) kept in {cli_store / 'spool'}")
    assert "tok-s3cret" not in err and "Traceback" not in err
    # GMS is back (at another address here: the spool records where each event was going).
    [spool_file] = (cli_store / "spool").glob("datahub-*.jsonl")
    records = [json.loads(x) for x in spool_file.read_text().splitlines()]
    assert {r["to"] for r in records} == {"datahub"}
    spool_file.write_text("".join(json.dumps({**r, "target": server.url}) + "\n" for r in records))
    code, err = run(capsys, "emit", "--replay")
    assert code == 0, err
    assert f"datahub {server.url}: {len(events) - 1} sent" in err
    assert sent_proposals(server) == [
        (m.entityUrn, m.aspectName, m.changeType) for e in with_tags(events) for m in convert(e)
    ]
    assert list((cli_store / "spool").glob("*.jsonl*")) == []


@pytest.mark.parametrize("status", [401, 403])
def test_gms_auth_failure_names_the_target_and_stops(
    cli_store: Path, events: list[RunEvent], capsys: Any, server: Any, status: int
) -> None:
    server.status = status
    code, err = run(capsys, "emit", "--to", "datahub", server.url, "--retries", "3", "--backoff", "0.01")
    assert code == 1
    reason = "Unauthorized" if status == 401 else "Forbidden"
    assert f"error: datahub {server.url} answered HTTP {status} {reason} (check $DATAHUB_GMS_TOKEN)" in err
    assert len(server.requests) == 1, "refused credentials are not retried"
    assert "tok-s3cret" not in err


def test_gms_rejecting_one_event_names_it(
    cli_store: Path, events: list[RunEvent], capsys: Any, server: Any
) -> None:
    server.script = [422]
    code, err = run(capsys, "emit", "--to", "datahub", server.url)
    assert code == 1
    job_event = next(e for e in with_tags(events) if e.get("outputs"))
    assert f"error: event {job_event['run']['runId']} rejected: datahub {server.url} answered HTTP 422" in err
    assert (cli_store / "spool" / "rejected.jsonl").is_file()


def test_fast_proposals_equal_the_patch_builders(
    example_events: list[dict[str, Any]], events: list[RunEvent]
) -> None:
    odd = with_tags(events)  # plus names that need JSON Pointer quoting and a tag on such a field
    job_event = next(e for e in odd if e.get("outputs"))
    out = job_event["outputs"][0]
    out["facets"]["schema"]["fields"].append({"name": "a/b~c", "type": "string"})
    out["facets"]["tags"]["tags"].append({"key": "pii", "value": "true", "source": "x", "field": "a/b~c"})
    cases = [*example_events, *odd]
    datasets = [d for e in example_events for d in (e.get("inputs") or []) + (e.get("outputs") or [])]
    assert any((d.get("facets") or {}).get("tags") for d in datasets), "the example has tags"
    per_event = [[i for i in convert_all([e]).items if i[0] != "description"] for e in cases]
    fast = [m.to_obj() for items in per_event for m in build(items)]
    slow = [m.to_obj() for items in per_event for m in build_with_builders(items)]
    assert len(fast) == len(slow) and sum(len(items) for items in per_event) > 50  # operations compared
    assert fast == slow


URN_CASES = [
    ("postgres://db.internal:5432", "shop.public.users"),
    ("hive://warehouse:9083", "a.b"),
    ("bigquery", "p.d.t"),
    ("https://www.photoshare.example", "/api/v1/photos/upload"),
    ("file", "/data/events/dt=2024-05-01"),
    ("s3://bucket", "path/with,comma(and)parens"),
    ("kafka://broker:9092", "Topic.With.UPPER"),
    ("gs://b", "x\u241fy"),
    ("queue://async", "urn:li:weird"),
]


@pytest.mark.parametrize(("namespace", "name"), URN_CASES)
def test_urns_written_directly_equal_acryl_datahubs(namespace: str, name: str) -> None:
    from datahub.emitter.mce_builder import (
        make_data_flow_urn,
        make_data_job_urn_with_flow,
        make_dataset_urn_with_platform_instance,
    )

    from flowscope_emitters.datahub_convert import job_urn

    for env in ("PROD", "DEV"):
        naming = Naming(env=env)
        t = naming.target(namespace, name)
        want = make_dataset_urn_with_platform_instance(t.platform, t.name, t.instance, env)
        assert dataset_urn(namespace, name, naming) == want
    flow = make_data_flow_urn("flowscope", namespace.replace(":", "_").replace("/", "_"), "PROD")
    assert job_urn(namespace, name) == make_data_job_urn_with_flow(flow, name)
