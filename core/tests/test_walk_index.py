"""The compact walk index gives the same lineage answers as walking the store itself, on random graphs
(cycles, ties, several scopes per key, every filter), after patches, and when its file is lost or damaged."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flowscope import graph, walkindex
from flowscope.model import Asset, Basis, Edge, Job, Transformation
from flowscope.store import Store

CONFS = [0.3, 0.5, 0.6, 0.8, 0.9, 1.0]  # few values: equal products (ties) are common
BASES = [
    {Basis("sql")},
    {Basis("static")},
    {Basis("runtime", "EXACT_MATCH")},
    {Basis("declared")},
    {Basis("context", "TRACE_ID")},
]
TRANSFORMS = [
    set(),
    {Transformation()},
    {Transformation("INDIRECT", "FILTER")},
    {Transformation("DIRECT", "TRANSFORMATION", True)},
]


def random_graph(rng: random.Random, n_datasets: int) -> tuple[list[Asset], dict[str, list[Edge]]]:
    datasets = [Asset("pg://db", f"t{d}") for d in range(n_datasets)]
    nodes = list(datasets)
    for d in datasets:
        nodes += [d.with_field(f"c{c}") for c in range(rng.randint(0, 3))]
    scopes: dict[str, list[Edge]] = {"a": [], "b": [], "c": []}
    jobs = [Job("flowscope://sql", f"job{j}") for j in range(3)]
    for _ in range(rng.randint(len(nodes), 3 * len(nodes))):
        src, dst = rng.choice(nodes), rng.choice(nodes)
        if src == dst:
            continue
        job = rng.choice(jobs)
        for scope in rng.sample(sorted(scopes), rng.choice([1, 1, 1, 2, 3])):
            scopes[scope].append(
                Edge(job, src, dst, rng.choice(CONFS), rng.choice(BASES), rng.choice(TRANSFORMS))
            )
    # a pure read now and then: never walked
    scopes["a"].append(Edge(jobs[0], rng.choice(nodes), None, 0.9, {Basis("sql")}))
    for scope in scopes:  # one edge per key per scope
        scopes[scope] = list({e.key: e for e in scopes[scope]}.values())
    return nodes, scopes


def answer(t: graph.Traversal) -> Any:
    return (
        [
            (
                r.asset,
                r.confidence,
                r.hops,
                r.via,
                [(s.job, s.source, s.target, s.confidence, s.kinds) for s in r.path],
                r.parent,
                r.start,
            )
            for r in t.reached
        ],
        sorted(a.id for a in t.stopped),
    )


def both(monkeypatch: pytest.MonkeyPatch, fn: Any) -> tuple[Any, Any]:
    monkeypatch.setenv(graph.WALK_ENV, "store")
    reference = fn()
    monkeypatch.setenv(graph.WALK_ENV, "index")
    return reference, fn()


def random_queries(
    rng: random.Random, store: Store, nodes: list[Asset], monkeypatch: pytest.MonkeyPatch
) -> int:
    checked = 0
    nodes = [n for n in nodes if store.lookup(n) is not None]  # a re-scan drops assets nothing refers to
    for _ in range(12):
        starts = rng.sample(nodes, min(len(nodes), rng.randint(1, 3)))
        opts = graph.WalkOptions(
            depth=rng.randint(1, 6),
            min_confidence=rng.choice([0.0, 0.0, 0.5, 0.7]),
            direct_only=rng.random() < 0.3,
            kinds=frozenset(rng.sample(["sql", "static", "runtime", "declared"], rng.choice([0, 0, 1, 2]))),
            stop_at=frozenset(rng.sample(nodes, min(len(nodes), rng.choice([0, 0, 1, 2])))),
        )
        direction = rng.choice(["down", "up"])
        ref, got = both(monkeypatch, lambda: answer(graph.walk_many(store, starts, direction, opts)))  # noqa: B023
        assert got == ref, (starts, direction, opts)
        if len(nodes) < 2:
            continue
        src, dst = rng.sample(nodes, 2)
        ref_why, got_why = both(monkeypatch, lambda: graph.why(store, src, dst, options=opts))  # noqa: B023
        assert (ref_why is None) == (got_why is None), (src, dst, opts)
        if ref_why is not None and got_why is not None:
            assert [e.key for e in got_why.edges] == [e.key for e in ref_why.edges]
            assert got_why.confidence == ref_why.confidence
        checked += 1
    return checked


@pytest.mark.parametrize("seed", range(30))
def test_index_answers_equal_store_answers_on_random_graphs(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    nodes, scopes = random_graph(rng, rng.randint(2, 7))
    with Store.open(tmp_path / "s") as store:
        for scope, edges in scopes.items():
            store.replace(scope, "repo", edges, [], [])
        assert random_queries(rng, store, nodes, monkeypatch) == 12
        # A scope re-scanned: the index is patched (only the touched datasets read again), same answers.
        _, again = random_graph(rng, 3)
        store.replace("b", "repo", [e for e in again["b"] if e.source in nodes and e.target in nodes], [], [])
        random_queries(rng, store, nodes, monkeypatch)
        index = walkindex.index_for(store)
        assert index.meta["built"] == "patch"
        assert index.key == walkindex.state(store.connection)


@pytest.mark.parametrize("seed", range(100, 104))
def test_index_answers_equal_store_answers_on_larger_graphs(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wider frontiers (dozens of datasets, several fields each reached at once), and walks one after
    another on the same index, each reusing the per-node state the previous one cleaned."""
    rng = random.Random(seed)
    nodes, scopes = random_graph(rng, rng.randint(25, 40))
    with Store.open(tmp_path / "s") as store:
        for scope, edges in scopes.items():
            store.replace(scope, "repo", edges, [], [])
        assert random_queries(rng, store, nodes, monkeypatch) == 12


def _small_store(tmp_path: Path) -> tuple[Store, list[Asset]]:
    nodes, scopes = random_graph(random.Random(99), 6)
    store = Store.open(tmp_path / "s")
    for scope, edges in scopes.items():
        store.replace(scope, "repo", edges, [], [])
    return store, nodes


def _answers(tmp_path: Path, nodes: list[Asset]) -> Any:
    with Store.open(tmp_path / "s") as store:  # a new process's view: nothing cached
        return [answer(graph.walk(store, n, "down")) for n in nodes]


def test_a_deleted_index_is_rebuilt_and_answers_the_same(tmp_path: Path) -> None:
    store, nodes = _small_store(tmp_path)
    store.close()
    first = _answers(tmp_path, nodes)
    path = tmp_path / "s" / walkindex.FILE_NAME
    assert path.exists()
    path.unlink()
    assert _answers(tmp_path, nodes) == first
    assert path.exists()


@pytest.mark.parametrize(
    "damage",
    ["truncate", "garbage", "flip_array_byte", "flip_header_byte", "empty", "other_store"],
)
def test_a_damaged_index_is_rebuilt_and_answers_the_same(
    damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, nodes = _small_store(tmp_path)
    store.close()
    monkeypatch.setenv(graph.WALK_ENV, "store")
    reference = _answers(tmp_path, nodes)
    monkeypatch.setenv(graph.WALK_ENV, "index")
    assert _answers(tmp_path, nodes) == reference
    path = tmp_path / "s" / walkindex.FILE_NAME
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00not an index\xff" * 100)
    elif damage == "flip_array_byte":
        data[-70] ^= 0xFF  # inside the last arrays
        path.write_bytes(data)
    elif damage == "flip_header_byte":
        data[40] ^= 0x01
        path.write_bytes(data)
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # an index left by another store: it names another generation and scope fingerprint
        other, _ = _small_store(tmp_path / "other")
        other.replace("z", "zz", [Edge(Job("j", "k"), nodes[0], nodes[1], 0.5, {Basis("sql")})], [], [])
        graph.walk(other, nodes[0], "down")
        other.close()
        path.write_bytes((tmp_path / "other" / "s" / walkindex.FILE_NAME).read_bytes())
    assert _answers(tmp_path, nodes) == reference
    with Store.open(tmp_path / "s") as store:
        index = walkindex.index_for(store)
        assert index.key == walkindex.state(store.connection)
        assert index.meta["built"] == "full"


def test_an_unwritable_store_folder_walks_with_an_index_in_memory(tmp_path: Path) -> None:
    store, nodes = _small_store(tmp_path)
    path = tmp_path / "s" / walkindex.FILE_NAME
    path.mkdir()  # the file cannot be written: a directory holds its name
    walked = graph.walk(store, nodes[0], "down")
    assert walkindex.index_for(store).size > 0 and path.is_dir()
    store.close()
    assert answer(walked) == _answers(tmp_path, nodes)[0]


def test_lineage_index_describes_and_rebuilds_the_index(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from flowscope.cli.lineage import add_lineage_commands

    store, _ = _small_store(tmp_path)
    store.close()
    app = typer.Typer()
    add_lineage_commands(app, lambda: tmp_path / "s")
    first = CliRunner().invoke(app, ["lineage", "index"])
    assert first.exit_code == 0, first.output
    assert "walk.idx:" in first.stdout and "(full;" in first.stdout
    again = CliRunner().invoke(app, ["lineage", "index"])
    assert "(full;" in again.stdout  # the file on disk, as it was built
    rebuilt = CliRunner().invoke(app, ["lineage", "index", "--rebuild"])
    assert rebuilt.exit_code == 0 and "(full;" in rebuilt.stdout


def test_wide_datasets_and_every_code_width_walk_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dataset with 300 fields: fields more than 255 places after their dataset node find it by binary
    search instead of the one-byte back offset; walks from and through them equal the store walk."""
    wide = Asset("pg://db", "wide")
    fields = [wide.with_field(f"c{i:03d}") for i in range(300)]
    out = [Asset("pg://db", f"out{j}") for j in range(3)]
    job = Job("flowscope://sql", "job")
    edges = [
        Edge(job, f, out[i % 3].with_field(f.field or ""), CONFS[i % 6], {Basis("sql")})
        for i, f in enumerate(fields)
    ]
    edges.append(Edge(job, out[0], wide, 0.9, {Basis("declared")}))  # back into the wide dataset
    edges.append(Edge(job, out[1].with_field("c289"), fields[5], 0.8, {Basis("sql")}))
    with Store.open(tmp_path / "s") as store:
        store.replace("a", "repo", edges, [], [])
        nodes = [wide, fields[0], fields[254], fields[255], fields[299], out[0], out[1].with_field("c289")]
        for start in nodes:
            for direction in ("down", "up"):
                opts = graph.WalkOptions(depth=4, stop_at=frozenset({fields[290]}))
                ref, got = both(monkeypatch, lambda: answer(graph.walk_many(store, [start], direction, opts)))  # noqa: B023
                assert got == ref and got[0], (start, direction)
        index = walkindex.index_for(store)
        positions = index.idx(*zip(*(store.lookup(a) for a in nodes), strict=True))  # type: ignore[misc]
        assert (positions >= 0).all()
        assert index.ids[positions].tolist() == [store.lookup(a)[0] for a in nodes]  # type: ignore[index]
        assert (index.dback == 255).sum() == 300 - 255 + 1


@pytest.mark.parametrize("bits", [3, 24, 25, 32, 40])
def test_edge_codes_read_back_at_every_width(bits: int) -> None:
    from flowscope.walkindex.build import _pack_codes
    from flowscope.walkindex.walk import code_view

    rng = np.random.default_rng(bits)
    codes = rng.integers(0, 2**bits, 1000, dtype=np.uint64)
    width, stored = _pack_codes(codes, bits)
    assert width == (3 if bits <= 24 else 4 if bits <= 32 else 8)
    read = code_view({"dcode": stored, "code_bytes": np.array([width])}).astype(np.uint64)
    if width == 3:
        read &= np.uint64(0xFFFFFF)
    assert read.tolist() == codes.tolist()
