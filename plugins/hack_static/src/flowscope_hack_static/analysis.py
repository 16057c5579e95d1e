"""Intra-procedural taint flow over the IR, field-sensitive for dict and struct keys.

Each variable holds a *taint*: a map from field (a dict key or struct member; None for the value itself) to
labels. A label names the source asset and field it came from and carries its hops (file:line evidence),
whether a masking function touched it and whether it was transformed on the way. A key read narrows a whole
source (``$body['location']`` of the request body is the request's ``location``). A write to a table with
``relabel`` turns the written values into that table's fields, so what the function does with them next
(log them, send them on) is attributed to the stored data, as the lineage graph expects.

Flows under a guard that the file's own constants make false (``if (self::DEBUG_MODE)`` with the constant
``false``) are dead and dropped; other guards are recorded on the flow. What calls do is in :mod:`calls`,
sinks in :mod:`sinks`; the front ends leave out what follows a ``return`` or ``throw`` in its block.
"""

from __future__ import annotations

import re
from functools import cache

from flowscope.model import Asset, Evidence
from flowscope_hack_static.calls import Calls
from flowscope_hack_static.classify import classify
from flowscope_hack_static.elements import (
    element,
    only_params,
    request_category,
    request_part,
    request_record,
    tagged,
)
from flowscope_hack_static.finish import TYPED, typed_asset
from flowscope_hack_static.frame import OWN, Lookup
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
from flowscope_hack_static.packs import Models, SourceModel
from flowscope_hack_static.passes import exposure, loop_carried, loop_ranges, settled
from flowscope_hack_static.sinks import Sinks
from flowscope_hack_static.taint import (
    COLLECTOR,
    EMPTY,
    PARAM_NS,
    RECEIVER,
    Label,
    Result,
    Summary,
    Taint,
    asset,
    flatten,
    guard_value,
    hop,
    mark,
    merge,
    widen,
    widen_flows,
    widen_sinks,
    with_field,
)

__all__ = ["BUDGET", "Lookup", "analyze", "analyze_function", "guard_value", "settled"]


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
# a Symfony request's parameter bags: $request->request (POST), ->query (GET), ->cookies: the request still
_BAGS = frozenset(("request", "query", "cookies", "attributes", "files"))
_IDENT = re.compile(r"[A-Za-z_]\w*")
_TYPING = frozenset(
    [
        "Optional",
        "List",
        "Dict",
        "Set",
        "Tuple",
        "Union",
        "Annotated",
        "Any",
        "Mapping",
        "Sequence",
        "Iterable",
        "Callable",
        "Type",
        "Literal",
        "Request",
        "HttpRequest",
        "Response",
        "Session",
        "AsyncSession",
        "BackgroundTasks",
        "WebSocket",
        "None",
    ]
)
# C++ parameter classes that hold no one's record: JSON and framework plumbing (a request is a model's source)
_CPP_NOT_DATA = frozenset(("Value", "QString", "QVariant", "QJsonObject", "Status", "Date", "Task"))
_CPP_PLUMBING = (
    "Context",
    "Callback",
    "Ptr",
    "Response",
    "Request",
    "Handler",
    "Client",
    "Connection",
    "Map",
)
_IDS = frozenset(("id", "pk"))
# parameters of a handler that are the framework's, not the request's
_NOT_INPUT = frozenset(("self", "cls", "request", "req", "info", "root", "parent", "context", "ctx", "obj"))


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


class _Function(Calls, Sinks):
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
        result.flows.extend(widen_flows(self.flows))
        result.dead += self.dead
        positional = [n for n, i in sorted(self.params.items(), key=lambda p: p[1]) if i >= 0]
        kw = self.fn.kwargs_param
        summary = Summary(
            widen_sinks(self.param_sinks.values()),
            widen(frozenset(self.returns)),
            tuple(positional),
            self.params.get(kw, -2) if kw else -2,
        )
        old = result.summaries.get(self.fn.name)
        result.summaries[self.fn.name] = summary if old is None else old.merged(summary)

    def start(self) -> None:
        fn = self.fn
        params = list(fn.params)
        self.params = {}
        if fn.method:  # Python's self / cls: the object the method is called on
            self.params[params[0][0]] = RECEIVER
            self.env[params[0][0]] = {None: _param(RECEIVER)}
            params = params[1:]
        elif self.cls and self.lang != "python":
            self.params["this"] = RECEIVER
            self.env["this"] = {None: _param(RECEIVER)}
        for i, (name, typ) in enumerate(params):
            self.params[name] = i
            self.env[name] = {None: _param(i)}
            ev = Evidence(COLLECTOR, "static", f"{self.ir.path}:{fn.line}", f"{typ or ''} {name}".strip())
            model = self.models.source_param(self.lang, typ)
            handler = None if model is not None else self.handler_source(name, typ)
            if model is not None:
                ev = Evidence(COLLECTOR, "static", f"{self.ir.path}:{fn.line}", f"{typ} {name}")
                src = Asset(model.namespace, model.name, model.field)
                self.env[name] = {None: frozenset({Label(src, (ev,), narrow=model.field is None)})}
            elif handler is not None:
                self.env[name] = {None: _param(i) | {handler}}
            else:
                label = element(self.ir.path, name, self.cls or "", ev)
                if label is None and self.lang != "hack":
                    label = self.typed_source(name, typ, ev)
                if label is not None:  # a parameter named as personal data: a source even with no caller
                    self.env[name] = {None: _param(i) | {label}}

    def typed_source(self, name: str, typ: str | None, ev: Evidence) -> Label | None:
        """``user_in: UserCreate``: a value of a class, whose fields the whole scan knows (finish.py); it
        is a source of those that name personal data, when it is written or sent whole or read by field.
        Its class is also what made it, for an ORM write of it (``session.add(db_user)``)."""
        if not typ:
            return None
        idents = _IDENT.findall(typ)
        if self.lang == "cpp":  # const oatpp::Object<UserDto>&, std::shared_ptr<User>: the innermost class
            idents = [w for w in reversed(idents) if w not in _CPP_NOT_DATA and not w.endswith(_CPP_PLUMBING)]
        cls = next((w for w in idents if w[:1].isupper() and w not in _TYPING), None)
        if cls is None:
            return None
        self.made[name] = Call(cls)
        return Label(typed_asset(cls, self.ir.path, name), (ev,), narrow=True)

    def handler_source(self, name: str, typ: str | None) -> Label | None:
        """A parameter of a request handler (a route's ``email``, a mutation's ``input``), as a pack
        declares them by decorator or by function and parameter name: a field of the request, or the whole
        body when it is typed with a class (a pydantic or input type) rather than a plain value."""
        fn = self.fn
        if name in _NOT_INPUT or name in fn.defaults or name == fn.kwargs_param:
            return None
        model = self.models.source_handler(self.lang, fn.name, name, fn.decorators)
        if model is None:
            return None
        whole = typ is not None and typ.rpartition(".")[2][:1].isupper() and typ not in ("Optional", "List")
        field = None if whole else name
        category = request_category(field, model.classify)
        if category is None:
            return None
        ev = Evidence(COLLECTOR, "static", f"{self.ir.path}:{fn.line}", f"{typ or ''} {name}".strip())
        return Label(asset(model.namespace, model.name, field), (tagged(ev, category),), narrow=whole)

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
        self.flows = []
        self.binds = {}
        self.param_sinks = {}
        self.returns = set()
        self.dead = 0

    def statement(self, stmt: Stmt) -> None:
        self.stmt = stmt
        if self.coarse:
            self.coarse_statement(stmt)
            return
        target = stmt.target
        if target is None and type(stmt.value) is Other and self.lang == "cpp" and self.stream(stmt):
            return
        if isinstance(target, Var):
            if isinstance(stmt.value, Call):
                self.types[target.name] = stmt.value.callee
                self.made[target.name] = stmt.value
            if isinstance(stmt.value, Lit | Tmpl):  # also under a guard or in a loop (a C++ local
                self.literals[target.name] = stmt.value  # declared there): the latest literal it is given
            else:
                self.literals.pop(target.name, None)
        taint = self.eval(stmt.value)
        if stmt.is_return:
            self.returns |= hop(flatten(taint), self.evidence(stmt))
        if target is None:
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
        if self.work > BUDGET:  # read here, so a test may lower it
            raise _OverBudget
        if isinstance(target, Var) and type(stmt.value) in (Call, Sub, Var) and only_params(flatten(taint)):
            # $email = getPOSTString('email'): a local named as personal data holds it, when nothing
            # modelled says where the value came from (a literal is a constant, not someone's data)
            label = element(self.ir.path, target.name, "", self.evidence(stmt))
            if label is not None:
                taint = {**taint, None: taint.get(None, EMPTY) | {label}}
        self.assign(target, taint, strong=not stmt.guards and not stmt.in_loop)

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
        if self.coarse:  # a method wrote into its object: every variable holds everything anyway
            self.everything = merge(self.everything, flatten(taint))
            return
        path = access_path(target)
        if path is None:
            for part in walk(target) or [target]:
                if part is not target:
                    self.assign(part, {None: flatten(taint)}, strong=False)
            return
        var, key = path
        if key is None and isinstance(target, Var) and self.lang == "python" and "." in var:
            base, _, attr = var.rpartition(".")  # user.country = c: also a field of the local object user
            if base in self.env and base not in OWN:
                self.assign(Sub(Var(base), attr), taint, strong)
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
        if model is None and name.count(".") >= 2 and self.stmt is not None:
            head, _, rest = name.partition(".")  # form.email.data with form = SignupForm(): by its class
            made = self.types.get(head)
            if made:
                model = self.models.source_var(self.lang, f"{made.rpartition('.')[2]}().{rest}")
                if model is not None and model.field_part is not None:
                    return self.typed_var(name, model.field_part, model)
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

    def typed_var(self, name: str, part: int, model: SourceModel) -> Taint:
        """A field of an input object by the attribute naming it (WTForms' ``form.email.data``)."""
        parts = name.split(".")
        field = parts[part] if -len(parts) <= part < len(parts) else None
        category = request_category(field, model.classify)
        if category is None or self.stmt is None:  # form.submit.data, form.remember_me.data
            return {}
        ev = tagged(self.evidence(self.stmt), category)
        return {None: frozenset({Label(asset(model.namespace, model.name, field), (ev,))})}

    def sub(self, e: Sub) -> Taint:
        return self.read_key(e.base, self.eval(e.base), e.key)

    def sub_key(self, base: Expr, key: str | None) -> Taint:
        return self.read_key(base, self.eval(base), key)

    def read_key(self, base_expr: Expr, base: Taint, key: str | None) -> Taint:
        """Key ``key`` of a value: a field of what it holds, and a data element by its name when nothing
        modelled labels the value (``user.email`` of a parameter ``user``)."""
        if key == "__dict__" and self.lang == "python":  # obj.__dict__: every field of the object
            return base
        out = self.key_of(base, key)
        if key is not None and self.stmt is not None and only_params(flatten(base)):
            name = key.lower() if key.isupper() else key  # $_SERVER['REMOTE_ADDR']: a key, no constant
            label = element(self.ir.path, name, _qualifier(base_expr), self.evidence(self.stmt))
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
            if key in _IDS and not lb.narrow and self.lang == "python":
                continue  # user.id: the key the store gave the object, not the data put into it
            if lb.narrow and not lb.masked:
                if key in _BAGS and self.lang == "hack":  # Symfony's $request->request->get('email')
                    out.add(lb)
                    continue
                hops = lb.hops
                if lb.source.namespace != PARAM_NS:
                    typed = lb.source.namespace.startswith(TYPED)  # only a personal field of a typed value
                    if self.lang == "cpp" and not typed and lb.source.field is None and request_record(key):
                        out.add(request_part(lb, key))  # crow::json::load(req.body)["email"], json["user"]
                        continue
                    category = (
                        classify(key)
                        if typed
                        else request_category(
                            key, self.models.classifies(lb.source.namespace, lb.source.name)
                        )
                    )
                    if category is None:  # request.POST["page"]
                        continue
                    hops = (tagged(hops[0], category), *hops[1:]) if hops else hops
                out.add(Label(with_field(lb.source, key), hops, lb.masked, lb.transformed, False, lb.opaque))
            else:
                out.add(lb)
        return {None: frozenset(out)} if out else {}
