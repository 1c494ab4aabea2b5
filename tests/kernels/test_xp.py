"""The array-namespace helpers in xpdb/kernels/_xp.py against NumPy's ufunc.at."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from xpdb.device import get_device
from xpdb.kernels import _xp


@pytest.mark.parametrize("which", ["min", "max"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_float_scatter_extremes_are_exact(device, which, dtype):
    """CuPy's float minimum.at/maximum.at use float32 atomics; ours must be exact, with
    NumPy's NaN rule (a NaN in the group wins). The int64-image path runs on the CPU too."""
    dev = get_device(device)
    xp = dev.xp
    rng = np.random.default_rng(5)
    ufunc = np.minimum if which == "min" else np.maximum
    for _ in range(50):
        n, m = int(rng.integers(1, 30)), int(rng.integers(0, 200))
        idx = rng.integers(0, n, m)
        vals = (rng.normal(size=m) * 10.0 ** rng.integers(-3, 8)).astype(dtype)
        vals[rng.random(m) < 0.03] = np.nan
        out = rng.normal(size=n).astype(dtype)
        out[rng.random(n) < 0.1] = np.nan
        out[rng.random(n) < 0.2] = np.inf if which == "min" else -np.inf
        want, twin = out.copy(), out.copy()
        got = dev.asarray(out.copy())
        fn = _xp.scatter_min if which == "min" else _xp.scatter_max
        with warnings.catch_warnings():  # NaN comparisons
            warnings.simplefilter("ignore", RuntimeWarning)
            ufunc.at(want, idx, vals)
            fn(xp, got, dev.asarray(idx), dev.asarray(vals))
            _xp._float_extreme_at(np, which, twin, idx, vals)  # the GPU branch on NumPy
        np.testing.assert_array_equal(dev.to_host(got), want)
        np.testing.assert_array_equal(twin, want)


def test_fixed_point_bincount_is_exact_enough_and_order_free(device):
    """The GPU's weighted bincount (run here on NumPy too): close to float sums, and the
    same bits for any order of the rows (float atomics give other bits run to run)."""
    dev = get_device(device)
    rng = np.random.default_rng(9)
    n, bins = 20_000, 37
    idx = rng.integers(0, bins, n)
    w = rng.normal(size=n) * 10.0 ** rng.integers(-6, 6, n)
    want = np.bincount(idx, weights=w, minlength=bins)
    for xp, to_host, put in ((np, np.asarray, np.asarray), (dev.xp, dev.to_host, dev.asarray)):
        got = to_host(_xp._fixed_point_bincount(xp, put(idx), bins, put(w)))
        bound = np.abs(w).sum() * 2.0 ** -62 * n  # rounding of each value, summed
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=bound + 1e-9 * np.abs(want).max())
        order = rng.permutation(n)
        again = to_host(_xp._fixed_point_bincount(xp, put(idx[order]), bins, put(w[order])))
        np.testing.assert_array_equal(again, got)
    # counts stay exact, and non-finite weights keep the float path
    ones = _xp._fixed_point_bincount(np, idx, bins, np.ones(n))
    np.testing.assert_array_equal(ones, np.bincount(idx, minlength=bins))
    w[3] = np.inf
    assert np.isinf(_xp._fixed_point_bincount(np, idx, bins, w)[idx[3]])
