"""A sink call: which asset it writes, which of its arguments carry data, and the flows it emits.

A name is resolved from literals, the file's constants (``self::TABLE``, ``kTable``), local variables
holding a literal or template, and the call that made the receiver (``log = logging.getLogger("audit")``).
A name that is one of the function's parameters is left to its callers (``def log(category, ...):
logging.getLogger(category)``): the summary carries a placeholder that each call site fills in with its
own argument, so a wrapper's sink is named as each caller names it. Anything else is ``unresolved:``.
"""

from __future__ import annotations

import re

from flowscope.model import Asset, Evidence
from flowscope_hack_static.classify import UNIQUE_ID, classify, of_a_thing
from flowscope_hack_static.elements import category_of
from flowscope_hack_static.ir import Call, DictLit, Expr, Lit, Other, Stmt, Sub, Tmpl, Var, access_path
from flowscope_hack_static.ormstate import OrmState
from flowscope_hack_static.packs import SinkModel
from flowscope_hack_static.sinknames import builder, orm_write, servers, sink_target
from flowscope_hack_static.sqlnames import PLACEHOLDERS, insert_columns, writes
from flowscope_hack_static.taint import (
    PARAM_NS,
    RECEIVER,
    Flow,
    Label,
    ParamSink,
    Taint,
    describe,
    flatten,
    guard_value,
    sorts_before,
    with_field,
)
from flowscope_hack_static.tsnodes import tmpl_parts

_MARK = "\x00"  # a name left to the callers: \0<parameter index>\0
_FORMATS = frozenset(("format", "sformat", "string_format", "str_format", "vformat"))  # format("...{}", x)
_SQL = re.compile(r"^\s*(?:INSERT|UPDATE|REPLACE|MERGE|UPSERT|SELECT|DELETE|WITH)\b", re.I)


def _placeholder(i: int) -> str:
    return f"{_MARK}{i}{_MARK}"


_PRINTF = frozenset(("sprintf", "vsprintf", "Str\\format", "HH\\Lib\\Str\\format", "\\sprintf"))
_SET = re.compile(r"`?(\w+)`?\s*=\s*:(\w+)")
_VALUES = re.compile(r"\bVALUES\s*\((.*?)\)", re.I | re.S)
_WHERE = re.compile(r"\bWHERE\b", re.I)


def placeholders(sql: str, columns: list[str]) -> dict[str, str]:
    """A statement's ``:name`` placeholders -> the column each writes (``SET a = :x``, ``VALUES (:x, ...)``
    by position); one that appears only after ``WHERE`` writes nothing (``""``)."""
    parts = _WHERE.split(sql, maxsplit=1)
    head, where = parts[0], parts[1] if len(parts) > 1 else ""
    out = {ph: col for col, ph in _SET.findall(head)}
    values = _VALUES.search(head)
    if values:
        for col, item in zip(columns, values.group(1).split(","), strict=False):
            if item.strip().startswith(":"):
                out[item.strip()[1:]] = col
    for ph in re.findall(r":(\w+)", where):
        out.setdefault(ph, "")
    return out


class Sinks(OrmState):
    def resolve(self, e: Expr | None) -> tuple[str, bool]:
        if isinstance(e, Call) and e.callee.rpartition(".")[2] == "text" and e.args:  # sqlalchemy.text("...")
            e = e.args[0]
        if self.lang == "hack" and isinstance(e, Var) and e.name not in self.literals and e.name in self.made:
            e = self.made[e.name]  # $sql = sprintf('INSERT INTO users (email) VALUES (%s)', $e); query($sql)
        if self.lang == "hack" and isinstance(e, Call) and e.callee in _PRINTF and e.args:
            e = e.args[0]  # the format is the statement; its arguments are the data
        if isinstance(e, Lit) and e.value is not None:
            return e.value, True
        if isinstance(e, Var) and e.name in self.literals:  # key = f"user:{id}"; cache.set(key, ...)
            e = self.literals[e.name]
            if isinstance(e, Lit) and e.value is not None:  # std::string sql = "INSERT ..."; exec(sql, x)
                return e.value, True
        if isinstance(e, Call) and e.callee.endswith(".format") and isinstance(e.receiver, Lit | Tmpl):
            e = e.receiver  # "https://{}/x".format(host)
        while isinstance(e, Call) and not (e.args and isinstance(e.args[0], Lit | Tmpl)) and e.receiver:
            e = e.receiver  # MessageBuilder("signups").payload(x): the builder's first literal
        if isinstance(e, Var) and e.name in self.literals:  # sql.c_str(), ss.str(): what the local holds
            e = self.literals[e.name]
            if isinstance(e, Lit) and e.value is not None:
                return e.value, True
        if isinstance(e, Call) and e.args and isinstance(e.args[0], Lit | Tmpl):
            last = e.callee.replace("::", ".").rpartition(".")[2]
            if last == "StrCat":  # absl::StrCat("INSERT ... ('", x, "')")
                e = Tmpl(tuple(p for a in e.args for p in tmpl_parts(a)))
            elif last[:1].isupper() or last in _FORMATS:  # cpr::Url{"https://..."}, fmt::format("...", x)
                e = e.args[0]
                if isinstance(e, Lit) and e.value is not None:
                    return e.value, True
        if isinstance(e, Var | Sub):
            key = e.name if isinstance(e, Var) else (e.key or "")
            const = self.ir.constants.get(key.rpartition(".")[2])
            if isinstance(const, str):
                return const, True
            if isinstance(e, Var) and e.name in self.params:
                return _placeholder(self.params[e.name]), False
        if isinstance(e, Tmpl) and any(isinstance(p, str) for p in e.parts):
            return "".join(self._part(p) for p in e.parts), True
        return f"unresolved:{describe(e) if e is not None else '?'}", False

    def _part(self, p: str | Expr) -> str:
        """A template's part: its text, a constant's value (``'INSERT INTO '.self::TABLE``), else ``{}``."""
        if isinstance(p, str):
            return p
        if isinstance(p, Var | Sub):
            key = p.name if isinstance(p, Var) else (p.key or "")
            const = self.ir.constants.get(key.rpartition(".")[2])
            if isinstance(const, str):
                return const
        return "{}"

    def receiver_name(self, e: Call, how: str) -> tuple[str, bool] | None:
        """``made``: the first argument of the call that made the receiver (``logging.getLogger("audit")``);
        ``receiver``: the receiver's own name (``send_welcome.delay(...)``)."""
        if isinstance(e.receiver, Call) and how == "made":  # logging.getLogger("audit").info(x)
            made: Call | None = e.receiver
        elif isinstance(e.receiver, Sub) and e.receiver.key and how == "receiver":  # db["users"].insert_one
            return e.receiver.key, True
        elif not isinstance(e.receiver, Var):
            return None
        elif how == "receiver":
            return e.receiver.name.rpartition(".")[2], True
        else:
            made = self.made.get(e.receiver.name) or self.ir.made.get(e.receiver.name)
        if made is None:
            return None
        if not made.args:  # logging.getLogger(): the root logger
            return ("root", True) if made.callee.endswith("getLogger") else None
        return self.resolve(made.args[0])

    def statement_sql(self, e: Expr | None, depth: int = 0) -> tuple[str, object] | None:
        """The SQL a prepared statement holds and what made it (a new statement binds from its first
        parameter again): what ``prepare`` gave it, else the SQL literal given to the call that made it
        (``con->prepareStatement("INSERT ...")``, ``SQLite::Statement q(db, "...")``, ``db.Statement(sql)``,
        also wrapped: ``std::unique_ptr<PreparedStatement> p(con->prepareStatement(...))``)."""
        if isinstance(e, Var):
            if e.name in self.prepared:
                return self.prepared[e.name]
            e = self.made.get(e.name)
        if not isinstance(e, Call) or depth > 2:
            return None
        for a in e.args:
            if isinstance(a, Call):
                found = self.statement_sql(a, depth + 1)
                if found is not None:
                    return found[0], e
            else:
                text, ok = self.resolve(a)
                if ok and _SQL.match(text):
                    return text, e
        return None

    def prepared_statement(self, e: Call, sink: SinkModel, args: list[Taint], stmt: Stmt) -> bool:
        """``prepare``: remember the statement's SQL; ``bind``: the bound value goes to the column of the
        statement's next parameter (or of its named one, ``q.bindValue(":email", x)``): a write only when
        that parameter is a written column's (not the ``WHERE``'s) of an ``INSERT``/``UPDATE``."""
        i = sink.statement_arg
        target = e.args[i] if i is not None and i < len(e.args) else e.receiver
        if not isinstance(target, Var):
            return False
        if sink.statement == "prepare":
            sql, ok = self.resolve(e.args[sink.sql_arg] if sink.sql_arg is not None else None)
            if not ok:
                return False
            self.prepared[target.name] = (sql, stmt)
            return True
        found = self.statement_sql(target)
        if found is None or sink.data_arg is None or sink.data_arg >= len(args):
            return False
        sql, made = found
        key = (target.name, id(made))
        n = self.binds.get(key, 0)
        self.binds[key] = n + 1
        if not writes(sql):  # SELECT ... WHERE email = ?: a read
            return True
        table, columns = insert_columns(sql)
        name = e.args[0].value if e.args and isinstance(e.args[0], Lit) else None
        if name and name[:1] in ":@$":
            order = PLACEHOLDERS.findall(sql)
            n = order.index(name) if name in order else len(columns)
        if table is None or n >= len(columns):
            return True
        data: Taint = {columns[n]: flatten(args[sink.data_arg])}
        self.flow_into(sink, table, True, "", None, data, stmt)
        return True

    def sink(self, e: Call, sink: SinkModel, args: list[Taint], kwargs: dict[str, Taint], stmt: Stmt) -> bool:
        def arg(i: int | None) -> Expr | None:
            return e.args[i] if i is not None and i < len(e.args) else None

        if sink.statement is not None:
            return self.prepared_statement(e, sink, args, stmt)
        if (
            sink.kind == "sql"
            and sink.sql_arg is not None
            and arg(sink.sql_arg) is None
            and not _query_kwarg(e)
        ):
            # no statement passed where every database API takes it: graphql-core's
            # document.execute(root=..., context=...), a task runner's job.execute() - not a database write
            return False

        name, ok = (sink.name, True) if sink.name else self.resolve(arg(sink.name_arg))
        if sink.kind == "http" and not sink.name:
            name, ok = self.resolve(arg(sink.path_arg))
        if sink.name_from:
            found = self.receiver_name(e, sink.name_from)
            if found is not None:
                name, ok = found
        data: Taint
        data_expr: Expr | None
        if sink.data_args or sink.data_kwargs:  # several parameters carry data (Pysa models)
            picked = [args[i] for i in sink.data_args if i < len(args)]
            picked += [kwargs[k] for k in sink.data_kwargs if k in kwargs]
            data, data_expr = {}, None
            for t in picked:
                for k, v in t.items():
                    data[k] = data.get(k, frozenset()) | v
        elif sink.data_kwarg is not None and sink.data_kwarg in kwargs:
            data, data_expr = kwargs[sink.data_kwarg], dict(e.kwargs)[sink.data_kwarg]
        elif sink.data_arg is not None and sink.data_arg < len(args):
            data, data_expr = args[sink.data_arg], e.args[sink.data_arg]
        else:
            every = [*args, *kwargs.values()]
            data = {None: frozenset().union(*(flatten(t) for t in every)) if every else frozenset()}
            data_expr = None
        if isinstance(data_expr, DictLit) and any(k and k.startswith("$") for k, _ in data_expr.entries):
            data = {}  # MongoDB's {"$set": {"email": e}}: the fields inside the operators
            for _, inner in data_expr.entries:
                for k, v in self.eval(inner).items():
                    data[k] = data.get(k, frozenset()) | v
        if sink.data_receiver and e.receiver is not None and sink.kind == "sql":  # a statement bound first
            for k, v in self.eval(e.receiver).items():  # $stmt->bindValue(':email', $e): keyed
                data = {**data, k: data.get(k, frozenset()) | v}
        elif sink.data_receiver and e.receiver is not None:
            data = {**data, None: data.get(None, frozenset()) | flatten(self.eval(e.receiver))}
        if sink.orm == "dirty":
            self.dirty(sink, stmt)
            return True
        if sink.orm is not None:
            name, record, whole = orm_write(e, sink.orm, self.made)
            ok = True
            if record is not None:  # Project(owner=user): a model instance is stored as its key, no data
                data = {k: flatten(self.eval(v)) for k, v in record.entries if not self.instance(v)}
                data_expr = record
            elif whole is not None:  # written whole: finish spreads it over the model's fields
                data, data_expr = self.eval(whole), whole  # keyed where its fields are known
            held = e.receiver if sink.orm == "instance_receiver" else arg(0)
            if isinstance(held, Var) and sink.orm in ("instance_arg", "instance_receiver", "model_arg"):
                data = self.set_fields(held.name, data)
        if sink.kind == "sql":
            if self.lang == "python" and builder(arg(sink.sql_arg)):  # session.execute(select(User)...)
                return True
            made = self.receiver_name(e, "made") if sink.name_from == "made" else None
            query = arg(sink.sql_arg) or dict(e.kwargs).get("query")  # databases' execute(query=...)
            sql, ok = made if made is not None else self.resolve(query)  # $pdo->prepare(sql)
            if ok and not writes(sql):  # SELECT ... WHERE email = ?: a read, not a write
                return True
            if not ok and sink.require_literal:
                return False
            table, columns = insert_columns(sql) if ok else (None, [])
            name, ok = (
                (table, True) if table else (f"unresolved:{describe(arg(sink.sql_arg) or Lit(None))}", False)
            )
            several = sink.sql_arg is not None and len(e.args) > sink.sql_arg + 2  # execute(sql, $1, $2)
            if (data_expr is None or several) and columns and sink.sql_arg is not None:  # queryf(sql, $a, $b)
                params = [p for p in e.args[sink.sql_arg + 1 :] if p != Other()]  # not callbacks
                if params or self.lang != "hack":  # Hack's query($sql) of a sprintf: the statement's own data
                    data = {col: flatten(self.eval(v)) for col, v in zip(columns, params, strict=False)}
            if ":" in sql and any(k is not None for k in data):  # execute([':email' => $e]), bindValue
                named = placeholders(sql, columns)  # :display_name -> its column; only in WHERE: none
                keyed = ((named.get(k.lstrip(":"), k.lstrip(":")) if k else k, v) for k, v in data.items())
                data = {k: v for k, v in keyed if k != ""}
            if isinstance(data_expr, DictLit) and columns and all(k is None for k, _ in data_expr.entries):
                data = {
                    col: flatten(self.eval(v))
                    for col, (_, v) in zip(columns, data_expr.entries, strict=False)
                }
        elif not ok and sink.require_literal:
            return False
        host = self.resolve(arg(sink.host_arg))[0] if sink.host_arg is not None else ""
        bootstrap = servers(e.receiver, self.made, self.ir.made) if sink.kind == "kafka" else None
        self.flow_into(sink, name, ok, host, bootstrap, data, stmt)
        if sink.relabel and not self.dead_here(stmt):
            self.relabel(self.target(sink, name, host, bootstrap), data_expr, stmt)
        return True

    def target(self, sink: SinkModel, name: str, host: str = "", bootstrap: str | None = None) -> Asset:
        key = (4, id(sink), name, host, bootstrap)
        target = self.models.memo.get(key)
        if target is None:  # each sink names the same few assets: made once per process
            target = self.models.memo[key] = sink_target(sink, name, host, bootstrap)
        return target

    def flow_into(
        self,
        sink: SinkModel,
        name: str,
        ok: bool,
        host: str,
        bootstrap: str | None,
        data: Taint,
        stmt: Stmt,
    ) -> None:
        target = self.target(sink, name, host, bootstrap)
        ev = self.evidence(stmt)
        dead = self.dead_here(stmt)
        for key, labels in data.items():
            for lb in labels:
                dst = with_field(target, key) if key is not None else target
                self.emit(lb, dst, (*lb.hops, ev), lb.masked, lb.transformed, stmt.guards, not ok, dead)

    def stream(self, stmt: Stmt) -> bool:
        """C++ ``LOG_INFO << "user " << email;`` and ``ss << email;``: an expression statement whose
        left-most operand is a stream. A modelled stream is a sink; a local variable takes the data."""
        parts: list[Expr] = []
        head: Expr = stmt.value
        while isinstance(head, Other) and head.parts:
            parts[:0] = head.parts[1:]
            head = head.parts[0]
        if not parts:
            return False
        name = head.name if isinstance(head, Var) else head.callee if isinstance(head, Call) else None
        if name is None:
            return False
        sink = self.models.sink(self.lang, name)
        if sink is None and isinstance(head, Var) and head.name in self.env:  # ss << "INSERT ..." << x
            old = self.literals.get(head.name)
            self.literals[head.name] = Tmpl(
                (*(tmpl_parts(old) if old is not None else ()), *(q for p in parts for q in tmpl_parts(p)))
            )
        data = frozenset().union(*(flatten(self.eval(p)) for p in parts))
        if isinstance(head, Call):
            self.eval(head)
        if sink is not None and sink.stream:
            self.flow_into(sink, sink.name or name, True, "", None, {None: data}, stmt)
            return True
        if isinstance(head, Var) and head.name in self.env and data:  # std::ostringstream ss; ss << x
            self.assign(head, {None: data}, strong=False)
            return True
        return False

    def dead_here(self, stmt: Stmt) -> bool:
        return bool(stmt.guards) and any(guard_value(g, self.ir.constants) is False for g in stmt.guards)

    def param_name(self, target: Asset, e: Call) -> Asset:
        """A callee's sink named by one of its parameters: named by what this call passes there."""
        name = target.name
        if _MARK not in name:
            return target
        head, _, rest = name.partition(_MARK)
        index, _, tail = rest.partition(_MARK)
        i = int(index)
        given = e.receiver if i == RECEIVER else (e.args[i] if i < len(e.args) else None)
        resolved, _ = self.resolve(given)
        return Asset(target.namespace, f"{head}{resolved}{tail}", target.field)

    def emit(
        self,
        lb: Label,
        dst: Asset,
        hops: tuple[Evidence, ...],
        masked: bool,
        transformed: bool,
        guards: tuple[str, ...],
        unresolved: bool,
        dead: bool,
    ) -> None:
        """A label reached a sink: a flow, or for a parameter's label an entry of this function's summary."""
        if dst.field is None and lb.source.namespace != PARAM_NS:
            dst = with_field(dst, lb.source.field)  # a value written whole keeps its name (a caller's own)
        src = lb.source
        if dst.name == src.name and dst.namespace == src.namespace:  # same dataset
            return
        if dead:
            self.dead += 1
        elif lb.source.namespace == PARAM_NS:
            # kept widened as they come: a set of them hashed every hop of every entry, again per call
            key = (int(lb.source.name), lb.source.field, dst, masked, transformed, guards, unresolved)
            cur = self.param_sinks.get(key)
            if cur is None or sorts_before(0, hops, cur.opaque, cur.hops):
                self.param_sinks[key] = ParamSink(
                    int(lb.source.name), lb.source.field, dst, hops, masked, transformed, guards, unresolved
                )
        elif (
            dst.field and category_of(hops) == UNIQUE_ID and not classify(dst.field) and of_a_thing(dst.field)
        ):
            return  # $_POST['id'] stored as feedback.event_id: the event's id, not a person's
        else:
            if _MARK in dst.name:  # named by a parameter no caller fills in: this function's own flow
                names = {i: n for n, i in self.params.items()}
                head, _, rest = dst.name.partition(_MARK)
                index, _, tail = rest.partition(_MARK)
                dst = Asset(dst.namespace, f"{head}unresolved:{names.get(int(index), '?')}{tail}", dst.field)
                unresolved = True
            self.flows.append(
                Flow(self.fn.name, lb.source, dst, hops, masked, transformed, guards, unresolved)
            )

    def relabel(self, target: Asset, data_expr: Expr | None, stmt: Stmt) -> None:
        ev = self.evidence(stmt)
        if isinstance(data_expr, DictLit):
            for key, value in data_expr.entries:
                path = access_path(value)
                if key is not None and path is not None:
                    label = Label(with_field(target, key), (ev,))
                    self.assign(value, {None: frozenset({label})}, strong=True)
        elif isinstance(data_expr, Var):
            fields = [k for k in self.env.get(data_expr.name, {}) if k is not None]
            self.env[data_expr.name] = {k: frozenset({Label(with_field(target, k), (ev,))}) for k in fields}


def _query_kwarg(e: Call) -> bool:
    """encode databases' ``execute(query="INSERT ...", values={...})``: the statement by keyword."""
    return any(k == "query" for k, _ in e.kwargs)
