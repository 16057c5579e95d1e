"""Column lineage per statement kind, through every query construct, on several dialects."""

from __future__ import annotations

import pytest

ID, TR, AGG = "DIRECT/IDENTITY", "DIRECT/TRANSFORMATION", "DIRECT/AGGREGATION"


def test_insert_overwrite_with_static_partition_and_masking(flows) -> None:
    got = flows(
        "INSERT OVERWRITE TABLE a.dst PARTITION (ds = '2024-01-01') "
        "SELECT id, sha2(CAST(uid AS STRING), 256) AS uid_hash, md5(email) AS e FROM a.src WHERE ok = 1"
    )
    assert got == {
        ("a.src.id", "a.dst.id", ID),
        ("a.src.uid", "a.dst.uid_hash", TR + "/masked"),
        ("a.src.email", "a.dst.e", TR + "/masked"),
        ("a.src.ok", "a.dst", "INDIRECT/FILTER"),
    }


def test_insert_with_column_list_maps_by_position(flows) -> None:
    got = flows("INSERT INTO s.dst (x, y) SELECT a, b + 1 FROM s.src", "trino", default_catalog="hive")
    assert got == {("hive.s.src.a", "hive.s.dst.x", ID), ("hive.s.src.b", "hive.s.dst.y", TR)}


def test_insert_without_column_list_uses_catalog_positions_and_dynamic_partitions(flows) -> None:
    catalog = {"db.dst": {"x": "int", "y": "int", "ds": "string"}}
    got = flows("INSERT OVERWRITE TABLE db.dst PARTITION (ds) SELECT a, b, d FROM db.src", catalog=catalog)
    assert got == {("db.src.a", "db.dst.x", ID), ("db.src.b", "db.dst.y", ID), ("db.src.d", "db.dst.ds", ID)}


def test_ctas_view_and_materialized_view(run_sql, describe) -> None:
    sts = run_sql(
        "CREATE TABLE t AS SELECT a FROM src; CREATE VIEW v AS SELECT a AS b FROM t;"
        "CREATE MATERIALIZED VIEW mv AS SELECT count(b) AS n FROM v",
        "postgres",
        default_schema="public",
    )
    assert [s.operation for s in sts] == ["CREATE TABLE", "CREATE VIEW", "CREATE MATERIALIZED VIEW"]
    assert describe(sts[0]) == {("public.src.a", "public.t.a", ID)}
    assert describe(sts[1]) == {("public.t.a", "public.v.b", ID)}
    assert describe(sts[2]) == {("public.v.b", "public.mv.n", AGG)}


def test_merge_every_branch(flows) -> None:
    got = flows(
        "MERGE INTO t USING s ON t.id = s.id "
        "WHEN MATCHED AND s.deleted THEN DELETE "
        "WHEN MATCHED THEN UPDATE SET name = upper(s.name) "
        "WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)",
        "snowflake",
        default_catalog="DB",
        default_schema="PUBLIC",
    )
    assert ("DB.PUBLIC.S.NAME", "DB.PUBLIC.T.NAME", TR) in got
    assert ("DB.PUBLIC.S.NAME", "DB.PUBLIC.T.NAME", ID) in got
    assert ("DB.PUBLIC.S.ID", "DB.PUBLIC.T.ID", ID) in got
    assert ("DB.PUBLIC.S.ID", "DB.PUBLIC.T", "INDIRECT/JOIN") in got
    assert ("DB.PUBLIC.T.ID", "DB.PUBLIC.T", "INDIRECT/JOIN") in got
    assert ("DB.PUBLIC.S.DELETED", "DB.PUBLIC.T", "INDIRECT/CONDITIONAL") in got


def test_update_from_and_delete(run_sql, describe) -> None:
    upd, dele = run_sql(
        "UPDATE t SET total = s.amount * 2 FROM s WHERE t.id = s.id;"
        "DELETE FROM t WHERE user_id IN (SELECT id FROM banned)",
        "postgres",
    )
    assert describe(upd) == {
        ("s.amount", "t.total", TR),
        ("t.id", "t", "INDIRECT/FILTER"),
        ("s.id", "t", "INDIRECT/FILTER"),
    }
    assert upd.operation == "UPDATE"
    assert describe(dele) == {("t.user_id", "t", "INDIRECT/FILTER"), ("banned.id", "t", "INDIRECT/FILTER")}


def test_hive_multi_insert(run_sql, describe) -> None:
    [st] = run_sql(
        "FROM src s INSERT OVERWRITE TABLE t1 SELECT s.a WHERE s.b > 1 INSERT INTO TABLE t2 SELECT s.c"
    )
    assert st.writes == [("t1",), ("t2",)]
    assert describe(st) == {("src.a", "t1.a", ID), ("src.b", "t1", "INDIRECT/FILTER"), ("src.c", "t2.c", ID)}


def test_select_lineage_goes_to_the_query_result(flows) -> None:
    got = flows("SELECT name, upper(city) AS town FROM users WHERE country = 'NL' ORDER BY signup", "mysql")
    assert got == {
        ("users.name", "<query result>.name", ID),
        ("users.city", "<query result>.town", "DIRECT/TRANSFORMATION"),
        ("users.country", "<query result>", "INDIRECT/FILTER"),
        ("users.signup", "<query result>", "INDIRECT/SORT"),
    }


def test_ctes_subqueries_joins_group_window(flows) -> None:
    got = flows(
        """
        INSERT INTO out
        WITH o AS (SELECT user_id, amount FROM orders WHERE status = 'paid'),
             agg AS (SELECT user_id, sum(amount) AS total FROM o GROUP BY user_id)
        SELECT u.name, agg.total,
               row_number() OVER (PARTITION BY u.country ORDER BY agg.total) AS rnk,
               CASE WHEN u.vip THEN agg.total ELSE 0 END AS bonus
        FROM users u JOIN agg ON u.id = agg.user_id
        """,
        "spark",
    )
    assert ("users.name", "out.name", ID) in got
    assert ("orders.amount", "out.total", AGG) in got
    assert ("orders.amount", "out.bonus", AGG) in got
    # A CASE condition and window keys shape one column: they are INDIRECT on that field, not the dataset.
    assert ("users.vip", "out.bonus", "INDIRECT/CONDITIONAL") in got
    assert ("users.country", "out.rnk", "INDIRECT/WINDOW") in got
    assert ("orders.amount", "out.rnk", "INDIRECT/WINDOW") in got
    assert ("users.vip", "out", "INDIRECT/CONDITIONAL") not in got
    assert ("orders.status", "out", "INDIRECT/FILTER") in got
    assert ("orders.user_id", "out", "INDIRECT/GROUP_BY") in got
    assert ("orders.user_id", "out", "INDIRECT/JOIN") in got
    assert ("users.id", "out", "INDIRECT/JOIN") in got


def test_union_by_position(flows) -> None:
    got = flows("INSERT INTO t SELECT a AS x FROM s1 UNION ALL SELECT b FROM s2", "presto")
    assert got == {("s1.a", "t.x", ID), ("s2.b", "t.x", ID)}


def test_lateral_view_explode_and_struct_access(flows) -> None:
    got = flows(
        "INSERT INTO t SELECT s.id, tag, s.info.city AS city FROM src s LATERAL VIEW explode(s.tags) x AS tag"
    )
    assert ("src.id", "t.id", ID) in got
    assert ("src.tags", "t.tag", TR) in got
    assert ("src.info", "t.city", ID) in got


def test_struct_path_is_kept_in_description(run_sql) -> None:
    [st] = run_sql("INSERT INTO t SELECT s.info.city AS city FROM src s")
    [flow] = st.flows
    assert flow.source_column == "info" and flow.transformation.description == "path s.info.city"


def test_unnest_on_trino(flows) -> None:
    got = flows("INSERT INTO t SELECT id, tag FROM src CROSS JOIN UNNEST(tags) AS x(tag)", "trino")
    assert ("src.id", "t.id", ID) in got
    assert ("src.tags", "t.tag", TR) in got


def test_star_expansion_with_catalog_and_star_edge_without(flows) -> None:
    catalog = {"db.src": {"a": "int", "b": "string"}}
    got = flows("INSERT INTO db.t SELECT * FROM db.src", catalog=catalog)
    assert got == {("db.src.a", "db.t.a", ID), ("db.src.b", "db.t.b", ID)}
    got = flows("INSERT INTO db.t SELECT * FROM db.src")
    assert got == {("db.src.*", "db.t.*", ID)}


def test_aggregate_and_hash_functions(flows) -> None:
    got = flows(
        "CREATE TABLE d AS SELECT TO_HEX(SHA256(email)) AS e, farm_fingerprint(phone) AS p, count(DISTINCT uid) AS n "
        "FROM ds.users GROUP BY 1, 2",
        "bigquery",
        default_catalog="proj",
    )
    assert ("proj.ds.users.email", "proj.d.e", TR + "/masked") in got or any(
        g[0].endswith("email") and g[2].endswith("masked") for g in got
    )
    assert any(g[0].endswith("phone") and g[2].endswith("masked") for g in got)
    assert any(g[0].endswith("uid") and g[2] == AGG for g in got)


@pytest.mark.parametrize(
    "dialect", ["presto", "trino", "spark", "hive", "postgres", "mysql", "snowflake", "bigquery"]
)
def test_each_dialect_handles_a_common_insert(flows, dialect) -> None:
    got = flows("INSERT INTO t (a, b) SELECT x, max(y) FROM s WHERE z > 0 GROUP BY x", dialect)
    names = {(src.split(".")[-1].lower(), tgt.split(".")[-1].lower(), how) for src, tgt, how in got}
    assert ("x", "a", ID) in names
    assert ("y", "b", AGG) in names
    assert ("z", "t", "INDIRECT/FILTER") in names


def test_scripts_track_use_and_created_tables(run_sql, describe) -> None:
    sts = run_sql("USE sales; CREATE TABLE tmp (a INT, b INT); INSERT INTO final SELECT * FROM tmp;")
    assert sts[2].error is None
    assert describe(sts[2]) == {("sales.tmp.a", "sales.final.a", ID), ("sales.tmp.b", "sales.final.b", ID)}


def test_set_operations_intersect_except(flows) -> None:
    got = flows("INSERT INTO t SELECT a FROM x INTERSECT SELECT b FROM y EXCEPT SELECT c FROM z", "postgres")
    assert got == {("x.a", "t.a", ID), ("y.b", "t.a", ID), ("z.c", "t.a", ID)}


def test_recursive_cte(flows) -> None:
    got = flows(
        "INSERT INTO t WITH RECURSIVE r(n, p) AS (SELECT id, parent FROM nodes UNION ALL "
        "SELECT r.n, nodes.parent FROM r JOIN nodes ON nodes.id = r.p) SELECT n, p FROM r",
        "postgres",
    )
    assert ("nodes.id", "t.n", ID) in got and ("nodes.parent", "t.p", ID) in got


def test_scalar_and_correlated_subqueries(flows) -> None:
    got = flows(
        "INSERT INTO t SELECT u.id, (SELECT max(o.amount) FROM orders o WHERE o.user_id = u.id) AS m "
        "FROM users u WHERE EXISTS (SELECT 1 FROM banned b WHERE b.uid = u.id)",
        "postgres",
    )
    assert got == {
        ("users.id", "t.id", ID),
        ("orders.amount", "t.m", AGG),
        ("orders.user_id", "t", "INDIRECT/FILTER"),
        ("users.id", "t", "INDIRECT/FILTER"),
        ("banned.uid", "t", "INDIRECT/FILTER"),
    }


def test_group_by_and_order_by_output_aliases(flows) -> None:
    got = flows(
        "INSERT INTO t SELECT upper(name) AS n, count(*) AS c FROM users GROUP BY n ORDER BY n", "mysql"
    )
    assert got == {
        ("users.name", "t.n", TR),
        ("users.name", "t", "INDIRECT/GROUP_BY"),
        ("users.name", "t", "INDIRECT/SORT"),
    }


def test_every_join_kind_marks_join_keys(flows) -> None:
    for kind in ("JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL OUTER JOIN"):
        got = flows(f"INSERT INTO t SELECT a.x, b.y FROM a {kind} b ON a.k = b.k", "trino")
        assert {("a.k", "t", "INDIRECT/JOIN"), ("b.k", "t", "INDIRECT/JOIN")} <= got
    got = flows("INSERT INTO t SELECT a.x, b.y FROM a JOIN b USING (k)", "postgres")
    assert ("a.x", "t.x", ID) in got and ("b.y", "t.y", ID) in got


def test_max_by_key_is_a_sort_not_a_value(flows) -> None:
    got = flows("INSERT INTO t SELECT u, max_by(city, n) AS top FROM s GROUP BY u", "trino")
    assert ("s.city", "t.top", AGG) in got
    assert ("s.n", "t.top", "INDIRECT/SORT") in got
    assert not any(src == "s.n" and tgt == "t.top" and kind.startswith("DIRECT") for src, tgt, kind in got)


def test_a_cte_sees_only_its_own_from_not_earlier_ctes(flows) -> None:
    got = flows(
        "INSERT INTO o WITH a AS (SELECT user_id FROM users), b AS (SELECT user_id, ts FROM events), "
        "c AS (SELECT * FROM events2) SELECT b.user_id, c.x FROM a JOIN b ON a.user_id = b.user_id JOIN c ON 1 = 1",
        "spark",
    )
    assert ("events.user_id", "o.user_id", ID) in got and ("users.user_id", "o.user_id", ID) not in got
    assert ("events2.x", "o.x", ID) in got


def test_order_by_inside_an_aggregate_sorts_and_within_group_aggregates(flows) -> None:
    got = flows(
        "INSERT INTO o SELECT k, string_agg(sku, ',' ORDER BY line_no) AS skus FROM t GROUP BY k", "postgres"
    )
    assert ("t.sku", "o.skus", AGG) in got and ("t.line_no", "o.skus", "INDIRECT/SORT") in got
    assert not [g for g in got if g[0] == "t.line_no" and g[1] == "o.skus" and g[2].startswith("DIRECT")]
    got = flows("INSERT INTO o SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS m FROM t", "postgres")
    assert ("t.x", "o.m", AGG) in got
