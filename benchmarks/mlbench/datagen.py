"""Synthetic data like scikit-learn_bench's, generated fast on every core.

scikit-learn's ``make_classification``, ``make_regression`` and ``make_blobs`` run on one
core (``make_classification`` at 10M x 50 takes about a minute). These are simple
equivalents with the same laws, filled in fixed blocks of rows by a thread pool: NumPy's
``Generator`` releases the GIL while it fills an array, so 16 cores generate 16 times as
fast. Every block has its own seed spawned from the case seed, so the data does not depend
on the number of threads. The values are not scikit-learn's (different random streams).

- :func:`classification`: ``make_classification`` with ``n_clusters_per_class=2``: Gaussian
  clusters at random vertices of a hypercube of side ``2 * class_sep`` in the informative
  features (the first ones: the columns are not shuffled, which none of the benchmarked
  estimators notices), each skewed by its own random matrix, the other features pure
  noise, ``flip_y`` of the labels redrawn at random.
- :func:`regression`: ``make_regression``: standard normal features, a linear target on
  ``n_informative`` of them (coefficients uniform in [0, 100)) plus Gaussian noise.
- :func:`blobs`: ``make_blobs``: centers uniform in ``center_box``, labels uniform,
  isotropic Gaussian clusters.

Each returns ``(X, y)`` with ``n_train + n_test`` rows; the caller splits at ``n_train``
(rows are independent draws, so the split needs no shuffle).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

BLOCK_ROWS = 1 << 16


def _fill(n: int, seed: int, fill_block: Callable[[np.random.Generator, int, int], None],
          threads: int | None = None) -> None:
    """Call ``fill_block(rng, start, stop)`` for every block of rows, on a thread pool."""
    blocks = [(s, min(s + BLOCK_ROWS, n)) for s in range(0, n, BLOCK_ROWS)]
    seeds = np.random.SeedSequence(seed).spawn(len(blocks))
    workers = max(1, min(threads or os.cpu_count() or 1, len(blocks)))
    if workers == 1:
        for (s, e), ss in zip(blocks, seeds, strict=True):
            fill_block(np.random.default_rng(ss), s, e)
        return
    # one BLAS thread per block: the pool already uses every core
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(fill_block, np.random.default_rng(ss), s, e)
                   for (s, e), ss in zip(blocks, seeds, strict=True)]
        for f in futures:
            f.result()


def classification(n: int, n_features: int, *, n_classes: int = 2, n_informative: int | None = None,
                   class_sep: float = 1.0, n_clusters_per_class: int = 2, flip_y: float = 0.01,
                   seed: int = 0, dtype: Any = np.float32,
                   threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``make_classification``-like data: ``(X (n, n_features) dtype, y (n,) int64)``."""
    n_inf = n_features // 2 if n_informative is None else n_informative
    n_inf = max(1, min(n_inf, n_features))
    rng = np.random.default_rng(seed)
    n_clusters = n_classes * n_clusters_per_class
    vertices = rng.choice([-1.0, 1.0], size=(n_clusters, n_inf)) * class_sep
    skews = 2 * rng.random((n_clusters, n_inf, n_inf)) - 1
    X = np.empty((n, n_features), dtype=dtype)
    y = np.empty(n, dtype=np.int64)

    def block(g: np.random.Generator, s: int, e: int) -> None:
        b = e - s
        cluster = g.integers(0, n_clusters, size=b)
        # every column standard normal (the noise as it stays), then the informative
        # ones skewed and moved to their cluster's vertex
        g.standard_normal(dtype=X.dtype, out=X[s:e])
        z = X[s:e, :n_inf].astype(np.float64)
        for c in range(n_clusters):  # a few clusters: one matrix product each
            rows = np.flatnonzero(cluster == c)
            z[rows] = z[rows] @ skews[c] + vertices[c]
        X[s:e, :n_inf] = z
        labels = cluster % n_classes
        flip = g.random(b) < flip_y
        labels[flip] = g.integers(0, n_classes, size=int(flip.sum()))
        y[s:e] = labels

    _fill(n, seed + 1, block, threads)
    return X, y


def regression(n: int, n_features: int, *, n_informative: int | None = None,
               noise: float = 1.0, seed: int = 0, dtype: Any = np.float64,
               threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``make_regression``-like data: ``(X (n, n_features) dtype, y (n,) float64)``."""
    n_inf = min(n_features, 10 if n_informative is None else n_informative)
    rng = np.random.default_rng(seed)
    coef = np.zeros(n_features)
    coef[rng.permutation(n_features)[:n_inf]] = 100 * rng.random(n_inf)
    X = np.empty((n, n_features), dtype=dtype)
    y = np.empty(n, dtype=np.float64)

    def block(g: np.random.Generator, s: int, e: int) -> None:
        x = g.standard_normal((e - s, n_features), dtype=X.dtype)
        X[s:e] = x
        y[s:e] = x @ coef + noise * g.standard_normal(e - s)

    _fill(n, seed + 1, block, threads)
    return X, y


def blobs(n: int, n_features: int, *, centers: int = 10, cluster_std: float = 1.0,
          center_box: tuple[float, float] = (-10.0, 10.0), seed: int = 0,
          dtype: Any = np.float32, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``make_blobs``-like data: ``(X (n, n_features) dtype, y (n,) int64)``."""
    rng = np.random.default_rng(seed)
    where = rng.uniform(center_box[0], center_box[1], size=(centers, n_features))
    X = np.empty((n, n_features), dtype=dtype)
    y = np.empty(n, dtype=np.int64)

    def block(g: np.random.Generator, s: int, e: int) -> None:
        labels = g.integers(0, centers, size=e - s)
        X[s:e] = where[labels] + cluster_std * g.standard_normal((e - s, n_features))
        y[s:e] = labels

    _fill(n, seed + 1, block, threads)
    return X, y


def knn_reference(X: np.ndarray, Q: np.ndarray, k: int, chunk: int = 1 << 14) -> np.ndarray:
    """Exact k nearest rows of ``X`` (euclidean, float64) for each query of ``Q``, sorted by
    distance: the oracle for neighbour recall. Chunks of ``X`` bound the memory."""
    Qd = Q.astype(np.float64)
    qq = (Qd * Qd).sum(axis=1)[:, None]
    best_d = np.full((Q.shape[0], 0), np.inf)
    best_i = np.zeros((Q.shape[0], 0), dtype=np.int64)
    for s in range(0, X.shape[0], chunk):
        Xc = X[s:s + chunk].astype(np.float64)
        d = qq - 2 * Qd @ Xc.T + (Xc * Xc).sum(axis=1)[None, :]
        kk = min(k, d.shape[1])
        part = np.argpartition(d, kk - 1, axis=1)[:, :kk]
        d = np.concatenate([best_d, np.take_along_axis(d, part, axis=1)], axis=1)
        i = np.concatenate([best_i, part + s], axis=1)
        kk = min(k, d.shape[1])
        part = np.argpartition(d, kk - 1, axis=1)[:, :kk]
        best_d = np.take_along_axis(d, part, axis=1)
        best_i = np.take_along_axis(i, part, axis=1)
    order = np.argsort(best_d, axis=1, kind="stable")
    return np.take_along_axis(best_i, order, axis=1)


def kth_neighbor_distance(X: np.ndarray, k: int, sample: int = 500, seed: int = 0) -> float:
    """Median, over a sample of rows, of the distance to the ``k``-th nearest other row:
    a DBSCAN ``eps`` that gives a typical point about ``k`` neighbours at any data size."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(X.shape[0], size=min(sample, X.shape[0]), replace=False)
    kk = min(k + 1, X.shape[0])  # the row itself is its own nearest neighbour
    idx = knn_reference(X, X[rows], kk)
    far = X[idx[:, -1]].astype(np.float64) - X[rows].astype(np.float64)
    return float(np.median(np.sqrt((far * far).sum(axis=1))))
