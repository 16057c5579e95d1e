"""A bounded neighbourhood (:mod:`flowscope.neighbourhood`) as Mermaid or Graphviz DOT text, to paste
into a pull request, a wiki or ``dot -Tsvg``.

Asset names come from other people's SQL, code and OpenLineage events, so none is ever written where the
target syntax would read it as syntax: node ids are our own (``n0``, ``n1``, ...) and names appear only
inside quoted labels, escaped for that syntax. Mermaid: inside ``"..."`` a label ends at the next ``"``
and ``#...;`` is an entity code, so ``"``, ``#``, ``&``, ``<``, ``>``, ``;`` and the backtick (Markdown
strings) become entity codes (``#quot;``...); Mermaid has no backslash escapes. DOT: inside ``"..."``
only ``\\"`` and the backslash sequences Graphviz reads in labels (``\\n``, ``\\l``, ``\\N``...) mean
anything, so every backslash is doubled and every quote escaped. Both: control and invisible characters
are first written as visible ``\\xNN`` text (:func:`flowscope.terminal.clean`), so no newline ends a
statement and nothing reaches the reader's terminal.

Drawing: the start is bold; a link's label is its confidence and its width grows with it; links held
only by static analysis are dashed; "N more" groups and the links to them are dotted.
"""

from __future__ import annotations

from flowscope.neighbourhood import Link, Neighbourhood
from flowscope.terminal import clean

_MERMAID = {'"': "#quot;", "#": "#35;", "&": "#amp;", "<": "#lt;", ">": "#gt;", ";": "#59;", "`": "#96;"}
_MERMAID_TABLE = str.maketrans(_MERMAID)


def mermaid_text(text: str) -> str:
    """``text`` safe inside a Mermaid ``"..."`` label (see the module docstring)."""
    return clean(text).translate(_MERMAID_TABLE)


def dot_text(text: str) -> str:
    """``text`` safe inside a DOT ``"..."`` string, shown as written in a label."""
    return clean(text).replace("\\", "\\\\").replace('"', '\\"')


def _lines(nb: Neighbourhood) -> list[tuple[str, list[str]]]:
    """Each node's key and label lines: the name (``#field``) and the namespace; a group's count."""
    out: list[tuple[str, list[str]]] = []
    for n in nb.nodes:
        a = n.asset
        name = f"{a.name}#{a.field}" if a.field else a.name
        extra = "start" if n.hops == 0 else f"{n.confidence:.2f}, {n.hops} hop{'s' * (n.hops != 1)}"
        out.append((a.id, [name, a.namespace, extra]))
    for g in nb.groups:
        a = g.anchor
        out.append(
            (g.key, [f"{g.count:,} more", f"under {a.name}#{a.field}" if a.field else f"under {a.name}"])
        )
    return out


def _summary(nb: Neighbourhood) -> str:
    word = "downstream" if nb.direction == "down" else "upstream"
    shown = len(nb.nodes) - 1
    text = (
        f"flowscope lineage {word} {nb.start.id} (depth {nb.depth}, min confidence {nb.min_confidence:g}): "
        f"{nb.reached:,} reached, {shown:,} shown"
    )
    if nb.groups:
        text += f", {nb.reached - shown:,} folded into {len(nb.groups):,} group(s)"
    if nb.links_left_out:
        text += f", {nb.links_left_out:,} edges between shown assets left out"
    return text


def _width(link: Link) -> float:
    return round(1 + 3 * link.confidence, 1)


def to_mermaid(nb: Neighbourhood) -> str:
    """A ``flowchart`` (left to right in data-flow order)."""
    ids: dict[str, str] = {}
    out = [f"%% {mermaid_text(_summary(nb))}", "flowchart LR"]
    for i, (key, lines) in enumerate(_lines(nb)):
        ids[key] = f"n{i}"
        label = "<br/>".join(mermaid_text(line) for line in lines)
        out.append(f'    n{i}["{label}"]')
    styles = []
    for i, link in enumerate(nb.links):
        arrow = "-.->" if link.static_only or link.folded else "-->"
        label = "" if link.folded else f"|{link.confidence:.2f}|"
        out.append(f"    {ids[link.source]} {arrow}{label} {ids[link.target]}")
        styles.append(f"    linkStyle {i} stroke-width:{_width(link)}px")
    out.extend(styles)
    out.append("    classDef start font-weight:bold,stroke-width:3px")
    out.append("    classDef more stroke-dasharray:3 3,fill:#f4f4f4")
    out.append(f"    class {ids[nb.start.id]} start")
    if nb.groups:
        out.append("    class " + ",".join(ids[g.key] for g in nb.groups) + " more")
    return "\n".join(out) + "\n"


def to_dot(nb: Neighbourhood) -> str:
    """A ``digraph`` (left to right in data-flow order)."""
    ids: dict[str, str] = {}
    groups = {g.key for g in nb.groups}
    out = [
        "digraph lineage {",
        f'  label="{dot_text(_summary(nb))}";',
        "  labelloc=t;",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica"];',
        '  edge [fontname="Helvetica"];',
    ]
    for i, (key, lines) in enumerate(_lines(nb)):
        ids[key] = f"n{i}"
        label = "\\n".join(dot_text(line) for line in lines)
        style = ', style="bold", penwidth=3' if key == nb.start.id else ""
        if key in groups:
            style = ', style="dotted,filled", fillcolor="#f4f4f4"'
        out.append(f'  n{i} [label="{label}"{style}];')
    for link in nb.links:
        if link.folded:
            attrs = "style=dotted"
        else:
            attrs = f'label="{link.confidence:.2f}", penwidth={_width(link)}'
            if link.static_only:
                attrs += ", style=dashed"
        out.append(f"  {ids[link.source]} -> {ids[link.target]} [{attrs}];")
    out.append("}")
    return "\n".join(out) + "\n"
