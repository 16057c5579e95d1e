"""Inter-procedural flow: per-function summaries solved to a bounded fixed point, across files and modules.

A summary says which parameters (and which of their keys) reach which sinks, and which sources and
parameters a function returns. Every round analyzes all functions with the previous round's summaries;
it stops when no summary changes, or after ``max_rounds`` (recursion and long call chains converge or are
cut off there; call depth up to ``max_rounds`` is exact). Callees are resolved by name: ``$this->f()`` and
``self.f()`` within the caller's class, ``Cls::f()`` and ``f()`` by qualified name, anything else by its
last name when exactly one function has it.
"""

from __future__ import annotations

from collections import defaultdict

from flowscope_hack_static.analysis import analyze
from flowscope_hack_static.ir import Call, Expr, FileIR, walk
from flowscope_hack_static.packs import Models
from flowscope_hack_static.taint import Result, Summary

_SELF = ("this.", "self.", "static.", "parent.", "cls.")


class Index:
    def __init__(self, summaries: dict[str, Summary]) -> None:
        self.full = summaries
        short: dict[str, list[str]] = defaultdict(list)
        for name in summaries:
            short[name.rpartition(".")[2]].append(name)
        self.short = {k: v[0] for k, v in short.items() if len(v) == 1}

    def __call__(self, cls: str | None, callee: str) -> Summary | None:
        name = callee.replace("::", ".").replace("->", ".")
        for prefix in _SELF:
            if name.startswith(prefix):
                name = name[len(prefix) :]
                if cls and f"{cls}.{name}" in self.full:
                    return self.full[f"{cls}.{name}"]
        if name in self.full:
            return self.full[name]
        if "(" in name:  # a call on a call's result: too loose to resolve by name
            return None
        full = self.short.get(name.rpartition(".")[2])
        return self.full[full] if full else None


def _called_names(ir: FileIR) -> set[str]:
    """Last names of everything the file calls, to re-analyze only callers of changed summaries."""
    names: set[str] = set()
    stack: list[Expr] = [st.value for fn in ir.functions for st in fn.body]
    while stack:
        e = stack.pop()
        if isinstance(e, Call):
            names.add(e.callee.replace("::", ".").replace("->", ".").rpartition(".")[2])
        stack.extend(walk(e))
    return names


def analyze_all(irs: list[FileIR], models: Models, max_rounds: int = 4) -> list[Result]:
    summaries: dict[str, Summary] = {}
    results: list[Result] = [Result() for _ in irs]
    called = [_called_names(ir) for ir in irs]
    todo = set(range(len(irs)))
    for _ in range(max(1, max_rounds)):
        index = Index(summaries)
        for i in sorted(todo):
            results[i] = analyze(irs[i], models, index)
        new: dict[str, Summary] = {}
        for r in results:
            for name, s in r.summaries.items():
                if s == Summary():
                    continue
                old = new.get(name)
                new[name] = s if old is None else Summary(old.sinks | s.sinks, old.returns | s.returns)
        changed = {n.rpartition(".")[2] for n in set(new) | set(summaries) if new.get(n) != summaries.get(n)}
        summaries = new
        todo = {i for i, names in enumerate(called) if names & changed}
        if not todo:
            break
    return results
