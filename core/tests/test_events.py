"""Edges -> OpenLineage events, checked as data against the official 2-0-2 JSON Schemas."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flowscope.contracts import Problem
from flowscope.events import (
    PRODUCER,
    SCAN_JOB_NAME,
    _job_event,
    build_events,
    event_to_dict,
    scan_run_id,
    write_jsonl,
)
from flowscope.facets import FACET_NAME, SCHEMA_ID, SCHEMA_URL, load_schema
from flowscope.model import (
    IDENTITY,
    Asset,
    AssetInfo,
    Basis,
    Edge,
    Evidence,
    Job,
    SourceLocation,
    Transformation,
)
from flowscope.specs import validate_event

PG = "postgres://db.internal:5432"
USERS = Asset(PG, "shop.public.users")
EMAILS = Asset(PG, "shop.public.emails")
LOG = Asset("log://scribe", "signup_events")
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def spec(ol_spec: Path) -> Path:
    """The official schemas, from flowscope.testing (skips with a reason when absent)."""
    return ol_spec


def edges() -> list[Edge]:
    sql_job = Job(PG, "etl.emails_daily", job_type="QUERY", sql="INSERT INTO emails SELECT md5(email), ...")
    handler = Job(
        "service://signup",
        "signup.handlers.create_user",
        job_type="FUNCTION",
        processing_type="STREAMING",
        source=SourceLocation(
            "src/signup/handlers.py",
            type="git",
            repo_url="https://git.example.com/signup.git",
            version="abc123",
        ),
    )
    report = Job(PG, "reports.user_counts", job_type="QUERY", sql="SELECT country, count(*) FROM users")
    sql_ev = Evidence("sql", "statement", "queries/emails.sql:3", "md5(email)", (("dialect", "postgres"),))
    return [
        Edge(
            job=sql_job,
            source=USERS.with_field("email"),
            target=EMAILS.with_field("email_hash"),
            confidence=0.95,
            bases={Basis("sql")},
            transformations={
                Transformation("DIRECT", "TRANSFORMATION", masking=True, description="md5(email)")
            },
            evidence=[sql_ev],
            collectors={"sql"},
            count=1,
        ),
        Edge(
            job=sql_job,
            source=USERS.with_field("id"),
            target=EMAILS.with_field("user_id"),
            confidence=0.95,
            bases={Basis("sql")},
            transformations={Transformation()},
            evidence=[sql_ev],
            collectors={"sql"},
            count=1,
        ),
        Edge(  # dataset-level: the WHERE clause shapes every output row
            job=sql_job,
            source=USERS.with_field("deleted"),
            target=EMAILS,
            confidence=0.9,
            bases={Basis("sql")},
            transformations={Transformation("INDIRECT", "FILTER")},
            collectors={"sql"},
            count=1,
        ),
        Edge(  # static flow into a log category, confirmed at runtime
            job=handler,
            source=USERS.with_field("email"),
            target=LOG.with_field("payload.email"),
            confidence=0.8,
            bases={Basis("static"), Basis("runtime", "EXACT_MATCH")},
            transformations={Transformation()},
            evidence=[
                Evidence("hack_static", "source", "src/signup/handlers.py:42", "log(user.email)"),
                Evidence("probes", "trace", "trace:9f2c", detail=(("match", "EXACT_MATCH"),)),
            ],
            collectors={"hack_static", "probes"},
            guards={"flag:signup_logging"},
            count=17,
            first_seen=datetime(2024, 4, 1),
            last_seen=T0,
        ),
        Edge(  # a DIRECT flow into a field-less target: flowscope facet only, no column lineage
            job=handler,
            source=USERS.with_field("name"),
            target=LOG,
            confidence=0.4,
            bases={Basis("static")},
            transformations={Transformation()},
            collectors={"hack_static"},
            count=1,
        ),
        Edge(  # pure read: no target
            job=report,
            source=USERS.with_field("country"),
            target=None,
            confidence=0.95,
            bases={Basis("sql")},
            transformations={Transformation("INDIRECT", "GROUP_BY")},
            collectors={"sql"},
            count=1,
        ),
    ]


def assets() -> dict[Asset, AssetInfo]:
    return {
        USERS: AssetInfo(
            USERS, (("id", "bigint"), ("email", "text"), ("name", "text")), ("owner=growth",), "Users"
        ),
        USERS.with_field("email"): AssetInfo(
            USERS.with_field("email"), (), ("pii", "zone:signup"), "login email"
        ),
        EMAILS.with_field("email_hash"): AssetInfo(
            EMAILS.with_field("email_hash"), (("email_hash", "char(32)"),)
        ),
    }


def build(**kw: Any) -> list[dict[str, Any]]:
    args: dict[str, Any] = {
        "scan_id": "scan-1",
        "event_time": T0,
        "problems": [Problem("sql", "cannot parse statement", "queries/broken.sql", 7)],
        "failed_collectors": {"probes": "ConnectionError: probe endpoint down"},
        "collectors": ["sql", "hack_static", "probes"],
    }
    args.update(kw)
    return [event_to_dict(ev) for ev in build_events(edges(), assets(), **args)]


def by_job(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {ev["job"]["name"]: ev for ev in events}


def dataset(ev: dict[str, Any], side: str, name: str) -> dict[str, Any]:
    found = [d for d in ev[side] if d["name"] == name]
    assert len(found) == 1, f"{name} not once in {side}"
    return found[0]


def test_every_event_validates_against_the_openlineage_spec(spec: Path) -> None:
    events = build()
    assert len(events) == 4
    for ev in events:
        assert validate_event(ev, spec) == [], ev["job"]["name"]


def test_one_complete_event_per_job_and_a_scan_event_first() -> None:
    events = build()
    assert [ev["job"]["name"] for ev in events] == [
        SCAN_JOB_NAME,
        "etl.emails_daily",
        "reports.user_counts",
        "signup.handlers.create_user",
    ]
    assert {ev["eventType"] for ev in events} == {"COMPLETE"}
    assert {ev["eventTime"] for ev in events} == {"2024-05-01T12:00:00+00:00"}
    for ev in events[1:]:
        parent = ev["run"]["facets"]["parent"]
        assert parent["run"]["runId"] == events[0]["run"]["runId"]
        assert parent["job"] == {"namespace": "flowscope", "name": SCAN_JOB_NAME, "facets": {}}


def test_scan_event_reports_failed_collectors_and_problems() -> None:
    scan = build()[0]
    facet = scan["run"]["facets"]["extractionError"]
    assert facet["totalTasks"] == 3
    assert facet["failedTasks"] == 1
    assert facet["errors"] == [
        {"errorMessage": "ConnectionError: probe endpoint down", "task": "probes", "taskNumber": 2},
        {"errorMessage": "cannot parse statement", "task": "sql:queries/broken.sql:7", "taskNumber": 0},
    ]
    assert scan["job"]["facets"]["jobType"]["integration"] == "FLOWSCOPE"
    assert scan["inputs"] == [] and scan["outputs"] == []


def test_job_facets() -> None:
    jobs = by_job(build())
    sql = jobs["etl.emails_daily"]["job"]["facets"]
    assert sql["jobType"]["integration"] == "FLOWSCOPE"
    assert (sql["jobType"]["jobType"], sql["jobType"]["processingType"]) == ("QUERY", "BATCH")
    assert sql["sql"]["query"].startswith("INSERT INTO emails")
    assert "sourceCodeLocation" not in sql

    static = jobs["signup.handlers.create_user"]["job"]["facets"]
    assert static["jobType"]["processingType"] == "STREAMING"
    assert "sql" not in static
    loc = static["sourceCodeLocation"]
    assert loc["type"] == "git" and loc["path"] == "src/signup/handlers.py" and loc["version"] == "abc123"
    assert loc["url"] == "file:src/signup/handlers.py"
    assert loc["repoUrl"] == "https://git.example.com/signup.git"


def test_inputs_outputs_and_schema_facets() -> None:
    ev = by_job(build())["etl.emails_daily"]
    assert [(d["namespace"], d["name"]) for d in ev["inputs"]] == [(PG, USERS.name)]
    assert [(d["namespace"], d["name"]) for d in ev["outputs"]] == [(PG, EMAILS.name)]
    users = dataset(ev, "inputs", USERS.name)["facets"]
    # Known fields with their types first, then every field the edges use (Marquez keeps lineage only for these).
    fields = [(f["name"], f.get("type")) for f in users["schema"]["fields"]]
    assert fields == [("id", "bigint"), ("email", "text"), ("name", "text"), ("deleted", None)]
    assert users["schema"]["fields"][1]["description"] == "login email"
    assert users["documentation"]["description"] == "Users"
    out = dataset(ev, "outputs", EMAILS.name)["facets"]
    assert [(f["name"], f.get("type")) for f in out["schema"]["fields"]] == [
        ("email_hash", "char(32)"),
        ("user_id", None),
    ]


def test_column_lineage_with_transformations_and_dataset_level_edges() -> None:
    ev = by_job(build())["etl.emails_daily"]
    lineage = dataset(ev, "outputs", EMAILS.name)["facets"]["columnLineage"]
    assert lineage["fields"]["email_hash"]["inputFields"] == [
        {
            "namespace": PG,
            "name": USERS.name,
            "field": "email",
            "transformations": [
                {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "md5(email)", "masking": True}
            ],
        }
    ]
    identity = lineage["fields"]["user_id"]["inputFields"][0]["transformations"]
    assert identity == [{"type": "DIRECT", "subtype": "IDENTITY", "masking": False}]
    assert lineage["dataset"] == [
        {
            "namespace": PG,
            "name": USERS.name,
            "field": "deleted",
            "transformations": [{"type": "INDIRECT", "subtype": "FILTER", "masking": False}],
        }
    ]


def test_direct_flow_into_fieldless_target_is_in_flowscope_facet_only() -> None:
    ev = by_job(build())["signup.handlers.create_user"]
    log = dataset(ev, "outputs", LOG.name)["facets"]
    assert list(log["columnLineage"]["fields"]) == ["payload.email"]
    assert log["columnLineage"]["dataset"] == []
    inputs = [(e["input"].get("field"), e.get("outputField")) for e in log[FACET_NAME]["edges"]]
    assert inputs == [("email", "payload.email"), ("name", None)]


def test_field_and_dataset_tags() -> None:
    ev = by_job(build())["etl.emails_daily"]
    tags = dataset(ev, "inputs", USERS.name)["facets"]["tags"]["tags"]
    assert tags == [
        {"key": "owner", "value": "growth", "source": "FLOWSCOPE"},
        {"key": "pii", "value": "true", "source": "FLOWSCOPE", "field": "email"},
        {"key": "zone", "value": "signup", "source": "FLOWSCOPE", "field": "email"},
    ]
    assert "tags" not in dataset(ev, "outputs", EMAILS.name)["facets"]


def test_flowscope_facet_carries_confidence_kinds_and_evidence() -> None:
    ev = by_job(build())["signup.handlers.create_user"]
    facet = dataset(ev, "outputs", LOG.name)["facets"][FACET_NAME]
    assert facet["_schemaURL"] == SCHEMA_URL
    entry = facet["edges"][0]
    assert entry == {
        "input": {"namespace": PG, "name": USERS.name, "field": "email"},
        "outputField": "payload.email",
        "confidence": 0.8,
        "kinds": [{"kind": "runtime", "match": "EXACT_MATCH"}, {"kind": "static"}],
        "transformations": [{"type": "DIRECT", "subtype": "IDENTITY", "masking": False}],
        "count": 17,
        "firstSeen": "2024-04-01T00:00:00+00:00",
        "lastSeen": "2024-05-01T12:00:00+00:00",
        "guards": ["flag:signup_logging"],
        "collectors": ["hack_static", "probes"],
        "evidence": [
            {
                "collector": "hack_static",
                "kind": "source",
                "location": "src/signup/handlers.py:42",
                "snippet": "log(user.email)",
            },
            {
                "collector": "probes",
                "kind": "trace",
                "location": "trace:9f2c",
                "detail": {"match": "EXACT_MATCH"},
            },
        ],
    }
    # Inputs carry no flowscope facet unless the job only reads them.
    assert FACET_NAME not in dataset(ev, "inputs", USERS.name)["facets"]


def test_pure_read_puts_the_flowscope_facet_on_the_input() -> None:
    ev = by_job(build())["reports.user_counts"]
    assert ev["outputs"] == []
    users = dataset(ev, "inputs", USERS.name)["facets"]
    assert [e["input"]["field"] for e in users[FACET_NAME]["edges"]] == ["country"]
    assert "outputField" not in users[FACET_NAME]["edges"][0]
    assert "country" in [f["name"] for f in users["schema"]["fields"]]


def test_run_ids_are_deterministic_valid_uuids() -> None:
    first = build()
    again = build(
        scan_id="scan-2", event_time=datetime(2030, 1, 1, tzinfo=UTC), problems=(), failed_collectors={}
    )
    for a, b in zip(first[1:], again[1:], strict=True):
        assert a["run"]["runId"] == b["run"]["runId"]
        assert uuid.UUID(a["run"]["runId"]).version == 5
    assert first[0]["run"]["runId"] != again[0]["run"]["runId"]
    assert first[0]["run"]["runId"] == scan_run_id("scan-1")
    ids = [ev["run"]["runId"] for ev in first]
    assert len(set(ids)) == len(ids)


def test_run_id_changes_when_the_job_content_changes() -> None:
    changed = edges()
    changed[0].confidence = 0.5
    before = by_job(build())
    after = by_job(
        [event_to_dict(e) for e in build_events(changed, assets(), scan_id="scan-1", event_time=T0)]
    )
    assert before["etl.emails_daily"]["run"]["runId"] != after["etl.emails_daily"]["run"]["runId"]
    assert before["reports.user_counts"]["run"]["runId"] == after["reports.user_counts"]["run"]["runId"]


def test_a_uuid_scan_id_is_the_scan_run_id() -> None:
    sid = "01890a5d-ac96-774b-bcce-b302099a8057"
    assert build(scan_id=sid)[0]["run"]["runId"] == sid


def test_naive_event_time_is_utc_and_producer_is_used_everywhere(spec: Path) -> None:
    events = build(event_time=datetime(2024, 5, 1, 12, 0), producer="https://example.com/flowscope-fork/9")
    assert events[0]["eventTime"] == "2024-05-01T12:00:00+00:00"
    text = json.dumps(events)
    assert "flowscope.dev/flowscope/" not in text
    assert all(validate_event(ev, spec) == [] for ev in events)


def test_write_jsonl_writes_one_event_per_line(tmp_path: Path) -> None:
    events = build_events(edges(), assets(), scan_id="scan-1", event_time=T0)
    out = tmp_path / "out" / "events.jsonl"
    assert write_jsonl(events, out) == len(events)
    lines = out.read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [event_to_dict(ev) for ev in events]


def test_no_edges_gives_only_the_scan_event(spec: Path) -> None:
    events = [event_to_dict(e) for e in build_events([], {}, scan_id="empty", event_time=T0)]
    assert len(events) == 1
    assert events[0]["run"]["facets"]["extractionError"] == {
        "_producer": events[0]["producer"],
        "_schemaURL": events[0]["run"]["facets"]["extractionError"]["_schemaURL"],
        "totalTasks": 0,
        "failedTasks": 0,
        "errors": [],
    }
    assert validate_event(events[0], spec) == []


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda ev: ev.update(eventType="FINISHED"), "eventType: 'FINISHED' is not one of"),
        (lambda ev: ev["run"].update(runId="run-1"), "run/runId: 'run-1' is not a 'uuid'"),
        (lambda ev: ev.update(eventTime="yesterday"), "eventTime: 'yesterday' is not a 'date-time'"),
        (lambda ev: ev["job"]["facets"]["sql"].pop("_producer"), "job/facets/sql: '_producer' is a required"),
        (
            lambda ev: ev["job"]["facets"]["sql"].pop("query"),
            "job/facets/sql: 'query' is a required property",
        ),
        (
            lambda ev: ev["outputs"][0]["facets"]["columnLineage"]["fields"]["email_hash"]["inputFields"][
                0
            ].pop("field"),
            "outputs/0/facets/columnLineage/fields/email_hash/inputFields/0: 'field' is a required property",
        ),
        (
            lambda ev: ev["outputs"][0]["facets"][FACET_NAME]["edges"][0].update(confidence=1.5),
            "outputs/0/facets/flowscope/edges/0/confidence: 1.5 is greater than the maximum of 1",
        ),
        (
            lambda ev: ev["outputs"][0]["facets"][FACET_NAME]["edges"][0]["kinds"][0].update(kind="guess"),
            "outputs/0/facets/flowscope/edges/0/kinds/0/kind: 'guess' is not one of",
        ),
    ],
)
def test_broken_events_are_reported_invalid(spec: Path, break_it: Any, expected: str) -> None:
    ev = by_job(build())["etl.emails_daily"]
    break_it(ev)
    errors = validate_event(ev, spec)
    assert any(e.startswith(expected) for e in errors), errors


def test_facet_schema_ships_in_the_package_and_is_a_valid_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = load_schema()
    assert schema["$id"] == SCHEMA_ID
    assert SCHEMA_URL.startswith(SCHEMA_ID + "#/$defs/")
    assert list(schema["properties"]) == [FACET_NAME]
    jsonschema.Draft202012Validator.check_schema(schema)


def test_a_runtime_no_match_is_never_column_lineage() -> None:
    """A pair that met in a request and never matched is for review (flowscope facet), not a column claim,
    even when a collector hands it over field to field."""
    handler = Job("service://signup", "signup.handlers.create_user")
    review = Edge(
        job=handler,
        source=USERS.with_field("email"),
        target=EMAILS.with_field("user_id"),
        confidence=0.15,
        bases={Basis("runtime", "NO_MATCH")},
        transformations={Transformation()},
        collectors={"probes"},
        count=5,
    )
    confirmed = Edge(
        job=handler,
        source=USERS.with_field("id"),
        target=EMAILS.with_field("user_id"),
        confidence=0.9,
        bases={Basis("runtime", "EXACT_MATCH"), Basis("runtime", "NO_MATCH")},
        transformations={Transformation()},
        collectors={"probes"},
        count=5,
    )
    (_, ev) = [event_to_dict(e) for e in build_events([review, confirmed], {}, scan_id="s", event_time=T0)]
    out = dataset(ev, "outputs", EMAILS.name)["facets"]
    inputs = out["columnLineage"]["fields"]["user_id"]["inputFields"]
    assert [i["field"] for i in inputs] == ["id"]
    assert {e["input"]["field"] for e in out[FACET_NAME]["edges"]} == {"email", "id"}


class _CountingEdges(list[Edge]):
    """A job's edges that count how often the whole list is walked."""

    walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.walks += 1
        return super().__iter__()


def _one_job_edges(outputs: int) -> _CountingEdges:
    job = Job("service://bench", "j0")
    return _CountingEdges(
        Edge(
            job=job,
            source=Asset("postgres://db:5432", f"app.t{i}", "email"),
            target=Asset("log://scribe", f"cat{i}", "email"),
            confidence=0.95,
            bases={Basis("declared")},
            transformations={IDENTITY},
            evidence=[Evidence("declared", "declared", f"flows.yaml:{i}", "")],
            collectors={"declared"},
            count=1,
        )
        for i in range(outputs)
    )


def test_a_job_is_built_in_a_constant_number_of_walks_over_its_edges() -> None:
    # Issue 14, item 8: each input and output dataset used to rescan every edge of its job, so one job
    # of 8,000 flows took 180 s. The job's edges are now indexed once: the number of walks over them
    # does not grow with the number of datasets.
    walks = []
    for outputs in (10, 200):
        edges = _one_job_edges(outputs)
        event = _job_event(edges, {}, ("ns", str(uuid.uuid4())), "2026-01-01T00:00:00+00:00", PRODUCER)
        assert len(event.outputs) == outputs and len(event.inputs) == outputs
        walks.append(edges.walks)
    assert walks[0] == walks[1] <= 3
