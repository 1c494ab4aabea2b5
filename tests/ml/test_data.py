"""Column reductions of xpdb.ml._data: the blocked matrix-product sums (the GPU's path,
also run on NumPy here) against NumPy's own reductions."""

from __future__ import annotations

import numpy as np
import pytest

from xpdb.device import get_device
from xpdb.ml import _data


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocked_column_sums_match_numpy(device, rng, monkeypatch, dtype):
    dev = get_device(device)
    X = (rng.normal(size=(1001, 7)) * 100 + 5).astype(dtype)
    Xd = dev.asarray(X)
    monkeypatch.setattr(_data, "COLUMN_BLOCK_ELEMENTS", 7 * 64)  # 16 blocks, a ragged last
    X64 = X.astype(np.float64)
    got = dev.to_host(_data.column_sums(dev.xp, Xd, blocked=True))
    assert got.dtype == dtype
    np.testing.assert_allclose(got, X64.sum(axis=0), rtol=1e-6 if dtype == np.float32 else 1e-12)
    mean = X64.mean(axis=0)
    sq = dev.to_host(_data.column_sums(dev.xp, Xd, center=dev.asarray(mean), square=True,
                                       blocked=True))
    np.testing.assert_allclose(sq, ((X64 - mean) ** 2).sum(axis=0), rtol=1e-5)
    np.testing.assert_allclose(dev.to_host(_data.column_means(dev.xp, Xd)), mean, rtol=1e-5)
    np.testing.assert_allclose(dev.to_host(_data.column_vars(dev.xp, Xd)), X64.var(axis=0),
                               rtol=1e-4)


def test_blocked_counts_stay_integers(device, rng):
    dev = get_device(device)
    B = rng.random((500, 4)) < 0.3
    got = dev.to_host(_data.column_sums(dev.xp, dev.asarray(B), blocked=True))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, B.sum(axis=0))
    assert dev.to_host(_data.column_sums(dev.xp, dev.asarray(B[:0]), blocked=True)).tolist() \
        == [0, 0, 0, 0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_check_by_sum_and_its_fallback(device, dtype):
    """as_2d refuses NaN and infinity wherever they are, and accepts finite values whose
    sum overflows (the one-reduction test falls back to the full one)."""
    xp = get_device(device).xp
    big = np.finfo(dtype).max
    ok = xp.asarray(np.full((50, 3), big, dtype=dtype))
    arr, _ = _data.as_2d(ok, dtype="numeric")
    assert arr.dtype == dtype and arr.shape == (50, 3)
    assert _data._all_finite(xp, ok) and _data._all_finite(xp, xp.zeros((0, 2), dtype=dtype))
    for bad in (np.nan, np.inf, -np.inf):
        a = np.ones((40, 4), dtype=dtype)
        a[37, 2] = bad
        with pytest.raises(_data.DataError, match="NaN or infinity"):
            _data.as_2d(xp.asarray(a), dtype="numeric")
        assert not _data._all_finite(xp, xp.asarray(a))
    # +inf and -inf cancel to NaN in a sum, still refused; huge values of both signs
    a = np.array([[big, -big], [1.0, 2.0]], dtype=dtype)
    assert _data._all_finite(xp, xp.asarray(a))
    assert _data._all_finite(np, np.arange(6).reshape(2, 3))  # integers are finite
