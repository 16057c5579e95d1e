from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowscope_sql.analyze import Analyzer, Statement
from flowscope_sql.settings import Catalog, Source

DATA = Path(__file__).parent / "data"


def describe(st: Statement) -> set[tuple[str, str, str]]:
    """(source.column, target.column | target | -, TYPE/SUBTYPE[/masked]) for every flow of a statement."""
    out = set()
    for f in st.flows:
        src = ".".join(f.source) + "." + f.source_column
        if f.target is None:
            tgt = "-"
        else:
            tgt = ".".join(f.target) + ("." + f.target_column if f.target_column else "")
        t = f.transformation
        out.add((src, tgt, f"{t.type}/{t.subtype}" + ("/masked" if t.masking else "")))
    return out


@pytest.fixture
def run_sql() -> Callable[..., list[Statement]]:
    def run(
        sql: str, dialect: str = "hive", catalog: dict[str, Any] | None = None, **source: Any
    ) -> list[Statement]:
        cat = Catalog()
        for name, cols in (catalog or {}).items():
            cat.add(tuple(name.split(".")), list(cols.items()))
        return Analyzer(Source(dialect=dialect, **source), cat).run(sql)

    return run


@pytest.fixture
def flows(run_sql: Callable[..., list[Statement]]) -> Callable[..., set[tuple[str, str, str]]]:
    def one(sql: str, dialect: str = "hive", **kw: Any) -> set[tuple[str, str, str]]:
        statements = run_sql(sql, dialect, **kw)
        assert len(statements) == 1
        assert statements[0].error is None, statements[0].error
        return describe(statements[0])

    return one


@pytest.fixture(name="describe")
def describe_fixture() -> Callable[[Statement], set[tuple[str, str, str]]]:
    return describe
