"""Column lineage of one query, walked over sqlglot's scopes.

sqlglot's ``qualify`` names every table (and, where a schema is known, every column and star); its scope
builder links CTEs, derived tables, subqueries, UDTFs (LATERAL VIEW, UNNEST) and set operations. This
module walks those scopes from each output column back to physical table columns and classifies every
hop the OpenLineage way: DIRECT (IDENTITY < TRANSFORMATION < AGGREGATION, plus masking) or INDIRECT
(FILTER, JOIN, GROUP_BY, SORT, WINDOW, CONDITIONAL). sqlglot.lineage answers "which columns", not "how",
and re-qualifies per column, so it is not used directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, build_scope

from flowscope_sql.functions import PICKS as _PICKS
from flowscope_sql.functions import is_mask as _is_mask
from flowscope_sql.literals import redact
from flowscope_sql.pivots import pivot_alias, pivoted

TableKey = tuple[str, ...]  # (catalog, db, table) parts as written after qualify, empty parts dropped

_RANK = {"IDENTITY": 0, "TRANSFORMATION": 1, "AGGREGATION": 2}


@dataclass(frozen=True)
class Direct:
    """An output column's value comes from ``table.column`` (through ``subtype``; masked or not)."""

    table: TableKey
    column: str
    subtype: str = "IDENTITY"
    masking: bool = False
    path: str = ""

    def then(self, subtype: str, masking: bool) -> Direct:
        worst = subtype if _RANK[subtype] > _RANK[self.subtype] else self.subtype
        return Direct(self.table, self.column, worst, self.masking or masking, self.path)


@dataclass(frozen=True)
class Indirect:
    """``table.column`` shapes the output without being copied into it (a filter, a join key...)."""

    table: TableKey
    column: str
    subtype: str


@dataclass
class QueryLineage:
    """Per output column (by position) its direct origins and the indirect ones that shape only that column
    (CONDITIONAL, WINDOW, SORT inside its expression); dataset-level indirect origins (FILTER, JOIN,
    GROUP_BY, ...); all reads."""

    columns: list[tuple[str, list[Direct]]] = field(default_factory=list)
    column_indirect: list[set[Indirect]] = field(default_factory=list)
    indirect: set[Indirect] = field(default_factory=set)
    tables: set[TableKey] = field(default_factory=set)


def _branches(scope: Scope) -> list[Scope]:
    """The two sides of a set operation (``union_scopes`` before sqlglot 30.2x renamed it)."""
    found = getattr(scope, "set_operation_scopes", None)
    return list(found if found is not None else getattr(scope, "union_scopes", []))


def table_key(table: exp.Table) -> TableKey:
    """The table's name parts; a table function that wraps a table (Snowflake's ``SEMANTIC_VIEW(t ...)``)
    names the table it reads, and one that wraps none names nothing (``()``)."""
    if not isinstance(table.this, exp.Identifier | str) and isinstance(table.this, exp.Expr):
        inner = table.this.find(exp.Table)
        return table_key(inner) if inner is not None and inner is not table else ()
    return tuple(p for p in (table.catalog, table.db, table.name) if p)


def _clause_of(col: exp.Column, top: exp.Expr) -> tuple[str | None, str, bool]:
    """Walk from ``col`` up to ``top``: (indirect subtype or None, direct subtype, masking)."""
    direct, masking = "IDENTITY", False
    node: exp.Expr = col
    child: exp.Expr = col
    while node is not top and node.parent is not None:
        parent = node.parent
        if isinstance(parent, exp.Window) and child is not parent.this:
            return "WINDOW", direct, masking
        if isinstance(parent, exp.If) and child is parent.this:
            return "CONDITIONAL", direct, masking
        if isinstance(parent, exp.Case) and child is parent.this:
            return "CONDITIONAL", direct, masking
        if isinstance(parent, exp.Order) and child is not parent.this and not _within_group(parent):
            return "SORT", direct, masking  # string_agg(x ORDER BY y): y orders the values, is not copied
        if isinstance(parent, exp.ArgMax | exp.ArgMin) and child is parent.expression:
            return "SORT", direct, masking  # max_by(value, key): the key picks the row, it is not copied
        if isinstance(parent, _PICKS):
            if direct == "IDENTITY":  # first_value(x) OVER (...): one row's value, not an aggregate of many
                direct = "TRANSFORMATION"
        elif isinstance(parent, exp.AggFunc | exp.WithinGroup):
            direct = "AGGREGATION"
        elif isinstance(parent, exp.Dot | exp.Bracket) and direct == "IDENTITY":
            pass
        elif not isinstance(parent, exp.Alias | exp.Paren) and direct == "IDENTITY":
            direct = "TRANSFORMATION"
        if _is_mask(parent):
            masking = True
        child = node = parent
    return None, direct, masking


def _within_group(order: exp.Order) -> bool:
    """percentile_cont(0.5) WITHIN GROUP (ORDER BY x): x is the aggregated value, not a sort key; and a
    window's own ORDER BY is classified as WINDOW when the walk reaches the window."""
    return isinstance(order.parent, exp.WithinGroup | exp.Window)  # a window's ORDER BY is WINDOW


def _path(col: exp.Column) -> str:
    """``s.info.city``, ``props[?]``: the field path read from a column; map keys and indexes are literals and
    may be users' values (``props['alice@x.com']``), so they are kept as ``?``."""
    top: exp.Expr = col
    while isinstance(top.parent, exp.Dot | exp.Bracket) and top.parent.this is top:
        top = top.parent
    if top is col:
        return ""
    plain = top.transform(lambda n: exp.Placeholder() if isinstance(n, exp.Literal) else n, copy=True).sql()
    return redact(plain, "")  # JSON path keys are not Literal nodes; their text still is a literal


def _columns_in(node: exp.Expr) -> list[exp.Column]:
    """Columns of ``node`` itself, not of the subqueries inside it (those are their own scopes)."""
    out: list[exp.Column] = []
    for n in node.walk(prune=lambda n: isinstance(n, exp.Query) and n is not node):
        if isinstance(n, exp.Column) and not isinstance(n.this, exp.Star):
            out.append(n)
    return out


class Tracer:
    """Traces columns of one built scope tree; ``schema_columns`` knows physical tables' columns."""

    def __init__(
        self, schema_columns: dict[TableKey, list[str]] | None = None, budget: int = 200_000
    ) -> None:
        self.schema_columns = schema_columns or {}
        self.budget = budget

    def _tick(self) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise TimeoutError("statement too complex to trace")

    # -- output columns ---------------------------------------------------------------------------
    def outputs(self, scope: Scope) -> list[str]:
        while _branches(scope):
            scope = _branches(scope)[0]
        if isinstance(scope.expression, exp.Select):
            return [self._name(p, i) for i, p in enumerate(scope.expression.expressions)]
        return []

    @staticmethod
    def _name(projection: exp.Expr, i: int) -> str:
        if isinstance(projection, exp.Star) or (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        ):
            return "*"
        return projection.alias_or_name or f"_col{i}"

    def trace_index(self, scope: Scope, i: int) -> tuple[list[Direct], set[Indirect]]:
        self._tick()
        if _branches(scope):
            direct: list[Direct] = []
            indirect: set[Indirect] = set()
            for branch in _branches(scope):
                d, n = self.trace_index(branch, i)
                direct += d
                indirect |= n
            return direct, indirect
        select = scope.expression
        if isinstance(select, exp.Subquery | exp.Lateral | exp.Unnest) or not isinstance(select, exp.Select):
            return self._udtf(scope)
        if i >= len(select.expressions):
            return [], set()
        projection = select.expressions[i]
        if self._name(projection, i) == "*":
            return self._star(scope, projection), set()
        return self._expression(scope, projection)

    def trace_name(self, scope: Scope, name: str) -> tuple[list[Direct], set[Indirect]]:
        if isinstance(scope.expression, exp.Lateral) and isinstance(
            scope.expression.this, exp.Subquery | exp.Query
        ):
            inner = next(  # LATERAL (SELECT ...) AS t2: t2's columns are the subquery's
                (
                    s
                    for s in scope.sources.values()
                    if isinstance(s, Scope) and isinstance(s.expression, exp.Query)
                ),
                None,
            )
            if inner is not None:
                return self.trace_name(inner, name)
        names = self.outputs(scope)
        if name in names:
            return self.trace_index(scope, names.index(name))
        if "*" in names:
            direct, indirect = self.trace_index(scope, names.index("*"))
            return [
                Direct(d.table, name if d.column == "*" else d.column, d.subtype, d.masking) for d in direct
            ], indirect
        if not names:  # a UDTF: every column it produces comes from its expression
            return self._udtf(scope)
        return [], set()

    def _udtf(self, scope: Scope) -> tuple[list[Direct], set[Indirect]]:
        direct: list[Direct] = []
        for col in _columns_in(scope.expression):
            direct += [d.then("TRANSFORMATION", False) for d in self.resolve(scope, col)[0]]
        return direct, set()

    def _star(self, scope: Scope, projection: exp.Expr) -> list[Direct]:
        wanted = projection.table if isinstance(projection, exp.Column) else ""
        out: list[Direct] = []
        selected = {alias: src for alias, (_, src) in scope.selected_sources.items()} or scope.sources
        for alias, source in selected.items():
            if wanted and alias != wanted:
                continue
            if isinstance(source, exp.Table):
                out.append(Direct(table_key(source), "*"))
            elif isinstance(source, Scope):
                for name in self.outputs(source) or ["*"]:
                    out += self.trace_name(source, name)[0]
        return out

    def _expression(self, scope: Scope, projection: exp.Expr) -> tuple[list[Direct], set[Indirect]]:
        direct: list[Direct] = []
        indirect: set[Indirect] = set()
        for col in _columns_in(projection):
            via, subtype, masking = _clause_of(col, projection)
            found, found_indirect = self.resolve(scope, col)
            indirect |= found_indirect
            if via is not None:
                indirect |= {Indirect(d.table, d.column, via) for d in found}
                continue
            path = _path(col) or (col.sql() if col.table and col.table not in scope.sources else "")
            for origin in found:
                hop = origin.then(subtype, masking)
                direct.append(Direct(hop.table, hop.column, hop.subtype, hop.masking, hop.path or path))
        for window in projection.find_all(exp.Window):  # OVER w ... WINDOW w AS (PARTITION BY ...)
            ref = window.args.get("alias")
            named = [
                w
                for w in scope.expression.args.get("windows") or []
                if ref is not None and w.name == ref.name
            ]
            for spec in named:
                for col in _columns_in(spec):
                    found, found_indirect = self.resolve(scope, col)
                    indirect |= found_indirect | {Indirect(d.table, d.column, "WINDOW") for d in found}
        for sub in projection.find_all(exp.Subquery):  # scalar subqueries
            child = next((s for s in scope.subquery_scopes if s.expression is sub.this), None)
            if child is not None:
                d, n = self.trace_index(child, 0)
                direct += [x.then("TRANSFORMATION", False) for x in d]
                indirect |= n
        return direct, indirect

    # -- one column reference -------------------------------------------------------------------
    def resolve(self, scope: Scope, col: exp.Column) -> tuple[list[Direct], set[Indirect]]:
        """The physical origins of one column reference in ``scope``."""
        self._tick()
        name = col.name
        if col.table:
            source = scope.sources.get(col.table)
            if source is None and col.table in {k[-1] for k in self._tables(scope)}:
                source = next(
                    s for s in scope.sources.values() if isinstance(s, exp.Table) and s.name == col.table
                )
            if source is None:  # FROM t PIVOT (...) AS p: columns are named p.x
                source = next((s for s in scope.sources.values() if pivot_alias(s) == col.table), None)
            outer = scope.parent
            while source is None and outer is not None:  # a correlated reference to an enclosing query
                source = outer.sources.get(col.table)
                outer = outer.parent
            if source is None and col.db in scope.sources:  # alias.struct_col.field
                return self._from_source(scope.sources[col.db], col.table)
            if source is None:  # struct_col.field, without a table alias
                return self.resolve(scope, exp.column(col.table)) if col.table != name else ([], set())
            return self._from_source(source, name)
        candidates = self._candidates(scope, name)
        direct: list[Direct] = []
        indirect: set[Indirect] = set()
        for source in candidates:
            d, n = self._from_source(source, name)
            direct += d
            indirect |= n
        return direct, indirect

    def _tables(self, scope: Scope) -> list[TableKey]:
        return [table_key(s) for s in scope.sources.values() if isinstance(s, exp.Table)]

    def _from_source(self, source: exp.Table | Scope, name: str) -> tuple[list[Direct], set[Indirect]]:
        if isinstance(source, exp.Table):
            pivot = next(iter(source.args.get("pivots") or []), None)
            if isinstance(pivot, exp.Pivot):
                return pivoted(table_key(source), pivot, name)
            return [Direct(table_key(source), name)], set()
        return self.trace_name(source, name)

    def _known(self, source: exp.Table | Scope) -> list[str] | None:
        if isinstance(source, exp.Table):
            return self.schema_columns.get(table_key(source))
        if isinstance(source.expression, exp.Select | exp.SetOperation):
            names = self.outputs(source)
            return None if "*" in names else names
        alias = source.expression.args.get("alias")
        cols = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
        if isinstance(source.expression, exp.Lateral) and not cols and alias is not None:
            cols = [alias.name]
        return cols

    def _candidates(self, scope: Scope, name: str) -> list[exp.Table | Scope]:
        # selected_sources: only what FROM/JOIN name; ``sources`` also holds every CTE defined before
        sources = [s for _, s in scope.selected_sources.values()] or list(scope.sources.values())
        if len(sources) == 1:
            return sources
        known = [(s, self._known(s)) for s in sources]
        having = [s for s, cols in known if cols is not None and name in cols]
        if having:
            return having[:1]
        unknown = [s for s, cols in known if cols is None]
        # Several sources could hold the column and none is known to: which one is a guess, so no column
        # edge is made (the statement's table-level flows still link every read table to the output).
        return unknown if len(unknown) == 1 else []


_CLAUSES: tuple[tuple[str, str], ...] = (
    ("where", "FILTER"),
    ("having", "FILTER"),
    ("qualify", "FILTER"),
    ("group", "GROUP_BY"),
    ("order", "SORT"),
)


def analyze(query: exp.Expr, tracer: Tracer) -> QueryLineage:
    """Lineage of a qualified query (SELECT or set operation)."""
    root = build_scope(query)
    result = QueryLineage()
    if root is None:
        return result
    for i, name in enumerate(tracer.outputs(root)):
        direct, indirect = tracer.trace_index(root, i)
        result.columns.append((name, direct))
        result.column_indirect.append(indirect)
    for scope in root.traverse():
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                result.tables.add(table_key(source))
        result.indirect |= clause_origins(scope, tracer)
    return result


def clause_origins(scope: Scope, tracer: Tracer) -> set[Indirect]:
    """Columns in WHERE, JOIN, GROUP BY, HAVING, QUALIFY and ORDER BY of one scope, as INDIRECT origins."""
    select = scope.expression
    out: set[Indirect] = set()
    if not isinstance(select, exp.Select):
        return out
    parts: list[tuple[exp.Expr, str]] = [(select.args[k], s) for k, s in _CLAUSES if select.args.get(k)]
    for join in select.args.get("joins") or []:
        for key in ("on", "using"):
            if join.args.get(key) is not None:
                value = join.args[key]
                parts += [(v, "JOIN") for v in value] if isinstance(value, list) else [(value, "JOIN")]
    lateral = isinstance(select.parent, exp.Lateral) or isinstance(
        select.parent and select.parent.parent, exp.Lateral
    )
    if scope.is_subquery and not _in_projection(select) and not lateral:
        # WHERE x IN (SELECT y ...): y filters
        parts += [(p, "FILTER") for p in select.expressions]
    for node, subtype in parts:
        for col in _columns_in(node):
            if isinstance(col.parent, exp.Ordered | exp.Group) and not col.table:
                alias = _alias(select, col)
                if alias is not None:  # GROUP BY / ORDER BY an output alias: the aliased expression's columns
                    for inner in _columns_in(alias):
                        direct, indirect = tracer.resolve(scope, inner)
                        out |= {Indirect(d.table, d.column, subtype) for d in direct} | indirect
                    continue
            direct, indirect = tracer.resolve(scope, col)
            out |= {Indirect(d.table, d.column, subtype) for d in direct} | indirect
    return out


def _alias(select: exp.Select, col: exp.Column) -> exp.Expr | None:
    return next(
        (p.this for p in select.expressions if isinstance(p, exp.Alias) and p.alias == col.name), None
    )


def _in_projection(select: exp.Select) -> bool:
    """Whether this subquery is a scalar value in its parent's SELECT list (not a filter)."""
    node: exp.Expr = select
    while node.parent is not None and not isinstance(node.parent, exp.Select):
        node = node.parent
    return node.parent is not None and node.arg_key == "expressions"
