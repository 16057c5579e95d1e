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

import yaml

Result = tuple[set[str], set[str], set[str]]  # inputs, outputs, column edges
HERE = Path(__file__).resolve().parent


def norm(name: str) -> str:
    return re.sub(r"[`\"\[\]]", "", str(name)).split(".")[-1].lower()


def load(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for case in data["cases"]:
        for dialect in data["portable"]:
            if dialect not in case.get("skip", []):
                cases.append({**case, "dialect": dialect})
    for case in data["specific"]:
        for dialect in case["dialects"]:
            cases.append({**case, "dialect": dialect})
    return cases


def run_flowscope(sql: str, dialect: str) -> Result:
    from flowscope_sql.analyze import Analyzer
    from flowscope_sql.settings import Source

    [st] = Analyzer(Source(dialect), timeout=0).run(sql)
    if st.error:
        raise RuntimeError(st.error)
    outputs = {norm(t[-1]) for t in st.writes}
    inputs = {norm(t[-1]) for t in st.reads} - outputs
    cols = {
        f"{norm(f.source[-1])}.{f.source_column.lower()}>{norm(f.target[-1])}.{f.target_column.lower()}"
        for f in st.flows
        if f.target is not None and f.target_column is not None and f.transformation.type == "DIRECT"
    }
    return inputs, outputs, cols


SQLLINEAGE_DIALECTS = {"presto": "trino", "spark": "sparksql"}


def run_sqllineage(sql: str, dialect: str) -> Result:
    from sqllineage.runner import LineageRunner

    runner = LineageRunner(sql, dialect=SQLLINEAGE_DIALECTS.get(dialect, dialect), silent_mode=True)
    outputs = {norm(str(t)) for t in runner.target_tables}
    inputs = {norm(str(t)) for t in runner.source_tables} - outputs
    cols = set()
    for path in runner.get_column_lineage(exclude_subquery_columns=True):
        src, dst = path[0], path[-1]
        if src.parent is None or dst.parent is None:
            continue
        cols.add(
            f"{norm(str(src.parent))}.{src.raw_name.lower()}>{norm(str(dst.parent))}.{dst.raw_name.lower()}"
        )
    return inputs, outputs, cols


def run_openlineage_sql(sql: str, dialect: str) -> Result:
    from openlineage_sql import parse

    meta = parse([sql], dialect=dialect)
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
                cols.add(f"{norm(src.origin.name)}.{src.name.lower()}>{dst_table}.{dst.name.lower()}")
    return inputs, outputs, cols


def _urn_table(urn: str) -> str:
    match = re.search(r"urn:li:dataset:\(urn:li:dataPlatform:[^,]+,([^,]+),", urn)
    return norm(match.group(1) if match else urn)


def run_datahub(sql: str, dialect: str) -> Result:
    from datahub.sql_parsing.sqlglot_lineage import create_lineage_sql_parsed_result

    res = create_lineage_sql_parsed_result(
        query=sql, default_db=None, platform=dialect, platform_instance=None, env="PROD"
    )
    if res.debug_info.table_error is not None:
        raise RuntimeError(str(res.debug_info.table_error))
    outputs = {_urn_table(u) for u in res.out_tables}
    inputs = {_urn_table(u) for u in res.in_tables} - outputs
    cols = set()
    for info in res.column_lineage or []:
        dst_table = _urn_table(info.downstream.table) if info.downstream.table else next(iter(outputs), "")
        for up in info.upstreams:
            cols.add(
                f"{_urn_table(up.table)}.{up.column.lower()}>{dst_table}.{info.downstream.column.lower()}"
            )
    return inputs, outputs, cols


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


def score(tool: Callable[[str, str], Result], cases: list[dict[str, Any]], misses: list[str]) -> Score:
    s = Score()
    for case in cases:
        want_tables = {f"in:{norm(t)}" for t in case["inputs"]} | {f"out:{norm(t)}" for t in case["outputs"]}
        want_cols = set(case["columns"])
        start = time.perf_counter()
        try:
            inputs, outputs, cols = tool(case["sql"], case["dialect"])
        except Exception as exc:  # a reference tool failing on a statement counts as an error, not a crash
            s.seconds += time.perf_counter() - start
            s.errors += 1
            s.add("table", set(), want_tables)
            s.add("column", set(), want_cols)
            misses.append(
                f"[{case['dialect']}] error {type(exc).__name__}: {str(exc)[:80]} | {case['sql'][:70]}"
            )
            continue
        s.seconds += time.perf_counter() - start
        s.add("table", {f"in:{t}" for t in inputs} | {f"out:{t}" for t in outputs}, want_tables)
        s.add("column", cols, want_cols)
        if cols != want_cols:
            extra, missing = sorted(cols - want_cols), sorted(want_cols - cols)
            misses.append(f"[{case['dialect']}] +{extra} -{missing} | {case['sql'][:70]}")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=HERE / "corpus.yaml")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--log-entries", type=int, default=20000, help="size of the query-log run (0: skip)")
    parser.add_argument("--show-misses", default="", help="print the statements a tool got wrong")
    args = parser.parse_args(argv)
    cases = load(args.corpus)
    print(f"{len(cases)} statements ({len({c['sql'] for c in cases})} distinct texts)\n")
    print("| tool | table F1 | column P | column R | column F1 | errors | statements/s |")
    print("|---|---|---|---|---|---|---|")
    for name in args.tools.split(","):
        misses: list[str] = []
        try:
            s = score(TOOLS[name], cases, misses)
        except ImportError as exc:
            print(f"| {name} | not installed ({exc.name}) | | | | | |")
            continue
        _, _, tf1 = s.prf("table")
        p, r, f1 = s.prf("column")
        rate = len(cases) / s.seconds if s.seconds else 0.0
        print(f"| {name} | {tf1:.3f} | {p:.3f} | {r:.3f} | {f1:.3f} | {s.errors} | {rate:,.0f} |")
        if name == args.show_misses:
            print("\n".join(misses), file=sys.stderr)
    if args.log_entries:
        rate = log_rate(args.log_entries)
        print(f"\nquery log, {args.log_entries:,} entries, 90% one shape: {rate:,.0f} entries/s (flowscope)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
