"""The state of one function's analysis, shared by the modules that make up the analysis.

:mod:`analysis` walks statements and evaluates expressions, :mod:`calls` decides what a call does with the
data it is given (models, summaries, setters, methods that change their object) and :mod:`sinks` names a
sink and emits its flows. Each is a mixin over this frame, so each module stays small and reads alone.
"""

from __future__ import annotations

from collections.abc import Callable

from flowscope.model import Asset, Evidence
from flowscope_hack_static.ir import Call, Expr, FileIR, Function, Stmt
from flowscope_hack_static.packs import Models, SinkModel
from flowscope_hack_static.taint import COLLECTOR, EMPTY, Flow, Label, ParamSink, Result, Summary, Taint

Lookup = Callable[[str | None, str], Summary | None]  # (caller's class, callee text) -> the callee's summary

# what a receiver may be called to mean the function's own object
OWN = frozenset(("this", "self", "cls", "static", "parent"))


class Frame:
    def __init__(self, ir: FileIR, fn: Function, models: Models, result: Result, lookup: Lookup) -> None:
        self.ir, self.fn, self.models, self.result, self.lookup = ir, fn, models, result, lookup
        self.cls = fn.name.rpartition(".")[0] or None
        self.lang = ir.language
        self.env: dict[str, Taint] = {}
        self.types: dict[str, str] = {}
        self.made: dict[str, Call] = {}  # variable -> the call that made its value (ORM instances)
        self.literals: dict[str, Expr] = {}  # variable -> the literal or template it holds (sink names)
        self.prepared: dict[str, tuple[str, object]] = {}  # statement variable -> its SQL, what prepared it
        self.binds: dict[tuple[str, int], int] = {}  # (statement, its maker) -> parameters bound so far
        self.params: dict[str, int] = {}  # parameter name -> its index in the summary (RECEIVER: the object)
        self.stmt: Stmt | None = None
        self.work = 0  # labels moved by assignments: the per-function budget counts these
        self.coarse = False
        self.everything: frozenset[Label] = EMPTY
        self.flows: list[Flow] = []
        # (param, field, target, flags, guards) -> the entry with the fewest hops (see taint.widen_sinks)
        self.param_sinks: dict[tuple[object, ...], ParamSink] = {}
        self.returns: set[Label] = set()
        self.dead = 0
        self._ev_stmt: Stmt | None = None
        self._ev: Evidence | None = None

    def evidence(self, stmt: Stmt) -> Evidence:
        ev = self._ev
        if stmt is not self._ev_stmt or ev is None:  # asked several times per statement: made once
            ev = Evidence(COLLECTOR, "static", f"{self.ir.path}:{stmt.line}", stmt.snippet)
            self._ev_stmt, self._ev = stmt, ev
        return ev

    def strong(self) -> bool:
        """Whether the current statement runs whenever the function does (an update replaces the old value)."""
        stmt = self.stmt
        return stmt is not None and not stmt.guards and not stmt.in_loop

    # implemented by the mixins and the analysis
    def eval(self, e: Expr) -> Taint:
        raise NotImplementedError

    def sub_key(self, base: Expr, key: str | None) -> Taint:
        raise NotImplementedError

    def key_of(self, base: Taint, key: str | None) -> Taint:
        raise NotImplementedError

    def assign(self, target: Expr, taint: Taint, strong: bool) -> None:
        raise NotImplementedError

    def sink(self, e: Call, sink: SinkModel, args: list[Taint], kwargs: dict[str, Taint], stmt: Stmt) -> bool:
        raise NotImplementedError

    def read_key(self, base_expr: Expr, base: Taint, key: str | None) -> Taint:
        raise NotImplementedError

    def param_name(self, target: Asset, e: Call) -> Asset:
        raise NotImplementedError

    def dead_here(self, stmt: Stmt) -> bool:
        raise NotImplementedError

    def instance(self, e: Expr) -> bool:
        raise NotImplementedError

    def emit(
        self,
        lb: Label,
        dst: Asset,
        hops: tuple[Evidence, ...],
        masked: bool,
        transformed: bool,
        guards: tuple[str, ...],
        unresolved: bool,
        dead: bool,
    ) -> None:
        raise NotImplementedError
