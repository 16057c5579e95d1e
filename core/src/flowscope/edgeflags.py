"""What a walk may filter on, kept as bits on every stored edge row (``edge_rows.flags``).

Zones walk only DIRECT hops when asked (``direct_only``), the page filters by evidence kind, and a
compact walk index needs both without decoding each edge's JSON. So the write path sums them up in one
integer per row:

- ``DIRECT`` (1): the edge carries a DIRECT transformation, or none at all (a dataset-level flow with no
  column detail moves the data itself);
- ``INDIRECT`` (2): it carries an INDIRECT one (filter, join, group by, sort, window, condition);
- ``MASKED`` (4): every transformation masks the value (hash, redaction);
- one bit per signal kind, ``KIND_BITS[kind]``.

An edge key stored by several scopes has one row per scope; a walk that filters keeps the key when any
of its rows passes (the merged edge has the union of the rows' evidence). Rows written before this column
existed hold 0 and pass every filter until their scope is scanned again.
"""

from __future__ import annotations

from collections.abc import Iterable

from flowscope.model import SIGNAL_KINDS, Edge

DIRECT = 1
INDIRECT = 2
MASKED = 4
KIND_BITS: dict[str, int] = {kind: 1 << (3 + i) for i, kind in enumerate(SIGNAL_KINDS)}


def edge_flags(edge: Edge) -> int:
    """The flags of one edge (see the module docstring)."""
    flags = 0
    if not edge.transformations:
        flags = DIRECT
    else:
        for t in edge.transformations:
            flags |= DIRECT if t.type == "DIRECT" else INDIRECT
        if edge.masked:
            flags |= MASKED
    for basis in edge.bases:
        flags |= KIND_BITS.get(basis.kind, 0)
    return flags


def kinds_mask(kinds: Iterable[str]) -> int:
    """The bits of ``kinds``; an unknown kind is a ValueError naming the known ones."""
    mask = 0
    for kind in kinds:
        if kind not in KIND_BITS:
            raise ValueError(f"unknown evidence kind {kind!r}; expected one of {', '.join(SIGNAL_KINDS)}")
        mask |= KIND_BITS[kind]
    return mask


def kinds_of(flags: int) -> list[str]:
    """The signal kinds whose bits are set in ``flags``."""
    return [kind for kind, bit in KIND_BITS.items() if flags & bit]
