"""Golden plans of :mod:`xpdb.sql.optimizer.prune_columns` (run alone): scans read only the
columns the query names, and never fewer."""

from __future__ import annotations

PRUNE = ("prune_columns",)


def test_only_named_columns(cat) -> None:
    cat.golden("SELECT a FROM t WHERE c > 1", """
        Project a
          Filter c > 1
            Scan t columns=[a, c]
    """, PRUNE)
    cat.golden("SELECT x.b FROM t AS x WHERE x.c > 1", """
        Project b
          Filter x.c > 1
            Scan t AS x columns=[b, c]
    """, PRUNE)


def test_count_star_needs_no_column(cat) -> None:
    cat.golden("SELECT count(*) FROM t", """
        Project count_star()
          Aggregate keys=[] aggs=[COUNT(*)]
            Scan t columns=[]
    """, PRUNE)
    cat.golden("SELECT count(*) AS n FROM t JOIN u ON t.a = u.a", """
        Project n
          Aggregate keys=[] aggs=[COUNT(*)]
            InnerJoin ON t.a = u.a
              Scan t columns=[a]
              Scan u columns=[a]
    """, PRUNE)
    cat.golden("SELECT count(*) FILTER (WHERE c > 1) AS n, count(a) AS m FROM t", """
        Project n, m
          Aggregate keys=[] aggs=[COUNT(*) FILTER(WHERE c > 1), COUNT(a)]
            Scan t columns=[a, c]
    """, PRUNE)


def test_star_keeps_all_columns(cat) -> None:
    cat.golden("SELECT * FROM t WHERE c > 1", """
        Project *
          Filter c > 1
            Scan t
    """, PRUNE)
    # a * in a subquery keeps every column too (it may expand any scan)...
    cat.golden("SELECT b FROM t WHERE a IN (SELECT a FROM (SELECT * FROM u) AS x)", """
        Project b
          Filter a IN (SELECT a FROM (SELECT * FROM u) AS x)
            Scan t
    """, PRUNE)
    # ...except in EXISTS, whose select list is never read
    cat.golden("SELECT b FROM t WHERE EXISTS (SELECT * FROM u WHERE u.a = t.a)", """
        Project b
          Filter EXISTS(SELECT * FROM u WHERE u.a = t.a)
            Scan t columns=[a, b]
    """, PRUNE)


def test_qualified_star_keeps_that_table(cat) -> None:
    cat.golden("SELECT x.* FROM t AS x JOIN u ON x.a = u.a", """
        Project x.*
          InnerJoin ON x.a = u.a
            Scan t AS x
            Scan u columns=[a]
    """, PRUNE)
    cat.golden("SELECT d.* FROM (SELECT a, b FROM t) d", """
        Project d.*
          Alias d
            Project a, b
              Scan t columns=[a, b]
    """, PRUNE)


def test_renamed_table_keeps_positions(cat) -> None:
    # t AS x(p, q) renames by position: dropping a column would shift the names
    cat.golden("SELECT p FROM t AS x(p, q)", """
        Project p
          Alias x(p, q)
            Scan t AS x
    """, PRUNE)
    cat.golden("SELECT q FROM t AS x(p, q) WHERE x.p > 1", """
        Project q
          Alias x(p, q)
            Scan t AS x filters=[x.a > 1]
    """, ("pushdown", "prune_columns"))


def test_order_by_alias_and_hidden_key(cat) -> None:
    cat.golden("SELECT a AS z FROM t ORDER BY z", """
        Sort [0]
          Project z
            Scan t columns=[a]
    """, PRUNE)
    cat.golden("SELECT a FROM t ORDER BY c", """
        Head (drops 1 sort keys)
          Sort [1]
            Project a, __xpdb_order1
              Scan t columns=[a, c]
    """, PRUNE)


def test_group_by_alias_keeps_its_column(cat) -> None:
    cat.golden("SELECT b AS z, count(*) AS n FROM t GROUP BY z", """
        Project z, n
          Aggregate keys=[z] aggs=[COUNT(*)]
            Scan t columns=[b]
    """, PRUNE)


def test_using_column_kept(cat) -> None:
    cat.golden("SELECT count(*) FROM t JOIN u USING (a)", """
        Project count_star()
          Aggregate keys=[] aggs=[COUNT(*)]
            InnerJoin USING (a)
              Scan t columns=[a]
              Scan u columns=[a]
    """, PRUNE)


def test_correlated_subquery_names_outer_columns(cat) -> None:
    sql = ("SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM customers c "
           "WHERE c.cust = o.cust AND c.city = 'Paris')")
    cat.golden(sql, """
        Project id
          Filter EXISTS(SELECT 1 FROM customers AS c WHERE c.cust = o.cust AND c.city = 'Paris')
            Scan orders AS o columns=[id, cust]
    """, PRUNE)


def test_window_columns_kept(cat) -> None:
    cat.golden("SELECT sum(c) OVER (PARTITION BY b ORDER BY a) AS s FROM t", """
        Project s
          Window [SUM(c) OVER (PARTITION BY b ORDER BY a)]
            Scan t
    """, PRUNE)


def test_derived_table_renames(cat) -> None:
    cat.golden("SELECT d.aa FROM (SELECT a AS aa, b FROM t) d", """
        Project aa
          Alias d
            Project aa, b
              Scan t columns=[a, b]
    """, PRUNE)


def test_differential(cat) -> None:
    for sql in [
        "SELECT o.id, c.name FROM orders o JOIN customers c ON o.cust = c.cust ORDER BY o.id",
        "SELECT c.city, count(*) AS n FROM orders o JOIN customers c USING (cust) GROUP BY c.city",
        "SELECT name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o "
        "WHERE o.cust = c.cust) ORDER BY name",
        "SELECT x.q, y.d FROM t AS x(p, q) JOIN u AS y(aa, d) ON x.p = y.aa",
        "SELECT a FROM t UNION SELECT d FROM u",
        "SELECT count(*) AS n FROM (SELECT a, b FROM t) d",
        "SELECT status AS s FROM orders ORDER BY s DESC, id",
    ]:
        cat.differential(sql, PRUNE)


def test_order_by_expression_of_alias(cat) -> None:
    cat.differential("SELECT a AS z FROM t ORDER BY -z NULLS FIRST", PRUNE)
