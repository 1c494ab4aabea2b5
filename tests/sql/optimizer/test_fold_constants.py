"""Golden plans of :mod:`xpdb.sql.optimizer.fold_constants` (run alone), and its negative
cases: what must not fold."""

from __future__ import annotations

import pytest
import sqlglot

from xpdb.sql.optimizer.fold_constants import simplify_logic

FOLD = ("fold_constants",)


def test_constant_subexpression_becomes_literal(cat) -> None:
    cat.golden("SELECT a FROM t WHERE a > 2 * 3", """
        Project a
          Filter a > CAST(6 AS BIGINT)
            Scan t
    """, FOLD)


def test_date_minus_interval_folds(cat) -> None:
    # DATE - INTERVAL is a TIMESTAMP (as in DuckDB): the literal keeps that type
    cat.golden("SELECT id FROM orders WHERE day >= DATE '2024-03-01' - INTERVAL '60' DAY", """
        Project id
          Filter day >= CAST('2024-01-01 00:00:00' AS TIMESTAMP)
            Scan orders
    """, FOLD)


@pytest.mark.parametrize("where, filt", [
    ("1 = 1 AND a > 1", "a > 1"),         # TRUE AND x is x
    ("1 = 2 AND a > 1", "FALSE"),         # FALSE AND x is FALSE
    ("1 = 2 OR a > 1", "a > 1"),          # FALSE OR x is x
    ("a > 1 AND NOT (1 = 1)", "FALSE"),
    ("NULL AND a > 1", "NULL AND a > 1"),  # NULL is no boolean constant to simplify
])
def test_boolean_simplification(cat, where: str, filt: str) -> None:
    cat.golden(f"SELECT a FROM t WHERE {where}", f"""
        Project a
          Filter {filt}
            Scan t
    """, FOLD)


@pytest.mark.parametrize("where", ["1 = 1 OR a > 1", "NOT (1 = 2)", "TRUE"])
def test_filter_on_true_disappears(cat, where: str) -> None:
    cat.golden(f"SELECT a FROM t WHERE {where}", """
        Project a
          Scan t
    """, FOLD)


def test_inner_join_on_true_becomes_cross(cat) -> None:
    cat.golden("SELECT * FROM t JOIN u ON 1 = 1", """
        Project *
          CrossJoin
            Scan t
            Scan u
    """, FOLD)
    cat.golden("SELECT * FROM t JOIN u ON t.a = u.a AND 2 > 1", """
        Project *
          InnerJoin ON t.a = u.a
            Scan t
            Scan u
    """, FOLD)


def test_outer_join_on_true_stays_outer(cat) -> None:
    # a LEFT JOIN ON TRUE with an empty right side still yields every left row
    cat.golden("SELECT * FROM t LEFT JOIN u ON 1 = 1", """
        Project *
          LeftJoin ON TRUE
            Scan t
            Scan u
    """, FOLD)
    cat.golden("SELECT * FROM t LEFT JOIN u ON 1 = 0", """
        Project *
          LeftJoin ON FALSE
            Scan t
            Scan u
    """, FOLD)


def test_select_items_fold(cat) -> None:
    sql = ("SELECT upper('ab') || 'c' AS s, CAST(1.5 AS DECIMAL(10, 2)) * 2 AS dec, "
           "1 + 1 AS two, DATE '2024-02-28' + INTERVAL 1 DAY AS d, a + 2 * 3 AS a6 FROM t")
    assert cat.items(sql, FOLD) == [
        "'ABc'", "CAST('3.00' AS DECIMAL(4, 2))", "CAST(2 AS BIGINT)",
        "CAST('2024-02-29 00:00:00' AS TIMESTAMP)", "a + CAST(6 AS BIGINT)"]
    cat.differential(sql, FOLD)


def test_negative_zero_keeps_its_sign(cat) -> None:
    # -0.0 folded to 0.0 would flip atan2's quadrant, 1 / x's infinity...
    assert cat.items("SELECT c * (0.0 * -1) AS z FROM t", FOLD) == ["c * -0.0"]


def test_volatile_call_not_folded(cat) -> None:
    # the constant part around random() folds, random() itself stays (one value per row)
    cat.golden("SELECT a FROM t WHERE random() < 0.5 + 0.5", """
        Project a
          Filter RANDOM() < 1.0
            Scan t
    """, FOLD, run=False)


def test_subquery_not_folded(cat) -> None:
    # a subquery is folded when it is itself planned, never from outside
    cat.golden("SELECT a FROM t WHERE a > (SELECT 1 + 1) AND c > 1 + 1", """
        Project a
          Filter a > (SELECT 1 + 1) AND c > CAST(2 AS BIGINT)
            Scan t
    """, FOLD)


def test_failing_branch_left_for_run_time(cat) -> None:
    # 1 / 0 sits in a branch never taken: folding must neither raise nor change results
    for sql in ["SELECT CASE WHEN a > 100 THEN 1 / 0 ELSE 1 END AS x FROM t",
                "SELECT CASE WHEN 1 > 2 THEN 1 / 0 ELSE 7 END AS x FROM t",
                "SELECT a FROM t WHERE CASE WHEN a > 100 THEN 1 / 0 > 1 ELSE TRUE END"]:
        cat.plan(sql, FOLD)
        cat.differential(sql, FOLD)
    assert cat.items("SELECT CASE WHEN 1 > 2 THEN 1 / 0 ELSE 7 END AS x FROM t", FOLD) == ["7.0"]


def test_grouped_expressions_not_folded(cat) -> None:
    # found by this test: folding the select item and HAVING but not the GROUP BY key
    # unmatched them ("column 'a' must appear in the GROUP BY clause")
    sql = ("SELECT a + (1 + 1) AS k, count(*) AS n FROM t GROUP BY a + (1 + 1) "
           "HAVING a + (1 + 1) > 3")
    cat.golden(sql, """
        Project k, n
          Filter a + (1 + 1) > 3
            Aggregate keys=[a + (1 + 1)] aggs=[COUNT(*)]
              Scan t
    """, FOLD)
    cat.differential("SELECT a + (1 + 1) AS k FROM t GROUP BY a + (1 + 1)", FOLD)
    cat.differential("SELECT 1 + 1 AS z, count(*) AS n FROM t GROUP BY z", FOLD)
    cat.differential("SELECT b, sum(c) * (1 + 1) AS s FROM t GROUP BY b ORDER BY b", FOLD)


def test_window_and_aggregate_arguments_not_folded(cat) -> None:
    sql = "SELECT a, sum(c + (1 + 1)) OVER (PARTITION BY b) AS s, 2 * 3 AS six FROM t"
    cat.golden(sql, """
        Project a, s, six
          Window [SUM(c + (1 + 1)) OVER (PARTITION BY b)]
            Scan t
    """, FOLD)
    assert cat.items(sql, FOLD)[2] == "CAST(6 AS BIGINT)"


@pytest.mark.parametrize("text, want", [
    ("TRUE AND x", "x"), ("x AND TRUE", "x"), ("FALSE AND x", "FALSE"),
    ("x OR TRUE", "TRUE"), ("FALSE OR x", "x"), ("NOT FALSE", "TRUE"),
    ("(TRUE AND (x OR FALSE))", "(x)"), ("x AND y", "x AND y"),
])
def test_simplify_logic(device: str, text: str, want: str) -> None:
    assert simplify_logic(sqlglot.parse_one(text)).sql() == want


def test_unsupported_operation_left_for_run_time(cat) -> None:
    # date * integer is not an operation: folding leaves it, and the query fails at run
    # time with the executor's own message, as without the optimizer
    assert cat.items("SELECT DATE '2024-02-28' * 2 AS d", FOLD) == ["CAST('2024-02-28' AS DATE) * 2"]
    # date + integer is (days, as DuckDB): folded to the date
    assert cat.items("SELECT DATE '2024-02-28' + 1 AS d", FOLD) == ["CAST('2024-02-29' AS DATE)"]


def test_integer_overflow_raises(cat) -> None:
    from xpdb.errors import ExecutionError

    with pytest.raises(ExecutionError, match=r"Overflow in addition of int64 .*9223372036854775807 \+ 1"):
        cat.db.sql("SELECT a FROM t WHERE a = 9223372036854775807 + 1")
