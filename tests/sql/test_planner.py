"""Binding errors and unsupported constructs."""

from __future__ import annotations

import pytest

from xpdb.errors import BindError, NotSupportedError


def test_unknown_column_suggests_closest(both) -> None:
    with pytest.raises(BindError, match=r"column 'amout' not found; did you mean 'amount'\?"):
        both.db.sql("SELECT amout FROM orders")


def test_unknown_table_suggests_closest(both) -> None:
    with pytest.raises(BindError, match="did you mean 'orders'"):
        both.db.sql("SELECT * FROM order_s")


def test_ambiguous_column(both) -> None:
    with pytest.raises(BindError, match="ambiguous"):
        both.db.sql("SELECT cust FROM orders o JOIN customers c ON o.cust = c.cust")


def test_column_not_grouped(both) -> None:
    with pytest.raises(BindError, match="GROUP BY"):
        both.db.sql("SELECT cust, amount FROM orders GROUP BY cust")


def test_aggregate_in_where(both) -> None:
    with pytest.raises(BindError, match="HAVING"):
        both.db.sql("SELECT id FROM orders WHERE sum(amount) > 1")


def test_correlated_subquery_not_supported(both) -> None:
    # plain correlated subqueries are decorrelated (tests/sql/test_decorrelate.py); LIMIT is not
    q = "SELECT id FROM orders o WHERE amount > (SELECT amount FROM orders i WHERE i.cust = o.cust LIMIT 1)"
    with pytest.raises(NotSupportedError, match="correlated subqueries"):
        both.db.sql(q)


@pytest.mark.parametrize("q, what", [
    ("SELECT DISTINCT ON (cust) cust FROM orders", "DISTINCT ON"),
    ("WITH RECURSIVE r AS (SELECT 1) SELECT * FROM r", "RECURSIVE"),
    ("SELECT cust FROM orders INTERSECT ALL SELECT cust FROM customers", "INTERSECT ALL"),
])
def test_unsupported_constructs(both, q: str, what: str) -> None:
    with pytest.raises(NotSupportedError, match=what):
        both.db.sql(q)
