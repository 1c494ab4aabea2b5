"""Golden plans of :mod:`xpdb.sql.optimizer.pushdown` (run alone): each filter conjunct
moves as far down as it stays exact, and no further."""

from __future__ import annotations

PUSH = ("pushdown",)


def test_inner_join_sides_and_join_condition(cat) -> None:
    sql = ("SELECT t.a, u.d FROM t JOIN u ON t.a = u.a "
           "WHERE t.b = 'x' AND u.d > 10 AND t.c + u.d > 5")
    cat.golden(sql, """
        Project a, d
          InnerJoin ON t.c + u.d > 5 AND t.a = u.a
            Scan t filters=[t.b = 'x']
            Scan u filters=[u.d > 10]
    """, PUSH)


def test_cross_join_with_condition_becomes_inner(cat) -> None:
    cat.golden("SELECT t.a FROM t, u WHERE t.a = u.a AND t.b = 'x'", """
        Project a
          InnerJoin ON t.a = u.a
            Scan t filters=[t.b = 'x']
            Scan u
    """, PUSH)
    cat.golden("SELECT t.a FROM t, u WHERE t.c > 1", """
        Project a
          CrossJoin
            Scan t filters=[t.c > 1]
            Scan u
    """, PUSH)


def test_left_join_null_side_filter_stays_above(cat) -> None:
    # u.d > 10 above the join also removes the null-extended rows: it must not move
    cat.golden("SELECT * FROM t LEFT JOIN u ON t.a = u.a WHERE u.d > 10 AND t.c > 1", """
        Project *
          Filter u.d > 10
            LeftJoin ON t.a = u.a
              Scan t filters=[t.c > 1]
              Scan u
    """, PUSH)
    cat.golden("SELECT * FROM t LEFT JOIN u ON t.a = u.a WHERE u.d IS NULL", """
        Project *
          Filter u.d IS NULL
            LeftJoin ON t.a = u.a
              Scan t
              Scan u
    """, PUSH)


def test_left_join_on_terms(cat) -> None:
    # an ON term over the right side filters the right input; one over the left side
    # only decides matching (left rows are all kept), so it stays in ON
    cat.golden("SELECT * FROM t LEFT JOIN u ON t.a = u.a AND u.d > 10 AND t.c > 1", """
        Project *
          LeftJoin ON t.a = u.a AND t.c > 1
            Scan t
            Scan u filters=[u.d > 10]
    """, PUSH)


def test_right_join_mirrored(cat) -> None:
    sql = "SELECT * FROM t RIGHT JOIN u ON t.a = u.a AND t.c > 1 WHERE u.d > 10 AND t.b = 'x'"
    cat.golden(sql, """
        Project *
          Filter t.b = 'x'
            RightJoin ON t.a = u.a
              Scan t filters=[t.c > 1]
              Scan u filters=[u.d > 10]
    """, PUSH)


def test_full_join_keeps_everything(cat) -> None:
    cat.golden("SELECT * FROM t FULL JOIN u ON t.a = u.a AND u.d > 10 WHERE t.c > 1", """
        Project *
          Filter t.c > 1
            FullJoin ON t.a = u.a AND u.d > 10
              Scan t
              Scan u
    """, PUSH)


def test_using_column_stays_above(cat) -> None:
    # the unqualified USING column names both sides: only the one-sided test moves
    cat.golden("SELECT * FROM t JOIN u USING (a) WHERE a > 1 AND d > 10", """
        Project *
          Filter a > 1
            InnerJoin USING (a)
              Scan t
              Scan u filters=[d > 10]
    """, PUSH)


def test_derived_table_items_substituted(cat) -> None:
    cat.golden("SELECT * FROM (SELECT a, c * 2 AS c2 FROM t) s WHERE c2 > 3", """
        Project *
          Alias s
            Project a, c2
              Scan t filters=[(c * 2) > 3]
    """, PUSH)
    cat.golden("SELECT * FROM (SELECT a, 1 AS one FROM t) s WHERE one = 1 AND a > 1", """
        Project *
          Alias s
            Project a, one
              Scan t filters=[1 = 1, a > 1]
    """, PUSH)


def test_group_key_below_aggregate_and_aggregate_above(cat) -> None:
    cat.golden("SELECT * FROM (SELECT a, sum(c) AS s FROM t GROUP BY a) g WHERE a > 1 AND s > 1",
               """
        Project *
          Alias g
            Project a, s
              Filter (SUM(c)) > 1
                Aggregate keys=[a] aggs=[SUM(c)]
                  Scan t filters=[a > 1]
    """, PUSH)
    # a disjunction mixing a key and an aggregate is a HAVING
    cat.golden("SELECT * FROM (SELECT a, b, count(*) AS n FROM t GROUP BY a, b) g "
               "WHERE a > 1 OR n > 1", """
        Project *
          Alias g
            Project a, b, n
              Filter a > 1 OR (COUNT(*)) > 1
                Aggregate keys=[a, b] aggs=[COUNT(*)]
                  Scan t
    """, PUSH)


def test_grouping_sets_not_pushed_into(cat) -> None:
    # CUBE's grand-total row has a NULL key: filtering below would change its count
    cat.golden("SELECT * FROM (SELECT a, count(*) AS n FROM t GROUP BY CUBE (a)) g WHERE a > 1",
               """
        Project *
          Filter a > 1
            Alias g
              Project a, n
                Aggregate keys=[a] aggs=[COUNT(*)] sets=[[0], []]
                  Scan t
    """, PUSH)


def test_cte_read_twice_not_pushed_into(cat) -> None:
    sql = "WITH x AS (SELECT a, c FROM t) SELECT * FROM x AS p JOIN x AS q ON p.a = q.a WHERE p.c > 1"
    cat.golden(sql, """
        Project *
          InnerJoin ON p.a = q.a
            Filter p.c > 1
              Alias p
                Project a, c  [shared #5]
                  Scan t
            Alias q
              -> shared #5 (computed once)
    """, PUSH)


def test_cte_read_once_pushed_into(cat) -> None:
    cat.golden("WITH x AS (SELECT a, c FROM t) SELECT * FROM x WHERE c > 1", """
        Project *
          Alias x
            Project a, c
              Scan t filters=[c > 1]
    """, PUSH)


def test_through_order_by_and_distinct(cat) -> None:
    cat.golden("SELECT * FROM (SELECT a, b FROM t ORDER BY a) d WHERE b = 'x'", """
        Project *
          Alias d
            Sort [0]
              Filter b = 'x'
                Project a, b
                  Scan t
    """, PUSH)
    cat.golden("SELECT * FROM (SELECT DISTINCT a, b FROM t) d WHERE b = 'x'", """
        Project *
          Alias d
            Distinct
              Filter b = 'x'
                Project a, b
                  Scan t
    """, PUSH)


def test_not_below_limit_window_or_set_operation(cat) -> None:
    cat.golden("SELECT * FROM (SELECT a, b FROM t LIMIT 3) d WHERE a > 1", """
        Project *
          Alias d
            Filter a > 1
              Limit 3
                Project a, b
                  Scan t
    """, PUSH, run=False)  # LIMIT without ORDER BY: any 3 rows
    cat.golden("SELECT * FROM (SELECT a, row_number() OVER (ORDER BY c) AS rn FROM t) d "
               "WHERE a > 1 AND rn < 3", """
        Project *
          Filter rn < 3
            Alias d
              Project a, rn
                Filter a > 1
                  Window [ROW_NUMBER() OVER (ORDER BY c)]
                    Scan t
    """, PUSH)
    cat.golden("SELECT * FROM (SELECT a FROM t UNION ALL SELECT a FROM u) d WHERE a > 1", """
        Project *
          Alias d
            Filter a > 1
              UNION ALL
                Project a
                  Scan t
                Project a
                  Scan u
    """, PUSH)


def test_star_derived_table_left_alone(cat) -> None:
    cat.golden("SELECT * FROM (SELECT * FROM t) d WHERE a > 1", """
        Project *
          Filter a > 1
            Alias d
              Project *
                Scan t
    """, PUSH)


def test_volatile_and_subquery_conjuncts_stay(cat) -> None:
    cat.golden("SELECT a FROM t WHERE random() < 0.5 AND a IN (SELECT a FROM u) AND a > 1", """
        Project a
          Filter RANDOM() < 0.5 AND a IN (SELECT a FROM u)
            Scan t filters=[a > 1]
    """, PUSH, run=False)  # random() is not supported by the executor yet
    cat.golden("SELECT * FROM (SELECT a, random() AS r FROM t) d WHERE r < 0.5 AND a > 1", """
        Project *
          Filter r < 0.5
            Alias d
              Project a, r
                Scan t filters=[a > 1]
    """, PUSH, run=False)
    sql = ("SELECT o.id FROM orders o WHERE o.qty > 1 AND "
           "o.amount > (SELECT avg(i.amount) FROM orders i WHERE i.cust = o.cust)")
    cat.golden(sql, """
        Project id
          Filter o.amount > (SELECT AVG(i.amount) FROM orders AS i WHERE i.cust = o.cust)
            Scan orders AS o filters=[o.qty > 1]
    """, PUSH)
    cat.differential("SELECT a FROM t WHERE a IN (SELECT a FROM u) AND a > 1", PUSH)


def test_renamed_table_columns(cat) -> None:
    cat.golden("SELECT p FROM t AS x(p, q) WHERE q = 'x'", """
        Project p
          Alias x(p, q)
            Scan t AS x filters=[x.b = 'x']
    """, PUSH)


def test_view_scan_keeps_filter_above(cat) -> None:
    cat.db.sql("CREATE VIEW tv AS SELECT a, b FROM t")
    cat.duck.sql("CREATE VIEW tv AS SELECT a, b FROM t")
    cat.golden("SELECT * FROM tv WHERE a > 1", """
        Project *
          Filter a > 1
            Scan tv
    """, PUSH)


def test_outer_join_of_derived_tables(cat) -> None:
    for sql in [
        "SELECT * FROM t LEFT JOIN (SELECT a, count(*) AS n FROM u GROUP BY a) g ON t.a = g.a "
        "WHERE g.n IS NULL",
        "SELECT * FROM t LEFT JOIN (SELECT a, d, d > 15 AS big FROM u) g ON t.a = g.a "
        "WHERE g.big IS NULL",
        "SELECT * FROM t LEFT JOIN (SELECT a, coalesce(d, 0) AS dd FROM u) g ON t.a = g.a "
        "WHERE coalesce(g.dd, -1) = -1",
        "SELECT * FROM (SELECT t.a, u.d FROM t LEFT JOIN u ON t.a = u.a) s "
        "WHERE s.d IS NULL AND s.a > 1",
        "SELECT * FROM (SELECT t.a AS ta, u.a AS ua FROM t FULL JOIN u ON t.a = u.a) s "
        "WHERE ua IS NULL",
    ]:
        cat.differential(sql, PUSH)
    cat.golden("SELECT * FROM (SELECT t.a, u.d FROM t LEFT JOIN u ON t.a = u.a) s "
               "WHERE s.d IS NULL AND s.a > 1", """
        Project *
          Alias s
            Project a, d
              Filter u.d IS NULL
                LeftJoin ON t.a = u.a
                  Scan t filters=[t.a > 1]
                  Scan u
    """, PUSH)


def test_having_on_group_key_moves_below_group_by(cat) -> None:
    cat.golden("SELECT a, count(*) AS n FROM t GROUP BY a HAVING a > 1 AND count(*) > 1", """
        Project a, n
          Filter COUNT(*) > 1
            Aggregate keys=[a] aggs=[COUNT(*)]
              Scan t filters=[a > 1]
    """, PUSH)
    sql = ("SELECT o.cust, count(*) AS n FROM orders o JOIN customers c ON o.cust = c.cust "
           "GROUP BY o.cust HAVING o.cust > 10")
    cat.golden(sql, """
        Project cust, n
          Aggregate keys=[o.cust] aggs=[COUNT(*)]
            InnerJoin ON o.cust = c.cust
              Scan orders AS o filters=[o.cust > 10]
              Scan customers AS c
    """, PUSH)


def test_having_not_moved(cat) -> None:
    # an aggregate, a key mixed with an aggregate, grouping sets: all stay above
    for sql, filt in [
        ("SELECT a, count(*) AS n FROM t GROUP BY a HAVING n > 1", "COUNT(*) > 1"),
        ("SELECT a, count(*) AS n FROM t GROUP BY a HAVING a > 1 OR count(*) > 1",
         "a > 1 OR COUNT(*) > 1"),
    ]:
        cat.golden(sql, f"""
            Project a, n
              Filter {filt}
                Aggregate keys=[a] aggs=[COUNT(*)]
                  Scan t
        """, PUSH)
    cat.golden("SELECT a, count(*) AS n FROM t GROUP BY ROLLUP (a) HAVING a > 1 OR a IS NULL", """
        Project a, n
          Filter a > 1 OR a IS NULL
            Aggregate keys=[a] aggs=[COUNT(*)] sets=[[0], []]
              Scan t
    """, PUSH)
    # a GROUP BY key naming a select alias is no input column
    cat.golden("SELECT a % 2 AS m, count(*) AS n FROM t GROUP BY m HAVING m = 0", """
        Project m, n
          Filter m = 0
            Aggregate keys=[m] aggs=[COUNT(*)]
              Scan t
    """, PUSH, run=False)


def test_having_on_select_alias(cat) -> None:
    cat.differential("SELECT a % 2 AS m, count(*) AS n FROM t GROUP BY m HAVING m = 0", PUSH)


def test_swapped_column_aliases(cat) -> None:
    # x(n, a) names u's a "n" and the count "a": each test lands on the right one
    sql = "SELECT * FROM (SELECT a, count(*) AS n FROM u GROUP BY a) AS x(n, a) WHERE n > 1 AND a = 1"
    cat.golden(sql, """
        Project *
          Alias x(n, a)
            Project a, n
              Filter (COUNT(*)) = 1
                Aggregate keys=[a] aggs=[COUNT(*)]
                  Scan u filters=[a > 1]
    """, PUSH)
    cat.golden("SELECT * FROM u AS x(d, a) WHERE x.a > 15", """
        Project *
          Alias x(d, a)
            Scan u AS x filters=[x.d > 15]
    """, PUSH)


def test_uncorrelated_in_moves_to_its_probe_side(cat) -> None:
    # x IN (uncorrelated subquery) filters the side that defines x, below the join
    cat.golden("SELECT t.a, u.d FROM t JOIN u ON t.a = u.a "
               "WHERE u.d IN (SELECT v.d FROM v WHERE v.e > 1)", """
        Project a, d
          InnerJoin ON t.a = u.a
            Scan t
            Filter u.d IN (SELECT v.d FROM v WHERE v.e > 1)
              Scan u
    """, PUSH)
    # unqualified inner names that are the subquery's own columns: still uncorrelated
    cat.golden("SELECT t.a FROM t JOIN u ON t.a = u.a "
               "WHERE u.d IN (SELECT d FROM v GROUP BY d HAVING count(*) > 0)", """
        Project a
          InnerJoin ON t.a = u.a
            Scan t
            Filter u.d IN (SELECT d FROM v GROUP BY d HAVING COUNT(*) > 0)
              Scan u
    """, PUSH)


def test_correlated_or_unprovable_in_stays_above(cat) -> None:
    # refers to t.b: correlated
    cat.golden("SELECT t.a FROM t JOIN u ON t.a = u.a "
               "WHERE u.d IN (SELECT v.d FROM v WHERE v.e = t.a)", """
        Project a
          Filter u.d IN (SELECT v.d FROM v WHERE v.e = t.a)
            InnerJoin ON t.a = u.a
              Scan t
              Scan u
    """, PUSH)
    # an unqualified name no table of the subquery has (c is t's): correlated
    cat.golden("SELECT t.a FROM t JOIN u ON t.a = u.a "
               "WHERE u.d IN (SELECT v.d FROM v WHERE v.e < c)", """
        Project a
          Filter u.d IN (SELECT v.d FROM v WHERE v.e < c)
            InnerJoin ON t.a = u.a
              Scan t
              Scan u
    """, PUSH)
    # a derived table inside: not proved, stays
    cat.golden("SELECT t.a FROM t JOIN u ON t.a = u.a "
               "WHERE u.d IN (SELECT x.d FROM (SELECT d FROM v) AS x)", """
        Project a
          Filter u.d IN (SELECT x.d FROM (SELECT d FROM v) AS x)
            InnerJoin ON t.a = u.a
              Scan t
              Scan u
    """, PUSH)
