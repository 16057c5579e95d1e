"""kafka-python's producer, a real client object with no broker (bootstrap on a closed 127.0.0.1 port):
``send`` waits for metadata up to ``max_block_ms`` and then raises KafkaTimeoutError, with or without probes.
Delivery to a broker is not exercised here.
"""

from __future__ import annotations

import json

import kafka
import pytest
from kafka.errors import KafkaTimeoutError

from flowscope import naming
from flowscope_probes.context import FAULTS, Recorder
from flowscope_probes.instrumentations import kafka as probe_kafka
from flowscope_probes.instrumentations.kafka import KafkaInstrumentation, bootstrap_of

BOOTSTRAP = "127.0.0.1:9"


def kafka_send() -> str:
    producer = kafka.KafkaProducer(
        bootstrap_servers=[BOOTSTRAP],
        api_version=(2, 5),
        max_block_ms=50,
        value_serializer=lambda v: json.dumps(v).encode(),
    )
    try:
        producer.send("photo-events", {"user_id": 42, "location": "51.5,-0.12"}, key=b"u-42")
    except KafkaTimeoutError as exc:
        return type(exc).__name__
    finally:
        producer.close(timeout=0)
    return "sent"


def test_kafka_python_send_records_value_and_key(rec: Recorder) -> None:
    inst = KafkaInstrumentation()
    inst.install()
    try:
        assert kafka_send() == "KafkaTimeoutError"
    finally:
        inst.uninstall()
    asset = naming.kafka("photo-events", BOOTSTRAP)
    assert rec.sinks == [(asset, {"user_id": 42, "location": "51.5,-0.12"}), (asset, b"u-42")]
    assert kafka_send() == "KafkaTimeoutError"  # the same outcome without probes
    assert len(rec.sinks) == 2


def test_kafka_python_uninstall_double_install_and_fault(
    rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = kafka.KafkaProducer.__dict__["send"]
    a, b = KafkaInstrumentation(), KafkaInstrumentation()
    a.install()
    b.install()
    try:
        assert b._patched == [] and kafka.KafkaProducer.__dict__["send"].__wrapped__ is original

        def broken(*args: object) -> None:
            raise RuntimeError("probe bug")

        monkeypatch.setattr(probe_kafka, "record", broken)
        before = FAULTS.counts.get("kafka", 0)
        assert kafka_send() == "KafkaTimeoutError"
        assert FAULTS.counts["kafka"] == before + 1
    finally:
        a.uninstall()
    assert kafka.KafkaProducer.__dict__["send"] is original
    assert bootstrap_of("b1.internal,b2.internal:9093") == "b1.internal:9092"
