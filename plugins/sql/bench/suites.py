"""The corpora the bench scores, each turned into the same :class:`Case` form.

- ``corpus``: ``corpus.yaml`` here, written by flowscope's developers (DIRECT column edges only).
- ``heldout``: ``heldout.yaml`` here, real statements from public repositories, labeled before any tool ran on
  them; the statements themselves are not committed, ``heldout.py`` extracts them into the cache.
- ``sqllineage`` / ``datahub``: the peers' own goldens, extracted by ``peers.py`` into the cache.

Conventions differ, so each case says which edges count: ``direct`` (a value copied or computed from the
column) or ``column`` (any column-level edge: also a CASE condition or a window key of that output column,
as both peers count them). Tables compare on their last name part, lower case, without quotes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent


@dataclass
class Case:
    id: str
    sql: str
    dialect: str
    inputs: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    columns: set[str] = field(default_factory=set)
    scored: tuple[str, ...] = ("table", "column")  # what the labels cover
    convention: str = "direct"  # or "column"
    schemas: dict[str, list[str]] = field(default_factory=dict)  # table -> columns, given to every tool
    default_db: str | None = None
    default_schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # tool-specific inputs (DataHub's schema urns)


def norm(name: object) -> str:
    return re.sub(r"[`\"\[\]]", "", str(name or "")).split(".")[-1].lower()


def edge(src_table: object, src_col: str, dst_table: object, dst_col: str) -> str:
    return f"{norm(src_table)}.{src_col.lower()}>{norm(dst_table)}.{dst_col.lower()}"


def own_corpus(path: Path = HERE / "corpus.yaml") -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []

    def case(c: dict[str, Any], dialect: str, n: int) -> Case:
        return Case(
            f"corpus#{n}/{dialect}",
            c["sql"],
            dialect,
            {norm(t) for t in c["inputs"]},
            {norm(t) for t in c["outputs"]},
            set(c["columns"]),
        )

    for n, c in enumerate(data["cases"], 1):
        out += [case(c, d, n) for d in data["portable"] if d not in c.get("skip", [])]
    for n, c in enumerate(data["specific"], len(data["cases"]) + 1):
        out += [case(c, d, n) for d in c["dialects"]]
    return out


SQLLINEAGE_DIALECTS = {"non-validating": "ansi"}


def sqllineage_goldens(path: Path) -> list[Case]:
    """sqllineage's tests as recorded by ``peers.py``: table goldens (sources/targets) and column goldens
    (source column -> target column, ends of each path, a script's intermediate tables traced through)."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        dialect = SQLLINEAGE_DIALECTS.get(row["dialect"], row["dialect"])
        key = (row["kind"], row["sql"], dialect)
        if key in seen:
            continue
        seen.add(key)
        case = Case(f"sqllineage#{n}:{row['test']}", row["sql"], dialect, convention="column")
        if row["kind"] == "table":
            case.inputs = {norm(t) for t in row["inputs"]}
            case.outputs = {norm(t) for t in row["outputs"]}
            case.scored = ("table",)
        else:
            case.columns = {edge(s[1], s[0], t[1], t[0]) for s, t in row["columns"]}
            case.schemas = row.get("schemas") or {}
            case.scored = ("column",)
        out.append(case)
    return out


def datahub_goldens(path: Path) -> list[Case]:
    """DataHub's ``test_sqlglot_lineage.py`` goldens as extracted by ``peers.py``; a SELECT's result columns
    have no table (``>.col``)."""
    from peers import urn_name

    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        if row.get("skipped"):
            continue
        outputs = {norm(urn_name(u)) for u in row["outputs"]}
        out.append(
            Case(
                f"datahub#{n}:{row['test']}",
                row["sql"],
                row["dialect"],
                {norm(urn_name(u)) for u in row["inputs"]} - outputs,
                outputs,
                {edge(urn_name(s[1]), s[0], urn_name(t[1]) if t[1] else "", t[0]) for s, t in row["columns"]},
                convention="column",
                schemas={urn_name(u): list(cols) for u, cols in (row.get("schemas") or {}).items()},
                default_db=row.get("default_db"),
                default_schema=row.get("default_schema"),
                extra={"urn_schemas": row.get("schemas") or {}},
                scored=("table",) if row.get("no_column_lineage") else ("table", "column"),
            )
        )
    return out
