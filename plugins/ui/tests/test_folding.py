"""Big neighbourhoods are folded on the server: never more than the node budget reaches the browser, and
every asset the walk found is either shown or counted in exactly one "N more" group."""

from __future__ import annotations

from pathlib import Path

from flowscope.graph import WalkOptions
from flowscope.model import Asset, Basis, Edge, Evidence, Job
from flowscope.store import Store
from flowscope_ui.graphview import MAX_NODES, Filters, neighbourhood

NS = "hive://warehouse:9083"


def hub_store(root: Path, children: int, grandchildren: int) -> tuple[Store, Asset]:
    """A source feeding a hub that feeds ``children`` tables, each feeding ``grandchildren`` more."""
    src, hub = Asset(NS, "raw.events", "user_id"), Asset(NS, "hub.events", "user_id")
    ev = [Evidence("sql", "sql", "etl/hub.sql:3")]
    sql = {Basis("sql")}

    def edge(job: str, a: Asset, b: Asset) -> Edge:
        return Edge(Job("flowscope://sql", job), a, b, 0.9, set(sql), evidence=ev, collectors={"t"}, count=1)

    edges = [edge("etl/hub.sql", src, hub)]
    for c in range(children):
        child = Asset(NS, f"mart.t{c:04d}", "user_id")
        edges.append(edge(f"etl/t{c:04d}.sql", hub, child))
        edges += [
            edge(f"etl/g{c:04d}.sql", child, Asset(NS, f"leaf.t{c:04d}_{g}", "user_id"))
            for g in range(grandchildren)
        ]
    store = Store.open(root / ".flowscope")
    store.replace("t", "synthetic", edges, [], [])
    return store, src


def test_a_hub_is_folded_under_the_budget_and_nothing_is_lost(tmp_path: Path) -> None:
    store, src = hub_store(tmp_path, 400, 2)
    with store:
        out = neighbourhood(store, src, "down", WalkOptions(depth=3), Filters(), {})
    nodes = out["nodes"]
    assert len(nodes) <= MAX_NODES
    groups = [n for n in nodes if n.get("group")]
    assert groups, "1201 reached assets must be folded"
    shown = [n for n in nodes if not n.get("group")]
    assert out["reached"] == 1 + 400 + 800
    assert len(shown) - 1 + sum(g["count"] for g in groups) == out["reached"]
    ids = {n["id"] for n in nodes}
    for e in out["edges"]:  # every edge joins two nodes the browser has
        assert e["source"] in ids and e["target"] in ids
    # the nearest assets stay unfolded: the hub and its children come before any leaf
    assert "datasetField:hive://warehouse:9083:hub.events:user_id" in ids


def test_a_smaller_budget_is_kept_and_groups_hang_under_shown_assets(tmp_path: Path) -> None:
    store, src = hub_store(tmp_path, 30, 3)
    with store:
        out = neighbourhood(store, src, "down", WalkOptions(depth=3), Filters(), {}, limit=12)
    assert len(out["nodes"]) <= 12
    ids = {n["id"] for n in out["nodes"] if not n.get("group")}
    for g in (n for n in out["nodes"] if n.get("group")):
        assert g["anchor"] in ids and g["label"] == f"{g['count']} more"


def test_no_folding_when_it_fits(tmp_path: Path) -> None:
    store, src = hub_store(tmp_path, 5, 1)
    with store:
        out = neighbourhood(store, src, "both", WalkOptions(depth=3), Filters(), {})
    assert out["folded"] == 0 and not [n for n in out["nodes"] if n.get("group")]
    assert len(out["nodes"]) == 1 + 1 + 5 + 5
