"""Small helpers over tree-sitter nodes and the IR, shared by the Hack and C++ lowering in tsfront."""

from __future__ import annotations

from typing import Any

from flowscope_hack_static.ir import Expr, Lit, Tmpl

Node = Any  # tree_sitter.Node; the 0.21 bindings ship no type information


def pairs(args: tuple[Expr, ...]) -> tuple[tuple[str | None, Expr], ...]:
    out: list[tuple[str | None, Expr]] = []
    for i in range(0, len(args) - 1, 2):
        key = args[i]
        out.append((key.value if isinstance(key, Lit) else None, args[i + 1]))
    return tuple(out)


def tmpl_parts(e: Expr) -> tuple[str | Expr, ...]:
    if isinstance(e, Tmpl):
        return e.parts
    if isinstance(e, Lit) and e.value is not None:
        return (e.value,)
    return (e,)


def flatten_concat(left: Expr, right: Expr) -> tuple[str | Expr, ...]:
    return tmpl_parts(left) + tmpl_parts(right)


def strip_parens(text: str) -> str:
    text = " ".join(text.split())
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text


def first_child(node: Node | None, kind: str) -> Node | None:
    if node is None:
        return None
    return next((c for c in node.named_children if c.type == kind), None)


def children(node: Node | None, kind: str) -> list[Node]:
    return [] if node is None else [c for c in node.named_children if c.type == kind]


def find(node: Node | None, kind: str) -> Node | None:
    """First descendant (or self) of ``kind``, depth-first."""
    if node is None:
        return None
    if node.type == kind:
        return node
    for c in node.named_children:
        found = find(c, kind)
        if found is not None:
            return found
    return None
