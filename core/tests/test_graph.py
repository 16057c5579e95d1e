"""Lineage traversal over a real store: field/dataset semantics, best paths, depth, filters, why."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowscope import graph
from flowscope.errors import UserError
from flowscope.merge import merge_signals
from flowscope.model import Asset, AssetInfo, Evidence, Job, Signal, SignalKind, Transformation
from flowscope.store import Store

USERS = Asset("mysql://appdb:3306", "app.users")
EMAIL, NAME = USERS.with_field("email"), USERS.with_field("name")
STAGE = Asset("hive://m", "staging.users")
S_EMAIL, S_NAME = STAGE.with_field("email"), STAGE.with_field("name")
MART = Asset("hive://m", "mart.contacts")
M_EMAIL = MART.with_field("email")
LOG = Asset("log://default", "crm_export")
AUDIT = Asset("log://default", "audit")


def sig(kind: SignalKind, job: str, source: Asset, target: Asset | None, **kw: object) -> tuple[str, Signal]:
    ev = (Evidence(kind, kind, f"{job}.sql:1"),)
    return (kind, Signal(kind, Job("flowscope://sql", job), source, target, evidence=ev, **kw))  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """users.email -sql-> staging.email -sql-> mart.email -static-> crm_export (dataset)
    users.name -sql-> staging.name; staging (dataset) -declared-> audit; users.email read by 'lookup'."""
    signals = [
        sig("sql", "stage", EMAIL, S_EMAIL),  # 0.90
        sig("sql", "stage", NAME, S_NAME),  # 0.90
        sig("sql", "mart", S_EMAIL, M_EMAIL, transformation=Transformation("DIRECT", "TRANSFORMATION")),
        sig("static", "export", M_EMAIL, LOG),  # 0.35
        sig("declared", "audit", STAGE, AUDIT),  # 0.95, dataset level
        sig("sql", "lookup", EMAIL, None),  # pure read
    ]
    with Store.open(tmp_path / ".flowscope") as s:
        by_collector: dict[str, list[tuple[str, Signal]]] = {}
        for collector, signal in signals:
            by_collector.setdefault(collector, []).append((collector, signal))
        for collector, group in by_collector.items():
            s.replace(collector, "repo", merge_signals(group), [], [])
        s.replace("catalog", "tags", [], [AssetInfo(AUDIT.with_field("actor"), tags=("audit",))], [])
        yield s


def reached(t: graph.Traversal) -> dict[Asset, tuple[float, int]]:
    return {r.asset: (r.confidence, r.hops) for r in t.reached}


def test_downstream_of_a_field_follows_its_edges_and_its_datasets_edges(store: Store) -> None:
    got = reached(graph.downstream(store, EMAIL))
    assert got == {
        S_EMAIL: (0.9, 1),
        M_EMAIL: (0.81, 2),
        LOG: (pytest.approx(0.81 * 0.35), 3),
        AUDIT: (pytest.approx(0.9 * 0.95), 2),  # staging.email carries the dataset edge staging -> audit
    }
    # A field follows the dataset-level edges of its own dataset (staging -> audit), not its siblings.
    got = reached(graph.downstream(store, S_EMAIL))
    assert got[AUDIT] == (0.95, 1)
    assert NAME not in got and S_NAME not in got


def test_downstream_of_a_dataset_follows_every_field(store: Store) -> None:
    got = reached(graph.downstream(store, USERS))
    assert set(got) == {S_EMAIL, S_NAME, M_EMAIL, LOG, AUDIT}
    assert got[AUDIT] == (pytest.approx(0.9 * 0.95), 2)


def test_pure_reads_are_not_walked_but_listed(store: Store) -> None:
    assert all(r.via != ("flowscope://sql", "lookup") for r in graph.downstream(store, EMAIL).reached)
    assert [e.job.name for e in store.reads(EMAIL)] == ["lookup"]


def test_min_confidence_drops_weak_edges_and_depth_limits_hops(store: Store) -> None:
    assert LOG not in reached(graph.downstream(store, EMAIL, min_confidence=0.5))
    assert set(reached(graph.downstream(store, EMAIL, depth=1))) == {S_EMAIL}
    with pytest.raises(UserError, match="depth"):
        graph.downstream(store, EMAIL, depth=0)


def test_upstream_mirrors_downstream(store: Store) -> None:
    got = reached(graph.upstream(store, LOG))
    assert got == {M_EMAIL: (0.35, 1), S_EMAIL: (pytest.approx(0.315), 2), EMAIL: (pytest.approx(0.2835), 3)}
    # A dataset-level write into audit feeds every field of it; upstream of audit reaches staging's
    # writers through staging's fields.
    up = reached(graph.upstream(store, AUDIT))
    assert set(up) == {STAGE, EMAIL, NAME}
    (r,) = [r for r in graph.upstream(store, LOG).reached if r.asset == EMAIL]
    assert [(s.source, s.target) for s in r.path] == [(EMAIL, S_EMAIL), (S_EMAIL, M_EMAIL), (M_EMAIL, LOG)]
    assert r.via == ("flowscope://sql", "stage")


def test_best_path_wins_over_fewer_hops_within_the_depth(tmp_path: Path) -> None:
    a, b, c = (Asset("hive://m", n) for n in "abc")
    with Store.open(tmp_path) as s:
        s.replace("static", "x", merge_signals([sig("static", "weak", a, b)]), [], [])
        s.replace(
            "sql",
            "x",
            merge_signals([sig("sql", "j1", a, c), sig("sql", "j2", c, b), sig("sql", "j3", b, a)]),
            [],
            [],
        )
        two = graph.downstream(s, a)
        (rb,) = [r for r in two.reached if r.asset == b]
        assert (rb.confidence, rb.hops) == (pytest.approx(0.81), 2)
        assert math.prod(step.confidence for step in rb.path) == pytest.approx(rb.confidence)
        assert [step.job[1] for step in rb.path] == ["j1", "j2"]
        assert a not in {r.asset for r in two.reached}  # the cycle back to the start is not a result
        (one,) = [r for r in graph.downstream(s, a, depth=1).reached if r.asset == b]
        assert (one.confidence, one.hops, one.via) == (0.35, 1, ("flowscope://sql", "weak"))


def test_why_returns_the_most_confident_path_with_details(store: Store) -> None:
    x = graph.why(store, EMAIL, LOG)
    assert x is not None
    assert [(e.source, e.target) for e in x.edges] == [(EMAIL, S_EMAIL), (S_EMAIL, M_EMAIL), (M_EMAIL, LOG)]
    assert x.confidence == pytest.approx(0.9 * 0.9 * 0.35)
    assert x.edges[1].transformations == {Transformation("DIRECT", "TRANSFORMATION")}
    assert x.edges[2].kinds == ["static"] and x.edges[2].evidence[0].location == "export.sql:1"
    # A dataset target is reached by any of its fields; a field target by a write to its dataset.
    assert graph.why(store, EMAIL, MART) is not None
    z = graph.why(store, NAME, AUDIT.with_field("actor"))
    assert z is not None and [(e.source, e.target) for e in z.edges] == [(NAME, S_NAME), (STAGE, AUDIT)]
    assert graph.why(store, EMAIL, LOG, min_confidence=0.5) is None
    assert graph.why(store, LOG, EMAIL) is None
    with pytest.raises(UserError, match="same asset"):
        graph.why(store, EMAIL, EMAIL)


def test_unknown_start_is_a_user_error(store: Store) -> None:
    with pytest.raises(UserError, match="unknown asset dataset:hive://m:nope"):
        graph.downstream(store, Asset("hive://m", "nope"))


# -- walk options: what zones and the page filter on ------------------------------------------------


def _opts(**kw: object) -> graph.WalkOptions:
    return graph.WalkOptions(**kw)  # type: ignore[arg-type]


def test_stop_at_reaches_the_asset_but_not_what_lies_behind_it(store: Store) -> None:
    t = graph.walk_many(store, [EMAIL], "down", _opts(stop_at=frozenset({S_EMAIL})))
    assert set(reached(t)) == {S_EMAIL}
    assert t.stopped == {S_EMAIL}
    # stopping a dataset stops its fields: nothing behind staging is reached from users.email
    t = graph.walk_many(store, [EMAIL], "down", _opts(stop_at=frozenset({STAGE})))
    assert set(reached(t)) == {S_EMAIL} and t.stopped == {S_EMAIL}


def test_direct_only_does_not_cross_indirect_edges(tmp_path: Path) -> None:
    users = Asset("pg://db", "users")
    orders = Asset("pg://db", "orders")
    report = Asset("pg://db", "report")
    signals = [
        sig(
            "sql",
            "a",
            users.with_field("country"),
            orders,
            transformation=Transformation("INDIRECT", "FILTER"),
        ),
        sig("sql", "b", users.with_field("country"), report.with_field("country")),
    ]
    with Store.open(tmp_path / "s") as s:
        s.replace("sql", "repo", merge_signals(signals), [], [])
        everything = reached(graph.walk_many(s, [users.with_field("country")], "down", _opts()))
        direct = reached(graph.walk_many(s, [users.with_field("country")], "down", _opts(direct_only=True)))
    assert set(everything) == {orders, report.with_field("country")}
    assert set(direct) == {report.with_field("country")}


def test_kinds_keep_only_edges_with_that_evidence(store: Store) -> None:
    sql_only = reached(graph.walk_many(store, [EMAIL], "down", _opts(kinds=frozenset({"sql"}))))
    assert LOG not in sql_only and M_EMAIL in sql_only and AUDIT not in sql_only
    with pytest.raises(UserError, match="unknown evidence kind 'sqll'"):
        graph.walk_many(store, [EMAIL], "down", _opts(kinds=frozenset({"sqll"})))


def test_many_starts_take_each_assets_best_path(store: Store) -> None:
    t = graph.walk_many(store, [EMAIL, NAME], "down", _opts())
    got = reached(t)
    assert EMAIL not in got and NAME not in got
    assert got[S_NAME] == (0.9, 1) and got[S_EMAIL] == (0.9, 1)
    assert t.starts == (EMAIL, NAME)


def test_why_respects_the_same_options(store: Store) -> None:
    assert graph.why(store, EMAIL, LOG) is not None
    assert graph.why(store, EMAIL, LOG, options=_opts(stop_at=frozenset({MART}))) is None
    assert graph.why(store, EMAIL, LOG, options=_opts(kinds=frozenset({"sql"}))) is None


def test_rows_stored_before_flags_existed_pass_every_filter(tmp_path: Path) -> None:
    import sqlite3

    users = Asset("pg://db", "users")
    with Store.open(tmp_path / "s") as s:
        s.replace("sql", "repo", merge_signals([sig("sql", "a", users, AUDIT)]), [], [])
    conn = sqlite3.connect(tmp_path / "s" / "lineage.db")
    conn.execute("UPDATE edge_rows SET flags = 0")
    conn.commit()
    conn.close()
    with Store.open(tmp_path / "s") as s:
        opts = _opts(kinds=frozenset({"static"}), direct_only=True)
        assert set(reached(graph.walk_many(s, [users], "down", opts))) == {AUDIT}


def test_steps_carry_the_evidence_kinds_of_every_scope_that_stored_the_edge(tmp_path: Path) -> None:
    """An edge held by two collectors (two rows) shows both kinds on the path, whichever row came first."""
    edge_sql = sig("sql", "stage", EMAIL, S_EMAIL)
    edge_static = sig("static", "stage", EMAIL, S_EMAIL)
    with Store.open(tmp_path / "s") as s:
        s.replace("sql", "repo", merge_signals([edge_sql]), [], [])
        s.replace("static", "repo", merge_signals([edge_static]), [], [])
        s.replace("declared", "repo", merge_signals([sig("declared", "mart", S_EMAIL, M_EMAIL)]), [], [])
        t = graph.walk_many(s, [EMAIL], "down", _opts())
    by_asset = {r.asset: r for r in t.reached}
    path = by_asset[M_EMAIL].path
    assert [st.kinds for st in path] == [("sql", "static"), ("declared",)]
    assert by_asset[M_EMAIL].last_step == path[-1]
    assert by_asset[S_EMAIL].last_step.kinds == ("sql", "static")


def test_reached_knows_its_parent_and_start_on_the_best_path_tree(store: Store) -> None:
    t = graph.walk_many(store, [EMAIL, NAME], "down", _opts())
    by_asset = {r.asset: r for r in t.reached}
    assert by_asset[S_EMAIL].parent is None and by_asset[S_EMAIL].start == EMAIL
    assert by_asset[M_EMAIL].parent == S_EMAIL and by_asset[M_EMAIL].start == EMAIL
    assert by_asset[LOG].parent == M_EMAIL
    assert by_asset[S_NAME].start == NAME
    # upstream: the parent is the node nearer the start, i.e. downstream of the asset
    up = {r.asset: r for r in graph.walk_many(store, [M_EMAIL], "up", _opts()).reached}
    assert up[EMAIL].parent == S_EMAIL and up[EMAIL].start == M_EMAIL
    assert up[EMAIL].last_step.source == EMAIL and up[EMAIL].last_step.target == S_EMAIL


def test_path_edges_are_the_full_edges_of_each_best_path_in_one_batch(store: Store) -> None:
    t = graph.walk_many(store, [EMAIL], "down", _opts())
    by_asset = {r.asset: r for r in t.reached}
    paths = graph.path_edges(store, [by_asset[LOG], by_asset[S_EMAIL]])
    assert [(e.source, e.target) for e in paths[0]] == [(EMAIL, S_EMAIL), (S_EMAIL, M_EMAIL), (M_EMAIL, LOG)]
    assert [(e.source, e.target) for e in paths[1]] == [(EMAIL, S_EMAIL)]
    assert all(e.evidence for p in paths for e in p)
    why = graph.why(store, EMAIL, LOG)
    assert why is not None and [e.key for e in why.edges] == [e.key for e in paths[0]]
    up = {r.asset: r for r in graph.walk_many(store, [LOG], "up", _opts()).reached}
    assert [(e.source, e.target) for e in graph.path_edges(store, [up[EMAIL]])[0]] == [
        (EMAIL, S_EMAIL),
        (S_EMAIL, M_EMAIL),
        (M_EMAIL, LOG),
    ]
