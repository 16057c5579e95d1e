"""redis-py writes as sinks: ``naming.cache(<key prefix>, <cluster>)`` with the written value as payload.

``redis.Redis.execute_command`` (every command of a client, fakeredis included),
``redis.client.Pipeline.execute_command`` (commands queued in a pipeline, recorded when queued) and their
``redis.asyncio`` counterparts are patched.
Key prefix and cluster follow :mod:`flowscope_probes.instrumentations.names`. Payloads per command:

* ``SET SETNX GETSET APPEND SETEX PSETEX SETRANGE LSET``: the value;
* ``MSET MSETNX``: one sink per key with its value;
* ``HSET HSETNX HMSET``: ``{field: value}``;
* ``LPUSH RPUSH LPUSHX RPUSHX SADD``: the list of values; ``ZADD``: the members;
* ``PUBLISH``: the message, under the channel's prefix; ``XADD``: ``{field: value}`` of the entry.

Other commands (reads, deletes, expiries) record nothing.
"""

from __future__ import annotations

from typing import Any

from flowscope_probes.context import sink
from flowscope_probes.instrument import Instrumentation
from flowscope_probes.instrumentations._base import async_method, method
from flowscope_probes.instrumentations.names import cache_asset

_LISTS = {"LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "SADD"}
_HASHES = {"HSET", "HSETNX", "HMSET"}
_ZADD_FLAGS = {b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR", "NX", "XX", "GT", "LT", "CH", "INCR"}


def _text(key: object) -> str:
    return key.decode("utf-8", "replace") if isinstance(key, bytes | bytearray) else str(key)


def _pairs(items: tuple[Any, ...]) -> dict[str, Any]:
    return {_text(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)}


def payloads(command: str, args: tuple[Any, ...]) -> list[tuple[object, object]]:
    """(key, payload) pairs a write command sends; empty for commands that write no value."""
    if not args:
        return []
    key, rest = args[0], args[1:]
    if command in {"SET", "SETNX", "GETSET", "APPEND", "PUBLISH", "SPUBLISH"}:
        return [(key, rest[0])] if rest else []
    if command in {"SETEX", "PSETEX", "SETRANGE", "LSET"}:
        return [(key, rest[1])] if len(rest) > 1 else []
    if command in {"MSET", "MSETNX"}:
        return [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]
    if command in _HASHES:
        if command == "HSETNX":
            return [(key, {_text(rest[0]): rest[1]})] if len(rest) > 1 else []
        return [(key, _pairs(rest))] if rest else []
    if command in _LISTS:
        return [(key, list(rest))] if rest else []
    if command == "ZADD":
        body = [a for a in rest if not (isinstance(a, str | bytes) and a in _ZADD_FLAGS)]
        return [(key, body[1::2])] if body else []
    if command == "XADD":
        return [(key, _pairs(rest[-(len(rest) // 2) * 2 :]))] if len(rest) > 1 else []
    return []


def _host(client: Any) -> str | None:
    pool = getattr(client, "connection_pool", None)
    kwargs = getattr(pool, "connection_kwargs", None) or {}
    host = kwargs.get("host")
    return str(host) if host else None


class RedisInstrumentation(Instrumentation):
    name = "redis"
    module = "redis"

    def _install(self) -> None:
        import redis
        import redis.client

        self.patch(redis.Redis, "execute_command", method(self, self._record))
        self.patch(redis.client.Pipeline, "execute_command", method(self, self._record))
        try:
            import redis.asyncio.client as aio
        except ImportError:  # pragma: no cover - redis-py without asyncio support
            return
        self.patch(aio.Redis, "execute_command", async_method(self, self._record))
        # an async pipeline queues commands synchronously (execute_command returns the pipeline itself)
        self.patch(aio.Pipeline, "execute_command", method(self, self._record))

    def _record(self, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not args:
            return
        command = _text(args[0]).upper()
        found = payloads(command, args[1:])
        if not found:
            return
        host = _host(client)
        for key, payload in found:
            sink(cache_asset(key, host, self.settings), payload)
