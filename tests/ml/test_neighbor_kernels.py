"""DBSCAN's fused radius-neighbour CUDA kernels, run on the CPU through
:mod:`xpdb.kernels.emulate`, against the portable blocked path and scikit-learn (the GPU
machine runs the real kernels through test_cluster.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.datasets import make_blobs

from xpdb.kernels import emulate
from xpdb.ml import DBSCAN, cluster
from xpdb.ml import _neighbor_kernels as nk

pytestmark = pytest.mark.skipif(not emulate.available(), reason="needs g++ to emulate kernels")


class _Emulated(nk.RadiusNeighbors):
    """The kernels on NumPy arrays through the emulator."""

    def __init__(self, xp, *args, **kwargs):
        super().__init__(emulate.emulated_cupy(), *args, **kwargs)


@pytest.fixture
def fused(monkeypatch):
    """DBSCAN.fit on NumPy takes the fused-kernel path, emulated."""
    monkeypatch.setattr(nk, "usable", lambda xp, X, metric: metric in ("euclidean", "cosine"))
    monkeypatch.setattr(nk, "RadiusNeighbors", _Emulated)
    return monkeypatch


def _data(seed: int, n: int = 500, d: int = 4, dtype=np.float64):
    X, _ = make_blobs(n, n_features=d, centers=5, cluster_std=0.8, random_state=seed)
    return np.ascontiguousarray(X, dtype=dtype)


def _fit(X, **kw):
    return DBSCAN(**kw).fit(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("metric,eps", [("euclidean", 0.6), ("cosine", 0.002)])
def test_fused_matches_portable_and_sklearn(fused, dtype, metric, eps):
    X = _data(0, dtype=dtype)
    got = _fit(X, eps=eps, min_samples=5, metric=metric)
    fused.undo()
    ref = _fit(X, eps=eps, min_samples=5, metric=metric)
    np.testing.assert_array_equal(got.labels_, ref.labels_)
    np.testing.assert_array_equal(got.core_sample_indices_, ref.core_sample_indices_)
    sk = SkDBSCAN(eps=eps, min_samples=5, metric=metric).fit(X.astype(np.float64))
    np.testing.assert_array_equal(got.labels_, sk.labels_)
    assert len(set(got.labels_.tolist()) - {-1}) >= 2 and (got.labels_ == -1).any()


def test_fused_with_weights_and_label_propagation(fused):
    # weights change which points are core; a tiny edge budget forces the label
    # propagation rounds instead of the edge list
    X = _data(1)
    w = np.random.default_rng(1).uniform(0.2, 2.0, X.shape[0])
    got = DBSCAN(eps=0.5, min_samples=4).fit(X, sample_weight=w)
    fused.setattr(cluster, "DBSCAN_EDGE_BYTES", 16 * 10)
    prop = DBSCAN(eps=0.5, min_samples=4).fit(X, sample_weight=w)
    sk = SkDBSCAN(eps=0.5, min_samples=4).fit(X, sample_weight=w)
    for est in (got, prop):
        np.testing.assert_array_equal(est.labels_, sk.labels_)
        np.testing.assert_array_equal(est.core_sample_indices_, sk.core_sample_indices_)


def test_fused_all_noise_and_one_row(fused):
    X = np.arange(20, dtype=np.float64).reshape(10, 2) * 10
    assert (DBSCAN(eps=1.0, min_samples=2).fit(X).labels_ == -1).all()
    assert DBSCAN(eps=1.0, min_samples=1).fit(X[:1]).labels_.tolist() == [0]
