"""The Aho-Corasick path (pyahocorasick, the optional ``aho`` extra): one automaton over every needle of a
``match()`` call, then one pass over the request's text whatever the number of sources. Every occurrence it
reports goes through the same whitespace, boundary and leaf rules as the plain path, so both give the same hits."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from flowscope_probes.matching.leaves import RequestText
from flowscope_probes.matching.search import Found, Needle, boundary_ok, record

_module: Any = None


def _ahocorasick() -> Any:
    global _module
    if _module is None:
        _module = importlib.import_module("ahocorasick")
    return _module


class AhoSearch:
    """An automaton over the anchors of ``needles`` (needles sharing an anchor share an entry)."""

    def __init__(self, needles: Sequence[Needle]) -> None:
        by_anchor: dict[str, list[Needle]] = {}
        for nd in needles:
            by_anchor.setdefault(nd.anchor, []).append(nd)
        automaton = _ahocorasick().Automaton()
        for anchor, group in by_anchor.items():
            automaton.add_word(anchor, (len(anchor), group))
        automaton.make_automaton()
        self._automaton = automaton

    def search(self, rt: RequestText, found: Found, lo: int = 0, hi: int | None = None) -> None:
        """Record every occurrence in text[lo:hi]; the engine keeps the first MAX_PATHS leaves per sink."""
        text = rt.text
        hi = len(text) if hi is None else hi
        for end, (m, group) in self._automaton.iter(text, lo, hi):
            q = end + 1
            p = q - m
            for nd in group:
                i, j = nd.span(text, p, q) if nd.before or nd.after else (p, q)
                if i >= lo and 0 < j <= hi and boundary_ok(nd, text, i, j):
                    record(found, nd, rt, i, j)
