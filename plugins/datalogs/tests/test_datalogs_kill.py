"""``kill -9`` during a run, then ``run`` again: the packages are byte for byte those of an uninterrupted
run, no finished partition is joined again, and no row is duplicated.

Each case starts the real CLI in a subprocess that sends itself SIGKILL at a chosen point: just before
the Nth call of a checkpoint method, i.e. after the work that checkpoint records was written but before
it was committed — the widest window a crash can hit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Result, delivered, run_args, unzip
from flowscope_datalogs.state import State

WRAPPER = """
import os, signal, sys
import flowscope_datalogs.batch
from flowscope_datalogs.state import State
flowscope_datalogs.batch.CHECKPOINT_EVERY = int(os.environ.get("CHECKPOINT_EVERY", "200"))
method, nth, status = sys.argv[1], int(sys.argv[2]), sys.argv[3]
real = getattr(State, method)
calls = {"n": 0}
def dying(self, *args, **kwargs):
    said = [str(a) for a in args] + [str(m[1]) for a in args if isinstance(a, list) for m in a]
    if status in ("any", *said):
        calls["n"] += 1
        if calls["n"] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(self, *args, **kwargs)
setattr(State, method, dying)
from flowscope.cli import main
main(sys.argv[4:])
"""

POINTS = [
    ("mark_part", 5, "done", 1),  # partition 5 joined and placed, its checkpoint not yet committed
    ("set_verified", 2, "any", 1),  # while recording the owner check
    ("mark_packages", 1, "staged", 1),  # packages written to staging, not yet checkpointed
    # two packaging processes, a checkpoint per package: killed after the first package's checkpoint,
    # while the workers stage the others
    ("mark_packages", 2, "staged", 2),
    ("mark_packages", 1, "delivered", 1),  # packages moved into the delivery folder, not yet checkpointed
    ("set_batch", 1, "done", 1),  # everything delivered and the lineage stored, the batch not yet closed
]


@pytest.fixture
def reference(example: Path, cli: Callable[..., Result]) -> dict[str, bytes]:
    ref = example / "ref"
    args = run_args(example)
    args[args.index("--delivery") + 1] = str(ref / "delivery")
    args[args.index("--state") + 1] = str(ref / "state")
    assert cli(*args).code == 0
    return delivered(ref / "delivery")


@pytest.mark.parametrize(
    ("method", "nth", "status", "workers"), POINTS, ids=[f"{m}-{n}-{s}-w{w}" for m, n, s, w in POINTS]
)
def test_kill_9_then_run_gives_the_packages_of_an_uninterrupted_run(
    example: Path,
    cli: Callable[..., Result],
    reference: dict[str, bytes],
    method: str,
    nth: int,
    status: str,
    workers: int,
) -> None:
    args = ["--store", str(example / "store"), "datalogs", *run_args(example, "--workers", str(workers))]
    killed = subprocess.run(
        [sys.executable, "-c", WRAPPER, method, str(nth), status, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CHECKPOINT_EVERY": "1" if workers > 1 else "200"},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    state = State(example / "state")
    try:
        [batch] = state.batches()
        before = {(p.table, p.key): p for p in state.parts(batch.batch_id)}
    finally:
        state.close()
    assert batch.status != "done"

    again = cli(*run_args(example, "--json"))
    assert again.code == 0, again.err
    report = json.loads(again.out)
    [resumed] = report["batches"]
    assert resumed["batch"] == batch.batch_id and report["new_requests"] == 0

    state = State(example / "state")
    try:
        after = {(p.table, p.key): p for p in state.parts(batch.batch_id)}
    finally:
        state.close()
    for key, part in before.items():  # a partition finished before the kill is not joined again
        if part.status == "done":
            assert after[key].attempts == part.attempts == 1, key
    assert resumed["partitions_joined_now"] == sum(p.status != "done" for p in before.values())

    packages = delivered(example / "delivery")
    assert packages == reference  # byte-identical: no lost, changed or duplicated row
    assert len(list((example / "delivery").glob("*.zip"))) == len(reference)  # and no stray package
    for data in packages.values():
        manifest = json.loads(unzip(data)["manifest.json"])
        assert manifest["batch"] == batch.batch_id
