"""``index.html`` of a package: one self-contained page a person opens in any browser, offline.

Every value on the page came from a warehouse (and so, often, from what someone typed into the product),
so every one goes through :func:`html.escape` with quotes — cell values, titles, descriptions, notes,
even the request id. The page has no script, no external resource, and a Content-Security-Policy that
forbids both, so a value that somehow slipped through still cannot run or phone home.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;
padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:.92rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f6}tr:nth-child(even) td{background:#fafafa}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5rem .8rem}
.raw{background:#ffe9e9}.muted{color:#666;font-size:.9rem}dl{font-size:.9rem}dt{font-weight:600}
dd{margin:0 0 .4rem 1rem}
""".strip()

RAW_NOTE = "shown as stored: no readable label for this value"


@dataclass(frozen=True)
class Section:
    """One table as the page shows it."""

    name: str
    title: str
    description: str
    headers: Sequence[tuple[str, str]]  # (title, description) per exported column
    rows: Sequence[Sequence[tuple[str, bool]]]  # rendered cells: (text, rendered?)
    counts: Sequence[int]  # how many logged rows each shown row stands for
    window: float | None  # near-duplicate window in seconds, when the table collapses them
    withheld: Sequence[tuple[str, str]]  # (column, why) left out
    note: str = ""  # the table was held back (no rows shown) and why


def e(text: object) -> str:
    return escape(str(text), quote=True)


def render_page(
    heading: Sequence[tuple[str, str]], intro: str, sections: Sequence[Section], notes: Sequence[str]
) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Your data logs</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Your data logs</h1>",
        f"<p>{e(intro)}</p>",
        '<table class="muted">',
    ]
    out += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in heading]
    out.append("</table>")
    out += [f'<p class="note">{e(n)}</p>' for n in notes]
    if sections:
        out.append("<nav><ul>")
        out += [f'<li><a href="#{e(s.name)}">{e(s.title)}</a></li>' for s in sections]
        out.append("</ul></nav>")
    for s in sections:
        out += _section(s)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _section(s: Section) -> list[str]:
    out = [f'<section id="{e(s.name)}">', f"<h2>{e(s.title)}</h2>"]
    if s.description:
        out.append(f"<p>{e(s.description)}</p>")
    if s.note:
        out.append(f'<p class="note">{e(s.note)}</p>')
    else:
        logged = sum(s.counts)
        summary = (
            f"{len(s.rows)} rows" if len(s.rows) == logged else f"{len(s.rows)} rows ({logged} as logged)"
        )
        out.append(f'<p class="muted">{e(summary)}</p>')
        if s.rows:
            out += _rows(s)
        defs = [(t, d) for t, d in s.headers if d]
        if defs:
            out.append("<details><summary>What the columns mean</summary><dl>")
            out += [f"<dt>{e(t)}</dt><dd>{e(d)}</dd>" for t, d in defs]
            out.append("</dl></details>")
    if s.withheld:
        out.append('<p class="muted">Not included here:</p><ul class="muted">')
        out += [f"<li>{e(c)}: {e(why)}</li>" for c, why in s.withheld]
        out.append("</ul>")
    out.append("</section>")
    return out


def _rows(s: Section) -> list[str]:
    collapse = s.window is not None
    head = "".join(f"<th>{e(t)}</th>" for t, _ in s.headers)
    if collapse:
        head += f'<th title="{e(_times_help(s.window))}">Times</th>'
    out = ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for row, count in zip(s.rows, s.counts, strict=True):
        cells = []
        for text, ok in row:
            cells.append(
                f"<td>{e(text)}</td>" if ok else f'<td class="raw" title="{RAW_NOTE}">{e(text)}</td>'
            )
        if collapse:
            cells.append(f"<td>{count}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    if collapse:
        out.append(f'<p class="muted">{e(_times_help(s.window))}</p>')
    return out


def _times_help(window: float | None) -> str:
    return (
        "Times: how often the same thing was logged within "
        f"{window:g} seconds (several versions of the app can log one action more than once)."
    )
