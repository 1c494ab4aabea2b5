"""Nearest neighbours by brute force on ``xp``: NearestNeighbors, KNeighborsClassifier,
KNeighborsRegressor.

Distances are computed in blocks of queries x training rows (matrix products for the
euclidean metric: ``||q||^2 - 2 q.x + ||x||^2``), each block reduced to its ``k`` smallest
entries (``argpartition`` then a sort within ``k``) and merged with the running best, so
memory stays bounded by :data:`BLOCK_BYTES` whatever the number of rows. Results are exact
(ties between equal distances aside): ``algorithm`` is accepted for scikit-learn
compatibility, the search is always brute force, which is what a GPU does best.

The block helpers (:func:`_Metric`, :func:`_row_blocks`) are shared with
:mod:`xpdb.ml.cluster` (k-means, DBSCAN).

Examples
--------
>>> import numpy as np
>>> from xpdb.ml.neighbors import NearestNeighbors
>>> X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
>>> dist, ind = NearestNeighbors(n_neighbors=2).fit(X).kneighbors([[0.2, 0.0]])
>>> ind.tolist(), dist.round(3).tolist()
([[0, 1]], [[0.2, 0.8]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from ..device import device_of
from ..errors import NotSupportedError
from ..kernels._xp import is_numpy
from . import _topk_kernels as _topk
from ._data import (
    DataError,
    Twin,
    check_is_fitted,
    column_means,
    decode_labels,
    encode_labels,
    input_device,
    to_device,
    to_output,
    validate_data,
)
from ._threads import map_blocks, n_threads, subtract_rows
from ._threads import row_blocks as _row_blocks

__all__ = ["KNeighborsClassifier", "KNeighborsRegressor", "NearestNeighbors"]

#: Bytes one distance block may take (queries x training rows x itemsize) on the CPU and on
#: a GPU; bounds the memory of every blocked computation in this module and in
#: :mod:`xpdb.ml.cluster`. GPU blocks are larger so that each kernel launch does real work.
BLOCK_BYTES = 1 << 27
GPU_BLOCK_BYTES = 1 << 30


def _budget(xp: Any) -> int:
    return BLOCK_BYTES if xp is np else GPU_BLOCK_BYTES


class _Metric:
    """A distance in two forms: a cheap *reduced* distance that orders like the true one
    (squared for euclidean) and the map from reduced to true distances.

    ``prepare`` turns rows into what ``reduced`` takes (row norms for euclidean, unit rows
    for cosine), so it runs once per training set and once per query block.
    """

    def __init__(self, name: str):
        self.name = name

    @classmethod
    def from_params(cls, metric: Any, p: Any, owner: str) -> _Metric:
        name = metric
        if isinstance(metric, str) and metric == "minkowski":
            if p in (None, 2, 2.0):
                name = "euclidean"
            elif p in (1, 1.0):
                name = "manhattan"
            else:
                msg = (f"{owner}: metric='minkowski' with p={p!r} is not supported; use p=1 "
                       "(manhattan) or p=2 (euclidean)")
                raise NotSupportedError(msg)
        aliases = {"l2": "euclidean", "l1": "manhattan", "cityblock": "manhattan"}
        name = aliases.get(name, name) if isinstance(name, str) else name
        if name not in ("euclidean", "manhattan", "cosine"):
            msg = (f"{owner}: metric={metric!r} is not supported; use 'euclidean', "
                   "'manhattan' or 'cosine' (or 'minkowski' with p=1 or 2)")
            raise NotSupportedError(msg)
        return cls(name)

    def prepare(self, xp: Any, X: Any) -> tuple[Any, Any]:
        """``(rows, aux)`` to pass to :meth:`reduced` for ``X``."""
        if self.name == "euclidean":
            return X, xp.einsum("ij,ij->i", X, X)
        if self.name == "cosine":
            norms = xp.sqrt(xp.einsum("ij,ij->i", X, X))
            # zero rows stay zero (distance 1 to everything), as scikit-learn's normalize
            norms = xp.where(norms == 0, 1, norms)
            return X / norms[:, None], None
        return X, None

    def reduced(self, xp: Any, A: Any, a_aux: Any, B: Any, b_aux: Any) -> Any:
        """Reduced distances between the rows of ``A`` and ``B`` (a len(A) x len(B) block)."""
        if self.name == "euclidean":
            D = A @ B.T
            D *= -2
            D += a_aux[:, None]
            D += b_aux[None, :]
            return xp.maximum(D, 0, out=D)
        if self.name == "cosine":
            D = A @ B.T
            return xp.maximum(1 - D, 0)
        return xp.abs(A[:, None, :] - B[None, :, :]).sum(axis=2)

    def within(self, xp: Any, A: Any, a_aux: Any, B: Any, b_aux: Any, thr: float) -> Any:
        """Bool block: is the reduced distance of each (row of A, row of B) at most
        ``thr`` (>= 0). The same test as ``reduced(...) <= thr`` with one pass fewer: the
        clamp at 0 cannot change it."""
        if self.name == "euclidean":
            sq = A @ B.T
            sq *= -2
            sq += a_aux[:, None]
            sq += b_aux[None, :]
            return sq <= thr
        if self.name == "cosine":
            gap = 1 - A @ B.T
            return gap <= thr
        return self.reduced(xp, A, a_aux, B, b_aux) <= thr

    def block_bytes(self, n_cols: int, n_features: int, itemsize: int) -> int:
        """Bytes per query row of a block against ``n_cols`` training rows."""
        per = n_cols * itemsize
        return per * n_features if self.name == "manhattan" else per * 2

    def to_distance(self, xp: Any, D: Any) -> Any:
        return xp.sqrt(D) if self.name == "euclidean" else D

    def from_distance(self, value: float) -> float:
        return value * value if self.name == "euclidean" else value


#: Group width of the two-stage top-k: row minima over groups of this many columns pick the
#: ``k`` groups that must hold the ``k`` smallest entries.
TOPK_GROUP = 64
#: training rows per block on the top-k kernel path (GPU)
TOPK_KERNEL_CHUNK = 1 << 14


def _select_k(xp: Any, D: Any, k: int) -> tuple[Any, Any]:
    """The ``k`` smallest entries of each row of ``D`` as ``(values, columns)``, ascending."""
    m = D.shape[1]
    if k < m:
        cols = xp.argpartition(D, k - 1, axis=1)[:, :k]
        vals = xp.take_along_axis(D, cols, axis=1)
    else:
        cols = xp.broadcast_to(xp.arange(m), D.shape)
        vals = D
    order = xp.argsort(vals, axis=1)
    return xp.take_along_axis(vals, order, axis=1), xp.take_along_axis(cols, order, axis=1)


def _smallest_k(xp: Any, D: Any, k: int) -> tuple[Any, Any]:
    """:func:`_select_k` for wide blocks in two stages, exact.

    The ``k`` smallest entries of a row lie in the ``k`` column groups with the smallest
    minima (each of those minima is itself a candidate no larger than the k-th group
    minimum), so a pass of group minima, a selection among ``m / TOPK_GROUP`` minima and one
    among ``k * TOPK_GROUP`` gathered entries replace a selection over all ``m`` columns.
    That matters on the GPU, where CuPy's ``argpartition`` is a full sort.
    """
    rows, m = D.shape
    g = TOPK_GROUP
    if m < 8 * g or k * g * 4 > m:
        return _select_k(xp, D, k)
    n_groups = -(-m // g)
    if n_groups * g != m:
        pad = xp.full((rows, n_groups * g - m), xp.inf, dtype=D.dtype)
        D = xp.concatenate([D, pad], axis=1)
    # group j holds the columns j, j + n_groups, j + 2 n_groups...: their minima are an
    # elementwise minimum of g contiguous slices (SIMD), not g-wide reductions per group
    group_min = D.reshape(rows, g, n_groups).min(axis=1)
    _, groups = _select_k(xp, group_min, k)
    cols = (groups[:, :, None] + n_groups * xp.arange(g)[None, None, :]).reshape(rows, k * g)
    vals, pos = _select_k(xp, xp.take_along_axis(D, cols, axis=1), k)
    return vals, xp.take_along_axis(cols, pos, axis=1)


def _kneighbors(xp: Any, metric: _Metric, Q: Any, X: Any, x_aux: Any, k: int,
                budget: int | None = None, threads: int = 1) -> tuple[Any, Any]:
    """Reduced distances and indices of the ``k`` nearest rows of ``X`` for each row of
    ``Q``, in query blocks x training chunks merged with the running best; on the CPU,
    ``threads`` threads take query blocks side by side (each within ``budget / min(threads,
    4)`` bytes)."""
    n, d = X.shape
    itemsize = X.dtype.itemsize
    budget = budget or _budget(xp)
    if threads > 1 and is_numpy(xp):
        budget = max(1, budget // min(threads, 4))
    # training chunks small enough that a block holds at least ~256 queries, a multiple of
    # the top-k group width
    use_top = _topk.usable(xp, X, k)
    if use_top:
        # the top-k kernels run a warp per query row: narrow chunks, so that a block has
        # thousands of rows and fills the GPU
        chunk = max(k, min(n, TOPK_KERNEL_CHUNK))
    else:
        chunk = int(budget // (256 * metric.block_bytes(1, d, itemsize)))
        chunk = max(k, min(n, chunk // TOPK_GROUP * TOPK_GROUP or chunk))
    out_d = xp.empty((Q.shape[0], k), dtype=X.dtype)
    out_i = xp.empty((Q.shape[0], k), dtype=np.int64)

    def block(qs: slice) -> None:
        q, q_aux = metric.prepare(xp, Q[qs])
        q_m2 = q * -2 if metric.name == "euclidean" else None
        best_d = best_i = None
        # on the GPU the top-k kernels select from each block (and add |x|^2 as they read)
        top = _topk.TopK(xp, q.shape[0], k, X.dtype) if use_top else None
        for c0 in range(0, n, chunk):
            c1 = min(c0 + chunk, n)
            if metric.name == "euclidean":
                # ranking key only, -2 q.x + |x|^2 (|q|^2 is constant per row): one product
                # and one pass over the block; the chosen k are made exact below
                D = q_m2 @ X[c0:c1].T
                if top is not None:
                    top.add(D, x_aux[c0:c1], c0)
                    continue
                D += x_aux[None, c0:c1]
            else:
                D = metric.reduced(xp, q, q_aux, X[c0:c1],
                                   None if x_aux is None else x_aux[c0:c1])
                if top is not None:
                    top.add(D, None, c0)
                    continue
            vals, cols = _smallest_k(xp, D, min(k, c1 - c0))
            cols = cols + c0
            if best_d is not None:
                vals = xp.concatenate([best_d, vals], axis=1)
                cols = xp.concatenate([best_i, cols], axis=1)
                vals, pos = _select_k(xp, vals, k)
                cols = xp.take_along_axis(cols, pos, axis=1)
            best_d, best_i = vals, cols
        if top is not None:
            best_d, best_i = top.result()
        if metric.name == "euclidean":
            # exact squared distances of the k chosen (the matrix-product form also loses
            # digits for near points: sqrt of rounding noise for duplicates), re-sorted
            diff = q[:, None, :] - X[best_i]
            best_d = xp.einsum("ijk,ijk->ij", diff, diff)
            order = xp.argsort(best_d, axis=1)
            best_d = xp.take_along_axis(best_d, order, axis=1)
            best_i = xp.take_along_axis(best_i, order, axis=1)
        out_d[qs] = best_d
        out_i[qs] = best_i

    map_blocks(xp, block, _row_blocks(Q.shape[0], metric.block_bytes(chunk, d, itemsize),
                                      budget), threads)
    return out_d, out_i


class _NeighborsBase(BaseEstimator):
    """Fitting (storing the training rows on their device) and the k-nearest search."""

    def _fit(self, X: Any, y: Any = None, y_kind: str | None = None) -> Any:
        owner = type(self).__name__
        if y_kind == "labels":
            Xa, _, dev = validate_data(self, X, dtype="numeric")
            self.classes_, self._y = encode_labels(y, dev)
            if self._y.shape[0] != Xa.shape[0]:
                raise DataError(f"X has {Xa.shape[0]} rows but y has {self._y.shape[0]}")
        elif y_kind == "values":
            Xa, self._y, dev = validate_data(self, X, y, y_required=True, dtype="numeric")
        else:
            Xa, _, dev = validate_data(self, X, dtype="numeric")
        self._metric = _Metric.from_params(self.metric, self.p, owner)
        if not (isinstance(self.n_neighbors, (int, np.integer)) and self.n_neighbors >= 1):
            msg = f"{owner}: n_neighbors={self.n_neighbors!r} must be a positive integer"
            raise DataError(msg)
        xp = dev.xp
        self.n_samples_fit_ = int(Xa.shape[0])
        self.effective_metric_ = self._metric.name
        # center euclidean data: the matrix-product distances lose less to cancellation
        self._shift = column_means(xp, Xa) if self._metric.name == "euclidean" else None
        Xc = Xa if self._shift is None else subtract_rows(
            xp, Xa, self._shift, n_threads(owner, self.n_jobs, default=-1))
        self._fit_X, self._fit_aux = self._metric.prepare(xp, Xc)
        return self

    def _search(self, X: Any, n_neighbors: int | None) -> tuple[Any, Any, Any, bool]:
        """``(reduced distances, indices, xp, excluded_self)`` for queries ``X`` (None: the
        training rows, each without itself)."""
        check_is_fitted(self, ("_fit_X",))
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        owner = type(self).__name__
        if not (isinstance(k, (int, np.integer)) and k >= 1):
            raise DataError(f"{owner}: n_neighbors={k!r} must be a positive integer")
        self_query = X is None
        if self_query:
            Q = self._fit_X
            dev = device_of(Q)
            k_search = k + 1
        else:
            Q, _, dev = validate_data(self, X, reset=False, dtype=self._fit_X.dtype)
            k_search = k
        if k_search > self.n_samples_fit_:
            msg = (f"{owner}: expected n_neighbors <= n_samples_fit={self.n_samples_fit_}, "
                   f"got n_neighbors={k}" + (" (plus the query point itself)" if self_query
                                              else "") + "; ask for fewer neighbours")
            raise DataError(msg)
        xp = dev.xp
        fit_X = to_device(self._fit_X, dev)
        fit_aux = to_device(self._fit_aux, dev)
        if not self_query and self._shift is not None:
            Q = Q - to_device(self._shift, dev)
        # every core by default, as scikit-learn's brute-force search (OpenMP) uses
        threads = n_threads(owner, self.n_jobs, default=-1)
        D, idx = _kneighbors(xp, self._metric, Q, fit_X, fit_aux, k_search, threads=threads)
        if self_query:
            # drop each row itself; where duplicates pushed it out, drop the farthest
            rows = xp.arange(idx.shape[0])[:, None]
            is_self = idx == rows
            is_self[:, -1] |= ~is_self.any(axis=1)
            keep = ~is_self
            D = D[keep].reshape(idx.shape[0], k)
            idx = idx[keep].reshape(idx.shape[0], k)
        return D, idx, xp, self_query

    def kneighbors(self, X: Any = None, n_neighbors: int | None = None,
                   return_distance: bool = True) -> Any:
        """The nearest training rows of each query.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_queries, n_features), optional
            Queries; None queries the training rows, each without itself.
        n_neighbors : int, optional
            Defaults to the constructor's ``n_neighbors``.
        return_distance : bool, default True

        Returns
        -------
        neigh_dist : array of shape (n_queries, n_neighbors)
            Distances, ascending (only when ``return_distance``).
        neigh_ind : array of shape (n_queries, n_neighbors)
            Row numbers in the training data, on the device of ``X``.
        """
        D, idx, xp, self_query = self._search(X, n_neighbors)
        like = idx if self_query else X
        idx = to_output(idx, like)
        if not return_distance:
            return idx
        return to_output(self._metric.to_distance(xp, D), like), idx


class NearestNeighbors(_NeighborsBase):
    """Unsupervised nearest-neighbour search (brute force, exact), scikit-learn's
    ``NearestNeighbors``.

    Parameters
    ----------
    n_neighbors : int, default 5
    radius : float, default 1.0
        Stored for compatibility; radius queries are not supported.
    algorithm : str, default "auto"
        Accepted for compatibility; the search is always brute force.
    leaf_size : int, default 30
        Unused.
    metric : {"minkowski", "euclidean", "manhattan", "cosine"}, default "minkowski"
    p : float, default 2
        Minkowski power: 1 or 2.
    metric_params : dict, optional
        Unused.
    n_jobs : int, optional
        Threads searching blocks of queries side by side on the CPU (joblib's counting,
        -1: every core); None uses every core, as scikit-learn's brute-force search does
        whatever its ``n_jobs``. The neighbours are the same for every value. Ignored on
        the GPU.

    Attributes
    ----------
    n_samples_fit_ : int
    effective_metric_ : str
    n_features_in_ : int
    """

    # no predict/transform to score: checked against scikit-learn in tests/ml/test_neighbors.py
    _twins: ClassVar[tuple[Twin, ...]] = ()

    def __init__(self, *, n_neighbors: int = 5, radius: float = 1.0, algorithm: str = "auto",
                 leaf_size: int = 30, metric: str = "minkowski", p: float = 2,
                 metric_params: dict | None = None, n_jobs: int | None = None):
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.metric = metric
        self.p = p
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any = None) -> NearestNeighbors:
        """Store the training rows ``X`` on their device; ``y`` is ignored."""
        return self._fit(X)


def _weights(xp: Any, dist: Any, weights: str | Callable | None, owner: str) -> Any:
    """Per-neighbour weights (None for uniform), as scikit-learn's ``_get_weights``."""
    if weights in (None, "uniform"):
        return None
    if weights == "distance":
        # a query equal to training rows takes only those rows, with equal weight
        zero = dist == 0
        with np.errstate(divide="ignore"):
            w = 1.0 / xp.where(zero, 1, dist)
        has_zero = zero.any(axis=1, keepdims=True)
        return xp.where(has_zero, zero.astype(w.dtype), w)
    if callable(weights):
        return xp.asarray(weights(dist))
    msg = f"{owner}: weights={weights!r} must be 'uniform', 'distance' or a callable"
    raise DataError(msg)


class _KNeighborsModel(_NeighborsBase):
    """The parameters KNeighborsClassifier and KNeighborsRegressor share (scikit-learn's
    ``get_params`` reads them from this ``__init__``)."""

    def __init__(self, n_neighbors: int = 5, *, weights: str | Callable | None = "uniform",
                 algorithm: str = "auto", leaf_size: int = 30, p: float = 2,
                 metric: str = "minkowski", metric_params: dict | None = None,
                 n_jobs: int | None = None):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs


class KNeighborsClassifier(ClassifierMixin, _KNeighborsModel):
    """Classification by a vote of the ``k`` nearest training rows (brute force, exact).

    Parameters are scikit-learn's: ``n_neighbors=5``, ``weights`` ("uniform", "distance" or
    a callable on the distance array), ``algorithm`` (accepted, always brute force),
    ``leaf_size`` (unused), ``p`` and ``metric`` (see :class:`NearestNeighbors`),
    ``metric_params`` (unused) and ``n_jobs`` (CPU threads, see :class:`NearestNeighbors`).

    Attributes
    ----------
    classes_ : array
        Sorted distinct labels (on the training device; a host array for string labels).
    n_samples_fit_, effective_metric_, n_features_in_

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> clf = KNeighborsClassifier(n_neighbors=1).fit(X, ["a", "a", "b", "b"])
    >>> clf.predict([[2.0], [9.0]]).tolist()
    ['a', 'b']
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.neighbors.KNeighborsClassifier", "multiclass", "accuracy", 0.0),
        Twin("sklearn.neighbors.KNeighborsClassifier", "binary", "accuracy", 0.0,
             {"n_neighbors": 7, "weights": "distance"}),
    )

    def fit(self, X: Any, y: Any) -> KNeighborsClassifier:
        """Store the training rows and encode the labels ``y``."""
        if y is None:
            raise DataError("KNeighborsClassifier.fit requires y (the labels); call fit(X, y)")
        return self._fit(X, y, y_kind="labels")

    def _votes(self, X: Any) -> tuple[Any, Any]:
        D, idx, xp, _ = self._search(X, None)
        w = _weights(xp, self._metric.to_distance(xp, D), self.weights, type(self).__name__)
        codes = to_device(self._y, input_device(idx))[idx]
        n_classes = len(self.classes_)
        flat = (xp.arange(idx.shape[0])[:, None] * n_classes + codes).reshape(-1)
        votes = xp.bincount(flat, weights=None if w is None else w.reshape(-1),
                            minlength=idx.shape[0] * n_classes)
        return votes.reshape(idx.shape[0], n_classes).astype(np.float64), xp

    def predict_proba(self, X: Any) -> Any:
        """Vote shares per class, shape (n_queries, n_classes), columns as ``classes_``."""
        votes, xp = self._votes(X)
        total = votes.sum(axis=1, keepdims=True)
        # all-zero weights (a callable may give them) leave the row uniform, not NaN
        probs = xp.where(total > 0, votes / xp.where(total > 0, total, 1),
                         1.0 / votes.shape[1])
        return to_output(probs, X)

    def predict(self, X: Any) -> Any:
        """The label with the most votes (the smallest label among ties, as scikit-learn)."""
        votes, xp = self._votes(X)
        labels = decode_labels(self.classes_, xp.argmax(votes, axis=1))
        return to_output(labels, X) if labels.dtype.kind not in "OUS" else labels

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (computed on the device of X)."""
        from .metrics import accuracy_score

        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)


class KNeighborsRegressor(RegressorMixin, _KNeighborsModel):
    """Regression by the (weighted) mean target of the ``k`` nearest training rows.

    Parameters are those of :class:`KNeighborsClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> KNeighborsRegressor(n_neighbors=2).fit(X, [0.0, 0.0, 1.0, 1.0]).predict([[1.6]])
    array([0.5])
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.neighbors.KNeighborsRegressor", "regression", "r2", 1e-9),
        Twin("sklearn.neighbors.KNeighborsRegressor", "regression", "r2", 1e-9,
             {"n_neighbors": 3, "weights": "distance"}),
    )

    def fit(self, X: Any, y: Any) -> KNeighborsRegressor:
        """Store the training rows and targets ``y``."""
        return self._fit(X, y, y_kind="values")

    def predict(self, X: Any) -> Any:
        """Mean (``weights="distance"``: inverse-distance weighted mean) neighbour target."""
        D, idx, xp, _ = self._search(X, None)
        w = _weights(xp, self._metric.to_distance(xp, D), self.weights, type(self).__name__)
        vals = to_device(self._y, input_device(idx))[idx]
        if w is None:
            pred = vals.mean(axis=1)
        else:
            pred = (vals * w).sum(axis=1) / w.sum(axis=1)
        return to_output(pred, X)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Coefficient of determination R^2 of ``predict(X)`` (computed on the device of X)."""
        from .metrics import r2_score

        return r2_score(y, self.predict(X), sample_weight=sample_weight)
