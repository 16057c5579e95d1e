"""Aggregation of matched requests into rows per time window: the match-set and the full-set.

CONTRACT shared by the runtime and the matcher: ``RequestRecord``, ``MatchRow`` and ``Aggregator`` keep these
names and signatures. Labels (assets, jobs) are opaque strings built by the runtime.

- **Match-set**: one row per (job, source, sink, match type, sink path) and window, counting hits, with first and
  last seen and the number of distinct values behind it (value hashes only, at most ``DISTINCT_CAP`` kept per
  row, so ``distinct_values`` saturates there: read it as "at least").
- **Full-set**: every (source, sink) pair of a sampled request without a hit is a NO_MATCH observation, kept for
  review (a static flow whose pair never matches while its job is sampled often is evidence against it).
  Requests are kept per *shape* (job and the exact tuples of source and sink labels) with a count of requests
  and of hits per pair, and expanded into rows at flush: adding a request costs O(hits), not O(sources x sinks).
  ``max_full_set`` bounds the pairs held: a request whose shape is new and would exceed it has its NO_MATCH
  pairs dropped (and counted).
- **Samples**: sampled requests per job since the last flush (how often a job was watched), counting only
  requests whose writes the probes could all observe (``RequestRecord.observed``).
- **Noise demotion**: a value hash seen in ``noisy_sinks`` or more distinct sinks is a noisy value (a tenant id,
  a constant); a row all of whose values are noisy is flagged ``noisy`` so scoring can demote it.
- ``dropped`` counts every hit and NO_MATCH pair not kept because a cap bit (``max_rows``, ``max_full_set``), and
  hits whose index points outside the record's labels. It only grows; the runtime reports it.

One lock guards the state: a worker thread adds, another thread (or the same) flushes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flowscope_probes.matching.config import NO_MATCH, Hit

DISTINCT_CAP = 16  # value hashes kept per row
MAX_TRACKED_VALUES = 100_000  # value hashes whose sinks are tracked for noise; the tracker restarts when full
MAX_NOISY_VALUES = 10_000  # noisy value hashes remembered


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One matched request: labels in the order given to ``MatchEngine.match()`` and its hits."""

    job: str
    sources: tuple[str, ...]
    sinks: tuple[str, ...]
    hits: tuple[Hit, ...]
    at: float  # time.time() of the request
    observed: bool = True  # False: it may have written where the probes cannot see; not a sample


@dataclass(frozen=True, slots=True)
class MatchRow:
    """One aggregated row of a closed window. ``match`` is EXACT_MATCH, CONTAINS or NO_MATCH."""

    job: str
    source: str
    sink: str
    match: str
    sink_path: str
    count: int
    first_seen: float
    last_seen: float
    distinct_values: int
    noisy: bool


class _Row:
    __slots__ = ("count", "first", "last", "values")

    def __init__(self, at: float) -> None:
        self.count = 0
        self.first = at
        self.last = at
        self.values: set[str] = set()


class _Shape:
    __slots__ = ("first", "hit_pairs", "last", "requests")

    def __init__(self, at: float) -> None:
        self.requests = 0
        self.first = at
        self.last = at
        self.hit_pairs: dict[tuple[int, int], int] = {}  # (source, sink) -> requests where it hit


RowKey = tuple[int, str, str, str, str, str]  # window, job, source, sink, match, sink_path
ShapeKey = tuple[int, str, tuple[str, ...], tuple[str, ...]]


class Aggregator:
    """Bounded, thread-safe aggregation of :class:`RequestRecord` into :class:`MatchRow` per window."""

    def __init__(
        self,
        window_seconds: float = 300.0,
        max_rows: int = 50_000,
        max_full_set: int = 100_000,
        noisy_sinks: int = 8,
    ) -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be > 0")
        self.window_seconds = window_seconds
        self.max_rows = max_rows
        self.max_full_set = max_full_set
        self.noisy_sinks = noisy_sinks
        self.dropped = 0
        self._lock = threading.Lock()
        self._rows: dict[RowKey, _Row] = {}
        self._shapes: dict[ShapeKey, _Shape] = {}
        self._full_pairs = 0
        self._samples: dict[str, int] = {}
        self._value_sinks: dict[str, set[str]] = {}
        self._noisy: set[str] = set()

    def add(self, rec: RequestRecord) -> None:
        w = int(rec.at // self.window_seconds)
        at = rec.at
        with self._lock:
            if rec.observed:
                self._samples[rec.job] = self._samples.get(rec.job, 0) + 1
            n_src, n_sink = len(rec.sources), len(rec.sinks)
            for h in rec.hits:
                self._add_hit(w, rec, h)
            hit_pairs = {
                (h.source, h.sink) for h in rec.hits if 0 <= h.source < n_src and 0 <= h.sink < n_sink
            }
            n_pairs = n_src * n_sink
            if not n_pairs:
                return
            skey = (w, rec.job, rec.sources, rec.sinks)
            shape = self._shapes.get(skey)
            if shape is None:
                if self._full_pairs + n_pairs > self.max_full_set:
                    self.dropped += n_pairs - len(hit_pairs)
                    return
                self._full_pairs += n_pairs
                shape = self._shapes[skey] = _Shape(at)
            shape.requests += 1
            if at < shape.first:
                shape.first = at
            elif at > shape.last:
                shape.last = at
            counts = shape.hit_pairs
            for pair in hit_pairs:
                counts[pair] = counts.get(pair, 0) + 1

    def _add_hit(self, w: int, rec: RequestRecord, h: Hit) -> None:
        if not (0 <= h.source < len(rec.sources) and 0 <= h.sink < len(rec.sinks)):  # a malformed record
            self.dropped += 1
            return
        sink = rec.sinks[h.sink]
        key = (w, rec.job, rec.sources[h.source], sink, h.match, h.sink_path)
        row = self._rows.get(key)
        if row is None:
            if len(self._rows) >= self.max_rows:
                self.dropped += 1
                return
            row = self._rows[key] = _Row(rec.at)
        row.count += 1
        at = rec.at
        if at < row.first:
            row.first = at
        elif at > row.last:
            row.last = at
        if len(row.values) < DISTINCT_CAP:
            row.values.add(h.value_hash)
        if h.value_hash not in self._noisy:
            self._track_noise(h.value_hash, sink)

    def _track_noise(self, value_hash: str, sink: str) -> None:
        sinks = self._value_sinks.get(value_hash)
        if sinks is None:
            if len(self._value_sinks) >= MAX_TRACKED_VALUES:
                self._value_sinks.clear()
            sinks = self._value_sinks[value_hash] = set()
        sinks.add(sink)
        if len(sinks) >= self.noisy_sinks and len(self._noisy) < MAX_NOISY_VALUES:
            self._noisy.add(value_hash)
            del self._value_sinks[value_hash]

    def flush(self, now: float | None = None, force: bool = False) -> tuple[list[MatchRow], dict[str, int]]:
        """Rows of the windows closed at ``now`` (all windows with ``force``) and samples per job since the
        last flush. Flushed rows leave the aggregator."""
        now = time.time() if now is None else now
        with self._lock:

            def closed(w: int) -> bool:
                return force or (w + 1) * self.window_seconds <= now

            out: list[MatchRow] = []
            for key in [k for k in self._rows if closed(k[0])]:
                row = self._rows.pop(key)
                _, job, source, sink, match, path = key
                noisy = bool(row.values) and row.values <= self._noisy
                out.append(
                    MatchRow(
                        job, source, sink, match, path, row.count, row.first, row.last, len(row.values), noisy
                    )
                )
            out.extend(self._flush_full_set(closed))
            samples, self._samples = self._samples, {}
            return out, samples

    def _flush_full_set(self, closed: Callable[[int], bool]) -> list[MatchRow]:
        merged: dict[tuple[int, str, str, str], list[float]] = {}  # -> [count, first, last]
        for skey in [k for k in self._shapes if closed(k[0])]:
            shape = self._shapes.pop(skey)
            w, job, sources, sinks = skey
            self._full_pairs -= len(sources) * len(sinks)
            hit_pairs = shape.hit_pairs
            for i, source in enumerate(sources):
                for j, sink in enumerate(sinks):
                    n = shape.requests - hit_pairs.get((i, j), 0)
                    if n <= 0:
                        continue
                    acc = merged.get((w, job, source, sink))
                    if acc is None:
                        merged[(w, job, source, sink)] = [n, shape.first, shape.last]
                    else:
                        acc[0] += n
                        acc[1] = min(acc[1], shape.first)
                        acc[2] = max(acc[2], shape.last)
        return [
            MatchRow(job, source, sink, NO_MATCH, "", int(c), first, last, 0, False)
            for (_, job, source, sink), (c, first, last) in merged.items()
        ]
