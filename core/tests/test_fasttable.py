"""The hand-drawn lineage table prints exactly what rich's Table prints, plain and styled, and hands a
table too wide for the console to rich (which folds cells)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.table import Table

from flowscope.cli.fasttable import print_table
from flowscope.terminal import literal

HEADERS = ["asset", "confidence", "hops", "writer job"]
ROWS = [
    ("datasetField:pg://db:5432:shop.orders:total", "0.950", "1", "flowscope://sql/etl/orders.sql"),
    ("dataset:pg://db:5432:名前.表", "0.500", "2", "job ✓"),
    ("dataset:evil\x1b[2J\nname [red]x[/red] :smile:", "0.100", "10", "j"),  # escaped, never markup
]


def _both(width: int, **kwargs: object) -> tuple[str, str]:
    outs = []
    for fast in (False, True):
        buf = io.StringIO()
        console = Console(file=buf, width=width, emoji=False, highlight=False, **kwargs)  # type: ignore[arg-type]
        if fast:
            print_table(console, HEADERS, ROWS)
        else:
            table = Table(*HEADERS)
            for row in ROWS:
                table.add_row(*(literal(c) for c in row))
            console.print(table)
        outs.append(buf.getvalue())
    return outs[0], outs[1]


@pytest.mark.parametrize("styled", [False, True])
@pytest.mark.parametrize("width", [200, 100, 40])
def test_the_table_is_the_one_rich_draws(width: int, styled: bool) -> None:
    kwargs = {"force_terminal": True, "color_system": "truecolor"} if styled else {"soft_wrap": True}
    rich_out, fast_out = _both(width, **kwargs)
    assert fast_out == rich_out
    assert "\x1b[2J" not in fast_out
    if width == 200:  # narrower, rich folds the widest cells across lines
        assert "\\x1b[2J" in fast_out and "[red]x[/red] :smile:" in fast_out
