"""Taint labels, flows and function summaries: the values the analysis computes, shared by its modules."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from flowscope.model import Asset, Evidence
from flowscope_hack_static.ir import Call, Expr, Sub, Var

COLLECTOR = "hack_static"
MAX_HOPS = 6


class Label(NamedTuple):
    """A tuple, not a dataclass: the analysis makes and hashes millions of them."""

    source: Asset
    hops: tuple[Evidence, ...]
    masked: bool = False
    transformed: bool = False
    narrow: bool = False  # a whole source value: reading a key narrows it to that field
    opaque: int = 0  # calls passed through that nothing models (capped at OPAQUE_MAX): weaker evidence


OPAQUE_MAX = 3
MAX_GUARDS = 6  # a flow's conditions, each once: recursion through a guarded call adds none


def guards_of(*parts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(g for part in parts for g in part))[:MAX_GUARDS]


Taint = dict[str | None, frozenset[Label]]


@dataclass(slots=True, unsafe_hash=True)  # never changed once made; not frozen: see ir.py
class Flow:
    function: str
    source: Asset
    target: Asset
    hops: tuple[Evidence, ...]
    masked: bool
    transformed: bool
    guards: tuple[str, ...]
    unresolved: bool = False
    opaque: int = 0  # unmodelled calls the data went through on its way

    def __reduce__(self) -> tuple[type[Flow], tuple[object, ...]]:
        # pickled as its fields: half the time of a slotted dataclass's state, and less to unpickle
        return Flow, (
            self.function,
            self.source,
            self.target,
            self.hops,
            self.masked,
            self.transformed,
            self.guards,
            self.unresolved,
            self.opaque,
        )


_ASSETS: dict[tuple[str, str, str | None], Asset] = {}


def asset(namespace: str, name: str, field: str | None = None) -> Asset:
    """The one :class:`Asset` of these parts in this process. The analysis names the same few tables and
    fields again and again; a look-up costs a fraction of making a frozen dataclass, and the flows of a
    batch then share their assets, which keeps what the scan's workers ship back small."""
    key = (namespace, name, field)
    out = _ASSETS.get(key)
    if out is None:
        if len(_ASSETS) >= 100_000:  # bounded: a huge code base names more
            _ASSETS.clear()
        out = _ASSETS[key] = Asset(namespace, name, field)
    return out


def with_field(a: Asset, field: str | None) -> Asset:
    return asset(a.namespace, a.name, field)


PARAM_NS = "param"  # the namespace of the labels that stand for a function's parameters in its summary


@dataclass(slots=True, unsafe_hash=True)
class ParamSink:
    """Parameter ``param`` (or its key ``field``) reaches ``target`` inside the function."""

    param: int
    field: str | None
    target: Asset
    hops: tuple[Evidence, ...]
    masked: bool
    transformed: bool
    guards: tuple[str, ...]
    unresolved: bool
    opaque: int = 0


RECEIVER = -1  # the parameter index of the object a method is called on (``self``, ``$this``)


@dataclass(frozen=True)
class Summary:
    """What a call of the function does with data: parameters reaching sinks, sources and parameters returned.

    Parameter ``RECEIVER`` is the object the method was called on, so ``$b->setEmail($e)->save()`` follows a
    builder through its methods. ``params`` names the positional parameters, so keyword arguments find
    theirs; ``kwargs`` is the index of a ``**kwargs`` parameter (-2: none), which takes the others."""

    sinks: frozenset[ParamSink] = frozenset()
    returns: frozenset[Label] = frozenset()  # real sources, and PARAM_NS labels for pass-through
    params: tuple[str, ...] = ()
    kwargs: int = -2

    def merged(self, other: Summary) -> Summary:
        """Two functions of one name (overloads, redefinitions): what either does, the same in any order
        (a cached scan meets them in another order than a fresh one)."""
        return Summary(
            widen_sinks(set(self.sinks | other.sinks)),
            widen(self.returns | other.returns),
            max(self.params, other.params),
            max(self.kwargs, other.kwargs),
        )


@dataclass
class Result:
    flows: list[Flow] = field(default_factory=list)
    dead: int = 0  # flows dropped because their guard is constantly false
    work: int = 0  # statements analyzed plus labels they moved (linear in statements: see widen)
    summaries: dict[str, Summary] = field(default_factory=dict)


def guard_value(text: str, constants: dict[str, str | bool | None]) -> bool | None:
    """True/False when the guard's value is known from literals and the file's constants, else None."""
    t = " ".join(text.split())
    negate = False
    while True:
        t = t.strip()
        if t.startswith("(") and t.endswith(")"):
            t = t[1:-1]
        elif t.startswith("!"):
            negate, t = not negate, t[1:]
        elif t.startswith("not "):
            negate, t = not negate, t[4:]
        else:
            break
    t = re.sub(r"^(\$?this->|self::|static::|self\.|cls\.)", "", t)
    value: bool | None
    if t in ("false", "False", "0", "nullptr", "None", "null"):
        value = False
    elif t in ("true", "True", "1"):
        value = True
    else:
        const = constants.get(t.split("::")[-1].split(".")[-1])
        value = const if isinstance(const, bool) else None
    return None if value is None else value != negate


EMPTY: frozenset[Label] = frozenset()


def flatten(t: Taint) -> frozenset[Label]:
    if len(t) == 1:  # most taints: one value, already a frozenset
        for labels in t.values():
            return labels
    return frozenset().union(*t.values()) if t else EMPTY


def mark(
    labels: frozenset[Label],
    masked: bool | None = None,
    transformed: bool = True,
    narrow: bool | None = None,
    opaque: int = 0,
) -> frozenset[Label]:
    """Labels marked (``opaque``: one more call nothing models, which the data went through)."""
    return frozenset(
        Label(
            lb.source,
            lb.hops,
            lb.masked if masked is None else masked,
            transformed,
            lb.narrow if narrow is None else narrow,
            min(lb.opaque + opaque, OPAQUE_MAX),
        )
        for lb in labels
    )


def sorts_before(
    opaque: int, hops: tuple[Evidence, ...], cur_opaque: int, cur_hops: tuple[Evidence, ...]
) -> bool:
    """Whether (opaque, number of hops, hop locations, then snippets and tags) sorts before the current
    best's: the widening order, total so that no choice depends on the order values arrive in. Compared
    field by field so the locations (a tuple built per value) are only looked at on a tie."""
    if opaque != cur_opaque:
        return opaque < cur_opaque
    if len(hops) != len(cur_hops):
        return len(hops) < len(cur_hops)
    if hops is cur_hops:
        return False
    here, there = tuple(ev.location for ev in hops), tuple(ev.location for ev in cur_hops)
    if here != there:
        return here < there
    # the same places with other snippets or tags: still one order, whatever order they came in (a set's
    # order varies with PYTHONHASHSEED, and a cached scan meets them in another order than a fresh one)
    return tuple((ev.snippet, ev.detail) for ev in hops) < tuple((ev.snippet, ev.detail) for ev in cur_hops)


def widen(labels: frozenset[Label]) -> frozenset[Label]:
    """One label per (source, masked, transformed, narrow): the one with the fewest hops (then the first
    locations, so every process picks the same). Merging a variable's old and new values keeps both
    labels of a source reached two ways; repeated ``$s .= ...`` in a loop doubled them per statement.
    Widened, a variable holds at most one label per source, and analysis time is linear in statements."""
    if len(labels) < 2:
        return labels
    best: dict[tuple[Asset, bool, bool, bool], Label] = {}
    for lb in labels:
        key = (lb.source, lb.masked, lb.transformed, lb.narrow)
        cur = best.get(key)
        if cur is None or sorts_before(lb.opaque, lb.hops, cur.opaque, cur.hops):
            best[key] = lb
    return labels if len(best) == len(labels) else frozenset(best.values())


def merge(a: frozenset[Label], b: frozenset[Label]) -> frozenset[Label]:
    """``a | b``, widened when it adds labels to ``a``."""
    if not b or b is a:
        return a
    if not a:
        return b
    u = a | b
    return u if len(u) == len(a) else widen(u)


def hop(labels: frozenset[Label], ev: Evidence) -> frozenset[Label]:
    out = set()
    for lb in labels:
        hops = lb.hops
        if hops:
            last = hops[-1]
            if last is ev or (last.location == ev.location and last == ev):  # already there
                if len(hops) <= MAX_HOPS:
                    out.add(lb)
                    continue
            else:
                hops = (*hops, ev)
        else:
            hops = (ev,)
        if len(hops) > MAX_HOPS:
            hops = hops[: MAX_HOPS - 1] + hops[-1:]
        out.add(Label(lb.source, hops, lb.masked, lb.transformed, lb.narrow, lb.opaque))  # not _replace: hot
    return frozenset(out)


def describe(expr: Expr) -> str:
    if isinstance(expr, Var):
        return expr.name
    if isinstance(expr, Sub):
        return f"{describe(expr.base)}[{expr.key or '?'}]"
    if isinstance(expr, Call):
        return f"{expr.callee}()"
    return "expr"


def widen_sinks(sinks: Iterable[ParamSink]) -> frozenset[ParamSink]:
    """One entry per parameter, field, target and flags: the one with the fewest hops (then the first
    locations). A recursive call reaches a sink by ever longer paths; kept all, a summary would grow every
    round and never settle; kept the shortest, it settles, and so every scan ends at the same summaries."""
    best: dict[tuple[object, ...], ParamSink] = {}
    for ps in sinks:
        key = (ps.param, ps.field, ps.target, ps.masked, ps.transformed, ps.guards, ps.unresolved)
        cur = best.get(key)
        if cur is None or sorts_before(ps.opaque, ps.hops, cur.opaque, cur.hops):
            best[key] = ps
    return frozenset(best.values())


def widen_flows(flows: list[Flow]) -> list[Flow]:
    """One flow per source, target, flags and guards: the one with the fewest hops (see widen_sinks)."""
    best: dict[tuple[object, ...], Flow] = {}
    for f in flows:
        key = (f.function, f.source, f.target, f.masked, f.transformed, f.guards, f.unresolved)
        cur = best.get(key)
        if cur is None or sorts_before(f.opaque, f.hops, cur.opaque, cur.hops):
            best[key] = f
    return list(best.values()) if len(best) < len(flows) else flows
