"""One parsed statement -> the writes it performs, each as (target, target columns, a query of values).

Every DML form is rewritten into a plain SELECT over the same sources, so one tracer
(:mod:`flowscope_sql.lineage`) handles them all: ``UPDATE t SET a = s.b FROM s WHERE c`` becomes
``SELECT s.b AS a FROM t, s WHERE c``; each MERGE branch becomes a SELECT over target JOIN source ON the
merge condition, with the branch condition as a CONDITIONAL; DELETE becomes a SELECT with no outputs whose
WHERE columns filter the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp


class Unsupported(Exception):
    """The statement parsed but flowscope does not extract lineage from it (reported as a problem).

    ``snippet`` (the SQL text in question) is kept apart from the message, so a logged query's problem can
    be reported without it: its literals are users' values."""

    def __init__(self, message: str, snippet: str = "") -> None:
        super().__init__(f"{message}: {snippet}" if snippet else message)
        self.message = message


@dataclass
class Write:
    """``query``'s output columns are written to ``target`` (None for a plain SELECT: a read only)."""

    target: exp.Table | None
    query: exp.Expr
    columns: list[str] | None = None  # an explicit column list, else positional from schema or the names
    static_partitions: list[str] = field(default_factory=list)
    dynamic_partitions: list[str] = field(default_factory=list)
    condition_subtype: str = "FILTER"  # MERGE branch conditions are CONDITIONAL
    operation: str = "SELECT"
    temporary: bool = False  # CREATE TEMPORARY TABLE / TEMP VIEW
    star_from: exp.Expr | None = None  # MERGE ... UPDATE SET * / INSERT *: every column, from this source
    values: bool = False  # INSERT ... VALUES: literal rows, no source table


@dataclass
class Ddl:
    """A statement without lineage that still tells us something: a table's columns, a USE."""

    table: exp.Table | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)
    use: str | None = None
    temporary: bool = False
    renames: list[tuple[exp.Table, exp.Table]] = field(default_factory=list)  # ALTER ... RENAME, RENAME TABLE
    exchange: bool = False  # the "renames" move data between existing tables (EXCHANGE PARTITION, SWAP)
    drops: list[exp.Table] = field(default_factory=list)  # DROP TABLE/VIEW


NO_LINEAGE = tuple(
    t
    for t in (
        getattr(exp, name, None)
        for name in (
            "Drop",
            "Set",
            "Alter",
            "Describe",
            "Show",
            "Transaction",
            "Commit",
            "Rollback",
            "Cache",
            "Uncache",
            "Refresh",
            "Analyze",
            "TruncateTable",
            "Grant",
            "Revoke",
            "Comment",
            "Pragma",
            "Declare",
            "Kill",
            "Execute",
            "Summarize",
            "Install",
            "Attach",
            "Detach",
            "LoadData",
            "Copy",
            "Export",
        )
    )
    if isinstance(t, type)
)


def _target(node: exp.Expr) -> tuple[exp.Table, list[str] | None]:
    if isinstance(node, exp.Schema) and isinstance(node.this, exp.Table):
        cols = [
            e.name for e in node.expressions if isinstance(e, exp.Identifier | exp.Column | exp.ColumnDef)
        ]
        return node.this, cols or None
    if isinstance(node, exp.Table):
        return node, None
    raise Unsupported("cannot write to this target", node.sql()[:60])


def _partitions(table: exp.Table) -> tuple[list[str], list[str]]:
    static: list[str] = []
    dynamic: list[str] = []
    part = table.args.get("partition")
    if isinstance(part, exp.Partition):
        for p in part.expressions:
            if isinstance(p, exp.EQ):
                static.append(p.this.name)
            elif isinstance(p, exp.Column | exp.Identifier):
                dynamic.append(p.name)
        table.set("partition", None)
    return static, dynamic


def _query(node: exp.Expr | None) -> exp.Expr | None:
    while isinstance(node, exp.Subquery):
        node = node.this
    return node if isinstance(node, exp.Query) else None


def _with(query: exp.Expr, stmt: exp.Expr) -> exp.Expr:
    """``WITH c AS (...) INSERT/UPDATE/MERGE ...``: the statement's CTEs go onto the query that reads them,
    so ``c`` resolves to its own sources instead of being taken for a table."""
    outer = stmt.args.get("with_") or stmt.args.get("with")
    if not isinstance(outer, exp.With) or not isinstance(query, exp.Query):
        return query
    inner = query.args.get("with_")
    shared = isinstance(stmt, exp.Merge)  # each MERGE branch gets its own copy; elsewhere they move
    ctes = [c.copy() if shared else c for c in outer.expressions] + (
        list(inner.expressions) if isinstance(inner, exp.With) else []
    )
    query.set("with_", exp.With(expressions=ctes, recursive=outer.args.get("recursive")))
    return query


def _insert(ins: exp.Insert, source: exp.Expr | None = None) -> Write:
    table, columns = _target(ins.this)
    static, dynamic = _partitions(table)
    query = _query(ins.expression)
    values = False
    if query is None:
        if isinstance(ins.expression, exp.Values):  # literal rows: an output with no inputs
            query, values = exp.select(*[exp.Null() for _ in range(len(columns or []))]), True
        else:
            raise Unsupported("INSERT without a query")
    if source is not None and isinstance(query, exp.Select) and not query.args.get("from_"):
        query.from_(source.copy(), copy=False)
    op = "INSERT OVERWRITE" if ins.args.get("overwrite") else "INSERT"
    return Write(table, _with(query, ins), columns, static, dynamic, operation=op, values=values)


def _select(exprs: list[exp.Expr], sources: list[exp.Expr], where: exp.Expr | None) -> exp.Select:
    select = exp.Select(expressions=exprs)
    if sources:
        select.from_(sources[0].copy(), copy=False)
        for s in sources[1:]:
            select.join(s.copy(), join_type="CROSS", copy=False)
    if where is not None:
        select.where(where.copy(), copy=False)
    return select


def _assignments(items: list[exp.Expr]) -> tuple[list[str], list[exp.Expr]]:
    cols = [e.this.name for e in items if isinstance(e, exp.EQ)]
    values = [exp.alias_(e.expression.copy(), e.this.name) for e in items if isinstance(e, exp.EQ)]
    return cols, values


def _update(upd: exp.Update) -> list[Write]:
    table, _ = _target(upd.this)
    frm = upd.args.get("from_") or upd.args.get("from")
    joined: list[exp.Expr] = []
    if isinstance(frm, exp.From):
        joined.append(frm.this)
        joined += [j.this for j in frm.this.args.get("joins") or []]
    joined += [j.this for j in upd.args.get("joins") or []]
    sources: list[exp.Expr] = [table]
    if not table.db:  # UPDATE t SET ... FROM tab1 t JOIN ...: ``t`` is the alias of a table in FROM
        aliased = next((s for s in joined if isinstance(s, exp.Table) and s.alias == table.name), None)
        if aliased is not None:
            table, sources = aliased, []
    for src in joined:
        if isinstance(src, exp.Table):
            src.set("joins", None)
    sources += joined
    where = upd.args.get("where")
    cols, values = _assignments(upd.expressions)
    select = _select(values, sources, where.this if where else None)
    target = table.copy()
    target.set("alias", None)
    return [Write(target, _with(select, upd), cols, operation="UPDATE")]


def _merge(merge: exp.Merge) -> list[Write]:
    table, _ = _target(merge.this)
    using = merge.args["using"]
    on = merge.args.get("on")
    writes: list[Write] = []
    whens = merge.args.get("whens")
    for when in whens.expressions if whens else []:
        then = when.args.get("then")
        if isinstance(then, exp.Insert):  # WHEN NOT MATCHED: there is no target row, names are the source's
            select = _select([], [using], None)
        else:
            select = _select([], [table], None)
            select.join(using.copy(), on=on.copy() if on is not None else None, join_type="INNER", copy=False)
        if when.args.get("condition") is not None:
            select.where(when.args["condition"].copy(), copy=False)
        cols: list[str] = []
        star = None
        if isinstance(then, exp.Update) and any(isinstance(e, exp.Star) for e in then.expressions):
            star = using  # UPDATE SET *: every target column from the source's column of that name
        elif isinstance(then, exp.Update):
            cols, values = _assignments(then.expressions)
            select.select(*values, copy=False)
        elif isinstance(then, exp.Insert) and isinstance(then.this, exp.Star):
            star = using  # INSERT *
        elif isinstance(then, exp.Insert):
            names = then.this.expressions if isinstance(then.this, exp.Tuple) else []
            vals = then.expression.expressions if isinstance(then.expression, exp.Tuple) else []
            cols = [n.name for n in names]
            select.select(*[exp.alias_(v.copy(), c) for v, c in zip(vals, cols, strict=False)], copy=False)
        write = Write(
            table.copy(), _with(select, merge), cols, condition_subtype="CONDITIONAL", operation="MERGE"
        )
        write.star_from = star
        writes.append(write)
    return writes


def _delete(delete: exp.Delete) -> list[Write]:
    table, _ = _target(delete.this)
    sources: list[exp.Expr] = [table]
    using = delete.args.get("using")
    sources += list(using) if isinstance(using, list) else ([using] if isinstance(using, exp.Expr) else [])
    where = delete.args.get("where")
    select = _with(_select([], sources, where.this if where else None), delete)
    return [Write(table.copy(), select, [], operation="DELETE")]


def writes_of(stmt: exp.Expr) -> list[Write] | Ddl:
    """The writes one statement performs; raises :class:`Unsupported` for statements without lineage rules."""
    into = stmt.args.get("into") if isinstance(stmt, exp.Select) else None
    if isinstance(into, exp.Into) and isinstance(into.this, exp.Table):  # SELECT ... INTO t: creates t
        select = stmt.copy()
        select.set("into", None)
        temporary = bool(into.args.get("temporary")) or into.this.name.startswith("#")
        return [Write(into.this.copy(), select, operation="CREATE TABLE", temporary=temporary)]
    if isinstance(stmt, exp.Query):
        return [Write(None, stmt)]
    if isinstance(stmt, exp.Insert):
        return [_insert(stmt)]
    if isinstance(stmt, exp.MultitableInserts):
        source = stmt.args.get("source")
        return [_insert(i, source) for i in stmt.expressions if isinstance(i, exp.Insert)]
    if isinstance(stmt, exp.Create):
        kind = str(stmt.args.get("kind") or "").upper()
        query = _query(stmt.expression)
        props = stmt.args.get("properties")
        found = list(props.expressions) if isinstance(props, exp.Properties) else []
        temporary = any(isinstance(p, exp.TemporaryProperty) for p in found)
        if query is not None and kind in ("TABLE", "VIEW"):
            table, columns = _target(stmt.this)
            materialized = any(isinstance(p, exp.MaterializedProperty) for p in found)
            op = f"CREATE {'MATERIALIZED ' if materialized else ''}{'TEMPORARY ' if temporary else ''}{kind}"
            return [Write(table, query, columns, operation=op, temporary=temporary)]
        if kind == "TABLE" and isinstance(stmt.this, exp.Schema):
            defs = [c for c in stmt.this.expressions if isinstance(c, exp.ColumnDef)]
            cols = [(c.name, c.args["kind"].sql() if c.args.get("kind") else "") for c in defs]
            target = stmt.this.this if isinstance(stmt.this.this, exp.Table) else None
            return Ddl(target, cols, temporary=temporary)
        return Ddl()
    if isinstance(stmt, exp.Update):
        return _update(stmt)
    if isinstance(stmt, exp.Merge):
        return _merge(stmt)
    if isinstance(stmt, exp.Delete):
        return _delete(stmt)
    if isinstance(stmt, exp.Use):
        return Ddl(use=stmt.this.sql() if stmt.this else None)
    if isinstance(stmt, exp.Alter):
        actions = stmt.args.get("actions") or []
        swaps = [a.this for a in actions if type(a).__name__ == "SwapTable" and isinstance(a.this, exp.Table)]
        if swaps:  # Snowflake ALTER TABLE t1 SWAP WITH t2: t1 now holds what t2 held
            return Ddl(renames=[(s, stmt.this) for s in swaps], exchange=True)
        renames = [a.this for a in actions if isinstance(a, exp.AlterRename)]
        return Ddl(renames=[(stmt.this, r) for r in renames if isinstance(r, exp.Table)])
    if isinstance(stmt, exp.Drop) and isinstance(stmt.this, exp.Table):
        return Ddl(drops=[stmt.this])
    if isinstance(stmt, NO_LINEAGE):
        return Ddl()
    raise Unsupported(f"unsupported statement {stmt.key.upper()}", stmt.sql()[:60])
