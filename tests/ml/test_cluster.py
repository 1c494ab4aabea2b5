"""xpdb.ml.cluster (KMeans, DBSCAN) against scikit-learn on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import cluster as skc
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import xpdb
import xpdb.ml.cluster as clmod
import xpdb.ml.neighbors as nbmod
from xpdb.device import get_device
from xpdb.errors import NotSupportedError
from xpdb.ml import DataError
from xpdb.ml.cluster import DBSCAN, KMeans

from .conftest import as_numpy as _np
from .conftest import is_on as _is_on
from .conftest import put as _on


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=3000, centers=8, n_features=6, cluster_std=1.5,
                      random_state=3)
    return X + 100, y  # off the origin: the matrix-product distances must stay accurate


# -- KMeans -----------------------------------------------------------------------------------
@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("weighted", [False, True])
def test_kmeans_same_seed_same_result_as_sklearn(device, blobs, init, weighted):
    X, _ = blobs
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X)) if weighted else None
    sk = skc.KMeans(8, init=init, n_init=2, random_state=0).fit(X, sample_weight=w)
    ours = KMeans(8, init=init, n_init=2, random_state=0).fit(
        _on(device, X), sample_weight=None if w is None else _on(device, w))
    assert _is_on(device, ours.cluster_centers_) and _is_on(device, ours.labels_)
    # the seeding makes scikit-learn's random draws, so the runs coincide
    np.testing.assert_array_equal(_np(ours.labels_), sk.labels_)
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-10)
    assert ours.n_iter_ == sk.n_iter_ and ours.stopped_by_ == "tol"
    np.testing.assert_allclose(_np(ours.cluster_centers_), sk.cluster_centers_, atol=1e-9)


def test_kmeans_parallel_init_reaches_sklearn_quality(device, blobs):
    X, y = blobs
    sk = skc.KMeans(8, n_init=3, random_state=0).fit(X)
    for seed in range(3):
        ours = KMeans(8, init="k-means||", random_state=seed).fit(_on(device, X))
        # the optimum scikit-learn's k-means++ reaches, from one k-means|| seeding
        assert ours.inertia_ <= sk.inertia_ * (1 + 1e-9)
        assert adjusted_rand_score(sk.labels_, _np(ours.labels_)) > 0.999
        assert adjusted_rand_score(y, _np(ours.labels_)) > 0.95


def test_kmeans_from_given_centers_follows_sklearn_exactly(device, blobs):
    X, _ = blobs
    rng = np.random.default_rng(1)
    init = X[rng.choice(len(X), 8, replace=False)]
    w = rng.uniform(0.2, 3.0, len(X))
    sk = skc.KMeans(8, init=init, n_init=1, tol=1e-6).fit(X, sample_weight=w)
    ours = KMeans(8, init=_on(device, init), tol=1e-6).fit(_on(device, X),
                                                           sample_weight=_on(device, w))
    np.testing.assert_allclose(_np(ours.cluster_centers_), sk.cluster_centers_, atol=1e-8)
    np.testing.assert_array_equal(_np(ours.labels_), sk.labels_)
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-10)
    assert ours.n_iter_ == sk.n_iter_
    Q = X[:200] + 0.5
    np.testing.assert_array_equal(_np(ours.predict(_on(device, Q))), sk.predict(Q))
    dist = ours.transform(_on(device, Q))
    assert _is_on(device, dist)
    np.testing.assert_allclose(_np(dist), sk.transform(Q), rtol=1e-9)
    assert ours.score(_on(device, Q)) == pytest.approx(sk.score(Q), rel=1e-9)


def test_kmeans_relocates_empty_clusters_like_sklearn(device):
    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 8])
    # the third center is far from every point: its cluster starts empty
    init = np.array([[0.0, 0.0], [8.0, 8.0], [500.0, 500.0]])
    sk = skc.KMeans(3, init=init, n_init=1).fit(X)
    ours = KMeans(3, init=init).fit(_on(device, X))
    assert np.bincount(_np(ours.labels_), minlength=3).min() > 0
    np.testing.assert_allclose(_np(ours.cluster_centers_), sk.cluster_centers_, atol=1e-8)
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-10)


def test_kmeans_time_budget_and_verbose(device, blobs, capsys):
    X, _ = blobs
    ours = KMeans(8, init="random", n_init=5, max_iter=300, time_budget=1e-9,
                  random_state=0, verbose=1).fit(_on(device, X))
    assert ours.stopped_by_ == "time_budget"
    assert ours.n_iter_ == 0  # the budget was spent before the first Lloyd step
    assert _np(ours.labels_).shape == (len(X),)
    err = capsys.readouterr().err
    assert "time budget" in err and err.count("initialization") == 1  # no 2nd seeding
    KMeans(8, max_iter=3, tol=0, random_state=0, verbose=1).fit(_on(device, X))
    err = capsys.readouterr().err
    assert "iter 1/3" in err and "inertia=" in err


def test_kmeans_max_iter_stops(device, blobs):
    X, _ = blobs
    ours = KMeans(8, init="random", n_init=1, max_iter=2, tol=0, random_state=0)
    ours.fit(_on(device, X))
    assert ours.n_iter_ == 2 and ours.stopped_by_ == "max_iter"


def test_kmeans_small_blocks(device, blobs, monkeypatch):
    X, _ = blobs
    ref = KMeans(8, random_state=4).fit(_on(device, X))
    monkeypatch.setattr(nbmod, "BLOCK_BYTES", 2000)
    monkeypatch.setattr(nbmod, "GPU_BLOCK_BYTES", 2000)
    small = KMeans(8, random_state=4).fit(_on(device, X))
    np.testing.assert_array_equal(_np(small.labels_), _np(ref.labels_))
    assert small.inertia_ == pytest.approx(ref.inertia_, rel=1e-12)
    # predict's blocks on threads (CPU): the one-thread labels and distances
    Xd, C = _on(device, X), small.cluster_centers_
    xp = get_device(device).xp
    xsq = clmod._sq_norms(xp, Xd)
    one = clmod._min_sq_dist(xp, Xd, xsq, C, 1)
    many = clmod._min_sq_dist(xp, Xd, xsq, C, 4)
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(_np(a), _np(b))
    np.testing.assert_array_equal(_np(small.predict(Xd)), _np(small.labels_))


def test_kmeans_inputs_and_float32(device, blobs):
    X, _ = blobs
    cols = [f"c{i}" for i in range(X.shape[1])]
    frame = xpdb.DataFrame(pd.DataFrame(X, columns=cols), device=device)
    ours = KMeans(8, random_state=0).fit(frame)
    assert list(ours.get_feature_names_out()) == [f"kmeans{i}" for i in range(8)]
    labels = ours.fit_predict(frame)
    assert _is_on(device, labels)
    ref = KMeans(8, random_state=0).fit(pd.DataFrame(X, columns=cols))
    np.testing.assert_array_equal(_np(labels), _np(ref.labels_))
    km32 = KMeans(8, random_state=0).fit(_on(device, X.astype(np.float32)))
    assert km32.cluster_centers_.dtype == np.float32
    assert adjusted_rand_score(_np(km32.labels_), _np(ref.labels_)) > 0.99


def test_kmeans_errors(device, blobs):
    X = _on(device, blobs[0][:5])
    with pytest.raises(DataError, match="n_samples=5 should be >= n_clusters=6"):
        KMeans(6).fit(X)
    with pytest.raises(DataError, match="init='kmeans'"):
        KMeans(2, init="kmeans").fit(X)
    with pytest.raises(DataError, match=r"init has shape \(3, 6\)"):
        KMeans(2, init=np.zeros((3, 6))).fit(X)
    with pytest.raises(NotSupportedError, match="callable"):
        KMeans(2, init=lambda *a: None).fit(X)
    with pytest.raises(DataError, match="time_budget"):
        KMeans(2, time_budget=-1.0).fit(X)


# -- DBSCAN -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def density():
    rng = np.random.default_rng(5)
    return np.concatenate([
        rng.normal(size=(700, 2)) * 0.4, rng.normal(size=(600, 2)) * 0.5 + [3, 0],
        rng.normal(size=(300, 2)) * 0.3 + [0, 4], rng.uniform(-3, 6, size=(250, 2)),
    ]) + 30


@pytest.fixture(params=["one band", "bands"])
def sweep_bands(request, monkeypatch):
    """The portable sweep with one band (the default on small data) and cut into bands of
    a few rows along the second axis (the default on large data)."""
    if request.param == "bands":
        monkeypatch.setattr(clmod, "DBSCAN_BAND_ROWS", 8)
    return request.param


@pytest.mark.parametrize(("eps", "min_samples"), [(0.3, 5), (0.5, 12), (0.15, 3)])
def test_dbscan_labels_equal_sklearn(device, density, eps, min_samples, sweep_bands):
    sk = skc.DBSCAN(eps=eps, min_samples=min_samples).fit(density)
    ours = DBSCAN(eps=eps, min_samples=min_samples).fit(_on(device, density))
    assert _is_on(device, ours.labels_)
    assert len(set(sk.labels_)) > 2 and (sk.labels_ == -1).any()
    # same numbering, not just the same partition
    np.testing.assert_array_equal(_np(ours.labels_), sk.labels_)
    np.testing.assert_array_equal(_np(ours.core_sample_indices_), sk.core_sample_indices_)
    np.testing.assert_array_equal(_np(ours.components_), sk.components_)


def test_dbscan_weights_metrics_and_paths(device, density, monkeypatch, sweep_bands):
    w = np.random.default_rng(0).uniform(0.3, 2.5, len(density))
    sk = skc.DBSCAN(eps=0.25, min_samples=6).fit(density, sample_weight=w)
    ours = DBSCAN(eps=0.25, min_samples=6).fit(_on(device, density),
                                                sample_weight=_on(device, w))
    np.testing.assert_array_equal(_np(ours.labels_), sk.labels_)
    sk = skc.DBSCAN(eps=0.3, min_samples=5, metric="manhattan").fit(density)
    ours = DBSCAN(eps=0.3, min_samples=5, metric="manhattan").fit(_on(device, density))
    np.testing.assert_array_equal(_np(ours.labels_), sk.labels_)
    # cosine: the sweep reach between unit rows is sqrt(2 eps), not eps
    rng = np.random.default_rng(5)
    ang = np.concatenate([rng.normal(0, 0.05, 300), rng.normal(1.5, 0.08, 300),
                          rng.uniform(0, 6.28, 100)])
    r = rng.uniform(0.5, 3, len(ang))
    Xa = np.stack([r * np.cos(ang), r * np.sin(ang), rng.normal(0, 0.05, len(ang))], axis=1)
    sk = skc.DBSCAN(eps=0.005, min_samples=5, metric="cosine").fit(Xa)
    assert len(set(sk.labels_)) > 3
    ours = DBSCAN(eps=0.005, min_samples=5, metric="cosine").fit(_on(device, Xa))
    np.testing.assert_array_equal(_np(ours.labels_), sk.labels_)
    # no stored edge list (components recomputed by blocks) and tiny blocks: same labels
    sk = skc.DBSCAN(eps=0.3, min_samples=5).fit(density)
    monkeypatch.setattr(clmod, "DBSCAN_EDGE_BYTES", 0)
    monkeypatch.setattr(nbmod, "BLOCK_BYTES", 50_000)
    monkeypatch.setattr(nbmod, "GPU_BLOCK_BYTES", 50_000)
    labels = DBSCAN(eps=0.3, min_samples=5).fit_predict(_on(device, density))
    assert _is_on(device, labels)
    np.testing.assert_array_equal(_np(labels), sk.labels_)


def test_dbscan_threads_give_the_same_clusters(device, density, monkeypatch, sweep_bands):
    """Sweep blocks compared side by side on the CPU (n_jobs), with and without the
    stored edge list and with weights: the one-thread labels; n_jobs is checked on every
    device."""
    monkeypatch.setattr(nbmod, "BLOCK_BYTES", 50_000)  # many sweep blocks
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(density))
    for edges in (clmod.DBSCAN_EDGE_BYTES, 0):
        monkeypatch.setattr(clmod, "DBSCAN_EDGE_BYTES", edges)
        for sw in (None, w):
            one = DBSCAN(eps=0.3, min_samples=5).fit(
                _on(device, density), sample_weight=None if sw is None else _on(device, sw))
            many = DBSCAN(eps=0.3, min_samples=5, n_jobs=4).fit(
                _on(device, density), sample_weight=None if sw is None else _on(device, sw))
            assert len(set(_np(one.labels_).tolist())) > 2
            np.testing.assert_array_equal(_np(many.labels_), _np(one.labels_))
            np.testing.assert_array_equal(_np(many.core_sample_indices_),
                                          _np(one.core_sample_indices_))
    with pytest.raises(DataError, match="n_jobs=1.5 must be a nonzero integer"):
        DBSCAN(n_jobs=1.5).fit(_on(device, density))


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_dbscan_bands_cover_every_pair_within_eps(metric, monkeypatch):
    """The banded sweep's blocks hold every pair of rows within eps (the invariant behind
    the labels), on rows cut into many bands, with tasks of few rows."""
    rng = np.random.default_rng(11)
    X = np.concatenate([rng.normal(size=(400, 3)), rng.uniform(-4, 4, (300, 3))]) + 2.0
    eps = {"euclidean": 0.6, "manhattan": 0.9, "cosine": 0.01}[metric]
    m = nbmod._Metric.from_params(metric, None, "DBSCAN")
    P, _ = m.prepare(np, X - X.mean(axis=0) if metric == "euclidean" else X)
    axes = clmod._sweep_axes(np, P)
    reach = (2 * eps) ** 0.5 if metric == "cosine" else eps
    reach += 1e-9
    key, y = P @ axes[0], P @ axes[1]
    monkeypatch.setattr(clmod, "DBSCAN_BAND_ROWS", 8)
    band = clmod._bands(np, y, reach)
    assert len(np.unique(band)) >= 4
    order = np.lexsort((key, band))
    P, key, band = P[order], key[order], band[order]
    sweep = clmod._Sweep(np, band, key, band, key, reach, 8 * 3, 8 * 3 * 40)
    covered = np.zeros((len(P), len(P)), dtype=bool)
    rows_seen = np.zeros(len(P), dtype=int)
    for r0, r1, runs in sweep.tasks:
        rows_seen[r0:r1] += 1
        assert len(runs) <= 3
        for c0, c1 in runs:
            covered[r0:r1, c0:c1] = True
    assert (rows_seen == 1).all()  # the tasks cut the rows, each row once
    if metric == "cosine":
        dist = 1 - P @ P.T
    elif metric == "manhattan":
        dist = np.abs(P[:, None, :] - P[None, :, :]).sum(-1)
    else:
        dist = np.sqrt(((P[:, None, :] - P[None, :, :]) ** 2).sum(-1))
    within = dist <= eps
    assert within.sum() > 3 * len(P)  # real neighbourhoods, not only the diagonal
    assert not (within & ~covered).any()
    assert covered.mean() < 0.5  # and the bands prune: far from all pairs


def test_dbscan_chain_needs_many_hooking_rounds(device, sweep_bands):
    # one long chain of points, listed in shuffled order: a single cluster in the end
    x = np.arange(400, dtype=np.float64)
    order = np.random.default_rng(1).permutation(len(x))
    X = np.stack([x[order], np.zeros(len(x))], axis=1)
    sk = skc.DBSCAN(eps=1.0, min_samples=2).fit(X)
    ours = DBSCAN(eps=1.0, min_samples=2).fit(_on(device, X))
    assert set(sk.labels_) == {0}
    np.testing.assert_array_equal(_np(ours.labels_), sk.labels_)


def test_dbscan_all_noise_isolated_points_and_errors(device, density, sweep_bands):
    ours = DBSCAN(eps=1e-6, min_samples=2).fit(_on(device, density))
    assert (_np(ours.labels_) == -1).all() and ours.components_.shape == (0, 2)
    # far outliers have no row at all within reach along the sweep coordinate
    X = np.concatenate([density, [[500.0, 30.0], [-400.0, 30.0]]])
    sk = skc.DBSCAN(eps=0.3, min_samples=4).fit(X)
    np.testing.assert_array_equal(_np(DBSCAN(eps=0.3, min_samples=4).fit(_on(device, X))
                                      .labels_), sk.labels_)
    with pytest.raises(DataError, match="eps"):
        DBSCAN(eps=0.0).fit(_on(device, density))
    with pytest.raises(NotSupportedError, match="chebyshev"):
        DBSCAN(metric="chebyshev").fit(_on(device, density))


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_dbscan_degenerate_shapes_match_sklearn(device, metric, sweep_bands):
    """The sweep direction on degenerate data: one row, one feature, identical rows, and
    rows spread along a diagonal (the widest direction is no coordinate)."""
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 10, 300)
    diagonal = np.stack([t, t + rng.normal(0, 0.05, 300), -t], axis=1) + 1.0
    cases = [np.array([[1.0, 2.0]]), rng.uniform(0, 5, (200, 1)) + 1.0,
             np.ones((20, 3)), diagonal]
    for X in cases:
        for eps in (0.05, 0.3):
            sk = skc.DBSCAN(eps=eps, min_samples=3, metric=metric).fit(X)
            ours = DBSCAN(eps=eps, min_samples=3, metric=metric).fit(_on(device, X))
            np.testing.assert_array_equal(_np(ours.labels_), sk.labels_)


def test_registered_in_xpdb_ml():
    import xpdb.ml

    found = dict(xpdb.ml.all_estimators())
    for name in ['KMeans', 'DBSCAN']:
        assert getattr(xpdb.ml, name) is found[name]
