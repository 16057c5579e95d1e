"""``lineage downstream|upstream --format mermaid|dot``: bounded pictures whose names cannot break out.

The DOT output is parsed by pydot (a full DOT grammar); the Mermaid output is held to a strict line
grammar, since no Mermaid parser runs without a browser. Names are read back from both and compared with
what was stored, so an escape that loses or adds a character fails too.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pydot
import pytest
import typer
from typer.testing import CliRunner, Result

from flowscope import graph
from flowscope.cli.ingest import add_ingest_command
from flowscope.cli.lineage import add_lineage_commands
from flowscope.errors import UserError
from flowscope.model import Asset, Basis, Edge, Evidence, Job
from flowscope.neighbourhood import MAX_NODES, bounded
from flowscope.store import Store
from flowscope.terminal import clean

# pydot 4 calls pyparsing's camelCase names, which pyparsing 3.3 marks deprecated
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated - use:DeprecationWarning")

HOSTILE = [
    'evil"]; click n0 call alert(1); n9["x',  # leaves a Mermaid label
    'x\\" -> n0 [label="owned',  # leaves a DOT string (a backslash first, to eat the escape)
    "trailing\\",  # a backslash that would escape the closing quote
    "<img src=x onerror=alert(1)>#quot;`md`",  # HTML, a literal entity code, a Markdown string
    "%%{init: {'theme':'dark'}}%% a;b&c",
    "two\nlines\x1b[2J",  # a newline would end the statement; the escape would reach the terminal
]
NS = "postgres://db:5432"


def run(store_dir: Path, *args: str) -> Result:
    app = typer.Typer()
    add_lineage_commands(app, lambda: store_dir)
    add_ingest_command(app, lambda: store_dir)
    return CliRunner().invoke(app, list(args))


def event(i: int, source: str, target: str) -> dict[str, object]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-05-14T04:00:09.410+00:00",
        "producer": "https://example.com/hostile",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"018f75ce-1f00-7b2a-8d1e-7a9c0e3f4d{i:02d}"},
        "job": {"namespace": "etl", "name": f"job{i}"},
        "inputs": [{"namespace": NS, "name": source}],
        "outputs": [{"namespace": NS, "name": target}],
    }


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A chain start -> HOSTILE[0] -> HOSTILE[1] -> ..., ingested from OpenLineage events."""
    names = ["start", *HOSTILE]
    path = tmp_path / "hostile.jsonl"
    path.write_text(
        "\n".join(json.dumps(event(i, a, b)) for i, (a, b) in enumerate(itertools.pairwise(names)))
    )
    store_dir = tmp_path / ".flowscope"
    result = run(store_dir, "ingest", str(path))
    assert result.exit_code == 0, result.output
    return store_dir


def dot_unquote(value: str) -> list[str]:
    """A DOT label as the lines Graphviz shows (``\\\\`` a backslash, ``\\"`` a quote, ``\\n`` a break)."""
    assert value.startswith('"') and value.endswith('"'), value
    lines, cur, i, body = [], "", 0, value[1:-1]
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt == "n":
                lines.append(cur)
                cur = ""
            else:
                assert nxt in '\\"', f"unexpected escape \\{nxt} in {value}"
                cur += nxt
            i += 2
            continue
        assert ch != '"', f"a bare quote inside {value}"
        cur += ch
        i += 1
    return [*lines, cur]


def dot_nodes(parsed: pydot.Dot) -> dict[str, list[str]]:
    """Node name -> label lines (the ``node``/``edge`` defaults statements left out)."""
    return {
        n.get_name(): dot_unquote(n.get_label()) for n in parsed.get_nodes() if n.get_name() not in DEFAULTS
    }


DEFAULTS = ("node", "edge", "graph")
MERMAID_ENTITIES = {
    "#quot;": '"',
    "#35;": "#",
    "#amp;": "&",
    "#lt;": "<",
    "#gt;": ">",
    "#59;": ";",
    "#96;": "`",
}
MERMAID_LINE = re.compile(
    r'    n(?P<node>\d+)\["(?P<label>[^"]*)"\]'
    r"|    n(?P<src>\d+) (?P<arrow>-->|-\.->)(?:\|(?P<conf>[01]\.\d\d)\|)? n(?P<dst>\d+)"
    r"|    linkStyle (?P<link>\d+) stroke-width:\d+(?:\.\d)?px"
    r"|    classDef start font-weight:bold,stroke-width:3px"
    r"|    classDef more stroke-dasharray:3 3,fill:#f4f4f4"
    r"|    class (?P<members>n\d+(?:,n\d+)*) (?:start|more)"
)


def parse_mermaid(text: str) -> tuple[dict[str, list[str]], list[tuple[str, str, str, str | None]]]:
    """Nodes (id -> label lines, entity codes decoded) and edges (src, arrow, dst, label) of our Mermaid
    output, or an assertion error at the first line outside its grammar."""
    lines = text.splitlines()
    assert lines[0].startswith("%% ") and lines[1] == "flowchart LR", lines[:2]
    nodes: dict[str, list[str]] = {}
    edges: list[tuple[str, str, str, str | None]] = []
    styled: list[int] = []
    for line in lines[2:]:
        m = MERMAID_LINE.fullmatch(line)
        assert m, f"not our Mermaid grammar: {line!r}"
        if m["node"] is not None:
            label = m["label"]
            assert not re.search(r"#(?!(quot|35|amp|lt|gt|59|96);)", label), label
            assert not re.search(r"[<>](?<!<br/>)", label.replace("<br/>", "")), label
            decoded = []
            for part in label.split("<br/>"):
                for code, ch in MERMAID_ENTITIES.items():
                    part = part.replace(code, ch)
                decoded.append(part)
            nodes["n" + m["node"]] = decoded
        elif m["src"] is not None:
            src, dst = "n" + m["src"], "n" + m["dst"]
            assert src in nodes and dst in nodes, f"an edge before its nodes: {line}"
            edges.append((src, m["arrow"], dst, m["conf"]))
        elif m["link"] is not None:
            styled.append(int(m["link"]))
        elif m["members"] is not None:
            assert all(n in nodes for n in m["members"].split(","))
    assert styled == list(range(len(edges)))
    return nodes, edges


def test_hostile_names_stay_inside_dot_strings_and_mermaid_labels(hostile: Path) -> None:
    start = f"dataset:{NS}:start"
    dot = run(hostile, "lineage", "downstream", start, "--format", "dot")
    assert dot.exit_code == 0, dot.output
    (parsed,) = pydot.graph_from_dot_data(dot.stdout)
    nodes = dot_nodes(parsed)
    assert [lines[0] for lines in nodes.values()] == ["start", *map(clean, HOSTILE)]
    assert all(lines[1] == NS for lines in nodes.values())
    chain = [(e.get_source(), e.get_destination()) for e in parsed.get_edges()]
    assert chain == [(f"n{i}", f"n{i + 1}") for i in range(len(HOSTILE))]
    assert "\x1b" not in dot.stdout and "two\\\\x0alines" in dot.stdout

    mermaid = run(hostile, "lineage", "downstream", start, "--format", "mermaid")
    assert mermaid.exit_code == 0, mermaid.output
    m_nodes, m_edges = parse_mermaid(mermaid.stdout)
    assert [lines[0] for lines in m_nodes.values()] == ["start", *map(clean, HOSTILE)]
    assert [(s, d) for s, _, d, _ in m_edges] == chain
    assert "\x1b" not in mermaid.stdout

    # upstream: the same chain, drawn in data-flow order
    up = run(hostile, "lineage", "upstream", f"dataset:{NS}:{HOSTILE[2]}", "--format", "dot")
    assert up.exit_code == 0, up.output
    (parsed_up,) = pydot.graph_from_dot_data(up.stdout)
    labels = {k: v[0] for k, v in dot_nodes(parsed_up).items()}
    named = sorted((labels[e.get_source()], labels[e.get_destination()]) for e in parsed_up.get_edges())
    assert named == sorted([("start", HOSTILE[0]), (HOSTILE[0], HOSTILE[1]), (HOSTILE[1], HOSTILE[2])])


def _edge(src: Asset, dst: Asset, kind: str, job: str) -> Edge:
    return Edge(
        job=Job("flowscope://sql", job),
        source=src,
        target=dst,
        confidence={"sql": 0.9, "static": 0.35, "declared": 0.95}[kind],
        bases={Basis(kind)},
        evidence=[Evidence(kind, kind, f"{job}.sql:1")],
        collectors={kind},
        count=1,
    )


@pytest.fixture
def star(tmp_path: Path) -> Path:
    """hub -> 1,000 children (every 10th held by static analysis alone), each child -> 2 grandchildren."""
    hub = Asset(NS, "hub")
    edges = []
    for c in range(1000):
        child = Asset(NS, f"child{c:04d}")
        edges.append(_edge(hub, child, "static" if c % 10 == 0 else "sql", f"c{c}"))
        edges += [_edge(child, Asset(NS, f"grand{c:04d}_{g}"), "declared", f"g{c}") for g in range(2)]
    store_dir = tmp_path / ".flowscope"
    with Store.open(store_dir) as store:
        store.replace("sql", "repo", edges, [], [])
    return store_dir


def test_a_hub_is_folded_into_n_more_nodes_under_the_cap(star: Path) -> None:
    dot = run(star, "lineage", "downstream", f"dataset:{NS}:hub", "--format", "dot", "--depth", "2")
    assert dot.exit_code == 0, dot.output
    (parsed,) = pydot.graph_from_dot_data(dot.stdout)
    nodes = dot_nodes(parsed)
    assert len(nodes) <= MAX_NODES
    more = {k: v for k, v in nodes.items() if v[0].endswith(" more")}
    shown = len(nodes) - len(more) - 1
    folded = sum(int(v[0].split()[0].replace(",", "")) for v in more.values())
    assert shown + folded == 3000 and shown > 100  # every reached asset is shown or counted once
    # every group hangs under a shown asset: the hub (other children) or a child (its grandchildren)
    under = {k: v[1].removeprefix("under ") for k, v in more.items()}
    assert sorted(under.values()).count("hub") == 1 and all(
        u == "hub" or u.startswith("child") for u in under.values()
    )
    edges = parsed.get_edges()
    # the most confident come first: the static-only children (0.35) are all folded at this size
    assert {e.get_label() for e in edges if e.get_label()} == {'"0.90"'}  # grandchildren: all folded
    assert not [e for e in edges if e.get_style() == "dashed"]
    assert all(e.get_style() == "dotted" for e in edges if e.get_destination() in more)

    mermaid = run(
        star, "lineage", "downstream", f"dataset:{NS}:hub", "--format", "mermaid", "--max-nodes", "50"
    )
    assert mermaid.exit_code == 0, mermaid.output
    m_nodes, m_edges = parse_mermaid(mermaid.stdout)
    assert len(m_nodes) <= 50
    m_more = [lines for lines in m_nodes.values() if lines[0].endswith(" more")]
    assert len(m_nodes) - len(m_more) - 1 + sum(int(m[0].split()[0].replace(",", "")) for m in m_more) == 3000
    assert {a for _, a, _, c in m_edges if c in ("0.90", "0.95")} == {"-->"}


def test_links_show_confidence_and_static_only_links_are_dashed(star: Path) -> None:
    """Upstream of a grandchild of a static-only child: hub -static 0.35-> child0000 -declared 0.95-> it."""
    grand = f"dataset:{NS}:grand0000_0"
    dot = run(star, "lineage", "upstream", grand, "--format", "dot")
    (parsed,) = pydot.graph_from_dot_data(dot.stdout)
    names = {k: v[0] for k, v in dot_nodes(parsed).items()}
    links = {
        (names[e.get_source()], names[e.get_destination()]): (
            e.get_label(),
            float(e.get_penwidth()),
            e.get_style(),
        )
        for e in parsed.get_edges()
    }
    assert links == {
        ("hub", "child0000"): ('"0.35"', 2.0, "dashed"),
        ("child0000", "grand0000_0"): ('"0.95"', 3.8, None),
    }
    mermaid = run(star, "lineage", "upstream", grand, "--format", "mermaid")
    nodes, edges = parse_mermaid(mermaid.stdout)
    drawn = {(nodes[s][0], nodes[d][0]): (a, c) for s, a, d, c in edges}
    assert drawn == {("hub", "child0000"): ("-.->", "0.35"), ("child0000", "grand0000_0"): ("-->", "0.95")}
    assert "linkStyle 0 stroke-width:" in mermaid.stdout


def test_bounded_keeps_the_most_that_fit(star: Path) -> None:
    with Store.open(star) as store:
        t = graph.downstream(store, Asset(NS, "hub"), 2)
        nb = bounded(store, t)
    # 149 children + their 149 groups + one group of the other 851 children (and theirs) + the hub = 300
    assert (len(nb.nodes), len(nb.groups)) == (150, 150)
    assert sorted(g.count for g in nb.groups)[-1] == 851 * 3  # the other children and their children
    assert nb.reached == 3000 and len(nb.nodes) - 1 + sum(g.count for g in nb.groups) == 3000


def test_bad_format_options_are_one_clear_error(star: Path) -> None:
    bad = run(star, "lineage", "downstream", f"dataset:{NS}:hub", "--format", "svg")
    assert bad.exit_code == 1 and isinstance(bad.exception, UserError)
    assert "expected one of table, json, mermaid, dot" in str(bad.exception)
    both = run(star, "lineage", "downstream", f"dataset:{NS}:hub", "--format", "dot", "--json")
    assert both.exit_code == 1 and "two outputs" in str(both.exception)
    big = run(star, "lineage", "downstream", f"dataset:{NS}:hub", "--format", "dot", "--max-nodes", "1000")
    assert big.exit_code == 2 and "--max-nodes" in big.output
