"""Printing names that come from other people's files on a terminal.

Asset, job and field names, snippets and messages are read from SQL, code, configs, logs and OpenLineage
events written elsewhere. Printed as they are, a control character or an escape sequence in one of them
drives the user's terminal (``\\x1b[2J`` clears the screen, OSC 8 makes a fake link, a carriage return
overwrites the line with "ALL CLEAR"), and rich would read ``[red]`` or ``:smile:`` inside them as its own
markup. Everything the CLI prints from data goes through :func:`clean` (plain text), :func:`literal` (a rich
table cell or print argument) or :func:`markup` (data placed inside our own markup string).

What is escaped, as ``\\xNN`` / ``\\uNNNN``: C0 and C1 control characters (newline and tab included: a name
is one line), DEL, and the Unicode format characters that reorder or hide text (bidirectional overrides
and isolates, zero-width characters, line and paragraph separators). Everything else, non-ASCII letters
included, is printed as written.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.text import Text

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object) -> str:
    """``text`` with every control and invisible format character escaped; safe to print as one line."""
    value = str(text)
    return _UNSAFE.sub(_escape_char, value) if _UNSAFE.search(value) else value


def literal(text: object, style: str = "") -> Text:
    """A rich ``Text`` of ``clean(text)``: printed exactly, never read as markup or emoji codes."""
    return Text(clean(text), style=style)


def markup(text: object) -> str:
    """``clean(text)`` escaped for use inside a rich markup string (``f"[bold]{markup(name)}[/bold]"``)."""
    return _escape_markup(clean(text))


def console(stderr: bool = False, **kwargs: object) -> Console:
    """A rich console that never turns ``:name:`` into an emoji or colours numbers and paths by itself."""
    return Console(stderr=stderr, emoji=False, highlight=False, **kwargs)  # type: ignore[arg-type]
