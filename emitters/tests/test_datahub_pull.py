"""``flowscope datahub pull`` against a local server that plays DataHub GMS's GraphQL endpoint.

This is a contract test, not a test against DataHub (which cannot run here): the server parses and
validates every query flowscope sends, and executes it with graphql-core, against the part of DataHub's
GraphQL schema the reader uses (``SCHEMA`` below: the type, field and argument names of
``scrollAcrossLineage`` and its input and result types in DataHub's ``search.graphql`` and
``entity.graphql``). So answers have exactly the shape DataHub gives that query; malformed answers are
served raw.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import flowscope_emitters.plugin
from flowscope.cli import main
from flowscope.model import Asset
from flowscope.plugins import make_manager
from flowscope.store import Store
from flowscope_emitters.datahub_convert import dataset_urn
from flowscope_emitters.datahub_pull import to_asset

pytest.importorskip(
    "datahub", reason="acryl-datahub not installed: pip install 'flowscope-emitters[datahub]'"
)
graphql = pytest.importorskip("graphql", reason="the fake GMS runs queries with graphql-core")


SCHEMA = """
schema { query: Query }
scalar Long
type Query { scrollAcrossLineage(input: ScrollAcrossLineageInput!): ScrollAcrossLineageResults }
enum LineageDirection { UPSTREAM DOWNSTREAM }
enum EntityType { DATASET DATA_JOB DATA_FLOW SCHEMA_FIELD QUERY CORP_USER TAG }
enum FilterOperator { CONTAIN EQUAL IEQUAL IN EXISTS GREATER_THAN GREATER_THAN_OR_EQUAL_TO LESS_THAN
  LESS_THAN_OR_EQUAL_TO START_WITH END_WITH DESCENDANTS_INCL ANCESTORS_INCL RELATED_INCL }
input FacetFilterInput { field: String! values: [String!] negated: Boolean condition: FilterOperator }
input AndFilterInput { and: [FacetFilterInput!] }
input SearchFlags { skipCache: Boolean fulltext: Boolean skipHighlighting: Boolean skipAggregates: Boolean }
input LineageFlags { entitiesExploredPerHopLimit: Int startTimeMillis: Long endTimeMillis: Long }
input ScrollAcrossLineageInput {
  urn: String direction: LineageDirection! types: [EntityType!] query: String scrollId: String
  keepAlive: String count: Int orFilters: [AndFilterInput!] startTimeMillis: Long endTimeMillis: Long
  searchFlags: SearchFlags lineageFlags: LineageFlags
}
type ScrollAcrossLineageResults {
  nextScrollId: String count: Int! total: Int! searchResults: [SearchAcrossLineageResult!]! isPartial: Boolean
}
type MatchedField { name: String! value: String! }
type EntityPath { path: [Entity]! }
type SearchAcrossLineageResult {
  entity: Entity! matchedFields: [MatchedField!]! paths: [EntityPath] degree: Int! degrees: [Int!]
  explored: Boolean! truncatedChildren: Boolean! ignoredAsHop: Boolean!
}
interface Entity { urn: String! type: EntityType! }
type DataPlatform { name: String! }
type Dataset implements Entity { urn: String! type: EntityType! name: String! platform: DataPlatform! }
type DataJob implements Entity { urn: String! type: EntityType! jobId: String! }
type SchemaFieldEntity implements Entity { urn: String! type: EntityType! fieldPath: String! }
type QueryEntity implements Entity { urn: String! type: EntityType! }
"""
TYPES = {
    "DATASET": "Dataset",
    "DATA_JOB": "DataJob",
    "SCHEMA_FIELD": "SchemaFieldEntity",
    "QUERY": "QueryEntity",
}

USERS = dataset_urn("postgres://db:5432", "shop.public.users")
EMAILS = dataset_urn("postgres://db:5432", "shop.public.emails")
REPORTS = dataset_urn("bigquery", "proj.marts.email_report")
JOB = "urn:li:dataJob:(urn:li:dataFlow:(airflow,daily,PROD),hash_emails)"


def ent(urn: str) -> dict[str, Any]:
    kind = (
        "SCHEMA_FIELD"
        if urn.startswith("urn:li:schemaField:")
        else "DATA_JOB"
        if urn.startswith("urn:li:dataJob:")
        else "DATASET"
    )
    out: dict[str, Any] = {"urn": urn, "type": kind}
    if kind == "DATASET":
        out |= {"name": urn.split(",")[1], "platform": {"name": urn.split(",")[0].rsplit(":", 1)[1]}}
    elif kind == "DATA_JOB":
        out["jobId"] = urn.rsplit(",", 1)[1].rstrip(")")
    else:
        out["fieldPath"] = urn.rsplit(",", 1)[1].rstrip(")")
    return out


def result(degree: int, *path: str) -> dict[str, Any]:
    return {
        "entity": ent(path[-1]),
        "matchedFields": [],
        "paths": [{"path": [ent(u) for u in path]}],
        "degree": degree,
        "degrees": [degree],
        "explored": True,
        "truncatedChildren": False,
        "ignoredAsHop": False,
    }


def fld(dataset: str, field: str) -> str:
    return f"urn:li:schemaField:({dataset},{field})"


# What DataHub answers for each (start urn, direction): DataHub's paths run from the start node outwards.
LINEAGE = {
    (USERS, "DOWNSTREAM"): [
        result(1, USERS, JOB),
        result(1, USERS, JOB, EMAILS),
        result(2, USERS, JOB, EMAILS, REPORTS),
    ],
    (REPORTS, "UPSTREAM"): [result(1, REPORTS, EMAILS), result(2, REPORTS, EMAILS, JOB, USERS)],
    (fld(USERS, "email"), "DOWNSTREAM"): [
        result(1, fld(USERS, "email"), fld(EMAILS, "email_hash")),
        result(2, fld(USERS, "email"), fld(EMAILS, "email_hash"), fld(REPORTS, "domain")),
    ],
}


class FakeGms:
    """POST /api/graphql: validates the query against SCHEMA, runs it, answers in pages of ``page``."""

    def __init__(self) -> None:
        self.schema = graphql.build_schema(SCHEMA)
        entity = self.schema.type_map["Entity"]
        entity.resolve_type = lambda obj, info, t: TYPES[obj["type"]]  # type: ignore[attr-defined]
        self.requests: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.page = 2
        self.raw: list[tuple[int, bytes]] = []  # raw answers for the next requests (malformed cases)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, data = fake.raw.pop(0) if fake.raw else (200, fake.answer(self.path, body))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, path: str, body: dict[str, Any]) -> bytes:
        if path != "/api/graphql":
            self.violations.append(f"POST {path}: DataHub serves GraphQL at /api/graphql")
        document = graphql.parse(body["query"])
        self.violations += [e.message for e in graphql.validate(self.schema, document)]
        result = graphql.graphql_sync(
            self.schema,
            body["query"],
            root_value={"scrollAcrossLineage": self.scroll},
            variable_values=body.get("variables"),
        )
        self.violations += [e.message for e in result.errors or []]
        return json.dumps(result.formatted).encode()

    def scroll(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        found = LINEAGE.get((input["urn"], input["direction"]), [])
        allowed = {
            v
            for f in input.get("orFilters") or []
            for c in f["and"]
            if c["field"] == "degree"
            for v in c["values"]
        }
        found = [
            r
            for r in found
            if not allowed or str(r["degree"]) in allowed or ("3+" in allowed and r["degree"] >= 3)
        ]
        start = int(input.get("scrollId") or 0)
        page = found[start : start + self.page]
        after = start + self.page
        return {
            "nextScrollId": str(after) if after < len(found) else None,
            "count": len(page),
            "total": len(found),
            "searchResults": page,
        }

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def gms() -> Iterator[FakeGms]:
    g = FakeGms()
    yield g
    g.stop()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWSCOPE_STORE", str(tmp_path / "store"))
    monkeypatch.setattr(
        "flowscope.cli.make_manager",
        lambda: make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)]),
    )
    return tmp_path / "store"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 0), out.out, out.err


def stored(store: Path) -> set[tuple[str, str, str]]:
    with Store.open(store) as s:
        return {(e.source.id, e.target.id, e.job.name) for e in s.edges()}


def test_urns_map_to_assets_and_back() -> None:
    asset = to_asset(USERS)
    assert asset == Asset("postgres", "shop.public.users")
    assert dataset_urn(asset.namespace, asset.name) == USERS, "pulled assets emit back to the same urn"
    assert to_asset(fld(USERS, "[version=2.0].[type=string].email")) == asset.with_field("email")
    assert to_asset("urn:li:dataset:(urn:li:dataPlatform:hive,db.t,DEV)") == Asset("hive@DEV", "db.t")


def test_pull_downstream_pages_through_and_stores(
    gms: FakeGms, store: Path, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DATAHUB_GMS_TOKEN", "gms-t0ken")
    code, out, err = run(capsys, "datahub", "pull", gms.url, USERS)
    assert code == 0, err
    assert out.strip() == f"2 edges downstream of {USERS} from {gms.url} stored in {store}"
    assert gms.violations == []
    assert len(gms.requests) == 2, "two pages of two results"
    first, second = (r["body"]["variables"]["input"] for r in gms.requests)
    assert first["direction"] == "DOWNSTREAM" and "scrollId" not in first and second["scrollId"] == "2"
    assert {r["headers"]["Authorization"] for r in gms.requests} == {"Bearer gms-t0ken"}
    users, emails, reports = (to_asset(u) for u in (USERS, EMAILS, REPORTS))
    assert users and emails and reports
    assert stored(store) == {
        (users.id, emails.id, "hash_emails"),
        (emails.id, reports.id, f"{reports.name} (datahub)"),
    }
    code, out, _ = run(capsys, "lineage", "downstream", users.id, "--json")
    assert code == 0 and reports.name in out


def test_pull_upstream_reverses_paths(gms: FakeGms, store: Path, capsys: Any) -> None:
    code, _, err = run(capsys, "datahub", "pull", gms.url, REPORTS, "--direction", "upstream")
    assert code == 0, err
    users, emails, reports = (to_asset(u) for u in (USERS, EMAILS, REPORTS))
    assert users and emails and reports
    assert stored(store) == {
        (users.id, emails.id, "hash_emails"),
        (emails.id, reports.id, f"{reports.name} (datahub)"),
    }
    assert gms.violations == []


def test_pull_from_a_field_gives_field_edges_and_depth_limits(gms: FakeGms, store: Path, capsys: Any) -> None:
    code, _, err = run(capsys, "datahub", "pull", gms.url, fld(USERS, "email"), "--depth", "1")
    assert code == 0, err
    assert gms.requests[0]["body"]["variables"]["input"]["orFilters"] == [
        {"and": [{"field": "degree", "condition": "EQUAL", "values": ["1"]}]}
    ]
    email, hashed = to_asset(fld(USERS, "email")), to_asset(fld(EMAILS, "email_hash"))
    assert email and hashed
    assert stored(store) == {(email.id, hashed.id, f"{hashed.name} (datahub)")}
    assert gms.violations == []


def test_bad_start_urn_is_one_line(gms: FakeGms, store: Path, capsys: Any) -> None:
    code, _, err = run(capsys, "datahub", "pull", gms.url, "users")
    assert (code, err.strip()) == (1, "error: not a dataset, schemaField or dataJob urn: users")
    assert gms.requests == []


MALFORMED = [
    (200, b"<html>login</html>", "malformed response (not JSON)"),
    (
        200,
        b'{"data": null, "errors": [{"message": "Validation error: bad field"}]}',
        "GraphQL error: Validation error: bad field",
    ),
    (
        200,
        b'{"data": {"scrollAcrossLineage": {"searchResults": {}}}}',
        "malformed response (no scrollAcrossLineage.searchResults)",
    ),
    (
        200,
        b'{"data": {"scrollAcrossLineage": {"searchResults": [{"degree": 1, "entity": {"urn": 5}}]}}}',
        "searchResults[0]: entity needs a urn and a type",
    ),
    (
        200,
        b'{"data": {"scrollAcrossLineage": {"searchResults": [{"degree": "1"}]}}}',
        "searchResults[0]: expected an object with an integer degree",
    ),
    (500, b"{}", "answered HTTP 500"),
]


@pytest.mark.parametrize(("status", "body", "expected"), MALFORMED)
def test_malformed_answers_are_one_line_and_store_nothing(
    gms: FakeGms, store: Path, capsys: Any, status: int, body: bytes, expected: str
) -> None:
    assert run(capsys, "datahub", "pull", gms.url, USERS)[0] == 0
    before = stored(store)
    gms.raw = [
        (200, gms.answer("/api/graphql", {"query": first_query(gms), "variables": first_vars(gms)})),
        (status, body),
    ]
    code, _, err = run(capsys, "datahub", "pull", gms.url, USERS)  # page 1 fine, page 2 broken
    assert code == 1
    assert err.startswith(f"error: datahub: {gms.url}/api/graphql") and expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert stored(store) == before, "a broken pull replaces nothing"


def first_query(gms: FakeGms) -> str:
    return str(gms.requests[0]["body"]["query"])


def first_vars(gms: FakeGms) -> dict[str, Any]:
    return dict(gms.requests[0]["body"]["variables"])


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_names_the_token(
    gms: FakeGms, store: Path, capsys: Any, monkeypatch: Any, status: int
) -> None:
    monkeypatch.setenv("DATAHUB_GMS_TOKEN", "gms-t0ken")
    gms.raw = [(status, b'{"message": "token gms-t0ken expired"}')]
    code, _, err = run(capsys, "datahub", "pull", gms.url, USERS)
    assert code == 1
    assert f"answered HTTP {status}" in err and "(check $DATAHUB_GMS_TOKEN)" in err
    assert "gms-t0ken" not in err and len(gms.requests) == 1


def test_unreachable_gms(store: Path, capsys: Any, dead_url: str) -> None:
    code, _, err = run(capsys, "datahub", "pull", dead_url, USERS)
    assert (code, err.strip()) == (
        1,
        f"error: datahub: {dead_url}/api/graphql: cannot reach GMS: connection refused",
    )
