"""Benchmark of the review page (flowscope-ui) on the 1M-edge synthetic store of ``zone_bench.py``.

    .venv/bin/python bench/ui_bench.py --store /tmp/zb        # the zone bench's store, built if missing
    .venv/bin/python bench/ui_bench.py --edges 100000 --assets 20000 --hub-fanout 1000   # a quick run

Measured, with a real ``flowscope ui`` process and the machine's Chromium (Playwright, never a downloaded
browser):

- *neighbourhood endpoint*: ``GET /api/neighbourhood`` at depth 3 around the hub (a column feeding 10,000
  columns), folded to 300 nodes, over HTTP: median and p95 of ``--runs`` requests; beside it the same walk
  alone in this process (``graph.walk_many``), so the table shows how much of it is the walk;
- the same around an ordinary column of layer 10, for scale;
- *page interactive*: from navigation start until the page has drawn and laid out the hub's 300-node
  neighbourhood with its handlers bound (``#asset=...&expand=1`` opens it), as the page's own clock
  (``performance.now()``) reports it; and the draw + dagre layout alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from warehouse_graph import _nproc, _ram_gb, build_edges
from zone_bench import NS, hub_edges

from flowscope import graph
from flowscope.graph import WalkOptions
from flowscope.model import Asset
from flowscope.store import Store
from flowscope_ui.testing import browser_page, chromium_path, request, run_server, wait_until


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--edges", type=int, default=1_000_000)
    p.add_argument("--assets", type=int, default=200_000)
    p.add_argument("--fields", type=int, default=10)
    p.add_argument("--layers", type=int, default=20)
    p.add_argument("--hub-fanout", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--page-runs", type=int, default=5)
    p.add_argument(
        "--store", type=Path, help="folder holding .flowscope, reused when it exists (default: temporary)"
    )
    args = p.parse_args(argv)

    load = os.getloadavg()
    print(f"machine: {platform.machine()}, {_nproc()} CPUs, {_ram_gb():.0f} GB RAM; Python {platform.python_version()}; "
          f"{datetime.now():%Y-%m-%d %H:%M}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    tmp = tempfile.TemporaryDirectory(prefix="flowscope-ui-bench-")
    root = args.store or Path(tmp.name)
    store_dir = root / ".flowscope"
    per_layer = max(1, args.assets // args.fields // args.layers)
    if not (store_dir / "lineage.db").exists():
        t0 = time.perf_counter()
        datasets = [Asset(NS, f"l00.t{d:05d}") for d in range(0, per_layer, max(1, per_layer // 10))][:10]
        edges = build_edges(args.edges, args.assets, args.fields, args.layers, args.seed)
        _, extra = hub_edges([d.with_field("c0") for d in datasets], args.fields, per_layer, args.hub_fanout)
        with Store.open(store_dir) as store:
            store.replace("bench", "synthetic", edges + extra, [], [])
        print(
            f"graph: {len(edges):,} edges + {len(extra):,} of the hub, stored in {time.perf_counter() - t0:.0f} s"
        )
        del edges, extra
    hub = Asset(NS, "raw.events_hub", "c0")
    plain = Asset(NS, f"l10.t{per_layer // 2:05d}", "c3")
    options = WalkOptions(depth=args.depth)
    rows: list[tuple[str, str, str]] = []
    with Store.open(store_dir) as store:
        for name, start in (("hub", hub), ("layer-10 column", plain)):
            times, reached = [], 0
            for _ in range(max(3, args.runs // 4)):
                t0 = time.perf_counter()
                reached = len(graph.walk_many(store, [start], "down", options).reached)
                times.append(time.perf_counter() - t0)
            rows.append((f"core walk alone, {name}", f"{statistics.median(times) * 1000:,.0f} ms median",
                         f"depth {args.depth}, {reached:,} assets reached"))  # fmt: skip

    with run_server(store_dir) as server:
        for name, start in (("hub", hub), ("layer-10 column", plain)):
            query = urllib.parse.urlencode({"asset": start.id, "depth": args.depth, "limit": 300})
            times, body = [], {}
            request(server.url + "api/neighbourhood?" + query)  # warm: namespaces cached, pages in memory
            for _ in range(args.runs):
                t0 = time.perf_counter()
                status, body = request(server.url + "api/neighbourhood?" + query)
                times.append(time.perf_counter() - t0)
                assert status == 200, body
            rows.append((f"neighbourhood endpoint, {name}",
                         f"p95 {p95(times) * 1000:,.0f} ms, median {statistics.median(times) * 1000:,.0f} ms",
                         f"{len(body['nodes'])} nodes sent, {body['reached']:,} reached, {body['folded']:,} folded"))  # fmt: skip

        path, why = chromium_path()
        if path is None:
            rows.append(("page interactive, 300 nodes", "not measured", why))
        else:
            fragment = urllib.parse.urlencode({"asset": hub.id, "expand": 1, "depth": args.depth})
            ready, draw, nodes = [], [], 0
            for _ in range(args.page_runs):
                with browser_page() as (page, errors):
                    page.goto(server.url + "#" + fragment)
                    wait_until(page, "document.body.dataset.graph === 'ready'", timeout=600)
                    ready.append(page.evaluate("window.flowscopeUI.state.readyAt"))
                    draw.append(page.evaluate("window.flowscopeUI.state.lastDrawMs"))
                    nodes = page.evaluate("window.flowscopeUI.cy.nodes().length")
                    assert not errors, errors
            rows.append(("page interactive, hub neighbourhood",
                         f"median {statistics.median(ready):,.0f} ms, max {max(ready):,.0f} ms",
                         f"{nodes} nodes drawn, from navigation start; {args.page_runs} fresh Chromium profiles"))  # fmt: skip
            rows.append(("  of which draw + dagre layout", f"median {statistics.median(draw):,.0f} ms", ""))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}} | result | notes")
    for r in rows:
        print(f"{r[0]:<{width}} | {r[1]} | {r[2]}")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
