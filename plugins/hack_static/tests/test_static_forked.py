"""Work shared between the scan's process and its forked children (``forked.share``)."""

from __future__ import annotations

import os
import time

import pytest

from flowscope_hack_static import forked

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="processes do not fork here")


def test_every_item_is_done_once_by_the_parent_or_a_child() -> None:
    parent = os.getpid()

    def work(i: int) -> tuple[int, bool]:
        time.sleep(0.002)  # long enough for the children to start
        return i * i, os.getpid() == parent

    out = forked.share(200, work, helpers=2, take=3)
    assert [value for value, _ in out] == [i * i for i in range(200)]
    by_parent = sum(1 for _, here in out if here)
    assert 0 < by_parent < 200  # both sides worked


def test_large_results_come_back_whole() -> None:  # far more than a pipe holds
    out = forked.share(40, lambda i: bytes([i]) * 300_000, helpers=1)
    assert [len(x) for x in out] == [300_000] * 40 and out[7][0] == 7


def test_a_child_that_raises_fails_the_run_with_its_traceback() -> None:
    parent = os.getpid()

    def work(i: int) -> int:
        if os.getpid() != parent:
            raise ValueError(f"bad item {i}")
        time.sleep(0.01)
        return i

    with pytest.raises(forked.WorkerFailed, match=r"ValueError: bad item"):
        forked.share(50, work, helpers=1)


def test_a_child_that_dies_fails_the_run() -> None:
    parent = os.getpid()

    def work(i: int) -> int:
        if os.getpid() != parent:
            os._exit(9)  # killed, out of memory: no word from it
        time.sleep(0.01)
        return i

    with pytest.raises(forked.WorkerFailed, match="died"):
        forked.share(50, work, helpers=1)


def test_an_error_in_the_parent_stops_the_children() -> None:
    parent = os.getpid()

    def work(i: int) -> int:
        if os.getpid() == parent:
            raise KeyError("parent")
        time.sleep(0.05)
        return i

    start = time.perf_counter()
    with pytest.raises(KeyError):
        forked.share(1000, work, helpers=1)
    assert time.perf_counter() - start < 10  # the child was killed, not waited for over 1000 items
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # and reaped
