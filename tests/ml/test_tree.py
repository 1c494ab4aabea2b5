"""The histogram tree builder (xpdb/ml/_tree.py): binning against scikit-learn's bin mapper,
single trees against scikit-learn's exact trees, and the builder's alternative paths
(sorted entries vs histograms, chunked passes, blocked prediction) against each other."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from xpdb.device import get_device
from xpdb.ml import _tree

from .conftest import on_device, to_host


def _columns(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.c_[rng.normal(size=n), np.round(rng.normal(size=n), 1), np.zeros(n),
                 rng.integers(0, 3, n), rng.exponential(size=n) ** 3]


@pytest.mark.parametrize("max_bins", [255, 16])
def test_binning_matches_sklearn_bin_mapper(device, rng, max_bins):
    X = _columns(rng, 1500)
    ours = _tree.bin_features(on_device(X, device), max_bins, 0)
    theirs = _BinMapper(n_bins=max_bins + 1, subsample=None).fit(X)
    edges = to_host(ours.edges)
    for j, want in enumerate(theirs.bin_thresholds_):
        got = edges[j][np.isfinite(edges[j])]
        np.testing.assert_array_equal(got, want)
    codes = to_host(ours.codes)
    assert codes.dtype == np.uint8
    np.testing.assert_array_equal(codes, theirs.transform(X))
    assert ours.n_bins == max(len(t) for t in theirs.bin_thresholds_) + 1


def test_binning_on_a_sample_keeps_codes_consistent(device, rng, monkeypatch):
    monkeypatch.setattr(_tree, "BIN_SUBSAMPLE", 300)
    X = _columns(rng, 2000)
    b = _tree.bin_features(on_device(X, device), 64, 5)
    edges, codes = to_host(b.edges), to_host(b.codes)
    assert edges.shape == (X.shape[1], b.n_bins - 1) and b.n_bins <= 64
    for j in range(X.shape[1]):
        e = edges[j][np.isfinite(edges[j])]
        assert (np.diff(e) > 0).all()
        # a value goes left of edge b exactly when its code is <= b
        np.testing.assert_array_equal(codes[:, j], np.searchsorted(e, X[:, j], side="left"))


def _tree_data(rng: np.random.Generator, n: int = 400) -> tuple[np.ndarray, ...]:
    # at most 255 distinct values per feature: bin edges are every midpoint, as in an
    # exact tree's root
    X = np.round(rng.normal(size=(n, 4)), 1)
    yc = ((X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(size=n) * 0.5) > 0).astype(np.int64)
    yc = yc + (X[:, 3] > 1)
    yr = X[:, 0] ** 2 + X[:, 1] + rng.normal(size=n) * 0.3
    return X, yc, yr


def _rows(xp, crit: str, y: np.ndarray, n_trees: int = 1, w: np.ndarray | None = None):
    n = y.shape[0]
    w = np.ones(n) if w is None else w
    row = xp.asarray(np.tile(np.arange(n), n_trees))
    tree = xp.asarray(np.repeat(np.arange(n_trees), n))
    w = xp.asarray(np.tile(w, n_trees))
    yy = xp.asarray(np.tile(y, n_trees))
    if crit == "squared_error":
        return _tree.Rows(row, tree, chan=xp.stack([w, w * yy, w * yy * yy], axis=1))
    return _tree.Rows(row, tree, cls=yy, w=w)


@pytest.mark.parametrize("crit", ["gini", "entropy", "squared_error"])
def test_single_tree_matches_sklearn_exact_tree(device, crit):
    X, yc, yr = _tree_data(np.random.default_rng(3))
    xp = get_device(device).xp
    Xd = on_device(X, device)
    binned = _tree.bin_features(Xd, 255, 0)
    y = yr if crit == "squared_error" else yc
    c = _tree.Criterion(crit, n_classes=3)
    forest, leaves = _tree.grow(binned, _rows(xp, crit, y), 1, c, _tree.GrowParams(max_depth=3),
                                track_rows=len(y))
    if crit == "squared_error":
        sk = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y)
        want = sk.predict(X)[:, None]
    else:
        sk = DecisionTreeClassifier(max_depth=3, criterion=crit, random_state=0).fit(X, y)
        want = sk.predict_proba(X)
    assert forest.n_nodes == sk.tree_.node_count and forest.depth == 3
    np.testing.assert_allclose(to_host(_tree.forest_sum(forest, Xd)), want, atol=1e-12)
    # split thresholds are the exact tree's (global midpoints equal local ones at the root)
    assert to_host(forest.feature)[0] == sk.tree_.feature[0]
    assert to_host(forest.threshold)[0] == pytest.approx(sk.tree_.threshold[0])
    np.testing.assert_allclose(to_host(_tree.importances(xp, forest, 4)),
                               sk.feature_importances_, atol=1e-12)
    # the leaves recorded while growing are where the rows land when predicted
    np.testing.assert_array_equal(to_host(leaves)[0], to_host(_tree.forest_apply(forest, Xd))[:, 0])


def _grow_many(device: str, crit: str, **params) -> tuple[_tree.Forest, np.ndarray]:
    X, yc, yr = _tree_data(np.random.default_rng(11), 500)
    xp = get_device(device).xp
    Xd = on_device(X, device)
    y = yr if crit == "squared_error" else yc
    w = np.random.default_rng(0).integers(0, 3, len(y)).astype(np.float64)
    rows = _rows(xp, crit, y, n_trees=3, w=w)
    keep = rows.w > 0 if rows.w is not None else rows.chan[:, 0] > 0
    forest, _ = _tree.grow(_tree.bin_features(Xd, 32, 0), rows.take(keep), 3,
                           _tree.Criterion(crit, n_classes=3), _tree.GrowParams(**params),
                           feature_rng=xp.random.RandomState(4))
    return forest, to_host(_tree.forest_sum(forest, Xd))


def _same_forest(a: _tree.Forest, b: _tree.Forest, ties: bool = False) -> None:
    """Equal trees; with ``ties`` the split features may differ where two splits part the
    rows alike (float sums in another order break exact ties differently)."""
    for name in ("left", "right", "is_leaf", "node_tree"):
        np.testing.assert_array_equal(to_host(getattr(a, name)), to_host(getattr(b, name)))
    np.testing.assert_allclose(to_host(a.value), to_host(b.value), rtol=1e-9, atol=1e-12)
    if not ties:
        np.testing.assert_array_equal(to_host(a.feature), to_host(b.feature))
        np.testing.assert_allclose(to_host(a.threshold), to_host(b.threshold))


@pytest.mark.parametrize("crit", ["gini", "squared_error"])
@pytest.mark.parametrize("params", [{}, {"max_features": 2, "min_samples_leaf": 3}])
def test_sorted_and_histogram_paths_agree(device, monkeypatch, crit, params):
    if crit == "squared_error":
        # small nodes tie exactly between features, and float sums in another order break
        # such ties differently: keep nodes large
        params = {**params, "max_depth": 5, "min_samples_leaf": 6}
    monkeypatch.setattr(_tree, "SORTED_RATIO", 10**9)  # histograms only
    dense, p_dense = _grow_many(device, crit, **params)
    monkeypatch.setattr(_tree, "SORTED_RATIO", 0)  # sorted entries only
    sorted_, p_sorted = _grow_many(device, crit, **params)
    np.testing.assert_allclose(p_dense, p_sorted, atol=1e-9)
    _same_forest(dense, sorted_, ties=crit == "squared_error")


def test_chunked_passes_and_blocked_prediction_agree(device, monkeypatch):
    monkeypatch.setattr(_tree, "SORTED_RATIO", 10**9)  # histograms only
    whole, p_whole = _grow_many(device, "entropy", max_depth=6, min_samples_leaf=2)
    kind = _tree.device_kind(get_device(device).xp)
    monkeypatch.setitem(_tree.HIST_BUDGET, kind, 500)  # a few nodes per pass
    monkeypatch.setitem(_tree.ENTRY_BUDGET, kind, 700)  # a few hundred rows per pass
    monkeypatch.setitem(_tree.PREDICT_BUDGET, kind, 50)  # 16 rows x 3 trees per block
    parts, p_parts = _grow_many(device, "entropy", max_depth=6, min_samples_leaf=2)
    _same_forest(whole, parts)
    np.testing.assert_allclose(p_whole, p_parts, atol=1e-12)


def test_stopping_rules(device):
    forest, _ = _grow_many(device, "gini", max_depth=4, min_samples_leaf=7)
    assert forest.depth <= 4
    X = _tree_data(np.random.default_rng(11), 500)[0]
    leaves = to_host(_tree.forest_apply(forest, on_device(X, device)))
    w = np.random.default_rng(0).integers(0, 3, 500)
    for t in range(3):
        used = np.bincount(leaves[w > 0, t])
        assert used[used > 0].min() >= 7  # rows (drawn at least once) per leaf
    # max_leaf_nodes: the best splits of a level, per tree, within the leaf budget
    capped, _ = _grow_many(device, "gini", max_leaf_nodes=5)
    is_leaf, tree = to_host(capped.is_leaf), to_host(capped.node_tree)
    assert np.bincount(tree[is_leaf]).tolist() == [5, 5, 5]


def test_newton_criterion_leaf_values(device):
    """One boosting step on squared error: leaf values are minus the mean gradient."""
    X, _, yr = _tree_data(np.random.default_rng(2))
    xp = get_device(device).xp
    n = len(yr)
    g = xp.asarray(-yr)  # raw prediction 0
    rows = _tree.Rows(xp.arange(n), xp.zeros(n, dtype=np.int64),
                      chan=xp.stack([g, xp.ones(n)], axis=1))
    forest, leaves = _tree.grow(_tree.bin_features(on_device(X, device), 255, 0), rows, 1,
                                _tree.Criterion("newton", l2=0.0),
                                _tree.GrowParams(max_depth=2, min_gain=0.0), track_rows=n)
    sk = DecisionTreeRegressor(max_depth=2).fit(X, yr)
    np.testing.assert_allclose(to_host(forest.value[leaves[0], 0]), sk.predict(X), atol=1e-12)


@pytest.mark.parametrize(("crit", "params"), [
    ("gini", {"min_samples_leaf": 3}),
    ("newton", {"max_leaf_nodes": 9, "min_gain": 0.0}),  # best-first: leaves wait a round
])
def test_histogram_subtraction_agrees_and_saves_work(device, monkeypatch, crit, params):
    monkeypatch.setattr(_tree, "SORTED_RATIO", 10**9)  # histograms only
    X, yc, yr = _tree_data(np.random.default_rng(8), 500)
    xp = get_device(device).xp
    binned = _tree.bin_features(on_device(X, device), 64, 0)
    if crit == "gini":
        rows = _rows(xp, crit, yc, n_trees=2,
                     w=np.random.default_rng(1).integers(1, 3, 500).astype(float))
    else:
        n = len(yr)
        rows = _tree.Rows(xp.tile(xp.arange(n), 2), xp.repeat(xp.arange(2), n),
                          chan=xp.asarray(np.c_[np.r_[-yr, yr ** 2 - 1], np.ones(2 * n)]))
    seen = []
    real = _tree._dense_hist

    def spy(xp_, crit_, params_, codes, rows_, *args):
        seen.append(int(rows_.row.shape[0]))
        return real(xp_, crit_, params_, codes, rows_, *args)

    monkeypatch.setattr(_tree, "_dense_hist", spy)
    c = _tree.Criterion(crit, n_classes=3)
    grow = functools.partial(_tree.grow, binned, rows, 2, c, _tree.GrowParams(**params))
    monkeypatch.setattr(_tree, "SUBTRACT", False)
    plain = grow()[0]
    direct = sum(seen)
    seen.clear()
    monkeypatch.setattr(_tree, "SUBTRACT", True)
    subtracted = grow()[0]
    _same_forest(plain, subtracted, ties=crit == "newton")
    # the larger sibling's rows are never histogrammed
    assert sum(seen) < 0.8 * direct
