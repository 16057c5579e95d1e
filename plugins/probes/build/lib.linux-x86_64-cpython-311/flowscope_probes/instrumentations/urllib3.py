"""urllib3 calls as HTTP sinks, at ``urllib3.connectionpool.HTTPConnectionPool.urlopen``.

Skipped when an outer client (requests) already recorded the same request. The URL is rebuilt from the pool's
scheme, host and port and the request's path; bodies as for requests (bytes or text only).
"""

from __future__ import annotations

from typing import Any

from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations._http import client_method, header

_PARAMS = ("method", "url", "body", "headers")


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> Any:
    i = _PARAMS.index(name)
    return args[i] if len(args) > i else kwargs.get(name)


def _extract(pool: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, object, str | None]:
    url = str(_arg(args, kwargs, "url"))
    if "://" not in url:
        port = f":{pool.port}" if pool.port else ""
        url = f"{pool.scheme}://{pool.host}{port}{url}"
    return url, _arg(args, kwargs, "body"), header(_arg(args, kwargs, "headers"), "content-type")


class Urllib3Instrumentation(Instrumentation):
    name = "urllib3"
    module = "urllib3"

    def _install(self) -> None:
        import urllib3.connectionpool

        self.patch(urllib3.connectionpool.HTTPConnectionPool, "urlopen", client_method(self, _extract))
