"""aiokafka producers as sinks, at ``aiokafka.AIOKafkaProducer.send`` (``send_and_wait`` goes through it):
the same assets and payloads as kafka-python (:mod:`.kafka`). The capture happens when ``send()`` is called,
in the calling task's context, before the coroutine is awaited and before the value serializer runs.
"""

from __future__ import annotations

from typing import Any

from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations import kafka
from flowscope_probes.instrumentations._base import method

_PARAMS = ("topic", "value", "key")


def _record(producer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    got = dict(zip(_PARAMS, args, strict=False))
    for name in _PARAMS:
        if name in kwargs:
            got[name] = kwargs[name]
    client = getattr(producer, "client", None)
    servers = getattr(client, "_bootstrap_servers", None)
    kafka.record(got.get("topic"), got.get("value"), got.get("key"), kafka.bootstrap_of(servers))


class AiokafkaInstrumentation(Instrumentation):
    name = "aiokafka"
    module = "aiokafka"

    def _install(self) -> None:
        import aiokafka

        self.patch(aiokafka.AIOKafkaProducer, "send", method(self, _record))
