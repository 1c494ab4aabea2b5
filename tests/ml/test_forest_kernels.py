"""The fused forest-prediction CUDA kernel, run on the CPU through
:mod:`xpdb.kernels.emulate` (the GPU machine runs the real one through the estimators'
tests), against its NumPy twin (bit for bit) and the portable ``forest_sum``."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from xpdb.kernels import emulate
from xpdb.ml import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
    _tree,
)
from xpdb.ml import _forest_kernels as fk

needs_gxx = pytest.mark.skipif(not emulate.available(), reason="needs g++ to emulate kernels")


def _check(forest, X, n_groups=1):
    emu = emulate.emulated_cupy()
    got = fk.forest_sum(emu, forest, X, n_groups)
    twin = fk.forest_sum_reference(np, forest, X, n_groups)
    np.testing.assert_array_equal(got, twin)
    np.testing.assert_allclose(got, _tree.forest_sum(forest, X, n_groups), rtol=1e-12,
                               atol=1e-12)
    return got


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@needs_gxx
def test_random_forest_classifier(dtype):
    X, y = make_classification(400, 8, n_informative=5, n_classes=3, random_state=0)
    X = X.astype(dtype)
    est = RandomForestClassifier(n_estimators=7, max_depth=6, random_state=0).fit(X, y)
    Xq = X[:60].copy()
    Xq[0, 2] = np.nan  # NaN goes right at every split, as in the portable descent
    got = _check(est.forest_, Xq)
    assert got.shape == (60, 3)


@needs_gxx
def test_regressor_with_integer_features_and_a_single_leaf_tree():
    X, y = make_regression(300, 5, random_state=1)
    Xi = np.round(X * 3).astype(np.int64)
    est = RandomForestRegressor(n_estimators=5, max_depth=5, random_state=1).fit(Xi, y)
    _check(est.forest_, Xi[:50])
    stump = RandomForestRegressor(n_estimators=2, max_depth=0 + 1, random_state=1).fit(
        Xi, np.zeros(300))  # constant target: every tree is one leaf (depth 0)
    assert stump.forest_.depth == 0
    _check(stump.forest_, Xi[:10])


@needs_gxx
def test_boosting_groups():
    """Multinomial boosting: trees round-robin into one group per class."""
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=2)
    est = HistGradientBoostingClassifier(max_iter=4, max_depth=3, random_state=0).fit(X, y)
    assert est.n_trees_per_iteration_ == 3
    _check(est.forest_, X[:40], n_groups=est.n_trees_per_iteration_)


@needs_gxx
def test_estimators_predict_through_the_kernel(monkeypatch):
    """predict/predict_proba with the kernel (emulated) equal the portable path's."""
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=4)
    rf = RandomForestClassifier(n_estimators=6, max_depth=5, random_state=0).fit(X, y)
    hgb = HistGradientBoostingClassifier(max_iter=3, max_depth=3, random_state=0).fit(X, y)
    want = [rf.predict_proba(X), hgb.predict_proba(X), rf.predict(X), hgb.predict(X)]
    emu = emulate.emulated_cupy()
    used = []
    monkeypatch.setattr(fk, "usable", lambda xp, forest, n_groups: True)
    real = fk.forest_sum
    monkeypatch.setattr(fk, "forest_sum", lambda xp, forest, X, n_groups=1: (
        used.append(n_groups), real(emu, forest, X, n_groups))[1])
    got = [rf.predict_proba(X), hgb.predict_proba(X), rf.predict(X), hgb.predict(X)]
    assert used and 3 in used
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_usable_only_on_cupy_and_narrow_outputs():
    X, y = make_classification(100, 4, random_state=3)
    est = RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y)
    assert not fk.usable(np, est.forest_, 1)
    assert fk.width_of(est.forest_, 1) == 2 and fk.width_of(est.forest_, 5) == 5


def test_the_real_kernel_on_the_gpu():
    """On a GPU: the CUDA kernel equals its twin run on CuPy, bit for bit."""
    cp = pytest.importorskip("cupy")
    try:
        cp.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001
        pytest.skip("no GPU")
    X, y = make_classification(2000, 10, n_informative=6, n_classes=3, random_state=5)
    Xd, yd = cp.asarray(X.astype(np.float32)), cp.asarray(y)
    rf = RandomForestClassifier(n_estimators=9, max_depth=7, random_state=0).fit(Xd, yd)
    assert fk.usable(cp, rf.forest_, 1)
    got = fk.forest_sum(cp, rf.forest_, Xd)
    want = fk.forest_sum_reference(cp, rf.forest_, Xd)
    np.testing.assert_array_equal(cp.asnumpy(got), cp.asnumpy(want))
    hgb = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(Xd, yd)
    got = fk.forest_sum(cp, hgb.forest_, Xd, 3)
    want = fk.forest_sum_reference(cp, hgb.forest_, Xd, 3)
    np.testing.assert_array_equal(cp.asnumpy(got), cp.asnumpy(want))
