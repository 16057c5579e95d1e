"""Bad input never sinks the run: each problem is reported with its line and the rest is analysed."""

from __future__ import annotations

import pytest

from flowscope.errors import UserError
from flowscope_sql.analyze import Analyzer, split
from flowscope_sql.collector import decode
from flowscope_sql.settings import Source, check_dialect


def test_syntax_error_names_its_line_and_the_others_still_run(run_sql) -> None:
    sts = run_sql("INSERT INTO t SELECT a FROM s;\n\nSELECT FROM WHERE;\nINSERT INTO u SELECT b FROM s")
    assert [s.error is None for s in sts] == [True, False, True]
    assert sts[1].line == 3 and "syntax error at line 3" in (sts[1].error or "")
    assert sts[2].flows


def test_unsupported_statement_is_a_problem(run_sql) -> None:
    [st] = run_sql("DBCC CHECKDB", "tsql")
    assert st.error and "unsupported" in st.error


def test_ddl_without_lineage_is_not_a_problem(run_sql) -> None:
    sts = run_sql("DROP TABLE IF EXISTS t; CREATE TABLE t (a INT); SET x = 1")
    assert all(s.error is None and not s.flows for s in sts)


@pytest.mark.parametrize("text", ["", "   \n\n", "-- only a comment\n", ";;;"])
def test_empty_input_has_no_statements(run_sql, text) -> None:
    assert run_sql(text) == []


def test_binary_and_garbled_bytes_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="binary"):
        decode(b"\x00\x01\x02SELECT")
    with pytest.raises(ValueError, match="UTF-8"):
        decode(b"SELECT \xff\xfe FROM t")
    assert decode("SELECT 1".encode("utf-8-sig")) == "SELECT 1"


def test_garbled_text_is_a_syntax_error_not_a_crash(run_sql) -> None:
    sts = run_sql("SELECT ((((( FROM ''' ;; \u2603 INSERT")
    assert sts and all(s.error for s in sts)


def test_unterminated_string_falls_back_to_naive_split() -> None:
    parts = list(split("SELECT 'abc FROM t;\nSELECT 2;\n", "hive"))
    assert len(parts) == 2 and parts[1][0] == 2


def test_huge_statement_is_bounded_by_size() -> None:
    sql = "SELECT " + ", ".join(f"c{i}" for i in range(20000)) + " FROM t"
    [st] = Analyzer(Source(), max_chars=50_000).run(sql)
    assert st.error and "too large" in st.error


def test_huge_statement_within_limits_still_returns() -> None:
    sql = "INSERT INTO t SELECT " + ",\n".join(f"c{i} + 1 AS d{i}" for i in range(20000)) + "\nFROM s"
    [st] = Analyzer(Source(), timeout=30).run(sql)
    assert st.error is None or "gave up" in st.error
    if st.error is None:
        assert len(st.flows) == 20000


def test_pathological_nesting_is_an_error_not_a_stall() -> None:
    sql = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    [st] = Analyzer(Source(), timeout=5).run(sql)
    assert st.error is None or st.error


def test_time_limit_gives_up() -> None:
    sql = "INSERT INTO t SELECT " + ",\n".join(f"c{i} + 1 AS d{i}" for i in range(5000)) + "\nFROM s"
    [st] = Analyzer(Source(), timeout=0.001).run(sql)
    assert st.error and "gave up" in st.error


def test_unknown_dialect_lists_the_valid_ones() -> None:
    with pytest.raises(UserError, match=r"valid dialects: .*hive.*trino"):
        check_dialect("hivey")
    with pytest.raises(UserError):
        Source(dialect="nosuch")
