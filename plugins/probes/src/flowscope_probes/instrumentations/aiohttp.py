"""aiohttp client calls as HTTP sinks, at ``aiohttp.ClientSession._request`` (every ``get``/``post``/
``request`` of a session goes through it; the wrapper stays a coroutine function and records when the request
is awaited, in the awaiting task).

Asset and payloads as for the other clients: the URL's path template and host (joined to the session's
``base_url``), the query fields (``params=`` included), and the body when it is in memory: ``json=`` as the
object, ``data=`` as a form (a dict) or as text/bytes. ``FormData``, files and streams are not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations._http import async_client_method, header


def _extract(session: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, object, str | None]:
    target = args[1] if len(args) > 1 else kwargs["str_or_url"]
    build = getattr(session, "_build_url", None)
    url = str(build(target) if build is not None else target)
    params = kwargs.get("params")
    if params:
        pairs = list(params.items()) if isinstance(params, Mapping) else params
        query = urlencode([(str(k), str(v)) for k, v in pairs])
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    if kwargs.get("json") is not None:
        return url, kwargs["json"], "application/json"
    data = kwargs.get("data")
    if isinstance(data, Mapping):
        return url, dict(data), "application/x-www-form-urlencoded"
    return url, data, header(kwargs.get("headers"), "content-type")


class AiohttpInstrumentation(Instrumentation):
    name = "aiohttp"
    module = "aiohttp"

    def _install(self) -> None:
        import aiohttp

        self.patch(aiohttp.ClientSession, "_request", async_client_method(self, _extract))
