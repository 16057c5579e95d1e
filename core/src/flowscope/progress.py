"""Progress of long work (scans, ingests, emits) on stderr: a rich bar with counts on a terminal, one plain
line every few seconds otherwise (CI logs and pipes then still show that the work moves, without the
carriage-return redraws a bar writes).

``FLOWSCOPE_PROGRESS`` chooses: ``bar``, ``lines``, ``off``, or unset (a bar on a terminal, lines
elsewhere). ``FLOWSCOPE_PROGRESS_EVERY`` sets the seconds between plain lines (default 10): work shorter
than that prints nothing. Names shown come from data, so they go through :mod:`flowscope.terminal`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from flowscope.terminal import clean, console, markup

MODE_ENV = "FLOWSCOPE_PROGRESS"
EVERY_ENV = "FLOWSCOPE_PROGRESS_EVERY"
DEFAULT_EVERY = 10.0

# advance(n, note): n more items done; note (optional) says what is being worked on now.
Advance = Callable[..., None]


def mode(enabled: bool = True) -> str:
    """``bar``, ``lines`` or ``off`` for this process (``enabled=False``: the command asked for quiet)."""
    chosen = os.environ.get(MODE_ENV, "").strip().lower()
    if not enabled or chosen == "off":
        return "off"
    if chosen in ("bar", "lines"):
        return chosen
    return "bar" if sys.stderr.isatty() else "lines"


def _every() -> float:
    try:
        return max(0.0, float(os.environ.get(EVERY_ENV, DEFAULT_EVERY)))
    except ValueError:
        return DEFAULT_EVERY


class Lines:
    """One line per interval: ``ingest: 120/400 files, 35000 events (12s)``."""

    def __init__(self, label: str, total: int | None, unit: str, stream: TextIO) -> None:
        self.label, self.total, self.unit, self.stream = label, total, unit, stream
        self.done = 0
        self.extra: dict[str, int] = {}
        self.start = self.last = time.monotonic()
        self.every = _every()

    def advance(self, n: int = 1, note: str = "", **counts: int) -> None:
        self.done += n
        for key, value in counts.items():
            self.extra[key] = self.extra.get(key, 0) + value
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            of = f"/{self.total}" if self.total is not None else ""
            more = "".join(f", {v} {k}" for k, v in self.extra.items())
            where = f" ({clean(note)})" if note else ""
            print(
                f"{self.label}: {self.done}{of} {self.unit}{more}{where} ({now - self.start:.0f}s)",
                file=self.stream,
                flush=True,
            )


@contextmanager
def progress(
    label: str, total: int | None = None, unit: str = "items", enabled: bool = True
) -> Iterator[Advance]:
    """Yields ``advance(n=1, note="", **counts)``; extra counts (``events=12``) are summed and shown."""
    how = mode(enabled)
    if how == "off":
        yield lambda n=1, note="", **counts: None
        return
    if how == "lines":
        yield Lines(label, total, unit, sys.stderr).advance
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit)]
    if total is None:
        columns = [TextColumn("{task.description}"), TextColumn("{task.completed} " + unit)]
    columns += [TextColumn("{task.fields[extra]}"), TimeElapsedColumn()]
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task: TaskID = bar.add_task(markup(label), total=total, extra="")
        extra: dict[str, int] = {}

        def advance(n: int = 1, note: str = "", **counts: int) -> None:
            for key, value in counts.items():
                extra[key] = extra.get(key, 0) + value
            shown = ", ".join(f"{v} {k}" for k, v in extra.items())
            bar.update(task, advance=n, extra=markup(shown + (f"  {note}" if note else "")))

        yield advance
