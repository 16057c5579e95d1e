"""Python front end on libcst: lowers a module to the IR without importing or running it.

libcst's import-alias tracking maps ``import requests as rq`` / ``from flask import request as req`` back to
the names model packs use. Lines come from the standard library's ``ast`` (a C parser, far cheaper than
libcst's ``PositionProvider``, which re-generates the whole file's code): both parsers see the same statements
in the same order, so :mod:`pylines` pairs them up. When they disagree (syntax one of them reads differently),
the file falls back to ``PositionProvider``. Only files the collector's textual prefilter flagged as
mentioning a source or a sink are parsed at all.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from flowscope_hack_static.finish import AUTH_USER, DJANGO_DEFAULT
from flowscope_hack_static.ir import Call, DictLit, Expr, FileIR, Function, Lit, Other, Stmt, Sub, Tmpl, Var
from flowscope_hack_static.pylines import statement_lines
from flowscope_hack_static.pymodels import ModelFacts, _dotted


class PyParseError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def lower(source: str, path: str) -> FileIR:
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise PyParseError(exc.raw_line, exc.message) from None
    lines = statement_lines(module, source)
    if lines is None:  # the two parsers disagree: pay for libcst's own positions
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
        lines = {id(node): pos.start.line for node, pos in positions.items()}
        module = wrapper.module
    return _Lowering(module, lines, source, path).run()


class _Lowering(ModelFacts):
    def __init__(self, module: cst.Module, lines: dict[int, int], source: str, path: str) -> None:
        self.module, self.positions = module, lines
        self.ir = FileIR(path, "python")
        self.aliases: dict[str, str] = {}
        self.django: set[str] = set()  # the file's Django models, so their subclasses are models too
        self.sqla: dict[str, str] = {}  # the file's SQLAlchemy models and their tables (for subclasses)
        self.calls: list[str] = []  # the current function's
        self.lines = source.splitlines()

    def line(self, node: cst.CSTNode) -> int:
        return self.positions.get(id(node), 0)

    def snippet(self, node: cst.CSTNode) -> str:
        n = self.line(node)
        return self.lines[n - 1].strip()[:160] if 0 < n <= len(self.lines) else ""

    def run(self) -> FileIR:
        # logging.getLogger(__name__) names the logger after the module: its dotted path
        module = self.ir.path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        self.ir.constants["__name__"] = module.lstrip(".") or "__main__"
        for stmt in self.module.body:
            self._top(stmt, None)
        if any(full.startswith("django.") for full in self.aliases.values()):
            # a model imported from an app's models module (from hc.api.models import Channel), should the
            # scan not declare it: Django's default table, <app>_<model>
            for local, full in self.aliases.items():
                parts = full.split(".")
                if len(parts) >= 3 and parts[-2] == "models" and local[:1].isupper():
                    self.ir.tables[f"{parts[-1]}{DJANGO_DEFAULT}"] = f"{parts[-3]}_{parts[-1].lower()}"
        return self.ir

    def _top(self, node: cst.CSTNode, cls: str | None) -> None:
        if isinstance(node, cst.FunctionDef):
            name = f"{cls}.{node.name.value}" if cls else node.name.value
            declared = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
            star = node.params.star_kwarg
            if star is not None:  # f(**kwargs): keyword arguments no other parameter takes land in it
                declared.append(star)
            params = tuple(
                (p.name.value, self.module.code_for_node(p.annotation.annotation) if p.annotation else None)
                for p in declared
            )
            static = any(_dotted(d.decorator) == "staticmethod" for d in node.decorators)
            fn = Function(
                name,
                self.line(node),
                params,
                decorators=tuple(self._decorator(d.decorator) for d in node.decorators),
                method=bool(cls) and not static and bool(params) and params[0][0] in ("self", "cls"),
                kwargs_param=star.name.value if star is not None else None,
                defaults=tuple(
                    p.name.value for p in declared if p.default is not None and self._is_dependency(p.default)
                ),
            )
            saved, self.calls = self.calls, fn.calls
            self._block(node.body, fn, (), False)
            self.calls = saved
            self.ir.functions.append(fn)
        elif isinstance(node, cst.ClassDef):
            self._table_of_class(node)
            self._fields_of_class(node)
            self._hashed_columns(node)
            for item in node.body.body:
                self._top(item, node.name.value)
            self._generic_edit_view(node)
        elif isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self._module_small(small)
        elif isinstance(node, cst.If | cst.Try):  # `try: import x` and `if TYPE_CHECKING:` blocks
            for child in node.body.body:
                self._top(child, cls)

    def _decorator(self, node: cst.BaseExpression) -> str:
        """``@app.route("/x")`` -> ``app.route``; ``@strawberry.mutation`` -> ``strawberry.mutation``."""
        target = node.func if isinstance(node, cst.Call) else node
        dotted = _dotted(target)
        return self._name(dotted) if dotted else ""

    def _is_dependency(self, default: cst.BaseExpression) -> bool:
        """``db: Session = Depends(get_db)``: a value the framework injects, not request data."""
        return isinstance(default, cst.Call) and (_dotted(default.func) or "").rpartition(".")[2] in (
            "Depends",
            "Security",
        )

    def _module_small(self, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, cst.Import):
            for a in small.names:
                full = _dotted(a.name) or ""
                local = (
                    a.asname.name.value
                    if a.asname and isinstance(a.asname.name, cst.Name)
                    else full.split(".")[0]
                )
                self.aliases[local] = full if a.asname else local
        elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
            mod = _dotted(small.module) if small.module else ""
            for a in small.names:
                name = _dotted(a.name) or ""
                local = a.asname.name.value if a.asname and isinstance(a.asname.name, cst.Name) else name
                # framework objects keep their short name (request, logging): packs match those
                self.aliases[local] = (
                    name
                    if mod in ("flask", "django.http", "fastapi", "starlette.requests")
                    else f"{mod}.{name}"
                )
        elif isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            if isinstance(target, cst.Name):
                value = small.value
                if isinstance(value, cst.Call) and _dotted(value.func):
                    made = self._name(str(_dotted(value.func)))
                    self.ir.types[target.value] = made
                    if made.rpartition(".")[2] == "get_user_model":  # User = get_user_model()
                        self.ir.tables[target.value + AUTH_USER] = "1"
                    if value.args:  # its arguments: the servers of KafkaProducer(...) or Producer({...})
                        call = self.expr(value)
                        if isinstance(call, Call):
                            self.ir.made[target.value] = call
                    first = value.args[0].value if value.args else None
                    if made.rpartition(".")[2] == "Table" and isinstance(first, cst.SimpleString):
                        self.ir.tables[target.value] = str(
                            first.evaluated_value
                        )  # users = Table("users", ...)
                if isinstance(value, cst.Name) and value.value in ("True", "False"):
                    self.ir.constants[target.value] = value.value == "True"
                elif isinstance(value, cst.SimpleString):
                    self.ir.constants[target.value] = str(value.evaluated_value)

    # -- statements -----------------------------------------------------------------------------------
    def _block(
        self, block: cst.BaseSuite | cst.CSTNode, fn: Function, guards: tuple[str, ...], loop: bool
    ) -> None:
        body = getattr(block, "body", ())
        for stmt in body if isinstance(body, list | tuple) else ():
            self._stmt(stmt, fn, guards, loop)
            if isinstance(stmt, cst.SimpleStatementLine) and any(
                isinstance(s, cst.Return | cst.Raise) for s in stmt.body
            ):
                break  # return, raise: the rest of the block does not run

    def _stmt(self, node: cst.CSTNode, fn: Function, guards: tuple[str, ...], loop: bool) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self._small(small, node, fn, guards, loop)
        elif isinstance(node, cst.If):
            text = " ".join(self.module.code_for_node(node.test).split())
            fn.body.append(
                Stmt(self.expr(node.test), self.line(node), self.snippet(node), None, guards, in_loop=loop)
            )
            self._block(node.body, fn, (*guards, text), loop)
            if node.orelse is not None:
                other = node.orelse
                if isinstance(other, cst.If):
                    self._stmt(other, fn, (*guards, f"not ({text})"), loop)
                else:
                    self._block(other.body, fn, (*guards, f"not ({text})"), loop)
        elif isinstance(node, cst.For):
            fn.body.append(
                Stmt(
                    self.expr(node.iter),
                    self.line(node),
                    self.snippet(node),
                    self.expr(node.target),
                    guards,
                    in_loop=True,
                )
            )
            self._block(node.body, fn, guards, True)
        elif isinstance(node, cst.While):
            self._block(node.body, fn, guards, True)
        elif isinstance(node, cst.With):
            for item in node.items:
                if item.asname is not None:
                    target = self.expr(item.asname.name)
                    fn.body.append(
                        Stmt(
                            self.expr(item.item),
                            self.line(node),
                            self.snippet(node),
                            target,
                            guards,
                            in_loop=loop,
                        )
                    )
            self._block(node.body, fn, guards, loop)
        elif isinstance(node, cst.Try):
            self._block(node.body, fn, guards, loop)
            for handler in node.handlers:
                self._block(handler.body, fn, guards, loop)
            if node.finalbody is not None:
                self._block(node.finalbody.body, fn, guards, loop)

    def _small(
        self,
        small: cst.BaseSmallStatement,
        line: cst.CSTNode,
        fn: Function,
        guards: tuple[str, ...],
        loop: bool,
    ) -> None:
        n, snip = self.line(line), self.snippet(line)
        if isinstance(small, cst.Assign):
            value = self.expr(small.value)
            for t in small.targets:
                fn.body.append(Stmt(value, n, snip, self.expr(t.target), guards, in_loop=loop))
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            fn.body.append(
                Stmt(self.expr(small.value), n, snip, self.expr(small.target), guards, in_loop=loop)
            )
        elif isinstance(small, cst.AugAssign):
            target = self.expr(small.target)
            fn.body.append(
                Stmt(Other((target, self.expr(small.value))), n, snip, target, guards, in_loop=loop)
            )
        elif isinstance(small, cst.Expr):
            fn.body.append(Stmt(self.expr(small.value), n, snip, None, guards, in_loop=loop))
        elif isinstance(small, cst.Return):
            value = self.expr(small.value) if small.value is not None else Lit(None)
            fn.body.append(Stmt(value, n, snip, None, guards, True, loop))
        elif isinstance(small, cst.Raise):  # like a return: what follows in its block does not run
            fn.body.append(Stmt(Lit(None), n, snip, None, guards, True, loop))
        elif isinstance(small, cst.Del):  # del d["k"]: the key holds nothing any more
            dels = small.target
            for el in [e.value for e in dels.elements] if isinstance(dels, cst.Tuple) else [dels]:
                if isinstance(el, cst.BaseExpression):
                    fn.body.append(Stmt(Lit(None), n, snip, self.expr(el), guards, in_loop=loop))

    # -- expressions ----------------------------------------------------------------------------------
    def _name(self, dotted: str) -> str:
        head, dot, rest = dotted.partition(".")
        return self.aliases.get(head, head) + dot + rest

    def expr(self, node: cst.BaseExpression) -> Expr:
        if isinstance(node, cst.Name):
            return Lit(None) if node.value in ("True", "False", "None") else Var(self._name(node.value))
        if isinstance(node, cst.Attribute):
            dotted = _dotted(node)
            return Var(self._name(dotted)) if dotted else Sub(self.expr(node.value), node.attr.value)
        if isinstance(node, cst.Subscript):
            key = None
            if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
                k = node.slice[0].slice.value
                key = str(k.evaluated_value) if isinstance(k, cst.SimpleString) else None
            return Sub(self.expr(node.value), key)
        if isinstance(node, cst.SimpleString):
            v = node.evaluated_value
            return Lit(v if isinstance(v, str) else None)
        if isinstance(node, cst.FormattedString):
            parts: list[str | Expr] = []
            for p in node.parts:
                parts.append(p.value if isinstance(p, cst.FormattedStringText) else self.expr(p.expression))  # type: ignore[attr-defined]
            return Tmpl(tuple(parts))
        if isinstance(node, cst.ConcatenatedString):
            return Tmpl((*_parts(self.expr(node.left)), *_parts(self.expr(node.right))))
        if isinstance(node, cst.BinaryOperation):
            left, right = self.expr(node.left), self.expr(node.right)
            if isinstance(node.operator, cst.Add | cst.Modulo) and (
                isinstance(left, Lit | Tmpl) or isinstance(right, Lit | Tmpl)
            ):
                return Tmpl((*_parts(left), *_parts(right)))
            return Other((left, right))
        if isinstance(node, cst.Call):
            return self._call(node)
        if isinstance(node, cst.Comparison):  # ``x is None``, ``email in seen``: a boolean, no data
            operands = (node.left, *(c.comparator for c in node.comparisons))
            return Call("==", tuple(self.expr(o) for o in operands))
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return Call("not", (self.expr(node.expression),))
        if isinstance(node, cst.Dict):
            entries: list[tuple[str | None, Expr]] = []
            for el in node.elements:
                if isinstance(el, cst.DictElement):
                    k = el.key
                    entries.append(
                        (
                            str(k.evaluated_value) if isinstance(k, cst.SimpleString) else None,
                            self.expr(el.value),
                        )
                    )
                else:
                    entries.append((None, self.expr(el.value)))
            return DictLit(tuple(entries))
        if isinstance(node, cst.Tuple | cst.List | cst.Set):
            return DictLit(tuple((None, self.expr(el.value)) for el in node.elements))
        if isinstance(node, cst.Await):
            return self.expr(node.expression)
        if isinstance(node, cst.Integer | cst.Float | cst.Imaginary):
            return Lit(None)
        if isinstance(node, cst.Lambda):
            return Other()
        return Other(tuple(self.expr(c) for c in node.children if isinstance(c, cst.BaseExpression)))

    def _call(self, node: cst.Call) -> Expr:
        dotted = _dotted(node.func)
        callee = self._name(dotted) if dotted else "".join(self.module.code_for_node(node.func).split())
        # f(*args, **kwargs) passes what they hold: last, as positional arguments
        args = tuple(self.expr(a.value) for a in node.args if a.keyword is None and not a.star)
        args += tuple(self.expr(a.value) for a in node.args if a.star)
        kwargs = tuple((a.keyword.value, self.expr(a.value)) for a in node.args if a.keyword is not None)
        if callee == "dict" and kwargs and not args:
            return DictLit(tuple((k, v) for k, v in kwargs))
        receiver = self.expr(node.func.value) if isinstance(node.func, cst.Attribute) else None
        self.calls.append(callee)
        return Call(callee, args, kwargs, receiver)


def _parts(e: Expr) -> tuple[str | Expr, ...]:
    if isinstance(e, Tmpl):
        return e.parts
    if isinstance(e, Lit) and e.value is not None:
        return (e.value,)
    return (e,)
