"""The openlineage emitter over the client's real transports: file, console, http, composite, kafka."""

from __future__ import annotations

import json
import logging
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import RunEvent

import flowscope_emitters.plugin
from flowscope import hookimpl
from flowscope.errors import UserError
from flowscope.events import event_to_dict
from flowscope.plugins import Plugins, make_manager
from flowscope.specs import validate_event
from flowscope_emitters.openlineage_emitter import KAFKA_HINT, OpenLineageEmitter, OpenLineageEmitterFactory

FACTORY = OpenLineageEmitterFactory()


def make(section: Any, base_dir: Path) -> OpenLineageEmitter:
    emitter = FACTORY.from_config({"openlineage": section}, base_dir)
    assert emitter is not None
    return emitter


def send(emitter: OpenLineageEmitter, events: list[RunEvent]) -> None:
    try:
        for ev in events:
            emitter.emit(ev)
    finally:
        emitter.close()


def http(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "http", "url": url, "timeout": 2, "retry": {"total": 0}, **extra}


def test_no_section_means_no_emitter(tmp_path: Path) -> None:
    assert FACTORY.from_config({}, tmp_path) is None
    assert FACTORY.from_config({"plugins": {}}, tmp_path) is None


def test_hookimpl_registers_the_openlineage_factory(tmp_path: Path) -> None:
    pm = make_manager(load_entrypoints=False, plugins=[("openlineage", flowscope_emitters.plugin)])
    found = Plugins(pm).emitters()
    assert [(r.plugin, r.name) for r in found] == [("openlineage", "openlineage")]
    config = {"openlineage": {"transport": {"type": "console"}}}
    assert isinstance(found[0].item.from_config(config, tmp_path), OpenLineageEmitter)
    assert found[0].item.from_config({}, tmp_path) is None


def test_openlineage_factory_sits_beside_other_emitter_plugins(tmp_path: Path) -> None:
    class Other:
        kind = "other"

        def from_config(self, config: Any, base_dir: Path) -> None:
            return None

    class OtherPlugin:
        @hookimpl
        def register_emitters(self, register: Any) -> None:
            register(Other())

    plugins = [("openlineage", flowscope_emitters.plugin), ("other", OtherPlugin())]
    found = Plugins(make_manager(load_entrypoints=False, plugins=plugins)).emitters()
    assert sorted((r.plugin, r.name) for r in found) == [("openlineage", "openlineage"), ("other", "other")]


def test_file_transport_writes_valid_events(tmp_path: Path, events: list[RunEvent], spec: Path) -> None:
    before = [event_to_dict(ev) for ev in events]
    section = {"transport": {"type": "file", "log_file_path": "out/events.jsonl", "append": True}}
    send(make(section, tmp_path), events)
    lines = (tmp_path / "out" / "events.jsonl").read_text("utf-8").splitlines()
    written = [json.loads(line) for line in lines]
    assert [ev["run"]["runId"] for ev in written] == [ev["run"]["runId"] for ev in before]
    for ev in written:
        assert validate_event(ev, spec) == []
    # The client adds facets to what it sends, never to the caller's event.
    assert [event_to_dict(ev) for ev in events] == before
    assert section["transport"]["log_file_path"] == "out/events.jsonl"


def test_file_transport_without_append_writes_one_file_per_event(
    tmp_path: Path, events: list[RunEvent]
) -> None:
    send(
        make({"transport": {"type": "file", "log_file_path": str(tmp_path / "ol")}}, tmp_path / "elsewhere"),
        events,
    )
    assert len(list(tmp_path.glob("ol-*.json"))) == len(events)


def test_http_transport_posts_every_event_to_marquez_path(
    tmp_path: Path, server: Any, events: list[RunEvent], spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__API_KEY", "s3cret-token")
    send(make({"transport": http(server.url, auth={"type": "api_key"})}, tmp_path), events)
    assert [r["path"] for r in server.requests] == ["/api/v1/lineage"] * len(events)
    bodies = [r["body"] for r in server.requests]
    assert [b["job"]["name"] for b in bodies] == ["scan", "etl.emails_daily"]
    assert [b["run"]["runId"] for b in bodies] == [str(ev.run.runId) for ev in events]
    lineage = bodies[1]["outputs"][0]["facets"]["columnLineage"]["fields"]["email_hash"]["inputFields"][0]
    assert lineage["field"] == "email"
    assert {r["headers"]["Authorization"] for r in server.requests} == {"Bearer s3cret-token"}
    assert all(validate_event(b, spec) == [] for b in bodies)


def test_composite_sends_to_file_and_http(tmp_path: Path, server: Any, events: list[RunEvent]) -> None:
    section = {
        "transport": {
            "type": "composite",
            "transports": {
                "local": {"type": "file", "log_file_path": "events.jsonl", "append": True},
                "marquez": http(server.url),
            },
        }
    }
    send(make(section, tmp_path), events)
    assert len((tmp_path / "events.jsonl").read_text("utf-8").splitlines()) == len(events)
    assert len(server.requests) == len(events)


def test_console_transport_logs_each_event(
    tmp_path: Path, events: list[RunEvent], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="openlineage.client.transport.console"):
        send(make({"transport": {"type": "console"}}, tmp_path), events)
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name.endswith("console")]
    assert [ev["job"]["name"] for ev in logged] == ["scan", "etl.emails_daily"]


def test_dead_server_is_one_clear_user_error(tmp_path: Path, dead_url: str, events: list[RunEvent]) -> None:
    emitter = make({"transport": http(dead_url)}, tmp_path)
    with pytest.raises(UserError) as err:
        emitter.emit(events[0])
    assert (
        str(err.value)
        == f"openlineage http transport: cannot reach {dead_url}/api/v1/lineage: connection refused"
    )
    with pytest.raises(UserError) as again:  # not retried for every remaining event
        emitter.emit(events[1])
    assert again.value is err.value
    emitter.close()  # already reported: closing does not raise a second error


def test_error_messages_and_client_logs_never_carry_secrets(
    tmp_path: Path,
    server: Any,
    events: list[RunEvent],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.status = 401
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__API_KEY", "s3cret-token")
    url = server.url.replace("http://", "http://admin:hunter22@") + "/?token=abcdef"
    section = {
        "transport": http(url, auth={"type": "api_key"}, custom_headers={"X-Api-Key": "h3ader-secret"})
    }
    with caplog.at_level(logging.DEBUG):
        emitter = make(section, tmp_path)
        with pytest.raises(UserError) as err:
            emitter.emit(events[0])
    message = str(err.value)
    assert (
        message == f"openlineage http transport: {server.url}/api/v1/lineage answered HTTP 401 Unauthorized"
    )
    logs = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("openlineage"))
    assert "custom_headers={'X-Api-Key': '***'}" in logs  # the client logged its config, masked
    for secret in ("s3cret-token", "hunter22", "abcdef", "h3ader-secret"):
        assert secret not in message
        assert secret not in logs
    assert server.requests[0]["headers"]["X-Api-Key"] == "h3ader-secret"


def test_composite_fail_fast_names_the_failing_transport(
    tmp_path: Path, dead_url: str, events: list[RunEvent]
) -> None:
    section = {
        "transport": {
            "type": "composite",
            "continue_on_failure": False,
            "transports": [{"type": "file", "log_file_path": "ok.jsonl", "append": True}, http(dead_url)],
        }
    }
    with pytest.raises(UserError) as err:
        make(section, tmp_path).emit(events[0])
    assert str(err.value) == (
        "openlineage composite transport: stopped at the first failure: "
        f"openlineage http transport: cannot reach {dead_url}/api/v1/lineage: connection refused"
    )


def test_composite_failure_names_each_transport(
    tmp_path: Path, dead_url: str, events: list[RunEvent]
) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    section = {
        "transport": {
            "type": "composite",
            "transports": [
                http(dead_url),
                {"type": "file", "log_file_path": str(blocked / "x"), "append": True},
            ],
        }
    }
    with pytest.raises(UserError) as err:
        make(section, tmp_path).emit(events[0])
    message = str(err.value)
    assert message.startswith("openlineage composite transport: no transport delivered the event: ")
    assert (
        f"openlineage http transport: cannot reach {dead_url}/api/v1/lineage: connection refused" in message
    )
    assert "openlineage file transport: Failed to write to log file" in message
    assert "\n" not in message


def test_composite_partial_failure_drops_the_dead_child_and_fails_at_close(
    tmp_path: Path, dead_url: str, events: list[RunEvent], caplog: pytest.LogCaptureFixture
) -> None:
    section = {
        "transport": {
            "type": "composite",
            "transports": [http(dead_url), {"type": "file", "log_file_path": "ok.jsonl", "append": True}],
        }
    }
    emitter = make(section, tmp_path)
    with caplog.at_level(logging.WARNING, logger="flowscope_emitters"):
        for event in events:
            emitter.emit(event)
        with pytest.raises(
            UserError, match=rf"cannot reach .*\({len(events)} event\(s\) not delivered there\)"
        ):
            emitter.close()
    assert len((tmp_path / "ok.jsonl").read_text("utf-8").splitlines()) == len(events)
    warned = [r.getMessage() for r in caplog.records if r.name.startswith("flowscope_emitters")]
    assert len(warned) == 1, "the dead server is tried once, not once per event"
    assert "cannot reach" in warned[0] and "other transports delivered" in warned[0]


@pytest.mark.parametrize(
    ("transport", "expected"),
    [
        (
            {"type": "htp", "url": "http://x"},
            "openlineage.transport: unknown transport type 'htp' (did you mean 'http'?)",
        ),
        (
            {"type": "carrier-pigeon"},
            "openlineage.transport: unknown transport type 'carrier-pigeon' (known: ",
        ),
        ({"url": "http://x"}, "openlineage.transport: missing `type` (one of "),
        (
            {"type": "composite", "transports": {"a": {"type": "fil", "log_file_path": "x"}}},
            "openlineage.transport.transports.a: unknown transport type 'fil' (did you mean 'file'?)",
        ),
        ("http://x", "openlineage.transport: expected a mapping with a `type`, got str"),
        (
            {"type": "http"},
            "openlineage: cannot set up the OpenLineage client: `url` key not passed to HttpConfig",
        ),
        (
            {"type": "mycompany.lineage.Transport"},
            "openlineage: cannot set up the OpenLineage client: Failed to import",
        ),
    ],
)
def test_bad_transport_config_is_a_clear_error(tmp_path: Path, transport: Any, expected: str) -> None:
    with pytest.raises(UserError) as err:
        FACTORY.from_config({"openlineage": {"transport": transport}}, tmp_path)
    assert str(err.value).startswith(expected)


def test_section_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="openlineage: expected a mapping"):
        FACTORY.from_config({"openlineage": ["console"]}, tmp_path)


def test_bad_client_keys_name_the_cause(tmp_path: Path) -> None:
    section = {"transport": {"type": "console"}, "facets": {"bogus": 1}}
    with pytest.raises(UserError) as err:
        FACTORY.from_config({"openlineage": section}, tmp_path)
    assert str(err.value).startswith("openlineage: cannot set up the OpenLineage client: Failed to parse")
    assert "bogus" in str(err.value)


def test_client_options_in_the_section_are_used(tmp_path: Path) -> None:
    section = {"transport": {"type": "console"}, "tags": {"run": {"team": "privacy"}}}
    assert make(section, tmp_path).client.config.tags.run == {"team": "privacy"}


def test_kafka_without_confluent_kafka_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)  # import fails as if not installed
    section = {"transport": {"type": "kafka", "topic": "lineage", "config": {"bootstrap.servers": "k:9092"}}}
    with pytest.raises(UserError) as err:
        make(section, tmp_path)
    assert str(err.value) == f"openlineage.transport: the kafka transport needs confluent-kafka: {KAFKA_HINT}"


class FakeProducer:
    """Stands in for confluent_kafka.Producer: delivery callbacks run on flush, as in librdkafka."""

    fail_with: str | None = None
    sent: list[tuple[str, str | None, bytes]] = []

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.pending: list[Any] = []

    def produce(self, topic: str, key: str | None, value: bytes, on_delivery: Any) -> None:
        self.pending.append((topic, key, value, on_delivery))

    def flush(self, timeout: float = -1) -> int:
        for topic, key, value, callback in self.pending:
            if self.fail_with:
                callback(self.fail_with, None)
            else:
                FakeProducer.sent.append((topic, key, value))
                callback(None, None)
        self.pending = []
        return 0


@pytest.fixture
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> type[FakeProducer]:
    module = types.ModuleType("confluent_kafka")
    module.Producer = FakeProducer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "confluent_kafka", module)
    FakeProducer.sent = []
    FakeProducer.fail_with = None
    return FakeProducer


def test_kafka_transport_produces_each_event(
    tmp_path: Path, fake_kafka: type[FakeProducer], events: list[RunEvent]
) -> None:
    section = {"transport": {"type": "kafka", "topic": "lineage", "config": {"bootstrap.servers": "k:9092"}}}
    send(make(section, tmp_path), events)
    assert [topic for topic, _, _ in fake_kafka.sent] == ["lineage", "lineage"]
    assert [json.loads(v)["job"]["name"] for _, _, v in fake_kafka.sent] == ["scan", "etl.emails_daily"]


def test_kafka_delivery_failure_is_a_user_error(
    tmp_path: Path, fake_kafka: type[FakeProducer], events: list[RunEvent]
) -> None:
    fake_kafka.fail_with = 'KafkaError{code=_MSG_TIMED_OUT,val=-192,str="Local: Message timed out"}'
    section = {
        "transport": {
            "type": "kafka",
            "topic": "lineage",
            "config": {"bootstrap.servers": "k:9092", "sasl.password": "kafka-pass-1"},
        }
    }
    with pytest.raises(UserError) as err:
        make(section, tmp_path).emit(events[0])
    assert str(err.value).startswith(
        "openlineage kafka transport: delivery failed: KafkaError{code=_MSG_TIMED_OUT"
    )
