"""Search primitives shared by the plain and the Aho-Corasick paths: needles, the boundary rule, recording.

Token-boundary rule of CONTAINS: where the needle begins (ends) with an alphanumeric character, the character
before (after) it in the sink text must not be alphanumeric; a needle that begins (ends) with punctuation needs
no boundary on that side. So ``42`` matches in ``user 42 x``, ``id=42,`` and ``last_location:42`` (``_`` and
``:`` separate tokens) but not in ``1423``. One more rule for numbers: a decimal point followed (preceded) by a
digit is part of the number, so ``42`` is not found in ``42.5`` and ``7749`` not in ``37.7749``.

Whitespace: a needle with spaces (a normalized value such as ``ada lovelace``) is searched as its parts with any
run of whitespace between them, which is what collapsing the whitespace of the sink text would give, without
rewriting the text.
"""

from __future__ import annotations

from flowscope_probes.matching.leaves import RequestText

# Found occurrences: canon id -> {start offset of the leaf: True if the value is the whole leaf (EXACT_MATCH)}.
Found = dict[int, dict[int, bool]]


class Needle:
    """One searched string: a normalized source value or one of its JSON-escaped spellings.

    A value with spaces is searched by its longest part (the ``anchor``: fewer false starts, and a longer
    string is found faster), then the parts ``before`` and ``after`` it are matched around it.
    """

    __slots__ = ("after", "anchor", "before", "canon", "text")

    def __init__(self, text: str, canon: int) -> None:
        self.text = text
        self.canon = canon
        if " " in text:
            parts = text.split(" ")
            a = max(range(len(parts) - 1, -1, -1), key=lambda n: len(parts[n]))  # the last longest part
            self.anchor: str = parts[a]
            self.before: tuple[str, ...] = tuple(parts[:a])
            self.after: tuple[str, ...] = tuple(parts[a + 1 :])
        else:
            self.anchor = text
            self.before = self.after = ()

    def span(self, text: str, p: int, q: int) -> tuple[int, int]:
        """The whole occurrence around the anchor found at text[p:q]; (-1, -1) when the other parts are not
        there, each after (before) a run of whitespace."""
        if self.before:
            p = extend_back(text, p, self.before)
            if p < 0:
                return -1, -1
        if self.after:
            q = extend(text, q, self.after)
        return p, q


def extend_back(text: str, i: int, parts: tuple[str, ...]) -> int:
    """Start of ``parts`` matched backwards from ``i``, each before one or more whitespace characters; -1 if not."""
    for part in reversed(parts):
        k = i
        while k > 0 and text[k - 1].isspace():
            k -= 1
        if k == i or not text.endswith(part, 0, k):
            return -1
        i = k - len(part)
    return i


def extend(text: str, j: int, parts: tuple[str, ...]) -> int:
    """End of ``parts`` matched from ``j`` on, each after one or more whitespace characters; -1 if not."""
    n = len(text)
    for part in parts:
        k = j
        while k < n and text[k].isspace():
            k += 1
        if k == j or not text.startswith(part, k):
            return -1
        j = k + len(part)
    return j


def boundary_ok(nd: Needle, text: str, i: int, j: int) -> bool:
    """Whether the occurrence text[i:j] of ``nd`` starts and ends on token boundaries."""
    if i > 0:
        first = text[i]  # the needle's first character (the text is the needle there)
        if first.isalnum():
            c = text[i - 1]
            if c.isalnum() or (c == "." and first.isdigit() and i > 1 and text[i - 2].isdigit()):
                return False
    if j < len(text):
        last = text[j - 1]
        if last.isalnum():
            c = text[j]
            if c.isalnum() or (c == "." and last.isdigit() and j + 1 < len(text) and text[j + 1].isdigit()):
                return False
    return True


def record(found: Found, nd: Needle, rt: RequestText, i: int, j: int) -> int:
    """Record a boundary-checked occurrence text[i:j] under its leaf's start offset; returns the leaf's end.
    EXACT_MATCH when the occurrence is the whole leaf but for surrounding whitespace."""
    start, end = rt.leaf_bounds(i, j)
    text = rt.text
    exact = (i == start or text[start:i].isspace()) and (j == end or text[j:end].isspace())
    leaves = found.get(nd.canon)
    if leaves is None:
        found[nd.canon] = {start: exact}
    elif exact or start not in leaves:
        leaves[start] = exact or leaves.get(start, False)
    return end


def scan(nd: Needle, rt: RequestText, found: Found, lo: int, hi: int, first: int | None = None) -> None:
    """Record where ``nd`` occurs in text[lo:hi] with str.find (the first occurrence per leaf: a later one in
    the same leaf cannot be a whole-leaf match when the first is not). ``first``: where the anchor was already
    found, when the caller looked."""
    text = rt.text
    anchor = nd.anchor
    m = len(anchor)
    spaced = bool(nd.before or nd.after)
    p = text.find(anchor, lo, hi) if first is None else first
    while p != -1:
        i, j = nd.span(text, p, p + m) if spaced else (p, p + m)
        if i >= lo and 0 < j <= hi and boundary_ok(nd, text, i, j):
            p = text.find(anchor, record(found, nd, rt, i, j) + 1, hi)
        else:
            p = text.find(anchor, p + 1, hi)


def scan_at(nd: Needle, rt: RequestText, found: Found, starts: list[int]) -> None:
    """:func:`scan` over the places where ``nd``'s anchor was found beforehand (the C speedups' ``find``), in
    text order: the same rules, only without the search."""
    text = rt.text
    n = len(text)
    m = len(nd.anchor)
    spaced = bool(nd.before or nd.after)
    resume = 0
    for p in starts:
        if p < resume:  # inside a leaf already recorded for this needle
            continue
        i, j = nd.span(text, p, p + m) if spaced else (p, p + m)
        if i >= 0 and 0 < j <= n and boundary_ok(nd, text, i, j):
            resume = record(found, nd, rt, i, j) + 1
