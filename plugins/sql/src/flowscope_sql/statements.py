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


@dataclass
class Ddl:
    """A statement without lineage that still tells us something: a table's columns, a USE."""

    table: exp.Table | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)
    use: str | None = None
    temporary: bool = False


NO_LINEAGE = (exp.Drop, exp.Set, exp.Alter, exp.Describe, exp.Show, exp.Transaction, exp.Commit, exp.Rollback)


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


def _insert(ins: exp.Insert, source: exp.Expr | None = None) -> Write:
    table, columns = _target(ins.this)
    static, dynamic = _partitions(table)
    query = _query(ins.expression)
    if query is None:
        if isinstance(ins.expression, exp.Values):
            query = exp.select(*[exp.Null() for _ in range(len(columns or []))])
        else:
            raise Unsupported("INSERT without a query")
    if source is not None and isinstance(query, exp.Select) and not query.args.get("from_"):
        query.from_(source.copy(), copy=False)
    op = "INSERT OVERWRITE" if ins.args.get("overwrite") else "INSERT"
    return Write(table, query, columns, static, dynamic, operation=op)


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
    sources: list[exp.Expr] = [table]
    frm = upd.args.get("from_") or upd.args.get("from")
    if isinstance(frm, exp.From):
        sources.append(frm.this)
    sources += [j.this for j in upd.args.get("joins") or []]
    where = upd.args.get("where")
    cols, values = _assignments(upd.expressions)
    select = _select(values, sources, where.this if where else None)
    return [Write(table.copy(), select, cols, operation="UPDATE")]


def _merge(merge: exp.Merge) -> list[Write]:
    table, _ = _target(merge.this)
    using = merge.args["using"]
    on = merge.args.get("on")
    writes: list[Write] = []
    whens = merge.args.get("whens")
    for when in whens.expressions if whens else []:
        then = when.args.get("then")
        select = _select([], [table], None)
        select.join(using.copy(), on=on.copy() if on is not None else None, join_type="INNER", copy=False)
        if when.args.get("condition") is not None:
            select.where(when.args["condition"].copy(), copy=False)
        cols: list[str] = []
        if isinstance(then, exp.Update):
            cols, values = _assignments(then.expressions)
            select.select(*values, copy=False)
        elif isinstance(then, exp.Insert):
            names = then.this.expressions if isinstance(then.this, exp.Tuple) else []
            vals = then.expression.expressions if isinstance(then.expression, exp.Tuple) else []
            cols = [n.name for n in names]
            select.select(*[exp.alias_(v.copy(), c) for v, c in zip(vals, cols, strict=False)], copy=False)
        writes.append(Write(table.copy(), select, cols, condition_subtype="CONDITIONAL", operation="MERGE"))
    return writes


def _delete(delete: exp.Delete) -> list[Write]:
    table, _ = _target(delete.this)
    sources: list[exp.Expr] = [table]
    using = delete.args.get("using")
    sources += list(using) if isinstance(using, list) else ([using] if isinstance(using, exp.Expr) else [])
    where = delete.args.get("where")
    return [Write(table.copy(), _select([], sources, where.this if where else None), [], operation="DELETE")]


def writes_of(stmt: exp.Expr) -> list[Write] | Ddl:
    """The writes one statement performs; raises :class:`Unsupported` for statements without lineage rules."""
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
    if isinstance(stmt, NO_LINEAGE):
        return Ddl()
    raise Unsupported(f"unsupported statement {stmt.key.upper()}", stmt.sql()[:60])
