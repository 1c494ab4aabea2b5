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
