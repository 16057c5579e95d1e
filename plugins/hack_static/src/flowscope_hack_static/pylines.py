"""Line numbers of libcst statements from the standard library's ``ast``, without libcst's metadata pass.

libcst's ``PositionProvider`` re-generates the code of the whole file to learn where each node starts;
``ast.parse`` is a C parser that already knows. Both parse the same statements in the same order, so walking
the two trees side by side gives every statement (and every small statement of a ``a = 1; b = 2`` line) its
line. Any disagreement returns None and the caller uses ``PositionProvider`` instead.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Sequence

import libcst as cst

Lines = dict[int, int]  # id(libcst node) -> first line


class _Mismatch(Exception):
    pass


def statement_lines(module: cst.Module, source: str) -> Lines | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines: Lines = {}
    try:
        _pair(module.body, tree.body, lines)
    except _Mismatch:
        return None
    return lines


def _flat(stmts: Sequence[cst.CSTNode]) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for s in stmts:
        if isinstance(s, cst.SimpleStatementLine):
            out.extend(s.body)
        else:
            out.append(s)
    return out


def _body(node: cst.CSTNode | None) -> Sequence[cst.CSTNode]:
    body = getattr(node, "body", ())
    return body if isinstance(body, list | tuple) else ()


def _pair(cst_stmts: Sequence[cst.CSTNode], ast_stmts: Sequence[ast.stmt], lines: Lines) -> None:
    flat = _flat(cst_stmts)
    if len(flat) != len(ast_stmts):
        raise _Mismatch
    for c, a in zip(flat, ast_stmts, strict=True):
        lines[id(c)] = a.lineno
        _children(c, a, lines)
    for stmt in cst_stmts:
        if isinstance(stmt, cst.SimpleStatementLine) and stmt.body:
            lines[id(stmt)] = lines[id(stmt.body[0])]


def _children(c: cst.CSTNode, a: ast.stmt, lines: Lines) -> None:
    expected = _KINDS.get(type(c))
    if expected is not None and not isinstance(a, expected):
        raise _Mismatch
    if (isinstance(c, cst.FunctionDef) and isinstance(a, ast.FunctionDef | ast.AsyncFunctionDef)) or (
        isinstance(c, cst.ClassDef) and isinstance(a, ast.ClassDef)
    ):
        _pair(_body(c.body), a.body, lines)
    elif isinstance(c, cst.If) and isinstance(a, ast.If):
        _pair(_body(c.body), a.body, lines)
        if isinstance(c.orelse, cst.If):
            _pair([c.orelse], a.orelse, lines)
        elif c.orelse is not None:
            _pair(_body(c.orelse.body), a.orelse, lines)
    elif isinstance(c, cst.For | cst.While) and isinstance(a, ast.For | ast.AsyncFor | ast.While):
        _pair(_body(c.body), a.body, lines)
        if c.orelse is not None:
            _pair(_body(c.orelse.body), a.orelse, lines)
    elif isinstance(c, cst.With) and isinstance(a, ast.With | ast.AsyncWith):
        _pair(_body(c.body), a.body, lines)
    elif isinstance(c, cst.Try) and isinstance(a, ast.Try):
        _pair(_body(c.body), a.body, lines)
        if len(c.handlers) != len(a.handlers):
            raise _Mismatch
        for ch, ah in zip(c.handlers, a.handlers, strict=True):
            _pair(_body(ch.body), ah.body, lines)
        if c.orelse is not None:
            _pair(_body(c.orelse.body), a.orelse, lines)
        if c.finalbody is not None:
            _pair(_body(c.finalbody.body), a.finalbody, lines)


# What each statement the lowering reads must pair with; others (imports, pass, raise, match) only need a line.
_KINDS: dict[type, type | tuple[type, ...]] = {
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: ast.ClassDef,
    cst.If: ast.If,
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: ast.While,
    cst.With: (ast.With, ast.AsyncWith),
    cst.Try: ast.Try,
    cst.Assign: ast.Assign,
    cst.AnnAssign: ast.AnnAssign,
    cst.AugAssign: ast.AugAssign,
    cst.Expr: ast.Expr,
    cst.Return: ast.Return,
}
