"""Correlated subqueries (xpdb/sql/decorrelate.py), differential against DuckDB."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb.errors import NotSupportedError, XpdbError
from xpdb.sql import decorrelate

from .conftest import Both

SCALAR = [
    # equality correlation, aggregates, empty correlated sets (count(*) is 0, sum is NULL)
    "SELECT id, (SELECT count(*) FROM orders i WHERE i.cust = o.cust) FROM orders o",
    "SELECT id, (SELECT sum(amount) FROM orders i WHERE i.cust = o.cust AND i.id <> o.id) FROM orders o",
    "SELECT c.cust, (SELECT count(*) FROM orders o WHERE o.cust = c.cust) AS n FROM customers c",
    "SELECT c.cust, (SELECT count(amount) + 1 FROM orders o WHERE o.cust = c.cust) FROM customers c",
    "SELECT c.cust, (SELECT avg(qty) FROM orders o WHERE o.cust = c.cust) FROM customers c",
    "SELECT c.cust, (SELECT max(status) FROM orders o WHERE o.cust = c.cust) FROM customers c",
    "SELECT c.cust, (SELECT count(DISTINCT status) FROM orders o WHERE o.cust = c.cust) FROM customers c",
    # inequality correlation
    "SELECT id, (SELECT count(*) FROM orders x WHERE x.amount < o.amount) FROM orders o",
    "SELECT id, (SELECT min(x.id) FROM orders x WHERE x.qty > o.qty) FROM orders o",
    # an outer column used outside the aggregate, and several outer columns
    "SELECT id, (SELECT count(*) * o.qty FROM orders x WHERE x.id < o.id) FROM orders o",
    "SELECT id, (SELECT count(*) FROM orders x WHERE x.cust = o.cust AND x.qty < o.qty) FROM orders o",
    # no aggregate: at most one row per outer row
    "SELECT cust, (SELECT name FROM customers c WHERE c.cust = o.cust) FROM orders o",
    "SELECT id, (SELECT DISTINCT city FROM customers c WHERE c.name = 'Ann' AND o.id > 0) FROM orders o",
    # no FROM, a CTE, a comma join and a derived table in the subquery
    "SELECT id, (SELECT o.id + 1) FROM orders o",
    "WITH c AS (SELECT * FROM customers) SELECT id, (SELECT count(*) FROM c WHERE c.cust = o.cust) FROM orders o",
    "SELECT id, (SELECT count(*) FROM customers c, orders x WHERE c.cust = x.cust AND x.qty < o.qty) FROM orders o",
    "SELECT id, (SELECT count(*) FROM (SELECT * FROM customers WHERE city IS NOT NULL) c "
    "WHERE c.cust = o.cust) FROM orders o",
    "SELECT sum((SELECT count(*) FROM customers c WHERE c.cust = o.cust)) FROM orders o",
    # a correlation inside a disjunction and an unqualified outer name
    "SELECT id, (SELECT count(*) FROM customers c WHERE c.cust = o.cust OR c.name > status) FROM orders o",
    # mixed with an uncorrelated subquery
    "SELECT id, CASE WHEN amount < (SELECT avg(amount) FROM orders) THEN "
    "(SELECT count(*) FROM orders x WHERE x.amount < o.amount) ELSE -1 END FROM orders o",
    # HAVING inside the subquery
    "SELECT c.cust, (SELECT count(*) FROM orders o WHERE o.cust = c.cust HAVING count(*) > 1) FROM customers c",
]

PREDICATES = [
    "SELECT id FROM orders o WHERE amount > (SELECT avg(amount) FROM orders i WHERE i.cust = o.cust)",
    "SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE c.cust = o.cust)",
    "SELECT id FROM orders o WHERE NOT EXISTS (SELECT * FROM customers c WHERE c.cust = o.cust)",
    "SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM orders x WHERE x.amount > o.amount)",
    "SELECT cust FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.cust = c.cust AND o.qty > 2)",
    # an aggregate without GROUP BY returns one row: always EXISTS
    "SELECT cust FROM customers c WHERE EXISTS (SELECT count(*) FROM orders o WHERE o.cust = c.cust)",
    "SELECT id FROM orders o WHERE (SELECT count(*) FROM orders x WHERE x.cust = o.cust) = 0",
]

QUANTIFIED = [
    # nulls on both sides: NULL when no row decides and some comparison is NULL
    "SELECT id, qty IN (SELECT qty FROM orders x WHERE x.cust = o.cust AND x.id <> o.id) FROM orders o",
    "SELECT id, qty NOT IN (SELECT qty FROM orders x WHERE x.id <> o.id) FROM orders o",
    "SELECT id, cust IN (SELECT cust FROM customers c WHERE c.name > o.status) FROM orders o",
    "SELECT id, cust NOT IN (SELECT cust FROM customers c WHERE c.name > o.status) FROM orders o",
    "SELECT id FROM orders o WHERE qty NOT IN (SELECT x.qty FROM orders x WHERE x.id > o.id)",
    "SELECT id, qty > ANY (SELECT x.qty FROM orders x WHERE x.cust = o.cust) FROM orders o",
    "SELECT id, qty >= ALL (SELECT x.qty FROM orders x WHERE x.cust = o.cust) FROM orders o",
    "SELECT id, amount < ALL (SELECT x.amount FROM orders x WHERE x.id < o.id) FROM orders o",
    # over an aggregate: one row
    "SELECT id, cust IN (SELECT max(x.cust) FROM orders x WHERE x.id > o.id) FROM orders o",
    "SELECT id, qty < ALL (SELECT avg(x.qty) FROM orders x WHERE x.cust = o.cust) FROM orders o",
    # uncorrelated ANY/ALL with any operator go through the same rewrite
    "SELECT id, qty > ALL (SELECT qty FROM orders WHERE id < 4) FROM orders",
    "SELECT id, qty <= ANY (SELECT qty FROM orders WHERE id > 4) FROM orders",
]

POSITIONS = [
    # HAVING and ORDER BY of the outer query
    "SELECT cust, count(*) FROM orders o GROUP BY cust "
    "HAVING count(*) >= (SELECT count(*) FROM customers c WHERE c.cust = o.cust)",
    "SELECT cust, (SELECT name FROM customers c WHERE c.cust = o.cust) FROM orders o GROUP BY cust",
    "SELECT id FROM orders o ORDER BY (SELECT count(*) FROM orders x WHERE x.amount > o.amount), id",
    "SELECT id, (SELECT count(*) FROM orders x WHERE x.id < o.id) AS r FROM orders o ORDER BY r DESC, id",
    # in a join's WHERE
    "SELECT o.id, c.name FROM orders o JOIN customers c ON o.cust = c.cust "
    "WHERE o.qty >= (SELECT max(qty) FROM orders x WHERE x.cust = c.cust)",
    # nested: the innermost subquery names the outermost table
    "SELECT id, (SELECT count(*) FROM orders x WHERE x.cust = o.cust AND EXISTS "
    "(SELECT 1 FROM customers c WHERE c.cust = x.cust AND c.name < o.status)) FROM orders o",
    "SELECT c.cust FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.cust = c.cust "
    "AND o.qty > (SELECT avg(qty) FROM orders x WHERE x.cust = o.cust))",
]


@pytest.mark.parametrize("q", SCALAR + PREDICATES + QUANTIFIED + POSITIONS)
def test_matches_duckdb(both: Both, q: str) -> None:
    both.check(q, names=False)


def test_null_correlation_values(device: str) -> None:
    t = pa.table({"k": pa.array([1, None, None, 2], pa.int64()), "v": [1, 2, 3, None]})
    b = Both(device, {"t": t})
    b.check("SELECT k, v, (SELECT count(*) FROM t AS x WHERE x.k = t.k) FROM t", names=False)
    b.check("SELECT k, v, (SELECT count(*) FROM t AS x WHERE x.k IS NOT DISTINCT FROM t.k) FROM t", names=False)
    b.check("SELECT k, v IN (SELECT x.v FROM t AS x WHERE x.k = t.k) FROM t", names=False)
    b.check("SELECT k FROM t WHERE NOT EXISTS (SELECT 1 FROM t AS x WHERE x.v > t.v)", names=False)


def test_empty_inputs(device: str) -> None:
    t = pa.table({"a": pa.array([], pa.int64())})
    u = pa.table({"a": pa.array([1, None], pa.int64())})
    b = Both(device, {"t": t, "u": u})
    b.check("SELECT a, (SELECT count(*) FROM t WHERE t.a = u.a) FROM u", names=False)
    b.check("SELECT a, a IN (SELECT t.a FROM t WHERE t.a > u.a) FROM u", names=False)
    b.check("SELECT a, a > ALL (SELECT t.a FROM t WHERE t.a > u.a) FROM u", names=False)
    b.check("SELECT a, (SELECT count(*) FROM u WHERE u.a = t.a) FROM t", names=False)


def test_decorrelated_once_per_subquery(both: Both, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = decorrelate._Unnest.run

    def counting(self: decorrelate._Unnest, *args: object) -> object:
        calls.append(1)
        return real(self, *args)

    monkeypatch.setattr(decorrelate._Unnest, "run", counting)
    both.check("SELECT id, (SELECT count(*) FROM orders x WHERE x.amount < o.amount) FROM orders o", names=False)
    assert len(calls) == 1


def test_scalar_more_than_one_row(both: Both) -> None:
    with pytest.raises(XpdbError, match="more than one row"):
        both.db.sql("SELECT id, (SELECT id FROM orders x WHERE x.id > o.id) FROM orders o")


@pytest.mark.parametrize("q", [
    "SELECT id, (SELECT amount FROM orders x WHERE x.cust = o.cust LIMIT 1) FROM orders o",
    "SELECT id, (SELECT max(n) FROM (SELECT count(*) AS n FROM orders x WHERE x.cust = o.cust)) FROM orders o",
    "SELECT id, (SELECT count(*) FROM orders x WHERE x.cust = o.cust GROUP BY x.qty) FROM orders o",
    "SELECT id, (SELECT row_number() OVER () FROM orders x WHERE x.id = o.id) FROM orders o",
    "SELECT id, cust IN (SELECT max(x.cust) FROM orders x WHERE x.id > o.id HAVING count(*) > 1) FROM orders o",
])
def test_still_not_supported(both: Both, q: str) -> None:
    with pytest.raises(NotSupportedError):
        both.db.sql(q)


_ints = st.lists(st.one_of(st.none(), st.integers(-3, 3)), min_size=0, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=_ints, b=_ints, op=st.sampled_from(["=", "<", "<>"]))
def test_property_random_tables(device: str, a: list, b: list, op: str) -> None:
    n = min(len(a), len(b))
    t = pa.table({"a": pa.array(a[:n], pa.int64()), "b": pa.array(b[:n], pa.int64())})
    u = pa.table({"a": pa.array(b, pa.int64())})
    both = Both(device, {"t": t, "u": u})
    both.check(f"SELECT a, b, (SELECT count(*) FROM u WHERE u.a {op} t.a) FROM t", names=False)
    both.check(f"SELECT a, b, (SELECT sum(u.a) FROM u WHERE u.a {op} t.b) FROM t", names=False)
    both.check(f"SELECT a, b IN (SELECT u.a FROM u WHERE u.a {op} t.a) FROM t", names=False)
    both.check(f"SELECT a, b NOT IN (SELECT u.a FROM u WHERE u.a {op} t.a) FROM t", names=False)
    both.check(f"SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a {op} t.b)", names=False)
    both.check(f"SELECT a, b > ALL (SELECT u.a FROM u WHERE u.a {op} t.a) FROM t", names=False)
    both.check(f"SELECT a, b <= ANY (SELECT u.a FROM u WHERE u.a {op} t.a) FROM t", names=False)


_texts = st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "b", "ñ", "日本", "Z"])),
                  min_size=0, max_size=5)
_big = st.lists(st.one_of(st.none(), st.sampled_from([-(2**63), 2**63 - 1, 0, 1])),
                min_size=0, max_size=5)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(s=_texts, w=_texts, a=_big, b=_big)
def test_property_strings_and_extremes(device: str, s: list, w: list, a: list, b: list) -> None:
    t = pa.table({"s": pa.array(s, pa.string())})
    u = pa.table({"w": pa.array(w, pa.string())})
    x = pa.table({"a": pa.array(a, pa.int64())})
    y = pa.table({"b": pa.array(b, pa.int64())})
    both = Both(device, {"t": t, "u": u, "x": x, "y": y})
    both.check("SELECT s, (SELECT count(*) FROM u WHERE u.w < t.s) FROM t", names=False)
    both.check("SELECT s, s IN (SELECT w FROM u WHERE u.w <> t.s OR u.w IS NULL) FROM t", names=False)
    both.check("SELECT s FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.w = t.s)", names=False)
    both.check("SELECT a, (SELECT count(*) FROM y WHERE y.b >= x.a) FROM x", names=False)
    both.check("SELECT a, a NOT IN (SELECT b FROM y WHERE y.b <> x.a) FROM x", names=False)
