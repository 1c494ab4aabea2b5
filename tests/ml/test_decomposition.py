"""xpdb.ml.decomposition (PCA, TruncatedSVD) against scikit-learn on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import decomposition as skd
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import xpdb
from xpdb.errors import NotSupportedError
from xpdb.ml import DataError
from xpdb.ml.decomposition import PCA, TruncatedSVD
from xpdb.ml.neighbors import KNeighborsClassifier

from .conftest import as_numpy as _np
from .conftest import is_on as _is_on
from .conftest import put as _on

FITTED = ("components_", "explained_variance_", "explained_variance_ratio_",
          "singular_values_", "mean_")




@pytest.fixture(scope="module")
def tall():
    rng = np.random.default_rng(11)
    # correlated features with distinct variances, far from the origin
    return rng.normal(size=(800, 9)) @ rng.normal(size=(9, 9)) + rng.normal(40, 5, 9)


@pytest.fixture(scope="module")
def wide():
    rng = np.random.default_rng(12)
    return rng.normal(size=(60, 700)) + np.linspace(0, 3, 700)


def _assert_same_pca(ours, sk, X_host, X, atol=1e-9):
    assert ours.n_components_ == sk.n_components_
    assert ours._fit_svd_solver == ("full" if sk._fit_svd_solver == "arpack"
                                    else sk._fit_svd_solver)
    for name in FITTED:
        got = getattr(ours, name)
        assert _is_on("gpu" if type(X).__module__.startswith("cupy") else "cpu", got)
        # same sign convention as scikit-learn's svd_flip: components compare directly
        np.testing.assert_allclose(_np(got), getattr(sk, name), rtol=1e-7, atol=atol,
                                   err_msg=name)
    assert ours.noise_variance_ == pytest.approx(float(sk.noise_variance_), rel=1e-7,
                                                 abs=1e-10)
    Z = ours.transform(X)
    np.testing.assert_allclose(_np(Z), sk.transform(X_host), atol=atol * 100)
    np.testing.assert_allclose(_np(ours.inverse_transform(Z)),
                               sk.inverse_transform(sk.transform(X_host)), atol=atol * 100)


@pytest.mark.parametrize("params", [
    {"n_components": 3},  # auto -> covariance_eigh
    {"n_components": 4, "svd_solver": "full", "whiten": True},
    {"n_components": 0.95},
    {},
    {"n_components": 3, "svd_solver": "randomized", "random_state": 0},
    {"n_components": 2, "svd_solver": "arpack"},
])
def test_pca_tall_matches_sklearn(device, tall, params):
    sk = skd.PCA(**params).fit(tall)
    ours = PCA(**params).fit(_on(device, tall))
    _assert_same_pca(ours, sk, tall, _on(device, tall))
    assert ours.score(_on(device, tall)) == pytest.approx(sk.score(tall), rel=1e-9)


@pytest.mark.parametrize("params", [
    {"n_components": 5},  # auto -> randomized on wide data
    {"n_components": 0.8},  # auto -> full
    {"n_components": 4, "svd_solver": "randomized", "power_iteration_normalizer": "none",
     "iterated_power": 2},
])
def test_pca_wide_matches_sklearn(device, wide, params):
    params = {**params, "random_state": 0}
    sk = skd.PCA(**params).fit(wide)
    ours = PCA(**params).fit(_on(device, wide))
    _assert_same_pca(ours, sk, wide, _on(device, wide), atol=1e-8)


def test_pca_float32_frames_and_names(device, tall):
    cols = [f"x{i}" for i in range(tall.shape[1])]
    frame = xpdb.DataFrame(pd.DataFrame(tall, columns=cols), device=device)
    ours = PCA(n_components=2).fit(frame)
    assert list(ours.feature_names_in_) == cols
    assert list(ours.get_feature_names_out()) == ["pca0", "pca1"]
    Z = ours.transform(frame)
    assert _is_on(device, Z)
    np.testing.assert_allclose(_np(Z), skd.PCA(2).fit(tall).transform(tall), atol=1e-8)
    p32 = PCA(n_components=2).fit(_on(device, tall.astype(np.float32)))
    assert p32.components_.dtype == np.float32
    np.testing.assert_allclose(_np(p32.explained_variance_ratio_),
                               ours.explained_variance_ratio_ if device == "cpu"
                               else _np(ours.explained_variance_ratio_), rtol=1e-4)


@pytest.mark.parametrize("params", [
    {"n_components": 3, "n_iter": 7, "random_state": 0},
    {"n_components": 2, "algorithm": "arpack"},
])
def test_truncated_svd_matches_sklearn(device, params):
    rng = np.random.default_rng(4)
    X = rng.poisson(rng.uniform(0.2, 3, 30), size=(400, 30)).astype(np.float64)
    sk = skd.TruncatedSVD(**params)
    ours = TruncatedSVD(**params)
    z_ref = sk.fit_transform(X)
    z = ours.fit_transform(_on(device, X))
    assert _is_on(device, z) and _is_on(device, ours.components_)
    np.testing.assert_allclose(_np(z), z_ref, atol=1e-8)
    for name in ("components_", "explained_variance_", "explained_variance_ratio_",
                 "singular_values_"):
        np.testing.assert_allclose(_np(getattr(ours, name)), getattr(sk, name), atol=1e-9,
                                   err_msg=name)
    np.testing.assert_allclose(_np(ours.transform(_on(device, X[:50]))), sk.transform(X[:50]),
                               atol=1e-8)
    np.testing.assert_allclose(_np(ours.inverse_transform(z)), sk.inverse_transform(z_ref),
                               atol=1e-8)


def test_errors(device, tall):
    X = _on(device, tall)
    with pytest.raises(DataError, match="n_components=10"):
        PCA(n_components=10).fit(X)
    with pytest.raises(NotSupportedError, match="mle"):
        PCA(n_components="mle").fit(X)
    with pytest.raises(DataError, match="svd_solver='lobpcg'"):
        PCA(svd_solver="lobpcg").fit(X)
    with pytest.raises(DataError, match="randomized"):
        PCA(n_components=0.5, svd_solver="randomized").fit(X)
    with pytest.raises(DataError, match="n_components=12"):
        TruncatedSVD(n_components=12).fit(X)
    with pytest.raises(DataError, match="features"):
        PCA(2).fit(X).transform(X[:, :3])


def test_pipeline_and_grid_search(tall):
    y = (tall[:, 0] > np.median(tall[:, 0])).astype(int)
    grid = GridSearchCV(make_pipeline(PCA(), KNeighborsClassifier()),
                        {"pca__n_components": [1, 3, 6]}, cv=3).fit(tall, y)
    from sklearn.neighbors import KNeighborsClassifier as SkKNN

    ref = GridSearchCV(make_pipeline(skd.PCA(), SkKNN()),
                       {"pca__n_components": [1, 3, 6]}, cv=3).fit(tall, y)
    assert grid.best_params_ == ref.best_params_
    assert grid.best_score_ == pytest.approx(ref.best_score_)
    # PCA alone scores by log-likelihood, so it can be grid-searched unsupervised
    alone = GridSearchCV(PCA(), {"n_components": [2, 5]}, cv=3).fit(tall)
    ref_alone = GridSearchCV(skd.PCA(), {"n_components": [2, 5]}, cv=3).fit(tall)
    assert alone.best_score_ == pytest.approx(ref_alone.best_score_, rel=1e-9)


def test_registered_in_xpdb_ml():
    import xpdb.ml

    found = dict(xpdb.ml.all_estimators())
    for name in ['PCA', 'TruncatedSVD']:
        assert getattr(xpdb.ml, name) is found[name]


def test_transform_in_blocks_far_from_the_origin(device, monkeypatch):
    """The projection runs by blocks of rows (on threads on the CPU) and centres before the
    product: far from the origin it keeps the digits ``X @ C.T - mean @ C.T`` loses."""
    import xpdb.ml.decomposition as dmod

    rng = np.random.default_rng(4)
    X = rng.normal(size=(1000, 12)) * [3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5] + 1e6
    pca = PCA(4, svd_solver="full").fit(_on(device, X))
    whole = _np(pca.transform(_on(device, X)))
    monkeypatch.setitem(dmod.PROJECT_BLOCK_BYTES, "cpu", 12 * 8 * 37)  # 37-row blocks
    monkeypatch.setitem(dmod.PROJECT_BLOCK_BYTES, "gpu", 12 * 8 * 37)
    blocked = _np(pca.transform(_on(device, X)))
    # equal up to the BLAS kernel a block's shape picks (a 1-row block is a gemv)
    np.testing.assert_allclose(blocked, whole, rtol=1e-12, atol=1e-12)
    C, m = _np(pca.components_), _np(pca.mean_)
    exact = (X - m) @ C.T
    np.testing.assert_allclose(blocked, exact, rtol=0, atol=1e-9)
    sk = skd.PCA(4, svd_solver="full").fit(X)
    np.testing.assert_allclose(np.abs(blocked), np.abs(sk.transform(X)), atol=1e-6)
