"""PHP-style arrays (and the ``<?php`` tag) in Hack files, rewritten so the Hack grammar parses the code.

The bundled tree-sitter Hack grammar knows Hack's ``dict[...]``, ``vec[...]``, ``Map {...}`` but not the
PHP forms older Hack (HHVM 3.x, ``<?hh`` files from before 2019) still used everywhere:
``array('k' => $v)`` and ``['k' => $v]``. Each one is an ERROR region, and one in a class body can take the
whole class with it (every method lost). So a Hack file whose tree has errors is parsed a second time with
those arrays rewritten (``array(`` + ``)`` -> ``dict[`` + ``]`` with the same length, a short array gets
``dict``/``vec`` in front of its bracket), and the second tree is used when it has fewer errors. Lines are
unchanged (only columns move), so evidence keeps its ``file:line``; snippets show the rewritten form.
"""

from __future__ import annotations

import re
from typing import Any

_TOKENS = re.compile(
    rb"""
    (?P<skip>//[^\n]*|\#[^\n]*|/\*.*?\*/|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|==>|<=>|->|::)
   |(?P<array>\barray\s*\()
   |(?P<open>[\[(])
   |(?P<close>[\])])
   |(?P<arrow>=>)
   |(?P<word>\$?[A-Za-z_\\][\w\\]*|\d[\w.]*)
   |(?P<other>[^\s])
    """,
    re.S | re.X,
)
# after these words a ``[`` opens an array, after any other word or a closing bracket it is a subscript
_KEYWORDS = frozenset((b"return", b"yield", b"echo", b"print", b"case", b"else", b"in", b"as", b"await"))


def php_arrays(data: bytes) -> bytes:
    """``data`` with PHP arrays written as Hack collections (unchanged when brackets do not balance)."""
    if b"=>" not in data and b"[" not in data:
        return data
    # frames: [kind, start, end of opener, has an arrow]; kind: "short", "array", "other"
    stack: list[list[Any]] = []
    edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement)
    prev = b""
    for m in _TOKENS.finditer(data):
        kind = m.lastgroup
        tok = m.group()
        if kind == "skip":
            if tok in (b"->", b"::"):
                prev = tok
            continue
        if kind == "array":
            stack.append(["array", m.start(), m.end(), False])
        elif kind == "open":
            word = (prev[:1].isalnum() or prev[:1] in (b"_", b"$", b"\\")) and prev not in _KEYWORDS
            sub = tok == b"[" and (prev[-1:] in (b")", b"]", b"}") or word)
            stack.append(["short" if tok == b"[" and not sub else "other", m.start(), m.end(), False])
        elif kind == "close":
            if not stack:
                return data
            frame, start, end, arrow = stack.pop()
            if tok != (b"]" if frame == "short" else b")" if frame == "array" else tok):
                return data
            if frame == "short":
                edits.append((start, start, b"dict" if arrow else b"vec"))
            elif frame == "array" and arrow:
                edits.append((start, end, b"dict[".ljust(end - start)))
                edits.append((m.start(), m.end(), b"]"))
        elif kind == "arrow" and stack:
            stack[-1][3] = True
        prev = tok
    if stack or not edits:
        return data
    out = bytearray()
    at = 0
    for start, end, text in sorted(edits):
        out += data[at:start] + text
        at = end
    return bytes(out + data[at:])


_HASHES = re.compile(
    rb"""(?P<skip>//[^\n]*|/\*.*?\*/|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<attr>\#\[)|(?P<line>\#)""", re.S
)
_ATTR_END = re.compile(rb"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[\[\]]""")


def php_comments(data: bytes) -> bytes:
    """PHP's ``# comment`` and ``#[Attribute(...)]`` written as ``//`` and ``/*...*/`` comments (the Hack
    grammar has neither); a Doctrine entity's ``#[ORM\\Table(name: 'users')]`` stays readable as a comment."""
    if b"#" not in data:
        return data
    out = bytearray()
    at = 0
    pos = 0
    while True:
        m = _HASHES.search(data, pos)
        if m is None:
            break
        pos = m.end()
        if m.lastgroup == "skip":
            continue
        if m.lastgroup == "line":
            out += data[at : m.start()] + b"//"
            at = pos
            continue
        depth, end = 1, None
        for b in _ATTR_END.finditer(data, pos):
            tok = b.group()
            depth += 1 if tok == b"[" else -1 if tok == b"]" else 0
            if depth == 0:
                end = b.start()
                break
        if end is None or b"*/" in data[pos:end]:
            return data
        out += data[at : m.start()] + b"/*" + data[pos:end] + b"*/"
        at = pos = end + 1
    return bytes(out + data[at:]) if out else data


def php_open_tag(data: bytes) -> bytes:
    """``<?php`` written ``<?hh `` (same length): the Hack grammar reads no file that opens with ``<?php``,
    and PHP-style Hack (and PHP) files do."""
    at = data.find(b"<?php", 0, 256)
    if at < 0 or (data[:at].strip() and not data.startswith(b"#!")):
        return data
    return data[:at] + b"<?hh " + data[at + 5 :]


def error_count(node: Any) -> int:
    """ERROR and missing nodes of a tree, walking only the subtrees that hold some."""
    if node.type == "ERROR" or node.is_missing:
        return 1
    if not node.has_error:
        return 0
    return sum(error_count(c) for c in node.children)


def parse_hack(parser: Any, data: bytes) -> Any:
    """The tree of a Hack file: of ``data``, or of ``php_arrays(data)`` when that has fewer errors (the
    tree's ``text`` is the source it was parsed from, which lowering must read)."""
    data = php_open_tag(data)
    tree = parser.parse(data)
    if not tree.root_node.has_error:
        return tree
    fixed = php_arrays(php_comments(data))
    if fixed == data:
        return tree
    second = parser.parse(fixed)
    return second if error_count(second.root_node) < error_count(tree.root_node) else tree
