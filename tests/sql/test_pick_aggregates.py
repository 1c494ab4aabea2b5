"""Aggregates that pick one row's value, arg_max / arg_min (max_by / min_by) and mode, and
count_if: SQL against DuckDB, the kernels against pandas."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from xpdb.errors import BindError
from xpdb.errors import TypeError as XTypeError
from xpdb.kernels import groupby as kg
from xpdb.table import Table

from .conftest import Both


@pytest.fixture
def both(device: str) -> Both:
    tb = pa.table({
        "k": pa.array([1, 1, 2, 2, 3, 1, None, 2], pa.int64()),
        "s": pa.array(["a", "b", None, "c", "d", "e", "z", "ß"]),
        "o": pa.array([3, None, 2, 5, None, 3, 1, -4], pa.int32()),
        "f": pa.array([1.5, 2.5, None, 0.5, 1.0, -1.0, 9.0, 7.25]),
        "d": pa.array([dt.date(2024, 1, 5), None, dt.date(2023, 12, 31), dt.date(2024, 2, 29),
                       dt.date(2024, 1, 6), dt.date(2022, 7, 14), None, dt.date(2021, 3, 1)]),
    })
    return Both(device, {"t": tb})


@pytest.mark.parametrize("sql", [
    "SELECT k, arg_max(s, o), arg_min(s, o), max_by(f, o), min_by(f, o) FROM t "
    "GROUP BY k ORDER BY k NULLS LAST",
    "SELECT arg_max(s, f), arg_min(s, f), arg_max(o, s), arg_min(k, d), arg_max(d, f) FROM t",
    "SELECT k, arg_max(s, d), count_if(f > 1), count_if(s = 'a') FROM t GROUP BY k "
    "ORDER BY k NULLS LAST",
    "SELECT arg_max(s, o), count_if(o > 100) FROM t WHERE k > 10",
    "SELECT count_if(o > 2), count_if(NOT (f < 0)) FROM t",
    "SELECT k FROM t GROUP BY k HAVING count_if(o > 2) >= 1 ORDER BY k",
    "SELECT k, mode(s), mode(o), mode(d) FROM t GROUP BY k ORDER BY k NULLS LAST",
    "SELECT mode(s), mode(f), mode(k) FROM t",
    "SELECT mode(s) FROM t WHERE k > 10",
    "SELECT k, GROUPING(k) AS gk, arg_max(s, o), mode(s), count_if(o > 1), "
    "string_agg(s, ',' ORDER BY o) FROM t GROUP BY ROLLUP (k) ORDER BY gk, k NULLS LAST",
])
def test_matches_duckdb(both: Both, sql: str) -> None:
    both.check(sql, names=False)


def test_errors(both: Both) -> None:
    with pytest.raises(BindError, match=r"arg_max\(arg, val\) takes two arguments"):
        both.db.sql("SELECT arg_max(s) FROM t").fetchall()
    with pytest.raises(XTypeError, match="count_if takes a condition"):
        both.db.sql("SELECT count_if(o) FROM t").fetchall()


def test_kernel_matches_pandas(device: str) -> None:
    rng = np.random.default_rng(5)
    n = 400
    keys = rng.integers(0, 25, n)
    val = rng.integers(0, 50, n).astype(float)  # ties: the first row wins, as idxmax
    val[rng.random(n) < 0.1] = np.nan
    arg = rng.normal(size=n)
    tb = Table.from_arrow(pa.table({"k": keys, "v": pa.array(val, from_pandas=True),
                                    "a": arg}), device=device)
    out = kg.groupby_agg(tb, ["k"], [kg.Agg("arg_max", "a", "hi", {"other": "v"}),
                                     kg.Agg("min_by", "a", "lo", {"other": "v"})])
    got = out.to_pandas().set_index("k").sort_index()
    df = pd.DataFrame({"k": keys, "v": val, "a": arg}).dropna()
    hi = df.loc[df.groupby("k")["v"].idxmax(), ["k", "a"]].set_index("k")["a"]
    lo = df.loc[df.groupby("k")["v"].idxmin(), ["k", "a"]].set_index("k")["a"]
    np.testing.assert_array_equal(got["hi"].to_numpy(), hi.reindex(got.index).to_numpy())
    np.testing.assert_array_equal(got["lo"].to_numpy(), lo.reindex(got.index).to_numpy())


def test_mode_kernel_matches_pandas(device: str) -> None:
    """The most frequent value per group; ties to the value seen first."""
    rng = np.random.default_rng(9)
    n = 600
    keys = rng.integers(0, 30, n)
    vals = rng.choice(["p", "q", "r", "s", None], n).tolist()
    tb = Table.from_arrow(pa.table({"k": keys, "v": pa.array(vals)}), device=device)
    got = kg.groupby_agg(tb, ["k"], [kg.Agg("mode", "v", "m")]).to_pandas()
    df = pd.DataFrame({"k": keys, "v": vals, "row": np.arange(n)}).dropna()

    def mode(g: pd.DataFrame) -> str:
        stats = g.groupby("v")["row"].agg(["size", "min"])
        return stats.sort_values(["size", "min"], ascending=[False, True]).index[0]

    want = df.groupby("k")[["v", "row"]].apply(mode)
    got = got.set_index("k")["m"].sort_index()
    assert got.to_dict() == {k: want.get(k) for k in got.index}
