"""Queries (select, group by, joins, set operations, CTEs, subqueries, windows) against DuckDB."""

from __future__ import annotations

import pytest

QUERIES = [
    # projections, filters, ordering, limits
    "SELECT * FROM orders",
    "SELECT id, amount FROM orders WHERE amount > 5 ORDER BY amount DESC",
    "SELECT id, amount FROM orders ORDER BY amount",
    "SELECT id, amount FROM orders ORDER BY amount DESC NULLS FIRST, id",
    "SELECT id, status FROM orders ORDER BY status NULLS FIRST, id DESC",
    "SELECT id, qty * 2 AS q2 FROM orders ORDER BY q2 DESC, 1 LIMIT 3",
    "SELECT id FROM orders ORDER BY id LIMIT 3 OFFSET 2",
    "SELECT id FROM orders ORDER BY amount DESC LIMIT 2",
    "SELECT DISTINCT cust FROM orders",
    "SELECT DISTINCT status, cust FROM orders ORDER BY status, cust",
    "SELECT o.id, o.day FROM orders AS o WHERE o.day >= DATE '2024-01-01' ORDER BY o.day, o.id",
    "SELECT * EXCLUDE (status, day) FROM orders WHERE status LIKE '%w' ORDER BY id",
    "SELECT 1 AS one, 'x' AS s",
    "SELECT id FROM orders WHERE false",
    # aggregates
    "SELECT count(*) AS n, sum(qty) AS s, avg(amount) AS a, min(day) AS d0, max(status) AS m FROM orders",
    "SELECT cust, count(*) AS n, sum(amount) AS s FROM orders GROUP BY cust",
    "SELECT cust, sum(amount) / count(*) AS r, count(amount) AS c FROM orders GROUP BY cust",
    "SELECT status, count(DISTINCT cust) AS n FROM orders GROUP BY 1 ORDER BY 1",
    "SELECT cust % 20 AS k, max(qty) + 1 AS m FROM orders GROUP BY cust % 20",
    "SELECT cust, sum(qty) AS s FROM orders GROUP BY cust HAVING sum(qty) > 3 ORDER BY s DESC",
    "SELECT cust, count(*) AS n FROM orders GROUP BY cust ORDER BY count(*) DESC, cust",
    "SELECT year(day) AS y, count(*) AS n FROM orders GROUP BY year(day)",
    "SELECT count(*) AS n, sum(amount) AS s FROM orders WHERE id > 100",
    "SELECT cust, stddev(amount) AS sd, median(amount) AS med FROM orders GROUP BY cust",
    # joins
    "SELECT o.id, c.name FROM orders o JOIN customers c ON o.cust = c.cust",
    "SELECT o.id, c.name FROM orders o LEFT JOIN customers c ON o.cust = c.cust",
    "SELECT o.id, c.name FROM orders o RIGHT JOIN customers c ON o.cust = c.cust",
    "SELECT o.id, c.name FROM orders o FULL OUTER JOIN customers c ON o.cust = c.cust",
    "SELECT o.id, c.name FROM orders o LEFT JOIN customers c ON o.cust = c.cust AND o.qty > 2",
    "SELECT o.id, c.name FROM orders o JOIN customers c ON o.cust = c.cust AND c.city = 'Paris'",
    "SELECT * FROM orders JOIN customers USING (cust)",
    "SELECT cust, id, name FROM orders FULL JOIN customers USING (cust)",
    "SELECT o.id, c.name FROM orders o, customers c WHERE o.cust = c.cust AND o.amount > 1",
    "SELECT count(*) AS n FROM orders CROSS JOIN customers",
    "SELECT a.id, b.id AS id2 FROM orders a JOIN orders b ON a.cust = b.cust AND a.id < b.id",
    "SELECT o.id FROM orders o JOIN customers c ON o.qty < length(c.name)",
    "SELECT c.city, sum(o.amount) AS s FROM orders o JOIN customers c ON o.cust = c.cust GROUP BY c.city",
    # set operations, CTEs, subqueries
    "SELECT cust FROM orders UNION SELECT cust FROM customers",
    "SELECT cust FROM orders UNION ALL SELECT cust FROM customers",
    "SELECT cust FROM orders INTERSECT SELECT cust FROM customers",
    "SELECT cust FROM orders EXCEPT SELECT cust FROM customers",
    "SELECT id, amount FROM orders UNION ALL SELECT qty, 1.5 FROM orders ORDER BY 1, 2",
    "WITH big AS (SELECT * FROM orders WHERE amount > 6) SELECT cust, count(*) AS n FROM big GROUP BY cust",
    "WITH a AS (SELECT cust FROM orders), b AS (SELECT cust FROM a WHERE cust > 10) SELECT * FROM b",
    "SELECT id FROM orders WHERE amount > (SELECT avg(amount) FROM orders)",
    "SELECT id FROM orders WHERE cust IN (SELECT cust FROM customers WHERE city = 'Paris')",
    "SELECT id FROM orders WHERE cust NOT IN (SELECT cust FROM customers WHERE cust IS NOT NULL)",
    "SELECT s.k, s.n FROM (SELECT cust AS k, count(*) AS n FROM orders GROUP BY cust) s WHERE s.n > 1",
    "SELECT x, y FROM (VALUES (1, 'a'), (2, 'b'), (NULL, 'c')) t(x, y)",
    # windows
    "SELECT id, row_number() OVER (PARTITION BY cust ORDER BY id) AS rn FROM orders",
    "SELECT id, rank() OVER (ORDER BY qty DESC) AS r FROM orders",
    "SELECT id, sum(amount) OVER (PARTITION BY cust) AS s FROM orders",
    "SELECT id, sum(qty) OVER (ORDER BY id) AS s FROM orders",
    "SELECT id, lag(amount) OVER (ORDER BY id) AS prev FROM orders",
]


@pytest.mark.parametrize("q", QUERIES)
def test_query_matches_duckdb(both, q: str) -> None:
    both.check(q)


def test_empty_table(both) -> None:
    import pyarrow as pa

    both.register("empty", pa.table({"a": pa.array([], pa.int64()), "s": pa.array([], pa.string())}))
    both.check("SELECT a, count(*) AS n FROM empty GROUP BY a")
    both.check("SELECT count(*) AS n, sum(a) AS s FROM empty")
    both.check("SELECT * FROM empty e JOIN orders o ON e.a = o.id")


def test_extreme_integers(both) -> None:
    import pyarrow as pa

    big = pa.table({"v": pa.array([2**63 - 1, -(2**63), 0, None], pa.int64())})
    both.register("big", big)
    both.check("SELECT v, v = 0 AS z FROM big ORDER BY v")
    both.check("SELECT min(v) AS lo, max(v) AS hi, count(v) AS n FROM big")


@pytest.mark.parametrize("q", [
    "SELECT * FROM orders ORDER BY qty DESC, id",
    "SELECT *, id * 2 AS d FROM orders ORDER BY d DESC",
    "SELECT id * 2 AS d, * FROM orders ORDER BY d DESC",
    "SELECT * FROM orders ORDER BY 4, 1",
    "SELECT id, * FROM orders ORDER BY amount NULLS FIRST, id",
])
def test_order_with_star(both, q: str) -> None:
    both.check(q, names=False)


MORE = [
    "SELECT cust AS c, count(*) AS n FROM orders GROUP BY c",
    "SELECT cust, count(*) AS n FROM orders GROUP BY cust HAVING n > 1",
    "SELECT cust FROM orders GROUP BY cust ORDER BY sum(amount) DESC NULLS LAST, cust",
    "SELECT sum(qty) FILTER (WHERE qty > 2) AS s, count(*) FILTER (WHERE amount > 0) AS n FROM orders",
    "SELECT cust, count(DISTINCT status) FILTER (WHERE qty > 1) AS n FROM orders GROUP BY cust",
    "SELECT id, (SELECT max(cust) FROM customers) AS m FROM orders",
    "SELECT CAST(amount AS DECIMAL(10,2)) AS d FROM orders",
    "SELECT id FROM orders WHERE status > 'n' AND status <> 'new'",
    "SELECT id FROM orders WHERE status IN ('new', 'ñew', 'x')",
    "SELECT CASE WHEN qty > 2 THEN NULL ELSE 1 END AS v FROM orders",
    "SELECT * FROM orders, customers",
    "SELECT o.id, c.name FROM orders o JOIN customers c ON o.cust + 0 = c.cust",
    "SELECT o.id, c.name FROM orders o JOIN customers c ON o.qty = c.cust - 8",
    "SELECT status FROM orders UNION SELECT NULL",
    "SELECT id FROM orders WHERE NOT EXISTS (SELECT 1 FROM customers WHERE cust = 99)",
    "SELECT status, min(day) AS d, max(amount) AS m FROM orders GROUP BY status",
    "SELECT id FROM orders WHERE day BETWEEN '2024-01-01' AND '2024-02-29'",
    "SELECT id, dense_rank() OVER (PARTITION BY cust ORDER BY amount DESC) AS r FROM orders",
    "SELECT id, avg(amount) OVER (PARTITION BY cust) AS a, count(*) OVER () AS n FROM orders",
    "SELECT cust, sum(amount) AS s, rank() OVER (ORDER BY sum(amount) DESC) AS r FROM orders GROUP BY cust",
    "SELECT upper(name) AS u, count(*) AS n FROM customers GROUP BY upper(name)",
    "SELECT a.cust, b.name FROM orders a LEFT JOIN customers b USING (cust) WHERE b.name IS NULL",
    "SELECT day - DATE '2024-01-01' AS dd, day + 1 AS nd FROM orders",
    "SELECT strftime(day, '%Y/%m') AS s FROM orders",
    "SELECT strptime(CAST(day AS VARCHAR), '%Y-%m-%d') AS t FROM orders",
    "SELECT id, lead(id, 2, -1) OVER (ORDER BY id) AS l FROM orders",
    "SELECT count(*) AS n FROM orders o JOIN customers c ON o.cust = c.cust JOIN orders o2 ON o2.cust = c.cust",
    "SELECT x FROM (SELECT id AS x FROM orders ORDER BY id LIMIT 3) s ORDER BY x DESC",
    "(SELECT id FROM orders ORDER BY id LIMIT 2) UNION ALL (SELECT id FROM orders ORDER BY id DESC LIMIT 2)",
    "SELECT id FROM orders ORDER BY id DESC LIMIT 0",
    "SELECT bool_and(qty > 0) AS a, bool_or(qty > 5) AS o FROM orders",
    "SELECT mod(id, 3) AS m, power(id, 2) AS p, pow(2, 3) AS q FROM orders",
    "SELECT lpad(status, 6, '*') AS l, position('e' IN status) AS p FROM orders",
    "SELECT ifnull(cust, 0) AS c, nullif(status, 'new') AS s FROM orders",
]


@pytest.mark.parametrize("q", MORE)
def test_more_queries(both, q: str) -> None:
    both.check(q)


def test_default_names_follow_duckdb(both) -> None:
    both.check("SELECT count(*), sum(amount), id + 1, upper(status), avg(qty), id * 2 + 1 "
               "FROM orders GROUP BY id, status")


@pytest.mark.parametrize("q", [
    "WITH c AS (SELECT 10 AS x) SELECT id FROM orders WHERE cust IN (SELECT x FROM c)",
    "WITH c AS (SELECT max(id) AS m FROM orders) SELECT id FROM orders WHERE id = (SELECT m FROM c)",
    "SELECT o.* FROM orders o JOIN customers c ON o.cust = c.cust WHERE c.city = 'Oslo'",
    "SELECT ID, Amount FROM Orders ORDER BY ID",
    "SELECT id FROM orders WHERE cust IN (SELECT cust FROM customers WHERE name = 'nobody')",
    "SELECT id FROM orders WHERE cust NOT IN (SELECT cust FROM customers)",
    "SELECT status FROM orders ORDER BY status DESC",
    "SELECT count(*) AS n FROM (SELECT DISTINCT cust FROM orders) s",
    "SELECT a.id, c.name, b.id AS b FROM orders a, orders b, customers c "
    "WHERE a.cust = b.cust AND b.cust = c.cust AND a.id <> b.id AND c.city IS NOT NULL",
])
def test_scoping_and_subqueries(both, q: str) -> None:
    both.check(q)


@pytest.mark.parametrize("q", [
    "SELECT id, sum(qty) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s FROM orders",
    "SELECT id, sum(qty) OVER (PARTITION BY cust ORDER BY id ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) AS s FROM orders",
    "SELECT id, max(amount) OVER (ORDER BY id RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS m FROM orders",
    "SELECT cust, quantile_cont(amount, 0.75) AS q, quantile_disc(qty, 0.5) AS d FROM orders GROUP BY cust",
    "SELECT regexp_replace(status, 'e', 'E') AS a, regexp_replace(status, 'e', 'E', 'g') AS b FROM orders",
    "SELECT regexp_extract(status, '([a-z])e', 1) AS x FROM orders",
    "SELECT date_diff('day', day, DATE '2024-03-01') AS d, datediff('month', DATE '2020-01-31', day) AS m FROM orders",
    "SELECT make_date(2024, qty, 1) AS d FROM orders WHERE qty <= 12",
    "SELECT cust FROM orders UNION SELECT cust FROM customers ORDER BY cust DESC",
])
def test_frames_quantiles_and_more_functions(both, q: str) -> None:
    both.check(q)


@pytest.mark.parametrize("q", [
    "SELECT cust FROM orders GROUP BY cust",
    "SELECT 1 AS one FROM orders GROUP BY cust",
    "SELECT DISTINCT * FROM orders",
    "SELECT cust, count(*) AS n FROM orders GROUP BY ALL",
    "SELECT cust, sum(amount) FILTER (WHERE qty > 1) / count(*) AS r FROM orders GROUP BY cust",
    "SELECT status, count(*) FROM orders GROUP BY status ORDER BY 2 DESC, 1",
    "SELECT avg(qty)::INTEGER AS a FROM orders",
    "SELECT CAST('12' AS INTEGER) + 1 AS x, CAST(2.5 AS INTEGER) AS r, CAST(-2.5 AS INTEGER) AS r2",
    "SELECT TRY_CAST('x' AS INTEGER) AS x, TRY_CAST('7' AS INTEGER) AS y",
    "SELECT TIMESTAMP '2024-01-01 10:00:00' + INTERVAL 90 MINUTE AS t",
    "SELECT DATE '2024-01-31' + INTERVAL 1 MONTH AS t",
    "SELECT extract(hour FROM TIMESTAMP '2024-01-01 10:30:00') AS h",
    "SELECT id FROM orders WHERE status = ANY (SELECT status FROM orders WHERE id = 1)",
    "SELECT id, COALESCE(status, 'n/a') || ':' || CAST(qty AS VARCHAR) AS x FROM orders",
])
def test_casts_literals_and_grouping(both, q: str) -> None:
    both.check(q)


DECIMALS_AND_TIMESTAMPS = [
    "SELECT sum(p) AS s, avg(p) AS a, min(p) AS mn, max(p) AS mx FROM d",
    "SELECT g, sum(p) AS s FROM d GROUP BY g",
    "SELECT p * 2 AS x, p + 1 AS y, p > 1 AS z, round(p, 1) AS r FROM d",
    "SELECT ts, date_trunc('hour', ts) AS h, extract(minute FROM ts) AS m, ts + INTERVAL 1 DAY AS t1 FROM d",
    "SELECT CAST(ts AS DATE) AS d0, CAST(ts AS VARCHAR) AS s FROM d",
    "SELECT * FROM d WHERE ts > TIMESTAMP '2024-01-01 00:00:00' ORDER BY ts",
    "SELECT * FROM d WHERE ts > '2024-01-01' ORDER BY ts",
    "SELECT g, max(ts) AS m FROM d GROUP BY g",
]


def test_decimals_and_timestamps(device: str) -> None:
    import datetime as dt
    from decimal import Decimal

    import pyarrow as pa

    from .conftest import Both

    tb = pa.table({
        "p": pa.array([Decimal("1.25"), Decimal("-3.50"), None, Decimal("10.00")],
                      pa.decimal128(10, 2)),
        "ts": pa.array([dt.datetime(2024, 1, 1, 10, 30), None, dt.datetime(2023, 5, 5, 23, 59, 59),
                        dt.datetime(2024, 2, 29)], pa.timestamp("us")),
        "g": ["a", "b", "a", None],
    })
    both = Both(device, {"d": tb})
    for q in DECIMALS_AND_TIMESTAMPS:
        both.check(q)


def test_repeated_join_in_subquery_runs_once(both, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subquery repeating a join of the outer query reuses its result (same answer)."""
    from xpdb.sql.executor import Executor

    calls = []
    original = Executor._join

    def counting(self, node):
        calls.append(node)
        return original(self, node)

    monkeypatch.setattr(Executor, "_join", counting)
    q = ("SELECT count(*) AS n FROM orders o JOIN customers c ON o.cust = c.cust "
         "WHERE o.amount > (SELECT avg(o.amount) FROM orders o JOIN customers c "
         "ON o.cust = c.cust)")
    both.check(q)
    assert len(calls) == 1
    calls.clear()
    # a different join (another condition) is its own work
    q2 = ("SELECT count(*) AS n FROM orders o JOIN customers c ON o.cust = c.cust "
          "WHERE o.amount > (SELECT avg(o.amount) FROM orders o JOIN customers c "
          "ON o.cust = c.cust AND c.city <> 'Oslo')")
    both.check(q2)
    assert len(calls) == 2
