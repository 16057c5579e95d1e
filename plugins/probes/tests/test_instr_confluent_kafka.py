"""confluent-kafka's producer, a real client object with no broker (bootstrap on a closed 127.0.0.1 port):
``produce`` queues, and the delivery report comes back as a timeout. Delivery to a broker is not exercised.
"""

from __future__ import annotations

import confluent_kafka
import pytest

from flowscope import naming
from flowscope_probes.context import CURRENT, Recorder
from flowscope_probes.instrumentations.confluent_kafka import ConfluentKafkaInstrumentation

BOOTSTRAP = "127.0.0.1:9"


def test_confluent_produce_records_and_uninstall_restores(rec: Recorder) -> None:
    original = confluent_kafka.Producer
    inst = ConfluentKafkaInstrumentation()
    inst.install()
    ConfluentKafkaInstrumentation().install()
    try:
        assert confluent_kafka.Producer.__wrapped__ is original  # type: ignore[attr-defined]
        config = {"bootstrap.servers": BOOTSTRAP, "log_level": 0, "message.timeout.ms": 10}
        producer = confluent_kafka.Producer(config)
        assert isinstance(producer, original)
        delivered: list[tuple[object, object]] = []
        on_delivery = lambda err, msg: delivered.append((msg.value(), msg.key()))  # noqa: E731
        assert (
            producer.produce("photo-events", value=b"51.5,-0.12", key="u-42", on_delivery=on_delivery) is None
        )
        producer.flush(5)  # the C client queued it and reports it (timed out: there is no broker)
        assert delivered == [(b"51.5,-0.12", b"u-42")]
        with pytest.raises(TypeError):
            producer.produce()  # the C method's own error
    finally:
        inst.uninstall()
    assert confluent_kafka.Producer is original
    asset = naming.kafka("photo-events", BOOTSTRAP)
    assert rec.sinks == [(asset, b"51.5,-0.12"), (asset, "u-42")]
    token = CURRENT.set(None)
    try:
        producer.produce("photo-events", value=b"later")
    finally:
        CURRENT.reset(token)
    assert len(rec.sinks) == 2
