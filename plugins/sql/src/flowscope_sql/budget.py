"""Per-statement limits measured in CPU time, so a result does not depend on how loaded the machine is.

In the main thread the limit is a profiling timer (``ITIMER_PROF``: CPU time the process spends, user and
system), whose SIGPROF interrupts sqlglot wherever it is; elsewhere (a worker thread, a platform without
it) the statement is bounded by the tracer's step budget and the size limit only.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


class CpuLimit:
    """Raise TimeoutError after ``seconds`` of CPU time; ``fired`` tells a timeout apart from the errors
    sqlglot wraps it in. 0 or less: no limit."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._previous: Any = None
        self._armed = (
            seconds > 0
            and threading.current_thread() is threading.main_thread()
            and hasattr(signal, "ITIMER_PROF")
        )

    def _fire(self, signum: int, frame: object) -> None:
        self.fired = True
        raise TimeoutError(f"statement took more than {self.seconds:g}s of CPU time")

    def __enter__(self) -> CpuLimit:
        if self._armed:
            self._previous = signal.signal(signal.SIGPROF, self._fire)
            signal.setitimer(signal.ITIMER_PROF, self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._armed:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, self._previous)
