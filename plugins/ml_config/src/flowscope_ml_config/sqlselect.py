"""Just enough of a SELECT to map a feature-source query's output columns to its input columns.

Feast sources may be a ``query=`` instead of a table. A full SQL parser belongs to the sql plugin, which
this plugin must not import; a flat ``SELECT expr AS alias, ... FROM table [JOIN table]`` is what
feature queries almost always are, and anything else falls back to a dataset-level flow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_AGGREGATES = {
    "count", "sum", "avg", "min", "max", "mode", "collect_list", "collect_set", "array_agg",
    "approx_count_distinct", "first", "last", "percentile_approx", "stddev", "variance", "any_value",
}  # fmt: skip
_KEYWORDS = {
    "as", "case", "when", "then", "else", "end", "and", "or", "not", "null", "is", "in", "distinct",
    "cast", "true", "false", "interval", "day", "days", "string", "int", "bigint", "double", "date",
    "over", "partition", "timestamp", "by", "order", "desc", "asc", "like", "between", "current_date", "current_timestamp",
}  # fmt: skip
_IDENT = re.compile(r"(?<![\w.'])([A-Za-z_][\w]*)(?:\.([A-Za-z_]\w*))?(?![\w'])(\s*\()?")


@dataclass(frozen=True)
class Column:
    name: str
    sources: tuple[str, ...]
    kind: str  # IDENTITY, TRANSFORMATION or AGGREGATION


@dataclass(frozen=True)
class Select:
    tables: tuple[str, ...]
    columns: tuple[Column, ...]


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_select(sql: str) -> Select | None:
    text = re.sub(r"--[^\n]*", " ", sql)
    m = re.search(r"\bselect\b(?P<cols>.*?)\bfrom\b(?P<rest>.*)$", text, re.I | re.S)
    if not m:
        return None
    tables = tuple(re.findall(r"\b(?:from|join)\s+(`[^`]+`|\"[^\"]+\"|[\w.]+)", "from " + m["rest"], re.I))
    columns = []
    for item in _split_top(m["cols"]):
        alias = re.search(r"\bas\s+([\w`\"]+)\s*$", item, re.I) or re.search(
            r"(?<=[\w)`\"])\s+([A-Za-z_]\w*)\s*$", item
        )
        if alias and alias[1].lower() in _KEYWORDS:
            alias = None
        expr = item[: alias.start()] if alias else item
        refs, is_agg = [], False
        for ident in _IDENT.finditer(re.sub(r"'[^']*'", "''", expr)):
            word = ident[2] or ident[1]
            if ident[3]:
                is_agg = is_agg or ident[1].lower() in _AGGREGATES
                continue
            if word.lower() not in _KEYWORDS and not word.isdigit():
                refs.append(word)
        name = alias[1].strip('`"') if alias else (refs[-1] if refs else "")
        if not name or expr.strip() == "*":
            continue
        bare = re.fullmatch(r"[\w.`\"]+", expr.strip()) is not None
        kind = "AGGREGATION" if is_agg else ("IDENTITY" if bare else "TRANSFORMATION")
        columns.append(Column(name, tuple(dict.fromkeys(refs)), kind))
    return Select(tuple(t.strip('`"') for t in tables), tuple(columns))
