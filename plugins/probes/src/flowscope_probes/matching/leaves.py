"""The sink payloads of one request flattened into leaves (field path, text), joined into one lower-cased text.

Paths: ``""`` for a scalar payload, ``key`` and ``a.b`` for mapping keys, ``[0]`` for list and tuple positions
(so DB-API parameter tuples keep their column position), ``a.b[0].c`` nested. Keys are user data too: a key
that is not an identifier is spelled as a salted placeholder (``prefs.{key-3f2a9c1e7b}``, see
:mod:`flowscope_probes.keys`), and a key object's own text is never asked for. A string whose text is a JSON
object or array (a request body, a cached document) is decoded and walked below its own path; dict keys are
structure, not data, and are not searched. Sets and unknown objects are skipped (calling an arbitrary
``__str__`` inside the host could have side effects).

All leaves of all sinks are joined with NUL separators into one text and lower-cased in one call, so a search
is one C-level pass instead of one per leaf. A hit finds its leaf by the separators around it (``rfind`` and
``find``) and its leaf index by counting separators before it; no needle spans a separator (NUL is not
whitespace and values holding it are not searched), and a NUL inside a leaf is replaced by a space first, so
every NUL of the text is a separator. Leaves keep their whitespace: the search treats any run of whitespace in
the text as the single space of a normalized value (:mod:`.search`), which costs nothing when a value has no
space, and EXACT_MATCH allows surrounding whitespace in the leaf.

Bounds per sink (so a huge payload cannot stall the worker): at most ``MAX_LEAVES`` leaves, ``MAX_CHARS``
characters and ``MAX_DEPTH`` levels of nesting, JSON text decoded only up to ``MAX_JSON`` characters, and
``MAX_REQUEST_CHARS`` for all sinks of a request together; the rest is not searched and the sink is counted as
truncated. (Text and bytes payloads are already cut to ``max_payload_bytes`` when captured; these bounds are
for the containers the probes hold by reference.)
"""

from __future__ import annotations

import importlib
import json
import os
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from itertools import accumulate
from operator import add, sub
from typing import Any

from flowscope_probes.keys import PLAIN
from flowscope_probes.matching.normalize import number_text, scalar_text


def _load_speedups() -> Any:
    """The optional C speedups (setup.py), or None: not built, or FLOWSCOPE_PROBES_PURE=1 (to compare, or to
    rule the C code out). The Python code below gives the same results without them."""
    if os.environ.get("FLOWSCOPE_PROBES_PURE") == "1":
        return None
    try:
        return importlib.import_module("flowscope_probes.matching._speedups")
    except ImportError:
        return None


speedups: Any = _load_speedups()

MAX_LEAVES = 10_000
MAX_CHARS = 1 << 20
MAX_REQUEST_CHARS = 4 << 20  # all sinks of one request together
MAX_JSON = MAX_CHARS  # longer text is searched as it is, never decoded
MAX_DEPTH = 32
SEP = "\x00"
_JSON_START = frozenset("{[ \t\r\n")


class RequestText:
    """The searchable form of a request's sink payloads.

    Occurrences are placed by their leaf's start offset, found with ``rfind``/``find`` of the separator around
    them (cheap C calls); the arrays mapping offsets to leaf indexes are built only when a hit needs its path.
    """

    __slots__ = (
        "_first_leaf",
        "_info",
        "_keys",
        "_lens",
        "_nodes",
        "_paths",
        "_payloads",
        "_starts",
        "known_leaves",
        "text",
        "truncated",
    )

    def __init__(
        self, payloads: Sequence[object], *, compiled: bool = True, keys: Callable[[object], str] = PLAIN
    ) -> None:
        """``compiled``: flatten with the C speedups when they are built (the same leaves either way);
        ``keys`` spells mapping keys in paths (a :class:`~flowscope_probes.keys.KeyRule`: keys that are not
        identifiers are user data and become placeholders)."""
        texts: list[str] = []
        first_leaf: list[int] = []
        truncated = 0
        # the C walk also notes where each leaf is (info: node, key per leaf; nodes: the containers met)
        info: list[object] | None = None
        nodes: list[object] = []  # three items per container: parent node, key in it, is a mapping
        paths: Paths | None = None  # the Python walk spells every path as it goes
        if compiled and speedups is not None:
            info = []
            sinks = payloads if type(payloads) is list else list(payloads)
            first_leaf, truncated = speedups.walk_sinks(sinks, texts, MAX_LEAVES, info, nodes)
        else:
            paths = Paths(keys)
            for payload in payloads:
                first = len(texts)
                first_leaf.append(first)
                if _walk(payload, "", 0, paths, texts, first + MAX_LEAVES):
                    truncated += 1
        low = speedups.join_lower(texts, MAX_CHARS) if info is not None else None
        if low is None:
            low, texts, trimmed = _join_lower(texts, first_leaf)
            if trimmed:
                truncated += trimmed
                info = paths = None  # leaf indexes moved: paths come from walking the payload again
        self.text = low
        self.truncated = truncated
        self._payloads = payloads
        self._info = info
        self._nodes = nodes
        self._paths = paths
        self._keys = keys
        self._first_leaf = first_leaf
        self._lens = texts  # only their lengths are used, by _index()
        self._starts: list[int] | None = None
        self.known_leaves: dict[int, int] = {}  # leaf start offset -> leaf index, when a search knows it

    def path(self, k: int) -> str:
        """The field path of leaf ``k``: from the Python walk, or spelled from the containers the C walk noted
        (paths are only needed for hits), or else (payloads over MAX_CHARS, types the C walk leaves to Python)
        found by walking the sink's payload again with paths, the same way, up to that leaf."""
        if self._paths is not None:
            return self._paths[k]
        info = self._info
        if info is not None and info[2 * k] != -2:
            return _spell(self._nodes, info[2 * k], info[2 * k + 1], self._keys)  # type: ignore[arg-type]
        s = bisect_right(self._first_leaf, k) - 1
        local = k - self._first_leaf[s]
        paths = Paths(self._keys)
        _walk(self._payloads[s], "", 0, paths, [], local + 1)
        return paths[local] if local < len(paths) else "?"  # "?": the host changed the payload meanwhile

    def _index(self) -> list[int]:
        if self._starts is None:
            lens = list(map(len, self._lens))
            ends = list(map(add, accumulate(lens), range(len(lens))))  # leaf k ends at sum(lens[:k+1]) + k
            self._starts = list(map(sub, ends, lens))
        return self._starts

    def leaf_bounds(self, i: int, j: int) -> tuple[int, int]:
        """(start, end) offsets of the leaf holding text[i:j] (which never holds a separator)."""
        text = self.text
        end = text.find(SEP, j)
        return text.rfind(SEP, 0, i) + 1, (len(text) if end < 0 else end)

    def leaves_at(self, offsets: list[int]) -> dict[int, tuple[int, int]]:
        """(leaf index, sink index) of the leaf holding each offset: known from the search (the C speedups
        count separators as they go), or else separators before it are counted, one C call per offset over
        the stretch since the previous one, so all of them cost one pass at most."""
        text = self.text
        first_leaf = self._first_leaf
        known = self.known_leaves
        out = {}
        k = 0
        prev = 0
        for off in sorted(offsets):
            leaf = known.get(off)
            k = k + text.count(SEP, prev, off) if leaf is None else leaf
            prev = off
            out[off] = (k, bisect_right(first_leaf, k) - 1)
        return out

    def sink_spans(self) -> list[tuple[int, int]]:
        """(start, end) offsets of each sink's text; (0, 0) for a sink without leaves."""
        starts = self._index()
        n = len(starts)
        out = []
        for s, first in enumerate(self._first_leaf):
            last = self._first_leaf[s + 1] if s + 1 < len(self._first_leaf) else n
            if last > first:
                end = starts[last] - 1 if last < n else len(self.text)
                out.append((starts[first], end))
            else:
                out.append((0, 0))
        return out


def _join_lower(texts: list[str], first_leaf: list[int]) -> tuple[str, list[str], int]:
    """(the leaves joined by NUL and lower-cased, the leaves as joined, how many sinks were trimmed): sinks
    over MAX_CHARS are trimmed (``texts`` and ``first_leaf`` change then), a NUL inside a leaf becomes a space,
    and a leaf whose lower case is longer (U+0130) is lower-cased on its own so offsets hold per leaf."""
    trimmed = 0
    if sum(map(len, texts)) + len(texts) > MAX_CHARS:  # measured before joining: a sink may be over its bound
        trimmed = _trim_sinks(texts, first_leaf)  # last sink first, so indexes hold
        trimmed += _trim_request(texts, first_leaf)
    joined = SEP.join(texts)
    if texts and joined.count(SEP) != len(texts) - 1:  # a leaf holds a NUL itself: it would split the leaf
        texts = [t.replace(SEP, " ") for t in texts]
        joined = SEP.join(texts)
    low = joined.lower()
    if len(low) != len(joined):
        texts = [t.lower() for t in texts]
        low = SEP.join(texts)
    return low, texts, trimmed


def _spell(nodes: list[object], node: int, key: object, keys: Callable[[object], str]) -> str:
    """The path of the place ``key`` in container ``node`` (-1: the payload itself), spelled as _walk does;
    ``nodes`` holds three items per container (parent node, key in it, is a mapping)."""
    chain = []
    while node >= 0:
        at = 3 * node
        chain.append((nodes[at + 2], key))
        node, key = nodes[at], nodes[at + 1]  # type: ignore[assignment]
    path = ""
    for mapping, key in reversed(chain):
        path = ((path + "." if path else "") + keys(key)) if mapping else f"{path}[{key}]"
    return path


def _trim_sinks(texts: list[str], first_leaf: list[int]) -> int:
    """Trim every sink over MAX_CHARS; the number of sinks trimmed."""
    trimmed = 0
    for s in range(len(first_leaf) - 1, -1, -1):
        first = first_leaf[s]
        last = first_leaf[s + 1] if s + 1 < len(first_leaf) else len(texts)
        removed = _trim(texts, first, last)
        if removed:
            trimmed += 1
            for t in range(s + 1, len(first_leaf)):
                first_leaf[t] -= removed
    return trimmed


def _trim_request(texts: list[str], first_leaf: list[int]) -> int:
    """Drop the last leaves until the request's text is within MAX_REQUEST_CHARS; the sinks cut."""
    total = 0
    for k, t in enumerate(texts):
        total += len(t) + 1
        if total > MAX_REQUEST_CHARS:
            cut = {bisect_right(first_leaf, j) - 1 for j in range(k, len(texts))}
            del texts[k:]
            return len(cut)
    return 0


def _trim(texts: list[str], first: int, last: int) -> int:
    """Drop the leaves of texts[first:last] from the first one that goes over MAX_CHARS; how many went."""
    total = 0
    for k in range(first, last):
        total += len(texts[k]) + 1
        if total > MAX_CHARS:
            del texts[k:last]
            return last - k
    return 0


class Paths(list[str]):
    """The paths of the leaves a Python walk met, in order, and how mapping keys are spelled in them."""

    __slots__ = ("name",)

    def __init__(self, name: Callable[[object], str] = PLAIN) -> None:
        super().__init__()
        self.name = name


def _walk(value: object, path: str, depth: int, paths: Paths | None, texts: list[str], cap: int) -> bool:
    """Append the leaves of ``value`` (and their paths, unless ``paths`` is None); True when something was left
    out (too deep or too many leaves). The C ``walk`` of the speedups follows the same steps without paths."""
    t = type(value)
    if t is str:
        s: str = value  # type: ignore[assignment]
        if s and s[0] in _JSON_START and s.lstrip()[:1] in ("{", "["):
            try:
                doc = _loads(s)
            except (ValueError, RecursionError):
                doc = None
            if type(doc) is dict or type(doc) is list:
                return _walk(doc, path, depth + 1, paths, texts, cap)
        return _leaf(s, path, paths, texts, cap)
    if t is int or t is float:
        try:
            text = str(value) if t is int else number_text(value)  # type: ignore[arg-type]
        except ValueError:  # an int with more digits than int->str allows
            return False
        if text is None:
            return False
        return _leaf(text, path, paths, texts, cap)
    if depth >= MAX_DEPTH:
        return True
    if t is dict or (t is not list and t is not tuple and isinstance(value, Mapping)):
        return _walk_mapping(value, path, depth, paths, texts, cap)  # type: ignore[arg-type]
    if t is list or t is tuple or isinstance(value, list | tuple):
        cut = False
        items: Sequence[object] = value  # type: ignore[assignment]
        for idx, v in enumerate(items):
            if _walk(v, "" if paths is None else f"{path}[{idx}]", depth + 1, paths, texts, cap):
                cut = True
        return cut
    if value is None:
        return False
    if isinstance(value, bytes | bytearray | memoryview):
        text = bytes(value).decode("utf-8", "replace").replace(SEP, " ")  # binary data is full of NULs
        return _walk(text, path, depth, paths, texts, cap)
    text = scalar_text(value)
    if text is None:
        return False
    return _leaf(text, path, paths, texts, cap)


def _leaf(text: str, path: str, paths: Paths | None, texts: list[str], cap: int) -> bool:
    """Append one leaf (and its path); True when the sink already holds ``cap`` leaves (left out)."""
    if len(texts) >= cap:
        return True
    if paths is not None:
        paths.append(path)
    texts.append(text)
    return False


def _walk_mapping(
    value: Mapping[object, object], path: str, depth: int, paths: Paths | None, texts: list[str], cap: int
) -> bool:
    cut = False
    prefix = path + "." if path else ""
    for key, v in value.items():
        name = "" if paths is None else prefix + paths.name(key)
        if type(v) is str and not (v and v[0] in _JSON_START):  # a plain string: no call into _walk
            if _leaf(v, name, paths, texts, cap):
                return True
        elif _walk(v, name, depth + 1, paths, texts, cap):
            cut = True
    return cut


def walk_texts(value: object, depth: int, texts: list[str], cap: int) -> bool:
    """The leaf texts of ``value`` without paths: the pure-Python path, and what the C ``walk`` calls for the
    types it leaves to Python (subclasses, mappings, Decimal, ...)."""
    return _walk(value, "", depth, None, texts, cap)


def leaves(payload: object, keys: Callable[[object], str] = PLAIN) -> list[tuple[str, str]]:
    """(path, text) of each leaf of one payload: for tests and debugging."""
    paths = Paths(keys)
    texts: list[str] = []
    _walk(payload, "", 0, paths, texts, MAX_LEAVES)
    return list(zip(paths, texts, strict=True))


def matcher_build() -> str:
    """Which matcher code runs in this process: "compiled" (the C speedups) or "python"."""
    return "python" if speedups is None else "compiled"


def _loads(text: str) -> object:
    """``json.loads`` for text of at most MAX_JSON characters (the C walk calls it too): a payload's leaf of
    10 MB of JSON is not decoded on the worker thread, where decoding it would hold the GIL for long."""
    if len(text) > MAX_JSON:
        raise ValueError("too long to decode")
    return json.loads(text)


def _alnum_table() -> bytes:
    return bytes(1 if chr(i).isalnum() else 0 for i in range(256))


if speedups is not None:
    speedups.configure(_loads, walk_texts, _alnum_table(), MAX_DEPTH)
