"""Whether a function with a loop needs its second pass.

The analysis runs the body of a function with a loop twice, so that what the loop body assigns late reaches
the statements before it (the next iteration). The second pass starts from the state the first ended with
and differs from the first only where a statement sees a variable in that state: a variable read before the
function (re)defines it. It repeats the first pass exactly (same flows, same summary) when each of those
holds at the end what it held at the start, and when each variable first written by a weak (loop or
guarded) assignment ended the pass between what it held before that merge and what it held just after.
The cost of finding those variables is one walk over the body's expressions, far less than a second pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowscope_hack_static.ir import Call, DictLit, Expr, Other, Stmt, Sub, Tmpl, Var, access_path, walk
from flowscope_hack_static.taint import Label

Taint = dict[str | None, frozenset[Label]]

_READ = -1
_DEFINE = -2


@dataclass(slots=True)
class Exposure:
    reads: list[str] = field(default_factory=list)  # first touched by a read
    merges: dict[int, list[str]] = field(default_factory=dict)  # statement -> variables it first merges into
    made_by_call: set[str] = field(default_factory=set)  # first touched by ``v = call()``


def exposure(body: list[Stmt]) -> Exposure:
    """How each variable of ``body`` is first touched, in statement order (a statement reads, then writes)."""
    first: dict[str, int] = {}
    out = Exposure()
    for i, stmt in enumerate(body):
        used: set[str] = set()
        merged: set[str] = set()
        _names(stmt.value, used)
        target = stmt.target
        fresh = isinstance(target, Var) and target.name not in first and target.name not in used
        if isinstance(target, Var):
            if not stmt.guards and not stmt.in_loop:
                if fresh:
                    first[target.name] = _DEFINE
            else:
                merged.add(target.name)
        elif target is not None:
            _written(target, merged, used)
        for name in used:
            if name not in first:
                first[name] = _READ
                out.reads.append(name)
        for name in merged:
            if name not in first:
                first[name] = i
                out.merges.setdefault(i, []).append(name)
        if fresh and isinstance(target, Var) and isinstance(stmt.value, Call):
            out.made_by_call.add(target.name)  # its maker is set before anything reads it, in either pass
    return out


def _written(target: Expr, merged: set[str], used: set[str]) -> None:
    """As ``_Function.assign`` walks a target that is no plain variable: a key write keeps the rest of the
    old value (a read), a variable inside something else (``list($a, $b)``, ``auto& x``) is merged into."""
    path = access_path(target)
    if path is None:
        for part in walk(target):
            _written(part, merged, used)
    elif path[1] is None and not isinstance(target, Sub):
        merged.add(path[0])
    else:
        used.add(path[0])


def settled(
    exp: Exposure,
    start: dict[str, Taint],
    end: dict[str, Taint],
    after_merge: dict[str, Taint],
    typed: set[str],
) -> bool:
    """True when a second pass from ``end`` would repeat the first from ``start``.

    ``after_merge`` holds each merged variable's value just after its first merge; ``typed`` the variables
    whose maker (the call that assigned them) the first pass recorded."""
    if not typed <= exp.made_by_call:  # a maker left from the first pass would be seen early
        return False
    for name in exp.reads:
        if end.get(name) != start.get(name):
            return False
    for names in exp.merges.values():
        for name in names:
            final = end.get(name, {})
            if not (_within(start.get(name, {}), final) and _within(final, after_merge[name])):
                return False
    return True


def _within(small: Taint, big: Taint) -> bool:
    """Every key of ``small`` is in ``big`` with no label ``big`` lacks there (so merging adds nothing)."""
    for key, labels in small.items():
        other = big.get(key)
        if other is None or not labels <= other:
            return False
    return True


def _names(e: Expr, out: set[str]) -> None:
    """Every variable evaluating ``e`` may read (``a.b.c`` also reads ``a.b`` and ``a`` when unbound)."""
    if isinstance(e, Var):
        name = e.name
        out.add(name)
        while "." in name:
            name = name.rpartition(".")[0]
            out.add(name)
    elif isinstance(e, Sub):
        _names(e.base, out)
    elif isinstance(e, Call):
        for a in e.args:
            _names(a, out)
        for _, v in e.kwargs:
            _names(v, out)
        if e.receiver is not None:
            _names(e.receiver, out)
    elif isinstance(e, DictLit):
        for _, v in e.entries:
            _names(v, out)
    elif isinstance(e, Tmpl | Other):
        for p in e.parts:
            if not isinstance(p, str):
                _names(p, out)


def loop_ranges(body: list[Stmt]) -> dict[int, int]:
    """Each run of consecutive loop statements: its first statement's index -> its last one's."""
    out: dict[int, int] = {}
    first = -1
    for i, stmt in enumerate(body):
        if stmt.in_loop and first < 0:
            first = i
        if first >= 0 and (i + 1 == len(body) or not body[i + 1].in_loop):
            out[first] = i
            first = -1
    return out


def loop_carried(
    body: list[Stmt],
    loops: dict[int, int],
    entry: dict[int, dict[str, Taint]],
    back: dict[int, dict[str, Taint]],
) -> bool:
    """Whether a loop reads a variable that held more at the loop's end than at its start in the first pass:
    the next iteration sees that, and only a second pass from the loop's head finds what it reaches. The
    statements before the loop may have reset it (``$x = ''`` before ``foreach``), so the end state of the
    whole pass is not enough to tell (``settled``)."""
    for a, b in loops.items():
        read: set[str] = set()
        for stmt in body[a : b + 1]:
            _names(stmt.value, read)
            if stmt.target is not None and not isinstance(stmt.target, Var):
                _names(stmt.target, read)
        before, after = entry[a], back[a]
        for name in read:
            if not _within(after.get(name, {}), before.get(name, {})):
                return True
    return False
