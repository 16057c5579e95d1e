"""One scan over many files: cache look-ups, front end and first analysis on every core, fixed point.

1. Each file's cache entry is looked up (content hash, path, analyzer and models; :mod:`cache`).
2. Files without one are lowered *and* analyzed once without summaries, by this process and forked
   children when there are enough of them (:func:`process_all`) — both steps are per file, so every core
   works.
3. The parent merges the summaries and analyzes again only the functions whose looked-up summaries changed
   (:func:`engine.solve`); with a warm cache that is nothing, or the callers of what changed.
4. Entries are written for the files analyzed this time.

A cached function that sits on a call cycle through a changed file is analyzed afresh, so a fact that only
the old code held cannot keep itself alive around the cycle.
"""

from __future__ import annotations

import gc
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from flowscope_hack_static import forked
from flowscope_hack_static.cache import Cache, Entry
from flowscope_hack_static.engine import EMPTY, Index, Unit, digest_deps, first_units, solve
from flowscope_hack_static.finish import finish
from flowscope_hack_static.frontends import lower_file, parse_tree
from flowscope_hack_static.ir import FileIR
from flowscope_hack_static.packs import Models
from flowscope_hack_static.taint import Flow

PARALLEL_MIN_FILES = 64  # below this more processes cost more than they save
BATCH = 32  # files lowered and analyzed together (see process)
TASK = 2  # batches a worker takes at a time: small tasks keep every process busy to the end


@dataclass(frozen=True)
class FileJob:
    language: str
    data: bytes
    text: str
    utf8: bool
    rel: str


@dataclass
class Outcome:
    """One file's part of the scan."""

    rel: str
    flows: list[Flow] = field(default_factory=list)
    dead: int = 0
    error_regions: list[int] = field(default_factory=list)
    problem: tuple[str, int | None] | None = None
    cached: bool = False
    tables: dict[str, str] = field(default_factory=dict)  # ORM classes and Table variables it defines


# (IR, first units, problem, error regions, ORM tables)
Processed = tuple[FileIR | None, list[Unit], tuple[str, int | None] | None, list[int], dict[str, str]]

_WORKER_MODELS: Models | None = None


def _init_worker(models: Models) -> None:
    global _WORKER_MODELS
    gc.disable()  # the work makes many small acyclic objects; the process ends with the pool
    _WORKER_MODELS = models


def process(jobs: list[FileJob], models: Models) -> list[Processed]:
    """Front end plus the first analysis of every function, for a batch of files.

    In three sweeps over the batch (parse every tree-sitter file, lower every file, analyze every file)
    rather than file by file: each sweep keeps its own code and tables warm in the CPU's caches, and the
    trees are freed together. For Hack and C++ that was ~8% less CPU time than file by file."""
    trees = [parse_tree(j.language, j.data, j.text, j.utf8) for j in jobs]
    lowered = [
        lower_file(j.language, j.data, j.text, j.utf8, j.rel, t) for j, t in zip(jobs, trees, strict=True)
    ]
    out: list[Processed] = []
    for ir, problem, line in lowered:
        if ir is None:
            out.append((None, [], (problem or "cannot analyze", line), [], {}))
        else:
            out.append((ir, first_units(ir, 0, models), None, ir.error_regions, ir.tables))
    return out


def _shippable(jobs: list[FileJob], done: list[Processed]) -> list[Processed]:
    """A batch's results without the IRs of its Hack and C++ files. The parent needs a file's IR only if it
    analyzes one of its functions again; such an IR costs more to ship, or to keep until the scan ends and
    free then, than to lower again (in C) in that rare case. A Python IR (libcst) is kept."""
    return [
        ((ir if job.language == "python" else None), units, problem, regions, tables)
        for job, (ir, units, problem, regions, tables) in zip(jobs, done, strict=True)
    ]


def _process_in_worker(jobs: list[FileJob]) -> list[Processed]:
    assert _WORKER_MODELS is not None
    return _shippable(jobs, process(jobs, _WORKER_MODELS))


def process_all(jobs: list[FileJob], models: Models, workers: int) -> list[Processed]:
    """Every file processed, on ``workers`` processes counting this one.

    Where processes fork, this process is one of them (:func:`forked.share`): it takes batches from the
    back of the list, its children tasks of two batches from the front, and only the children's share of
    the results is pickled. Elsewhere a process pool takes every batch."""
    workers = workers or os.cpu_count() or 1
    batches = [jobs[i : i + BATCH] for i in range(0, len(jobs), BATCH)]
    if workers <= 1 or len(jobs) < PARALLEL_MIN_FILES:
        return [p for batch in batches for p in process(batch, models)]
    if forked.can_fork():

        def work(i: int) -> list[Processed]:
            return _shippable(batches[i], process(batches[i], models))

        return [p for part in forked.share(len(batches), work, workers - 1, TASK) for p in part]
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(models,)) as pool:
        return [p for done in pool.map(_process_in_worker, batches, chunksize=TASK) for p in done]


def analyze_files(
    jobs: list[FileJob],
    models: Models,
    *,
    workers: int = 0,
    max_rounds: int = 32,
    cache: Cache | None = None,
) -> list[Outcome]:
    enabled = gc.isenabled()
    gc.disable()  # millions of small acyclic objects: collection passes cost ~15% and free nothing
    try:
        return _analyze_files(jobs, models, workers, max_rounds, cache)
    finally:
        if enabled:
            gc.enable()


def _analyze_files(
    jobs: list[FileJob],
    models: Models,
    workers: int,
    max_rounds: int,
    cache: Cache | None,
) -> list[Outcome]:
    n = len(jobs)
    keys = [cache.key(j.rel, j.language, j.data) for j in jobs] if cache else []
    if cache is not None:
        reused: list[Outcome] | None = cache.load_tree(keys)
        if reused is not None:  # every file exactly as the last scan of this tree saw it
            for out in reused:
                out.cached = True
            return reused
    entries: list[Entry | None] = [cache.load(k) for k in keys] if cache else [None] * n
    outcomes = [Outcome(j.rel) for j in jobs]
    irs: list[FileIR | None] = [None] * n
    units: list[Unit] = []
    for i, entry in enumerate(entries):
        if entry is not None:
            outcomes[i].cached = True
            outcomes[i].error_regions, outcomes[i].problem = entry.error_regions, entry.problem
            outcomes[i].tables = entry.tables
            for u in entry.units:
                u.file = i
                units.append(u)
    misses = [i for i in range(n) if entries[i] is None]
    new_units: set[int] = set()
    done = process_all([jobs[i] for i in misses], models, workers)
    for i, (ir, file_units, problem, regions, tables) in zip(misses, done, strict=True):
        irs[i], outcomes[i].problem, outcomes[i].error_regions = ir, problem, regions
        outcomes[i].tables = tables
        for u in file_units:
            u.file = i
            new_units.add(len(units))
            units.append(u)
    reset = stale_cycles(units, new_units) if len(new_units) < len(units) else set()

    def ir_of(i: int) -> FileIR:
        ir = irs[i]
        if ir is None:  # lowered on the pool or in an earlier scan: lower it again, here
            ir = lower_file(jobs[i].language, jobs[i].data, jobs[i].text, jobs[i].utf8, jobs[i].rel)[0]
        assert ir is not None, "a file with functions lowered before"
        irs[i] = ir
        return ir

    touched = solve(ir_of, units, models, max_rounds, reset, lambda i: jobs[i].rel)
    tables = {name: table for out in outcomes for name, table in out.tables.items()}
    for u in units:
        out = outcomes[u.file]
        out.flows.extend(g for f in u.result.flows for g in finish(f, tables))
        out.dead += u.result.dead
    if cache is not None:
        per_file: dict[int, list[Unit]] = defaultdict(list)
        for u in units:
            per_file[u.file].append(u)
        digest_deps([u for i in sorted(set(misses) | touched) for u in per_file.get(i, [])])
        for i in sorted(set(misses) | touched):
            entry = Entry(
                per_file.get(i, []), outcomes[i].error_regions, outcomes[i].problem, outcomes[i].tables
            )
            cache.save(keys[i], entry)
            entries[i] = entry
        cache.save_tree(keys, entries, outcomes, set(misses) | touched, tables)
    return outcomes


def stale_cycles(units: list[Unit], new_units: set[int]) -> set[int]:
    """Cached units on a call cycle with a new unit, or with a unit that called a function now gone."""
    names = {u.name for u in units}
    seeds = set(new_units)
    for i, u in enumerate(units):
        if any(name is not None and name not in names for name, _ in u.deps.values()):
            seeds.add(i)
    if not seeds:
        return set()
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, u in enumerate(units):
        by_name[u.name].append(i)
    potential = Index(dict.fromkeys(names, EMPTY))
    adj: list[list[int]] = []
    for u in units:
        targets = {name for name, _ in u.deps.values() if name}
        targets |= {t for key in u.deps if (t := potential.resolve(*key))}
        adj.append([j for t in targets for j in by_name.get(t, ())])
    reset: set[int] = set()
    for comp in _sccs(adj):
        cyclic = len(comp) > 1 or comp[0] in adj[comp[0]]
        if cyclic and seeds.intersection(comp):
            reset |= {i for i in comp if i not in new_units}
    return reset


def _sccs(adj: list[list[int]]) -> list[list[int]]:
    """Strongly connected components (Tarjan, iterative)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(len(adj)):
        if root in index:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            v, pos = work.pop()
            if pos == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            advanced = False
            for k in range(pos, len(adj[v])):
                w = adj[v][k]
                if w not in index:
                    work.append((v, k + 1))
                    work.append((w, 0))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out
