"""Random YAML texts for the loader's property tests: anchors, aliases, merge keys, tags, styles, documents.

A document is a tree of tuples emitted as text in block or flow style. Each starts with two anchored
mappings (``&a``, ``&b``) that later entries alias and merge. ``TAME`` streams are mostly valid, so
merges, aliases and lines are exercised on input that loads; ``WILD`` ones add what fails (undefined
aliases, scalars merged, keys that are lists, values PyYAML's constructors reject, unknown tags).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

TAME_SCALARS = [
    "a", "b", "key", "x y", "yes", "No", "on", "OFF", "y", "n", "true", "False", "TRUE", "null", "Null",
    "~", "1", "-2", "+3", "0", "012", "0o12", "0x1F", "-0x1f", "0b101", "1_000", "1:30", "-190:20:30",
    "1.5", "-.5", "1e3", "1.0e+3", "6.8523015e+5", "685_230.15", "1:30.5", ".inf", "-.Inf", ".NaN",
    "2024-01-02", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-12-14 1:02:03",
    "2001-12-15T02:59:43.1Z", "1__0", "0.", "--", ".", "+.5", "-x", "'<<'", '"="',
    '"quoted"', "'single'", '"1"', '"<<"', '"yes"', "'~'", '""', "aGk=", "é", '"a\\tb"', "1 2",
]  # fmt: skip
WILD_SCALARS = [*TAME_SCALARS, "<<", "=", "0b_", "2024-02-30", "-"]
TAME_KEYS = ["a", "b", "c", "1", "yes", "~", "=", '"a"', "x y", "1.5", "2024-01-02", "'<<'", '"="', "null"]
WILD_KEYS = [*TAME_KEYS, "<<"]
TAME_SCALAR_TAGS = [None] * 20 + ["!!str", "!"]
WILD_SCALAR_TAGS = [
    *TAME_SCALAR_TAGS,
    "!!int", "!!float", "!!bool", "!!null", "!!binary", "!!timestamp", "!custom", "!!merge", "!!map", "!!set",
]  # fmt: skip
TAME_SEQ_TAGS = [None] * 10 + ["!!seq", "!"]
WILD_SEQ_TAGS = [*TAME_SEQ_TAGS, "!!omap", "!!pairs", "!!set", "!!map", "!!str", "!local"]
TAME_MAP_TAGS = [None] * 10 + ["!!map", "!"]
WILD_MAP_TAGS = [*TAME_MAP_TAGS, "!!set", "!!omap", "!!seq", "!!str", "!local"]
ANCHORS = [None] * 20 + ["c", "d", "e", "f"]
# tags the one-pass builder hands to PyYAML's constructor (or that PyYAML rejects anyway)
RARE = ("!!set", "!!omap", "!!pairs", "!!merge", "!custom", "!local")

Node = tuple[Any, ...]


def _scalar(texts: list[str], tags: list[Any], anchors: list[Any] = ANCHORS) -> st.SearchStrategy[Node]:
    return st.builds(
        lambda text, tag, anchor: ("scalar", text, tag, anchor),
        st.sampled_from(texts),
        st.sampled_from(tags),
        st.sampled_from(anchors),
    )


def _alias(names: list[str]) -> st.SearchStrategy[Node]:
    return st.builds(lambda name: ("alias", name), st.sampled_from(names))


def _merge_pair(names: list[str]) -> st.SearchStrategy[tuple[Node, Node]]:
    value = st.one_of(
        _alias(names),
        st.builds(
            lambda items: ("seq", items, None, None, True),
            st.lists(_alias(names), min_size=1, max_size=3),
        ),
        st.builds(
            lambda pairs, flow: ("map", pairs, None, None, flow),
            st.lists(
                st.tuples(_scalar(TAME_KEYS[:6], [None], [None]), _scalar(TAME_SCALARS, [None])), max_size=3
            ),
            st.booleans(),
        ),
    )
    return st.tuples(st.just(("scalar", "<<", None, None)), value)


def _nodes(wild: bool, aliases: bool) -> st.SearchStrategy[Node]:
    """Trees of scalars, aliases (to &a and &b, mostly), lists and mappings with merge keys."""
    scalars = _scalar(WILD_SCALARS if wild else TAME_SCALARS, WILD_SCALAR_TAGS if wild else TAME_SCALAR_TAGS)
    keys = _scalar(WILD_KEYS if wild else TAME_KEYS, [None] * 6 + ["!!str"])
    names = ["a", "b", "c", "d", "zz"] if wild else ["a", "b"]
    leaves = st.one_of(scalars, scalars, _alias(names)) if aliases else scalars

    def collections(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        key = st.one_of(keys, _alias(names), children) if wild and aliases else keys
        pair = st.tuples(key, children)
        pairs = st.lists(st.one_of(pair, pair, _merge_pair(names)) if aliases else pair, max_size=5)
        return st.one_of(
            st.builds(
                lambda items, tag, anchor, flow: ("seq", items, tag, anchor, flow),
                st.lists(children, max_size=4),
                st.sampled_from(WILD_SEQ_TAGS if wild else TAME_SEQ_TAGS),
                st.sampled_from(ANCHORS),
                st.booleans(),
            ),
            st.builds(
                lambda pairs, tag, anchor, flow: ("map", pairs, tag, anchor, flow),
                pairs,
                st.sampled_from(WILD_MAP_TAGS if wild else TAME_MAP_TAGS),
                st.sampled_from(ANCHORS),
                st.booleans(),
            ),
        )

    return st.recursive(leaves, collections, max_leaves=12 if aliases else 6)


def _document(wild: bool) -> st.SearchStrategy[Node]:
    """Two anchored mappings (&a, &b) first, in a mapping or a list, then a body that uses them."""
    # what the anchored mappings hold has no aliases: they would name an anchor not yet defined, or their own
    base = st.builds(
        lambda pairs, flow: ("map", pairs, None, None, flow),
        st.lists(st.tuples(_scalar(TAME_KEYS[:6], [None]), _nodes(wild, aliases=False)), max_size=3),
        st.booleans(),
    )
    body = _nodes(wild, aliases=True)
    names = ["a", "b", "c", "d", "zz"] if wild else ["a", "b"]
    keys = _scalar(WILD_KEYS if wild else TAME_KEYS, [None])
    as_map = st.builds(
        lambda a, b, pairs, flow: (
            "map",
            [
                (("scalar", "base_a", None, None), ("map", a[1], None, "a", a[4])),
                (("scalar", "base_b", None, None), ("map", b[1], None, "b", b[4])),
                *pairs,
            ],
            None,
            None,
            flow,
        ),
        base,
        base,
        st.lists(st.one_of(st.tuples(keys, body), _merge_pair(names)), max_size=5),
        st.booleans(),
    )
    as_list = st.builds(
        lambda a, b, rest, flow: (
            "seq",
            [("map", a[1], None, "a", a[4]), ("map", b[1], None, "b", b[4]), rest],
            None,
            None,
            flow,
        ),
        base,
        base,
        body,
        st.booleans(),
    )
    return st.one_of(as_map, as_map, as_list)


TAME = st.lists(_document(wild=False), min_size=1, max_size=3)
WILD = st.lists(_document(wild=True), min_size=1, max_size=2)


class _Emitter:
    """Text for one document; an anchor already defined in it is left out (PyYAML refuses it)."""

    def __init__(self) -> None:
        self.defined: set[str] = set()

    def props(self, tag: Any, anchor: Any) -> str:
        if anchor in self.defined:
            anchor = None
        if anchor:
            self.defined.add(anchor)
        return "".join(f"{p} " for p in (f"&{anchor}" if anchor else None, tag) if p)

    def flow(self, node: Node) -> str:
        kind = node[0]
        if kind == "alias":
            return f"*{node[1]} "
        if kind == "scalar":
            return self.props(node[2], node[3]) + (node[1] if node[1] else '""')
        props = self.props(node[2], node[3])
        if kind == "seq":
            return props + "[" + ", ".join(self.flow(item) for item in node[1]) + "]"
        return props + "{" + ", ".join(self.flow_pair(k, v) for k, v in node[1]) + "}"

    def flow_pair(self, key: Node, value: Node) -> str:
        if key[0] in ("seq", "map"):
            return f"? {self.flow(key)} : {self.flow(value)}"
        return f"{self.flow(key)}: {self.flow(value)}"

    def block(self, node: Node, indent: int = 0) -> list[str]:
        pad = " " * indent
        if not _block_child(node):
            return [pad + self.flow(node)]
        out: list[str] = []
        if node[0] == "seq":
            for item in node[1]:
                if _block_child(item):
                    out.append(f"{pad}-{(' ' + self.props(item[2], item[3])).rstrip()}")
                    out += self.block(item, indent + 2)
                else:
                    out.append(f"{pad}- {self.flow(item)}")
            return out
        for key, value in node[1]:
            if key[0] in ("seq", "map"):
                key_text = self.flow(key)
                out += [f"{pad}? {key_text}", f"{pad}: {self.flow(value)}"]
            elif _block_child(value):
                key_text = self.flow(key)
                out.append(f"{pad}{key_text}:{(' ' + self.props(value[2], value[3])).rstrip()}")
                out += self.block(value, indent + 2)
            else:
                key_text = self.flow(key)
                out.append(f"{pad}{key_text}: {self.flow(value)}")
        return out


def _block_child(node: Node) -> bool:
    return node[0] in ("seq", "map") and not node[4] and bool(node[1])


def emit(documents: list[Node]) -> str:
    texts = []
    for doc in documents:
        out = _Emitter()
        if _block_child(doc):
            head = f"--- {out.props(doc[2], doc[3])}".rstrip()
            texts.append(head + "\n" + "\n".join(out.block(doc)) + "\n")
        else:
            texts.append("--- " + out.flow(doc) + "\n")
    return "".join(texts)
