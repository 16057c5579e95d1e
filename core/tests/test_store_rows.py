"""The store's fast write path (flowscope.store.rows, the cached pieces, bounded id caches, the paused
collector) against the model's own definitions, on random multi-scope input: what is stored and read back
equals :func:`flowscope.merge.merge_edges` over what every live scope was given, row by row."""

from __future__ import annotations

import gc
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from flowscope import gcpause, scoring
from flowscope.edgeflags import edge_flags
from flowscope.merge import merge_edges, merge_signals
from flowscope.model import (
    DIRECT_SUBTYPES,
    INDIRECT_SUBTYPES,
    Asset,
    Edge,
    Evidence,
    Job,
    Signal,
    SourceLocation,
    Transformation,
)
from flowscope.store import Store, rows, write
from flowscope.store.codec import decode_edge, edge_doc

KINDS = [
    ("declared", None),
    ("declared", "FAILED_RUN"),
    ("sql", None),
    ("static", "DIRECT"),
    ("static", None),
    ("runtime", "EXACT_MATCH"),
    ("runtime", "NO_MATCH"),
    ("context", "TRACE_ID"),
    ("config", None),
]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def random_world(rng: random.Random) -> tuple[list[Asset], list[Job]]:
    assets = [Asset(f"ns{rng.randrange(3)}", f"db.t{i}", rng.choice([None, "a", "b"])) for i in range(60)]
    src = SourceLocation("etl/x.sql", "git", repo_url="https://example.com/r.git", version="1")
    jobs = [
        Job("jobs", f"j{i}", sql="select 1" if i % 3 == 0 else None, source=src if i % 4 == 0 else None)
        for i in range(8)
    ]
    return assets, jobs


def random_edges(rng: random.Random, assets: list[Asset], jobs: list[Job], n: int) -> list[Edge]:
    """Edges as a scan's merge step makes them: several signals per key, shared evidence objects,
    times in two time zones, sampled jobs (scoring rule 5), pure reads."""
    shared = [Evidence("x", "declared", f"f.jsonl:{i}", detail=(("runId", str(i)),)) for i in range(5)]
    zones = [UTC, timezone(timedelta(hours=2))]
    signals = []
    for _ in range(n):
        kind, match = rng.choice(KINDS)
        if rng.random() < 0.2:
            t = Transformation("INDIRECT", rng.choice(INDIRECT_SUBTYPES))
        else:
            t = Transformation("DIRECT", rng.choice(DIRECT_SUBTYPES), rng.random() < 0.2)
        when = (T0 + timedelta(minutes=rng.randrange(50))).astimezone(rng.choice(zones))
        ev = rng.choice(shared) if rng.random() < 0.5 else Evidence(kind, kind, f"a.py:{rng.randrange(9)}")
        target = None if rng.random() < 0.05 else rng.choice(assets)
        sig = Signal(kind, rng.choice(jobs), rng.choice(assets), target, t, (ev,), match=match,  # type: ignore[arg-type]
                     guard="g" if rng.random() < 0.1 else None, first_seen=when, last_seen=when)  # fmt: skip
        signals.append((rng.choice(["a", "b"]), sig))
    samples = {j.key: 150 for j in jobs if rng.random() < 0.3}
    return merge_signals(signals, samples)


def by_key(edges: list[Edge]) -> dict[object, Edge]:
    return {e.key: e for e in edges}


def lowered(edge: Edge) -> bool:
    """Scoring rule 5 lowered this edge (its job was sampled often): only the score shows it."""
    return edge.confidence == scoring.UNOBSERVED and scoring.score(edge.bases) != scoring.UNOBSERVED


def reference(scopes: list[list[Edge]]) -> dict[object, Edge]:
    """Each key's edges of every live scope merged, the job counted as sampled when any scope's edge
    was lowered for it (so a merge does not undo the lowering)."""
    groups: dict[object, list[Edge]] = {}
    for edges in scopes:
        for e in edges:
            groups.setdefault(e.key, []).append(e)
    out = {}
    for key, group in groups.items():
        samples = {group[0].job.key: scoring.SAMPLED_OFTEN} if any(map(lowered, group)) else None
        [out[key]] = merge_edges(group, samples)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_scopes_read_back_as_the_merge_of_what_each_live_scope_was_given(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    # A tiny id cache and chunk size: the cache starts again many times within one write.
    monkeypatch.setattr(rows, "ASSET_CACHE_MAX", 7)
    monkeypatch.setattr("flowscope.store.write.CHUNK", 13)
    assets, jobs = random_world(rng)
    live: dict[tuple[str, str], list[Edge]] = {}
    with Store.open(tmp_path / "s") as store:
        for step in range(12):
            scope = (f"c{rng.randrange(2)}", f"scope{rng.randrange(4)}")
            if live and rng.random() < 0.15:
                gone = rng.choice(sorted(live))
                store.remove_scope(*gone)
                del live[gone]
            else:
                edges = random_edges(rng, assets, jobs, rng.randrange(0, 120))
                store.replace(*scope, edges, [], [])
                live[scope] = edges
            want = reference(list(live.values()))
            got = by_key(store.edges())
            assert got.keys() == want.keys(), step
            for key, edge in want.items():
                g = got[key]
                assert (g.confidence, g.bases, g.transformations, g.count) == (
                    edge.confidence,
                    edge.bases,
                    edge.transformations,
                    edge.count,
                ), key
                assert (g.collectors, g.guards, set(g.evidence)) == (
                    edge.collectors,
                    edge.guards,
                    set(edge.evidence),
                )
                assert (g.first_seen, g.last_seen, g.job.sql, g.job.source) == (
                    edge.first_seen,
                    edge.last_seen,
                    edge.job.sql,
                    edge.job.source,
                )
            # every row: the flags of its own edge, the merged confidence of its key
            conn = store.connection
            assets_by_id = store.assets_by_id(r[0] for r in conn.execute("SELECT id FROM assets"))
            jobs_by_id = store.jobs_by_id(r[0] for r in conn.execute("SELECT id FROM jobs"))
            for job_id, src, dst, conf, own, data, flags in conn.execute(
                "SELECT job_id, src, dst, confidence, own, data, flags FROM edge_rows"
            ):
                target = assets_by_id[dst] if dst else None
                row_edge = decode_edge(data, jobs_by_id[job_id], assets_by_id[src], target, own)
                assert flags == edge_flags(row_edge)
                assert conf == want[row_edge.key].confidence


def test_a_rows_document_decodes_to_what_the_reference_encoder_wrote(tmp_path: Path) -> None:
    """The cached pieces make the same document as codec.edge_doc, up to the order inside its sets."""
    rng = random.Random(3)
    assets, jobs = random_world(rng)
    edges = random_edges(rng, assets, jobs, 300)
    with Store.open(tmp_path / "s") as store:
        maker = rows.RowMaker(rows.IdResolver(store.connection))
        made = maker.rows(edges, 0)
    for edge, row in zip(edges, made, strict=True):
        ours = decode_edge(row[10], edge.job.key, edge.source, edge.target, edge.confidence)
        ref = decode_edge(edge_doc(edge), edge.job.key, edge.source, edge.target, edge.confidence)
        assert ours == ref
        assert row[11] == edge_flags(edge)
        assert row[8] == lowered(edge)
        # sets are written sorted: the same edges always make the same bytes
        doc = json.loads(row[10])
        assert doc[4] == sorted(doc[4]) and doc[1] == sorted(doc[1])


def test_merge_signals_counts_distinct_origins_when_given() -> None:
    job, a, b = Job("j", "x"), Asset("n", "a", "f"), Asset("n", "b", "f")
    direct, masked = Transformation(), Transformation("DIRECT", "TRANSFORMATION", True)
    sigs = [("ingest", Signal("declared", job, a, b, t)) for t in (direct, masked, direct)]
    [edge] = merge_signals(sigs, origins=[(0, 1), (0, 1), (0, 2)])
    assert edge.count == 2 and edge.transformations == {direct, masked}
    [plain] = merge_signals(sigs)
    assert plain.count == 3


def test_the_collector_is_back_on_after_a_paused_phase_even_when_it_fails() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            pass
        assert not gc.isenabled()  # the inner pause leaves it to the outer one
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_shared_keys_by_one_index_scan_equal_the_per_row_probes(tmp_path: Path) -> None:
    """A bulk load finds the keys it shares with one ordered pass; the answer is the probes' answer."""
    rng = random.Random(9)
    assets, jobs = random_world(rng)
    with Store.open(tmp_path / "s") as store:
        for scope in range(3):
            store.replace("c", f"s{scope}", random_edges(rng, assets, jobs, 150), [], [])
        conn = store.connection
        for (scope_id,) in conn.execute("SELECT id FROM scopes").fetchall():
            lo, hi = write.scope_range(scope_id)
            probed = write.shared_keys(conn, lo, hi)
            assert probed and probed == write.shared_keys(conn, lo, hi, scan=True)


def test_a_trusted_signal_equals_the_checked_one() -> None:
    job, a, b = Job("j", "x"), Asset("n", "a", "f"), Asset("n", "b")
    ev = (Evidence("ingest", "declared", "f.jsonl:3"),)
    for match in (None, "FAILED_RUN"):
        fast = Signal.trusted("declared", job, a, b, Transformation(), ev, match, T0, T0)
        assert fast == Signal(
            "declared", job, a, b, Transformation(), ev, match=match, first_seen=T0, last_seen=T0
        )
        assert vars(fast) == vars(
            Signal("declared", job, a, b, Transformation(), ev, match=match, first_seen=T0, last_seen=T0)
        )
