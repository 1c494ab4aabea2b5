"""Differential tests: every query gives the same rows with all optimizer rules, with none,
with each rule alone, and on DuckDB (row order only where ORDER BY fixes it)."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb.sql.optimizer import RULES

from .conftest import Catalog

QUERIES = [
    # joins of 3-6 tables with filters
    "SELECT * FROM t JOIN u ON t.a = u.a JOIN v ON u.d = v.d",
    "SELECT * FROM t, v, u WHERE t.a = u.a AND u.d = v.d AND v.e > 1",
    "SELECT t.b, w.f FROM t JOIN u ON t.a = u.a JOIN v ON u.d = v.d JOIN w ON v.e = w.e "
    "WHERE w.f <> 'q' ORDER BY t.b, w.f",
    "SELECT count(*) AS n FROM t, u, v, w WHERE t.a = u.a AND u.d = v.d AND v.e = w.e",
    "SELECT t.a, o.id, c.name FROM t JOIN u ON t.a = u.a JOIN v ON v.d = u.d "
    "JOIN w ON w.e = v.e JOIN orders o ON o.id = t.a JOIN customers c ON c.cust = o.cust "
    "WHERE c.city = 'Paris' OR w.f = 'p'",
    "SELECT * FROM t CROSS JOIN w JOIN u ON t.a = u.a WHERE w.f IS NOT NULL",
    "SELECT * FROM t JOIN u ON t.a = u.a JOIN v ON t.a + v.e = u.d",
    "SELECT * FROM t JOIN u USING (a) JOIN v ON u.d = v.d JOIN w ON v.e = w.e",
    "SELECT u.*, t.b FROM t JOIN u ON t.a = u.a JOIN v ON u.d = v.d WHERE t.c > 1 OR v.e = 2",
    "SELECT 1 AS one FROM t, u, w WHERE t.a > 1",
    # outer joins
    "SELECT * FROM t LEFT JOIN u ON t.a = u.a WHERE u.d > 10 AND t.c > 1",
    "SELECT * FROM t LEFT JOIN u ON t.a = u.a AND u.d > 10 AND t.c > 1",
    "SELECT * FROM t LEFT JOIN u ON t.a = u.a WHERE u.d IS NULL",
    "SELECT * FROM t RIGHT JOIN u ON t.a = u.a AND t.c > 1 WHERE u.d > 10 OR t.b = 'x'",
    "SELECT * FROM t FULL JOIN u ON t.a = u.a WHERE t.b = 'x' OR u.d = 30",
    "SELECT * FROM t LEFT JOIN u ON t.a = u.a JOIN v ON u.d = v.d JOIN w ON v.e = w.e",
    "SELECT t.a, v.e FROM t JOIN u ON t.a = u.a LEFT JOIN v ON u.d = v.d AND v.e > 1 "
    "JOIN w ON w.e = t.a",
    "SELECT * FROM t LEFT JOIN u USING (a) WHERE d IS NULL",
    # derived tables and CTEs
    "SELECT * FROM (SELECT a, c * 2 AS c2 FROM t) s WHERE c2 > 3",
    "SELECT * FROM (SELECT a, sum(c) AS s FROM t GROUP BY a) g WHERE a > 1 AND s > 1",
    "SELECT * FROM (SELECT a, count(*) AS n FROM t GROUP BY CUBE (a)) g WHERE a > 1",
    "SELECT * FROM (SELECT a, b FROM t ORDER BY a) d WHERE b = 'x'",
    "SELECT * FROM (SELECT DISTINCT a, b FROM t) d WHERE b = 'x'",
    "SELECT * FROM (SELECT a FROM t UNION ALL SELECT a FROM u) d WHERE a > 1",
    "SELECT p FROM (SELECT a, b FROM t) AS x(p, q) WHERE q = 'x'",
    "SELECT x.q, y.d FROM t AS x(p, q) JOIN u AS y(aa, d) ON x.p = y.aa JOIN v ON y.d = v.d",
    "WITH x AS (SELECT a, c FROM t) SELECT * FROM x AS p JOIN x AS q ON p.a = q.a WHERE p.c > 1",
    "SELECT x.a, t.b FROM u AS x(d, a) JOIN t ON t.a = x.d JOIN v ON v.d = x.a "
    "WHERE x.a > 15 OR t.b = 'x'",
    "SELECT count(*) AS n FROM u AS x(d, a) JOIN t ON t.a = x.d JOIN v ON v.d = x.a",
    "SELECT * FROM (SELECT a, count(*) AS n FROM u GROUP BY a) AS x(n, a) WHERE n > 1 AND a = 1",
    "WITH x AS (SELECT a, d FROM u) SELECT * FROM x WHERE d > 10 UNION ALL "
    "SELECT * FROM x WHERE a < 2",
    "WITH x AS (SELECT a FROM t WHERE a > 1) SELECT * FROM x JOIN x AS y ON x.a = y.a "
    "JOIN u ON u.a = x.a",
    # GROUP BY with HAVING, DISTINCT
    "SELECT b, count(*) AS n FROM t GROUP BY b HAVING count(*) > 1 ORDER BY b",
    "SELECT a + (1 + 1) AS k, count(*) AS n FROM t GROUP BY a + (1 + 1) HAVING a + (1 + 1) > 3",
    "SELECT c.city, count(*) AS n, sum(o.amount) AS s FROM orders o JOIN customers c "
    "ON o.cust = c.cust JOIN t ON t.a = o.qty GROUP BY c.city HAVING sum(o.amount) > 0",
    "SELECT DISTINCT o.cust, c.city FROM orders o JOIN customers c ON o.cust = c.cust "
    "WHERE c.city IS NOT NULL",
    "SELECT DISTINCT v.e FROM u JOIN v ON u.d = v.d JOIN w ON w.e = v.e",
    "SELECT a, count(*) AS n FROM t GROUP BY a HAVING a > 1 AND count(*) > 1",
    "SELECT o.cust, count(*) AS n FROM orders o JOIN customers c ON o.cust = c.cust "
    "GROUP BY o.cust HAVING o.cust > 10",
    "SELECT a, count(*) AS n FROM t GROUP BY ROLLUP (a) HAVING a > 1 OR a IS NULL",
    "SELECT b, count(*) AS n, rank() OVER (ORDER BY count(*), b) AS r FROM t GROUP BY b "
    "HAVING b <> 'y'",
    "SELECT * FROM (SELECT a, sum(c) AS s FROM t GROUP BY a HAVING a > 1 AND sum(c) > 1) g "
    "WHERE a < 3",
    # set operations
    "SELECT a FROM t INTERSECT SELECT a FROM u",
    "SELECT a FROM t EXCEPT SELECT a FROM u WHERE d > 10",
    "SELECT cust FROM orders WHERE amount > 1 UNION SELECT cust FROM customers WHERE city = 'Paris'",
    # window functions
    "SELECT id, amount, sum(amount) OVER (PARTITION BY cust ORDER BY id) AS run FROM orders "
    "WHERE qty > 1 ORDER BY id",
    "SELECT * FROM (SELECT id, cust, rank() OVER (PARTITION BY cust ORDER BY amount DESC) AS r "
    "FROM orders) z WHERE r = 1 AND cust > 10",
    "SELECT t.a, u.d, row_number() OVER (PARTITION BY t.a ORDER BY u.d, v.e) AS rn FROM t "
    "JOIN u ON t.a = u.a JOIN v ON u.d = v.d",
    # correlated and uncorrelated subqueries
    "SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE c.cust = o.cust "
    "AND c.city = 'Paris')",
    "SELECT id, (SELECT max(amount) FROM orders i WHERE i.cust = o.cust) AS m FROM orders o",
    "SELECT o.id FROM orders o WHERE o.amount > (SELECT avg(i.amount) FROM orders i "
    "WHERE i.cust = o.cust) AND o.qty > 1",
    "SELECT name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o "
    "WHERE o.cust = c.cust) ORDER BY name",
    "SELECT * FROM t WHERE a IN (SELECT a FROM u WHERE d > 10) AND c > 1",
    "SELECT t.a FROM t JOIN u ON t.a = u.a JOIN v ON u.d = v.d "
    "WHERE v.e = (SELECT min(e) FROM w)",
    # constants and ORs
    "SELECT a FROM t WHERE true AND a > 1 OR false",
    "SELECT a FROM t WHERE NULL AND a > 1",
    "SELECT a FROM t WHERE a > 1 OR NULL",
    "SELECT id FROM orders WHERE day > DATE '2024-03-01' - INTERVAL '60' DAY",
    "SELECT o.id, c.name FROM orders o, customers c WHERE (o.cust = c.cust AND o.qty > 1) "
    "OR (o.cust = c.cust AND c.city = 'Oslo')",
]

SUBSETS = [(r,) for r in RULES] + [("pushdown", "join_order"), ("pushdown", "prune_columns")]


@pytest.mark.parametrize("sql", QUERIES)
def test_optimized_equals_unoptimized_equals_duckdb(cat, sql: str) -> None:
    cat.differential(sql, *SUBSETS)


# -- random join queries -------------------------------------------------------------------

_NAMES = ["r0", "r1", "r2", "r3"]
VALUE = st.one_of(st.none(), st.integers(0, 3))
TEXT = st.one_of(st.none(), st.sampled_from(["a", "b", "ä"]))
ROWS = st.lists(st.tuples(VALUE, VALUE, TEXT), min_size=0, max_size=5)


def _table(rows: list[tuple]) -> pa.Table:
    cols = list(zip(*rows, strict=True)) if rows else [[], [], []]
    return pa.table({"k": pa.array(cols[0], pa.int64()), "x": pa.array(cols[1], pa.int64()),
                     "s": pa.array(cols[2], pa.string())})


@st.composite
def _join_query(draw: st.DrawFn) -> str:
    n = draw(st.integers(3, 4))
    names = _NAMES[:n]
    col = st.sampled_from(["k", "x"])

    def single(i: int) -> str:
        r = names[i]
        return draw(st.sampled_from([
            f"{r}.{draw(col)} > {draw(st.integers(0, 3))}",
            f"{r}.{draw(col)} = {draw(st.integers(0, 3))}",
            f"{r}.s = '{draw(st.sampled_from(['a', 'b']))}'",
            f"{r}.{draw(col)} IS NULL", f"{r}.s IS NOT NULL",
            f"{r}.{draw(col)} IN (1, 2)"]))

    def cross(i: int, j: int) -> str:
        a, b = names[i], names[j]
        op = draw(st.sampled_from(["=", "=", "<", "<>"]))
        return f"{a}.{draw(col)} {op} {b}.{draw(col)}"

    idx = st.integers(0, n - 1)
    # a spanning chain of equi-joins in a random order, sometimes with a hole (cross product)
    order = draw(st.permutations(range(n)))
    edges = [f"{names[order[i]]}.{draw(col)} = {names[order[i + 1]]}.{draw(col)}"
             for i in range(n - 1) if draw(st.integers(0, 5)) > 0]
    preds = list(edges)
    for _ in range(draw(st.integers(0, 3))):
        preds.append(single(draw(idx)))
    for _ in range(draw(st.integers(0, 2))):
        i, j = draw(idx), draw(idx)
        if i != j:
            preds.append(cross(i, j))
    if draw(st.booleans()):  # an OR whose branches share a term (Q19's shape)
        i, j = draw(idx), draw(idx)
        common = cross(i, j) if i != j else single(i)
        preds.append(f"(({common} AND {single(draw(idx))}) OR ({common} AND {single(draw(idx))}))")
    if draw(st.booleans()):
        preds.append(f"({single(draw(idx))} OR {single(draw(idx))})")
    written = draw(st.permutations(names))
    if draw(st.booleans()):
        src = ", ".join(written)
        where = " AND ".join(preds)
    else:  # explicit JOINs, the last one sometimes a LEFT JOIN with its own ON terms
        src = written[0] + "".join(f" JOIN {r} ON TRUE" for r in written[1:-1])
        last = written[-1]
        if draw(st.booleans()):
            on = f"{last}.{draw(col)} = {written[0]}.{draw(col)}"
            if draw(st.booleans()):
                on += f" AND {single(names.index(last))}"
            if draw(st.booleans()):
                on += f" AND {single(names.index(written[0]))}"
            src += f" LEFT JOIN {last} ON {on}"
        else:
            src += f" JOIN {last} ON TRUE"
        where = " AND ".join(preds)
    select = draw(st.sampled_from([
        "*", "count(*) AS n",
        ", ".join(f"{r}.k AS k{i}" for i, r in enumerate(names)),
        f"{names[0]}.s, {names[-1]}.x"]))
    return f"SELECT {select} FROM {src}" + (f" WHERE {where}" if where else "")


@settings(max_examples=int(os.environ.get("XPDB_OPT_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(ROWS, min_size=4, max_size=4), _join_query())
def test_random_join_queries(device: str, data: list[list[tuple]], sql: str) -> None:
    c = Catalog(device, {name: _table(rows) for name, rows in zip(_NAMES, data, strict=True)})
    c.differential(sql)
