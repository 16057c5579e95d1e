"""One pass from libyaml's events to Python values, and on request the line of every key path.

``yaml.load(text, CSafeLoader)`` spends most of its time outside C: composing ``yaml.Node`` objects,
then running PyYAML's generator-based constructor over them. Here each event goes straight into the
dict or list it belongs to, so a document costs one walk of its events and nothing else:

* plain scalars resolve without regular expressions where the answer is fixed: a word such as ``yes``,
  ``null`` or ``<<`` by one table lookup, anything not starting with a digit, sign or dot is a string;
  numbers and dates go through PyYAML's own resolver and constructors, remembered per text;
* merge keys (``<<``) keep PyYAML's order: merged mappings first (a list of them last to first), then the
  mapping's own keys, each later write winning;
* with ``positions``, every write of a key path (or list item) to its line is logged in the order
  ``yamlpos``'s node walk made it, merged entries before explicit ones, an alias repeating what its
  anchor logged under the new path, so ``dict(log)`` is that walk's result; keys written twice are
  noted as they come, outside merged mappings, as the walk did.

Anything this pass does not build the way PyYAML does raises :class:`Unsupported` and the caller runs
the reference path (compose nodes, PyYAML's constructor): every error (syntax, limits, bad anchors,
unhashable keys, unconstructable tags), the collection tags ``!!set``, ``!!omap`` and ``!!pairs``,
tags PyYAML does not know, and, for positions only, layouts whose lines would need the node tree
(an anchor defined inside a merged mapping and aliased again, keys before a ``<<`` that hold anchors).
The limits are counted exactly as the reference composer counts them, so a hostile file costs this
pass no more than it costs that one before it gives up.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

# libyaml's parser (the same events and marks as PyYAML's Python parser, several times faster) and
# loader, when PyYAML was built with libyaml
_Parser: Any = getattr(getattr(yaml, "cyaml", None), "CParser", yaml.SafeLoader)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Built = tuple[
    Any, dict[tuple[str | int, ...], int] | None, list[tuple[tuple[str | int, ...], int, int]] | None
]

_T = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = _T + "str", _T + "map", _T + "seq"
_SCALAR_TAGS = frozenset(_T + t for t in ("null", "bool", "int", "float", "binary", "timestamp"))
_MAP_TAGS = frozenset({None, "!", _MAP})
_SEQ_TAGS = frozenset({None, "!", _SEQ})

_MAPPING, _SEQUENCE, _ROOT, _MERGE_LIST = 0, 1, 2, 3  # what the open collection is


class Unsupported(Exception):
    """This input goes to the reference path: it has an error to report, or a rare construct."""


class _Mark:
    """Sentinels, named for debugging."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_MERGE = _Mark("<<")  # the plain scalar ``<<``: a merge key, an error anywhere else
_VALUE = _Mark("=")  # the plain scalar ``=``: the string "=" as a key, an error anywhere else
_NO_KEY = _Mark("no key")  # a mapping waiting for its next key
_MERGE_KEY = _Mark("merge key")  # a mapping waiting for the value of ``<<``
_OPEN = _Mark("open")  # an anchored collection not yet closed: an alias to it would be recursive
_MISSING = _Mark("missing")

# Plain scalars whose value PyYAML's resolver fixes by their whole text (bool, null, merge, value).
_WORDS: dict[str, Any] = {"": None, "~": None, "<<": _MERGE, "=": _VALUE}
for _word, _flag in (
    ("yes", True),
    ("no", False),
    ("true", True),
    ("false", False),
    ("on", True),
    ("off", False),
):
    for _spelling in (_word, _word.capitalize(), _word.upper()):
        _WORDS[_spelling] = _flag
for _spelling in ("null", "Null", "NULL"):
    _WORDS[_spelling] = None
# Other plain scalars resolve to a non-string only when they start with one of these (int, float,
# timestamp); PyYAML's resolver indexes its expressions by first character the same way.
_NUMERIC_START = frozenset("-+.0123456789")

_resolver: Any = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_STOCK_RESOLVERS = {k: list(v) for k, v in yaml.resolver.Resolver.yaml_implicit_resolvers.items()}
_numbers: dict[str, Any] = {}  # plain scalars that looked numeric -> their value (immutable), bounded


def stock() -> bool:
    """False when someone registered resolvers on the loader: then only the reference path is right."""
    return _Loader.yaml_implicit_resolvers == _STOCK_RESOLVERS  # type: ignore[no-any-return]


def _number(value: str) -> Any:
    tag = _resolver.resolve(ScalarNode, value, (True, False))
    if tag == _STR:
        obj: Any = value
    elif tag in _SCALAR_TAGS:
        obj = _Loader.yaml_constructors[tag](_constructor, ScalarNode(tag, value))
    else:
        raise Unsupported(tag)
    if obj == obj:  # NaN is never equal to itself: PyYAML makes a new one each time, so do we
        if len(_numbers) >= 20_000:
            _numbers.clear()
        _numbers[value] = obj
    return obj


def _tagged(tag: str, event: Any) -> Any:
    """A scalar with an explicit tag: ``!!str 1``, ``!!binary ...``, ``! x``."""
    if tag == "!":
        tag = _resolver.resolve(ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value
    if tag in _SCALAR_TAGS and tag in _Loader.yaml_constructors:
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark)
        return _Loader.yaml_constructors[tag](_constructor, node)
    raise Unsupported(tag)


def build(text: str, max_depth: int, max_nodes: int, positions: bool) -> list[Built]:
    """Every document of ``text``: (value, key path -> line, duplicate keys) or (value, None, None)."""
    parser = _Parser(text)
    get = parser.get_event
    get()  # StreamStart
    docs: list[Built] = []
    while get().__class__ is not StreamEndEvent:  # DocumentStart
        docs.append(_document(get, max_depth, max_nodes, positions))
    return docs


def _document(get: Any, max_depth: int, max_nodes: int, pos: bool) -> Built:
    # One frame per open collection, its state in locals; the parent's state is pushed on ``stack``.
    anchors: dict[str, Any] = {}  # name -> (value, size, line, log start, log end, path length, text, ok)
    stack: list[tuple[Any, ...]] = []
    log: list[tuple[tuple[str | int, ...], int]] = []  # (key path, line) in the reference walk's order
    dups: list[tuple[tuple[str | int, ...], int, int]] = []
    total = 0  # nodes so far with aliases expanded, as the reference composer counts them
    ranged: list[str] = []  # anchored collections with a log range, as they closed
    root: list[Any] = []
    cur: Any = root  # the open collection
    kind = _ROOT
    path: tuple[str | int, ...] = ()  # its key path
    key: Any = _NO_KEY  # a mapping's pending key
    kpath: tuple[str | int, ...] = ()  # that key's path
    seen: dict[str, int] | None = None  # a mapping's keys so far -> line, for duplicates (None: not noted)
    merges: list[dict[Any, Any]] | None = None  # a mapping's merged mappings, in PyYAML's order
    muted = False  # inside the value of a merge key: no duplicates noted, anchors not reusable for lines
    anchor: str | None = None
    t0 = l0 = line0 = 0  # total, log length and line when the collection opened
    mend = vstart = amark = 0  # log: end of merged entries, start of a merge value; len(ranged) at open
    words, numbers = _WORDS, _numbers

    event = get()
    if event.__class__ is DocumentEndEvent:  # pragma: no cover - libyaml emits an empty scalar instead
        return None, {} if pos else None, [] if pos else None
    if pos:
        log.append(((), event.start_mark.line + 1))
    while True:
        cls = event.__class__
        if cls is ScalarEvent:
            total += 1
            if total > max_nodes:
                raise Unsupported("max_nodes")
            value = event.value
            tag = event.tag
            if tag is None:
                if event.implicit[0]:
                    obj = words.get(value, _MISSING)
                    if obj is _MISSING:
                        if value[0] in _NUMERIC_START:
                            obj = numbers.get(value, _MISSING)
                            if obj is _MISSING:
                                obj = _number(value)
                        else:
                            obj = value
                else:
                    obj = value
            else:
                obj = _tagged(tag, event)
            if event.anchor is not None:
                if event.anchor in anchors:
                    raise Unsupported("anchor defined twice")
                line = event.start_mark.line + 1
                anchors[event.anchor] = (obj, 1, line, 0, 0, 0, value, True)
            if kind == _MAPPING:
                if key is _NO_KEY:
                    if obj is _MERGE:
                        key = _MERGE_KEY
                        vstart = len(log)
                    else:
                        key = "=" if obj is _VALUE else obj
                        if pos:
                            kpath = (*path, value)
                            line = event.start_mark.line + 1
                            log.append((kpath, line))
                            if seen is not None:
                                if value in seen:
                                    dups.append((kpath, line, seen[value]))
                                seen[value] = line
                elif key is _MERGE_KEY or obj is _MERGE or obj is _VALUE:
                    raise Unsupported("merge key or '=' as a value")
                else:
                    cur[key] = obj
                    key = _NO_KEY
            elif obj is _MERGE or obj is _VALUE or kind == _MERGE_LIST:
                raise Unsupported("merge key or '=' as a value")
            else:
                if pos and kind == _SEQUENCE:
                    log.append(((*path, len(cur)), event.start_mark.line + 1))
                cur.append(obj)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            total += 1
            is_map = cls is MappingStartEvent
            if event.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
                raise Unsupported(event.tag)
            cpath = path
            cmuted = muted
            ckind = _MAPPING if is_map else _SEQUENCE
            if kind == _MAPPING:
                if key is _NO_KEY:
                    raise Unsupported("a collection as a mapping key")
                if key is _MERGE_KEY:
                    cmuted = True  # a merged mapping's entries are logged at this mapping's path
                    if not is_map:
                        ckind = _MERGE_LIST
                else:
                    cpath = kpath
            elif kind == _SEQUENCE:
                cpath = (*path, len(cur))
                if pos:
                    log.append((cpath, event.start_mark.line + 1))
            elif kind == _MERGE_LIST and (pos or not is_map):
                raise Unsupported("a mapping written inside a list of merged mappings")
            stack.append(
                (cur, kind, path, key, kpath, seen, merges, muted, anchor, t0, l0, line0, mend, vstart, amark)
            )
            if len(stack) > max_depth:
                raise Unsupported("max_depth")
            cur = {} if is_map else []
            kind, path, key, merges, muted = ckind, cpath, _NO_KEY, None, cmuted
            seen = {} if pos and not muted and is_map else None
            anchor = event.anchor
            if anchor is not None:
                if anchor in anchors:
                    raise Unsupported("anchor defined twice")
                anchors[anchor] = _OPEN
                line0 = event.start_mark.line + 1
            t0 = total - 1
            l0 = mend = len(log)
            amark = len(ranged)
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            if total > max_nodes:  # the reference composer checks here too: its last node may be a collection
                raise Unsupported("max_nodes")
            obj = cur
            if merges is not None:
                obj = {}
                for merged in merges:
                    obj.update(merged)
                obj.update(cur)
            done_kind = kind
            if anchor is not None:
                anchors[anchor] = (obj, total - t0, line0, l0, len(log), len(path), None, not muted)
                ranged.append(anchor)
            (cur, kind, path, key, kpath, seen, merges, muted, anchor, t0, l0, line0, mend, vstart, amark) = (
                stack.pop()
            )
            if kind == _MAPPING:
                if key is _MERGE_KEY:
                    if merges is None:
                        merges = []
                    if done_kind == _MERGE_LIST:
                        for item in reversed(obj):
                            merges.append(item[0])
                        if pos:
                            # PyYAML merges a list of mappings last to first
                            merged_log = [
                                ((*path, *p[item[3] :]), n)
                                for item in reversed(obj)
                                for p, n in log[item[1] : item[2]]
                            ]
                            mend = _merge_lines(log, merged_log, mend, vstart, anchors, ranged[amark:])
                    else:
                        merges.append(obj)
                        if pos:  # its entries are already logged at this mapping's path
                            mend = _merge_lines(log, None, mend, vstart, anchors, ranged[amark:])
                else:
                    cur[key] = obj
                key = _NO_KEY
            elif kind == _MERGE_LIST:
                cur.append((obj, 0, 0, 0))
            else:
                cur.append(obj)
        elif cls is AliasEvent:
            info = anchors.get(event.anchor)
            if info is None or info is _OPEN:
                raise Unsupported("alias to no anchor, or to a collection that contains it")
            obj, size, line, ls, le, plen, text, ok = info
            total += size
            if total > max_nodes:
                raise Unsupported("max_nodes")
            if pos and text is None and not ok:
                raise Unsupported("an anchor defined inside a merged mapping, aliased again")
            if kind == _MAPPING:
                if key is _NO_KEY:
                    if text is None or obj is _MERGE or obj is _VALUE:
                        raise Unsupported("an alias as a mapping key")
                    key = obj
                    if pos:
                        kpath = (*path, text)
                        log.append((kpath, line))
                        if seen is not None:
                            if text in seen:
                                dups.append((kpath, line, seen[text]))
                            seen[text] = line
                elif key is _MERGE_KEY:
                    if obj.__class__ is not dict:
                        raise Unsupported("merging something other than a mapping")
                    if merges is None:
                        merges = []
                    merges.append(obj)
                    if pos:
                        merged_log = [((*path, *p[plen:]), n) for p, n in log[ls:le]]
                        mend = _merge_lines(log, merged_log, mend, vstart, anchors, ranged[amark:])
                    key = _NO_KEY
                else:
                    if obj is _MERGE or obj is _VALUE:
                        raise Unsupported("merge key or '=' as a value")
                    cur[key] = obj
                    key = _NO_KEY
                    if pos and text is None:
                        log.extend([((*kpath, *p[plen:]), n) for p, n in log[ls:le]])
            elif kind == _SEQUENCE:
                if obj is _MERGE or obj is _VALUE:
                    raise Unsupported("merge key or '=' as a value")
                if pos:
                    ipath = (*path, len(cur))
                    log.append((ipath, line))
                    if text is None:
                        log.extend([((*ipath, *p[plen:]), n) for p, n in log[ls:le]])
                cur.append(obj)
            elif kind == _MERGE_LIST:
                if obj.__class__ is not dict:
                    raise Unsupported("merging something other than a mapping")
                cur.append((obj, ls, le, plen))
            else:  # pragma: no cover - an alias at the root names no anchor of its document
                raise Unsupported("alias at the root")
        elif cls is DocumentEndEvent:
            return root[0], dict(log) if pos else None, dups if pos else None
        else:  # pragma: no cover - libyaml sends no other event inside a document
            raise Unsupported(str(event))
        event = get()


def _merge_lines(
    log: list[Any],
    merged: list[Any] | None,
    mend: int,
    vstart: int,
    anchors: dict[str, Any],
    closed: list[str],
) -> int:
    """Put a merge's logged lines before the mapping's own keys (PyYAML merges first, then the keys).

    ``merged`` is None when the merged entries are already at the end of ``log`` (from ``vstart``).
    Anchors ``closed`` since the last merge whose lines are among the keys moved follow them.
    Returns the new end of the merged entries.
    """
    if merged is None:
        if vstart == mend:  # no key of this mapping since the last merge: already in order
            return len(log)
        merged = log[vstart:]
    explicit = log[mend:vstart]
    del log[mend:]
    log.extend(merged)
    end = len(log)
    log.extend(explicit)
    if explicit:
        for name in closed:
            value, size, line, start, stop, plen, text, ok = anchors[name]
            if mend <= start < vstart:
                shift = end - mend
                anchors[name] = (value, size, line, start + shift, stop + shift, plen, text, ok)
    return end
