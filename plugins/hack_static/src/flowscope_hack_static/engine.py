"""Inter-procedural flow: per-function summaries solved to a bounded fixed point, across files and modules.

The unit of work is one function. A summary says which parameters (and which of their keys) reach which
sinks, and which sources and parameters a function returns. Every analysis of a function records the
summaries it looked up (its *dependencies*: call text -> the function it resolved to and that function's
summary). After each round the summaries are merged by name; only functions one of whose dependencies now
resolves to something else are analyzed again, so a change to a helper re-analyzes its callers, not the
code base. It stops when nothing is stale (the fixed point), or after ``max_rounds`` rounds, a bound for
pathological code. Only at the fixed point does a scan's result not depend on where it started, which is
what lets a cached scan (starting from the last scan's summaries) give exactly what a fresh one gives;
guards are kept once each and summaries of one name merge the same in any order, so recursion converges.

Callees are resolved by name: ``$this->f()`` and ``self.f()`` within the caller's class, ``Cls::f()`` and
``f()`` by qualified name, anything else by its last name when exactly one function with a summary has it;
a call on a receiver (``headers.get(k)``) never by a module-level function's name unless through its module.
The first analysis of every function needs no summaries, so it runs beside the front end on the process
pool; later rounds run in the parent on the functions that need them.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from flowscope_hack_static.analysis import analyze_function
from flowscope_hack_static.classify import words
from flowscope_hack_static.finish import finish
from flowscope_hack_static.ir import FileIR
from flowscope_hack_static.packs import Models
from flowscope_hack_static.taint import Result, Summary

_SELF = ("this.", "self.", "static.", "parent.", "cls.")
# Hack/PHP: UserMutator::create()->setEmail($e)->save(): a chain rooted at a static call of a class
_STATIC_ROOT = re.compile(r"^\\?(?:\w+\\)*(\w+)::\w+\(.*->\w+$", re.S)
EMPTY = Summary()

Key = tuple[str | None, str]  # (caller's class, callee text)
# What each lookup resolved to, and the summary it got (in a cache entry: that summary's digest)
Deps = dict[Key, tuple[str | None, "Summary | str | None"]]


@dataclass
class Unit:
    """One function of one file, with its latest analysis."""

    file: int  # index of its FileIR
    index: int  # index of the function in FileIR.functions
    name: str
    result: Result = field(default_factory=Result)
    deps: Deps = field(default_factory=dict)
    summary: Summary = EMPTY


_SAME = {"database": "db", "repository": "repo", "dao": "db"}


def by_receiver(receiver: str, names: list[str]) -> str | None:
    """Of several classes' methods of one name, the one whose class the receiver's name names:
    ``m_userService.createUser`` is ``UserService``'s, ``m_database->createUser`` ``UserDb``'s (None when no
    one class shares the most words with it)."""
    want = {_SAME.get(w, w) for w in words(receiver.rpartition(".")[2])}
    scored = [
        (len(want & {_SAME.get(w, w) for w in words(n.rpartition(".")[0].rpartition(".")[2])}), n)
        for n in names
    ]
    best = max((s for s, _ in scored), default=0)
    top = [n for s, n in scored if s == best]
    return top[0] if best and len(top) == 1 else None


def places_of(path: str) -> frozenset[str]:
    """The names a module-level function of ``path`` is reached through: its module and packages
    (``hc/lib/curl.py`` -> curl, lib, hc), as in ``curl.get(u)`` or ``from hc.lib.curl import get``."""
    parts = path.replace("\\", "/").split("/")
    parts[-1] = parts[-1].rpartition(".")[0] or parts[-1]
    return frozenset(p for p in parts if p and p != "__init__")


def module_places(names: list[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Module-level function name -> the places of the files that define it, of (name, path) pairs."""
    out: dict[str, frozenset[str]] = {}
    for name, path in names:
        if "." not in name:
            out[name] = out.get(name, frozenset()) | places_of(path)
    return out


class Index:
    """Callee text -> the summary of the function it names, over the non-empty summaries of a round.

    ``places`` (module-level function -> its modules and packages) keeps a call on a receiver,
    ``headers.get(k)`` or ``X.objects.get(pk=1)``, from resolving to a module-level function ``get``: only a
    call through that function's module (``curl.get(u)``) or a static/namespace call (``ns::get()``) does.
    Without ``places`` (an over-approximation of what may resolve) any function of the name is kept."""

    def __init__(
        self, summaries: dict[str, Summary], places: dict[str, frozenset[str]] | None = None
    ) -> None:
        self.full = summaries
        self.places = places
        short: dict[str, list[str]] = defaultdict(list)
        for name in summaries:
            short[name.rpartition(".")[2]].append(name)
        self.short = {k: v[0] for k, v in short.items() if len(v) == 1}
        self.several = {k: v for k, v in short.items() if len(v) > 1}
        self.memo: dict[Key, str | None] = {}
        self.digests: dict[str, str] = {}

    def resolve(self, cls: str | None, callee: str) -> str | None:
        key = (cls, callee)
        if key not in self.memo:
            self.memo[key] = self._resolve(cls, callee)
        return self.memo[key]

    def _resolve(self, cls: str | None, callee: str) -> str | None:
        name = callee.replace("::", ".").replace("->", ".")
        if name.startswith(_SELF):  # one test for the usual callee, which has none of the prefixes
            for prefix in _SELF:
                if name.startswith(prefix):
                    name = name[len(prefix) :]
                    if cls and f"{cls}.{name}" in self.full:
                        return f"{cls}.{name}"
        if name in self.full:
            return name
        head, _, last = name.rpartition(".")
        if "(" in last:
            return None
        if head.endswith(")"):  # WebhookHandler(event).handle(): that class's method or nothing
            made = head[: head.find("(")]
            if made[:1].isupper() and "." not in made:  # not DB::Instance().f(): a static's result
                return f"{made}.{last}" if f"{made}.{last}" in self.full else None
        root = _STATIC_ROOT.match(callee) if callee.count("->") > 1 else None
        if root is not None and root.group(1) not in ("self", "static", "parent"):
            # a builder, NotifyLogMutator::create()->setText($t)->save(): NotifyLogMutator's save, never a
            # namesake of another class the scan happens to hold (UserMutator.save); a singleton's one call
            # (DB::getInstance()->insertUser($u)) is left to the short name
            own = f"{root.group(1)}.{last}"
            return own if own in self.full else None
        found = self.short.get(last)
        if found is not None and not self._reachable(found, head, callee):
            return None
        if found is None and last in self.several and "." in name:
            # m_database->createUser(dto) in UserService.createUser: another object's method, not its own
            others = [
                n
                for n in self.several[last]
                if n.rpartition(".")[0] != cls and self._reachable(n, head, callee)
            ]
            found = others[0] if len(others) == 1 else by_receiver(head, others)
        return found

    def _reachable(self, found: str, head: str, callee: str) -> bool:
        """Whether a call ``head.last`` may be of ``found``: a method, any; a module-level function, only
        through its module or a package of it (``curl.get``), or by a static or namespace call (``ns::get``)."""
        if "." in found or not head or self.places is None:
            return True
        if callee.rfind("::") > max(callee.rfind("->"), callee.rfind(".")):
            return True
        return head.rpartition(".")[2] in self.places.get(found, ())

    def __call__(self, cls: str | None, callee: str) -> Summary | None:
        name = self.resolve(cls, callee)
        return self.full[name] if name else None

    def digest(self, name: str | None) -> str | None:
        """A summary's fingerprint, the same in every process (cache entries keep these, not summaries)."""
        if name is None:
            return None
        d = self.digests.get(name)
        if d is None:
            d = self.digests[name] = summary_digest(self.full[name])
        return d

    def stale(self, deps: Deps) -> bool:
        for (cls, callee), (name, got) in deps.items():
            now = self.resolve(cls, callee)
            if now != name:
                return True
            if now is None:
                continue
            current = self.full[now]
            if got is current:
                continue
            if got != (self.digest(now) if isinstance(got, str) else current):
                return True
        return False


def summary_digest(s: Summary) -> str:
    """A summary's fingerprint, the same in every process: cache entries keep these, not summaries."""
    h = hashlib.blake2b(digest_size=12)
    for part in (sorted(map(repr, s.sinks)), sorted(map(repr, s.returns))):
        h.update("\0".join(part).encode())
        h.update(b"\1")
    return h.hexdigest()


def digest_deps(units: list[Unit]) -> None:
    """Replace the summaries recorded in dependencies by their digests (before units go to the cache)."""
    memo: dict[int, str] = {}
    for u in units:
        for key, (name, got) in u.deps.items():
            if isinstance(got, Summary):
                d = memo.get(id(got))
                if d is None:
                    d = memo[id(got)] = summary_digest(got)
                u.deps[key] = (name, d)


NO_SUMMARIES = Index({})


def analyze_unit(ir: FileIR, unit: Unit, models: Models, index: Index) -> None:
    deps: Deps = {}

    def lookup(cls: str | None, callee: str) -> Summary | None:
        name = index.resolve(cls, callee)
        summary = index.full[name] if name else None
        deps[(cls, callee)] = (name, summary)
        return summary

    fn = ir.functions[unit.index]
    unit.result = analyze_function(ir, fn, models, lookup)
    unit.summary = unit.result.summaries.get(fn.name, EMPTY)
    unit.deps = deps


def first_units(ir: FileIR, file: int, models: Models) -> list[Unit]:
    """Every function of a file analyzed once, callees in the same file before their callers, with the
    summaries of the file's own functions: the first round, done beside the front end. Calls into other
    files resolve later; a call the whole program resolves differently makes the function stale then."""
    units = [Unit(file, i, fn.name) for i, fn in enumerate(ir.functions)]
    places = module_places([(u.name, ir.path) for u in units])
    summaries: dict[str, Summary] = {}
    index = NO_SUMMARIES
    for i in bottom_up(ir):
        unit = units[i]
        analyze_unit(ir, unit, models, index)
        if unit.summary != EMPTY:
            old = summaries.get(unit.name)
            s = unit.summary
            summaries[unit.name] = s if old is None else old.merged(s)
            index = Index(summaries, places)
    return units


def bottom_up(ir: FileIR) -> list[int]:
    """Function indices, callees (within the file) before callers; recursion in any order."""
    names = {fn.name: i for i, fn in enumerate(ir.functions)}
    if len(names) < 2:
        return list(range(len(ir.functions)))
    # a callee resolves only to a function with its last name: calls into libraries are dropped unresolved
    lasts = {n.rpartition(".")[2] for n in names}
    potential: Index | None = None
    calls: list[list[int]] = []
    for fn in ir.functions:
        cls = fn.name.rpartition(".")[0] or None
        targets = []
        for c in dict.fromkeys(fn.calls):
            if c.replace("::", ".").replace("->", ".").rpartition(".")[2] in lasts:
                potential = potential or Index(dict.fromkeys(names, EMPTY))
                if (n := potential.resolve(cls, c)) is not None:
                    targets.append(names[n])
        calls.append(targets)
    if potential is None:  # no call within the file
        return list(range(len(ir.functions)))
    order: list[int] = []
    seen: set[int] = set()
    for root in range(len(ir.functions)):
        if root in seen:
            continue
        seen.add(root)
        work = [(root, iter(calls[root]))]
        while work:
            node, it = work[-1]
            nxt = next((t for t in it if t not in seen), None)
            if nxt is None:
                work.pop()
                order.append(node)
            else:
                seen.add(nxt)
                work.append((nxt, iter(calls[nxt])))
    return order


def merged(units: list[Unit]) -> dict[str, Summary]:
    out: dict[str, Summary] = {}
    for u in units:
        s = u.summary
        if s == EMPTY:
            continue
        old = out.get(u.name)
        out[u.name] = s if old is None else old.merged(s)
    return out


def solve(
    ir_of: Callable[[int], FileIR],
    units: list[Unit],
    models: Models,
    max_rounds: int = 32,
    todo: set[int] | None = None,
    path_of: Callable[[int], str] | None = None,
) -> set[int]:
    """Bring ``units`` (analyzed at least once, or listed in ``todo``) to the fixed point.

    ``path_of`` gives a file's path without lowering it again (default: its IR's path).
    Returns the files some of whose functions were analyzed again.
    """
    where = path_of or (lambda i: ir_of(i).path)
    places = module_places([(u.name, where(u.file)) for u in units if "." not in u.name])
    pending = set(todo or ())
    touched: set[int] = set()
    rounds = 1
    while rounds < max(1, max_rounds) or pending:
        index = Index(merged([u for i, u in enumerate(units) if i not in pending]), places)
        stale = pending | {i for i, u in enumerate(units) if i not in pending and index.stale(u.deps)}
        pending = set()
        if not stale:
            break
        for i in sorted(stale):
            analyze_unit(ir_of(units[i].file), units[i], models, index)
            touched.add(units[i].file)
        rounds += 1
    return touched


def file_results(n_files: int, units: list[Unit]) -> list[Result]:
    results = [Result() for _ in range(n_files)]
    for u in units:
        r = results[u.file]
        r.flows.extend(u.result.flows)
        r.dead += u.result.dead
        old = r.summaries.get(u.name)
        r.summaries[u.name] = u.summary if old is None else old.merged(u.summary)
    return results


def analyze_all(irs: list[FileIR], models: Models, max_rounds: int = 32) -> list[Result]:
    """Every file's flows after the fixed point (all in this process), ORM writes named by their tables."""
    units = [u for i, ir in enumerate(irs) for u in first_units(ir, i, models)]
    solve(irs.__getitem__, units, models, max_rounds)
    results = file_results(len(irs), units)
    tables = {name: table for ir in irs for name, table in ir.tables.items()}
    for r in results:
        r.flows = [g for f in r.flows for g in finish(f, tables)]
    return results
