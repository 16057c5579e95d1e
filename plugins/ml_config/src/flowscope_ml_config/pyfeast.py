"""Feast feature repositories read with Python's own parser (:mod:`ast`): definitions are found in the
syntax tree, never imported or run.

Top-level assignments are remembered so ``FeatureView(source=user_source, entities=[user])`` resolves
names bound earlier in the file; anything that is not a literal (a computed name, a helper call) is
reported and left out rather than guessed, except paths built from a run-time value
(``f"{CURRENT_DIR}/data/x.parquet"``, ``repo / "data"``), which keep the unknown part as a visible
``${CURRENT_DIR}`` placeholder. :mod:`ast` (C) reads a repository module in well under a millisecond,
a concrete syntax tree (libcst) and its position metadata took ~300 ms.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowscope_ml_config.refs import code_placeholder
from flowscope_ml_config.source import tick

VIEW_CLASSES = ("FeatureView", "BatchFeatureView", "StreamFeatureView", "LabelView")
_PATH_CALLS = ("str", "Path", "PurePath", "PosixPath", "PurePosixPath", "abspath", "realpath", "normpath")


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


def _func_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


class _Reader:
    def __init__(self, text: str, load: ModuleLoader | None = None, depth: int = 0) -> None:
        self.text = text
        self.lines: list[bytes] | None = None
        self.env: dict[str, Any] = {}
        self.repo = PyRepo()
        self.load, self.depth = load, depth

    def code(self, node: ast.AST) -> str:
        """The source text of ``node`` (``ast.get_source_segment`` re-splits the file on every call)."""
        if self.lines is None:
            self.lines = [line.encode() for line in self.text.splitlines(keepends=True)]
        start, end = getattr(node, "lineno", 0) - 1, (getattr(node, "end_lineno", None) or 0) - 1
        if not 0 <= start <= end < len(self.lines):
            return type(node).__name__
        first, last = getattr(node, "col_offset", 0), getattr(node, "end_col_offset", None)
        if start == end:
            return self.lines[start][first:last].decode(errors="replace")
        middle = b"".join(self.lines[start + 1 : end])
        return (self.lines[start][first:] + middle + self.lines[end][:last]).decode(errors="replace")

    def import_from(self, node: ast.ImportFrom) -> None:
        if self.load is None or self.depth > 3 or any(a.name == "*" for a in node.names):
            return
        text = self.load(node.module or "", node.level)
        if text is None:
            return
        try:
            other = _read(text, self.load, self.depth + 1)
        except ValueError:
            return
        for alias in node.names:
            if alias.name in other.env:
                self.env[alias.asname or alias.name] = other.env[alias.name]

    def path_text(self, node: ast.expr) -> str | None:
        """A string or path expression as text; names only known at run time become placeholders
        (``f"{CURRENT_DIR}/data"`` -> ``${CURRENT_DIR}/data``); None when too dynamic to say."""
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            bound = self.env.get(node.id)
            return bound if isinstance(bound, str) else code_placeholder(node.id)
        if isinstance(node, ast.JoinedStr):
            out = ""
            for part in node.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    out += part.value
                elif isinstance(part, ast.FormattedValue):
                    inner = self.path_text(part.value)
                    if inner is None:
                        return None
                    out += inner
            return out
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.Add):
            left, right = self.path_text(node.left), self.path_text(node.right)
            if left is None or right is None:
                return None
            return left + right if isinstance(node.op, ast.Add) else f"{left.rstrip('/')}/{right.lstrip('/')}"
        if isinstance(node, ast.Call):
            name = _func_name(node.func)
            if name in _PATH_CALLS and len(node.args) == 1:
                return self.path_text(node.args[0])
            if name == "join" and node.args:
                parts = [self.path_text(a) for a in node.args]
                known = [p for p in parts if p is not None]
                if len(known) < len(parts):
                    return None
                return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(known))
        return None

    def value(self, node: ast.expr | None) -> Any:
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            v = node.value
            return v.decode(errors="replace") if isinstance(v, bytes) else v
        if isinstance(node, ast.JoinedStr | ast.BinOp):
            text = self.path_text(node)
            return text if text is not None else _Opaque(self.code(node))
        if isinstance(node, ast.Name):
            return self.env.get(node.id, _Opaque(node.id))
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return [self.value(e) for e in node.elts if not isinstance(e, ast.Starred)]
        if isinstance(node, ast.Dict):
            return {
                self.value(k): self.value(v)
                for k, v in zip(node.keys, node.values, strict=True)
                if k is not None
            }
        if isinstance(node, ast.Call):
            name = _func_name(node.func)
            if name in _PATH_CALLS or (name == "join" and isinstance(node.func, ast.Attribute)):
                text = self.path_text(node)
                return text if text is not None else _Opaque(self.code(node))
            return self.call(node)
        if isinstance(node, ast.Subscript):
            picked = self.value(node.slice)
            if isinstance(picked, list):
                return Selection(self.value(node.value), tuple(str(p) for p in picked))
        return _Opaque(self.code(node))

    def call(self, node: ast.Call, var: str = "") -> PyCall:
        out = PyCall(_func_name(node.func), node.lineno, var=var)
        for arg in node.args:
            if not isinstance(arg, ast.Starred):
                out.args.append(self.value(arg))
        for kw in node.keywords:
            if kw.arg is None:
                continue
            if kw.arg == "dtype":
                out.kwargs["dtype"] = dtype_name(self.code(kw.value))
            else:
                out.kwargs[kw.arg] = self.value(kw.value)
        return out

    def statement(self, stmt: ast.stmt) -> None:
        tick()
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in stmt.decorator_list:
                if isinstance(deco, ast.Call):
                    call = self.call(deco, var=stmt.name)
                    call.kwargs.setdefault("name", stmt.name)
                    self.repo.calls.append(call)
                    self.env[stmt.name] = call
            return
        if isinstance(stmt, ast.ImportFrom):
            self.import_from(stmt)
            return
        target: ast.expr | None = None
        expr: ast.expr | None = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, expr = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, expr = stmt.target, stmt.value
        elif isinstance(stmt, ast.Expr):
            expr = stmt.value
        if expr is None:
            return
        var = target.id if isinstance(target, ast.Name) else ""
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
        module = ast.parse(text)
    except SyntaxError as exc:
        raise ValueError(f"invalid Python: {exc.msg} (line {exc.lineno})") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(f"invalid Python: {type(exc).__name__}") from None
    reader = _Reader(text, load, depth)
    for stmt in module.body:
        reader.statement(stmt)
    return reader


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(k, str) and not is_opaque(v)}
