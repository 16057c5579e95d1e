"""Log records as sinks: ``naming.log(<logger name>, system="python")`` with the message and its arguments.

``logging.Logger.handle`` is patched: it runs only for records that passed the logger's level and filters, so a
disabled ``log.debug`` costs nothing extra, and an enabled one in a sampled-out request costs one contextvar
read. The payload is ``{"message": <formatted message>, "args": <the record's args>}``, so a value logged
through ``%s`` is found both in the text and as ``args[i]``. Records of the probes' own loggers
(``flowscope*``) are skipped, and so is a record whose message cannot be formatted (counted as a fault).
"""

from __future__ import annotations

import logging
from typing import Any

from flowscope import naming
from flowscope_probes.context import sink
from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations._base import method

SYSTEM = "python"


def _record(logger: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    record = args[0] if args else kwargs["record"]
    name = logger.name
    if name.startswith("flowscope"):
        return
    payload: dict[str, Any] = {"message": record.getMessage()}
    if record.args:
        payload["args"] = record.args if isinstance(record.args, dict) else list(record.args)
    sink(naming.log(name, system=SYSTEM), payload)


class LoggingInstrumentation(Instrumentation):
    name = "logging"
    module = "logging"

    def _install(self) -> None:
        self.patch(logging.Logger, "handle", method(self, _record))
