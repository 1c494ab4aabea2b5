"""Clustering on ``xp``: KMeans (Lloyd; k-means++, k-means|| and random seeding) and DBSCAN.

Both are written once against the array namespace of the data, with every pass over the rows
done in blocks (see :data:`xpdb.ml.neighbors.BLOCK_BYTES`), so memory stays bounded: no
n x n distance matrix is ever built.

- **KMeans**: each Lloyd step computes, per row block, the distances to the centers by one
  matrix product (``||x||^2 - 2 x.c + ||c||^2``), the nearest center, and the per-cluster
  sums by a second product with the block's one-hot assignment. Seeding is scikit-learn's
  greedy k-means++ (several local trials per center), ``"random"``, or the scalable
  k-means|| of Bahmani et al. (a few rounds of independent oversampling, then weighted
  k-means++ and Lloyd on the candidates).
- **DBSCAN**: rows are sorted along their widest direction (the top principal axis), so
  each block of consecutive rows is compared only with the contiguous run of rows within
  ``eps`` along it (a sweep; all pairs only when the data is that dense). The portable
  path also cuts the rows into bands along the second axis, so a block meets the rows of
  three bands only (on scikit-learn_bench's blobs, 500k x 10, a few times fewer pairs), and
  runs its blocks on ``n_jobs`` threads on the CPU. eps-neighbour counts give the core points;
  the clusters are the connected components of the core-core eps graph, found by
  union-find hooking on the device (each root hooks under the smallest root it touches,
  then pointer jumping) over the stored edge list, or by recomputing the blocks each round
  when the edges would not fit in :data:`DBSCAN_EDGE_BYTES`; border points join the
  smallest neighbouring cluster and the rest is noise (-1). Labels are numbered as
  scikit-learn numbers them, so they equal its labels, not just the partition.

Examples
--------
>>> import numpy as np
>>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
>>> round(KMeans(n_clusters=2, random_state=0).fit(X).inertia_, 6)
0.01
>>> DBSCAN(eps=0.5, min_samples=2).fit(X).labels_.tolist()
[0, 0, 1, 1]
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ..device import device_of, get_device
from ..errors import NotSupportedError
from ..kernels._xp import is_numpy, scatter_min, stable_argsort
from . import _neighbor_kernels as _nk
from ._data import (
    DataError,
    IterationLog,
    Twin,
    as_1d,
    check_is_fitted,
    column_means,
    column_vars,
    to_device,
    to_output,
    validate_data,
)
from ._threads import every_core, map_blocks, n_threads
from .neighbors import _budget, _Metric, _row_blocks

__all__ = ["DBSCAN", "KMeans"]

#: Rounds of oversampling in the k-means|| seeding (Bahmani et al. find ~5 enough).
KMEANS_PARALLEL_ROUNDS = 5
#: Weighted Lloyd iterations run on the k-means|| candidates after k-means++ on them.
KMEANS_PARALLEL_REFINE = 30


# -- k-means kernels ------------------------------------------------------------------------
def _sq_norms(xp: Any, X: Any) -> Any:
    return xp.einsum("ij,ij->i", X, X)


def _min_sq_dist(xp: Any, X: Any, x_sq: Any, C: Any, threads: int = 1) -> tuple[Any, Any]:
    """Index of the nearest row of ``C`` and the squared distance to it, per row of ``X``
    (``x_sq``: the rows' squared norms; None asks for the indices only, and the distance
    is None). On the CPU, ``threads`` threads take blocks of rows side by side (rows are
    independent: the same answer for any block size)."""
    n = X.shape[0]
    labels = xp.empty(n, dtype=np.int64)
    dist = None if x_sq is None else xp.empty(n, dtype=X.dtype)
    c_sq = _sq_norms(xp, C)
    row_bytes = C.shape[0] * X.dtype.itemsize * 2
    budget = _budget(xp)
    if threads > 1 and is_numpy(xp):
        # at least one block per thread, of 1,024 rows or more
        budget = min(budget, row_bytes * max(1024, -(-n // threads)))

    def block(b: slice) -> None:
        D = X[b] @ C.T
        D *= -2
        D += c_sq[None, :]
        lab = xp.argmin(D, axis=1)
        labels[b] = lab
        if dist is not None:
            near = xp.take_along_axis(D, lab[:, None], axis=1)[:, 0]
            dist[b] = xp.maximum(near + x_sq[b], 0)

    map_blocks(xp, block, _row_blocks(n, row_bytes, budget), threads)
    return labels, dist


def _lloyd_step(xp: Any, X: Any, x_sq: Any, w: Any, C: Any) -> tuple[Any, Any, Any, Any]:
    """One E-step plus the sums of the M-step: ``(labels, sq_dist, sums, weights)``.

    Per row block, one product gives the distances and a second one (the block's weighted
    one-hot assignment, transposed, times the rows) the per-cluster sums, so no scatter
    with colliding writes is needed on the GPU.
    """
    n = X.shape[0]
    k = C.shape[0]
    labels = xp.empty(n, dtype=np.int64)
    dist = xp.empty(n, dtype=X.dtype)
    sums = xp.zeros_like(C)
    counts = xp.zeros(k, dtype=X.dtype)
    c_sq = _sq_norms(xp, C)
    ks = xp.arange(k)
    for b in _row_blocks(n, k * X.dtype.itemsize * 3, _budget(xp)):
        Xb = X[b]
        D = Xb @ C.T
        D *= -2
        D += c_sq[None, :]
        lab = xp.argmin(D, axis=1)
        labels[b] = lab
        dist[b] = xp.maximum(xp.take_along_axis(D, lab[:, None], axis=1)[:, 0] + x_sq[b], 0)
        onehot = (lab[:, None] == ks[None, :]).astype(X.dtype)
        onehot *= w[b][:, None]
        # as (X.T @ onehot).T: with OpenBLAS, onehot.T @ X (a short, very wide left
        # operand) runs over 10x slower than this layout
        sums += (Xb.T @ onehot).T
        counts += onehot.sum(axis=0)
    return labels, dist, sums, counts


def _relocate_empty(xp: Any, X: Any, w: Any, labels: Any, dist: Any, sums: Any,
                    counts: Any) -> None:
    """Move empty clusters to the points farthest from their centers, as scikit-learn does
    (the points leave their old clusters' sums). In place."""
    empty = xp.nonzero(counts == 0)[0]
    n_empty = int(empty.shape[0])
    if n_empty == 0:
        return
    far = xp.argsort(dist)[::-1][:n_empty]
    old = labels[far]
    k = counts.shape[0]
    onehot = (old[:, None] == xp.arange(k)[None, :]).astype(X.dtype) * w[far][:, None]
    sums -= (X[far].T @ onehot).T
    counts -= onehot.sum(axis=0)
    sums[empty] = X[far] * w[far][:, None]
    counts[empty] = w[far]


def _lloyd(xp: Any, X: Any, x_sq: Any, w: Any, centers: Any, max_iter: int, tol: float,
           log: IterationLog | None) -> tuple[Any, Any, Any, int]:
    """Lloyd iterations from ``centers``: ``(centers, labels, inertia, n_iter)``.

    Stops as scikit-learn: when the labels no longer change (strict convergence) or the
    total squared center shift falls to ``tol``; then one more E-step makes the labels
    agree with the final centers.
    """
    log = log or IterationLog("KMeans", max_iter)
    labels_old = None
    while log.next():
        labels, dist, sums, counts = _lloyd_step(xp, X, x_sq, w, centers)
        _relocate_empty(xp, X, w, labels, dist, sums, counts)
        new = sums / xp.where(counts > 0, counts, 1)[:, None]
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if log.verbose:
            log.log(inertia=float((dist * w).sum(dtype=np.float64)), center_shift=shift)
        if (labels_old is not None and bool((labels == labels_old).all())) or shift <= tol:
            log.converged()
            break
        labels_old = labels
    labels, dist = _min_sq_dist(xp, X, x_sq, centers)
    return centers, labels, (dist * w).sum(dtype=np.float64), log.n_iter


def _pick_by_weight(xp: Any, cum: Any, u: Any, side: str) -> Any:
    """Indices drawn with probability proportional to the increments of ``cum`` for uniform
    draws ``u`` in [0, 1) (device searchsorted, clipped to the last index)."""
    idx = xp.searchsorted(cum, xp.asarray(u) * cum[-1], side=side)
    return xp.minimum(idx, cum.shape[0] - 1)


def _kmeans_plusplus(xp: Any, X: Any, x_sq: Any, w: Any, k: int, rng: np.random.RandomState,
                     n_local_trials: int | None = None) -> Any:
    """Greedy k-means++ (scikit-learn's ``_kmeans_plusplus``): each new center is the best
    of ``2 + log(k)`` candidates drawn with probability proportional to ``w * D^2``."""
    d = X.shape[1]
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(k))
    centers = xp.empty((k, d), dtype=X.dtype)
    # the same draws and searches as scikit-learn, so one seed picks the same centers
    first = _pick_by_weight(xp, xp.cumsum(w), rng.uniform(size=1), "right")
    # index with 1-element arrays, never 0-d device arrays, and never sync to the host
    centers[0:1] = X[first]
    closest = xp.maximum(x_sq - 2 * (X @ centers[0]) + x_sq[first], 0)
    for c in range(1, k):
        u = rng.uniform(size=n_local_trials)
        cand = _pick_by_weight(xp, xp.cumsum(w * closest), u, "left")
        D = xp.maximum(x_sq[None, :] - 2 * (X[cand] @ X.T) + x_sq[cand][:, None], 0)
        D = xp.minimum(closest[None, :], D, out=D)
        pots = D @ w
        best = xp.argmin(pots).reshape(1)
        closest = D[best][0]
        centers[c:c + 1] = X[cand[best]]
    return centers


def _kmeans_parallel(xp: Any, X: Any, x_sq: Any, w: Any, k: int, rng: np.random.RandomState,
                     oversampling: float) -> Any:
    """k-means|| seeding (Bahmani et al., 2012): ``KMEANS_PARALLEL_ROUNDS`` rounds keep each
    point independently with probability ``min(1, l * w * D^2 / phi)``, ``l = oversampling *
    k``; the candidates, weighted by the points nearest to them, are reduced to ``k`` centers
    by k-means++ and a few weighted Lloyd steps."""
    n = X.shape[0]
    dev_rng = xp.random.RandomState(int(rng.randint(0, 2**31 - 1)))
    first = _pick_by_weight(xp, xp.cumsum(w), rng.uniform(size=1), "right")
    cand = X[first]
    dist = xp.maximum(x_sq - 2 * (X @ cand[0]) + x_sq[first], 0)
    ell = oversampling * k
    for _ in range(KMEANS_PARALLEL_ROUNDS):
        phi = (w * dist).sum()
        if float(phi) == 0:
            break
        p = xp.minimum(ell * w * dist / phi, 1)
        chosen = xp.nonzero(dev_rng.uniform(size=n) < p)[0]
        if int(chosen.shape[0]) == 0:
            continue
        new = X[chosen]
        _, d_new = _min_sq_dist(xp, X, x_sq, new)
        dist = xp.minimum(dist, d_new)
        cand = xp.concatenate([cand, new], axis=0)
    if cand.shape[0] <= k:
        # too few candidates (tiny or highly duplicated data): seed on all the points
        return _kmeans_plusplus(xp, X, x_sq, w, k, rng)
    labels, _ = _min_sq_dist(xp, X, x_sq, cand)
    cw = xp.bincount(labels, weights=w, minlength=cand.shape[0]).astype(X.dtype)
    c_sq = _sq_norms(xp, cand)
    centers = _kmeans_plusplus(xp, cand, c_sq, cw, k, rng)
    centers, _, _, _ = _lloyd(xp, cand, c_sq, cw, centers, KMEANS_PARALLEL_REFINE, 0.0,
                              IterationLog("KMeans k-means||", KMEANS_PARALLEL_REFINE))
    return centers


# -- KMeans ---------------------------------------------------------------------------------
class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """K-means clustering (Lloyd) that runs where the data lives; scikit-learn's ``KMeans``.

    Parameters
    ----------
    n_clusters : int, default 8
    init : {"k-means++", "k-means||", "random"} or array of shape (n_clusters, n_features)
        Seeding. ``"k-means++"`` is scikit-learn's greedy variant; ``"k-means||"`` is the
        scalable variant (a few passes over the data instead of ``n_clusters``); ``"random"``
        picks rows at random.
    n_init : int or "auto", default "auto"
        Seedings tried (the lowest inertia wins); "auto" is 1, or 10 for ``init="random"``.
    max_iter : int, default 300
        Lloyd iterations per seeding.
    tol : float, default 1e-4
        Convergence when the total squared center shift is at most ``tol`` times the mean
        feature variance.
    verbose : int, default 0
        Print one line per iteration (inertia, center shift, time) to stderr.
    random_state : int, RandomState or None
    copy_x : bool, default True
        Accepted for compatibility; the data is never modified.
    algorithm : {"lloyd", "elkan"}, default "lloyd"
        "elkan" is accepted and runs Lloyd (same result).
    time_budget : float, optional
        Seconds the whole fit may take: Lloyd stops when it is spent (keeping the best
        result so far) and no further seedings start.
    oversampling_factor : float, default 2.0
        Candidates per round of k-means|| as a multiple of ``n_clusters``.

    Attributes
    ----------
    cluster_centers_ : array (n_clusters, n_features), on the training data's device
    labels_ : array (n_samples,)
    inertia_ : float
        Sum of the weighted squared distances to the nearest center.
    n_iter_ : int
    stopped_by_ : {"tol", "max_iter", "time_budget"}
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.cluster.KMeans", "cluster", "ari", 0.05,
             {"n_clusters": 3, "random_state": 0, "n_init": 3}),
        Twin("sklearn.cluster.KMeans", "cluster", "ari", 0.05,
             {"n_clusters": 3, "random_state": 0, "init": "random", "n_init": 3}),
    )

    def __init__(self, n_clusters: int = 8, *, init: Any = "k-means++", n_init: Any = "auto",
                 max_iter: int = 300, tol: float = 1e-4, verbose: int = 0,
                 random_state: Any = None, copy_x: bool = True, algorithm: str = "lloyd",
                 time_budget: float | None = None, oversampling_factor: float = 2.0):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.time_budget = time_budget
        self.oversampling_factor = oversampling_factor

    def _check_params(self, n_samples: int, n_features: int) -> tuple[int, Any]:
        k = self.n_clusters
        if not (isinstance(k, (int, np.integer)) and k >= 1):
            raise DataError(f"KMeans: n_clusters={k!r} must be a positive integer")
        if n_samples < k:
            msg = (f"KMeans: n_samples={n_samples} should be >= n_clusters={k}; ask for "
                   "fewer clusters or pass more rows")
            raise DataError(msg)
        if self.algorithm not in ("lloyd", "elkan"):
            raise DataError(f"KMeans: algorithm={self.algorithm!r} must be 'lloyd' or 'elkan'")
        init = self.init
        if isinstance(init, str):
            if init not in ("k-means++", "k-means||", "random"):
                msg = (f"KMeans: init={init!r} must be 'k-means++', 'k-means||', 'random' or "
                       "an array of initial centers")
                raise DataError(msg)
        elif callable(init):
            raise NotSupportedError("KMeans: a callable init is not supported; pass an array")
        n_init = self.n_init
        if n_init == "auto":
            n_init = 10 if isinstance(init, str) and init == "random" else 1
        if not (isinstance(n_init, (int, np.integer)) and n_init >= 1):
            raise DataError(f"KMeans: n_init={self.n_init!r} must be a positive int or 'auto'")
        if not isinstance(init, str) and n_init != 1:
            if self.n_init != "auto":
                warnings.warn(f"KMeans: explicit initial centers given, so n_init={n_init} is "
                              "reduced to 1", RuntimeWarning, stacklevel=3)
            n_init = 1
        if self.tol < 0:
            raise DataError(f"KMeans: tol={self.tol!r} must be >= 0")
        if self.time_budget is not None and not self.time_budget > 0:
            msg = (f"KMeans: time_budget={self.time_budget!r} must be positive seconds or "
                   "None")
            raise DataError(msg)
        return int(n_init), init

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Cluster ``X`` (rows on any device); ``y`` is ignored.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
        """
        start = time.perf_counter()
        Xa, _, dev = validate_data(self, X, dtype="numeric")
        xp = dev.xp
        n, d = Xa.shape
        n_init, init = self._check_params(n, d)
        w = (xp.ones(n, dtype=Xa.dtype) if sample_weight is None
             else as_1d(sample_weight, dev, dtype=Xa.dtype, name="sample_weight"))
        if w.shape[0] != n:
            raise DataError(f"KMeans: sample_weight has {w.shape[0]} entries for {n} rows")
        rng = check_random_state(self.random_state)
        # tolerance relative to the data's spread, as scikit-learn's _tolerance
        mean = column_means(xp, Xa)
        tol = float(column_vars(xp, Xa, mean).mean()) * self.tol
        # centering makes the matrix-product distances lose less to cancellation
        Xc = Xa - mean
        x_sq = _sq_norms(xp, Xc)
        if not isinstance(init, str):
            init_arr = to_device(init if hasattr(init, "shape") else np.asarray(init),
                                 dev).astype(Xa.dtype)
            if tuple(init_arr.shape) != (self.n_clusters, d):
                msg = (f"KMeans: init has shape {tuple(init_arr.shape)}, expected "
                       f"{(self.n_clusters, d)} (n_clusters, n_features)")
                raise DataError(msg)
        best = None
        for run in range(n_init):
            left = None
            if self.time_budget is not None:
                left = self.time_budget - (time.perf_counter() - start)
                if left <= 0 and best is not None:
                    break
                left = max(left, 1e-9)
            if isinstance(init, str):
                if init == "k-means++":
                    centers = _kmeans_plusplus(xp, Xc, x_sq, w, self.n_clusters, rng)
                elif init == "k-means||":
                    centers = _kmeans_parallel(xp, Xc, x_sq, w, self.n_clusters, rng,
                                               self.oversampling_factor)
                else:
                    seeds = _pick_random(w, self.n_clusters, rng)
                    centers = Xc[xp.asarray(seeds)]
            else:
                centers = init_arr - mean
            if self.verbose:
                how = init if isinstance(init, str) else "array"
                print(f"[KMeans] initialization {run + 1}/{n_init} ({how}) complete "
                      f"({time.perf_counter() - start:.2f}s)", file=sys.stderr)
            log = IterationLog("KMeans", self.max_iter, left, self.verbose)
            centers, labels, inertia, n_iter = _lloyd(xp, Xc, x_sq, w, centers,
                                                     self.max_iter, tol, log)
            inertia = float(inertia)
            if best is None or inertia < best[2]:
                best = (centers, labels, inertia, n_iter, log.stopped_by)
        centers, labels, inertia, n_iter, stopped = best
        n_distinct = int(xp.unique(labels).shape[0])
        if n_distinct < self.n_clusters:
            warnings.warn(f"KMeans: number of distinct clusters ({n_distinct}) found smaller "
                          f"than n_clusters ({self.n_clusters}); possibly due to duplicate "
                          "points in X", ConvergenceWarning, stacklevel=2)
        self.cluster_centers_ = centers + mean
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.stopped_by_ = stopped
        self._n_features_out = self.n_clusters
        return self

    def _prepared(self, X: Any) -> tuple[Any, Any, Any]:
        check_is_fitted(self, ("cluster_centers_",))
        Xa, _, dev = validate_data(self, X, reset=False, dtype=self.cluster_centers_.dtype)
        return Xa, to_device(self.cluster_centers_, dev), dev.xp

    def predict(self, X: Any) -> Any:
        """Index of the nearest center for each row of ``X``."""
        Xa, C, xp = self._prepared(X)
        # the ranking needs no |x|^2; every core, as scikit-learn's OpenMP predict
        labels, _ = _min_sq_dist(xp, Xa, None, C, every_core("KMeans"))
        return to_output(labels, X)

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """``fit(X)`` then the training labels."""
        return to_output(self.fit(X, sample_weight=sample_weight).labels_, X)

    def transform(self, X: Any) -> Any:
        """Euclidean distances from each row of ``X`` to every center (n_samples, n_clusters)."""
        Xa, C, xp = self._prepared(X)
        metric = _Metric("euclidean")
        out = xp.empty((Xa.shape[0], C.shape[0]), dtype=Xa.dtype)
        c_aux = _sq_norms(xp, C)
        for b in _row_blocks(Xa.shape[0], C.shape[0] * Xa.dtype.itemsize * 2, _budget(xp)):
            out[b] = xp.sqrt(metric.reduced(xp, Xa[b], _sq_norms(xp, Xa[b]), C, c_aux))
        return to_output(out, X)

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Opposite of the inertia of ``X`` on the fitted centers (higher is better)."""
        Xa, C, xp = self._prepared(X)
        _, dist = _min_sq_dist(xp, Xa, _sq_norms(xp, Xa), C, every_core("KMeans"))
        if sample_weight is not None:
            dev = device_of(Xa)
            dist = dist * as_1d(sample_weight, dev, dtype=Xa.dtype, name="sample_weight")
        return -float(dist.sum(dtype=np.float64))


def _pick_random(w: Any, k: int, rng: np.random.RandomState) -> np.ndarray:
    """``k`` distinct rows drawn by weight, with scikit-learn's draws (host weights)."""
    p = to_device(w, get_device("cpu")).astype(np.float64)
    return rng.choice(p.shape[0], size=k, replace=False, p=p / p.sum())


# -- DBSCAN ---------------------------------------------------------------------------------
#: Bytes the core-core edge list of DBSCAN may take before it is recomputed by blocks.
DBSCAN_EDGE_BYTES = 1 << 31


def _compress(xp: Any, parent: Any) -> Any:
    """Pointer jumping until every entry points at its root."""
    while True:
        grand = parent[parent]
        if bool((grand == parent).all()):
            return parent
        parent = grand


def _components_from_edges(xp: Any, n: int, u: Any, v: Any) -> Any:
    """Root (smallest member) of each vertex's connected component, edges ``u``-``v``."""
    parent = xp.arange(n)
    while True:
        pu = parent[u]
        pv = parent[v]
        lo = xp.minimum(pu, pv)
        hi = xp.maximum(pu, pv)
        moving = lo != hi
        if not bool(moving.any()):
            return parent
        # hook each larger root under the smallest root it touches; roots only ever point
        # to smaller indices, so no cycle can form
        scatter_min(xp, parent, hi[moving], lo[moving])
        parent = _compress(xp, parent)


#: DBSCAN's portable sweep cuts the rows into bands along a second axis when they hold at
#: least this many rows each on average (fewer: the band bookkeeping outweighs the pairs
#: it saves).
DBSCAN_BAND_ROWS = 2048

Block = tuple[int, int, int, int]  # rows [r0, r1) against columns [c0, c1)


class _Sweep:
    """Rows sorted by (band, key), cut into tasks: a run of consecutive rows of one band,
    each compared with one contiguous run of columns in each band within reach.

    Two points within ``eps`` differ by at most ``reach`` along any unit direction, so a
    row's neighbours lie in its own band or the next band on either side (bands are at
    least ``reach`` wide), and within each of those at keys within ``reach`` of its own:
    columns sorted by (band, key) hold them in at most three contiguous runs. With a single
    band this is the plain one-axis sweep. Tasks are sized so that rows x their columns
    fits the byte budget; ``tasks`` lists ``(r0, r1, [(c0, c1), ...])`` (empty runs left
    out) and ``blocks`` the same flattened to ``(r0, r1, c0, c1)``.
    """

    def __init__(self, xp: Any, band_rows: Any, key_rows: Any, band_cols: Any, key_cols: Any,
                 reach: float, cell_bytes: int, budget: int):
        self.tasks: list[tuple[int, int, list[tuple[int, int]]]] = []
        n = int(key_rows.shape[0])
        if n == 0 or key_cols.shape[0] == 0:
            return

        def host(a: Any) -> np.ndarray:
            return np.asarray(to_device(a, get_device("cpu")))

        kr, kc, br, bc = host(key_rows), host(key_cols), host(band_rows), host(band_cols)
        # per row and band offset (-1, 0, +1): the run of columns within reach
        lo = np.zeros((n, 3), dtype=np.int64)
        hi = np.zeros((n, 3), dtype=np.int64)
        row_bands, row_starts = np.unique(br, return_index=True)
        row_ends = np.append(row_starts[1:], n)
        for b, rs, re in zip(row_bands.tolist(), row_starts.tolist(), row_ends.tolist(),
                             strict=True):
            for j, t in enumerate((b - 1, b, b + 1)):
                s0 = int(np.searchsorted(bc, t, side="left"))
                s1 = int(np.searchsorted(bc, t, side="right"))
                seg = kc[s0:s1]
                lo[rs:re, j] = s0 + np.searchsorted(seg, kr[rs:re] - reach, side="left")
                hi[rs:re, j] = s0 + np.searchsorted(seg, kr[rs:re] + reach, side="right")
        cap = max(int(budget // max(cell_bytes, 1)), 1)
        for rs, re in zip(row_starts.tolist(), row_ends.tolist(), strict=True):
            start = rs
            while start < re:
                # the largest end (within the band) whose task fits: its cost grows with
                # end, so bisect (a loop over tasks, not rows)
                a, z = start + 1, re
                while a < z:
                    mid = (a + z + 1) // 2
                    if (mid - start) * int((hi[mid - 1] - lo[start]).sum()) <= cap:
                        a = mid
                    else:
                        z = mid - 1
                runs = [(int(lo[start, j]), int(hi[a - 1, j])) for j in range(3)]
                self.tasks.append((start, a, [(c0, c1) for c0, c1 in runs if c1 > c0]))
                start = a

    @property
    def blocks(self) -> list[Block]:
        return [(r0, r1, c0, c1) for r0, r1, runs in self.tasks for c0, c1 in runs]


def _sweep_axes(xp: Any, P: Any) -> list[Any]:
    """Unit vectors of the two widest spreads of the rows ``P`` (top eigenvectors of their
    covariance, float64; coordinate axes for fewer than two rows or no spread); one vector
    for one feature."""
    n, d = P.shape

    def axis(i: int) -> Any:
        u = xp.zeros(d, dtype=np.float64)
        u[i] = 1.0
        return u

    if n < 2 or d == 1:
        return [axis(i) for i in range(min(d, 2))]
    # an evenly strided sample of at most 65,536 rows serves: any unit vectors give exact
    # windows, the widest ones only narrower ones
    S = P[:: max(1, -(-n // 65536))].astype(np.float64)
    Q = S - S.mean(axis=0)
    cov = (Q.T @ Q) / S.shape[0]
    _, vecs = xp.linalg.eigh(cov)
    out = []
    for i, col in enumerate((-1, -2)):
        u = vecs[:, col]
        norm = float(xp.sqrt((u * u).sum()))
        out.append(u / norm if norm > 0 and bool(xp.isfinite(u).all()) else axis(i))
    return out


def _bands(xp: Any, y: Any, reach: float) -> Any:
    """Band of each row along the projections ``y``: bands at least ``reach`` wide (a hair
    more, so rounding cannot put rows within reach two bands apart), as many as leave
    :data:`DBSCAN_BAND_ROWS` rows a band on average; all zeros when fewer than three bands
    would result (two bands see each other whole: nothing saved)."""
    n = int(y.shape[0])
    zeros = xp.zeros(n, dtype=np.int64)
    if n == 0:
        return zeros
    y_min = float(y.min())
    spread = float(y.max()) - y_min
    width = reach * (1 + 1e-6)
    count = int(min(spread / width, n / DBSCAN_BAND_ROWS)) if width > 0 else 0
    if count < 3:
        return zeros
    band = xp.floor((y - y_min) * (count / spread)).astype(np.int64)
    return xp.clip(band, 0, count - 1)


def _number_clusters(xp: Any, root: Any, orig: Any, n: int) -> Any:
    """Cluster label of each core point from its component root: clusters are numbered by
    their first core row in the input order (``orig``: input row of each core point), as
    scikit-learn's scan numbers them."""
    nc = int(root.shape[0])
    first = xp.full(nc, n, dtype=orig.dtype)
    scatter_min(xp, first, root, orig)
    roots = xp.nonzero(root == xp.arange(nc))[0]
    rank = xp.empty(nc, dtype=np.int64)
    rank[roots[xp.argsort(first[roots])]] = xp.arange(roots.shape[0])
    return rank[root]


def _dbscan_fused(xp: Any, P: Any, aux: Any, key: Any, ws: Any, thr: float, reach: float,
                  cosine: bool, order: Any, min_samples: int) -> tuple[Any, Any]:
    """DBSCAN's three phases with the fused GPU kernels (:mod:`._neighbor_kernels`): the
    same sweep windows as the portable path, without storing any distance block.

    Returns the core positions and the labels, both in sweep order.
    """
    n = int(P.shape[0])
    rn = _nk.RadiusNeighbors(xp, P, aux, thr, cosine)
    everyone = xp.arange(n, dtype=np.int64)

    def windows(rows_key: Any, cols_key: Any) -> tuple[Any, Any]:
        return (xp.searchsorted(cols_key, rows_key - reach, side="left").astype(np.int64),
                xp.searchsorted(cols_key, rows_key + reach, side="right").astype(np.int64))

    # 1. weighted neighbour counts -> core points
    n_nbrs, wsum = rn.counts(everyone, everyone, *windows(key, key), w=ws)
    core = (n_nbrs if ws is None else wsum) >= min_samples
    core_pos = xp.nonzero(core)[0].astype(np.int64)
    nc = int(core_pos.shape[0])
    labels_sorted = xp.full(n, -1, dtype=np.int64)
    if not nc:
        return core_pos, labels_sorted
    # 2. components of the core graph: from its edges when they fit, else by label
    # propagation (each round hooks every root under its members' smallest neighbour root)
    core_key = key[core_pos]
    clo, chi = windows(core_key, core_key)
    pairs = rn.edges(core_pos, core_pos, clo, chi, DBSCAN_EDGE_BYTES // 16)
    if pairs is not None:
        root = _components_from_edges(xp, nc, *pairs)
    else:
        root = xp.arange(nc, dtype=np.int64)
        while True:
            low = rn.min_label(core_pos, core_pos, clo, chi, root)
            moving = low < root
            if not bool(moving.any()):
                break
            scatter_min(xp, root, root[moving], low[moving])
            root = _compress(xp, root)
    core_labels = _number_clusters(xp, root, order[core_pos], n)
    labels_sorted[core_pos] = core_labels
    # 3. border points join the smallest neighbouring cluster; the rest is noise
    other = xp.nonzero(~core)[0].astype(np.int64)
    if other.shape[0]:
        lab = rn.min_label(other, core_pos, *windows(key[other], core_key), core_labels)
        labels_sorted[other] = xp.where(lab == np.iinfo(np.int64).max, -1, lab)
    return core_pos, labels_sorted


class DBSCAN(ClusterMixin, BaseEstimator):
    """Density-based clustering (scikit-learn's ``DBSCAN``) with bounded memory on ``xp``.

    Parameters
    ----------
    eps : float, default 0.5
        Neighbourhood radius (inclusive).
    min_samples : int, default 5
        Weight (count) of a neighbourhood, the point itself included, that makes a core
        point.
    metric : {"euclidean", "manhattan", "cosine", "minkowski"}, default "euclidean"
    metric_params : dict, optional
        Unused.
    algorithm : str, default "auto"
        Accepted for compatibility; neighbourhoods are always found by the blocked sweep
        (exact distances, see the module notes).
    leaf_size : int, default 30
        Unused.
    p : float, optional
        Minkowski power (1 or 2).
    n_jobs : int, optional
        Threads comparing blocks of the sweep side by side on the CPU (joblib's counting:
        None is 1, -1 every core; each holds its own distance block). The clusters are the
        same for every value. Ignored on the GPU.

    Attributes
    ----------
    labels_ : array (n_samples,)
        Cluster of each row, -1 for noise; numbered as scikit-learn numbers them (by the
        first core point of each cluster).
    core_sample_indices_ : array
    components_ : array (n_core_samples, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2], [2, 2], [2, 3], [8, 7], [8, 8], [25, 80]])
    >>> DBSCAN(eps=3, min_samples=2).fit(X).labels_.tolist()
    [0, 0, 0, 1, 1, -1]
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        # eps sized to the fixed blobs: three clusters plus noise
        Twin("sklearn.cluster.DBSCAN", "cluster", "ari", 0.0, {"eps": 1.0, "min_samples": 5}),
    )

    def __init__(self, eps: float = 0.5, *, min_samples: int = 5, metric: str = "euclidean",
                 metric_params: dict | None = None, algorithm: str = "auto",
                 leaf_size: int = 30, p: float | None = None, n_jobs: int | None = None):
        self.eps = eps
        self.min_samples = min_samples
        self.metric = metric
        self.metric_params = metric_params
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> DBSCAN:
        """Cluster ``X``; ``y`` is ignored.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Weight of each row in its neighbours' counts (may be negative, as in
            scikit-learn).
        """
        if not self.eps > 0:
            raise DataError(f"DBSCAN: eps={self.eps!r} must be positive")
        if not (isinstance(self.min_samples, (int, np.integer)) and self.min_samples >= 1):
            raise DataError(f"DBSCAN: min_samples={self.min_samples!r} must be a positive int")
        Xa, _, dev = validate_data(self, X, dtype="numeric")
        xp = dev.xp
        metric = _Metric.from_params(self.metric, self.p, "DBSCAN")
        threads = n_threads("DBSCAN", self.n_jobs)  # checked on every device
        n, d = Xa.shape
        w = None if sample_weight is None else as_1d(sample_weight, dev, dtype=Xa.dtype,
                                                      name="sample_weight")
        if w is not None and w.shape[0] != n:
            raise DataError(f"DBSCAN: sample_weight has {w.shape[0]} entries for {n} rows")
        Xc = Xa - column_means(xp, Xa) if metric.name == "euclidean" else Xa
        P, aux = metric.prepare(xp, Xc)
        thr = metric.from_distance(float(self.eps))
        # sweep along the direction of widest spread (the top principal axis: windows 20%
        # narrower than along the widest coordinate on scikit-learn_bench's blobs). A unit
        # projection of a - b is at most |a - b|_2 <= |a - b|_1: at most eps (euclidean,
        # manhattan), or sqrt(2 eps) between unit rows (cosine); the slack covers the
        # projection's rounding
        axes = _sweep_axes(xp, P)
        key_all = P @ axes[0].astype(P.dtype, copy=False)
        key_all = key_all.astype(np.float64, copy=False)
        reach = (2 * float(self.eps)) ** 0.5 if metric.name == "cosine" else float(self.eps)
        if n:
            # |key|, |y| <= |P|max sqrt(d): the slack covers both projections' rounding
            scale = float(xp.abs(key_all).max()) + float(xp.abs(P).max()) * d ** 0.5
            reach += 4 * d * float(np.finfo(P.dtype).eps) * scale
        order = xp.argsort(key_all)
        P = P[order]
        aux = None if aux is None else aux[order]
        key = key_all[order]
        ws = None if w is None else w[order]
        if _nk.usable(xp, P, metric.name):
            core_pos, labels_sorted = _dbscan_fused(
                xp, P, aux, key, ws, thr, reach, metric.name == "cosine", order,
                self.min_samples)
            return self._finish(xp, Xa, order, core_pos, labels_sorted)
        # the portable sweep also cuts the rows into bands along the second axis: rows
        # sorted by (band, key) meet only the columns of three bands, not a whole window
        if len(axes) > 1:
            y = (P @ axes[1].astype(P.dtype, copy=False)).astype(np.float64, copy=False)
            band = _bands(xp, y, reach)
            by_band = stable_argsort(xp, band)  # stable: keys stay sorted within a band
            order, P, key, band = order[by_band], P[by_band], key[by_band], band[by_band]
            aux = None if aux is None else aux[by_band]
            ws = None if ws is None else ws[by_band]
        else:
            band = xp.zeros(n, dtype=np.int64)
        cell = metric.block_bytes(1, d, Xa.dtype.itemsize)
        budget = _budget(xp) // min(threads, 4)  # each thread holds a block

        def near(rows: Any, cols: Any, r: Block) -> Any:
            """Within-eps mask of sorted rows ``rows[r0:r1]`` vs ``cols[c0:c1]``."""
            r0, r1, c0, c1 = r
            a = rows[r0:r1]
            b = cols[c0:c1]
            return metric.within(xp, P[a], None if aux is None else aux[a], P[b],
                                 None if aux is None else aux[b], thr)

        everyone = xp.arange(n)
        # 1. weighted neighbour counts -> core points (positions in sweep order)
        counts = xp.zeros(n, dtype=np.float64)
        n_nbrs = xp.zeros(n, dtype=np.int64)

        def count(task: tuple[int, int, list[tuple[int, int]]]) -> None:
            r0, r1, runs = task
            for c0, c1 in runs:
                M = near(everyone, everyone, (r0, r1, c0, c1))
                n_nbrs[r0:r1] += M.sum(axis=1)
                if ws is not None:
                    counts[r0:r1] += M.astype(Xa.dtype) @ ws[c0:c1]
            if ws is None:
                counts[r0:r1] = n_nbrs[r0:r1]

        # tasks own disjoint row ranges: threads write apart (as in steps 2 and 3)
        map_blocks(xp, count, _Sweep(xp, band, key, band, key, reach, cell, budget).tasks,
                   threads)
        core = counts >= self.min_samples
        core_pos = xp.nonzero(core)[0]
        nc = int(core_pos.shape[0])
        labels_sorted = xp.full(n, -1, dtype=np.int64)
        if nc:
            core_key, core_band = key[core_pos], band[core_pos]
            # 2. components of the core-core graph (vertices: core positions, ascending)
            sweep = _Sweep(xp, core_band, core_key, core_band, core_key, reach, cell, budget)
            if float(n_nbrs[core_pos].sum()) * 16 <= DBSCAN_EDGE_BYTES:

                def edges(r: Block) -> tuple[Any, Any]:
                    rr, cc = xp.nonzero(near(core_pos, core_pos, r))
                    rr = rr + r[0]
                    cc = cc + r[2]
                    keep = cc > rr  # each undirected edge once
                    return rr[keep], cc[keep]

                uv = map_blocks(xp, edges, sweep.blocks, threads)
                root = _components_from_edges(xp, nc, xp.concatenate([u for u, _ in uv]),
                                              xp.concatenate([v for _, v in uv]))
            else:
                root = self._components_by_blocks(xp, nc, sweep.blocks,
                                                  lambda r: near(core_pos, core_pos, r))
            core_labels = _number_clusters(xp, root, order[core_pos], n)
            labels_sorted[core_pos] = core_labels
            # 3. border points join the smallest neighbouring cluster
            other = xp.nonzero(~core)[0]
            big = nc + 1

            def border(task: tuple[int, int, list[tuple[int, int]]]) -> None:
                r0, r1, runs = task
                if not runs:
                    return  # no core point within reach: noise
                lab = None
                for c0, c1 in runs:
                    M = near(other, core_pos, (r0, r1, c0, c1))
                    low = xp.where(M, core_labels[None, c0:c1], big).min(axis=1)
                    lab = low if lab is None else xp.minimum(lab, low)
                labels_sorted[other[r0:r1]] = xp.where(lab == big, -1, lab)

            map_blocks(xp, border, _Sweep(xp, band[other], key[other], core_band, core_key,
                                          reach, cell, budget).tasks, threads)
        return self._finish(xp, Xa, order, core_pos, labels_sorted)

    def _finish(self, xp: Any, Xa: Any, order: Any, core_pos: Any, labels_sorted: Any
                ) -> DBSCAN:
        """Fitted attributes from the labels in sweep order."""
        labels = xp.empty(labels_sorted.shape[0], dtype=np.int64)
        labels[order] = labels_sorted
        core_idx = xp.sort(order[core_pos])
        self.labels_ = labels
        self.core_sample_indices_ = core_idx
        self.components_ = Xa[core_idx]
        return self

    @staticmethod
    def _components_by_blocks(xp: Any, nc: int, blocks: list[Block], near: Any) -> Any:
        """Components without storing edges: each round recomputes the neighbour blocks and
        hooks every root under the smallest root among its members' neighbours."""
        parent = xp.arange(nc)
        while True:
            changed = False
            for r in blocks:
                M = near(r)
                low = xp.where(M, parent[None, r[2]:r[3]], nc).min(axis=1)
                mine = parent[r[0]:r[1]]
                moving = low < mine
                if bool(moving.any()):
                    changed = True
                    scatter_min(xp, parent, mine[moving], low[moving])
            if not changed:
                return _compress(xp, parent)
            parent = _compress(xp, parent)

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """``fit(X)`` then the labels."""
        return to_output(self.fit(X, sample_weight=sample_weight).labels_, X)
