"""Row estimates of :mod:`xpdb.sql.optimizer.estimate`: base rows times selectivities,
equi-joins by distinct counts, the fixed fallbacks, and the statistics cache."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from xpdb.sql.optimizer import Estimator, TableStats

from .conftest import Catalog


def _big() -> dict[str, pa.Table]:
    i = np.arange(1000)
    k = pa.array(np.where(i % 50 == 49, None, i % 100).tolist(), pa.int64())  # 99 values + null
    big = pa.table({"k": k, "g": pa.array(i % 10, pa.int64()),
                    "s": pa.array([f"s{j % 20}" for j in i]), "x": pa.array(i * 0.5)})
    small = pa.table({"k": pa.array(np.arange(200) % 100, pa.int64()),
                      "y": pa.array(np.arange(200), pa.int64())})
    return {"big": big, "small": small}


@pytest.fixture
def est_cat(device: str) -> Catalog:
    return Catalog(device, _big())


def _rows(c: Catalog, sql: str, rules: tuple[str, ...] | None = None) -> float:
    ex = c.db._executor()
    from xpdb.sql.parser import parse

    ex.rules = rules
    return Estimator(ex).rows(ex.plan(parse(sql)[0]))


@pytest.mark.parametrize("where, rows", [
    ("k = 5", 1000 / 98),           # 1 / ndv: 98 distinct non-null values (k % 50 == 49 nulls)
    ("5 = k", 1000 / 98),
    ("g = 3", 100.0),               # 1 / 10
    ("s = 's1'", 50.0),             # string ndv from the dictionary: 20
    ("k IN (1, 2, 3)", 1000 * 3 / 98),
    ("NOT k = 5", 1000 * (1 - 1 / 98)),
    ("k > 5", 300.0),               # a range: 0.3
    ("k BETWEEN 1 AND 5", 180.0),   # 0.3 * 0.3 * 2
    ("s LIKE 's1%'", 100.0),        # 0.1
    ("k IS NULL", 50.0),            # 0.05
    ("k IS NOT NULL", 950.0),
    ("k <> 5", 900.0),              # 1 - 0.1
    ("k = g", 100.0),               # no constant side: 0.1
    ("g = 3 OR g = 4", 1000 * (0.1 + 0.1 - 0.01)),
    ("g = 3 AND k > 5", 30.0),      # independence
    ("abs(k) = 5", 100.0),          # not a column: 0.1
    ("coalesce(k, 0) > 1 AND TRUE", 300.0),
    ("x + 1 IS DISTINCT FROM 2", 500.0),  # anything else: 0.5
])
def test_filter_selectivity(est_cat, where: str, rows: float) -> None:
    assert _rows(est_cat, f"SELECT * FROM big WHERE {where}", ()) == pytest.approx(rows)
    # the same estimate once the filter is pushed into the scan
    assert _rows(est_cat, f"SELECT * FROM big WHERE {where}", ("pushdown",)) == \
        pytest.approx(rows)


def test_never_below_one_row(est_cat) -> None:
    assert _rows(est_cat, "SELECT * FROM big WHERE k = 5 AND g = 3 AND s = 's1'") == 1.0
    assert _rows(est_cat, "SELECT * FROM big WHERE FALSE", ()) == 1.0


def test_equi_join_uses_larger_ndv(est_cat) -> None:
    # |big| |small| / max(ndv(big.k) = 98, ndv(small.k) = 100)
    sql = "SELECT * FROM big JOIN small ON big.k = small.k"
    assert _rows(est_cat, sql, ()) == pytest.approx(1000 * 200 / 100)
    # a non-equi condition: 0.3; a cross join: the product
    assert _rows(est_cat, "SELECT * FROM big JOIN small ON big.k < small.k", ()) == \
        pytest.approx(1000 * 200 * 0.3)
    assert _rows(est_cat, "SELECT * FROM big, small", ()) == pytest.approx(200_000)
    # USING: the same as ON
    assert _rows(est_cat, "SELECT * FROM big JOIN small USING (k)", ()) == \
        pytest.approx(2000)


def test_outer_join_keeps_preserved_side(est_cat) -> None:
    # ON big.g = small.y + 1000 matches nothing in reality; the estimate is at least |big|
    sql = "SELECT * FROM big LEFT JOIN small ON big.k = small.y AND small.y > 1000"
    assert _rows(est_cat, sql, ()) >= 1000
    sql = "SELECT * FROM small RIGHT JOIN big ON big.k = small.y AND small.y > 1000"
    assert _rows(est_cat, sql, ()) >= 1000
    sql = "SELECT * FROM small FULL JOIN big ON big.x < small.y"
    assert _rows(est_cat, sql, ()) >= 1000


def test_ndv_through_derived_tables_and_filters(est_cat) -> None:
    # k's ndv is capped by the filtered input's estimated rows (100 rows of g = 3)
    sql = ("SELECT * FROM (SELECT k AS kk FROM big WHERE g = 3) d "
           "JOIN small ON d.kk = small.k")
    assert _rows(est_cat, sql, ()) == pytest.approx(100 * 200 / 100)


def test_aggregate_limit_distinct_setops(est_cat) -> None:
    assert _rows(est_cat, "SELECT g, count(*) AS n FROM big GROUP BY g") == 10.0
    assert _rows(est_cat, "SELECT g, s, count(*) AS n FROM big GROUP BY g, s") == 200.0
    assert _rows(est_cat, "SELECT count(*) AS n FROM big") == 1.0
    # an expression key has no known ndv: sqrt(rows)
    assert _rows(est_cat, "SELECT g + 1 AS h, count(*) AS n FROM big GROUP BY g + 1") == \
        pytest.approx(1000 ** 0.5)
    assert _rows(est_cat, "SELECT * FROM big LIMIT 10") == 10.0
    assert _rows(est_cat, "SELECT * FROM big LIMIT 10 OFFSET 995") == 5.0
    assert _rows(est_cat, "SELECT DISTINCT g FROM big") == 1000.0
    assert _rows(est_cat, "SELECT k FROM big UNION ALL SELECT k FROM small") == 1200.0
    assert _rows(est_cat, "SELECT k FROM big INTERSECT SELECT k FROM small") == 200.0
    assert _rows(est_cat, "SELECT k FROM big EXCEPT SELECT k FROM small") == 1000.0
    assert _rows(est_cat, "VALUES (1), (2), (3)") == 3.0
    assert _rows(est_cat, "SELECT 1 AS one") == 1.0


def test_explain_shows_estimates(est_cat) -> None:
    est_cat.golden("SELECT g, count(*) AS n FROM big WHERE k > 5 GROUP BY g", """
        Project g, n  ~10 rows
          Aggregate keys=[g] aggs=[COUNT(*)]  ~10 rows
            Scan big columns=[k, g] filters=[k > 5]  ~300 rows
    """, estimates=True)


def test_stats_cached_and_refreshed(device: str) -> None:
    c = Catalog(device, _big())
    stats = c.db._stats
    ex = c.db._executor()
    table = ex.tables["big"]
    assert stats.ndv("big", table, "g") == 10.0
    assert "g" in stats._ndv["big"][1]
    # a replaced table is measured again
    c.register("big", pa.table({"g": pa.array(np.arange(1000) % 7, pa.int64())}))
    ex = c.db._executor()
    assert stats.ndv("big", ex.tables["big"], "g") == 7.0
    stats.forget("big")
    assert "big" not in stats._ndv
    # an empty or all-null column counts one value
    fresh = TableStats()
    c.register("e", pa.table({"n": pa.array([None, None], pa.int64())}))
    assert fresh.ndv("e", c.db._executor().tables["e"], "n") == 1.0


def test_ndv_excludes_null(device: str) -> None:
    # found by this test: the null group was counted as a distinct value
    c = Catalog(device)
    ex = c.db._executor()
    assert TableStats().ndv("t", ex.tables["t"], "a") == 3.0  # 1, 2, 3 (and null)
    assert TableStats().ndv("t", ex.tables["t"], "b") == 3.0  # dictionary x, y, z


def test_estimates_never_change_results(est_cat) -> None:
    for sql in ["SELECT big.g, count(*) AS n FROM big JOIN small ON big.k = small.k "
                "WHERE big.g < 3 GROUP BY big.g",
                "SELECT count(*) AS n FROM big b1 JOIN small ON b1.k = small.k "
                "JOIN big b2 ON b2.g = small.y"]:
        est_cat.differential(sql)
