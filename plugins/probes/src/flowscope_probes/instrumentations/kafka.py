"""kafka-python producers as sinks, at ``kafka.KafkaProducer.send``: ``naming.kafka(topic, <bootstrap>)``
(OpenLineage's ``kafka://host:port``, the first bootstrap server) with the value as payload, before the
producer's serializer runs (so a dict keeps its keys as sink paths), and the message key as a second sink
when there is one.
"""

from __future__ import annotations

from typing import Any

from flowscope import naming
from flowscope_probes.context import sink
from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations._base import method

_PARAMS = ("topic", "value", "key")


def bootstrap_of(servers: object) -> str:
    """``host:port`` of the first bootstrap server (``"a:9092,b:9092"`` or a list); port 9092 by default."""
    if isinstance(servers, list | tuple):
        servers = servers[0] if servers else ""
    first = str(servers or "").split(",")[0].strip()
    first = first.rpartition("://")[2].rpartition("@")[2]  # SASL_SSL://user:password@host -> host
    if not first:
        return naming.DEFAULT_SYSTEM
    return first if ":" in first else f"{first}:9092"


def record(topic: object, value: object, key: object, bootstrap: str) -> None:
    asset = naming.kafka(str(topic), bootstrap)
    if value is not None:
        sink(asset, value)
    if key is not None:
        sink(asset, key)


def record_send(args: tuple[Any, ...], kwargs: dict[str, Any], servers: object) -> None:
    """Record a producer's ``send(topic, value=None, key=None, ...)`` call (kafka-python and aiokafka)."""
    got = dict(zip(_PARAMS, args, strict=False))
    for name in _PARAMS:
        if name in kwargs:
            got[name] = kwargs[name]
    record(got.get("topic"), got.get("value"), got.get("key"), bootstrap_of(servers))


def _record(producer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    config = getattr(producer, "config", None) or {}
    record_send(args, kwargs, config.get("bootstrap_servers"))


class KafkaInstrumentation(Instrumentation):
    name = "kafka"
    module = "kafka"

    def _install(self) -> None:
        import kafka

        self.patch(kafka.KafkaProducer, "send", method(self, _record))
