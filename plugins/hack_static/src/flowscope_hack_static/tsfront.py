"""Hack and C++ front ends on tree-sitter (the grammars bundled in tree-sitter-languages 1.10.2).

Both grammars recover from what they cannot parse by wrapping it in ERROR nodes; real Hack with old syntax and
C++ full of macros produce many. We keep every statement outside those regions, count the regions per file,
and when a function's own header ends up inside an ERROR node (a macro before it, say) we still read the
statements that follow the header, so the flows that can be seen are not lost.
"""

from __future__ import annotations

import os
import re
import warnings
from functools import cache
from typing import Any

from flowscope_hack_static.cpplambdas import lower_lambdas
from flowscope_hack_static.hackorm import entity_table
from flowscope_hack_static.ir import (
    BOOLEAN_OPS,
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
)
from flowscope_hack_static.oatppendpoints import endpoints
from flowscope_hack_static.tsnodes import (
    Node,
    children,
    find,
    first_child,
    flatten_concat,
    pairs,
    strip_parens,
    tmpl_parts,
)

_FUNCTIONS = {
    "hack": ("method_declaration", "function_declaration"),
    "cpp": ("function_definition",),
}
_CLASSES = (
    "class_declaration",
    "class_specifier",
    "struct_specifier",
    "interface_declaration",
    "trait_declaration",
)
_LOOPS = ("foreach_statement", "for_statement", "while_statement", "do_statement", "for_range_loop")
# statements holding statements: their children are lowered as a block
_BLOCKS = frozenset(
    (
        "compound_statement",
        "ERROR",
        "else_clause",
        "declaration_list",
        "try_statement",
        "catch_clause",
        "finally_clause",
        "switch_statement",
        "switch_case",
        "switch_default",
        "case_statement",
        "labeled_statement",
    )
)
_RETURNS = frozenset(("return_statement", "co_return_statement"))
_ENDS = frozenset(("return_statement", "co_return_statement", "throw_statement"))  # nothing after runs
# C++ declarations of a class's value: ``Users user;``, ``Mapper<Users> mp(db);``, ``std::string s{"a"};``
_CLASS_TYPES = frozenset(("type_identifier", "qualified_identifier", "template_type"))
_ASSIGN_OPS = frozenset(("=", ".=", "+=", "??=", "|="))
_ASSIGNS = frozenset(("binary_expression", "assignment_expression"))
_UNWRAP = frozenset(("prefix_unary_expression", "await_expression", "parenthesized_expression"))
_VARS = frozenset(
    ("variable", "identifier", "field_identifier", "this", "qualified_identifier", "scoped_identifier")
)
_WRAPPERS = frozenset(
    (
        "parenthesized_expression",
        "prefix_unary_expression",
        "await_expression",
        "argument",
        "pointer_expression",
        "cast_expression",
        "condition_clause",
        "reference_declarator",  # C++ const std::string& name = ...: the name
        "pointer_declarator",
    )
)
_ARRAYS = frozenset(("array", "collection", "shape"))  # Hack's Map {...} and shape(...) are dict literals
_ELEMENTS = frozenset(("element_initializer", "field_initializer"))
_STRINGS = frozenset(("string", "string_literal", "raw_string_literal", "heredoc", "concatenated_string"))
_LITERALS = frozenset(("true", "false", "null", "integer", "float", "number_literal", "nullptr"))
_IR_CLASSES = (Var, Sub, Lit, Call, DictLit, Tmpl, Other, Stmt)  # in the order _lower.c takes them
_INTERP = re.compile(r"\{?\$(\w+)(?:->(\w+)|\[['\"]?(\w+)['\"]?\])?\}?")


@cache
def _callee(text: str) -> str:
    """The callee's text without blanks and ``$`` (the same few texts recur in every file)."""
    return "".join(text.split()).replace("$", "")


@cache
def parser(language: str) -> Any:
    """A parser for ``hack`` or ``cpp`` (the bundle's loader warns about an API it still uses)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from tree_sitter_languages import get_parser

        return get_parser(language)


def lower(source: bytes, path: str, language: str, tree: Any = None, native: bool | None = None) -> FileIR:
    """``source``'s IR (``tree``: its tree-sitter tree, if it was parsed already). Statements and expressions
    are lowered by the C twin of this module (``_lower.c``) when it is built and usable (``native=False``:
    never); files, classes and function headers always here."""
    original = source
    if language == "cpp" and b"ENDPOINT" in source:  # oatpp's controller macros, as method headers
        source = endpoints(source)
    if tree is None or source is not original:
        tree = parser(language).parse(source)
    lowering = _Lowering(source, path, language)
    if source is not original:  # evidence quotes the code as written
        lowering.lines = original.decode("utf-8", "replace").splitlines()
    if native is not False:
        lowering.use_native(tree.root_node)
    ir = lowering.run(tree.root_node)
    if language == "cpp":
        lower_lambdas(lowering, tree.root_node, source)
    if language == "cpp" and b"QUERY" in source:
        ir.functions.extend(declared_queries(source.decode("utf-8", "replace"), path))
    return ir


_NOTE = r"(?://[^\n]*\n\s*)*"  # line comments between a QUERY's items
_QUERY = re.compile(
    r"\bQUERY\s*\(\s*(\w+)\s*,((?:\s*\"(?:[^\"\\\n]|\\.)*\")+)\s*((?:,\s*"
    + _NOTE
    + r"(?:PREPARE\s*\([^()]*\)|PARAM\s*\([^()]*(?:<[^()]*>)?[^()]*\))\s*"
    + _NOTE
    + r")*)\)"
)
_PARAM = re.compile(r"PARAM\s*\((?:[^(),]|<[^()]*>)*,\s*(\w+)\s*\)")
_NAMED = re.compile(r"(?<![:\w]):(\w+)(?:\.(\w+))?")
_CLASS = re.compile(r"\bclass\s+(\w+)[^;{]*\{")


def declared_queries(text: str, path: str) -> list[Function]:
    """oatpp's DbClient declares its queries by macro: ``QUERY(createUser, "INSERT INTO AppUser (email)
    VALUES (:user.email)", PARAM(oatpp::Object<UserDto>, user))``. Each becomes a method of its class whose
    body runs the statement with the named parameters in order (``user.email``), so a call of
    ``m_database->createUser(dto)`` writes the DTO's fields into the table's columns."""
    out = []
    for m in _QUERY.finditer(text):
        name, literals, params = m.group(1), m.group(2), m.group(3)
        sql = "".join(re.findall(r'"((?:[^"\\\n]|\\.)*)"', literals))
        names = _PARAM.findall(params)
        owner = None
        for c in _CLASS.finditer(text, 0, m.start()):
            owner = c.group(1)
        line = text.count("\n", 0, m.start()) + 1
        values: list[Expr] = [Lit(sql)]
        for var, key in _NAMED.findall(sql):
            if var in names:
                values.append(Sub(Var(var), key) if key else Var(var))
        fn = Function(f"{owner}.{name}" if owner else name, line, tuple((n, None) for n in names))
        fn.body.append(Stmt(Call("oatpp::QUERY", tuple(values)), line, f"QUERY({name}, ...)"))
        fn.calls.append("oatpp::QUERY")
        out.append(fn)
    return out


_CALLEES: dict[str, str] = {}  # the C lowering's cache of normalized callee texts, as _callee's


@cache
def _native_module() -> Any:
    """The C lowering, bound to tree-sitter's C API; None when not built or turned off."""
    if os.environ.get("FLOWSCOPE_STATIC_PURE") == "1":
        return None
    try:
        import tree_sitter._binding as binding

        from flowscope_hack_static import _lower  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        _lower.bind(binding.__file__)
    except ImportError:
        return None
    return _lower


_LAYOUT_OK: dict[str, bool] = {}


def native_in_use() -> bool:
    """Whether Hack and C++ statements and expressions are lowered in C in this process (as far as known)."""
    return _native_module() is not None and all(_LAYOUT_OK.values())


def _interpolated(content: str) -> Expr:
    """A double-quoted Hack string with ``$``: its constant parts and interpolated variables."""
    parts: list[str | Expr] = []
    pos = 0
    for m in _INTERP.finditer(content):  # "x{$y['k']}z$w"
        parts.append(content[pos : m.start()])
        base: Expr = Var(m.group(1))
        parts.append(Sub(base, m.group(2) or m.group(3)) if m.group(2) or m.group(3) else base)
        pos = m.end()
    parts.append(content[pos:])
    return Lit(content) if len(parts) == 1 else Tmpl(tuple(p for p in parts if p != ""))


class _Lowering:
    def __init__(self, source: bytes, path: str, language: str) -> None:
        self.source = source
        self.lines = source.decode("utf-8", "replace").splitlines()
        self.ir = FileIR(path, language)
        self.language = language
        self._calls: list[str] = []  # the current function's
        self.vars: dict[bytes, Var] = {}  # a file names the same few variables again and again
        self.native: Any = None

    @property
    def calls(self) -> list[str]:
        return self._calls

    @calls.setter
    def calls(self, calls: list[str]) -> None:
        self._calls = calls
        if self.native is not None:
            self.native.calls = calls

    def use_native(self, root: Node) -> None:
        """Lower statements and expressions in C (``_block``, ``_statement``, ``expr``), once the extension
        is seen to read this grammar's nodes right."""
        module = _native_module()
        if module is None or _LAYOUT_OK.get(self.language) is False:
            return
        native = module.Lowerer(
            self.source, root, _IR_CLASSES, _interpolated, self.vars, _CALLEES, self.lines, strip_parens
        )
        if self.language not in _LAYOUT_OK:  # the Node layout and the kind ids, checked on a real tree
            nodes = [root, *root.children[:3]]
            _LAYOUT_OK[self.language] = all(
                native.probe(n) == (n.start_byte, n.end_byte, n.kind_id) for n in nodes
            )
            if not _LAYOUT_OK[self.language]:
                return
        self.native = native
        native.calls = self._calls
        self.expr = native.expr  # type: ignore[method-assign]

    def run(self, root: Node) -> FileIR:
        self._errors(root)
        self._visit(root, None)
        return self.ir

    def _errors(self, node: Node) -> None:
        if node.type == "ERROR" or node.is_missing:
            self.ir.error_regions.append(node.start_point[0] + 1)
            return
        if node.has_error:
            for child in node.children:
                self._errors(child)

    def text(self, node: Node | None) -> str:
        return "" if node is None else node.text.decode("utf-8", "replace")

    def snippet(self, node: Node) -> str:
        row = node.start_point[0]
        return self.lines[row].strip()[:160] if row < len(self.lines) else ""

    # -- declarations ---------------------------------------------------------------------------------
    def _visit(self, node: Node, cls: str | None) -> None:
        functions = _FUNCTIONS[self.language]
        for child in node.named_children:
            kind = child.type
            if kind in _CLASSES:
                name = child.child_by_field_name("name")
                if self.language == "hack" and name is not None:
                    self._entity(child, self.text(name))
                self._visit(child, self.text(name) or cls)
            elif kind in functions:
                self._function(child, cls)
            elif kind == "ERROR" and self.language == "cpp" and first_child(child, "function_declarator"):
                self._orphan_function(child, cls)
            elif kind in ("const_declarator", "preproc_def", "init_declarator"):
                self._constant(child)
                self._visit(child, cls)
            elif child.named_child_count:  # names, types, comments: nothing inside
                self._visit(child, cls)

    def _entity(self, node: Node, name: str) -> None:
        """Hack/PHP: a Doctrine entity's table, from the annotations or attributes (comments) before it."""
        notes: list[str] = []
        prev = node.prev_named_sibling
        while prev is not None and prev.type == "comment" and len(notes) < 32:
            notes.append(self.text(prev))
            prev = prev.prev_named_sibling
        table = entity_table(name, "\n".join(notes)) if notes else None
        if table:
            self.ir.tables[name] = table

    def _constant(self, node: Node) -> None:
        named = node.named_children
        if len(named) < 2:
            return
        full = self.text(named[0]).split("[")[0].strip().lstrip("*&").strip()  # kTable[] -> kTable
        name, value = full.split("::")[-1], named[-1]
        raw = self.text(value).strip()
        if value.type in ("true", "false") or raw in ("true", "false"):
            self.ir.constants[name] = raw == "true"
        elif raw[:1] in "\"'" and raw[-1:] == raw[:1]:
            self.ir.constants[name] = raw[1:-1]
            if name == "tableName" and "::" in full:  # Drogon's models: const std::string Users::tableName
                self.ir.tables[full.split("::")[-2]] = raw[1:-1]

    def _qualified(self, name: str, cls: str | None) -> str:
        name = name.replace("::", ".")
        return f"{cls}.{name}" if cls and "." not in name else name

    def _function(self, node: Node, cls: str | None) -> None:
        body = node.child_by_field_name("body")
        if self.language == "hack":
            name = self.text(node.child_by_field_name("name"))
            params = tuple(
                self._hack_param(p) for p in children(first_child(node, "parameters"), "parameter")
            )
        else:
            decl = find(node.child_by_field_name("declarator"), "function_declarator")
            if decl is None:
                return
            name = self.text(decl.child_by_field_name("declarator"))
            params = self._cpp_params(decl)
        fn = Function(self._qualified(name, cls), node.start_point[0] + 1, params)
        saved, self.calls = self.calls, fn.calls
        if body is not None:
            self._block(body, fn, (), False)
        self.calls = saved
        self.ir.functions.append(fn)

    def _orphan_function(self, node: Node, cls: str | None) -> None:
        decl = first_child(node, "function_declarator")
        assert decl is not None  # the caller checked
        name = self.text(decl.child_by_field_name("declarator"))
        fn = Function(self._qualified(name, cls), decl.start_point[0] + 1, self._cpp_params(decl))
        saved, self.calls = self.calls, fn.calls
        after = False
        for child in node.named_children:
            if child.id == decl.id:
                after = True
            elif after and child.type in _FUNCTIONS["cpp"]:
                self._function(child, cls)
            elif after:
                self._statement(child, fn, (), False)
        self.calls = saved
        self.ir.functions.append(fn)

    def _hack_param(self, node: Node) -> tuple[str, str | None]:
        var = first_child(node, "variable")
        typ = first_child(node, "type_specifier")
        return (self.text(var).lstrip("$"), self.text(typ) or None)

    def _cpp_params(self, decl: Node) -> tuple[tuple[str, str | None], ...]:
        out = []
        for p in children(decl.child_by_field_name("parameters"), "parameter_declaration"):
            ident = find(p.child_by_field_name("declarator"), "identifier")
            typ = p.child_by_field_name("type")
            if ident is not None:
                out.append((self.text(ident), self.text(typ).split("::")[-1] or None))
        return tuple(out)

    # -- statements -----------------------------------------------------------------------------------
    def _block(self, node: Node, fn: Function, guards: tuple[str, ...], loop: bool) -> None:
        if self.native is not None:
            self.native.block(node, fn.body, guards, loop)
            return
        for child in node.named_children:
            self._statement(child, fn, guards, loop)
            if child.type in _ENDS:  # return, throw: the rest of the block does not run
                break

    def _statement(self, node: Node, fn: Function, guards: tuple[str, ...], loop: bool) -> None:
        if self.native is not None:
            self.native.statement(node, fn.body, guards, loop)
            return
        kind = node.type
        if kind == "expression_statement":  # the most common, then comments
            named = node.named_children
            self._expression_statement(named[0] if named else node, fn, guards, loop)
            return
        if kind == "comment":
            return
        if kind in _BLOCKS:
            self._block(node, fn, guards, loop)
        elif kind == "if_statement":
            cond = node.child_by_field_name("condition") or node.named_children[0]
            text = strip_parens(self.text(cond))
            fn.body.append(
                Stmt(self.expr(cond), node.start_point[0] + 1, self.snippet(node), None, guards, in_loop=loop)
            )
            branches = [c for c in node.named_children if c.id != cond.id]
            for i, branch in enumerate(branches):
                guard = text if i == 0 else f"!({text})"
                self._statement(branch, fn, (*guards, guard), loop)
        elif kind in _LOOPS:
            self._loop(node, fn, guards)
        elif kind in _RETURNS:
            value = node.named_children[0] if node.named_children else None
            if value is not None:
                fn.body.append(
                    Stmt(
                        self.expr(value),
                        node.start_point[0] + 1,
                        self.snippet(node),
                        None,
                        guards,
                        True,
                        loop,
                    )
                )
        elif kind == "declaration":
            self._declaration(node, fn, guards, loop)
        elif node.is_named:
            self._expression_statement(node, fn, guards, loop)

    def _declaration(self, node: Node, fn: Function, guards: tuple[str, ...], loop: bool) -> None:
        """``T x = v;`` assigns v; a class's value made without ``=`` (``Users u;``, ``Mapper<Users>
        mp(db);``, ``T x{a, b};``) is a call of the class, so its type is known (ORM models, clients)."""
        typ = node.child_by_field_name("type")
        cls = typ is not None and typ.type in _CLASS_TYPES
        for decl in node.named_children:
            kind = decl.type
            if kind == "init_declarator":
                value = decl.child_by_field_name("value")
                if value is None:
                    continue
                if value.type in ("argument_list", "initializer_list"):
                    if not cls:
                        continue
                    args = tuple(self.expr(a) for a in value.named_children if a.type != "comment")
                    made: Expr = self._made(typ, args)
                else:
                    made = self.expr(value)
                target = self.expr(decl.child_by_field_name("declarator"))
                fn.body.append(
                    Stmt(made, decl.start_point[0] + 1, self.snippet(decl), target, guards, in_loop=loop)
                )
            elif cls and kind in ("identifier", "function_declarator"):
                name = decl if kind == "identifier" else decl.child_by_field_name("declarator")
                if name is None or name.type != "identifier":
                    continue
                params = decl.child_by_field_name("parameters") if kind == "function_declarator" else None
                args = tuple(Var(self.text(p)) for p in children(params, "parameter_declaration"))
                target = self.expr(name)
                fn.body.append(
                    Stmt(
                        self._made(typ, args),
                        decl.start_point[0] + 1,
                        self.snippet(decl),
                        target,
                        guards,
                        in_loop=loop,
                    )
                )

    def _made(self, typ: Node, args: tuple[Expr, ...]) -> Call:
        callee = _callee(self.text(typ))
        self.calls.append(callee)
        return Call(callee, args, (), None)

    def _loop(self, node: Node, fn: Function, guards: tuple[str, ...]) -> None:
        body = node.child_by_field_name("body") or (node.named_children[-1] if node.named_children else None)
        heads = [c for c in node.named_children if body is None or c.id != body.id]
        if (
            node.type == "foreach_statement" and len(heads) >= 2
        ):  # foreach ($items as $k => $v): items flow to v
            fn.body.append(
                Stmt(
                    self.expr(heads[0]),
                    node.start_point[0] + 1,
                    self.snippet(node),
                    self.expr(heads[-1]),
                    guards,
                    in_loop=True,
                )
            )
        elif node.type == "for_range_loop":
            target, value = node.child_by_field_name("declarator"), node.child_by_field_name("right")
            if target is not None and value is not None:
                fn.body.append(
                    Stmt(
                        self.expr(value),
                        node.start_point[0] + 1,
                        self.snippet(node),
                        self.expr(target),
                        guards,
                        in_loop=True,
                    )
                )
        if body is not None:
            self._statement(body, fn, guards, True)

    def _expression_statement(self, node: Node, fn: Function, guards: tuple[str, ...], loop: bool) -> None:
        kind = node.type
        while kind in _UNWRAP:
            count = node.named_child_count
            if not count:
                break
            node = node.named_child(count - 1)
            kind = node.type
        row = node.start_point[0]
        lines = self.lines
        snip = lines[row].strip()[:160] if row < len(lines) else ""
        op_text = self.text(node.child_by_field_name("operator")) if kind in _ASSIGNS else ""
        if op_text in _ASSIGN_OPS:
            target = self.expr(node.child_by_field_name("left"))
            value = self.expr(node.child_by_field_name("right"))
            if op_text != "=":  # compound: the old value flows on
                value = Other((target, value))
            fn.body.append(Stmt(value, row + 1, snip, target, guards, False, loop))
        else:
            fn.body.append(Stmt(self.expr(node), row + 1, snip, None, guards, False, loop))

    # -- expressions ----------------------------------------------------------------------------------
    def expr(self, node: Node | None) -> Expr:
        if node is None:
            return Other()
        kind = node.type
        if kind in _VARS:
            raw = node.text
            var = self.vars.get(raw)
            if var is None or kind == "scoped_identifier":
                text = raw.decode("utf-8", "replace").lstrip("$")
                if kind == "scoped_identifier":
                    return Var(text.split("::")[-1])
                var = self.vars[raw] = Var(text)
            return var
        if kind == "call_expression":
            return self._call(node)
        if kind in _STRINGS:
            return self._string(node, kind)
        if kind in _LITERALS:
            return Lit(None)
        if kind in ("lambda_expression", "anonymous_function_creation_expression"):
            return Other()
        if kind in _WRAPPERS:
            count = node.named_child_count
            if count:
                return self.expr(node.named_child(count - 1))
            return Other()
        named = node.named_children
        if kind == "subscript_expression":
            index = named[1] if len(named) > 1 else None
            if index is not None and index.type == "subscript_argument_list" and index.named_child_count:
                index = index.named_child(0)  # C++: row["k"]
            key = self._literal(index) if index is not None else None
            return Sub(self.expr(named[0]), key if isinstance(key, str) else None)
        elif kind in ("selection_expression", "field_expression"):
            return Sub(self.expr(named[0]), self.text(named[-1]).lstrip("$"))
        elif kind in _ARRAYS:  # Hack: dict[...], Map {...}, shape(...) too
            return self._array(named)
        elif kind == "binary_expression":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            op = self.text(node.child_by_field_name("operator"))
            if op in (".", "+"):
                return Tmpl(flatten_concat(self.expr(left), self.expr(right)))
            if op in BOOLEAN_OPS:  # a boolean carries no data: the operator is a call that returns none
                return Call(op, (self.expr(left), self.expr(right)), (), None)
            return Other((self.expr(left), self.expr(right)))
        elif kind == "new_expression":  # new SendGrid\Email(), new Users(): a call of the class
            typ = next(
                (c for c in named if c.type not in ("arguments", "argument_list", "initializer_list")), None
            )
            args_node = next(
                (c for c in named if c.type in ("arguments", "argument_list", "initializer_list")), None
            )
            args: list[Expr] = []
            for a in args_node.named_children if args_node is not None else ():
                if a.type == "argument" and a.named_child_count:
                    a = a.named_child(a.named_child_count - 1)
                if a.type != "comment":
                    args.append(self.expr(a))
            if typ is None:
                return Other(tuple(args))
            return self._made(typ, tuple(args))
        return Other(tuple(self.expr(c) for c in named if c.type != "comment"))

    def _literal(self, node: Node) -> str | None:
        e = self.expr(node)
        return e.value if isinstance(e, Lit) else None

    def _string(self, node: Node, kind: str) -> Expr:
        if kind == "concatenated_string":
            return Tmpl(tuple(p for c in node.named_children for p in tmpl_parts(self._string(c, c.type))))
        raw = node.text.decode("utf-8", "replace")
        if kind == "string_literal" or kind == "raw_string_literal" or raw.startswith("'"):
            content = raw[1:-1] if raw[:1] in "'\"" else raw
            return Lit(content)
        content = raw[1:-1] if raw[:1] == '"' else raw
        if "$" not in content:  # nothing interpolated
            return Lit(content)
        return _interpolated(content)

    def _call(self, node: Node) -> Expr:
        fn_node = node.child_by_field_name("function") or node.named_child(0)
        args_node = node.child_by_field_name("arguments")
        if args_node is None:  # Hack's calls name no field for their arguments
            for c in node.named_children:
                if c.type in ("arguments", "argument_list"):
                    args_node = c
                    break
        args: tuple[Expr, ...] = ()
        if args_node is not None:
            out = []
            expr = self.expr
            for a in args_node.named_children:
                kind = a.type
                if kind == "argument":  # Hack wraps each argument
                    count = a.named_child_count
                    if count:
                        a = a.named_child(count - 1)
                        kind = a.type
                if kind != "comment":
                    out.append(expr(a))
            args = tuple(out)
        fn_type = fn_node.type
        fn_text = fn_node.text.decode("utf-8", "replace")
        if fn_type == "call_expression" and "dynamic::object" in fn_text:
            inner = self._call(fn_node)  # folly::dynamic::object("k", v)("k2", v2): a struct literal
            base = inner.entries if isinstance(inner, DictLit) else ()
            return DictLit(base + pairs(args))
        callee = _callee(fn_text)
        if callee.endswith("dynamic::object"):
            return DictLit(pairs(args))
        receiver = None
        if fn_type in ("selection_expression", "field_expression") and fn_node.named_child_count:
            receiver = self.expr(fn_node.named_child(0))
        self.calls.append(callee)
        return Call(callee, args, (), receiver)

    def _array(self, named: list[Node]) -> Expr:
        entries: list[tuple[str | None, Expr]] = []
        for el in named:
            kind = el.type
            if kind in _ELEMENTS and el.named_child_count == 2:
                entries.append((self._literal(el.named_child(0)), self.expr(el.named_child(1))))
            elif kind not in ("array_type", "type_arguments", "comment"):
                entries.append((None, self.expr(el)))
        return DictLit(tuple(entries))
