"""Printing a long table (up to ``--limit`` rows of lineage answers) without rich's layout engine.

rich measures, wraps and crops every cell through several layers of renderables: about 55 ms of CPU for
the 200 rows a ``lineage downstream`` prints by default, a fifth of the whole command. When the table fits
the console's width (no cell needs folding), :func:`print_table` writes the same box, padding and bold
header as ``rich.table.Table`` itself in a few milliseconds; a table that does not fit goes to rich,
which folds the cells. Every cell goes through :func:`flowscope.terminal.clean` either way.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flowscope.terminal import clean, literal


def print_table(console: Console, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """``console.print(Table(*headers))`` with ``rows``, drawn the same way (rich's default heavy-head
    box) when it fits the console's width."""
    cells = [[clean(c) for c in row] for row in rows]
    widths = [cell_len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            n = cell_len(cell)
            if n > widths[i]:
                widths[i] = n
    if sum(widths) + 3 * len(widths) + 1 > console.width:
        table = Table(*headers)
        for row in cells:
            table.add_row(*(literal(c) for c in row))
        console.print(table)
        return

    def rule(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    header = Text("┃")
    for h, w in zip(headers, widths, strict=True):
        for piece in (" ", h + " " * (w - cell_len(h)), " "):
            header.append(piece, style="table.header")
        header.append("┃")
    body = [rule("┏", "━", "┳", "┓")]
    console.out("\n".join(body), highlight=False)
    console.print(header, crop=False, soft_wrap=True)
    lines = [rule("┡", "━", "╇", "┩")]
    for row in cells:
        parts = [c + " " * (w - cell_len(c)) for c, w in zip(row, widths, strict=True)]
        lines.append("│ " + " │ ".join(parts) + " │")
    lines.append(rule("└", "─", "┴", "┘"))
    console.out("\n".join(lines), highlight=False)
