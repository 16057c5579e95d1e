"""C++ lambdas as functions of their own.

Crow's routes are all lambdas (``CROW_ROUTE(app, "/signup")([](const crow::request& req) {...})``), and Drogon,
cpp-httplib and Pistache handlers and database callbacks often are: the body of a lambda is analyzed as a
function named after the function that holds it (``main.lambda12``), with its parameters, so a request
parameter there is a source like a handler method's. What the lambda captures from its function is not
followed (its flows start from what the lambda itself is given).
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from typing import TYPE_CHECKING, Any

from flowscope_hack_static.ir import Function
from flowscope_hack_static.tsnodes import Node, find

if TYPE_CHECKING:
    from flowscope_hack_static.tsfront import _Lowering

_HAS_LAMBDA = re.compile(rb"\]\s*\(")  # [capture](parameters): a file with none is not queried


@cache
def _query() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from tree_sitter_languages import get_language

        return get_language("cpp").query("(lambda_expression) @fn")


def _holder(lowering: _Lowering, node: Node) -> str:
    """The name of the function holding ``node`` (``UserController.signup``), else ``lambda``."""
    parent = node.parent
    while parent is not None and parent.type != "function_definition":
        parent = parent.parent
    decl = (
        find(parent.child_by_field_name("declarator"), "function_declarator") if parent is not None else None
    )
    name = lowering.text(decl.child_by_field_name("declarator")) if decl is not None else ""
    return name.replace("::", ".") or "lambda"


def lower_lambdas(lowering: _Lowering, root: Node, source: bytes) -> None:
    """Each lambda with parameters and a body becomes a function of the file's IR."""
    if not _HAS_LAMBDA.search(source):
        return
    for node, _ in _query().captures(root):
        decl = node.child_by_field_name("declarator")
        body = node.child_by_field_name("body")
        if decl is None or body is None:
            continue
        params = lowering._cpp_params(decl)
        if not params:  # [&] { ... }: nothing of its own, only what it captures
            continue
        line = node.start_point[0] + 1
        fn = Function(f"{_holder(lowering, node)}.lambda{line}", line, params)
        saved, lowering.calls = lowering.calls, fn.calls
        lowering._block(body, fn, (), False)
        lowering.calls = saved
        lowering.ir.functions.append(fn)
