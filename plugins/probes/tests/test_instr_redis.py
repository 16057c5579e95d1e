"""redis-py (through fakeredis, the real client code over an in-process server): writes as cache sinks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import fakeredis
import pytest
import redis
import redis.asyncio
import redis.asyncio.client
import redis.client

from flowscope import naming
from flowscope_probes.context import CURRENT, FAULTS, Recorder
from flowscope_probes.instrumentations import redis as probe_redis
from flowscope_probes.instrumentations.names import cluster_of, template
from flowscope_probes.instrumentations.redis import RedisInstrumentation


@pytest.fixture
def inst() -> Iterator[RedisInstrumentation]:
    i = RedisInstrumentation()
    i.install()
    yield i
    i.uninstall()


def client() -> redis.Redis:
    return fakeredis.FakeRedis(host="nearby-cache.internal", server=fakeredis.FakeServer())


def test_writes_are_cache_sinks_named_like_the_static_plugin(
    inst: RedisInstrumentation, rec: Recorder
) -> None:
    r = client()
    r.setex("last_location:42", 86400, "51.5074,-0.1278")
    r.set("session:3f2a9c1e7b004d2a", "tok")
    r.hset("user:7", mapping={"email": "a@example.org", "city": "Leeds"})
    r.lpush("feed:7", "p1", "p2")
    r.mset({"a:1": "x", "b:2": "y"})
    r.publish("events:9", "hello")
    r.get("last_location:42")  # reads record nothing
    r.delete("feed:7")
    pipe = r.pipeline()
    pipe.set("pipe:5", "queued")
    pipe.execute()
    c = "nearby-cache"
    assert rec.sinks == [
        (naming.cache("last_location:{}", c), "51.5074,-0.1278"),
        (naming.cache("session:{}", c), "tok"),
        (naming.cache("user:{}", c), {"email": "a@example.org", "city": "Leeds"}),
        (naming.cache("feed:{}", c), ["p1", "p2"]),
        (naming.cache("a:{}", c), "x"),
        (naming.cache("b:{}", c), "y"),
        (naming.cache("events:{}", c), "hello"),
        (naming.cache("pipe:{}", c), "queued"),
    ]


def test_cluster_map_setting_and_default_rule() -> None:
    assert cluster_of("nearby-cache.internal") == "nearby-cache"
    assert cluster_of("10.0.0.5") == "default" and cluster_of(None) == "default"
    assert (
        cluster_of("Cache-1.prod.example", {"cache_clusters": {"cache-1.prod.example": "sessions"}})
        == "sessions"
    )
    i = RedisInstrumentation()
    i.install({"cache_clusters": {"nearby-cache.internal": "nearby"}})
    try:
        rec = Recorder("job", "/r")
        token = CURRENT.set(rec)
        try:
            client().set("k:1", "v")
        finally:
            CURRENT.reset(token)
        assert rec.sinks == [(naming.cache("k:{}", "nearby"), "v")]
    finally:
        i.uninstall()


def test_key_prefix_rule() -> None:
    assert template("last_location:42") == "last_location:{}"
    assert template("user:550e8400-e29b-41d4-a716-446655440000:photos") == "user:{}:photos"
    assert template("img/deadbeef99/thumb") == "img/{}/thumb"
    assert template("tok:AbC123xyz456QwE789") == "tok:{}"
    assert template("user42:v2:config") == "user42:v2:config"
    assert template("/api/users/-7/posts") == "/api/users/{}/posts"


def test_nothing_recorded_without_recorder_and_host_sees_same(inst: RedisInstrumentation) -> None:
    def run() -> list[object]:
        r = client()
        out: list[object] = [r.set("a:1", "x"), r.get("a:1"), r.hset("h:1", "f", "v"), r.lpush("l:1", 1, 2)]
        with pytest.raises(redis.ResponseError) as err:
            r.lpush("a:1", "wrongtype")
        out.append(str(err.value))
        return out

    probed = run()
    inst.uninstall()
    assert run() == probed
    assert probed[:4] == [True, b"x", 1, 2]


def test_uninstall_restores_and_double_install_patches_once() -> None:
    owners = (redis.Redis, redis.client.Pipeline, redis.asyncio.Redis, redis.asyncio.client.Pipeline)
    originals = [o.__dict__["execute_command"] for o in owners]
    a, b = RedisInstrumentation(), RedisInstrumentation()
    a.install()
    b.install()
    assert b._patched == [] and len(a._patched) == 4
    assert [o.__dict__["execute_command"].__wrapped__ for o in owners] == originals
    a.uninstall()
    assert [o.__dict__["execute_command"] for o in owners] == originals


def test_probe_fault_is_counted_not_raised(
    inst: RedisInstrumentation, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("probe bug")

    monkeypatch.setattr(probe_redis, "cache_asset", broken)
    before = FAULTS.counts.get("redis", 0)
    r = client()
    assert r.set("k:1", "v") is True and r.get("k:1") == b"v"
    assert FAULTS.counts["redis"] == before + 1
    assert rec.sinks == []


def test_asyncio_client_and_pipeline(inst: RedisInstrumentation, rec: Recorder) -> None:
    async def go() -> list[object]:
        r = fakeredis.FakeAsyncRedis(host="nearby-cache.internal", server=fakeredis.FakeServer())
        out: list[object] = [await r.set("last_location:7", "1.5,2.5"), await r.get("last_location:7")]
        async with r.pipeline() as pipe:
            pipe.hset("user:7", mapping={"email": "b@example.org"})
            out.append(await pipe.execute())
        await r.aclose()
        return out

    assert asyncio.run(go()) == [True, b"1.5,2.5", [1]]
    assert asyncio.iscoroutinefunction(redis.asyncio.Redis.execute_command)
    assert rec.sinks == [
        (naming.cache("last_location:{}", "nearby-cache"), "1.5,2.5"),
        (naming.cache("user:{}", "nearby-cache"), {"email": "b@example.org"}),
    ]
