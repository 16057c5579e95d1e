"""Log records as sinks: ``naming.log(<logger name>, system="python")`` with the message and its arguments.

``logging.Logger.handle`` is patched: it runs only for records that passed the logger's level and filters, so a
disabled ``log.debug`` costs nothing extra, and an enabled one in a sampled-out request costs one contextvar
read. The payload is ``{"message": <message>, "args": <the record's args>}``, so a value logged through
``%s`` is found both in the text and as ``args[i]``. The message is formatted only when its arguments are
builtin scalars (str, int, float, bool, bytes, None): formatting anything else runs the host's own
``__str__``, which without the probes runs only if a handler formats the record; then the message is the
unformatted template and the values are found in ``args``. A record whose ``msg`` is not a string is
skipped for the same reason. Records of the probes' own loggers (``flowscope*``) are skipped, and so is a
record whose message cannot be formatted (counted as a fault).
"""

from __future__ import annotations

import logging
from typing import Any

from flowscope import naming
from flowscope_probes.context import sink
from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations._base import method

SYSTEM = "python"


_PLAIN = (str, int, float, bool, bytes, type(None))  # formatting these runs no code of the host's


def _plain(args: object) -> bool:
    if isinstance(args, dict) and type(args) is dict:
        return all(type(v) in _PLAIN for v in args.values())
    return isinstance(args, tuple) and type(args) is tuple and all(type(v) in _PLAIN for v in args)


def _record(logger: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    record = args[0] if args else kwargs["record"]
    name = logger.name
    if name.startswith("flowscope"):
        return
    msg = record.msg
    if type(msg) is not str:
        return  # its text is the host's __str__: only a handler that formats the record may run it
    rargs = record.args
    # formatted only when that runs no host code (the arguments are builtin scalars): a lazy object's
    # __str__ runs when, and only when, one of the host's handlers formats the record
    payload: dict[str, Any] = {"message": record.getMessage() if not rargs or _plain(rargs) else msg}
    if rargs:
        payload["args"] = rargs if isinstance(rargs, dict) else list(rargs)
    sink(naming.log(name, system=SYSTEM), payload)


class LoggingInstrumentation(Instrumentation):
    name = "logging"
    module = "logging"

    def _install(self) -> None:
        self.patch(logging.Logger, "handle", method(self, _record))
