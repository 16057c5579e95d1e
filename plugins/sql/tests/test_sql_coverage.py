"""Statement coverage (issue 19): SELECT results, CTEs before DML, VALUES, MERGE *, PIVOT, windows, utility
statements, procedure blocks, renames, dialect aliases and the simple schema file."""

from __future__ import annotations

import json

import pytest
import sqlglot.tokens

from flowscope_sql import plugin
from flowscope_sql.analyze import Analyzer
from flowscope_sql.budget import CpuLimit
from flowscope_sql.settings import Catalog, Source, check_dialect

ID, TR, AGG = "DIRECT/IDENTITY", "DIRECT/TRANSFORMATION", "DIRECT/AGGREGATION"


def test_with_before_insert_reads_the_ctes_sources(flows) -> None:
    got = flows(
        "WITH c AS (SELECT id, name FROM db.src) INSERT INTO db.dst (id, name) SELECT id, name FROM c", "tsql"
    )
    assert got == {("db.src.id", "db.dst.id", ID), ("db.src.name", "db.dst.name", ID)}


def test_with_before_update_and_alias_target(flows) -> None:
    got = flows("UPDATE t SET t.c = s.c FROM tab1 t JOIN tab2 s ON t.id = s.id", "tsql")
    assert ("tab2.c", "tab1.c", ID) in got and not any(tgt.startswith("t.") for _, tgt, _ in got)


def test_insert_values_is_an_output_with_literal_rows(run_sql) -> None:
    [st] = run_sql("INSERT INTO audit (who, what) VALUES ('a', 1), ('b', 2)")
    assert st.error is None and st.writes == [("audit",)] and not st.reads
    assert st.values_into == {("audit",): ["who", "what"]}


def test_merge_star_branches_expand_from_the_schema(flows) -> None:
    sql = (
        "MERGE INTO tgt t USING src s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
    )
    got = flows(sql, "spark", catalog={"tgt": {"id": "int", "v": "string"}})
    assert {("src.id", "tgt.id", ID), ("src.v", "tgt.v", ID)} <= got
    unknown = flows(sql, "spark")
    assert ("src.*", "tgt.*", ID) in unknown


def test_pivot_and_unpivot_columns(flows) -> None:
    got = flows(
        "INSERT INTO o SELECT region, jan FROM sales PIVOT (sum(amount) FOR month IN ('jan' AS jan, 'feb' AS feb))",
        "snowflake",
    )
    assert got == {
        ("SALES.REGION", "O.REGION", ID),
        ("SALES.AMOUNT", "O.JAN", AGG),
        ("SALES.MONTH", "O.JAN", "INDIRECT/CONDITIONAL"),
    }
    got = flows("INSERT INTO o SELECT id, val FROM t UNPIVOT (val FOR month IN (jan, feb))", "snowflake")
    assert got == {("T.ID", "O.ID", ID), ("T.JAN", "O.VAL", ID), ("T.FEB", "O.VAL", ID)}


def test_named_window_keys_are_indirect_and_first_value_is_a_transformation(flows) -> None:
    got = flows(
        "INSERT INTO o SELECT sum(a) OVER w AS s, first_value(x) OVER w AS f FROM t "
        "WINDOW w AS (PARTITION BY b ORDER BY c)",
        "postgres",
    )
    assert ("t.a", "o.s", AGG) in got and ("t.x", "o.f", TR) in got
    assert {("t.b", "o.f", "INDIRECT/WINDOW"), ("t.c", "o.s", "INDIRECT/WINDOW")} <= got


def test_dynamic_partition_takes_the_last_unaliased_value(flows) -> None:
    got = flows("INSERT OVERWRITE TABLE x PARTITION (ds='2024-01-01', hr) SELECT a, hour(ts) FROM t")
    assert got == {("t.a", "x.a", ID), ("t.ts", "x.hr", TR)}


def test_quoted_names_may_hold_dots(run_sql) -> None:
    [st] = run_sql('INSERT INTO "out.x".t SELECT "a.b" AS c FROM "my.db"."t"', "postgres")
    assert [(f.source, f.source_column, f.target, f.target_column) for f in st.flows] == [
        (("my.db", "t"), "a.b", ("out.x", "t"), "c")
    ]


UTILITY = [
    ("SHOW TABLES", "spark"),
    ("SHOW CREATE TABLE t", "spark"),
    ("CACHE TABLE t", "spark"),
    ("UNCACHE TABLE t", "spark"),
    ("ANALYZE TABLE t COMPUTE STATISTICS", "spark"),
    ("REFRESH TABLE t", "spark"),
    ("SET spark.sql.shuffle.partitions = 10", "spark"),
    ("SET spark.sql.variable.substitute", "spark"),
    ("USE analytics", "hive"),
    ("DESCRIBE t", "hive"),
    ("MSCK REPAIR TABLE t", "hive"),
    ("ADD JAR /tmp/udf.jar", "spark"),
    ("GRANT SELECT ON t TO bob", "postgres"),
    ("TRUNCATE TABLE t", "hive"),
    ("VACUUM t", "postgres"),
    ("CALL system.sync_partition_metadata('a', 'b', 'FULL')", "trino"),
]


@pytest.mark.parametrize(("sql", "dialect"), UTILITY)
def test_utility_statements_are_no_problem(run_sql, sql: str, dialect: str) -> None:
    [st] = run_sql(sql, dialect)
    assert st.error is None and not st.flows


def test_renames_are_edges(run_sql, describe) -> None:
    [alter] = run_sql("ALTER TABLE db.a RENAME TO b")
    assert describe(alter) == {("db.a.", "db.b", "DIRECT/IDENTITY")}
    [rename] = run_sql("RENAME TABLE t1 TO t2, t3 TO t4", "mysql")
    assert rename.writes == [("t2",), ("t4",)] and rename.error is None
    [exchange] = run_sql("ALTER TABLE t1 EXCHANGE PARTITION (pt='p1') WITH TABLE t2")
    assert exchange.reads == {("t2",)} and exchange.writes == [("t1",)]


PROCEDURES = {
    "tsql": """CREATE PROCEDURE p @a BIGINT AS
BEGIN
  SET NOCOUNT ON;
  BEGIN TRY
    DECLARE @v BIGINT = 0;
    IF @a IS NULL
      SET @a = 0;
    INSERT INTO t2 (c) SELECT c FROM t1;
  END TRY
  BEGIN CATCH
    SELECT ERROR_MESSAGE() AS err;
    THROW;
  END CATCH
END;
GO""",
    "bigquery": """CREATE PROCEDURE ds.p(a INT64)
BEGIN
  DECLARE v INT64 DEFAULT 0;
  IF a IS NULL THEN
    SET a = 0;
  END IF;
  LOOP
    SET v = v + 1;
    INSERT INTO ds.t2 (c) SELECT c FROM ds.t1;
    IF v >= a THEN LEAVE; END IF;
  END LOOP;
EXCEPTION WHEN ERROR THEN
  SELECT @@error.message AS err;
END""",
    "oracle": """CREATE PROCEDURE p(a NUMBER) AS
DECLARE v NUMBER := 0;
BEGIN
  IF a IS NULL THEN
    a := 0;
  END IF;
  INSERT INTO t2 (c) SELECT c FROM t1;
  EXIT WHEN v >= a;
EXCEPTION WHEN OTHERS THEN
  RAISE;
END;
/""",
    "postgres": """CREATE PROCEDURE p() LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO t2 (c) SELECT c FROM t1;
END
$$""",
}


@pytest.mark.parametrize("dialect", sorted(PROCEDURES))
def test_procedure_blocks_are_split_and_analysed(run_sql, dialect: str) -> None:
    statements = run_sql(PROCEDURES[dialect], dialect)
    assert [s.error for s in statements if s.error] == []
    inserts = [s for s in statements if s.operation == "INSERT"]
    assert len(inserts) == 1
    [flow] = [f for f in inserts[0].flows if f.target_column]
    assert (flow.source[-1].lower(), flow.source_column.lower(), flow.target[-1].lower()) == ("t1", "c", "t2")  # type: ignore[index]
    assert (
        inserts[0].line
        == PROCEDURES[dialect]
        .splitlines()
        .index(next(x for x in PROCEDURES[dialect].splitlines() if "INSERT" in x))
        + 1
    )


def test_tsql_statements_without_semicolons(run_sql) -> None:
    sts = run_sql("insert into tab1 select * from foo\ninsert into tab2 select * from bar", "tsql")
    assert [(s.line, s.writes) for s in sts] == [(1, [("tab1",)]), (2, [("tab2",)])]


@pytest.mark.parametrize(
    ("alias", "dialect"),
    [
        ("sparksql", "spark"),
        ("postgresql", "postgres"),
        ("ansi", ""),
        ("mssql", "tsql"),
        ("mariadb", "mysql"),
    ],
)
def test_dialect_aliases(alias: str, dialect: str) -> None:
    assert check_dialect(alias) == dialect
    assert Source(alias).namespace == f"{dialect or 'sql'}://default"


def test_simple_schema_file_expands_star(tmp_path, plugin_manager, run_cli) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"shop.orders": ["id", "amount"]}), encoding="utf-8")
    sql = tmp_path / "q.sql"
    sql.write_text("INSERT INTO shop.copy SELECT * FROM shop.orders", encoding="utf-8")
    result = run_cli(
        plugin_manager(("sql", plugin)), "sql", "lineage", str(sql), "-d", "sparksql", "--schema", str(schema)
    )
    assert result.exit_code == 0, result.output
    [event] = [json.loads(line) for line in result.stdout.splitlines()]
    fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert set(fields) == {"id", "amount"}
    cat = Catalog()
    cat.load(schema)
    assert cat.tables[("shop", "orders")] == [("id", ""), ("amount", "")]


def test_utility_script_exits_zero_from_the_cli(tmp_path, plugin_manager, run_cli) -> None:
    sql = tmp_path / "ops.sql"
    sql.write_text(
        "USE db;\nSET x = 1;\nSHOW TABLES;\nANALYZE TABLE t COMPUTE STATISTICS;\nREFRESH TABLE t;\n"
        "CACHE TABLE t;\nDESCRIBE t;\nMSCK REPAIR TABLE t;\nALTER TABLE a RENAME TO b;\n",
        encoding="utf-8",
    )
    result = run_cli(plugin_manager(("sql", plugin)), "sql", "lineage", str(sql), "-d", "spark")
    assert result.exit_code == 0, result.output
    [event] = [json.loads(line) for line in result.stdout.splitlines()]
    assert event["inputs"][0]["name"] == "db.a" and event["outputs"][0]["name"] == "db.b"


def test_select_result_is_a_dataset_of_the_job(plugin_manager, run_cli, tmp_path, assert_valid_event) -> None:
    sql = tmp_path / "report.sql"
    sql.write_text("SELECT u.name, count(*) AS n FROM users u GROUP BY u.name", encoding="utf-8")
    result = run_cli(plugin_manager(("sql", plugin)), "sql", "lineage", str(sql), "-d", "trino")
    [event] = [json.loads(line) for line in result.stdout.splitlines()]
    assert_valid_event(event)
    [out] = event["outputs"]
    assert out["namespace"] == "result://default" and out["name"] == event["job"]["name"]
    assert out["facets"]["columnLineage"]["fields"]["name"]["inputFields"][0]["field"] == "name"


def test_too_large_statement_is_refused_before_it_is_tokenized(monkeypatch) -> None:
    calls = []
    real = sqlglot.tokens.Tokenizer.tokenize

    def counting(self, sql: str):  # type: ignore[no-untyped-def]
        calls.append(len(sql))
        return real(self, sql)

    monkeypatch.setattr(sqlglot.tokens.Tokenizer, "tokenize", counting)
    huge = "SELECT " + ", ".join(f"c{i}" for i in range(50_000)) + " FROM t"
    statements = Analyzer(Source(), max_chars=10_000).run(f"{huge};\nSELECT a FROM t")
    assert "too large" in (statements[0].error or "") and statements[1].error is None
    assert max(calls) < 10_000, "the large statement reached sqlglot's tokenizer"


def test_limit_counts_cpu_time_not_waiting() -> None:
    import time

    with CpuLimit(0.05) as idle:
        time.sleep(0.2)  # waiting (a loaded machine, I/O) costs no CPU: no timeout
    assert not idle.fired
    with pytest.raises(TimeoutError), CpuLimit(0.05) as busy:
        while True:
            sum(range(1000))
    assert busy.fired


def test_sqlglot_log_lines_never_reach_the_terminal(tmp_path, plugin_manager, run_cli, caplog) -> None:
    # sqlglot logs "'<statement>' contains unsupported syntax" for statements it keeps as text: it quotes
    # the file's SQL and is not in FILE:LINE form; flowscope's own problem line is the only report
    sql = tmp_path / "ops.sql"
    sql.write_text("LOCK TABLES t WRITE;\nINSERT INTO a SELECT b FROM c;\n", encoding="utf-8")
    with caplog.at_level("DEBUG"):
        result = run_cli(plugin_manager(("sql", plugin)), "sql", "lineage", str(sql), "-d", "mysql")
    assert result.exit_code == 0, result.output
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]
    assert "unsupported syntax" not in result.output and "LOCK TABLES" not in result.output
    assert json.loads(result.stdout.splitlines()[-1])["outputs"][0]["name"] == "a"
