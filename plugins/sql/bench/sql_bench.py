"""Score SQL lineage tools on the labeled corpus: table F1, column precision/recall/F1, errors, statements/s.

    python plugins/sql/bench/sql_bench.py [--corpus corpus.yaml] [--tools flowscope,sqllineage,...]

flowscope always runs; sqllineage, openlineage-sql and DataHub's parser (``datahub.sql_parsing``) run when
importable — install them in a separate bench environment, never in the workspace (see README.md here).
Column edges are DIRECT edges (``src_table.col>dst_table.col``); tables compare on their last name part.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Result = tuple[
    set[str], set[str], set[str], set[str]
]  # inputs, outputs, DIRECT column edges, all column edges
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from suites import Case, datahub_goldens, edge, norm, own_corpus, sqllineage_goldens  # noqa: E402


def run_flowscope(case: Case) -> Result:
    """A whole script: tables a later statement reads from an earlier one's output are traced through (the
    ends of each path count, as in sqllineage's goldens); a SELECT's result columns have no table."""
    from flowscope_sql.analyze import RESULT
    from flowscope_sql.collector import analyse_text
    from flowscope_sql.settings import Catalog, Settings, Source

    catalog = Catalog()
    for table, cols in case.schemas.items():
        catalog.add(tuple(table.split(".")), [(c, "") for c in cols])
    source = Source(case.dialect, default_schema=case.default_schema)
    settings = Settings(timeout_seconds=0)  # the defaults a user gets, temporary tables traced through
    statements = [st for st, _ in analyse_text(case.sql, source, settings, catalog, "bench.sql", "bench")]
    failed = [st for st in statements if st.error]
    if statements and len(failed) == len(statements):
        raise RuntimeError(failed[0].error)
    if case.convention == "column":
        inputs, outputs, direct, every = _path_ends(statements)
    else:
        writes = {w for st in statements for w in st.writes if w != RESULT}
        reads = {r for st in statements for r in st.reads}
        outputs = {norm(t[-1]) for t in writes}
        inputs = {norm(t[-1]) for t in reads - writes} - outputs
        direct, every = set(), set()
        for st in statements:
            for f in st.flows:
                if f.target is None or f.target_column is None:
                    continue
                target = "" if f.target == RESULT else f.target[-1]
                key = edge(f.source[-1], f.source_column, target, f.target_column)
                every.add(key)
                if f.transformation.type == "DIRECT":
                    direct.add(key)
    if failed:
        raise Partial(inputs, outputs, direct, every, failed[0].error or "")
    return inputs, outputs, direct, every


def _path_ends(statements: list[Any]) -> Result:
    """The peers' convention for a script: the ends of every path through the tables and columns it writes
    and reads (a table written by one statement and read by a later one is in the middle, not an end)."""
    from flowscope_sql.analyze import RESULT

    table_edges: set[tuple[Any, Any]] = set()
    col_edges: dict[tuple[Any, str], set[tuple[Any, str]]] = {}
    direct: set[tuple[tuple[Any, str], tuple[Any, str]]] = set()
    self_loops: set[tuple[str, bool]] = set()
    for st in statements:
        targets = [w for w in st.writes if w != RESULT]
        table_edges |= {(r, w) for r in st.reads for w in targets if r != w}
        for f in st.flows:
            if f.target is None or f.target_column is None:
                continue
            a, b = (f.source, _nested(f)), (f.target, f.target_column)
            if f.target == f.source:  # INSERT INTO t SELECT ... FROM t: its own path, not a middle
                self_loops.add((edge(a[0][-1], a[1], b[0][-1], b[1]), f.transformation.type == "DIRECT"))
                continue
            col_edges.setdefault(a, set()).add(b)
            if f.transformation.type == "DIRECT":
                direct.add((a, b))
    written = {w for st in statements for w in st.writes if w != RESULT}
    read = {r for st in statements for r in st.reads}
    has_in = {b for _, b in table_edges}
    has_out = {a for a, _ in table_edges}
    outputs = {norm(t[-1]) for t in written - has_out}
    inputs = {norm(t[-1]) for t in read - written - has_in} - outputs
    col_in = {b for bs in col_edges.values() for b in bs}
    every, direct_ends = set(), set()
    for start in [a for a in col_edges if a not in col_in]:
        stack, seen = [(start, True)], set()
        while stack:
            node, all_direct = stack.pop()
            for nxt in col_edges.get(node, ()):
                if (nxt, all_direct) in seen:
                    continue
                seen.add((nxt, all_direct))
                d = all_direct and (node, nxt) in direct
                if nxt not in col_edges:
                    target = "" if nxt[0] == RESULT else nxt[0][-1]
                    key = edge(start[0][-1], start[1], target, nxt[1])
                    every.add(key)
                    if d:
                        direct_ends.add(key)
                else:
                    stack.append((nxt, d))
    every |= {key for key, _ in self_loops}
    direct_ends |= {key for key, d in self_loops if d}
    return inputs, outputs, direct_ends, every


def _nested(flow: Any) -> str:
    """The peers name a struct field read by its path (``widget.asset.id``); flowscope's field is the top-level
    column with the path in the transformation's description (``path t.widget.asset.id``)."""
    description = flow.transformation.description or ""
    if not description.startswith("path "):
        return str(flow.source_column)
    parts = description[5:].split(".")
    lowered = [p.lower() for p in parts]
    column = str(flow.source_column).lower()
    return ".".join(parts[lowered.index(column) :]) if column in lowered else str(flow.source_column)


class Partial(Exception):
    """Some statements of a script failed: what the others gave still counts, and it is an error."""

    def __init__(self, *result: Any) -> None:
        super().__init__(result[-1])
        self.result: Result = result[:4]  # type: ignore[assignment]


ALIASES = {"presto": "trino", "spark": "sparksql", "": "ansi"}


def run_sqllineage(case: Case) -> Result:
    from sqllineage.core.metadata.dummy import DummyMetaDataProvider
    from sqllineage.runner import LineageRunner

    dialect = ALIASES.get(case.dialect, case.dialect)
    runner = LineageRunner(
        case.sql, dialect=dialect, silent_mode=True, metadata_provider=DummyMetaDataProvider(case.schemas)
    )
    outputs = {norm(str(t)) for t in runner.target_tables}
    inputs = {norm(str(t)) for t in runner.source_tables} - outputs
    cols = set()
    for path in runner.get_column_lineage(exclude_subquery_columns=True):
        src, dst = path[0], path[-1]
        if src.parent is None or dst.parent is None:
            continue
        cols.add(edge(str(src.parent), src.raw_name, str(dst.parent), dst.raw_name))
    return inputs, outputs, cols, cols


def run_openlineage_sql(case: Case) -> Result:
    from openlineage_sql import parse

    meta = parse([case.sql], dialect=case.dialect or "generic")
    if meta is None:
        raise RuntimeError("no result")
    outputs = {norm(t.name) for t in meta.out_tables}
    inputs = {norm(t.name) for t in meta.in_tables} - outputs
    cols = set()
    target = next(iter(outputs), "")
    for lineage in meta.column_lineage:
        dst = lineage.descendant
        dst_table = norm(dst.origin.name) if dst.origin is not None else target
        for src in lineage.lineage:
            if src.origin is not None:
                cols.add(edge(src.origin.name, src.name, dst_table, dst.name))
    return inputs, outputs, cols, cols


def _urn_table(urn: str) -> str:
    match = re.search(r"urn:li:dataset:\(urn:li:dataPlatform:[^,]+,([^,]+),", urn)
    return norm(match.group(1) if match else urn)


def _sqlglot_name(dialect: str) -> str:
    from flowscope.errors import UserError
    from flowscope_sql.settings import check_dialect

    try:
        return check_dialect(dialect)
    except UserError:
        return dialect


def run_datahub(case: Case) -> Result:
    from datahub.sql_parsing.schema_resolver import SchemaResolver
    from datahub.sql_parsing.sqlglot_lineage import sqlglot_lineage

    platform = _sqlglot_name(case.dialect) or "postgres"  # DataHub needs a platform sqlglot knows
    resolver = SchemaResolver(platform=platform)
    urns = case.extra.get("urn_schemas") or {
        f"urn:li:dataset:(urn:li:dataPlatform:{platform},{t},PROD)": {c: "" for c in cols}
        for t, cols in case.schemas.items()
    }
    for urn, cols in urns.items():
        resolver.add_raw_schema_info(urn, cols)
    res = sqlglot_lineage(
        case.sql, schema_resolver=resolver, default_db=case.default_db, default_schema=case.default_schema
    )
    if res.debug_info.table_error is not None:
        raise RuntimeError(str(res.debug_info.table_error))
    outputs = {_urn_table(u) for u in res.out_tables}
    inputs = {_urn_table(u) for u in res.in_tables} - outputs
    cols = set()
    for info in res.column_lineage or []:
        dst_table = _urn_table(info.downstream.table) if info.downstream.table else ""
        for up in info.upstreams:
            cols.add(edge(_urn_table(up.table), up.column, dst_table, info.downstream.column))
    return inputs, outputs, cols, cols


TOOLS: dict[str, Callable[[str, str], Result]] = {
    "flowscope": run_flowscope,
    "sqllineage": run_sqllineage,
    "openlineage-sql": run_openlineage_sql,
    "datahub": run_datahub,
}


@dataclass
class Score:
    tp: dict[str, int] = field(default_factory=lambda: {"table": 0, "column": 0})
    fp: dict[str, int] = field(default_factory=lambda: {"table": 0, "column": 0})
    fn: dict[str, int] = field(default_factory=lambda: {"table": 0, "column": 0})
    errors: int = 0
    seconds: float = 0.0

    def add(self, kind: str, got: set[str], want: set[str]) -> None:
        self.tp[kind] += len(got & want)
        self.fp[kind] += len(got - want)
        self.fn[kind] += len(want - got)

    def prf(self, kind: str) -> tuple[float, float, float]:
        tp, fp, fn = self.tp[kind], self.fp[kind], self.fn[kind]
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(tool: Callable[[Case], Result], cases: list[Case], misses: list[str]) -> Score:
    s = Score()
    for case in cases:
        want_tables = {f"in:{t}" for t in case.inputs} | {f"out:{t}" for t in case.outputs}
        start = time.perf_counter()
        try:
            inputs, outputs, direct, every = tool(case)
        except Partial as partial:
            s.errors += 1
            inputs, outputs, direct, every = partial.result
            misses.append(f"[{case.id}] partial error: {str(partial)[:80]}")
        except Exception as exc:  # a tool failing on a statement counts as an error, not a crash
            s.seconds += time.perf_counter() - start
            s.errors += 1
            if "table" in case.scored:
                s.add("table", set(), want_tables)
            if "column" in case.scored:
                s.add("column", set(), case.columns)
            misses.append(f"[{case.id}] error {type(exc).__name__}: {str(exc)[:80]} | {case.sql[:70]!r}")
            continue
        s.seconds += time.perf_counter() - start
        cols = direct if case.convention == "direct" else every
        if "table" in case.scored:
            s.add("table", {f"in:{t}" for t in inputs} | {f"out:{t}" for t in outputs}, want_tables)
        if "column" in case.scored:
            s.add("column", cols, case.columns)
            if cols != case.columns:
                extra, missing = sorted(cols - case.columns), sorted(case.columns - cols)
                misses.append(f"[{case.id}] +{extra} -{missing} | {case.sql[:70]!r}")
    return s


def log_rate(entries: int) -> float:
    """flowscope's query-log path on ``entries`` log lines where 90% repeat one shape: entries per second."""
    import json

    from flowscope_sql.analyze import Analyzer
    from flowscope_sql.logs import read_log
    from flowscope_sql.settings import Source

    lines = []
    for i in range(entries):
        table = f"t{i}" if i % 10 == 0 else "hot"
        sql = f"INSERT INTO {table}_out SELECT a, sum(b) AS b FROM {table} WHERE ds = '{i}' GROUP BY a"
        lines.append(json.dumps({"query": sql, "query_id": f"q{i}", "user": "etl"}))
    source = Source("trino")
    start = time.perf_counter()
    read_log(iter(lines), "bench.jsonl", source, Analyzer(source, timeout=0))
    return entries / (time.perf_counter() - start)


def suite(name: str, cache: Path) -> list[Case]:
    if name == "corpus":
        return own_corpus()
    if name == "heldout":
        from heldout import heldout_cases

        return heldout_cases(cache)
    if name == "sqllineage":
        found = sorted(cache.glob("sqllineage-*.jsonl"))
        if not found:
            raise SystemExit("no sqllineage goldens in the cache: run peers.py sqllineage first")
        return sqllineage_goldens(found[-1])
    if name == "datahub":
        path = cache / "datahub-goldens.jsonl"
        if not path.exists():
            raise SystemExit("no DataHub goldens in the cache: run peers.py datahub first")
        return datahub_goldens(path)
    raise SystemExit(f"unknown suite {name}")


def main(argv: list[str] | None = None) -> int:
    from peers import CACHE

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suites", default="heldout,datahub,sqllineage,corpus")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--log-entries", type=int, default=0, help="size of the query-log run (0: skip)")
    parser.add_argument("--show-misses", default="", help="print the statements a tool got wrong")
    args = parser.parse_args(argv)
    for name in args.suites.split(","):
        cases = suite(name, args.cache)
        print(f"\n### {name}: {len(cases)} statements ({len({c.sql for c in cases})} distinct texts)\n")
        print("| tool | table F1 | column P | column R | column F1 | errors | statements/s |")
        print("|---|---|---|---|---|---|---|")
        for tool in args.tools.split(","):
            misses: list[str] = []
            try:
                s = score(TOOLS[tool], cases, misses)
            except ImportError as exc:
                print(f"| {tool} | not installed ({exc.name}) | | | | | |")
                continue
            _, _, tf1 = s.prf("table")
            p, r, f1 = s.prf("column")
            rate = len(cases) / s.seconds if s.seconds else 0.0
            print(
                f"| {tool} | {tf1:.3f} | {p:.3f} | {r:.3f} | {f1:.3f} | {s.errors} | {rate:,.0f} |",
                flush=True,
            )
            if tool == args.show_misses:
                print("\n".join(misses), file=sys.stderr)
    if args.log_entries:
        rate = log_rate(args.log_entries)
        print(f"\nquery log, {args.log_entries:,} entries, 90% one shape: {rate:,.0f} entries/s (flowscope)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
