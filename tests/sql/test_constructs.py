"""SQL constructs against DuckDB on the same data: select aliases in ORDER BY expressions
and HAVING, date arithmetic, NATURAL JOIN, files named in FROM, random()/setseed(),
atan2 and trigonometry, and EXPLAIN of a query that does not bind."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import xpdb
from xpdb.errors import BindError

from .conftest import Both


@pytest.mark.parametrize("q", [
    "SELECT id + 1 AS z FROM orders ORDER BY -z",
    "SELECT id AS z FROM orders ORDER BY -z NULLS FIRST",
    "SELECT id AS z, qty FROM orders ORDER BY z % 3, -z",
    "SELECT amount * 2 AS a2 FROM orders ORDER BY abs(a2 - 10) NULLS FIRST, a2",
    # an input column of the same name wins over the alias, as in DuckDB
    "SELECT id AS qty, qty AS id FROM orders ORDER BY -qty NULLS LAST, id",
    "SELECT cust, sum(amount) AS s FROM orders GROUP BY cust ORDER BY -s NULLS LAST, cust",
    "SELECT cust AS c, count(*) AS n FROM orders GROUP BY cust ORDER BY n * 10 - c, c",
    "SELECT id, row_number() OVER (ORDER BY id) AS r FROM orders ORDER BY -r",
    # HAVING naming non-aggregate select aliases
    "SELECT cust % 20 AS m, count(*) AS n FROM orders GROUP BY m HAVING m = 10",
    "SELECT cust AS k, sum(qty) AS s FROM orders GROUP BY cust HAVING k > 10 ORDER BY k",
    "SELECT cust AS k, count(*) AS n FROM orders GROUP BY cust HAVING k + n > 12 ORDER BY k",
    "SELECT status AS st, count(*) AS n FROM orders GROUP BY status HAVING st LIKE '%e%' "
    "AND n > 1",
])
def test_select_aliases_in_order_by_and_having(both: Both, q: str) -> None:
    both.check(q)


def test_unknown_alias_still_a_bind_error(both: Both) -> None:
    with pytest.raises(BindError, match="'zz' not found"):
        both.db.sql("SELECT id AS z FROM orders ORDER BY -zz")
    with pytest.raises(BindError, match="'zz' not found"):
        both.db.sql("SELECT cust AS k FROM orders GROUP BY cust HAVING zz > 1")


@pytest.mark.parametrize("q", [
    "SELECT id, day + 1 AS a, day - 7 AS b, 30 + day AS c FROM orders ORDER BY id",
    "SELECT id, day + qty AS a, day - qty AS b, qty + day AS c FROM orders ORDER BY id",
    "SELECT id, day - DATE '2024-01-01' AS a, DATE '2025-01-01' - day AS b FROM orders "
    "ORDER BY id",
    "SELECT DATE '2024-02-28' + 1 AS a, DATE '2024-03-01' - 1 AS b, "
    "DATE '2024-03-01' - DATE '2023-03-01' AS c, 1 + DATE '2023-12-31' AS d",
    "SELECT o.id, o.day - p.day AS gap FROM orders o JOIN orders p ON o.id = p.id + 1 "
    "ORDER BY o.id",
    "SELECT id FROM orders WHERE day + 30 > DATE '2024-02-15' ORDER BY id",
])
def test_date_arithmetic(both: Both, q: str) -> None:
    both.check(q)


@pytest.mark.parametrize("q", [
    "SELECT * FROM orders NATURAL JOIN customers ORDER BY id",
    "SELECT * FROM customers NATURAL JOIN orders ORDER BY id",
    "SELECT * FROM orders NATURAL LEFT JOIN customers ORDER BY id",
    "SELECT * FROM orders NATURAL RIGHT JOIN customers ORDER BY id, name",
    "SELECT * FROM orders NATURAL FULL JOIN customers ORDER BY id, name",
    "SELECT id, cust, orders.cust AS oc, name FROM orders NATURAL JOIN customers ORDER BY id",
    "SELECT * FROM (SELECT cust, city AS status FROM customers) c NATURAL JOIN orders "
    "ORDER BY id",
    "SELECT count(*) AS n FROM orders a NATURAL JOIN orders b",
])
def test_natural_join(both: Both, q: str) -> None:
    both.check(q)


def test_natural_join_errors(both: Both) -> None:
    both.register("other", pa.table({"zz": [1, 2]}))
    with pytest.raises(duckdb.BinderException):
        both.duck.sql("SELECT * FROM orders NATURAL JOIN other").fetchall()
    with pytest.raises(BindError, match=r"no columns to join on in NATURAL JOIN .*\['zz'\]"):
        both.db.sql("SELECT * FROM orders NATURAL JOIN other")


def test_files_named_in_from(both: Both, tmp_path: Path) -> None:
    tb = pa.table({"a": pa.array([3, 1, 2], pa.int64()), "s": ["x", "y", None]})
    pq.write_table(tb, tmp_path / "part.parquet")
    both.duck.sql(f"COPY (SELECT * FROM tb) TO '{tmp_path / 'part.csv'}' (HEADER)")
    tb.to_pandas().to_json(tmp_path / "part.json", orient="records", lines=True)
    for name in ("part.parquet", "part.csv", "part.json"):
        path = str(tmp_path / name)
        both.check(f"SELECT * FROM '{path}' ORDER BY a")
        # the table is named after the file, or its alias
        both.check(f"SELECT part.a, s FROM '{path}' WHERE part.a > 1 ORDER BY part.a")
        both.check(f"SELECT f.s FROM '{path}' AS f JOIN '{path}' g ON f.a = g.a ORDER BY f.a")
    pq.write_table(tb, tmp_path / "part2.parquet")
    both.check(f"SELECT count(*) AS n, sum(a) AS s FROM '{tmp_path}/part*.parquet'")
    with pytest.raises(xpdb.errors.IOError, match="not found"):
        both.db.sql(f"SELECT * FROM '{tmp_path / 'missing.parquet'}'")
    # a quoted name without a file extension is still a table name
    with pytest.raises(BindError, match="table 'ordrs' not found; did you mean 'orders'"):
        both.db.sql('SELECT * FROM "ordrs"')


def test_random_and_setseed(device: str) -> None:
    db = xpdb.connect(device=device)
    db.register("t", pa.table({"i": pa.array(range(2000), pa.int64())}))
    vals = [r[0] for r in db.sql("SELECT random() FROM t").fetchall()]
    assert len(vals) == 2000 and all(0.0 <= v < 1.0 for v in vals)
    assert len(set(vals)) > 1990
    assert 0.45 < sum(vals) / len(vals) < 0.55  # uniform: mean 1/2, sd of the mean ~0.0065
    # two calls are two draws; a filter on random() keeps about its share
    a, b = zip(*db.sql("SELECT random(), random() FROM t").fetchall(), strict=True)
    assert a != b
    (n,), = db.sql("SELECT count(*) FROM t WHERE random() < 0.25").fetchall()
    assert 380 < n < 620
    # setseed(x) repeats the sequence; DuckDB's setseed returns NULL as here
    assert db.sql("SELECT setseed(0.42)").fetchall() == duckdb.sql("SELECT setseed(0.42)").fetchall()
    first = db.sql("SELECT random() FROM t LIMIT 5").fetchall()
    db.sql("SELECT setseed(0.42)")
    assert db.sql("SELECT random() FROM t LIMIT 5").fetchall() == first
    with pytest.raises(BindError, match="between -1 and 1"):
        db.sql("SELECT setseed(2)")


@pytest.mark.parametrize("q", [
    "SELECT id, atan2(qty, amount) AS a, atan2(amount, -2) AS b FROM orders ORDER BY id",
    "SELECT atan2(1, 0) AS a, atan2(-1.5, -2) AS b, atan2(0, -1) AS c, atan2(NULL, 1) AS d",
    "SELECT id, sin(amount) AS s, cos(qty) AS c, tan(id) AS t, atan(amount) AS a "
    "FROM orders ORDER BY id",
    "SELECT id, asin(qty / 10) AS s, acos(qty / 10) AS c, cot(id) AS t FROM orders ORDER BY id",
    "SELECT degrees(pi()) AS d, radians(180) AS r, degrees(qty) AS q FROM orders ORDER BY id",
])
def test_atan2_and_trigonometry(both: Both, q: str) -> None:
    both.check(q)


def test_atan2_quadrants(device: str) -> None:
    db = xpdb.connect(device=device)
    for y, x in [(1, 1), (1, -1), (-1, -1), (-1, 1), (0, -1), (0, 0)]:
        (got,), = db.sql(f"SELECT atan2({y}, {x})").fetchall()
        assert got == pytest.approx(math.atan2(y, x))


def test_explain_of_a_query_that_does_not_bind(both: Both) -> None:
    for sql in ("EXPLAIN SELECT amont FROM orders", "EXPLAIN ANALYZE SELECT amont FROM orders"):
        with pytest.raises(BindError, match="column 'amont' not found; did you mean 'amount'"):
            both.db.sql(sql)
    with pytest.raises(BindError, match="did you mean 'amount'"):
        both.db.explain("SELECT id FROM orders WHERE amont > 1")
    with pytest.raises(BindError, match="table 'ordrs' not found"):
        both.db.sql("EXPLAIN SELECT * FROM ordrs")
    with pytest.raises(duckdb.BinderException):
        both.duck.sql("EXPLAIN SELECT amont FROM orders")
    # a query that binds still shows its plan, also when running it would fail
    res = both.db.sql("EXPLAIN SELECT 9223372036854775807 + id FROM orders").fetchall()
    assert res[0][0] == "logical_plan" and "Scan orders" in res[0][1]


@pytest.mark.parametrize("q", [
    "SELECT * FROM customers GROUP BY cust, name, city ORDER BY cust",
    "SELECT DISTINCT * FROM customers GROUP BY city, cust, name ORDER BY name",
    "SELECT c.*, count(*) AS n FROM customers c JOIN orders o USING (cust) "
    "GROUP BY c.cust, c.name, c.city ORDER BY n, name",
    "SELECT * FROM customers GROUP BY cust, name, city HAVING cust > 10 ORDER BY cust",
    "SELECT DISTINCT * FROM customers ORDER BY city NULLS FIRST, cust",
])
def test_star_over_group_keys(both: Both, q: str) -> None:
    # SQLite's corpus writes SELECT * ... GROUP BY every column (slt_good_*.test)
    both.check(q)


def test_star_with_a_column_outside_group_by(both: Both) -> None:
    with pytest.raises(duckdb.BinderException):
        both.duck.sql("SELECT * FROM customers GROUP BY cust, name").fetchall()
    with pytest.raises(BindError, match="'customers.city' must appear in the GROUP BY"):
        both.db.sql("SELECT * FROM customers GROUP BY cust, name")


@pytest.mark.parametrize("q", [
    "SELECT cust, sum(DISTINCT qty) AS s, avg(DISTINCT amount) AS a, count(DISTINCT qty) AS c, "
    "sum(qty) AS t FROM orders GROUP BY cust ORDER BY cust",
    "SELECT min(DISTINCT status) AS lo, max(DISTINCT day) AS hi, sum(DISTINCT cust) AS s, "
    "avg(DISTINCT cust) AS a FROM orders",
    "SELECT day, sum(DISTINCT cust) AS s FROM orders GROUP BY day HAVING sum(DISTINCT cust) > 10 "
    "ORDER BY day",
    "SELECT sum(DISTINCT qty) FILTER (WHERE amount > 0) AS s, "
    "stddev_samp(DISTINCT qty) AS sd FROM orders",
    "SELECT c.city, sum(DISTINCT o.qty) AS s FROM orders o JOIN customers c USING (cust) "
    "GROUP BY c.city ORDER BY c.city",
    "SELECT cust, max(DISTINCT qty) AS m FROM orders GROUP BY ROLLUP (cust) ORDER BY cust, m",
])
def test_distinct_aggregates(both: Both, q: str) -> None:
    both.check(q)


def test_distinct_sum_with_grouping_sets_is_refused(both: Both) -> None:
    from xpdb.errors import NotSupportedError

    with pytest.raises(NotSupportedError, match=r"sum\(DISTINCT \.\.\.\) with GROUPING SETS"):
        both.db.sql("SELECT cust, sum(DISTINCT qty) FROM orders GROUP BY ROLLUP (cust)")
