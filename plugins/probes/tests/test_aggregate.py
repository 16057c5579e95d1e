"""Aggregation: match-set rows, full-set NO_MATCH pairs, samples, windows, noise demotion, caps, threads."""

from __future__ import annotations

import threading

import pytest

from flowscope_probes.aggregate import DISTINCT_CAP, Aggregator, MatchRow, RequestRecord
from flowscope_probes.matching import CONTAINS, EXACT_MATCH, NO_MATCH, Hit, MatchConfig, MatchEngine

JOB = "service://nearby|update_last_location"
SRC = ("http://api|/loc#lat", "http://api|/loc#user_id")
SNK = ("redis://cache|last_location:{}#", "log://python|app#message")


def hit(source: int, sink: int, match: str = EXACT_MATCH, path: str = "", value: str = "h1") -> Hit:
    return Hit(source, sink, match, path, value)


def rec(hits: tuple[Hit, ...], at: float, job: str = JOB, sources: tuple[str, ...] = SRC,
        sinks: tuple[str, ...] = SNK) -> RequestRecord:  # fmt: skip
    return RequestRecord(job, sources, sinks, hits, at)


def by_key(rows: list[MatchRow]) -> dict[tuple[str, str, str, str], MatchRow]:
    return {(r.source, r.sink, r.match, r.sink_path): r for r in rows}


def test_match_set_and_full_set_rows() -> None:
    agg = Aggregator(window_seconds=60)
    agg.add(rec((hit(0, 0, path="location", value="a"),), at=10.0))
    agg.add(rec((hit(0, 0, path="location", value="b"), hit(1, 1, CONTAINS, value="c")), at=20.0))
    rows, samples = agg.flush(now=61.0)
    assert samples == {JOB: 2}
    got = by_key(rows)
    lat = got[(SRC[0], SNK[0], EXACT_MATCH, "location")]
    assert (lat.job, lat.count, lat.first_seen, lat.last_seen, lat.distinct_values, lat.noisy) == (
        JOB, 2, 10.0, 20.0, 2, False
    )  # fmt: skip
    assert got[(SRC[1], SNK[1], CONTAINS, "")].count == 1
    # full-set: 2 requests x 4 pairs = 8 pair observations, 3 of them hits
    assert got[(SRC[0], SNK[1], NO_MATCH, "")].count == 2
    assert got[(SRC[1], SNK[0], NO_MATCH, "")].count == 2
    assert got[(SRC[1], SNK[1], NO_MATCH, "")].count == 1
    assert (SRC[0], SNK[0], NO_MATCH, "") not in got
    no_match = got[(SRC[0], SNK[1], NO_MATCH, "")]
    assert (no_match.first_seen, no_match.last_seen, no_match.distinct_values) == (10.0, 20.0, 0)
    assert agg.dropped == 0
    assert agg.flush(now=1000.0) == ([], {})  # flushed rows and samples leave the aggregator


def test_shapes_merge_into_one_no_match_row() -> None:
    agg = Aggregator(window_seconds=60)
    agg.add(rec((), at=1.0))
    agg.add(rec((), at=2.0, sinks=(SNK[1], SNK[0])))  # same labels, other order: another shape
    agg.add(rec((), at=3.0, sources=(SRC[0],)))
    rows, _ = agg.flush(force=True)
    got = by_key(rows)
    assert got[(SRC[0], SNK[0], NO_MATCH, "")].count == 3
    assert got[(SRC[1], SNK[1], NO_MATCH, "")].count == 2
    assert len(rows) == 4


def test_repeated_labels_count_each_pair() -> None:
    agg = Aggregator()
    agg.add(rec((hit(0, 0),), at=1.0, sources=(SRC[0], SRC[0]), sinks=(SNK[0],)))
    got = by_key(agg.flush(force=True)[0])
    assert got[(SRC[0], SNK[0], EXACT_MATCH, "")].count == 1
    assert got[(SRC[0], SNK[0], NO_MATCH, "")].count == 1  # the second position had no hit


def test_windows_close_by_time_and_force_flushes_all() -> None:
    agg = Aggregator(window_seconds=100)
    agg.add(rec((hit(0, 0),), at=50.0))
    agg.add(rec((hit(0, 0),), at=150.0))
    rows, samples = agg.flush(now=120.0)
    assert [(r.match, r.count, r.first_seen) for r in rows if r.match != NO_MATCH] == [(EXACT_MATCH, 1, 50.0)]
    assert samples == {JOB: 2}
    assert agg.flush(now=199.0)[0] == []  # the second window is still open
    rows, samples = agg.flush(now=199.0, force=True)
    assert [(r.match, r.count, r.first_seen) for r in rows if r.match != NO_MATCH] == [
        (EXACT_MATCH, 1, 150.0)
    ]
    assert samples == {}


def test_flush_without_now_uses_the_clock() -> None:
    agg = Aggregator(window_seconds=1)
    agg.add(rec((hit(0, 0),), at=5.0))
    assert len(agg.flush()[0]) == 4


def test_distinct_values_are_capped() -> None:
    agg = Aggregator()
    for i in range(DISTINCT_CAP + 10):
        agg.add(rec((hit(0, 0, value=f"v{i}"),), at=1.0))
    row = by_key(agg.flush(force=True)[0])[(SRC[0], SNK[0], EXACT_MATCH, "")]
    assert row.count == DISTINCT_CAP + 10
    assert row.distinct_values == DISTINCT_CAP


def test_value_seen_in_many_sinks_demotes_its_rows() -> None:
    agg = Aggregator(noisy_sinks=3)
    sinks = tuple(f"log://python|s{i}#" for i in range(4))
    # "tenant" shows up in every sink; "user" only in the first
    agg.add(rec((*tuple(hit(0, k, CONTAINS, value="tenant") for k in range(4)), hit(1, 0, value="user")),
                at=1.0, sinks=sinks))  # fmt: skip
    agg.add(rec((hit(1, 1, CONTAINS, value="tenant"), hit(1, 1, CONTAINS, path="x", value="user")), at=2.0,
                sinks=sinks))  # fmt: skip
    got = by_key(agg.flush(force=True)[0])
    assert all(got[(SRC[0], s, CONTAINS, "")].noisy for s in sinks)
    assert not got[(SRC[1], sinks[0], EXACT_MATCH, "")].noisy
    assert got[(SRC[1], sinks[1], CONTAINS, "")].noisy  # only the noisy value behind it
    assert not got[(SRC[1], sinks[1], CONTAINS, "x")].noisy


def test_row_cap_drops_and_counts() -> None:
    agg = Aggregator(max_rows=2)
    agg.add(rec((hit(0, 0), hit(0, 1), hit(1, 0), hit(1, 1)), at=1.0))
    assert agg.dropped == 2
    agg.add(rec((hit(0, 0),), at=2.0))  # an existing row still counts
    assert agg.dropped == 2
    rows = [r for r in agg.flush(force=True)[0] if r.match != NO_MATCH]
    assert sorted(r.count for r in rows) == [1, 2]
    agg.add(rec((hit(1, 1),), at=3.0))  # flushed rows free the room
    assert agg.dropped == 2


def test_full_set_cap_drops_and_counts() -> None:
    agg = Aggregator(max_full_set=5)
    agg.add(rec((hit(0, 0),), at=1.0))  # 4 pairs held
    agg.add(rec((hit(0, 0),), at=2.0))  # same shape: no new pairs
    agg.add(rec((hit(0, 1),), at=3.0, sources=("other|x#y",)))  # 2 more pairs: over the cap
    assert agg.dropped == 1  # its NO_MATCH pair; the hit itself is kept
    rows = agg.flush(force=True)[0]
    assert by_key(rows)[(SRC[0], SNK[0], EXACT_MATCH, "")].count == 2
    assert sum(r.count for r in rows if r.match == NO_MATCH) == 6
    agg.add(rec((), at=4.0, sources=("other|x#y",)))  # room again after the flush
    assert agg.dropped == 1


def test_hits_outside_the_labels_are_dropped() -> None:
    agg = Aggregator()
    agg.add(rec((hit(5, 0), hit(0, -1)), at=1.0))
    assert agg.dropped == 2
    rows = agg.flush(force=True)[0]
    assert [r.match for r in rows] == [NO_MATCH] * 4  # the request's four pairs had no valid hit


def test_bad_window() -> None:
    with pytest.raises(ValueError, match="window_seconds"):
        Aggregator(window_seconds=0)


def test_no_raw_value_in_rows() -> None:
    secret_email, secret_id = "private.person@example.org", 90210431
    engine = MatchEngine(MatchConfig(salt=b"deploy"))
    sources = [secret_email, secret_id]
    sinks = [{"to": secret_email, "body": f"user {secret_id} wrote"}, f"log {secret_id}"]
    hits = engine.match(sources, sinks)
    assert len(hits) == 3
    agg = Aggregator()
    agg.add(rec(tuple(hits), at=1.0))
    rows, _ = agg.flush(force=True)
    text = repr(rows) + repr(hits)
    for raw in (secret_email, "private", "example.org", str(secret_id)):
        assert raw not in text


def test_one_thread_adds_while_another_flushes() -> None:
    agg = Aggregator(window_seconds=1e9)
    n = 3000
    rows: list[MatchRow] = []
    samples = 0
    done = threading.Event()

    def feed() -> None:
        for i in range(n):
            agg.add(rec((hit(0, 0, value=str(i % 50)),), at=float(i)))
        done.set()

    t = threading.Thread(target=feed)
    t.start()
    while not done.is_set():
        got, s = agg.flush(force=True)
        rows.extend(got)
        samples += sum(s.values())
    t.join()
    got, s = agg.flush(force=True)
    rows.extend(got)
    samples += sum(s.values())
    assert samples == n
    assert sum(r.count for r in rows if r.match == EXACT_MATCH) == n
    assert sum(r.count for r in rows if r.match == NO_MATCH) == 3 * n
    assert agg.dropped == 0
