"""httpx calls as HTTP sinks, at ``httpx.Client.send`` and ``httpx.AsyncClient.send`` (every request of a
client goes through them; the wrapper of the async one stays a coroutine function).

Asset and payloads as for requests: the URL's path template and host, the query fields, and the body when it
was built in memory (``content=``, ``data=``, ``json=``); a streamed body is not read.
"""

from __future__ import annotations

from typing import Any

from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations._http import async_client_method, client_method, header


def _extract(client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, object, str | None]:
    request = args[0] if args else kwargs["request"]
    body = request.__dict__.get("_content")  # only present once the body is in memory; never read a stream
    return str(request.url), body, header(request.headers, "content-type")


class HttpxInstrumentation(Instrumentation):
    name = "httpx"
    module = "httpx"

    def _install(self) -> None:
        import httpx

        self.patch(httpx.Client, "send", client_method(self, _extract))
        self.patch(httpx.AsyncClient, "send", async_client_method(self, _extract))
