"""YAML with line numbers: ``yaml.safe_load`` semantics, plus where every key and list item was written.

Config and declared-flow errors must name the file and line of the offending key, which plain
``safe_load`` forgets. :mod:`flowscope.yamlbuild` records lines and repeated keys while it builds the
values, in one pass over libyaml's events under :mod:`flowscope.yamlsafe`'s limits. Where it hands over
(errors, rare tags and layouts) the reference path here composes the node tree, constructs the value
from it (so tags, anchors and merge keys behave exactly as in ``safe_load``), and walks the nodes to
record lines; the tests hold both paths to the same results.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from flowscope.errors import UserError
from flowscope.yamlsafe import SEVERAL, YamlLimits, checked, compose_all, construct, fast_documents

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Duplicate:
    """A mapping key written twice; ``safe_load`` keeps the last value silently, we report it."""

    path: KeyPath
    line: int
    first_line: int


@dataclass
class Document:
    """One parsed YAML document: its value, the 1-based line of each key path, and repeated keys."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)

    def line_of(self, path: KeyPath) -> int | None:
        """Line of ``path`` (a key or a list item), else of its nearest recorded ancestor."""
        for n in range(len(path), -1, -1):
            line = self.lines.get(path[:n])
            if line is not None:
                return line
        return None


def load_yaml(text: str, source: str, limits: YamlLimits | None = None) -> Document:
    """Parse one YAML document like ``yaml.safe_load``, under :mod:`flowscope.yamlsafe`'s limits.

    Raises :class:`UserError` ``SOURCE:LINE: invalid YAML: ...`` (or the limit that was exceeded).
    """
    limits = checked(text, source, limits)
    built = fast_documents(text, limits, positions=True)
    if built is not None:
        if len(built) > 1:
            raise UserError(SEVERAL, source)
        return _built(built[0]) if built else Document(None)
    nodes = compose_all(text, source, limits)
    if len(nodes) > 1:
        raise UserError(SEVERAL, source)
    return _document(nodes[0] if nodes else None, text, source)


def load_yaml_all(text: str, source: str, limits: YamlLimits | None = None) -> list[Document]:
    """Every document of a multi-document YAML text (``---`` separated), each with its lines."""
    limits = checked(text, source, limits)
    built = fast_documents(text, limits, positions=True)
    if built is not None:
        return [_built(doc) for doc in built]
    return reference_documents(text, source, limits)


def reference_documents(text: str, source: str, limits: YamlLimits | None = None) -> list[Document]:
    """The node-tree path: what :func:`load_yaml_all` falls back on, and what tests compare it with."""
    return [_document(node, text, source) for node in compose_all(text, source, limits)]


def _built(doc: Any) -> Document:
    data, lines, dups = doc
    return Document(data, lines, [Duplicate(*d) for d in dups])


def _document(node: yaml.Node | None, text: str, source: str) -> Document:
    duplicates: list[Duplicate] = []
    if node is not None:
        _find_duplicates(node, (), duplicates, set())
    doc = Document(construct(node, text, source), duplicates=duplicates)
    if node is not None:
        doc.lines[()] = node.start_mark.line + 1
        _walk(node, (), doc, ())
    return doc


def _find_duplicates(node: yaml.Node, path: KeyPath, out: list[Duplicate], visited: set[int]) -> None:
    # Runs before construction, while merge keys (``<<``) are still separate entries: a key that
    # overrides a merged one is not a duplicate. ``visited`` stops at aliases already walked.
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key, line = str(key_node.value), key_node.start_mark.line + 1
                if key in seen:
                    out.append(Duplicate((*path, key), line, seen[key]))
                seen[key] = line
                _find_duplicates(value_node, (*path, key), out, visited)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _find_duplicates(item, (*path, i), out, visited)


def _walk(node: yaml.Node, path: KeyPath, doc: Document, ancestors: tuple[int, ...]) -> None:
    # Construction already flattened merge keys into ``node.value`` (merged entries first), so a key
    # written explicitly wins the line, as it wins the value. ``ancestors`` stops recursive aliases.
    if id(node) in ancestors:
        return
    ancestors = (*ancestors, id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            child = (*path, str(key_node.value))
            doc.lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, doc, ancestors)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            doc.lines[child] = item.start_mark.line + 1
            _walk(item, child, doc, ancestors)


def dotted(path: Iterable[str | int]) -> str:
    """``("flows", 2, "to")`` -> ``flows[2].to``: how errors name a key."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def suggest(word: str, choices: Iterable[str], what: str = "expected one of") -> str:
    """`` (did you mean x?)`` for a close match, else `` (expected one of: a, b)``; empty without choices."""
    options = sorted({str(c) for c in choices})
    if not options:
        return ""
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    if close:
        return f" (did you mean {' or '.join(close)}?)"
    shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return f" ({what}: {shown})"


def type_name(value: Any) -> str:
    """The YAML-ish name of a loaded value's type, for ``expected X, got Y`` messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def show(value: Any, limit: int = 60) -> str:
    """A short repr of a user's value for an error message: scalars quoted, containers by type."""
    if isinstance(value, Mapping | list):
        return f"a {type_name(value)}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
