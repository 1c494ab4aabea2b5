"""Expressions and functions: xpdb against DuckDB on the same data."""

from __future__ import annotations

import pytest

from xpdb.errors import NotSupportedError

EXPRESSIONS = [
    "id + qty", "amount * 2 - 1", "qty / 2", "id // 3", "id % 3", "-amount", "qty / 0",
    "qty % 0", "amount / 0", "amount % 0", "amount // 2", "amount // 0", "amount > 10", "amount <= 7.25 AND qty > 1", "amount > 10 OR qty IS NULL",
    "NOT (qty > 2)", "qty IS NULL", "status IS NOT NULL", "cust IN (10, 30)",
    "cust NOT IN (10, 30)", "cust IN (10, NULL)", "qty BETWEEN 2 AND 4",
    "qty NOT BETWEEN 2 AND 4", "status LIKE 'n%'", "status ILIKE 'N%'", "status NOT LIKE '%e%'",
    "CASE WHEN qty > 3 THEN 'big' WHEN qty > 1 THEN 'mid' ELSE 'small' END",
    "CASE cust WHEN 10 THEN 'ten' WHEN 20 THEN 'twenty' END", "COALESCE(amount, 0)",
    "COALESCE(cust, qty, -1)", "NULLIF(cust, 10)", "CAST(amount AS INTEGER)", "amount::BIGINT",
    "CAST(qty AS DOUBLE)", "CAST(id AS VARCHAR)", "TRY_CAST(status AS INTEGER)",
    "upper(status)", "lower(status)", "length(status)", "substring(status, 2, 3)",
    "trim('  ' || status || '  ')", "concat(status, '-', id)", "status || '!'",
    "replace(status, 'e', 'E')", "starts_with(status, 'n')", "contains(status, 'pp')",
    "regexp_matches(status, '^[a-z]+$')", "abs(amount)", "round(amount)", "round(amount, 1)",
    "floor(amount)", "ceil(amount)", "sqrt(abs(amount))", "ln(abs(amount) + 1)",
    "extract(year FROM day)", "extract(month FROM day)", "year(day)", "month(day)",
    "day(day)", "date_part('quarter', day)", "date_trunc('month', day)",
    "day + INTERVAL 3 DAY", "day - INTERVAL 1 MONTH", "day > DATE '2024-01-31'",
    "day = '2024-01-05'", "greatest(qty, 3)", "least(id, qty)", "qty IS DISTINCT FROM 2",
    "left(status, 2)", "right(status, 2)", "1 + 2 * 3", "'x' || 'y'",
]


@pytest.mark.parametrize("e", EXPRESSIONS)
def test_expression_matches_duckdb(both, e: str) -> None:
    both.check(f"SELECT id, {e} AS v FROM orders ORDER BY id")


def test_round_half_away_from_zero(both) -> None:
    both.check("SELECT round(x) AS r FROM (VALUES (2.5), (-2.5), (0.5), (1.25)) v(x)",
               ordered=False)


def test_unsupported_construct_names_itself(both) -> None:
    with pytest.raises(NotSupportedError, match="RANGE frames"):
        both.db.sql("SELECT sum(id) OVER (ORDER BY id RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM orders")
    with pytest.raises(NotSupportedError, match=r"window function string_agg\(\) is not"):
        both.db.sql("SELECT string_agg(status, ',') OVER () FROM orders")
    with pytest.raises(NotSupportedError, match=r"aggregate function arrayagg\(\) is not"):
        both.db.sql("SELECT array_agg(id) FROM orders")

