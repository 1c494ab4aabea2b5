"""The dense per-group reductions: the device kernel against its NumPy twin and pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpdb.kernels import dense_agg

DTYPES = ["int8", "int32", "int64", "uint16", "float32", "float64", "bool"]


def make(rng, n, n_groups, dtype, with_nulls):
    ids = rng.integers(0, n_groups, n).astype(np.int32 if n_groups < 2**31 else np.int64)
    if dtype == "bool":
        vals = rng.random(n) < 0.5
    elif dtype.startswith("float"):
        vals = (rng.normal(0, 1e3, n)).astype(dtype)
        vals[rng.random(n) < 0.01] = np.nan
        vals[rng.random(n) < 0.01] = np.inf
    else:
        info = np.iinfo(dtype)
        vals = rng.integers(max(info.min, -(10**6)), min(info.max, 10**6), n, dtype=dtype)
    valid = (rng.random(n) > 0.2) if with_nulls else None
    return ids, vals, valid


def expected(ids, vals, valid, n_groups, how):
    df = pd.DataFrame({"g": ids, "v": vals})
    if valid is not None:
        df = df[valid]
    if df["v"].dtype.kind == "f":
        # NaN is a value here (the greatest); pandas skips it, so check NaN groups separately
        has_nan = df.groupby("g")["v"].apply(lambda s: s.isna().any())
    g = df.groupby("g")["v"]
    if how == "count":
        out = g.size()
    elif how == "sum":
        out = g.sum(min_count=0) if df["v"].dtype.kind == "f" else g.sum().astype(np.int64)
    else:
        out = getattr(g, how)()
        if df["v"].dtype.kind == "f" and how == "max":
            out[has_nan[has_nan].index] = np.nan
    return out.reindex(range(n_groups))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_groups", [1, 7, 100, 10_000, 40_000])  # opt-in and global bins
@pytest.mark.parametrize("with_nulls", [False, True])
def test_reductions_match_pandas(dtype, n_groups, with_nulls, dev, rng):
    xp = dev.xp
    ids, vals, valid = make(rng, 20_000, n_groups, dtype, with_nulls)
    d_ids, d_vals = dev.asarray(ids), dev.asarray(vals)
    d_valid = None if valid is None else dev.asarray(valid)

    counts = dev.to_host(dense_agg.group_count(xp, d_ids, n_groups, d_valid))
    exp_counts = expected(ids, vals, valid, n_groups, "count").fillna(0).to_numpy()
    np.testing.assert_array_equal(counts, exp_counts)

    sums = dev.to_host(dense_agg.group_sum(xp, d_ids, n_groups, d_vals, d_valid))
    if dtype.startswith("float"):
        vv = vals.astype(np.float64)
        exp = np.bincount(ids[valid] if valid is not None else ids,
                          weights=vv[valid] if valid is not None else vv, minlength=n_groups)
        np.testing.assert_allclose(sums, exp, rtol=1e-9, equal_nan=True)
    else:
        exp = expected(ids, vals.astype(np.int64), valid, n_groups, "sum").fillna(0)
        np.testing.assert_array_equal(sums, exp.to_numpy().astype(np.int64))

    for how, fn in (("min", dense_agg.group_min), ("max", dense_agg.group_max)):
        got, cnt = fn(xp, d_ids, n_groups, d_vals, d_valid)
        got, cnt = dev.to_host(got), dev.to_host(cnt)
        np.testing.assert_array_equal(cnt, counts)
        present = cnt > 0
        exp = expected(ids, vals, valid, n_groups, how).to_numpy()
        if dtype == "bool":
            exp = exp.astype(float)
            got = got.astype(float)
        np.testing.assert_array_equal(got[present], exp[present].astype(got.dtype))


def test_nan_is_the_greatest_value(dev):
    xp = dev.xp
    ids = dev.asarray(np.array([0, 0, 1, 1], np.int64))
    vals = dev.asarray(np.array([np.nan, 1.0, -np.inf, np.nan]))
    mx, _ = dense_agg.group_max(xp, ids, 2, vals)
    mn, _ = dense_agg.group_min(xp, ids, 2, vals)
    assert np.isnan(dev.to_host(mx)).all()
    assert dev.to_host(mn).tolist() == [1.0, -np.inf]


def test_int64_sums_wrap_like_numpy(dev):
    xp = dev.xp
    big = np.iinfo(np.int64).max
    ids = dev.asarray(np.zeros(2, np.int64))
    vals = dev.asarray(np.array([big, 1], np.int64))
    assert dev.to_host(dense_agg.group_sum(xp, ids, 1, vals)).tolist() == [np.iinfo(np.int64).min]


def test_empty_inputs(dev):
    xp = dev.xp
    ids = dev.asarray(np.zeros(0, np.int32))
    vals = dev.asarray(np.zeros(0, np.float64))
    assert dev.to_host(dense_agg.group_count(xp, ids, 3)).tolist() == [0, 0, 0]
    assert dev.to_host(dense_agg.group_sum(xp, ids, 3, vals)).tolist() == [0.0, 0.0, 0.0]
    _, cnt = dense_agg.group_min(xp, ids, 3, vals)
    assert dev.to_host(cnt).tolist() == [0, 0, 0]


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(-(2**63), 2**63 - 1)), max_size=40))
def test_extremes_property(rows):
    ids = np.array([r[0] for r in rows], np.int64)
    vals = np.array([r[1] for r in rows], np.int64)
    mn, cnt = dense_agg.group_min(np, ids, 5, vals)
    mx, _ = dense_agg.group_max(np, ids, 5, vals)
    for g in range(5):
        vs = [v for i, v in rows if i == g]
        assert cnt[g] == len(vs)
        if vs:
            assert mn[g] == min(vs) and mx[g] == max(vs)
