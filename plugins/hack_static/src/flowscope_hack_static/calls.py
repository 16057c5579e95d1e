"""What a call does with the data it is given.

In order: a modelled sink, a masking function, a source, a call whose result carries no data (``len``,
``count``, ``isinstance``), a propagator, a function with a summary; then what methods commonly mean when
nothing models them: ``obj.clear()`` empties ``obj``, ``d.pop("k")`` takes key ``k`` out, a setter
(``user.setEmail(x)``, ``$b->setEmail($x)``) writes a field and returns its object (builders), a getter
reads one (``u.getValueOfEmail()``; in C++ any accessor of a request message, ``request->username()``), and
any other method called with data puts that data into its object (``parts.append(x)``,
``$mail->addTo($email)``). Everything else passes its arguments' labels on, marked as transformed.
"""

from __future__ import annotations

import re

from flowscope_hack_static.classify import classify, words
from flowscope_hack_static.elements import request_category, request_record, tagged
from flowscope_hack_static.frame import OWN, Frame
from flowscope_hack_static.ir import BOOLEAN_OPS, Call, Expr, Lit, Stmt, Sub, Var, access_path
from flowscope_hack_static.taint import (
    EMPTY,
    OPAQUE_MAX,
    PARAM_NS,
    RECEIVER,
    Label,
    Summary,
    Taint,
    asset,
    flatten,
    guards_of,
    mark,
    merge,
)

_SETTER = re.compile(r"^set_?[A-Za-z]")
# methods that look something up: what they are given does not go into their object
_LOOKUP = re.compile(
    r"^(?:get|find|has|is|count|contains|exists|index|lookup|retrieve|check|verify|compare|match|search|validate|"
    r"starts|ends|filter|select|where|query|read|fetch|load|format|encode|decode|to|as)",
    re.I,
)
# ... except those that name what they make of their argument (``Util::getTrimmed(s)``, ``get_lower(x)``)
_TRANSFORMS = re.compile(
    r"^(?:get|to|as)_?(?:trimmed|trim|stripped|lower|upper|lowercase|uppercase|escaped|sanitized|normalized|"
    r"cleaned|clean|encoded|utf8|string|str)(?:[A-Z_]|$)",
    re.I,
)
_BINDS = frozenset(("bindValue", "bindParam"))  # PDO: $stmt->bindValue(':email', $email)
_POPS = frozenset(("pop", "remove", "erase", "discard", "unset"))
# ORM queries: ``User.objects.get(email=e)``, ``Users.query.filter_by(email=e)`` return stored records
_QUERIES = frozenset(("get", "filter", "filter_by", "where", "exclude", "get_or_404", "first_or_404"))


# a framework's own function (django.contrib.auth.login) is none of the scanned code's of that name
_FRAMEWORKS = tuple(
    f"{m}."
    for m in ("django", "flask", "fastapi", "starlette", "werkzeug", "sqlalchemy", "celery", "pydantic")
)


def _is_class(callee: str) -> bool:
    """A constructor call by the convention of the language: ``Users(...)``, ``models.User(...)``."""
    last = callee.rpartition(".")[2]
    return last[:1].isupper() and not last.isupper() and "(" not in callee


def chain_root(recv: Expr) -> Expr:
    """The object a chain of method calls starts from: ``$mail`` of ``$mail->addTo($e)->setFrom($f)``."""
    while isinstance(recv, Call) and recv.receiver is not None:
        recv = recv.receiver
    return recv


def method_of(callee: str) -> str:
    return callee.rpartition(".")[2].rpartition(">")[2].rpartition(":")[2]


class Calls(Frame):
    def typed(self, e: Call) -> str:
        """``kv.setex`` where ``kv = redis.Redis()``: ``redis.Redis.setex``, so packs match by the class."""
        if isinstance(e.receiver, Var):
            made = self.types.get(e.receiver.name) or self.ir.types.get(e.receiver.name)
            if made:
                return f"{made}.{method_of(e.callee)}"
        return e.callee

    def call(self, e: Call) -> Taint:
        args = list(map(self.eval, e.args))
        if e.callee in BOOLEAN_OPS:  # a == b, x is None, not y: a boolean, no data of its operands
            return {}
        kwargs = {k: self.eval(v) for k, v in e.kwargs} if e.kwargs else {}
        stmt = self.stmt
        assert stmt is not None
        # by its text and by its receiver's class (kv = redis.Redis(); kv.set(...) is redis.Redis.set)
        typed = self.typed(e)
        names = (typed, e.callee) if typed != e.callee else (e.callee,)
        sink, masks, source, prop = self.models.classify(self.lang, *names)
        # a stream's head called with arguments (LOG_INFO("fmt", x)) is a logger call too
        if sink is not None and (not sink.stream or e.args) and self.sink(e, sink, args, kwargs, stmt):
            return {}
        recv = e.receiver
        own = isinstance(recv, Var) and recv.name in OWN
        recv_t = self.eval(recv) if recv is not None else {}
        flat: frozenset[Label] = frozenset()
        for t in args:
            if t:
                flat = flat.union(*t.values())
        for t in kwargs.values():
            if t:
                flat = flat.union(*t.values())
        if masks:
            if recv is not None and not own:  # hashlib.sha256(x).hexdigest()
                flat |= flatten(recv_t)
            return {None: mark(flat, masked=True, transformed=True, narrow=False)}
        if source is not None:
            return self.source(e, source)
        if prop is not None:
            if prop.transformation == "NONE":  # len(x), x.count(), isinstance(x, T): no data of x
                return {}
            if prop.out_arg is not None and prop.out_arg < len(e.args):  # reader.parse(text, root)
                data = EMPTY
                for i, t in enumerate(args):
                    if i != prop.out_arg:
                        data = merge(data, flatten(t))
                if prop.receiver and not own:
                    data = merge(data, flatten(recv_t))
                self.assign(e.args[prop.out_arg], {None: data}, strong=self.strong())
                return {}
        summary = None if e.callee.startswith(_FRAMEWORKS) else self.lookup(self.cls, e.callee)
        method = method_of(e.callee)
        if summary is not None:
            out = self.apply(summary, e, args, kwargs, recv_t, stmt)
            if self.lang == "hack" and isinstance(recv, Var) and not own and _SETTER.match(method):
                # $member->setEmail($e) of a declared entity: what its summary returns, and $member's email
                self.method(e, method, recv, recv_t, args, True)
            if out or recv is None or own or summary.sinks:
                return out
            # a model's own setter or getter whose member the analysis does not follow (C++ firstName_)
            return self.method(e, method, recv, recv_t, args, prop is None) or {}
        if recv is not None and not own:
            done = self.method(e, method, recv, recv_t, args, prop is None)
            if done is not None:
                return done
        if prop is not None and prop.key_arg is not None and prop.key_arg < len(e.args):
            key = e.args[prop.key_arg]
            base = recv_t if prop.receiver and recv is not None else (args[0] if args else {})
            if self.lang == "cpp" and prop.receiver and recv is not None:  # form.at("email") as form["email"]
                return self.read_key(recv, base, key.value if isinstance(key, Lit) else None)
            return self.key_of(base, key.value if isinstance(key, Lit) else None)
        identity = prop is not None and prop.receiver and prop.transformation == "IDENTITY"
        if identity and recv is not None and not own and not e.args and not e.kwargs:
            return recv_t  # $map->toArray(): the same value, keyed as it was
        if (prop is None and _LOOKUP.match(method) and not e.kwargs and not _TRANSFORMS.match(method)) or (
            method in _QUERIES and e.kwargs
        ):
            flat = EMPTY  # get_user_stats(username), filter_by(email=e): what is stored, not the arguments
        elif prop is None and self.lang == "python" and (".objects." in e.callee or ".query." in e.callee):
            flat = EMPTY  # Profile.objects.for_user(user), User.query.first(): stored records
        if (prop is None or prop.receiver) and recv is not None and not own:  # a method of a tainted value
            flat |= flatten(recv_t)
        if prop is not None and prop.transformation == "IDENTITY":
            return {None: flat}
        if prop is None and self.lang == "python" and e.kwargs and _is_class(e.callee):
            held = {k for k, v in e.kwargs if self.instance(v)}  # Project(owner=user): user's key only
            return self.construct(args, {k: t for k, t in kwargs.items() if k not in held})
        if prop is not None:
            return {None: mark(flat, transformed=True)} if flat else {}
        return {None: mark(flat, transformed=True, opaque=1)} if flat else {}  # nothing models it

    def construct(self, args: list[Taint], kwargs: dict[str, Taint]) -> Taint:
        """``Users(name=n, email=e)``: an object whose fields are its keyword arguments, so ``user.name``
        is ``n`` alone and ``user.id`` none of them (positional arguments: the object as a whole)."""
        out: dict[str | None, frozenset[Label]] = {k: flatten(t) for k, t in kwargs.items() if t}
        whole = EMPTY
        for t in args:
            whole = merge(whole, flatten(t))
        if whole:
            out[None] = mark(whole, transformed=True, opaque=1)
        return out

    def source(self, e: Call, source: object) -> Taint:
        from flowscope_hack_static.packs import SourceModel

        assert isinstance(source, SourceModel) and self.stmt is not None
        fld = source.field
        if source.field_arg is not None and source.field_arg < len(e.args):
            arg = e.args[source.field_arg]
            fld = arg.value if isinstance(arg, Lit) else fld
        category = request_category(fld, source.classify)
        if category is None:  # request.GET.get("page"): about the request, not a person
            return {}
        ev = tagged(self.evidence(self.stmt), category) if fld is not None else self.evidence(self.stmt)
        label = Label(asset(source.namespace, source.name, fld), (ev,), narrow=fld is None)
        return {None: frozenset({label})}

    def method(
        self, e: Call, method: str, recv: Expr, recv_t: Taint, args: list[Taint], unmodelled: bool
    ) -> Taint | None:
        """What an unmodelled method means for its object (None: nothing special, the caller decides)."""
        local = isinstance(recv, Var) and recv.name in self.env  # a variable of this function, no module
        into = recv  # where data given to the method goes
        if not local and self.lang == "hack" and isinstance(recv, Call):
            root = chain_root(recv)  # Hack builders: $mail->addTo($e)->addSubstitution('%n%', $n) fill $mail
            if isinstance(root, Var) and root.name in self.env and root.name not in OWN:
                into = root
        if local and method == "clear" and not e.args:
            if self.strong():
                self.env[recv.name] = {}  # type: ignore[union-attr]
            return {}
        if local and method in _POPS and e.args and isinstance(e.args[0], Lit) and e.args[0].value:
            key = e.args[0].value
            out = self.key_of(recv_t, key)
            if self.strong():  # the key holds nothing now: a whole value no longer covers it
                self.env[recv.name] = {**recv_t, key: EMPTY}  # type: ignore[union-attr]
            return out if method == "pop" else {}
        if not unmodelled:
            return None
        if local and method in _BINDS and len(e.args) >= 2 and isinstance(e.args[0], Lit) and e.args[0].value:
            self.assign(Sub(recv, e.args[0].value.lstrip(":")), {None: flatten(args[1])}, strong=False)
            return {}
        if len(e.args) == 1 and not e.kwargs and method != "set" and _SETTER.match(method):
            field = "_".join(words(method))
            if field:  # user.setEmail(x): the field; $b->setEmail($x)->save(): the builder carries it
                value = flatten(args[0])
                if access_path(into) is not None or isinstance(into, Sub):
                    self.assign(Sub(into, field), {None: value}, strong=self.strong() and into is recv)
                out = dict(recv_t)
                out[field] = merge(out.get(field, EMPTY), value)
                return out
        if not e.args:
            if method.startswith("get") and len(method) > 3:  # user.getValueOfEmail(), $u->getEmail()
                return self.read_key(recv, recv_t, "_".join(words(method)) or method)
            if self.lang == "cpp" and any(lb.narrow for lb in flatten(recv_t)):
                field = "_".join(words(method)) or method  # request->email(), not req->path()
                if request_record(field):  # Pistache's request.body(), gRPC's request->user(): narrowed next
                    return self.key_of(recv_t, field)
                return self.read_key(recv, recv_t, field) if classify(field) else {}
            return None
        if (local or into is not recv) and not _LOOKUP.match(method):  # parts.append(x), $mail->addTo($e)
            data = EMPTY
            for t in args:
                data = merge(data, flatten(t))
            if data:
                self.assign(into, {None: mark(data, transformed=True)}, strong=False)
        return None

    def apply(
        self,
        summary: Summary,
        e: Call,
        args: list[Taint],
        kwargs: dict[str, Taint],
        recv_t: Taint,
        stmt: Stmt,
    ) -> Taint:
        """A call of a function with a summary: its parameter sinks fire with the arguments' labels.

        Keyword arguments go to the parameters of their names (the rest into ``**kwargs``), and the object a
        method is called on is its ``RECEIVER``."""
        positional = list(args)
        extra: dict[str | None, frozenset[Label]] = {}
        for k, kt in kwargs.items():
            if k in summary.params:
                i = summary.params.index(k)
                positional += [{}] * (i + 1 - len(positional))
                have = positional[i]
                positional[i] = {key: merge(have.get(key, EMPTY), kt.get(key, EMPTY)) for key in {*have, *kt}}
            elif summary.kwargs >= 0:
                extra[k] = merge(extra.get(k, EMPTY), flatten(kt))
        if extra:
            positional += [{}] * (summary.kwargs + 1 - len(positional))
            positional[summary.kwargs] = extra

        def given(i: int) -> Taint | None:
            if i == RECEIVER:
                return recv_t
            return positional[i] if 0 <= i < len(positional) else None

        ev = self.evidence(stmt)
        dead = self.dead_here(stmt)
        # a summary has many entries per parameter and key (one per sink): each key read once per call
        reads: dict[tuple[int, str | None], frozenset[Label]] = {}
        for ps in summary.sinks:
            t = given(ps.param)
            if t is None:
                continue
            target = self.param_name(ps.target, e)
            labels = reads.get((ps.param, ps.field))
            if labels is None:
                labels = reads[(ps.param, ps.field)] = flatten(self.key_of(t, ps.field))
            if not labels:
                continue
            guards = guards_of(stmt.guards, ps.guards)
            unresolved = ps.unresolved and "unresolved:" in target.name
            for lb in labels:
                if ps.opaque or lb.opaque > OPAQUE_MAX:
                    opaque = min(lb.opaque + ps.opaque, OPAQUE_MAX)
                    lb = Label(lb.source, lb.hops, lb.masked, lb.transformed, lb.narrow, opaque)
                self.emit(
                    lb,
                    target,
                    (*lb.hops, ev, *ps.hops),
                    lb.masked or ps.masked,
                    lb.transformed or ps.transformed,
                    guards,
                    unresolved,
                    dead,
                )
        out: set[Label] = set()
        for ret in summary.returns:
            if ret.source.namespace != PARAM_NS:
                out.add(ret._replace(hops=(ev, *ret.hops)))
                continue
            t = given(int(ret.source.name))
            if t is None:
                continue
            for lb in flatten(self.key_of(t, ret.source.field)):
                out.add(
                    lb._replace(
                        masked=lb.masked or ret.masked,
                        transformed=lb.transformed or ret.transformed,
                        opaque=min(lb.opaque + ret.opaque, OPAQUE_MAX),
                    )
                )
        return {None: frozenset(out)} if out else {}
