"""aiokafka's producer, a real client object with no broker (bootstrap on a closed 127.0.0.1 port, never
started): ``send`` waits for metadata, so it is awaited with a short timeout, with or without probes.
Delivery to a broker is not exercised here."""

from __future__ import annotations

import asyncio
import json

import aiokafka
import pytest

from flowscope import naming
from flowscope_probes.context import CURRENT, FAULTS, Recorder
from flowscope_probes.instrumentations import kafka as probe_kafka
from flowscope_probes.instrumentations.aiokafka import AiokafkaInstrumentation

BOOTSTRAP = "127.0.0.1:9"


async def _send(rec: Recorder | None) -> str:
    if rec is not None:
        CURRENT.set(rec)  # this task's context: the request the send belongs to
    producer = aiokafka.AIOKafkaProducer(
        bootstrap_servers=BOOTSTRAP, value_serializer=lambda v: json.dumps(v).encode()
    )
    try:
        await asyncio.wait_for(
            producer.send("photo-events", {"user_id": 42, "loc": "51.5,-0.12"}, key=b"u-42"), 0.1
        )
    except TimeoutError as exc:
        return type(exc).__name__
    finally:
        await producer.stop()
    return "sent"


def aiokafka_send(rec: Recorder | None) -> str:
    return asyncio.run(_send(rec))


def test_aiokafka_send_records_value_and_key() -> None:
    rec = Recorder("job", "/r")
    inst = AiokafkaInstrumentation()
    inst.install()
    try:
        assert aiokafka_send(rec) == "TimeoutError"
    finally:
        inst.uninstall()
    asset = naming.kafka("photo-events", BOOTSTRAP)
    assert rec.sinks == [(asset, {"user_id": 42, "loc": "51.5,-0.12"}), (asset, b"u-42")]
    assert aiokafka_send(rec) == "TimeoutError"  # the same outcome without probes
    assert len(rec.sinks) == 2


def test_aiokafka_uninstall_and_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    original = aiokafka.AIOKafkaProducer.__dict__["send"]
    inst = AiokafkaInstrumentation()
    inst.install()
    try:
        assert aiokafka.AIOKafkaProducer.__dict__["send"].__wrapped__ is original

        def broken(*args: object) -> None:
            raise RuntimeError("probe bug")

        monkeypatch.setattr(probe_kafka, "record", broken)
        before = FAULTS.counts.get("aiokafka", 0)
        assert aiokafka_send(Recorder("job", "/r")) == "TimeoutError"  # the host's outcome, unchanged
        assert FAULTS.counts["aiokafka"] == before + 1
    finally:
        inst.uninstall()
    assert aiokafka.AIOKafkaProducer.__dict__["send"] is original
