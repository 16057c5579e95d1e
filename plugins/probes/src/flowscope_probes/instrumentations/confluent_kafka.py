"""confluent-kafka producers as sinks: ``naming.kafka(topic, <bootstrap>)`` with the value as payload.

``confluent_kafka.Producer`` is a C type, so its ``produce`` cannot be patched; install replaces the module's
``Producer`` name with a subclass that records and then calls the C method (the config given to the
constructor names the bootstrap server). Code that imported ``Producer`` before install keeps the plain one,
and producers made before install are plain: both are counted at install and reported
(:mod:`flowscope_probes.blind`).
"""

from __future__ import annotations

from typing import Any

from flowscope_probes.blind import report, unwrapped
from flowscope_probes.context import CURRENT, FAULTS
from flowscope_probes.instrument import Gate, Instrumentation, raw_attr
from flowscope_probes.instrumentations.kafka import bootstrap_of, record

STATE = Gate()
STATE.on = False
_PARAMS = ("topic", "value", "key")


def _probed(base: type) -> type:
    class ProbedProducer(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            try:
                config = args[0] if args and isinstance(args[0], dict) else kwargs
                self._flowscope_bootstrap = bootstrap_of(config.get("bootstrap.servers"))
            except Exception:
                FAULTS.add("confluent_kafka")
                self._flowscope_bootstrap = "default"

        def produce(self, *args: Any, **kwargs: Any) -> Any:
            if CURRENT.get() is not None and STATE.on:
                try:
                    got = dict(zip(_PARAMS, args, strict=False))
                    got.update({k: kwargs[k] for k in _PARAMS if k in kwargs})
                    record(got.get("topic"), got.get("value"), got.get("key"), self._flowscope_bootstrap)
                except Exception:
                    FAULTS.add("confluent_kafka")
            return super().produce(*args, **kwargs)

    ProbedProducer._flowscope_probed = True
    ProbedProducer.__name__ = ProbedProducer.__qualname__ = "Producer"
    ProbedProducer.__module__ = base.__module__
    return ProbedProducer


class ConfluentKafkaInstrumentation(Instrumentation):
    name = "confluent_kafka"
    module = "confluent_kafka"

    def _install(self) -> None:
        import confluent_kafka

        self.patch(confluent_kafka, "Producer", _probed)
        STATE.on = True

    def survey(self) -> None:
        import confluent_kafka

        base: Any = unwrapped(raw_attr(confluent_kafka, "Producer"))
        report(
            "confluent_kafka.Producer",
            base,
            lambda p: getattr(type(p), "_flowscope_probed", False),
            lambda p: True,
            base,
            "confluent_kafka.Producer",
            ("confluent_kafka",),
        )

    def _unhook(self) -> None:
        STATE.on = False

    def _hooked(self) -> bool:
        return STATE.on
