"""Feast feature repositories read with libcst: definitions are found in the syntax tree, never imported.

Top-level assignments are remembered so ``FeatureView(source=user_source, entities=[user])`` resolves
names bound earlier in the file; anything that is not a literal (a computed name, a helper call) is
reported and left out rather than guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from flowscope_ml_config.refs import code_placeholder

VIEW_CLASSES = ("FeatureView", "BatchFeatureView", "StreamFeatureView", "LabelView")
_PATH_CALLS = ("str", "Path", "PurePath", "PosixPath", "PurePosixPath", "abspath", "realpath", "normpath")
_CODE = cst.Module([])


@dataclass
class PyCall:
    """A call to a Feast class with its literal keyword arguments (names bound earlier resolved)."""

    kind: str
    line: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    args: list[Any] = field(default_factory=list)
    var: str = ""


@dataclass(frozen=True)
class Selection:
    """``view[["a", "b"]]`` in a FeatureService: a projection of a view."""

    view: Any
    features: tuple[str, ...]


@dataclass
class PyRepo:
    calls: list[PyCall] = field(default_factory=list)
    problems: list[tuple[str, int]] = field(default_factory=list)


def dtype_name(text: str) -> str:
    """``Array(String)`` -> ``array<string>``: Feast type expressions as schema-facet types."""
    text = text.replace("feast.types.", "").replace("types.", "").strip()
    if text.startswith("Array(") and text.endswith(")"):
        return f"array<{dtype_name(text[6:-1])}>"
    return text.lower()


# ``from data_sources import driver_source``: the module's source text (or None), for names defined in
# sibling files of the repo. The imported module is read the same way, never imported.
ModuleLoader = Callable[[str, int], str | None]


class _Reader:
    def __init__(self, wrapper: MetadataWrapper, load: ModuleLoader | None = None, depth: int = 0) -> None:
        self.positions = wrapper.resolve(PositionProvider)
        self.env: dict[str, Any] = {}
        self.repo = PyRepo()
        self.load, self.depth = load, depth

    def import_from(self, node: cst.ImportFrom) -> None:
        if self.load is None or self.depth > 3 or isinstance(node.names, cst.ImportStar):
            return
        module = _CODE.code_for_node(node.module) if node.module is not None else ""
        text = self.load(module, len(node.relative))
        if text is None:
            return
        try:
            other = _read(text, self.load, self.depth + 1)
        except ValueError:
            return
        for alias in node.names:
            name = _CODE.code_for_node(alias.name)
            local = (
                alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            )
            if name in other.env:
                self.env[local] = other.env[name]

    def line(self, node: cst.CSTNode) -> int:
        return int(self.positions[node].start.line)

    def path_text(self, node: cst.BaseExpression) -> str | None:
        """A string or path expression as text; names only known at run time become placeholders
        (``f"{CURRENT_DIR}/data"`` -> ``${CURRENT_DIR}/data``); None when too dynamic to say."""
        if isinstance(node, cst.Name):
            bound = self.env.get(node.value)
            return bound if isinstance(bound, str) else code_placeholder(node.value)
        if isinstance(node, cst.FormattedString):
            out = ""
            for part in node.parts:
                if isinstance(part, cst.FormattedStringText):
                    out += part.value
                elif isinstance(part, cst.FormattedStringExpression):
                    inner = self.path_text(part.expression)
                    if inner is None:
                        return None
                    out += inner
            return out
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
            left, right = self.path_text(node.left), self.path_text(node.right)
            return (
                f"{left.rstrip('/')}/{right.lstrip('/')}" if left is not None and right is not None else None
            )
        if isinstance(node, cst.Call):
            func = node.func
            name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
            args = [a.value for a in node.args if a.keyword is None]
            if name in _PATH_CALLS and len(args) == 1:
                return self.path_text(args[0])
            if name == "join" and args:
                parts = [self.path_text(a) for a in args]
                known = [p for p in parts if p is not None]
                if len(known) < len(parts):
                    return None
                return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(known))
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = self.value(node)
            return value if isinstance(value, str) else None
        return None

    def value(self, node: cst.BaseExpression) -> Any:
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            v = node.evaluated_value
            return v.decode() if isinstance(v, bytes) else v
        if isinstance(node, cst.FormattedString | cst.BinaryOperation):
            text = self.path_text(node)
            return text if text is not None else _Opaque(_CODE.code_for_node(node))
        if isinstance(node, cst.Integer):
            return int(node.value, 0)
        if isinstance(node, cst.Float):
            return float(node.value)
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.value]
            return self.env.get(node.value, _Opaque(node.value))
        if isinstance(node, cst.List | cst.Tuple | cst.Set):
            return [self.value(e.value) for e in node.elements if isinstance(e, cst.Element)]
        if isinstance(node, cst.Dict):
            return {
                self.value(e.key): self.value(e.value)
                for e in node.elements
                if isinstance(e, cst.DictElement)
            }
        if isinstance(node, cst.Call):
            func = node.func
            name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
            if name in _PATH_CALLS or (name == "join" and isinstance(func, cst.Attribute)):
                text = self.path_text(node)
                return text if text is not None else _Opaque(_CODE.code_for_node(node))
            return self.call(node)
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            index = node.slice[0].slice
            if isinstance(index, cst.Index):
                picked = self.value(index.value)
                if isinstance(picked, list):
                    return Selection(self.value(node.value), tuple(str(p) for p in picked))
        return _Opaque(_CODE.code_for_node(node))

    def call(self, node: cst.Call, var: str = "") -> PyCall:
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        out = PyCall(str(name), self.line(node), var=var)
        for arg in node.args:
            if arg.keyword is None:
                out.args.append(self.value(arg.value))
            elif arg.keyword.value == "dtype":
                out.kwargs["dtype"] = dtype_name(_CODE.code_for_node(arg.value))
            else:
                out.kwargs[arg.keyword.value] = self.value(arg.value)
        return out

    def statement(self, stmt: cst.CSTNode) -> None:
        if isinstance(stmt, cst.FunctionDef):
            for deco in stmt.decorators:
                if isinstance(deco.decorator, cst.Call):
                    call = self.call(deco.decorator, var=stmt.name.value)
                    call.kwargs.setdefault("name", stmt.name.value)
                    self.repo.calls.append(call)
                    self.env[stmt.name.value] = call
            return
        if not isinstance(stmt, cst.SimpleStatementLine):
            return
        for small in stmt.body:
            if isinstance(small, cst.ImportFrom):
                self.import_from(small)
                continue
            target, expr = None, None
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, expr = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                target, expr = small.target, small.value
            elif isinstance(small, cst.Expr):
                expr = small.value
            if expr is None:
                continue
            var = target.value if isinstance(target, cst.Name) else ""
            value = self.value(expr)
            if isinstance(value, PyCall) and var:
                value.var = var
            if var:
                self.env[var] = value
            if isinstance(value, PyCall):
                self.repo.calls.append(value)


@dataclass(frozen=True)
class _Opaque:
    """A value we cannot know without running the code (a computed name, a helper's result)."""

    code: str


def is_opaque(value: Any) -> bool:
    return isinstance(value, _Opaque)


def read_python(text: str, load: ModuleLoader | None = None) -> PyRepo:
    """Every top-level call of a Python module, in order (names imported from sibling modules resolved
    through ``load``); a syntax error raises ValueError."""
    return _read(text, load, 0).repo


def _read(text: str, load: ModuleLoader | None, depth: int) -> _Reader:
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise ValueError(f"invalid Python: {exc.message} (line {exc.raw_line})") from None
    wrapper = MetadataWrapper(module)
    reader = _Reader(wrapper, load, depth)
    for stmt in wrapper.module.body:
        reader.statement(stmt)
    return reader


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(k, str) and not is_opaque(v)}
