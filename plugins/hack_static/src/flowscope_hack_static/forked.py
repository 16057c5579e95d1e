"""Items of work shared by this process and forked children, on platforms whose processes fork.

The parent is one of the workers: it takes items from the back of the list, the children from the front
(``take`` at a time), under one lock on two counters in shared memory, until they meet. Each child
pickles its results into its own pipe, widened to 1 MiB so that it rarely waits for the parent, and the
parent reads the pipes between items of its own and at the end. The parent runs no threads: with a
``ProcessPoolExecutor`` its result and feeder threads took ~15% of its CPU time and kept its main thread
waiting for the GIL, and only the children's share of the results is pickled at all.

Why pickle is allowed here when the cache may never unpickle: these pickles never touch a file. Each is
made by a child this process forked a moment before, from its own results, and read by this process from
the anonymous pipe it created for that child; nothing outside the two processes can write into it. That is
process-internal data, like a ``multiprocessing`` pool's, not input. Files, caches and logs are untrusted
and are never unpickled (the cache is plain data: :mod:`flowscope_hack_static.cachecodec`).

A child that fails sends its traceback; one that dies (killed, out of memory) closes its pipe early. Either
way the parent raises, after stopping the other children.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import select
import signal
import traceback
from collections.abc import Callable
from typing import Any

_F_SETPIPE_SZ = 1031  # Linux fcntl: a pipe's buffer size
_HEADER = 8  # bytes of a message's length


class WorkerFailed(RuntimeError):
    """A forked worker raised or died; the message says which and how."""


def can_fork() -> bool:
    return hasattr(os, "fork") and multiprocessing.get_start_method() == "fork"


def share(count: int, work: Callable[[int], Any], helpers: int, take: int = 2) -> list[Any]:
    """``[work(i) for i in range(count)]``, computed here and in ``helpers`` forked children."""
    context = multiprocessing.get_context("fork")
    bounds = context.RawArray("q", [0, count])  # the front's next item, the back's end
    lock = context.Lock()
    out: list[Any] = [None] * count
    done = [False] * count
    children: dict[int, int] = {}  # read end of its pipe -> pid
    try:
        for _ in range(helpers):
            read, write = os.pipe()
            with contextlib.suppress(OSError, AttributeError):
                import fcntl

                fcntl.fcntl(write, _F_SETPIPE_SZ, 1 << 20)
            pid = os.fork()
            if pid == 0:  # the child: never returns
                os.close(read)
                for fd in children:
                    os.close(fd)
                _child(write, bounds, lock, work, take)
            os.close(write)
            os.set_blocking(read, False)
            children[read] = pid
        buffers = {fd: bytearray() for fd in children}
        while True:
            with lock:
                if bounds[0] >= bounds[1]:
                    break
                bounds[1] -= 1
                i = bounds[1]
            out[i], done[i] = work(i), True
            _drain(buffers, out, done, wait=False)
        while buffers:
            _drain(buffers, out, done, wait=True)
    finally:
        _reap(children)
    missing = done.count(False)
    if missing:
        raise WorkerFailed(f"a worker process died before finishing its work ({missing} items left)")
    return out


def _child(write: int, bounds: Any, lock: Any, work: Callable[[int], Any], take: int) -> None:
    status = 0
    try:
        while True:
            with lock:
                start = bounds[0]
                if start >= bounds[1]:
                    break
                stop = bounds[0] = min(start + take, bounds[1])
            _send(
                write, pickle.dumps((start, [work(i) for i in range(start, stop)]), pickle.HIGHEST_PROTOCOL)
            )
    except BaseException:
        status = 1
        with contextlib.suppress(BaseException):
            _send(write, pickle.dumps((-1, traceback.format_exc()), pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(status)


def _send(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(_HEADER, "little") + data)
    while view:
        view = view[os.write(fd, view) :]


def _drain(buffers: dict[int, bytearray], out: list[Any], done: list[bool], wait: bool) -> None:
    """Read what the children sent; with ``wait``, block until at least one pipe has something or ends."""
    ready = select.select(list(buffers), [], [])[0] if wait else list(buffers)
    for fd in ready:
        buf = buffers[fd]
        ended = False
        while True:
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                ended = True
                break
            buf += chunk
        while len(buf) >= _HEADER:
            size = int.from_bytes(buf[:_HEADER], "little")
            if len(buf) < _HEADER + size:
                break
            start, results = pickle.loads(buf[_HEADER : _HEADER + size])
            del buf[: _HEADER + size]
            if start < 0:
                raise WorkerFailed(f"a worker process failed:\n{results}")
            for k, result in enumerate(results):
                out[start + k], done[start + k] = result, True
        if ended:
            del buffers[fd]


def _reap(children: dict[int, int]) -> None:
    """Wait for every child; one still running (the parent is unwinding an error) is killed first."""
    for fd, pid in children.items():
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(ChildProcessError, OSError):
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
