"""Intra-procedural taint flow over the IR, field-sensitive for dict and struct keys.

Each variable holds a *taint*: a map from field (a dict key or struct member; None for the value itself) to
labels. A label names the source asset and field it came from and carries its hops (file:line evidence),
whether a masking function touched it and whether it was transformed on the way. A key read narrows a whole
source (``$body['location']`` of the request body is the request's ``location``). A write to a table with
``relabel`` turns the written values into that table's fields, so what the function does with them next
(log them, send them on) is attributed to the stored data, as the lineage graph expects.

Flows under a guard that the file's own constants make false (``if (self::DEBUG_MODE)`` with the constant
``false``) are dead and dropped; other guards are recorded on the flow.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from flowscope.model import Asset, Evidence
from flowscope_hack_static.classify import words
from flowscope_hack_static.elements import element, only_params, request_category, tagged
from flowscope_hack_static.ir import (
    Call,
    DictLit,
    Expr,
    FileIR,
    Function,
    Lit,
    Other,
    Stmt,
    Sub,
    Tmpl,
    Var,
    access_path,
    walk,
)
from flowscope_hack_static.packs import Models, SinkModel
from flowscope_hack_static.passes import exposure, loop_carried, loop_ranges, settled
from flowscope_hack_static.sinknames import orm_write, servers, sink_target
from flowscope_hack_static.sqlnames import insert_columns, writes
from flowscope_hack_static.taint import (
    COLLECTOR,
    EMPTY,
    PARAM_NS,
    Flow,
    Label,
    ParamSink,
    Result,
    Summary,
    Taint,
    asset,
    describe,
    flatten,
    guard_value,
    hop,
    mark,
    merge,
    widen,
    with_field,
)

Lookup = Callable[[str | None, str], Summary | None]  # (caller's class, callee text) -> the callee's summary


def analyze(ir: FileIR, models: Models, lookup: Lookup | None = None) -> Result:
    """Flows of every function in ``ir``, and each function's summary for its callers."""
    result = Result()
    for fn in ir.functions:
        _Function(ir, fn, models, result, lookup or (lambda cls, callee: None)).run()
    return result


def analyze_function(ir: FileIR, fn: Function, models: Models, lookup: Lookup) -> Result:
    """One function's flows and its summary (``summaries`` holds only that function's)."""
    result = Result()
    _Function(ir, fn, models, result, lookup).run()
    return result


BUDGET = 200_000  # labels a function's assignments may move before it is analyzed coarsely


class _OverBudget(Exception):
    pass


def _qualifier(base: Expr) -> str:
    """The object a key is read from, by name (``user`` of ``user.email``): ``name`` counts on a person."""
    if isinstance(base, Var):
        return base.name
    if isinstance(base, Sub):
        return base.key or ""
    if isinstance(base, Call):
        return base.callee
    return ""


@cache
def _param(i: int) -> frozenset[Label]:
    """The label standing for parameter ``i`` in the function's summary (the same for every function)."""
    return frozenset({Label(Asset(PARAM_NS, str(i)), (), narrow=True)})


class _Function:
    def __init__(self, ir: FileIR, fn: Function, models: Models, result: Result, lookup: Lookup) -> None:
        self.ir, self.fn, self.models, self.result, self.lookup = ir, fn, models, result, lookup
        self.cls = fn.name.rpartition(".")[0] or None
        self.lang = ir.language
        self.env: dict[str, Taint] = {}
        self.types: dict[str, str] = {}
        self.made: dict[str, Call] = {}  # variable -> the call that made its value (ORM instances)
        self.literals: dict[str, Expr] = {}  # variable -> the literal or template it holds (sink names)
        self.stmt: Stmt | None = None
        self.work = 0  # labels moved by assignments: the per-function budget counts these
        self.budget = BUDGET
        self.coarse = False
        self.everything: frozenset[Label] = EMPTY
        self._ev_stmt: Stmt | None = None
        self._ev: Evidence | None = None

    def evidence(self, stmt: Stmt) -> Evidence:
        ev = self._ev
        if stmt is not self._ev_stmt or ev is None:  # asked several times per statement: made once
            ev = Evidence(COLLECTOR, "static", f"{self.ir.path}:{stmt.line}", stmt.snippet)
            self._ev_stmt, self._ev = stmt, ev
        return ev

    def run(self) -> None:
        try:
            self.passes()
        except _OverBudget:  # start again, coarse: linear whatever the function holds
            self.coarse = True
            self.env, self.types, self.made, self.literals = {}, {}, {}, {}
            self.start()
            self.begin()
            for stmt in self.fn.body:
                self.statement(stmt)
        result = self.result
        result.work += self.work
        result.flows.extend(self.flows)
        result.dead += self.dead
        sinks, returns = frozenset(self.param_sinks), frozenset(self.returns)
        old = result.summaries.get(self.fn.name)
        if old is not None:
            sinks, returns = old.sinks | sinks, old.returns | returns
        result.summaries[self.fn.name] = Summary(sinks, returns)

    def start(self) -> None:
        for i, (name, typ) in enumerate(self.fn.params):
            self.env[name] = {None: _param(i)}
            ev = Evidence(
                COLLECTOR, "static", f"{self.ir.path}:{self.fn.line}", f"{typ or ''} {name}".strip()
            )
            label = element(self.ir.path, name, self.cls or "", ev)
            if label is not None:  # a parameter named as personal data: a source even with no caller
                self.env[name] = {None: _param(i) | {label}}
            model = self.models.source_param(self.lang, typ)
            if model is not None:
                ev = Evidence(COLLECTOR, "static", f"{self.ir.path}:{self.fn.line}", f"{typ} {name}")
                asset = Asset(model.namespace, model.name, model.field)
                self.env[name] = {None: frozenset({Label(asset, (ev,), narrow=model.field is None)})}

    def passes(self) -> None:
        self.start()
        body = self.fn.body
        self.begin()
        if any(s.in_loop for s in body):  # a second pass carries what the loop assigns late to its start
            exp = exposure(body)
            start = dict(self.env)
            after_merge: dict[str, Taint] = {}
            loops = loop_ranges(body)  # first statement -> last statement of each run of loop statements
            lasts = {b: a for a, b in loops.items()}
            entry: dict[int, dict[str, Taint]] = {}  # first statement -> the state before it
            back: dict[int, dict[str, Taint]] = {}  # first statement -> the state after the loop's last one
            for i, stmt in enumerate(body):
                if i in loops:
                    entry[i] = dict(self.env)
                self.statement(stmt)
                if i in lasts:
                    back[lasts[i]] = dict(self.env)
                for name in exp.merges.get(i, ()):
                    after_merge[name] = self.env.get(name, {})
            repeats = settled(exp, start, self.env, after_merge, {*self.types, *self.made})
            if not repeats or loop_carried(body, loops, entry, back):
                self.begin()
                for i, stmt in enumerate(body):
                    if i in back:  # the loop's head: what it held at its end flows into the next iteration
                        self.join(back[i])
                    self.statement(stmt)
        else:
            for stmt in body:
                self.statement(stmt)

    def join(self, other: dict[str, Taint]) -> None:
        """Merge a state into the current one (each variable's labels, key by key)."""
        env = self.env
        for name, taint in other.items():
            cur = env.get(name)
            if cur is None:
                env[name] = taint
            elif cur is not taint:
                env[name] = {k: merge(cur.get(k, EMPTY), taint.get(k, EMPTY)) for k in {*cur, *taint}}

    def begin(self) -> None:
        self.flows: list[Flow] = []
        self.param_sinks: set[ParamSink] = set()
        self.returns: set[Label] = set()
        self.dead = 0

    def statement(self, stmt: Stmt) -> None:
        self.stmt = stmt
        if self.coarse:
            self.coarse_statement(stmt)
            return
        if isinstance(stmt.target, Var):
            if isinstance(stmt.value, Call):
                self.types[stmt.target.name] = stmt.value.callee
                self.made[stmt.target.name] = stmt.value
            if isinstance(stmt.value, Lit | Tmpl) and not stmt.guards and not stmt.in_loop:
                self.literals[stmt.target.name] = stmt.value
            else:
                self.literals.pop(stmt.target.name, None)
        taint = self.eval(stmt.value)
        if stmt.is_return:
            self.returns |= hop(flatten(taint), self.evidence(stmt))
        if stmt.target is None:
            return
        if len(taint) == 1 and None in taint:  # the usual value: one set of labels, no keys
            labels = taint[None]
            taint = {None: hop(labels, self.evidence(stmt))} if labels else {}
        elif any(taint.values()):  # evidence only for a statement that moves labels
            ev = self.evidence(stmt)
            taint = {k: hop(v, ev) for k, v in taint.items() if v}
        else:
            taint = {}
        self.work += 1 + sum(map(len, taint.values()))
        if self.work > self.budget:
            raise _OverBudget
        self.assign(stmt.target, taint, strong=not stmt.guards and not stmt.in_loop)

    def coarse_statement(self, stmt: Stmt) -> None:
        """Past the budget: every variable holds every label seen in the function ("all taints"), so each
        statement costs one evaluation and the sinks still see what could reach them."""
        taint = self.eval(stmt.value)
        self.work += 1
        if stmt.is_return:
            self.returns |= flatten(taint)
        if stmt.target is not None:
            self.everything = merge(self.everything, flatten(taint))
            path = access_path(stmt.target)
            if path is not None:
                self.env[path[0]] = {None: self.everything}

    def assign(self, target: Expr, taint: Taint, strong: bool) -> None:
        path = access_path(target)
        if path is None:
            for part in walk(target) or [target]:
                if part is not target:
                    self.assign(part, {None: flatten(taint)}, strong=False)
            return
        var, key = path
        if key is None and not isinstance(target, Sub):
            old = None if strong else self.env.get(var)
            if not old:  # a new value (the callers pass a taint of their own, never changed after)
                self.env[var] = taint
            else:
                self.env[var] = {k: merge(old.get(k, EMPTY), taint.get(k, EMPTY)) for k in {*old, *taint}}
            return
        cur = dict(self.env.get(var, {}))
        flat = flatten(taint)
        cur[key] = flat if (strong and key is not None) else merge(cur.get(key, EMPTY), flat)
        self.env[var] = cur

    # -- expressions ----------------------------------------------------------------------------------
    def eval(self, e: Expr) -> Taint:
        kind = type(e)  # the IR's classes have no subclasses: one identity test each, not isinstance
        if kind is Var:
            env = self.env
            name = e.name  # type: ignore[union-attr]
            return env[name] if name in env else self.var(name)
        if kind is Call:
            return self.call(e)  # type: ignore[arg-type]
        if kind is Sub:
            return self.sub(e)  # type: ignore[arg-type]
        if kind is Lit:
            return {}
        if kind is DictLit:
            out: dict[str | None, frozenset[Label]] = {}
            for key, value in e.entries:  # type: ignore[union-attr]
                labels = flatten(self.eval(value))
                old = out.get(key)
                out[key] = labels if old is None else old | labels
            return out
        if isinstance(e, Tmpl | Other):
            parts = walk(e)
            if not parts:
                return {None: frozenset()}
            labels = frozenset().union(*[flatten(self.eval(p)) for p in parts])
            if len(parts) > 1:
                labels = widen(labels)
            return {None: mark(labels, transformed=True) if isinstance(e, Tmpl) or len(parts) > 1 else labels}
        return {}

    def var(self, name: str) -> Taint:
        if name in self.env:
            return self.env[name]
        model = self.models.source_var(self.lang, name)
        if model is None and "." in name:  # Python attribute paths: obj.field reads a field of obj
            base, _, attr = name.rpartition(".")
            return self.sub(Sub(Var(base), attr))
        if model is None or self.stmt is None:
            return {}
        label = Label(
            asset(model.namespace, model.name, model.field),
            (self.evidence(self.stmt),),
            narrow=model.field is None,
        )
        return {None: frozenset({label})}

    def sub(self, e: Sub) -> Taint:
        base = self.eval(e.base)
        out = self.key_of(base, e.key)
        if e.key is not None and self.stmt is not None and only_params(flatten(base)):
            qualifier = _qualifier(e.base)
            label = element(self.ir.path, e.key, qualifier, self.evidence(self.stmt))
            if label is not None:
                return {None: flatten(out) | {label}}
        return out

    def key_of(self, base: Taint, key: str | None) -> Taint:
        if key is None:
            return {None: flatten(base)}
        out = set(base.get(key, frozenset()))
        shadowed = key in base  # a write to this key replaced what the whole value held there
        for lb in base.get(None, frozenset()):
            if lb.narrow and shadowed:
                continue
            if lb.narrow and not lb.masked:
                hops = lb.hops
                if lb.source.namespace != PARAM_NS:
                    category = request_category(key)
                    if category is None:  # request.POST["page"]
                        continue
                    hops = (tagged(hops[0], category), *hops[1:]) if hops else hops
                out.add(Label(with_field(lb.source, key), hops, lb.masked, lb.transformed, False))
            else:
                out.add(lb)
        return {None: frozenset(out)} if out else {}

    def typed(self, e: Call) -> str:
        """``kv.setex`` where ``kv = redis.Redis()``: ``redis.Redis.setex``, so packs match by the class."""
        if isinstance(e.receiver, Var):
            made = self.types.get(e.receiver.name) or self.ir.types.get(e.receiver.name)
            if made:
                return f"{made}.{e.callee.rpartition('.')[2].rpartition('>')[2]}"
        return e.callee

    def call(self, e: Call) -> Taint:
        args = list(map(self.eval, e.args))
        kwargs = {k: self.eval(v) for k, v in e.kwargs} if e.kwargs else {}
        stmt = self.stmt
        assert stmt is not None
        # by its text and by its receiver's class (kv = redis.Redis(); kv.set(...) is redis.Redis.set)
        typed = self.typed(e)
        names = (typed, e.callee) if typed != e.callee else (e.callee,)
        sink, masks, source, prop = self.models.classify(self.lang, *names)
        if sink is not None:
            self.sink(e, sink, args, kwargs, stmt)
            return {}
        flat: frozenset[Label] = frozenset()
        for t in args:
            if t:
                flat = flat.union(*t.values())
        for t in kwargs.values():
            if t:
                flat = flat.union(*t.values())
        own = isinstance(e.receiver, Var) and e.receiver.name in ("this", "self")
        if masks:
            if e.receiver is not None and not own:  # hashlib.sha256(x).hexdigest()
                flat |= flatten(self.eval(e.receiver))
            return {None: mark(flat, masked=True, transformed=True, narrow=False)}
        if source is not None:
            fld = source.field
            if source.field_arg is not None and source.field_arg < len(e.args):
                arg = e.args[source.field_arg]
                fld = arg.value if isinstance(arg, Lit) else fld
            category = request_category(fld)
            if category is None:  # request.GET.get("page"): about the request, not a person
                return {}
            ev = tagged(self.evidence(stmt), category) if fld is not None else self.evidence(stmt)
            label = Label(asset(source.namespace, source.name, fld), (ev,), narrow=fld is None)
            return {None: frozenset({label})}
        summary = self.lookup(self.cls, e.callee)
        if summary is not None:
            return self.apply(summary, args, stmt)
        if prop is None and not e.args and e.receiver is not None and not own:
            method = e.callee.rpartition(".")[2].rpartition(">")[2]
            if method.startswith("get") and len(method) > 3:  # user.getValueOfEmail(), $u->getEmail()
                return self.sub(Sub(e.receiver, "_".join(words(method)) or method))
        if prop is not None and prop.key_arg is not None and prop.key_arg < len(e.args):
            key = e.args[prop.key_arg]
            if prop.receiver and e.receiver is not None:
                base = self.eval(e.receiver)
            else:
                base = args[0] if args else {}
            return self.key_of(base, key.value if isinstance(key, Lit) else None)
        if (
            (prop is None or prop.receiver) and e.receiver is not None and not own
        ):  # a method of a tainted value
            flat |= flatten(self.eval(e.receiver))
        if prop is not None and prop.transformation == "IDENTITY":
            return {None: flat}
        return {None: mark(flat, transformed=True)} if flat else {}

    # -- sinks ----------------------------------------------------------------------------------------
    def resolve(self, e: Expr | None) -> tuple[str, bool]:
        if isinstance(e, Lit) and e.value is not None:
            return e.value, True
        if isinstance(e, Var) and e.name in self.literals:  # key = f"user:{id}"; cache.set(key, ...)
            e = self.literals[e.name]
        if isinstance(e, Var | Sub):
            key = e.name if isinstance(e, Var) else (e.key or "")
            const = self.ir.constants.get(key)
            if isinstance(const, str):
                return const, True
        if isinstance(e, Tmpl) and any(isinstance(p, str) for p in e.parts):
            return "".join(p if isinstance(p, str) else "{}" for p in e.parts), True
        return f"unresolved:{describe(e) if e is not None else '?'}", False

    def sink(self, e: Call, sink: SinkModel, args: list[Taint], kwargs: dict[str, Taint], stmt: Stmt) -> None:
        def arg(i: int | None) -> Expr | None:
            return e.args[i] if i is not None and i < len(e.args) else None

        name, ok = (sink.name, True) if sink.name else self.resolve(arg(sink.name_arg))
        if sink.kind == "http":
            name, ok = self.resolve(arg(sink.path_arg))
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
            data, data_expr = (
                {None: frozenset().union(*(flatten(t) for t in args)) if args else frozenset()},
                None,
            )
        if sink.orm is not None:
            name, record = orm_write(e, sink.orm, self.made)
            ok = True
            if record is not None:
                data = {k: flatten(self.eval(v)) for k, v in record.entries}
                data_expr = record
        if sink.kind == "sql":
            sql, ok = self.resolve(arg(sink.sql_arg))
            if ok and not writes(sql):  # SELECT ... WHERE email = ?: a read, not a write
                return
            table, columns = insert_columns(sql) if ok else (None, [])
            name, ok = (
                (table, True) if table else (f"unresolved:{describe(arg(sink.sql_arg) or Lit(None))}", False)
            )
            if data_expr is None and columns and sink.sql_arg is not None:  # queryf(sql, $a, $b)
                params = e.args[sink.sql_arg + 1 :]
                data = {col: flatten(self.eval(v)) for col, v in zip(columns, params, strict=False)}
            if isinstance(data_expr, DictLit) and columns and all(k is None for k, _ in data_expr.entries):
                data = {
                    col: flatten(self.eval(v))
                    for col, (_, v) in zip(columns, data_expr.entries, strict=False)
                }
        host = self.resolve(arg(sink.host_arg))[0] if sink.host_arg is not None else ""
        bootstrap = servers(e.receiver, self.made, self.ir.made) if sink.kind == "kafka" else None
        target = self.models.memo.get((4, id(sink), name, host, bootstrap))
        if target is None:  # each sink names the same few assets: made once per process
            target = self.models.memo[(4, id(sink), name, host, bootstrap)] = sink_target(
                sink, name, host, bootstrap
            )
        ev = self.evidence(stmt)
        dead = bool(stmt.guards) and any(guard_value(g, self.ir.constants) is False for g in stmt.guards)
        for key, labels in data.items():
            for lb in labels:
                dst = with_field(target, key) if key is not None else target
                self.emit(lb, dst, (*lb.hops, ev), lb.masked, lb.transformed, stmt.guards, not ok, dead)
        if sink.relabel and not dead:
            self.relabel(target, data_expr, stmt)

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
        if dst.field is None:
            dst = with_field(dst, lb.source.field)  # a value written whole keeps its name
        src = lb.source
        if dst.name == src.name and dst.namespace == src.namespace:  # same dataset
            return
        if dead:
            self.dead += 1
        elif lb.source.namespace == PARAM_NS:
            param = ParamSink(
                int(lb.source.name), lb.source.field, dst, hops, masked, transformed, guards, unresolved
            )
            self.param_sinks.add(param)
        else:
            self.flows.append(
                Flow(self.fn.name, lb.source, dst, hops, masked, transformed, guards, unresolved)
            )

    def apply(self, summary: Summary, args: list[Taint], stmt: Stmt) -> Taint:
        """A call of a function with a summary: its parameter sinks fire with the arguments' labels."""
        ev = self.evidence(stmt)
        dead = bool(stmt.guards) and any(guard_value(g, self.ir.constants) is False for g in stmt.guards)
        for ps in summary.sinks:
            if ps.param >= len(args):
                continue
            for lb in flatten(self.key_of(args[ps.param], ps.field)):
                dst = ps.target
                hops = (*lb.hops, ev, *ps.hops)
                guards = (*stmt.guards, *ps.guards)
                self.emit(
                    lb,
                    dst,
                    hops,
                    lb.masked or ps.masked,
                    lb.transformed or ps.transformed,
                    guards,
                    ps.unresolved,
                    dead,
                )
        out: set[Label] = set()
        for ret in summary.returns:
            if ret.source.namespace != PARAM_NS:
                out.add(ret._replace(hops=(ev, *ret.hops)))
                continue
            i = int(ret.source.name)
            if i < len(args):
                for lb in flatten(self.key_of(args[i], ret.source.field)):
                    out.add(
                        lb._replace(
                            masked=lb.masked or ret.masked, transformed=lb.transformed or ret.transformed
                        )
                    )
        return {None: frozenset(out)} if out else {}

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
