"""Tree ensembles on ``xp``: random forests and histogram gradient boosting.

Both are built on one histogram tree builder (:mod:`xpdb.ml._tree`): features binned once
per fit into at most 255 quantile bins, trees grown level by level with every node of a
depth (and every tree of a batch) handled by the same few array operations, and all trees
predicted together by a vectorized descent. The same code runs on NumPy and CuPy.

- :class:`RandomForestClassifier`, :class:`RandomForestRegressor`: scikit-learn's forests
  (bootstrap or ``max_samples`` weights per tree, ``max_features`` drawn per node,
  gini/entropy or squared error, probabilities averaged over trees), with thresholds on bin
  edges instead of every distinct value. Trees are grown in batches sized to a memory
  budget: several trees' histograms come from one ``bincount``, which is what keeps a GPU
  busy with 100 trees.
- :class:`HistGradientBoostingClassifier`, :class:`HistGradientBoostingRegressor`:
  scikit-learn's ``HistGradientBoosting*`` parameters (``learning_rate``, ``max_iter``,
  ``max_leaf_nodes``, ``max_depth``, ``min_samples_leaf``, ``l2_regularization``,
  ``max_bins``), losses ``squared_error`` and ``log_loss`` (binary, and multinomial with
  one tree per class and iteration, the class trees grown as one batch). With
  ``max_leaf_nodes`` trees grow best-first as scikit-learn's (each round splits the open
  leaf of highest gain of every tree), else level by level.

Why our own boosting and not XGBoost's GPU ``hist``
---------------------------------------------------
XGBoost's CUDA wheel is about 300 MB: it cannot travel to the offline GPU machine, where
a call carries at most 64 MB. As an optional dependency it would also leave the CPU twin of
the GPU path untested (CI has no GPU, so the XGBoost GPU path would only ever run on the
benchmark machine). Gradient boosting therefore reuses the forests' histogram builder: one
code path, tested on NumPy in CI and on CuPy on the GPU machine. When ``xgboost`` happens to
be installed, tests compare quality against it; it is never imported by this module.

Not supported (yet): missing values in ``X`` (impute first), early stopping and
validation fractions, categorical features, ``oob_score``, ``class_weight``,
``min_impurity_decrease``, monotonic constraints. ``n_jobs`` sets the forests' threads on
the CPU (batches of trees grown side by side, then blocks of rows predicted side by side;
the same forest and predictions for every ``n_jobs``). Gradient boosting predicts on every
core, as scikit-learn's does.

Examples
--------
>>> import numpy as np
>>> from xpdb.ml import RandomForestClassifier
>>> X = np.array([[0.0, 1], [0.1, 0], [0.9, 1], [1.0, 0]] * 5)
>>> y = np.array([0, 0, 1, 1] * 5)
>>> rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
>>> rf.predict(np.array([[0.05, 0.5], [0.95, 0.5]])).tolist()
[0, 1]
"""

from __future__ import annotations

import math
import numbers
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state

from ..kernels._xp import bincount
from . import _tree
from ._data import (
    DataError,
    IterationLog,
    Twin,
    as_weights,
    check_is_fitted,
    decode_labels,
    encode_labels,
    get_xp,
    to_device,
    validate_data,
)
from ._threads import every_core, n_threads
from ._tree import Criterion, GrowParams, Rows

__all__ = ["HistGradientBoostingClassifier", "HistGradientBoostingRegressor",
           "RandomForestClassifier", "RandomForestRegressor"]

_SEED_MAX = 2**31 - 1


def _check_int(name: str, value: Any, low: int, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool)
            and value >= low):
        extra = " or None" if allow_none else ""
        raise DataError(f"{name}={value!r} must be an integer >= {low}{extra}")


def _check_max_bins(owner: str, max_bins: Any) -> None:
    if not (isinstance(max_bins, numbers.Integral) and 2 <= max_bins <= 255):
        raise DataError(f"{owner}: max_bins={max_bins!r} must be an integer in [2, 255] "
                        "(bins are stored as uint8)")


def _check_budget(owner: str, time_budget: Any) -> None:
    if time_budget is not None and not time_budget > 0:
        raise DataError(f"{owner}: time_budget={time_budget!r} must be positive seconds or "
                        "None")


# -- random forests -------------------------------------------------------------------------
class _BaseForest(BaseEstimator):
    """Shared fit and prediction of the forests."""

    _classification: ClassVar[bool] = False
    _criteria: ClassVar[tuple[str, ...]] = ()

    def __init__(self, n_estimators: int = 100, *, criterion: str = "gini",
                 max_depth: int | None = None, min_samples_split: int = 2,
                 min_samples_leaf: int = 1, max_features: Any = "sqrt",
                 bootstrap: bool = True, max_samples: Any = None, max_bins: int = 255,
                 random_state: Any = None, n_jobs: int | None = None, verbose: int = 0,
                 time_budget: float | None = None):
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.bootstrap = bootstrap
        self.max_samples = max_samples
        self.max_bins = max_bins
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.time_budget = time_budget

    def _features_drawn(self, n_features: int) -> int:
        mf = self.max_features
        name = type(self).__name__
        if mf is None:
            return n_features
        if isinstance(mf, str):
            if mf == "sqrt":
                return max(1, int(math.sqrt(n_features)))
            if mf == "log2":
                return max(1, int(math.log2(n_features)))
        elif isinstance(mf, numbers.Integral) and not isinstance(mf, bool):
            if 1 <= mf <= n_features:
                return int(mf)
        elif isinstance(mf, numbers.Real) and 0.0 < mf <= 1.0:
            return max(1, int(mf * n_features))
        raise DataError(f"{name}: max_features={mf!r} must be 'sqrt', 'log2', None, an "
                        f"integer in [1, {n_features}] or a fraction in (0, 1]")

    def _samples_drawn(self, n: int) -> int:
        ms = self.max_samples
        name = type(self).__name__
        if ms is None:
            return n
        if not self.bootstrap:
            raise DataError(f"{name}: max_samples={ms!r} needs bootstrap=True; drop "
                            "max_samples or turn bootstrap on")
        if isinstance(ms, numbers.Integral) and not isinstance(ms, bool) and ms >= 1:
            return int(ms)
        if isinstance(ms, numbers.Real) and 0.0 < ms <= 1.0:
            return max(1, round(ms * n))
        raise DataError(f"{name}: max_samples={ms!r} must be a positive integer or a "
                        "fraction in (0, 1]")

    def _check_params(self) -> None:
        name = type(self).__name__
        _check_int(f"{name}: n_estimators", self.n_estimators, 1)
        _check_int(f"{name}: max_depth", self.max_depth, 1, allow_none=True)
        _check_int(f"{name}: min_samples_split", self.min_samples_split, 2)
        _check_int(f"{name}: min_samples_leaf", self.min_samples_leaf, 1)
        _check_max_bins(name, self.max_bins)
        _check_budget(name, self.time_budget)
        if self.criterion not in self._criteria:
            raise DataError(f"{name}: criterion={self.criterion!r} is not supported; use one "
                            f"of {list(self._criteria)}")

    def _rows(self, xp: Any, seeds: np.ndarray, n: int, n_drawn: int, sw: Any, y: Any,
              crit: Criterion) -> Rows:
        """The (row, tree) entries and statistics of a batch of trees."""
        row_parts, tree_parts, w_parts = [], [], []
        for t, seed in enumerate(seeds):
            if self.bootstrap:
                draw = xp.random.RandomState(int(seed)).randint(0, n, size=n_drawn)
                w = bincount(xp, draw, n).astype(np.float64)
                if sw is not None:
                    w *= sw
            else:
                w = xp.ones(n, dtype=np.float64) if sw is None else sw
            rows = xp.flatnonzero(w > 0)
            row_parts.append(rows)
            tree_parts.append(xp.full(rows.shape[0], t, dtype=np.int64))
            w_parts.append(w[rows])
        row = xp.concatenate(row_parts)
        tree = xp.concatenate(tree_parts)
        w = xp.concatenate(w_parts)
        if crit.classification:
            return Rows(row, tree, cls=y[row], w=w)
        yr = y[row]
        return Rows(row, tree, chan=xp.stack([w, w * yr, w * yr * yr], axis=1))

    def _fit(self, X: Any, y: Any, sample_weight: Any) -> Any:
        self._check_params()
        name = type(self).__name__
        X, y, dev = validate_data(self, X, y, dtype="numeric", y_required=True,
                                  y_dtype=None if self._classification else np.float64)
        xp = dev.xp
        n, n_features = X.shape
        if self._classification:
            classes, y = encode_labels(y, dev)
            self.classes_ = classes
            self.n_classes_ = int(classes.shape[0])
            kind = "entropy" if self.criterion == "log_loss" else self.criterion
            crit = Criterion(kind, n_classes=self.n_classes_)
        else:
            crit = Criterion("squared_error")
        sw = as_weights(sample_weight, n, dev)
        mf = self._features_drawn(n_features)
        n_drawn = self._samples_drawn(n)
        rs = check_random_state(self.random_state)
        bin_seed = int(rs.randint(_SEED_MAX))
        boot_seeds = rs.randint(_SEED_MAX, size=self.n_estimators)
        feat_seeds = rs.randint(_SEED_MAX, size=self.n_estimators)
        binned = _tree.bin_features(X, self.max_bins, bin_seed)
        params = GrowParams(max_depth=self.max_depth, min_samples_split=self.min_samples_split,
                            min_samples_leaf=self.min_samples_leaf, max_features=mf)
        # trees per batch: the row entries of one histogram pass stay within the budget
        per_tree = max(1, min(n, n_drawn) * min(mf, n_features))
        batch = max(1, _tree.ENTRY_BUDGET[_tree.device_kind(xp)] // per_tree)
        starts = list(range(0, self.n_estimators, batch))

        def grow_batch(first: int) -> Any:
            t = min(batch, self.n_estimators - first)
            rows = self._rows(xp, boot_seeds[first:first + t], n, n_drawn, sw, y, crit)
            forest, _ = _tree.grow(binned, rows, t, crit, params,
                                   feature_rng=xp.random.RandomState(int(feat_seeds[first])))
            return forest

        # on the CPU, n_jobs threads grow batches side by side (NumPy releases the GIL in
        # its loops); the batches, and so the forest, are the same for every n_jobs
        jobs = n_threads(name, self.n_jobs)
        jobs = 1 if dev.is_gpu else min(jobs, len(starts))
        start = time.perf_counter()
        parts = []
        built = 0
        pool = ThreadPoolExecutor(jobs) if jobs > 1 else None
        try:
            for w in range(0, len(starts), jobs):
                elapsed = time.perf_counter() - start
                if built and self.time_budget is not None and elapsed >= self.time_budget:
                    if self.verbose:
                        print(f"[{name}] time budget of {self.time_budget}s reached after "
                              f"{built} trees", file=sys.stderr)
                    break
                wave = starts[w:w + jobs]
                grown = (list(pool.map(grow_batch, wave)) if pool is not None
                         else [grow_batch(f) for f in wave])
                for forest in grown:
                    parts.append(forest)
                    built += forest.n_trees
                    if self.verbose:
                        print(f"[{name}] trees {built}/{self.n_estimators} built, depth "
                              f"{forest.depth}, {forest.n_nodes} nodes in this batch "
                              f"({time.perf_counter() - start:.2f}s)", file=sys.stderr)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        self.forest_ = _tree.concat_forests(xp, parts)
        self.n_estimators_ = built
        self.feature_importances_ = _tree.importances(xp, self.forest_, n_features)
        return self

    def _mean_value(self, X: Any) -> Any:
        check_is_fitted(self, ("forest_",))
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric")
        forest = self.forest_.to(dev)
        jobs = n_threads(type(self).__name__, self.n_jobs)
        return _tree.forest_sum(forest, X, n_threads=jobs) / forest.n_trees

    def apply(self, X: Any) -> Any:
        """Leaf of every sample in every tree, int32 (n_samples, n_estimators_): node ids
        of ``forest_``, which numbers the nodes of all trees together."""
        check_is_fitted(self, ("forest_",))
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric")
        return _tree.forest_apply(self.forest_.to(dev), X)


class RandomForestClassifier(ClassifierMixin, _BaseForest):
    """A random forest of histogram trees that runs where the data lives; scikit-learn's
    ``RandomForestClassifier``.

    Parameters
    ----------
    n_estimators : int, default 100
    criterion : {"gini", "entropy", "log_loss"}, default "gini"
        ``log_loss`` is ``entropy``.
    max_depth : int or None, default None
        None grows until leaves are pure or too small to split.
    min_samples_split, min_samples_leaf : int, default 2 and 1
    max_features : {"sqrt", "log2"}, int, float or None, default "sqrt"
        Features drawn at random for every node.
    bootstrap : bool, default True
        Each tree sees a bootstrap sample (rows weighted by how often they are drawn).
    max_samples : int, float or None
        Rows drawn per tree (default: as many as there are).
    max_bins : int, default 255
        Quantile bins per feature; split thresholds lie on bin edges.
    random_state : int, RandomState or None
        Reproducible on one device (CPU and GPU draw different random numbers).
    n_jobs : int, optional
        On the CPU, threads growing batches of trees side by side, and predicting blocks
        of rows side by side (joblib's counting: None is 1, -1 every core); each batch
        holds its own histogram arrays, so memory grows with it. The forest and its
        predictions are the same for every value. Ignored on the GPU.
    verbose : int, default 0
        Print one line per batch of trees (count, depth, time) to stderr.
    time_budget : float, optional
        Seconds the fit may take: no new batch of trees starts once they are spent (at
        least one batch is built, one per thread with ``n_jobs``); ``n_estimators_`` tells
        how many trees were built.
        Batches hold as many trees as a memory budget allows (all of them for small data).

    Attributes
    ----------
    classes_ : array (n_classes,)
    n_classes_ : int
    n_estimators_ : int
        Trees built.
    feature_importances_ : array (n_features,)
        Mean decrease in impurity, as scikit-learn.
    forest_ : xpdb.ml._tree.Forest
        The trees as flat arrays on the training data's device.
    n_features_in_, feature_names_in_
    """

    _classification = True
    _criteria = ("gini", "entropy", "log_loss")
    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.ensemble.RandomForestClassifier", "multiclass", "accuracy", 0.03,
             {"n_estimators": 12, "random_state": 0}),
        Twin("sklearn.ensemble.RandomForestClassifier", "binary", "log_loss", 0.05,
             {"n_estimators": 12, "random_state": 0, "criterion": "entropy",
              "min_samples_leaf": 3}),
    )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RandomForestClassifier:
        """Grow the forest on ``X`` and class labels ``y`` (rows optionally weighted)."""
        return self._fit(X, y, sample_weight)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities (n_samples, n_classes): the trees' leaf class shares,
        averaged."""
        return self._mean_value(X)

    def predict(self, X: Any) -> Any:
        """The class of highest mean probability of every sample."""
        codes = self.predict_proba(X).argmax(axis=1)  # checks fitted state first
        return decode_labels(self.classes_, codes)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of the predictions (computed on the data's device)."""
        from .metrics import accuracy_score

        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)


class RandomForestRegressor(RegressorMixin, _BaseForest):
    """A random forest of histogram regression trees; scikit-learn's
    ``RandomForestRegressor``.

    Parameters are :class:`RandomForestClassifier`'s, except ``criterion``
    (``"squared_error"`` only) and ``max_features`` (default 1.0: all features, as
    scikit-learn).

    Attributes
    ----------
    n_estimators_ : int
    feature_importances_ : array (n_features,)
    forest_ : xpdb.ml._tree.Forest
    n_features_in_, feature_names_in_
    """

    _criteria = ("squared_error",)
    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.ensemble.RandomForestRegressor", "regression", "r2", 0.03,
             {"n_estimators": 12, "random_state": 0}),
        Twin("sklearn.ensemble.RandomForestRegressor", "regression", "r2", 0.03,
             {"n_estimators": 12, "random_state": 0, "max_features": 0.5, "max_depth": 6,
              "bootstrap": False}),
    )

    def __init__(self, n_estimators: int = 100, *, criterion: str = "squared_error",
                 max_depth: int | None = None, min_samples_split: int = 2,
                 min_samples_leaf: int = 1, max_features: Any = 1.0,
                 bootstrap: bool = True, max_samples: Any = None, max_bins: int = 255,
                 random_state: Any = None, n_jobs: int | None = None, verbose: int = 0,
                 time_budget: float | None = None):
        super().__init__(n_estimators, criterion=criterion, max_depth=max_depth,
                         min_samples_split=min_samples_split,
                         min_samples_leaf=min_samples_leaf, max_features=max_features,
                         bootstrap=bootstrap, max_samples=max_samples, max_bins=max_bins,
                         random_state=random_state, n_jobs=n_jobs, verbose=verbose,
                         time_budget=time_budget)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RandomForestRegressor:
        """Grow the forest on ``X`` and targets ``y`` (rows optionally weighted)."""
        return self._fit(X, y, sample_weight)

    def predict(self, X: Any) -> Any:
        """The trees' leaf means, averaged."""
        return self._mean_value(X)[:, 0]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 of the predictions (computed on the data's device)."""
        from .metrics import r2_score

        return r2_score(y, self.predict(X), sample_weight=sample_weight)


# -- gradient boosting ----------------------------------------------------------------------
def _sigmoid(xp: Any, x: Any) -> Any:
    return xp.exp(-xp.logaddexp(0.0, -x))


def _softmax(xp: Any, raw: Any) -> Any:
    e = xp.exp(raw - raw.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class _BaseHGB(BaseEstimator):
    """Shared boosting loop: Newton steps on histogram trees."""

    _classification: ClassVar[bool] = False
    _losses: ClassVar[tuple[str, ...]] = ()

    def __init__(self, loss: str = "squared_error", *, learning_rate: float = 0.1,
                 max_iter: int = 100, max_leaf_nodes: int | None = 31,
                 max_depth: int | None = None, min_samples_leaf: int = 20,
                 l2_regularization: float = 0.0, max_bins: int = 255,
                 random_state: Any = None, verbose: int = 0,
                 time_budget: float | None = None):
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.random_state = random_state
        self.verbose = verbose
        self.time_budget = time_budget

    def _check_params(self) -> None:
        name = type(self).__name__
        if self.loss not in self._losses:
            raise DataError(f"{name}: loss={self.loss!r} is not supported; use one of "
                            f"{list(self._losses)}")
        if not self.learning_rate > 0:
            raise DataError(f"{name}: learning_rate={self.learning_rate!r} must be > 0")
        _check_int(f"{name}: max_iter", self.max_iter, 1)
        _check_int(f"{name}: max_leaf_nodes", self.max_leaf_nodes, 2, allow_none=True)
        _check_int(f"{name}: max_depth", self.max_depth, 1, allow_none=True)
        _check_int(f"{name}: min_samples_leaf", self.min_samples_leaf, 1)
        if not self.l2_regularization >= 0:
            raise DataError(f"{name}: l2_regularization={self.l2_regularization!r} must be "
                            ">= 0")
        _check_max_bins(name, self.max_bins)
        _check_budget(name, self.time_budget)

    # loss-specific pieces ----------------------------------------------------------------
    def _baseline(self, xp: Any, y: Any, w: Any, k: int) -> Any:
        wsum = float(w.sum())
        if not self._classification:
            return (w * y).sum()[None] / wsum
        eps = np.finfo(np.float64).eps
        if k == 1:
            p = xp.clip((w * y).sum() / wsum, eps, 1 - eps)
            return xp.log(p / (1 - p))[None]
        share = xp.clip(bincount(xp, y, k, weights=w) / wsum, eps, 1 - eps)
        logs = xp.log(share)
        return logs - logs.mean()

    def _grad_hess(self, xp: Any, raw: Any, y: Any, w: Any) -> tuple[Any, Any]:
        """Per-sample gradient and hessian (n, k), weighted."""
        if not self._classification:
            return (raw - y[:, None]) * w[:, None], xp.broadcast_to(w[:, None], raw.shape)
        if raw.shape[1] == 1:
            p = _sigmoid(xp, raw)
            g = p - y[:, None]
        else:
            p = _softmax(xp, raw)
            g = p - (y[:, None] == xp.arange(raw.shape[1])[None, :])
        return g * w[:, None], p * (1 - p) * w[:, None]

    def _loss(self, xp: Any, raw: Any, y: Any, w: Any) -> float:
        if not self._classification:
            return float((w * (raw[:, 0] - y) ** 2).sum() / (2 * w.sum()))
        if raw.shape[1] == 1:
            r = raw[:, 0]
            per = xp.logaddexp(0.0, r) - y * r
        else:
            top = raw.max(axis=1)
            lse = top + xp.log(xp.exp(raw - top[:, None]).sum(axis=1))
            per = lse - xp.take_along_axis(raw, y[:, None], axis=1)[:, 0]
        return float((w * per).sum() / w.sum())

    def _fit(self, X: Any, y: Any, sample_weight: Any) -> Any:
        self._check_params()
        name = type(self).__name__
        X, y, dev = validate_data(self, X, y, dtype="numeric", y_required=True,
                                  y_dtype=None if self._classification else np.float64)
        xp = dev.xp
        n, n_features = X.shape
        k = 1
        if self._classification:
            classes, y = encode_labels(y, dev)
            if classes.shape[0] < 2:
                raise DataError(f"{name} needs at least 2 classes in y, got "
                                f"{classes.shape[0]} ({classes[:1].tolist()!r})")
            self.classes_ = classes
            self.n_classes_ = int(classes.shape[0])
            k = 1 if self.n_classes_ == 2 else self.n_classes_
            yf = y.astype(np.float64) if k == 1 else y
        else:
            yf = y
        sw = as_weights(sample_weight, n, dev)
        w = xp.ones(n, dtype=np.float64) if sw is None else sw
        rs = check_random_state(self.random_state)
        binned = _tree.bin_features(X, self.max_bins, int(rs.randint(_SEED_MAX)))
        crit = Criterion("newton", l2=float(self.l2_regularization))
        params = GrowParams(max_depth=self.max_depth, min_samples_leaf=self.min_samples_leaf,
                            max_leaf_nodes=self.max_leaf_nodes, min_gain=0.0)
        baseline = self._baseline(xp, yf, w, k)
        raw = xp.broadcast_to(baseline[None, :], (n, k)).copy()
        row = xp.tile(xp.arange(n, dtype=np.int64), k)
        tree = xp.repeat(xp.arange(k, dtype=np.int64), n)
        lr = float(self.learning_rate)
        log = IterationLog(name, self.max_iter, self.time_budget, self.verbose)
        parts = []
        while log.next() or not parts:  # one iteration even when the budget is tiny
            g, h = self._grad_hess(xp, raw, yf, w)
            chan = xp.stack([g.T.ravel(), h.T.ravel()], axis=1)
            forest, leaves = _tree.grow(binned, Rows(row, tree, chan=chan), k, crit, params,
                                        track_rows=n)
            forest.value *= lr
            raw += forest.value[leaves, 0].T
            parts.append(forest)
            if self.verbose:
                log.log(loss=self._loss(xp, raw, yf, w), leaves=int(forest.is_leaf.sum()))
        self.forest_ = _tree.concat_forests(xp, parts)
        self.baseline_ = baseline
        self.n_iter_ = len(parts)
        self.n_trees_per_iteration_ = k
        self.stopped_by_ = log.stopped_by or "max_iter"
        self.train_loss_ = self._loss(xp, raw, yf, w)
        self.feature_importances_ = _tree.importances(xp, self.forest_, n_features)
        return self

    def _raw(self, X: Any) -> Any:
        check_is_fitted(self, ("forest_",))
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric")
        forest = self.forest_.to(dev)
        base = to_device(self.baseline_, dev)
        # every core, as scikit-learn's OpenMP prediction (the estimator has no n_jobs)
        raw = _tree.forest_sum(forest, X, self.n_trees_per_iteration_,
                               n_threads=every_core(type(self).__name__))
        return raw + base[None, :]


class HistGradientBoostingRegressor(RegressorMixin, _BaseHGB):
    """Histogram gradient-boosted trees for regression; scikit-learn's
    ``HistGradientBoostingRegressor`` (without early stopping or missing values).

    Parameters
    ----------
    loss : {"squared_error"}, default "squared_error"
    learning_rate : float, default 0.1
        Shrinkage of every tree's leaf values.
    max_iter : int, default 100
        Boosting iterations (trees).
    max_leaf_nodes : int or None, default 31
        Leaves per tree, grown best-first (the leaf of highest gain splits next).
    max_depth : int or None, default None
    min_samples_leaf : int, default 20
    l2_regularization : float, default 0
        L2 penalty on leaf values.
    max_bins : int, default 255
    random_state : int, RandomState or None
        Only the binning sample (for more than 200,000 rows) is random.
    verbose : int, default 0
        Print the training loss every iteration.
    time_budget : float, optional
        Seconds the fit may take (at least one iteration runs); ``n_iter_`` and
        ``stopped_by_`` tell what ran.

    Attributes
    ----------
    n_iter_ : int
    n_trees_per_iteration_ : int
    baseline_ : array (1,)
    train_loss_ : float
    stopped_by_ : {"max_iter", "time_budget"}
    feature_importances_ : array (n_features,)
        Total gain per feature (per tree normalized), not in scikit-learn's HGB.
    forest_ : xpdb.ml._tree.Forest
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 200)[:, None]
    >>> model = HistGradientBoostingRegressor(max_iter=50).fit(X, (X[:, 0] > 0.5) * 1.0)
    >>> model.predict(np.array([[0.1], [0.9]])).round(2).tolist()
    [0.0, 1.0]
    """

    _losses = ("squared_error",)
    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.ensemble.HistGradientBoostingRegressor", "regression", "r2", 0.03,
             {"max_iter": 40, "random_state": 0},
             {"max_iter": 40, "random_state": 0, "early_stopping": False}),
        Twin("sklearn.ensemble.HistGradientBoostingRegressor", "regression", "r2", 0.03,
             {"max_iter": 30, "max_depth": 3, "max_leaf_nodes": None, "learning_rate": 0.2,
              "l2_regularization": 1.0, "min_samples_leaf": 5},
             {"max_iter": 30, "max_depth": 3, "max_leaf_nodes": None, "learning_rate": 0.2,
              "l2_regularization": 1.0, "min_samples_leaf": 5, "early_stopping": False}),
    )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> HistGradientBoostingRegressor:
        """Boost trees on ``X`` and targets ``y`` (rows optionally weighted)."""
        return self._fit(X, y, sample_weight)

    def predict(self, X: Any) -> Any:
        """Baseline plus every tree's (shrunk) leaf value."""
        return self._raw(X)[:, 0]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 of the predictions (computed on the data's device)."""
        from .metrics import r2_score

        return r2_score(y, self.predict(X), sample_weight=sample_weight)


class HistGradientBoostingClassifier(ClassifierMixin, _BaseHGB):
    """Histogram gradient-boosted trees for classification; scikit-learn's
    ``HistGradientBoostingClassifier`` (without early stopping or missing values).

    Binary targets use one tree per iteration on the log-odds; more classes one tree per
    class and iteration on multinomial logits. Parameters and attributes are
    :class:`HistGradientBoostingRegressor`'s, with ``loss="log_loss"`` and ``classes_``,
    ``n_classes_``.
    """

    _classification = True
    _losses = ("log_loss",)
    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.ensemble.HistGradientBoostingClassifier", "multiclass", "accuracy",
             0.03, {"max_iter": 30, "random_state": 0},
             {"max_iter": 30, "random_state": 0, "early_stopping": False}),
        Twin("sklearn.ensemble.HistGradientBoostingClassifier", "binary", "log_loss", 0.05,
             {"max_iter": 30, "learning_rate": 0.2},
             {"max_iter": 30, "learning_rate": 0.2, "early_stopping": False}),
    )

    def __init__(self, loss: str = "log_loss", *, learning_rate: float = 0.1,
                 max_iter: int = 100, max_leaf_nodes: int | None = 31,
                 max_depth: int | None = None, min_samples_leaf: int = 20,
                 l2_regularization: float = 0.0, max_bins: int = 255,
                 random_state: Any = None, verbose: int = 0,
                 time_budget: float | None = None):
        super().__init__(loss, learning_rate=learning_rate, max_iter=max_iter,
                         max_leaf_nodes=max_leaf_nodes, max_depth=max_depth,
                         min_samples_leaf=min_samples_leaf,
                         l2_regularization=l2_regularization, max_bins=max_bins,
                         random_state=random_state, verbose=verbose, time_budget=time_budget)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> HistGradientBoostingClassifier:
        """Boost trees on ``X`` and class labels ``y`` (rows optionally weighted)."""
        return self._fit(X, y, sample_weight)

    def decision_function(self, X: Any) -> Any:
        """Raw scores: log-odds (n_samples,) for two classes, else logits (n, n_classes)."""
        raw = self._raw(X)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities (n_samples, n_classes)."""
        raw = self._raw(X)
        xp = get_xp(raw)
        if raw.shape[1] == 1:
            p = _sigmoid(xp, raw[:, 0])
            return xp.stack([1 - p, p], axis=1)
        return _softmax(xp, raw)

    def predict(self, X: Any) -> Any:
        """The most probable class of every sample."""
        codes = self.predict_proba(X).argmax(axis=1)  # checks fitted state first
        return decode_labels(self.classes_, codes)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of the predictions (computed on the data's device)."""
        from .metrics import accuracy_score

        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
