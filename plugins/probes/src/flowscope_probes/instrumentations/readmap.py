"""Which table column each result column of a SELECT comes from, parsed once per SQL text.

``read_plan(sql)`` gives, per result column, ``(table, column)`` or None (an expression, a literal, a
column whose table is unclear), or says the result is ``SELECT * FROM <one table>``. The rows a sampled
request fetches become sources ``table.column`` (DB reads: "this request read users.email"). Parsing uses
sqlglot when it can be imported and a small regex otherwise (one table, no JOIN); both are cached per SQL
text (an LRU of 2,048 statements).

- ``SELECT u.email, p.caption AS c FROM users u JOIN photos p ...`` -> users.email, photos.caption;
- a bare column with one table in FROM is that table's; with several, it is unknown (None);
- ``SELECT *`` from one table: the cursor's column names (``description``); ``*`` with a join or beside
  other columns: nothing (positions unknown without the schema);
- UNION, subqueries in FROM and CTEs: nothing mapped (None).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from flowscope_probes.instrumentations import sqlmap

Target = tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class ReadPlan:
    columns: tuple[Target, ...]  # per result column; empty when ``star`` is set
    star: str | None = None  # SELECT * FROM this table: columns named by the cursor

    def targets(self, names: Sequence[str]) -> list[Target]:
        """Per result column, given the cursor's column names (``description``)."""
        if self.star is not None:
            return [(self.star, name) for name in names]
        if len(self.columns) != len(names):
            return []  # the driver returned another shape than the SQL says: map nothing
        return list(self.columns)


@lru_cache(maxsize=2048)
def read_plan(sql: str) -> ReadPlan | None:
    """The read plan of one SELECT, or None when no result column maps to a table column."""
    head = sql.lstrip()[:6].upper()
    if head != "SELECT":
        return None
    text = sqlmap._numbered(sql)
    if sqlmap.parser() is not None:
        try:
            return _plan_sqlglot(text)
        except Exception:
            pass
    return _plan_regex(text)


def _plan_sqlglot(text: str) -> ReadPlan | None:
    from sqlglot import exp

    tree = sqlmap.parser().parse_one(text)
    if not isinstance(tree, exp.Select):
        return None
    sources = [tree.args.get("from_") or tree.args.get("from")]
    sources += list(tree.args.get("joins") or [])
    tables: dict[str, str] = {}  # alias or name -> table
    for node in sources:
        table = node.this if node is not None else None
        if not isinstance(table, exp.Table):
            return None  # a subquery or a function in FROM: columns unclear
        name = sqlmap._table_name(table)
        tables[table.alias_or_name] = name
        tables[table.name] = name
    distinct = set(tables.values())
    only = next(iter(distinct)) if len(distinct) == 1 else None
    projections = tree.expressions
    if len(projections) == 1 and isinstance(projections[0], exp.Star):
        return ReadPlan((), star=only) if only else None
    columns: list[Target] = []
    for item in projections:
        node = item.unalias()
        if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star)):
            return None
        if not isinstance(node, exp.Column):
            columns.append(None)
            continue
        owner = tables.get(node.table) if node.table else only
        columns.append((owner, node.name) if owner else None)
    return ReadPlan(tuple(columns)) if any(columns) else None


_SELECT = re.compile(
    r"^\s*SELECT\s+(?:DISTINCT\s+)?(.*?)\s+FROM\s+([\w.`\"\[\]]+)(?:\s+(?:AS\s+)?(\w+))?\s*(?:WHERE\b|ORDER\b|GROUP\b|LIMIT\b|;|$)",
    re.I | re.S,
)
_ITEM = re.compile(r"^\s*(?:([\w`\"\[\]]+)\.)?([\w`\"\[\]]+)(?:\s+(?:AS\s+)?\w+)?\s*$", re.I)
_KEYWORDS = {"NULL", "TRUE", "FALSE", "CASE", "DISTINCT"}


def _plan_regex(text: str) -> ReadPlan | None:
    """The fallback without sqlglot: ``SELECT cols FROM one_table [alias] [WHERE ...]``."""
    m = _SELECT.match(text)
    if m is None or re.search(r"\bJOIN\b|\bUNION\b", text, re.I):
        return None
    table = sqlmap._bare(m.group(2))
    alias = m.group(3)
    if alias and alias.upper() in ("WHERE", "ORDER", "GROUP", "LIMIT"):
        alias = None
    items = sqlmap._split_values(m.group(1))
    if len(items) == 1 and items[0].strip() == "*":
        return ReadPlan((), star=table)
    columns: list[Target] = []
    for item in items:
        if item.strip().endswith("*"):
            return None
        im = _ITEM.match(item)
        if im is None or im.group(2).upper() in _KEYWORDS or im.group(2)[0].isdigit():
            columns.append(None)
            continue
        owner = sqlmap._bare(im.group(1)) if im.group(1) else None
        if owner is not None and owner not in (alias, table, table.rsplit(".", 1)[-1]):
            columns.append(None)
            continue
        columns.append((table, sqlmap._bare(im.group(2))))
    return ReadPlan(tuple(columns)) if any(columns) else None
