"""skewness, kurtosis and kurtosis_pop: SQL against DuckDB, the kernel against pandas."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import xpdb
from xpdb.errors import TypeError as XTypeError
from xpdb.kernels import groupby as kg
from xpdb.table import Table


@pytest.fixture
def dbs(device: str):
    rng = np.random.default_rng(2)
    k = np.repeat(np.arange(6), [40, 7, 4, 3, 2, 5])
    x = np.concatenate([rng.gamma(2.0, 3.0, 40), rng.normal(size=7), [1.0, 2.0, 4.0, 8.5],
                        [1.0, 2.0, 7.0], [3.0, 3.0], [5.0] * 5])
    tb = pa.table({"k": k, "x": pa.array(x, mask=rng.random(len(x)) < 0.1),
                   "i": pa.array(rng.integers(-50, 50, len(x)), pa.int32())})
    db = xpdb.connect(device=device)
    con = duckdb.connect()
    db.register("t", tb)
    con.register("t", tb)
    return db, con


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(b, float) and math.isnan(b):
        return isinstance(a, float) and math.isnan(a)
    return a == pytest.approx(b, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("sql", [
    "SELECT k, skewness(x), kurtosis(x), kurtosis_pop(x), skewness(i), kurtosis(i) FROM t "
    "GROUP BY k ORDER BY k",
    "SELECT skewness(x), kurtosis(x), kurtosis_pop(i) FROM t",
    "SELECT skewness(x), kurtosis(x), kurtosis_pop(x) FROM t WHERE k > 10",
])
def test_matches_duckdb(dbs, sql: str) -> None:
    """Including DuckDB's edges: null below 3 (skewness) or 4 (kurtosis) values, a
    constant group's skewness NaN and its kurtoses null."""
    db, con = dbs
    got, want = db.sql(sql).fetchall(), con.sql(sql).fetchall()
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert all(_same(a, b) for a, b in zip(g, w, strict=True)), (g, w)


def test_kernel_matches_pandas(device: str) -> None:
    rng = np.random.default_rng(4)
    keys = rng.integers(0, 12, 300)
    x = rng.exponential(2.0, 300)
    x[rng.random(300) < 0.05] = np.nan
    tb = Table.from_arrow(pa.table({"k": keys, "x": pa.array(x, from_pandas=True)}),
                          device=device)
    out = kg.groupby_agg(tb, ["k"], [kg.Agg("skew", "x", "s"), kg.Agg("kurt", "x", "c")])
    got = out.to_pandas().set_index("k").sort_index()
    df = pd.DataFrame({"k": keys, "x": x}).groupby("k")["x"]
    np.testing.assert_allclose(got["s"], df.skew(), rtol=1e-10)
    np.testing.assert_allclose(got["c"], df.apply(lambda s: s.kurt()), rtol=1e-10)


def test_far_from_the_origin_stays_exact(dbs) -> None:
    """Central moments, not raw power sums: shifting the data by 1e6 changes nothing
    (DuckDB's raw sums give a skewness of -9.5 for this group where the answer is 1.26)."""
    db, _ = dbs
    base = db.sql("SELECT skewness(x), kurtosis(x) FROM t WHERE k = 0").fetchall()[0]
    far = db.sql("SELECT skewness(x + 1e6), kurtosis(x + 1e6) FROM t WHERE k = 0").fetchall()[0]
    assert far == pytest.approx(base, rel=1e-6)
    x = pd.Series(db.sql("SELECT x FROM t WHERE k = 0 AND x IS NOT NULL").to_pandas()["x"])
    assert base == pytest.approx((x.skew(), x.kurt()), rel=1e-10)


def test_text_is_refused(device: str) -> None:
    db = xpdb.connect(device=device)
    db.register("s", pa.table({"v": ["a", "b", "c"]}))
    with pytest.raises(XTypeError, match="skewness.*needs a numeric column"):
        db.sql("SELECT skewness(v) FROM s").fetchall()
