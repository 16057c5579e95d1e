"""Data categories and data uses: fideslang's default taxonomy, read from the ``fideslang`` package.

Zones name what they protect (``user.location.precise``) and what it may serve (``marketing.advertising``)
in fideslang's vocabulary, so a zone written here means the same thing to Fides and to the privacy teams
who already use that taxonomy. The names come from the package, never from a copy: a newer fideslang
brings its new names with it.

fideslang is imported on first use only (it builds pydantic models, about 0.35 s), so ``flowscope
lineage`` and ``scan`` without zones never pay for it.

Names are hierarchical, dot-separated: a rule on ``marketing`` covers ``marketing.advertising.first_party``.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from typing import Literal

Kind = Literal["data category", "data use"]


@functools.lru_cache(maxsize=1)
def _taxonomy() -> tuple[frozenset[str], frozenset[str]]:
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    categories = frozenset(c.fides_key for c in DEFAULT_TAXONOMY.data_category)
    uses = frozenset(u.fides_key for u in DEFAULT_TAXONOMY.data_use)
    return categories, uses


def data_categories() -> frozenset[str]:
    """Every data category of fideslang's default taxonomy (``user.location.precise``, ...)."""
    return _taxonomy()[0]


def data_uses() -> frozenset[str]:
    """Every data use of fideslang's default taxonomy (``marketing.advertising``, ...)."""
    return _taxonomy()[1]


def problem(kind: Kind, name: str) -> str | None:
    """Why ``name`` is not a known ``kind``, with the closest names; None when it is known."""
    known = data_categories() if kind == "data category" else data_uses()
    if name in known:
        return None
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    return f"unknown {kind} {name!r} in fideslang's default taxonomy{hint}"


def covers(rule: str, name: str) -> bool:
    """Does a rule on ``rule`` apply to ``name``: the same name or one below it in the hierarchy."""
    return name == rule or name.startswith(rule + ".")


def most_specific(name: str, rules: Iterable[str]) -> str | None:
    """The longest of ``rules`` that covers ``name``, or None."""
    best: str | None = None
    for rule in rules:
        if covers(rule, name) and (best is None or len(rule) > len(best)):
            best = rule
    return best
