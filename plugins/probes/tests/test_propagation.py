"""The request's recorder follows the work it starts: threads, executors, asyncio tasks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

import flowscope_probes
from flowscope_probes.context import Recorder


def sink_names(rec: Recorder) -> set[str]:
    return {a.name for a, _ in rec.sinks}


def threaded_app() -> Flask:
    app = Flask("threads")
    pool = ThreadPoolExecutor(2)

    @app.route("/fan-out")
    def fan_out() -> str:
        pool.submit(flowscope_probes.sink, "pool", "from the executor").result()
        t = threading.Thread(target=flowscope_probes.sink, args=("thread", "from a thread"))
        t.start()
        t.join()
        manual = threading.Thread(target=flowscope_probes.wrap(flowscope_probes.sink), args=("wrapped", "x"))
        manual.start()
        manual.join()
        return "ok"

    return app


def test_threads_and_executors_carry_the_recorder(
    probes: Callable[..., Any], finished: list[Recorder]
) -> None:
    probes()
    threaded_app().test_client().get("/fan-out")
    assert sink_names(finished[0]) == {"pool", "thread", "wrapped"}


def test_without_the_threads_instrumentation_only_wrap_carries_it(
    probes: Callable[..., Any], finished: list[Recorder]
) -> None:
    probes(disable=["threads"])
    threaded_app().test_client().get("/fan-out")
    assert sink_names(finished[0]) == {"wrapped"}


def test_asyncio_tasks_and_to_thread_inherit_it(probes: Callable[..., Any], finished: list[Recorder]) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()

    async def write(name: str) -> None:
        await asyncio.sleep(0)
        flowscope_probes.sink(name, "from a task")

    @app.get("/gather")
    async def gather_things() -> dict[str, bool]:
        await asyncio.gather(write("task-a"), write("task-b"))
        task = asyncio.create_task(write("task-c"))
        await task
        await asyncio.to_thread(flowscope_probes.sink, "to-thread", "x")
        await asyncio.get_running_loop().run_in_executor(None, flowscope_probes.sink, "executor", "y")
        return {"ok": True}

    probes()
    assert TestClient(app).get("/gather").json() == {"ok": True}
    (rec,) = finished
    assert rec.job.name == "gather_things"
    assert sink_names(rec) == {"task-a", "task-b", "task-c", "to-thread", "executor"}


def test_concurrent_requests_keep_their_own_recorders(
    probes: Callable[..., Any], finished: list[Recorder]
) -> None:
    app = Flask("concurrent")
    barrier = threading.Barrier(4)

    @app.route("/r/<int:n>")
    def handle(n: int) -> str:
        barrier.wait(5)
        flowscope_probes.sink(f"sink-{n}", "v")
        return "ok"

    probes()
    threads = [threading.Thread(target=app.test_client().get, args=(f"/r/{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sink_names(r).pop() for r in finished) == [f"sink-{n}" for n in range(4)]
