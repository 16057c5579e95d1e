"""Contract test of the Marquez path: Marquez cannot run here, so a local server plays it and checks every
request flowscope sends, and every response it serves, against Marquez's OpenAPI spec
(``../shared/spec/marquez/openapi.yml``; override with FLOWSCOPE_MARQUEZ_SPEC; skipped when absent).

The spec's ``NodeType`` lists only JOB and DATASET, while ``/column-lineage`` answers with DATASET_FIELD
nodes in real Marquez; the validator adds that one value, drops the spec's empty ``type:`` keys, and reads
a ``oneOf`` with a ``discriminator`` as ``anyOf`` (the spec's Dataset and Job schemas overlap).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from openlineage.client.event_v2 import RunEvent

from flowscope.errors import UserError
from flowscope.events import event_to_dict
from flowscope.store import Store
from flowscope_emitters.delivery import Backoff, Spool, deliver
from flowscope_emitters.marquez import MarquezApi, TagSender, pull, schema_gaps, tag_operations, tag_records
from flowscope_emitters.senders import HttpSender

jsonschema = pytest.importorskip("jsonschema", reason="the contract test validates with jsonschema")
yaml = pytest.importorskip("yaml")


def spec_path() -> Path:
    default = Path(__file__).resolve().parents[2] / ".." / "shared" / "spec" / "marquez" / "openapi.yml"
    return Path(os.environ.get("FLOWSCOPE_MARQUEZ_SPEC") or default)


def _clean(node: Any) -> Any:
    if isinstance(node, dict):
        if "discriminator" in node and "oneOf" in node:  # OpenAPI picks one by the discriminator
            node = {**node, "anyOf": node["oneOf"]}
            del node["oneOf"]
        return {k: _clean(v) for k, v in node.items() if not (k == "type" and v is None)}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = spec_path()
    if not path.is_file():
        pytest.skip(f"Marquez OpenAPI spec not found at {path}: set FLOWSCOPE_MARQUEZ_SPEC")
    doc = _clean(yaml.safe_load(path.read_text()))
    doc["components"]["schemas"]["NodeType"]["enum"].append("DATASET_FIELD")
    return doc


def check(spec: dict[str, Any], schema: dict[str, Any] | None, value: Any, what: str) -> list[str]:
    if not schema:
        return []
    validator = jsonschema.Draft4Validator({**schema, "components": spec["components"]})
    return [f"{what}: {e.message}" for e in validator.iter_errors(value)]


def operation(spec: dict[str, Any], method: str, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for template, item in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
            op = item.get(method.lower())
            assert op is not None, f"{method} {path}: the spec has no {method} for {template}"
            return item, op
    raise AssertionError(f"{method} {path}: no such path in the spec")


class FakeMarquez:
    """Answers per (method, path): ``answers[("GET", "/lineage")] = body``; records violations."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.requests: list[tuple[str, str, Any]] = []
        self.violations: list[str] = []
        self.answers: dict[tuple[str, str], Any] = {}
        self.unchecked: set[tuple[str, str]] = set()  # deliberately malformed answers
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def handle_any(self) -> None:
                url = urlsplit(self.path)
                assert url.path.startswith("/api/v1/")
                path = url.path[len("/api/v1") :]
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append((self.command, path, body))
                status, answer = fake.serve(self.command, path, parse_qs(url.query), body)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = handle_any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def serve(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        v = self.violations
        item, op = operation(self.spec, method, path)
        for p in [*item.get("parameters", []), *op.get("parameters", [])]:
            if "$ref" in p:
                p = self.spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
            if p["in"] == "query" and p.get("required") and p["name"] not in query:
                v.append(f"{method} {path}: missing required query parameter {p['name']}")
            is_int = p["in"] == "query" and p["schema"].get("type") == "integer"
            if is_int and p["name"] in query and not query[p["name"]][0].isdigit():
                v.append(f"{method} {path}: {p['name']} is not an integer")
        req_schema = ((op.get("requestBody") or {}).get("content") or {}).get("application/json", {})
        v.extend(check(self.spec, req_schema.get("schema"), body, f"{method} {path} request"))
        answer = self.answers.get((method, path.split("/")[1] if method == "GET" else path), {})
        content = (op["responses"]["200"].get("content") or {}).get("application/json", {})
        if (method, path) not in self.unchecked and not isinstance(answer, bytes):
            v.extend(check(self.spec, content.get("schema"), answer, f"{method} {path} response"))
        return 200, answer

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def marquez(spec: dict[str, Any]) -> Iterator[FakeMarquez]:
    m = FakeMarquez(spec)
    yield m
    m.stop()


def tagged_events(events: list[RunEvent]) -> list[dict[str, Any]]:
    out = [event_to_dict(e) for e in events]
    job_event = next(e for e in out if e.get("outputs"))
    ds = job_event["outputs"][0]
    ds.setdefault("facets", {})["tags"] = {
        "_producer": "x",
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/TagsDatasetFacet.json",
        "tags": [
            {"key": "zone", "value": "emails", "source": "flowscope"},
            {"key": "pii", "value": "true", "source": "flowscope", "field": "email_hash"},
        ],
    }
    return out


def test_events_have_schema_on_both_sides_of_column_lineage(events: list[RunEvent]) -> None:
    dicts = [event_to_dict(e) for e in events]
    assert any((o.get("facets") or {}).get("columnLineage") for e in dicts for o in e.get("outputs", []))
    assert [schema_gaps(e) for e in dicts] == [[] for _ in dicts]
    broken = json.loads(json.dumps(dicts[0] if dicts[0].get("outputs") else dicts[1]))
    broken["inputs"][0]["facets"].pop("schema")
    assert schema_gaps(broken) == ["input postgres://db.internal:5432:shop.public.users.email"]


def test_emit_and_tags_follow_the_spec(marquez: FakeMarquez, events: list[RunEvent], tmp_path: Path) -> None:
    dicts = tagged_events(events)
    out = deliver(dicts, HttpSender(marquez.url), Spool(tmp_path))
    assert out.ok and out.sent == len(dicts)
    marquez.answers[("PUT", "tags")] = {"tags": [{"name": "pii"}]}
    tags = deliver(tag_records(tag_operations(dicts)), TagSender(marquez.url), Spool(tmp_path))
    assert tags.ok and tags.sent == 2
    calls = [(m, p) for m, p, _ in marquez.requests]
    ds = "namespaces/postgres%3A%2F%2Fdb.internal%3A5432/datasets/shop.public.emails"
    assert calls[len(dicts) :] == [
        ("PUT", "/tags/zone%3Aemails"),
        ("POST", f"/{ds}/tags/zone%3Aemails"),
        ("PUT", "/tags/pii"),
        ("POST", f"/{ds}/fields/email_hash/tags/pii"),
    ]
    assert marquez.violations == []


LINEAGE = {
    "graph": [
        {
            "id": "dataset:pg:public.users",
            "type": "DATASET",
            "data": {
                "namespace": "pg",
                "name": "public.users",
                "type": "DB_TABLE",
                "fields": [{"name": "email", "type": "TEXT", "tags": ["PII"]}],
                "tags": [],
            },
            "inEdges": [],
            "outEdges": [{"origin": "dataset:pg:public.users", "destination": "job:etl:daily"}],
        },
        {
            "id": "job:etl:daily",
            "type": "JOB",
            "data": {"namespace": "etl", "name": "daily", "type": "BATCH"},
            "inEdges": [{"origin": "dataset:pg:public.users", "destination": "job:etl:daily"}],
            "outEdges": [{"origin": "job:etl:daily", "destination": "dataset:pg:public.emails"}],
        },
        {
            "id": "dataset:pg:public.emails",
            "type": "DATASET",
            "data": {
                "namespace": "pg",
                "name": "public.emails",
                "type": "DB_TABLE",
                "fields": [],
                "tags": [],
            },
            "inEdges": [{"origin": "job:etl:daily", "destination": "dataset:pg:public.emails"}],
            "outEdges": [],
        },
    ]
}
COLUMNS = {
    "graph": [
        {
            "id": "datasetField:pg:public.emails:email_hash",
            "type": "DATASET_FIELD",
            "data": {
                "namespace": "pg",
                "dataset": "public.emails",
                "field": "email_hash",
                "inputFields": [{"namespace": "pg", "dataset": "public.users", "field": "email"}],
            },
            "inEdges": [],
            "outEdges": [],
        }
    ]
}


def test_pull_loads_a_neighbourhood_into_the_store(marquez: FakeMarquez, tmp_path: Path) -> None:
    from flowscope import graph
    from flowscope.model import Asset

    marquez.answers[("GET", "lineage")] = LINEAGE
    marquez.answers[("GET", "column-lineage")] = COLUMNS
    edges, infos = pull(MarquezApi(marquez.url), "dataset:pg:public.users", 3)
    assert marquez.violations == []
    assert [(m, p) for m, p, _ in marquez.requests] == [("GET", "/lineage"), ("GET", "/column-lineage")]
    keys = sorted((str(e.source), str(e.target), e.job.name) for e in edges)
    assert len(keys) == 2 and all(k[2] == "daily" for k in keys)
    assert any(i.tags == ("PII",) for i in infos)
    with Store.open(tmp_path / "store") as store:
        store.replace("marquez", "test", edges, infos, [])
        reached = graph.downstream(store, Asset("pg", "public.users", "email"))
        assert "email_hash" in {r.asset.field for r in reached.reached}


@pytest.mark.parametrize(
    "answer",
    [b"<html>oops</html>", {"nodes": []}, {"graph": [{"id": "job:x", "type": "JOB", "data": {}}]}],
    ids=["not-json", "no-graph", "node-without-name"],
)
def test_malformed_responses_are_clear_errors(marquez: FakeMarquez, answer: Any) -> None:
    marquez.answers[("GET", "lineage")] = answer
    marquez.answers[("GET", "column-lineage")] = {"graph": []}
    marquez.unchecked.add(("GET", "/lineage"))
    with pytest.raises(UserError, match=r"^marquez: GET \S*/lineage\S*: malformed"):
        pull(MarquezApi(marquez.url), "job:x", 1)


def test_cli_emit_to_marquez_and_pull(
    marquez: FakeMarquez, events: list[RunEvent], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import flowscope_emitters.plugin
    from flowscope.cli import main
    from flowscope.plugins import make_manager

    store = tmp_path / "store"
    with Store.open(store) as s:
        s.replace("scan", "scope-1", [], [], tagged_events(events))
    monkeypatch.setenv("FLOWSCOPE_STORE", str(store))
    monkeypatch.setattr(
        "flowscope.cli.make_manager",
        lambda: make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)]),
    )
    marquez.answers[("PUT", "tags")] = {"tags": []}
    with pytest.raises(SystemExit) as done:
        main(["emit", "--to", "marquez", marquez.url])
    err = capsys.readouterr().err
    assert done.value.code == 0, err
    assert err.splitlines() == [
        f"marquez {marquez.url}: {len(events)} sent",
        f"marquez tags {marquez.url}: 2 sent",
    ]
    marquez.answers[("GET", "lineage")] = LINEAGE
    marquez.answers[("GET", "column-lineage")] = COLUMNS
    with pytest.raises(SystemExit) as done:
        main(["marquez", "pull", marquez.url, "dataset:pg:public.users", "--depth", "3"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and out.startswith("2 edges and ")
    with pytest.raises(SystemExit) as done:
        main(["lineage", "downstream", "datasetField:pg:public.users:email", "--json"])
    assert done.value.code == 0
    assert "email_hash" in capsys.readouterr().out
    assert marquez.violations == []


def test_dead_marquez_spools_events_and_tags_and_replay_sends_both_in_order(
    marquez: FakeMarquez,
    events: list[RunEvent],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    dead_url: str,
) -> None:
    import flowscope_emitters.plugin
    from flowscope.cli import main
    from flowscope.plugins import make_manager

    store = tmp_path / "store"
    with Store.open(store) as s:
        s.replace("scan", "scope-1", [], [], tagged_events(events))
    monkeypatch.setenv("FLOWSCOPE_STORE", str(store))
    monkeypatch.setattr(
        "flowscope.cli.make_manager",
        lambda: make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)]),
    )
    with pytest.raises(SystemExit) as done:
        main(["emit", "--to", "marquez", dead_url, "--retries", "1"])
    err = capsys.readouterr().err
    assert done.value.code == 1
    assert err.splitlines()[-1] == f"2 tag(s) kept in {store / 'spool'} until the events are in"
    # Marquez is up again (at another address here).
    for path in (store / "spool").glob("*.jsonl"):
        records = [json.loads(x) for x in path.read_text().splitlines()]
        path.write_text("".join(json.dumps({**r, "target": marquez.url}) + "\n" for r in records))
    marquez.answers[("PUT", "tags")] = {"tags": []}
    with pytest.raises(SystemExit) as done:
        main(["emit", "--replay"])
    err = capsys.readouterr().err
    assert done.value.code == 0, err
    assert err.splitlines() == [
        f"marquez {marquez.url}: {len(events)} sent",
        f"marquez tags {marquez.url}: 2 sent",
    ]
    calls = [(m, p.split("/")[1]) for m, p, _ in marquez.requests]
    assert calls == [("POST", "lineage")] * len(events) + [("PUT", "tags"), ("POST", "namespaces")] * 2
    assert marquez.violations == []
    assert list((store / "spool").glob("*.jsonl*")) == []


def test_tag_call_failures_are_retried_then_spooled(
    server: Any, events: list[RunEvent], tmp_path: Path
) -> None:
    """A Marquez that answers the events but fails tag calls: the tags wait in the spool."""
    server.status = 503
    spool = Spool(tmp_path)
    records = tag_records(tag_operations(tagged_events(events)))
    out = deliver(records, TagSender(server.url, timeout=1), spool, Backoff(attempts=2, base=0.01))
    assert (out.sent, out.spooled, out.unit) == (0, 2, "tag")
    assert "answered HTTP 503" in (out.failure or "") and len(server.requests) == 2
    [path] = spool.files()
    assert [r["event"] for r in spool.read(path).records] == records
