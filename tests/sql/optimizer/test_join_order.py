"""Golden plans of :mod:`xpdb.sql.optimizer.join_order` (all rules, with estimates): inner
join trees rebuilt greedily by estimated size, the smaller input on the right (build)
side, no cross product while a connected order exists, the written column order kept."""

from __future__ import annotations

from xpdb.sql import plan as p
from xpdb.sql.optimizer import Estimator
from xpdb.sql.optimizer.tree import nodes

CHAIN = "SELECT * FROM t JOIN u ON t.a = u.a JOIN v ON u.d = v.d"


def _joins(node: p.Node) -> list[p.Join]:
    return [n for n in nodes(node) if isinstance(n, p.Join)]


def test_chain_reordered_with_permute(cat) -> None:
    cat.golden(CHAIN, """
        Project *  ~7 rows
          Permute (restores the written column order)  ~7 rows
            InnerJoin ON t.a = u.a  ~7 rows
              Scan t  ~5 rows
              InnerJoin ON u.d = v.d  ~4 rows
                Scan v  ~6 rows
                Scan u  ~4 rows
    """, estimates=True)
    # SELECT * keeps the written names and order
    assert cat.db.sql(CHAIN).to_arrow().column_names == cat.expected(CHAIN).column_names


def test_smaller_input_is_build_side(cat) -> None:
    for sql in [CHAIN,
                "SELECT count(*) AS n FROM t, u, v, w WHERE t.a = u.a AND u.d = v.d "
                "AND v.e = w.e AND w.f <> 'q'",
                "SELECT o.id, c.name FROM orders o JOIN customers c ON o.cust = c.cust "
                "JOIN t ON t.a = o.qty"]:
        plan = cat.node(sql)
        est = Estimator(cat.db._executor())
        for j in _joins(plan):
            assert est.rows(j.left) >= est.rows(j.right), (sql, j)
        cat.differential(sql)


def test_no_cross_product_when_connected(cat) -> None:
    # written order crosses t and v; u connects both
    sql = "SELECT * FROM t, v, u WHERE t.a = u.a AND u.d = v.d"
    cat.golden(sql, """
        Project *  ~7 rows
          InnerJoin ON t.a = u.a  ~7 rows
            Scan t  ~5 rows
            InnerJoin ON u.d = v.d  ~4 rows
              Scan v  ~6 rows
              Scan u  ~4 rows
    """, estimates=True)
    assert all(j.kind == "inner" for j in _joins(cat.node(sql)))
    # with the rule off, the written cross product stays
    assert "CrossJoin" in cat.plan(sql, ("fold_constants", "factor_or", "pushdown"))


def test_filtered_input_joined_first(cat) -> None:
    sql = ("SELECT t.b, w.f FROM w JOIN v ON v.e = w.e JOIN u ON u.d = v.d JOIN t ON t.a = u.a "
           "WHERE t.b = 'x'")
    cat.golden(sql, """
        Project b, f  ~2 rows
          InnerJoin ON v.e = w.e  ~2 rows
            Scan w  ~4 rows
            InnerJoin ON u.d = v.d  ~2 rows
              Scan v  ~6 rows
              InnerJoin ON t.a = u.a  ~2 rows
                Scan u  ~4 rows
                Scan t columns=[a, b] filters=[t.b = 'x']  ~2 rows
    """, estimates=True)


def test_disconnected_input_crossed_last(cat) -> None:
    cat.golden("SELECT * FROM t CROSS JOIN w JOIN u ON t.a = u.a", """
        Project *  ~27 rows
          Permute (restores the written column order)  ~27 rows
            CrossJoin  ~27 rows
              InnerJoin ON t.a = u.a  ~7 rows
                Scan t  ~5 rows
                Scan u  ~4 rows
              Scan w  ~4 rows
    """, estimates=True)


def test_condition_over_three_inputs(cat) -> None:
    sql = "SELECT * FROM t JOIN u ON t.a = u.a JOIN v ON t.a + v.e = u.d"
    # the inputs end up in written order: no Permute needed
    cat.golden(sql, """
        Project *  ~12 rows
          InnerJoin ON t.a + v.e = u.d  ~12 rows
            InnerJoin ON t.a = u.a  ~7 rows
              Scan t  ~5 rows
              Scan u  ~4 rows
            Scan v  ~6 rows
    """, estimates=True)


def test_two_inputs_left_as_written(cat) -> None:
    cat.golden("SELECT * FROM u JOIN t ON t.a = u.a", """
        Project *  ~7 rows
          InnerJoin ON t.a = u.a  ~7 rows
            Scan u  ~4 rows
            Scan t  ~5 rows
    """, estimates=True)


def test_using_and_outer_joins_are_leaves(cat) -> None:
    # a bushy tree: (t USING u) and (v JOIN w) are each smaller than any other pairing
    cat.golden("SELECT * FROM t JOIN u USING (a) JOIN v ON u.d = v.d JOIN w ON v.e = w.e", """
        Project *  ~7 rows
          InnerJoin ON u.d = v.d  ~7 rows
            InnerJoin USING (a)  ~7 rows
              Scan t  ~5 rows
              Scan u  ~4 rows
            InnerJoin ON v.e = w.e  ~6 rows
              Scan v  ~6 rows
              Scan w  ~4 rows
    """, estimates=True)
    cat.golden("SELECT * FROM t LEFT JOIN u ON t.a = u.a JOIN v ON u.d = v.d JOIN w ON v.e = w.e",
               """
        Project *  ~7 rows
          InnerJoin ON u.d = v.d  ~7 rows
            LeftJoin ON t.a = u.a  ~7 rows
              Scan t  ~5 rows
              Scan u  ~4 rows
            InnerJoin ON v.e = w.e  ~6 rows
              Scan v  ~6 rows
              Scan w  ~4 rows
    """, estimates=True)


def test_subquery_condition_left_as_written(cat) -> None:
    cat.golden("SELECT t.b, v.e FROM t JOIN u ON t.a = u.a JOIN v ON v.d = (SELECT max(d) FROM u)",
               """
        Project b, e
          InnerJoin ON v.d = (SELECT MAX(d) FROM u)
            InnerJoin ON t.a = u.a
              Scan t columns=[a, b]
              Scan u
            Scan v
    """)


def test_shared_cte_is_one_leaf(cat) -> None:
    sql = ("WITH x AS (SELECT a FROM t WHERE a > 1) "
           "SELECT * FROM x JOIN x AS y ON x.a = y.a JOIN u ON u.a = x.a")
    cat.golden(sql, """
        Project *
          Permute (restores the written column order)
            InnerJoin ON u.a = x.a
              Scan u
              InnerJoin ON x.a = y.a
                Alias x
                  Project a  [shared #7]
                    Scan t filters=[a > 1]
                Alias y
                  -> shared #7 (computed once)
    """)


def test_single_input_condition_kept_as_filter(cat) -> None:
    # without pushdown an ON term over one input moves to a filter over the new tree
    cat.golden("SELECT * FROM t JOIN u ON t.a = u.a JOIN v ON u.d = v.d AND t.c > 1", """
        Project *
          Filter t.c > 1
            Permute (restores the written column order)
              InnerJoin ON t.a = u.a
                Scan t
                InnerJoin ON u.d = v.d
                  Scan v
                  Scan u
    """, ("join_order",))


def test_renamed_leaf_and_star_order(cat) -> None:
    for sql in [
        "SELECT x.q, y.d FROM t AS x(p, q) JOIN u AS y(aa, d) ON x.p = y.aa JOIN v ON y.d = v.d",
        "SELECT * FROM v JOIN u USING (d) JOIN t ON u.a = t.a JOIN w ON v.e = w.e",
        "SELECT u.*, t.b FROM t JOIN u ON t.a = u.a JOIN v ON u.d = v.d",
        "SELECT * FROM t JOIN u ON t.a = u.a JOIN v ON u.d = v.d JOIN w ON v.e = w.e "
        "JOIN orders o ON o.id = t.a JOIN customers c ON c.cust = o.cust",
    ]:
        cat.differential(sql, ("pushdown", "join_order"))
