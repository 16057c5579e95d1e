"""The worker: matching and aggregation off the request path, periodic flushes to the spool.

A finished request's recorder goes into a bounded queue (``queue_size``); when it is full the request is
dropped and counted. One daemon thread takes recorders, runs ``MatchEngine.match`` and
``Aggregator.add``, and every ``flush_seconds`` appends the closed windows' rows, the per-job sample counts
and a health line to this process's spool file. If the thread dies it is restarted by the next request
(counted, logged once); after a fork the child gets a fresh worker (see :mod:`flowscope_probes.runtime`).
Nothing here raises into the host: faults are counted in ``FAULTS`` and the health line.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from flowscope.model import Job
from flowscope_probes.blind import UNOBSERVED
from flowscope_probes.context import FAULTS, Recorder
from flowscope_probes.labels import asset_label, job_label
from flowscope_probes.scrub import strip_credentials
from flowscope_probes.settings import ProbeSettings
from flowscope_probes.spool import MAX_PENDING, SpoolWriter

log = logging.getLogger(__name__)

DEBUG_SAMPLES_PER_PAIR = 3
MAX_JOBS = 10_000  # jobs whose labels are tracked (the runtime names at most this many)
POLL = 0.05  # seconds between looks at the queue when it is empty


class Stats:
    """Counters of one process's probes, written in every health line."""

    def __init__(self) -> None:
        self.sampled = 0  # requests recorded and handed to the worker
        self.processed = 0
        self.dropped_queue = 0  # the queue was full
        self.lost = 0  # in the worker's hands when it died
        self.unrouted = 0  # sampled requests that reached no handler (404, short-circuited)
        self.overflow = 0  # captures beyond max_captures, summed over requests
        self.restarts = 0
        self.spool_failures = 0
        self.emit_failures = 0
        self.labels_dropped = 0  # captures and hits dropped: their job already had max_labels labels
        self.payloads_truncated = 0  # text/bytes payloads cut to max_payload_bytes
        self.over_budget = 0  # captures dropped: max_request_bytes spent (or a source value that long)
        self.unobserved_requests = 0  # not counted as samples: connections the probes cannot see existed

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def redact(value: object) -> str:
    """The shape of a value, never its content: letters -> x, digits -> 9, the rest kept, 24 chars max."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    shape = "".join("9" if c.isdigit() else "x" if c.isalpha() else c for c in text[:24])
    return shape + ("…" if len(text) > 24 else "")


class Worker:
    def __init__(self, settings: ProbeSettings, salt: bytes) -> None:
        self.settings = settings
        self.salt = salt
        self.engine: Any = None  # built on first use, in the worker: the host's startup never imports them
        self.aggregator: Any = None
        self.writer = SpoolWriter(settings.spool, settings.service)
        # A deque, not queue.Queue: appending is one lock-free call on the request path, and the worker
        # polls every POLL seconds instead of being woken (a wake-up per sampled request cost more CPU).
        self.queue: deque[Recorder] = deque()
        self.limit = max(1, settings.queue_size)
        self.in_flight = 0
        self.stats = Stats()
        self.lock = threading.Lock()  # the aggregator and the writer are used under it only
        self.start_lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.reported: set[str] = set()
        self.pid = os.getpid()
        self.debug_counts: Counter[tuple[str, str, str]] = Counter()
        self.last_health: dict[str, Any] = {}
        self.labels: dict[str, set[str]] = {}  # job -> the labels it has been seen with (max_labels each)
        self.events: Any = None  # EventSink, built on the first flush with rows when ``emit`` is set

    # -- request side -------------------------------------------------------------------------------
    def submit(self, rec: Recorder) -> None:
        """Hand a finished request over (never blocks); restarts a dead worker thread first."""
        thread = self.thread
        if thread is None or not thread.is_alive():
            self._start(restart=thread is not None)
        if len(self.queue) >= self.limit:
            self.stats.dropped_queue += 1
            return
        self.queue.append(rec)
        self.stats.sampled += 1

    def _start(self, restart: bool) -> None:
        with self.start_lock:
            if self.thread is not None and self.thread.is_alive():
                return
            if restart:
                self.stats.restarts += 1
                self._report_once("restart", "flowscope probes: the worker thread died and was restarted")
            self.stop_event.clear()
            self.thread = threading.Thread(target=self._run, name="flowscope-probes", daemon=True)
            self.thread.start()

    # -- worker side --------------------------------------------------------------------------------
    def _run(self) -> None:
        interval = max(0.05, self.settings.flush_seconds)
        next_flush = time.monotonic() + interval
        while not self.stop_event.is_set():
            if not self.queue:
                self.stop_event.wait(min(POLL, max(0.0, next_flush - time.monotonic())))
            while self.queue:
                try:
                    rec = self.queue.popleft()
                except IndexError:
                    break
                self.in_flight += 1
                done = False
                try:
                    with self.lock:
                        self.process(rec)
                    done = True
                except Exception:
                    FAULTS.add("worker.process")
                    done = True
                finally:
                    if not done:  # a BaseException is ending this thread: the request is lost, counted
                        self.stats.lost += 1
                    self.in_flight -= 1
            if time.monotonic() >= next_flush:
                next_flush = time.monotonic() + interval
                try:
                    self.flush()
                except Exception:
                    FAULTS.add("worker.flush")

    def _build(self) -> None:
        from flowscope_probes.aggregate import Aggregator
        from flowscope_probes.matching import MatchConfig, MatchEngine

        self.engine = MatchEngine(MatchConfig(salt=self.salt, key_patterns=tuple(self.settings.key_patterns)))
        self.aggregator = Aggregator(window_seconds=self.settings.window_seconds)

    def process(self, rec: Recorder) -> None:
        """Match one request's captures and add them to the aggregate (call with ``lock`` held)."""
        from flowscope_probes.aggregate import RequestRecord

        if self.aggregator is None:
            self._build()
        self.stats.processed += 1
        self.stats.overflow += rec.overflow
        self.stats.payloads_truncated += rec.truncated
        self.stats.over_budget += rec.over_budget
        if rec.unobserved:
            self.stats.unobserved_requests += 1
        if not isinstance(rec.job, Job):
            self.stats.unrouted += 1
            return
        job = job_label(rec.job)
        admit = self._labels_of(job)
        seen: set[tuple[str, object]] = set()
        src_labels: list[str] = []
        src_values: list[object] = []
        src_norms: list[str | None] = []
        sources = list(rec.sources)
        norms = self.engine.normalized_all([v for _, v in sources])  # match_normalized() reuses them
        for (asset, value), norm in zip(sources, norms, strict=True):
            if norm is None:
                continue
            label = asset_label(asset)
            try:
                key = (label, value)
                if key in seen:
                    continue
                seen.add(key)
            except TypeError:  # unhashable: not a leaf value
                continue
            if not admit(label):
                continue
            src_labels.append(label)
            src_values.append(value)
            src_norms.append(norm)
        sink_labels: list[str] = []
        sink_payloads: list[object] = []
        for asset, payload in list(rec.sinks):
            label = asset_label(asset)
            if admit(label):
                sink_labels.append(label)
                sink_payloads.append(payload)
        hits = self.engine.match_normalized(src_norms, sink_payloads) if src_norms and sink_payloads else []
        if hits:  # a sink path is a label too (``prefs.{key-...}``): capped with the others
            hits = [h for h in hits if not h.sink_path or admit(f"{sink_labels[h.sink]} {h.sink_path}")]
        self.aggregator.add(
            RequestRecord(
                job=job,
                sources=tuple(src_labels),
                sinks=tuple(sink_labels),
                hits=tuple(hits),
                at=time.time(),
                observed=not rec.unobserved,
            )
        )
        if self.settings.debug_samples and hits:
            self._debug_samples(job, src_labels, src_values, sink_labels, hits)

    def _labels_of(self, job: str) -> Callable[[str], bool]:
        """``admit(label)`` for one job: True for a label the job has, or a new one while it has fewer than
        ``max_labels`` (keys and paths a client makes up cannot grow the spool without bound); a label
        turned away is counted in ``labels_dropped``."""
        labels = self.labels.get(job)
        if labels is None:
            if len(self.labels) >= MAX_JOBS:
                self.labels.clear()
            labels = self.labels[job] = set()
        cap = self.settings.max_labels
        stats = self.stats

        def admit(label: str) -> bool:
            if label in labels:
                return True
            if len(labels) >= cap:
                stats.labels_dropped += 1
                return False
            labels.add(label)
            return True

        return admit

    def _debug_samples(
        self, job: str, src_labels: list[str], src_values: list[object], sink_labels: list[str], hits: Any
    ) -> None:
        lines: list[dict[str, Any]] = []
        for hit in hits:
            key = (src_labels[hit.source], sink_labels[hit.sink], hit.sink_path)
            if self.debug_counts[key] >= DEBUG_SAMPLES_PER_PAIR:
                continue
            self.debug_counts[key] += 1
            lines.append(
                {
                    "type": "sample",
                    "job": job,
                    "source": key[0],
                    "sink": key[1],
                    "sink_path": hit.sink_path,
                    "match": hit.match,
                    "shape": redact(src_values[hit.source]),
                    "value_hash": hit.value_hash,
                }
            )
        if lines:
            self._write(lines)

    def flush(self, force: bool = False) -> None:
        """Write closed windows (all rows with ``force``), sample counts and a health line."""
        with self.lock:
            rows, samples = self.aggregator.flush(force=force) if self.aggregator is not None else ([], {})
            records: list[dict[str, Any]] = [
                {
                    "type": "match",
                    "job": r.job,
                    "source": r.source,
                    "sink": r.sink,
                    "match": r.match,
                    "sink_path": r.sink_path,
                    "count": r.count,
                    "first_seen": round(r.first_seen, 3),
                    "last_seen": round(r.last_seen, 3),
                    "distinct_values": r.distinct_values,
                    "noisy": r.noisy,
                }
                for r in rows
            ]
            records += [{"type": "samples", "job": job, "samples": n} for job, n in sorted(samples.items())]
            health = self.health()
            if records or health != self.last_health:  # an idle service writes nothing
                self.last_health = health
                records.append({"type": "health", **health})
            if records:
                self._write(records)
            if rows and self.settings.emit:
                self._emit(records)

    def _emit(self, records: list[dict[str, Any]]) -> None:
        try:
            if self.events is None:
                from pathlib import Path

                from flowscope_probes.emit import EventSink

                self.events = EventSink(Path(self.settings.emit), self.settings.service)
            self.events.emit(records, self.writer.path)
        except Exception as exc:
            self.stats.emit_failures += 1
            self._report_once(
                "emit", f"flowscope probes: cannot emit OpenLineage events: {type(exc).__name__}: {exc}"
            )

    def _write(self, records: list[dict[str, Any]]) -> None:
        if not self.writer.write(records):
            self.stats.spool_failures += 1
            self._report_once(
                "spool",
                f"flowscope probes: cannot write the spool ({self.writer.last_error}); "
                f"keeping up to {MAX_PENDING} records in memory and writing them whole when it works again, "
                "counting drops",
            )

    def health(self) -> dict[str, Any]:
        from flowscope_probes.matching.leaves import matcher_build
        from flowscope_probes.roots.fast import build as roots_build

        return {
            "pid": os.getpid(),
            "service": self.settings.service,
            **self.stats.as_dict(),
            "dropped_rows": int(getattr(self.aggregator, "dropped", 0)),
            "dropped_lines": self.writer.dropped,
            "pending_lines": self.writer.pending_records,
            "queued": len(self.queue),
            "faults": dict(FAULTS.counts),
            "unobserved": dict(UNOBSERVED.found),
            "matcher": matcher_build(),
            "roots": roots_build(),
        }

    def _report_once(self, what: str, message: str) -> None:
        if what not in self.reported:
            self.reported.add(what)
            log.warning("%s", strip_credentials(message))

    # -- shutdown -----------------------------------------------------------------------------------
    def drain(self) -> None:
        """Process everything queued now, in the caller's thread, and flush every window."""
        while True:
            try:
                rec = self.queue.popleft()
            except IndexError:
                break
            try:
                with self.lock:
                    self.process(rec)
            except Exception:
                FAULTS.add("worker.process")
        # a request the thread took before us is finished by it; wait for that (bounded), then flush
        deadline = time.monotonic() + 2.0
        thread = self.thread
        while self.in_flight and thread is not None and thread.is_alive():
            if thread is threading.current_thread() or time.monotonic() > deadline:
                break
            time.sleep(0.001)
        self.flush(force=True)

    def stop(self, timeout: float = 2.0) -> None:
        self.stop_event.set()  # wakes the thread's wait at once
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self.drain()
