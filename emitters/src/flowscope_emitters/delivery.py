"""Delivery of stored events to one target: retries with backoff, a spool that keeps what was not delivered.

Outcomes of one attempt, decided by the sender:

- delivered;
- :class:`Transient` (a timeout, a refused connection, a 5xx): retried with exponential backoff; when the
  retries run out the backend counts as dead, and this event and every later one go to the spool
  without being tried (a dead server would hold each of them through its retries);
- :class:`Refused` (401, 403, 404, 405: wrong credentials or URL): nothing else will get through either,
  so this event and the rest are spooled at once, and replayed once the configuration is fixed;
- :class:`Rejected` (any other 4xx: this event is bad): reported with its runId, never retried, kept in
  ``rejected.jsonl`` for inspection (the store still holds it).

The spool is ``<store>/spool/<target>.jsonl``: one line per event, ``{"to", "target", "event"}``, so
``flowscope emit --replay`` knows where each one was going. A crash can cut the last line short; reading
stops at the last whole line and reports the damage instead of failing.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from flowscope import private
from flowscope.redact import redact, url_without_credentials

SPOOL_DIR = "spool"
REJECTED = "rejected.jsonl"


class Transient(Exception):
    """Worth retrying: a timeout, a connection failure, a 5xx."""


class Refused(Exception):
    """The target refuses everything (auth, wrong URL): stop and spool the rest."""


class Rejected(Exception):
    """The target refuses this one event (a 4xx other than auth): report and move on."""


REFUSED = frozenset({401, 403, 404, 405})  # the target refuses everything: credentials or URL


def http_failure(status: int, reason: str) -> Exception:
    """The delivery outcome of an HTTP status: retry (0 = no answer, 5xx, 429), a refusing target, a bad event."""
    if status == 0 or status >= 500 or status == 429:
        return Transient(reason)
    if status in REFUSED:
        return Refused(reason)
    return Rejected(reason)


class Sender(Protocol):
    """Sends one event (an OpenLineage event as a dict) or raises one of the exceptions above."""

    to: str
    target: str

    def send(self, event: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class Backoff:
    """``attempts`` tries per event, waiting ``base * 2**n`` seconds (at most ``cap``) between them."""

    attempts: int = 4
    base: float = 0.5
    cap: float = 8.0

    def delays(self) -> Iterator[float]:
        for n in range(self.attempts - 1):
            yield min(self.cap, self.base * 2**n)


@dataclass
class Outcome:
    sent: int = 0
    spooled: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (runId, reason)
    failure: str | None = None  # why the rest was spooled
    unit: str = "event"  # what was sent: events, or a sender's own records (Marquez tags)

    @property
    def ok(self) -> bool:
        return not self.rejected and self.failure is None


def run_id(event: Mapping[str, Any]) -> str:
    run = event.get("run")
    return str(run.get("runId", "?")) if isinstance(run, Mapping) else "?"


def deliver(
    events: Iterable[Mapping[str, Any]],
    sender: Sender,
    spool: Spool,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Send every event; what the target did not take is in the spool when this returns."""
    out = Outcome(unit=getattr(sender, "unit", "event"))
    label: Callable[[Mapping[str, Any]], str] = getattr(sender, "label", run_id)
    pending: list[Mapping[str, Any]] = []
    for event in events:
        if out.failure is not None:
            pending.append(event)
            continue
        delays = backoff.delays()
        while True:
            try:
                sender.send(event)
                out.sent += 1
                break
            except Rejected as exc:
                out.rejected.append((label(event), str(exc)))
                spool.reject(sender, event, str(exc))
                break
            except Refused as exc:
                out.failure = str(exc)
                pending.append(event)
                break
            except Transient as exc:
                delay = next(delays, None)
                if delay is None:
                    out.failure = f"{exc} (gave up after {backoff.attempts} attempts)"
                    pending.append(event)
                    break
                sleep(delay)
    if pending:
        spool.add(sender.to, sender.target, pending)
        out.spooled = len(pending)
    return out


@dataclass
class SpoolRead:
    """What a spool file held: whole records, and a note per damaged file."""

    records: list[dict[str, Any]]
    damage: list[str]


class Spool:
    """``<store>/spool``: events a target did not take, grouped by target, appended as JSON lines."""

    def __init__(self, store_dir: Path) -> None:
        self.directory = Path(store_dir) / SPOOL_DIR

    def file_for(self, to: str, target: str) -> Path:
        digest = hashlib.sha256(f"{to} {url_without_credentials(target)}".encode()).hexdigest()[:12]
        return self.directory / f"{to}-{digest}.jsonl"

    def add(self, to: str, target: str, events: Iterable[Mapping[str, Any]]) -> None:
        # Credentials in the target (user:password@, ?token=) are not spooled: a replay authenticates
        # from the environment, as documented in emitters/README.md.
        where = url_without_credentials(target)
        lines = [json.dumps({"to": to, "target": where, "event": e}, sort_keys=True) for e in events]
        self._append(self.file_for(to, target), lines)

    def reject(self, sender: Sender, event: Mapping[str, Any], reason: str) -> None:
        record = {
            "to": sender.to,
            "target": url_without_credentials(sender.target),
            "reason": redact(reason),
            "event": event,
        }
        self._append(self.directory / REJECTED, [json.dumps(record, sort_keys=True)])

    def _append(self, path: Path, lines: list[str]) -> None:
        private.make_dir(self.directory)  # 0700 / 0600: spooled events are lineage of personal data
        with os.fdopen(private.open_fd(path, os.O_WRONLY | os.O_APPEND), "a", encoding="utf-8") as f:
            # A previous crash may have left a partial line: start ours on a fresh one.
            if f.tell() and not _ends_with_newline(path):
                f.write("\n")
            f.write("".join(line + "\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())

    def files(self, with_replays: bool = False) -> list[Path]:
        """Spool files waiting for a replay (and, with ``with_replays``, ones a crashed replay left)."""
        if not self.directory.is_dir():
            return []
        found = [p for p in self.directory.glob("*.jsonl") if p.name != REJECTED]
        if with_replays:
            found += self.directory.glob("*.jsonl.replay")
        return sorted(found)

    def read(self, path: Path) -> SpoolRead:
        """Whole records of ``path``; a line cut short or unreadable is skipped and reported."""
        records: list[dict[str, Any]] = []
        damage: list[str] = []
        data = path.read_bytes()
        lines = data.split(b"\n")
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            last = number == len(lines)  # no newline after it: the write was cut short
            try:
                record = json.loads(raw)
                if not isinstance(record, dict) or not isinstance(record.get("event"), dict):
                    raise ValueError("not a spool record")
            except ValueError:
                what = "cut short (partial last line)" if last else "unreadable"
                damage.append(f"{path.name}:{number}: {what}, {len(raw)} bytes skipped")
                continue
            records.append(record)
        return SpoolRead(records, damage)

    def replace(self, path: Path, records: list[dict[str, Any]]) -> None:
        """Make ``path`` hold exactly ``records`` (atomically), or remove it when there are none."""
        if not records:
            path.unlink(missing_ok=True)
            return
        private.write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


@dataclass
class Replayed:
    outcomes: list[tuple[str, str, Outcome]]  # (to, target, outcome)
    damage: list[str]


def replay(spool: Spool, make_sender: Callable[[str, str], Sender], **kw: Any) -> Replayed:
    """Resend every spooled event to the target it was going to; what fails again stays spooled.

    Each file is first renamed to ``*.replay`` so the events that fail again (appended to a fresh spool
    file by :func:`deliver`) are not read twice; a crash mid-replay leaves the ``.replay`` file, which the
    next replay picks up. Delivery is at least once: Marquez and DataHub key runs by runId.
    """
    result = Replayed([], [])
    for path in spool.files(with_replays=True):
        work = path if path.suffix == ".replay" else path.with_name(path.name + ".replay")
        if work != path:
            os.replace(path, work)
        read = spool.read(work)
        result.damage.extend(read.damage)
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in read.records:
            groups.setdefault((str(r.get("to")), str(r.get("target"))), []).append(r["event"])
        for (to, target), events in groups.items():
            result.outcomes.append((to, target, deliver(events, make_sender(to, target), spool, **kw)))
        work.unlink()
    return result
