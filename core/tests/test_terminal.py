"""Names from other people's files are printed literally, never as terminal commands or rich markup."""

from __future__ import annotations

import io

from flowscope.terminal import clean, console, literal, markup


def test_escape_sequences_and_line_breaks_are_shown_not_run() -> None:
    hostile = "users\x1b[2J\x1b[H\rALL CLEAR\n\x1b]8;;http://evil\x07x\x1b]8;;\x07"
    shown = clean(hostile)
    assert "\x1b" not in shown and "\r" not in shown and "\n" not in shown and "\x07" not in shown
    assert shown.startswith("users\\x1b[2J\\x1b[H\\x0dALL CLEAR\\x0a")


def test_invisible_and_reordering_characters_are_escaped() -> None:
    assert clean("pay\u202eroll\u200b") == "pay\\u202eroll\\u200b"
    assert clean("\x85\x9b") == "\\x85\\x9b"  # C1 controls, including the 8-bit CSI


def test_ordinary_names_are_unchanged() -> None:
    for name in ("photos_app.photos", "Straße.größe", "日本.表", "postgres_host:1234:db.t", "a\\b"):
        assert clean(name) == name


def test_rich_markup_and_emoji_codes_in_data_are_printed_literally() -> None:
    out = io.StringIO()
    con = console(file=out, width=200, color_system=None)
    con.print(literal("[red]x[/red] :smile: postgres_host:1234:"))
    con.print(f"[bold]{markup('[link=http://evil]y[/link]')}[/bold]")
    text = out.getvalue()
    assert "[red]x[/red] :smile: postgres_host:1234:" in text
    assert "[link=http://evil]y[/link]" in text
