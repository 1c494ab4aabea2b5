"""xpdb.ml.neighbors against scikit-learn's brute-force search on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import neighbors as skn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import xpdb
import xpdb.ml.neighbors as nbmod
from xpdb.device import get_device
from xpdb.errors import NotSupportedError
from xpdb.ml import DataError, NotFittedError
from xpdb.ml.neighbors import KNeighborsClassifier, KNeighborsRegressor, NearestNeighbors

from .conftest import as_numpy as _np
from .conftest import is_on as _is_on
from .conftest import put as _on


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(1500, 6)) + 50  # far from the origin: tests the centering
    Q = rng.normal(size=(300, 6)) + 50
    return X, Q


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine", "minkowski"])
def test_kneighbors_match_sklearn(device, data, metric):
    X, Q = data
    X = X - 50 if metric == "cosine" else X
    Q = Q - 50 if metric == "cosine" else Q
    sk = skn.NearestNeighbors(n_neighbors=6, metric=metric, algorithm="brute").fit(X)
    ours = NearestNeighbors(n_neighbors=6, metric=metric).fit(_on(device, X))
    d_ref, i_ref = sk.kneighbors(Q)
    dist, ind = ours.kneighbors(_on(device, Q))
    assert _is_on(device, dist) and _is_on(device, ind)
    np.testing.assert_array_equal(_np(ind), i_ref)
    np.testing.assert_allclose(_np(dist), d_ref, rtol=1e-9, atol=1e-9)
    assert ours.effective_metric_ == ("euclidean" if metric == "minkowski" else metric)


def test_kneighbors_of_training_rows_exclude_themselves(device, data):
    X, _ = data
    X = np.concatenate([X, X[:20]])  # duplicates: the twin, not the row, must remain
    sk = skn.NearestNeighbors(n_neighbors=4, algorithm="brute").fit(X)
    ours = NearestNeighbors(n_neighbors=4).fit(_on(device, X))
    d_ref, i_ref = sk.kneighbors()
    dist, ind = ours.kneighbors()
    ind = _np(ind)
    rows = np.arange(len(X))[:, None]
    assert not (ind == rows).any()
    # exact distances to the neighbours found; scikit-learn's own differ from them by the
    # cancellation of its |a|^2 + |b|^2 - 2 a.b form (sqrt of ~1e-12 on coordinates ~50:
    # up to ~2e-6, for duplicates too, depending on its BLAS's summation order)
    exact = np.sqrt(((X[:, None, :] - X[ind]) ** 2).sum(axis=2))
    np.testing.assert_allclose(_np(dist), exact, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(dist), d_ref, atol=1e-5)
    # duplicated rows tie with each other: compare the neighbours' coordinates
    np.testing.assert_array_equal(X[ind], X[i_ref])
    assert ours.kneighbors(n_neighbors=2, return_distance=False).shape == (len(X), 2)


def test_small_blocks_give_the_same_neighbours(device, data, monkeypatch):
    X, Q = data
    ref = NearestNeighbors(n_neighbors=5).fit(_on(device, X)).kneighbors(_on(device, Q))
    # blocks of a few queries against chunks of a few rows: the running top-k merge runs
    monkeypatch.setattr(nbmod, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(nbmod, "GPU_BLOCK_BYTES", 4096)
    monkeypatch.setattr(nbmod, "TOPK_KERNEL_CHUNK", 16)  # the GPU's top-k kernel path
    small = NearestNeighbors(n_neighbors=5).fit(_on(device, X)).kneighbors(_on(device, Q))
    np.testing.assert_array_equal(_np(small[1]), _np(ref[1]))
    np.testing.assert_allclose(_np(small[0]), _np(ref[0]), rtol=1e-12)


def test_threads_find_the_same_neighbours(device, data, monkeypatch):
    """Query blocks searched side by side on the CPU (n_jobs) give the one-thread answer;
    n_jobs is checked on every device."""
    X, Q = data
    monkeypatch.setattr(nbmod, "BLOCK_BYTES", 1 << 14)  # many query blocks
    one = NearestNeighbors(n_neighbors=5, n_jobs=1).fit(_on(device, X)).kneighbors(
        _on(device, Q))
    for jobs in (4, -1, None):
        many = NearestNeighbors(n_neighbors=5, n_jobs=jobs).fit(_on(device, X)).kneighbors(
            _on(device, Q))
        np.testing.assert_array_equal(_np(many[1]), _np(one[1]))
        np.testing.assert_array_equal(_np(many[0]), _np(one[0]))
    y = (X[:, 0] > 50).astype(int)
    clf = [KNeighborsClassifier(7, n_jobs=j).fit(_on(device, X), _on(device, y))
           for j in (1, 3)]
    np.testing.assert_array_equal(_np(clf[0].predict_proba(_on(device, Q))),
                                  _np(clf[1].predict_proba(_on(device, Q))))
    with pytest.raises(DataError, match="n_jobs=0 must be a nonzero integer"):
        NearestNeighbors(n_jobs=0).fit(_on(device, X)).kneighbors(_on(device, Q))


@pytest.mark.parametrize("m", [3001, 4096])
def test_two_stage_top_k_is_exact(device, m):
    rng = np.random.default_rng(m)
    xp = get_device(device).xp
    for D in (rng.normal(size=(40, m)), rng.integers(0, 30, size=(40, m)).astype(float)):
        vals, cols = nbmod._smallest_k(xp, _on(device, D), 9)
        vals, cols = _np(vals), _np(cols)
        np.testing.assert_array_equal(vals, np.sort(D, axis=1)[:, :9])
        np.testing.assert_array_equal(np.take_along_axis(D, cols, axis=1), vals)
        assert all(len(set(r)) == 9 for r in cols)  # distinct real columns, no padding
        assert cols.max() < m


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_classifier_matches_sklearn(device, data, weights):
    X, Q = data
    y = np.where(X[:, 0] + X[:, 1] > 100, "big", "small")
    y[X[:, 2] > 50.8] = "odd"
    sk = skn.KNeighborsClassifier(n_neighbors=7, weights=weights, algorithm="brute").fit(X, y)
    ours = KNeighborsClassifier(n_neighbors=7, weights=weights).fit(_on(device, X), y)
    assert list(ours.classes_) == list(sk.classes_)
    np.testing.assert_array_equal(ours.predict(_on(device, Q)), sk.predict(Q))
    proba = ours.predict_proba(_on(device, Q))
    assert _is_on(device, proba)
    np.testing.assert_allclose(_np(proba), sk.predict_proba(Q), atol=1e-12)
    yq = sk.predict(Q)
    yq[:40] = "small"
    assert ours.score(_on(device, Q), yq) == pytest.approx(sk.score(Q, yq))


def test_classifier_numeric_labels_stay_on_device(device, data):
    X, Q = data
    y = (X[:, 0] > 50).astype(np.int64) * 3 - 1
    ours = KNeighborsClassifier(n_neighbors=3).fit(_on(device, X), _on(device, y))
    pred = ours.predict(_on(device, Q))
    assert _is_on(device, pred) and _is_on(device, ours.classes_)
    sk = skn.KNeighborsClassifier(n_neighbors=3).fit(X, y)
    np.testing.assert_array_equal(_np(pred), sk.predict(Q))


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_regressor_matches_sklearn(device, data, weights):
    X, Q = data
    rng = np.random.default_rng(3)
    y = X[:, 0] * 2 - X[:, 3] + rng.normal(size=len(X)) * 0.1
    yq = Q[:, 0] * 2 - Q[:, 3]
    sk = skn.KNeighborsRegressor(n_neighbors=4, weights=weights).fit(X, y)
    ours = KNeighborsRegressor(n_neighbors=4, weights=weights).fit(_on(device, X),
                                                                   _on(device, y))
    pred = ours.predict(_on(device, Q))
    assert _is_on(device, pred)
    np.testing.assert_allclose(_np(pred), sk.predict(Q), rtol=1e-10)
    assert ours.score(_on(device, Q), _on(device, yq)) == pytest.approx(sk.score(Q, yq))


def test_distance_weights_with_exact_matches(device):
    X = np.array([[0.0], [0.0], [1.0], [2.0]])
    y = np.array([1.0, 3.0, 10.0, 20.0])
    for est in (skn.KNeighborsRegressor(n_neighbors=3, weights="distance"),
                KNeighborsRegressor(n_neighbors=3, weights="distance")):
        est.fit(X, y)
    ours = KNeighborsRegressor(n_neighbors=3, weights="distance").fit(_on(device, X), y)
    sk = skn.KNeighborsRegressor(n_neighbors=3, weights="distance").fit(X, y)
    np.testing.assert_allclose(_np(ours.predict(_on(device, [[0.0], [0.5]]))),
                               sk.predict([[0.0], [0.5]]))


def test_frames_and_feature_names(device, data):
    X, Q = data
    cols = [f"f{i}" for i in range(X.shape[1])]
    pdf = pd.DataFrame(X, columns=cols)
    frame = xpdb.DataFrame(pdf, device=device)
    y = (X[:, 0] > 50).astype(np.int64)
    ours = KNeighborsClassifier().fit(frame, y)
    assert list(ours.feature_names_in_) == cols
    pred = ours.predict(xpdb.DataFrame(pd.DataFrame(Q, columns=cols), device=device))
    assert _is_on(device, pred)
    ref = skn.KNeighborsClassifier().fit(pdf, y).predict(pd.DataFrame(Q, columns=cols))
    np.testing.assert_array_equal(_np(pred), ref)
    with pytest.raises(DataError, match="feature names"):
        ours.predict(pd.DataFrame(Q, columns=cols[::-1]))


def test_errors(device, data):
    X, _ = data
    Xd = _on(device, X[:10])
    with pytest.raises(NotFittedError):
        NearestNeighbors().kneighbors(Xd)
    with pytest.raises(DataError, match="n_neighbors"):
        NearestNeighbors(n_neighbors=11).fit(Xd).kneighbors(Xd)
    with pytest.raises(DataError, match="n_neighbors"):
        NearestNeighbors(n_neighbors=10).fit(Xd).kneighbors()  # itself excluded: 9 left
    with pytest.raises(NotSupportedError, match="p=3"):
        NearestNeighbors(p=3).fit(Xd)
    with pytest.raises(NotSupportedError, match="haversine"):
        NearestNeighbors(metric="haversine").fit(Xd)
    with pytest.raises(DataError, match="features"):
        NearestNeighbors(n_neighbors=2).fit(Xd).kneighbors(_on(device, X[:3, :4]))
    with pytest.raises(DataError, match="weights"):
        KNeighborsRegressor(n_neighbors=2, weights="gaussian").fit(Xd, np.arange(10.0)).predict(Xd)


def test_sklearn_tools(data):
    X, _ = data
    X = X[:300]
    y = (X[:, 0] - 50 > 0.3 * (X[:, 1] - 50)).astype(int)
    est = make_pipeline(StandardScaler(), KNeighborsClassifier())
    scores = cross_val_score(est, X, y, cv=3)
    ref = cross_val_score(make_pipeline(StandardScaler(), skn.KNeighborsClassifier()), X, y,
                          cv=3)
    np.testing.assert_allclose(scores, ref)
    grid = GridSearchCV(KNeighborsRegressor(), {"n_neighbors": [1, 5, 15]}, cv=3)
    grid.fit(X, X[:, 0] + X[:, 1])
    ref_grid = GridSearchCV(skn.KNeighborsRegressor(), {"n_neighbors": [1, 5, 15]}, cv=3)
    ref_grid.fit(X, X[:, 0] + X[:, 1])
    assert grid.best_params_ == ref_grid.best_params_
    assert clone(KNeighborsClassifier(n_neighbors=3)).get_params()["n_neighbors"] == 3


def test_registered_in_xpdb_ml():
    import xpdb.ml

    found = dict(xpdb.ml.all_estimators())
    for name in ['NearestNeighbors', 'KNeighborsClassifier', 'KNeighborsRegressor']:
        assert getattr(xpdb.ml, name) is found[name]
