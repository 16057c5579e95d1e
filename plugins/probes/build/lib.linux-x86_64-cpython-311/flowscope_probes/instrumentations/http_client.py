"""http.client (and so urllib.request) calls as HTTP sinks, at ``http.client.HTTPConnection.request``.

Skipped when an outer client (requests, urllib3, httpx) already recorded the request. HTTPS connections are a
subclass and are seen too (scheme ``https``). Bodies as for requests (bytes or text only).
"""

from __future__ import annotations

import http.client
from typing import Any

from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations._http import client_method, header

_PARAMS = ("method", "url", "body", "headers")


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> Any:
    i = _PARAMS.index(name)
    return args[i] if len(args) > i else kwargs.get(name)


def _extract(conn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, object, str | None]:
    url = str(_arg(args, kwargs, "url"))
    if "://" not in url:
        scheme = "https" if isinstance(conn, http.client.HTTPSConnection) else "http"
        url = f"{scheme}://{conn.host}:{conn.port}{url}"
    return url, _arg(args, kwargs, "body"), header(_arg(args, kwargs, "headers"), "content-type")


class HttpClientInstrumentation(Instrumentation):
    name = "http_client"
    module = "http.client"

    def _install(self) -> None:
        self.patch(http.client.HTTPConnection, "request", client_method(self, _extract))
