"""requests calls as HTTP sinks, at ``requests.Session.send`` (where OpenTelemetry's instrumentation hooks too).

The prepared request's URL gives the asset (``naming.http(<path template>, <host:port>)``) and the query fields;
the body gives a second sink: form bodies as ``{key: value}``, JSON and text as text (the matcher decodes JSON
inside text, so JSON fields keep their keys as sink paths). Streamed and file bodies are not read.
"""

from __future__ import annotations

from typing import Any

from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations._http import client_method, header


def _extract(session: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, object, str | None]:
    request = args[0] if args else kwargs["request"]
    return str(request.url), request.body, header(request.headers, "content-type")


class RequestsInstrumentation(Instrumentation):
    name = "requests"
    module = "requests"

    def _install(self) -> None:
        import requests

        self.patch(requests.Session, "send", client_method(self, _extract))
