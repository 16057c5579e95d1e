"""The project's one YAML parser: ``yaml.safe_load`` semantics with bounded cost on hostile input.

Every YAML file flowscope reads (its config, declared flows, zone and review files, ML configs, model
packs) is someone else's text. Plain PyYAML has three ways to be taken down by a small file:

* an alias bomb ("billion laughs"): nine anchors each aliased nine times make a 450-byte file that
  expands to 10^9 nodes for any code that walks the loaded value as a tree;
* a self-referencing alias (``&a [*a]``): a recursive value that sends tree walks into a loop;
* deep nesting: PyYAML's C composer recurses without a limit (100,000 levels of ``[`` crash the process
  with a segmentation fault), its Python composer and constructor raise ``RecursionError``.

So documents are composed here from the parser's event stream, iteratively, while counting. Limits
(:class:`YamlLimits`, each configurable in ``flowscope.yaml`` under ``yaml:``, see docs/configuration.md):

* ``max_bytes``: the text's size, checked before parsing;
* ``max_depth``: nesting of collections (200 is far above real files: Kubeflow IR nests ~20 deep,
  Kubernetes manifests ~15), and low enough for PyYAML's recursive constructor;
* ``max_nodes``: nodes of the document *with every alias expanded* (each alias counts the size of what it
  names), so whatever later walks the value as a tree does bounded work. Counting costs one addition per
  alias, not an expansion.

A file over a limit fails alone with :class:`UserError` naming the file, the line, and the limit.

Two paths build the values. The fast one (:mod:`flowscope.yamlbuild`) turns libyaml's events into dicts
and lists in one pass, with no node tree: about 3x faster than the reference path, and faster than
``yaml.load(text, CSafeLoader)``, which cannot bound depth at all. Whatever it does not build exactly as PyYAML does, and every error,
goes to the reference path here: nodes composed from the same events under the same limits, then
PyYAML's own constructor, whose messages are the ones reported. Values PyYAML's constructor fails on
with a plain Python error (``!!int 0b_``, ``2024-02-30``) are reported as invalid YAML at their line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from flowscope.errors import UserError
from flowscope.yamlbuild import Built, Unsupported, build, stock

# libyaml's parser when PyYAML was built with it (same events and marks; several times faster)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ReferenceLoader(_Loader):  # type: ignore[misc]
    """PyYAML's safe loader, with a value its constructors fail on reported as YAML at its line."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, KeyError, IndexError, AttributeError, TypeError, OverflowError) as exc:
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            shown = repr(node.value) if isinstance(node, yaml.ScalarNode) else f"a {node.id}"
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {shown} as {tag} ({exc})", node.start_mark
            ) from None


@dataclass(frozen=True)
class YamlLimits:
    """What one YAML file may cost. Defaults: 32 MiB, 200 levels, 5 million expanded nodes."""

    max_bytes: int = 32 * 1024 * 1024
    max_depth: int = 200
    max_nodes: int = 5_000_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_depth", "max_nodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.max_depth > 400:
            raise ValueError("max_depth must be at most 400 (deeper values overflow the YAML constructor)")


DEFAULT_LIMITS = YamlLimits()
# Process-wide rather than a ContextVar: collectors parse in worker threads, which start with an empty
# context. Every config load sets it (to the defaults when ``yaml:`` is absent).
_current = DEFAULT_LIMITS


def set_limits(limits: YamlLimits) -> None:
    """Set by the config loader from ``yaml:``; every later load in this process uses them."""
    global _current
    _current = limits


def current_limits() -> YamlLimits:
    return _current


class YamlError(UserError):
    """Invalid YAML or a YAML file over a limit: ``SOURCE:LINE: message``."""


def compose_all(text: str, source: str, limits: YamlLimits | None = None) -> list[yaml.Node | None]:
    """Every document's root node (None for an empty document), composed under ``limits``.

    libyaml parses when PyYAML has it; on a syntax error the text is parsed again by PyYAML's pure-Python
    parser, whose messages say more ("expected <block end>, but found '-'").
    """
    limits = checked(text, source, limits)
    try:
        return _compose_with(_Loader, text, source, limits)
    except yaml.YAMLError as fast_exc:
        if _Loader is not yaml.SafeLoader:
            try:
                _compose_with(yaml.SafeLoader, text, source, limits)
            except yaml.YAMLError as exc:
                raise invalid(exc, source) from None
        raise invalid(fast_exc, source) from None


def checked(text: str, source: str, limits: YamlLimits | None = None) -> YamlLimits:
    """The limits in force (``limits`` or the process's), once ``text`` is known to be within max_bytes."""
    limits = limits or current_limits()
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > limits.max_bytes else len(text)
    if size > limits.max_bytes:
        raise YamlError(
            f"YAML text is {size} bytes, over the limit of {limits.max_bytes} (yaml.max_bytes)", source
        )
    return limits


def fast_documents(text: str, limits: YamlLimits, positions: bool) -> list[Built] | None:
    """Every document built in one pass from the events, or None where the reference path must run."""
    if not stock():
        return None
    try:
        return build(text, limits.max_depth, limits.max_nodes, positions)
    except MemoryError:
        raise
    except (Unsupported, yaml.YAMLError):
        return None
    except Exception:  # a value PyYAML's constructors reject: the reference path says which, where
        return None


def _compose_with(loader_cls: Any, text: str, source: str, limits: YamlLimits) -> list[yaml.Node | None]:
    loader = loader_cls(text)
    try:
        return list(_Composer(loader, source, limits).documents())
    finally:
        loader.dispose()


def construct(node: yaml.Node | None, text: str, source: str) -> Any:
    """The Python value of a composed node, as ``safe_load`` would build it."""
    if node is None:
        return None
    loader = _ReferenceLoader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise invalid(exc, source) from None
    except (ValueError, KeyError, IndexError, AttributeError, TypeError, OverflowError) as exc:
        raise YamlError(f"invalid YAML: {exc}", source) from None
    finally:
        loader.dispose()


SEVERAL = "expected a single YAML document, found several (separated by ---)"


def safe_load(text: str, source: str, limits: YamlLimits | None = None) -> Any:
    """``yaml.safe_load`` under limits: one document (none -> None; several -> an error)."""
    limits = checked(text, source, limits)
    docs = fast_documents(text, limits, positions=False)
    if docs is not None:
        if len(docs) > 1:
            raise YamlError(SEVERAL, source)
        return docs[0][0] if docs else None
    nodes = compose_all(text, source, limits)
    if len(nodes) > 1:
        raise YamlError(SEVERAL, source)
    return construct(nodes[0] if nodes else None, text, source)


def safe_load_all(text: str, source: str, limits: YamlLimits | None = None) -> list[Any]:
    """Every document of ``text`` (``yaml.safe_load_all`` under limits)."""
    limits = checked(text, source, limits)
    docs = fast_documents(text, limits, positions=False)
    if docs is not None:
        return [doc[0] for doc in docs]
    return [construct(node, text, source) for node in compose_all(text, source, limits)]


def invalid(exc: yaml.YAMLError, source: str) -> UserError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "unparsable"
        return YamlError(f"invalid YAML: {problem}", source, mark.line + 1 if mark else None)
    return YamlError(f"invalid YAML: {exc}", source)


class _Composer:
    """PyYAML's composer (``yaml.composer.Composer``) without recursion, counting as it goes."""

    def __init__(self, loader: Any, source: str, limits: YamlLimits) -> None:
        self.loader = loader
        self.source = source
        self.limits = limits

    def _over(self, what: str, mark: Any) -> YamlError:
        return YamlError(what, self.source, mark.line + 1 if mark is not None else None)

    def documents(self) -> Iterator[yaml.Node | None]:
        loader = self.loader
        loader.get_event()  # StreamStart
        while not loader.check_event(yaml.StreamEndEvent):
            loader.get_event()  # DocumentStart
            if loader.check_event(yaml.DocumentEndEvent):
                loader.get_event()
                yield None
                continue
            yield self._document()
            loader.get_event()  # DocumentEnd
        loader.get_event()

    def _document(self) -> yaml.Node:
        loader, limits = self.loader, self.limits
        # anchor -> (node, expanded size); the size is None while the anchored collection is still open
        anchors: dict[str, tuple[yaml.Node, int | None]] = {}
        # open collections: [node, anchor, expanded size so far, pending mapping key]
        stack: list[list[Any]] = []
        total = 0  # nodes of the document so far, aliases expanded
        while True:
            event: Any = loader.get_event()
            node: yaml.Node
            if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                kind: Any = (
                    yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
                )
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(kind, None, event.implicit)
                node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
                self._anchor(anchors, event, node, None)
                stack.append([node, event.anchor, 1, None])
                if len(stack) > limits.max_depth:
                    raise self._over(
                        f"YAML nests deeper than {limits.max_depth} levels (yaml.max_depth)", event.start_mark
                    )
                total += 1
                continue
            if isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                node, anchor, size, _ = stack.pop()
                node.end_mark = event.end_mark
                if anchor is not None:
                    anchors[anchor] = (node, size)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise self._over(f"invalid YAML: alias *{event.anchor} names no anchor", event.start_mark)
                node, known = anchors[event.anchor]
                if known is None:
                    raise self._over(
                        f"YAML alias *{event.anchor} refers to a collection that contains it",
                        event.start_mark,
                    )
                size = known
                total += size
            else:  # a scalar
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
                self._anchor(anchors, event, node, 1)
                size = 1
                total += 1
            if total > limits.max_nodes:
                raise self._over(
                    f"YAML expands to more than {limits.max_nodes} nodes with its aliases (yaml.max_nodes)",
                    event.start_mark,
                )
            if not stack:
                return node
            parent = stack[-1]
            parent[2] += size
            if isinstance(parent[0], yaml.SequenceNode):
                parent[0].value.append(node)
            elif parent[3] is None:
                parent[3] = node
            else:
                parent[0].value.append((parent[3], node))
                parent[3] = None

    def _anchor(
        self, anchors: dict[str, tuple[yaml.Node, int | None]], event: Any, node: yaml.Node, size: int | None
    ) -> None:
        if event.anchor is None:
            return
        if event.anchor in anchors:
            first = anchors[event.anchor][0].start_mark.line + 1
            raise self._over(
                f"invalid YAML: anchor &{event.anchor} defined twice (first on line {first})",
                event.start_mark,
            )
        anchors[event.anchor] = (node, size)
