"""Pause Python's cyclic garbage collector for a bulk phase (reading, deriving or storing a million edges).

Such a phase allocates millions of small containers (event dicts, signals, edges and their sets) and
frees almost none, so every few hundred allocations the collector runs and, as the heap grows, keeps
re-scanning everything already built: measured on ``bench/ingest_bench.py`` (174k column edges), the
collector was more than half the CPU time of reading and deriving. None of these structures form
reference cycles, so nothing is left for the collector to find; reference counting still frees them. The
collector is switched back on (if it was on) when the phase ends, whatever happens inside.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The cyclic collector off for the ``with`` block; nested uses leave it to the outermost one."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
