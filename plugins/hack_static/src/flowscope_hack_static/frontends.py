"""One entry point over the three front ends, a plain function so worker processes can lower files on every core."""

from __future__ import annotations

from typing import Any

from flowscope_hack_static.ir import FileIR

Lowered = tuple[FileIR | None, str | None, int | None]  # the IR, or a problem and its line


def parse_tree(language: str, data: bytes, text: str, utf8: bool) -> Any:
    """The tree-sitter tree of a Hack or C++ file, None for Python (libcst parses it in :func:`lower_file`)."""
    if language == "python":
        return None
    from flowscope_hack_static.tsfront import parser

    source = data if utf8 else text.encode("utf-8")
    if language == "hack":  # PHP-style arrays break the Hack grammar: see hackarrays
        from flowscope_hack_static.hackarrays import parse_hack

        return parse_hack(parser(language), source)
    return parser(language).parse(source)


def lower_file(language: str, data: bytes, text: str, utf8: bool, rel: str, tree: Any = None) -> Lowered:
    """A file's IR (``tree``: its tree from :func:`parse_tree`, else it is parsed here)."""
    if language == "python":
        from flowscope_hack_static.pyfront import PyParseError, lower

        try:
            return lower(text, rel), None, None
        except PyParseError as exc:
            return None, f"unparsable Python, skipped: {exc}", exc.line
        except RecursionError:
            return None, "too deeply nested to parse, skipped", None
    from flowscope_hack_static.tsfront import lower as ts_lower

    if tree is None:
        tree = parse_tree(language, data, text, utf8)
    try:  # the tree's own source: a Hack file may have been parsed with its arrays rewritten
        return ts_lower(tree.text, rel, language, tree), None, None
    except RecursionError:  # tree-sitter parses any depth; lowering walks it recursively
        return None, "too deeply nested to analyze, skipped", None
