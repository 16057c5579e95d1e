"""``index.html`` of a package: one self-contained page a person opens in any browser, offline.

Every value on the page came from a warehouse (and so, often, from what someone typed into the product),
so every one goes through :func:`html.escape` with quotes — cell values, titles, descriptions, notes,
even the request id. The page has no script, no external resource, and a Content-Security-Policy that
forbids both, so a value that somehow slipped through still cannot run or phone home.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowscope_datalogs.cells import TD, Cell, html

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


@dataclass(frozen=True)
class Layout:
    """What the page shows of one table whatever the person: built once per table and batch."""

    name: str
    title: str
    top: list[str]  # section start, heading, description (and the note of a held-back table)
    head: list[str]  # the rows' table up to its body
    after_rows: list[str]  # the rows' table end and the "Times" explanation
    bottom: list[str]  # column meanings, columns left out, section end
    held: bool = False


def layout(
    name: str,
    title: str,
    description: str,
    headers: Sequence[tuple[str, str]],  # (title, description) per exported column
    window: float | None,  # near-duplicate window in seconds, when the table collapses them
    withheld: Sequence[tuple[str, str]],  # (column, why) left out
    note: str = "",  # the table was held back (no rows shown) and why
) -> Layout:
    top = [f'<section id="{e(name)}">', f"<h2>{e(title)}</h2>"]
    if description:
        top.append(f"<p>{e(description)}</p>")
    if note:
        top.append(f'<p class="note">{e(note)}</p>')
    head = "".join(f"<th>{e(t)}</th>" for t, _ in headers)
    if window is not None:
        head += f'<th title="{e(_times_help(window))}">Times</th>'
    after = ["</tbody></table>"]
    if window is not None:
        after.append(f'<p class="muted">{e(_times_help(window))}</p>')
    bottom = []
    defs = [(t, d) for t, d in headers if d]
    if defs and not note:
        bottom.append("<details><summary>What the columns mean</summary><dl>")
        bottom += [f"<dt>{e(t)}</dt><dd>{e(d)}</dd>" for t, d in defs]
        bottom.append("</dl></details>")
    if withheld:
        bottom.append('<p class="muted">Not included here:</p><ul class="muted">')
        bottom += [f"<li>{e(c)}: {e(why)}</li>" for c, why in withheld]
        bottom.append("</ul>")
    bottom.append("</section>")
    return Layout(
        name, title, top, ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>"], after, bottom, bool(note)
    )


@dataclass(frozen=True)
class Section:
    """One table as the page shows it for one person."""

    layout: Layout
    rows: Sequence[Sequence[Cell]] = ()  # rendered cells, their <td> ready
    counts: Sequence[int] = ()  # how many logged rows each shown row stands for
    collapse: bool = False  # a "Times" column


e = html


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
        out += [f'<li><a href="#{e(s.layout.name)}">{e(s.layout.title)}</a></li>' for s in sections]
        out.append("</ul></nav>")
    for s in sections:
        out += _section(s)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _section(s: Section) -> list[str]:
    lay = s.layout
    out = list(lay.top)
    if not lay.held:
        logged = sum(s.counts)
        summary = (
            f"{len(s.rows)} rows" if len(s.rows) == logged else f"{len(s.rows)} rows ({logged} as logged)"
        )
        out.append(f'<p class="muted">{e(summary)}</p>')
        if s.rows:
            out += lay.head
            if s.collapse:
                out += [
                    "<tr>" + "".join([c[TD] for c in row]) + f"<td>{count}</td></tr>"
                    for row, count in zip(s.rows, s.counts, strict=True)
                ]
            else:
                out += ["<tr>" + "".join([c[TD] for c in row]) + "</tr>" for row in s.rows]
            out += lay.after_rows
    out += lay.bottom
    return out


def _times_help(window: float | None) -> str:
    return (
        "Times: how often the same thing was logged within "
        f"{window:g} seconds (several versions of the app can log one action more than once)."
    )
