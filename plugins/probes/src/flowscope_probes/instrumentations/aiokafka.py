"""aiokafka producers as sinks, at ``aiokafka.AIOKafkaProducer.send`` (``send_and_wait`` goes through it):
the same assets and payloads as kafka-python (:mod:`.kafka`). The capture happens when ``send()`` is called,
in the calling task's context, before the coroutine is awaited and before the value serializer runs.
"""

from __future__ import annotations

from typing import Any

from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations import kafka
from flowscope_probes.instrumentations._base import method


def _record(producer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    client = getattr(producer, "client", None)
    kafka.record_send(args, kwargs, getattr(client, "_bootstrap_servers", None))


class AiokafkaInstrumentation(Instrumentation):
    name = "aiokafka"
    module = "aiokafka"

    def _install(self) -> None:
        import aiokafka

        self.patch(aiokafka.AIOKafkaProducer, "send", method(self, _record))
