"""The benchmark cases: data, estimator parameters per peer, the timed methods and scores.

Sizes are issue 5's (scikit-learn_bench's): ``--scale`` multiplies the rows, never the
features. Parameters follow scikit-learn_bench's configs where it has them (KMeans:
``n_init=1, tol=1e-3``; logistic regression: ``C=1, tol=1e-4, max_iter=200``, lbfgs; ridge:
``alpha=5``; PCA: 10 components; random forest: gini, ``sqrt`` features, bootstrap,
``min_samples_split=5, min_samples_leaf=2``; DBSCAN ``min_samples=5``).

A score is computed on the host from each peer's own output with the same NumPy code for
every peer, so the numbers compare.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import datagen

PEERS = ("sklearn", "xpdb-cpu", "xpdb-gpu")

# cuML's published speedups over scikit-learn on an H100 (issue 5), training
CUML_SPEEDUP = {"kmeans": 7.0, "logreg": 7.2, "rf": 14.0, "pca": 5.1}
TARGET_SPEEDUP = 20.0
KNN_RECALL_QUERIES = 1000  # queries whose neighbours are checked against the exact ones


Put = Callable[[np.ndarray], Any]  # a host array -> the same on the peer's device


def host(a: Any) -> np.ndarray:
    """A NumPy copy of a NumPy or CuPy array (CuPy's ``get``)."""
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)


def _import(path: str) -> type:
    mod, _, name = path.rpartition(".")
    return getattr(importlib.import_module(mod), name)


@dataclass
class Data:
    """One case's data on the host, generated once and shared by every peer."""

    X_train: np.ndarray
    y_train: np.ndarray | None
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)  # data-dependent estimator params
    extra: dict[str, Any] = field(default_factory=dict)   # oracles (exact neighbours...)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.X_train, self.y_train, self.X_test, self.y_test)
                   if a is not None)


@dataclass
class Case:
    """One estimator at one size.

    ``params`` go to every peer, ``sk_params`` only to scikit-learn, ``xp_params`` only to
    xpdb; ``warm_params`` replace some for the GPU's untimed warm-up on a few rows (kernel
    compilation and library start-up); ``warm_rows`` sets how many (None: all, for
    estimators whose kernels are specialized by data size, as the trees' histogram kernels).
    """

    name: str
    title: str
    estimator: str            # class name, in sklearn's module and in xpdb.ml
    sk_module: str
    n_train: int
    n_test: int
    n_features: int
    make_data: Callable[[int, int, int], Data]  # (n_train, n_test, seed) -> Data
    score: Callable[[Any, Any, Data, Put], dict[str, Any]]  # (estimator, output, data, put)
    primary: str              # the score key shown in the table
    parity: str               # "diff" (accuracy, R2) or "ratio" (inertia, variance)
    infer: str | None = "predict"
    params: dict[str, Any] = field(default_factory=dict)
    sk_params: dict[str, Any] = field(default_factory=dict)
    xp_params: dict[str, Any] = field(default_factory=dict)
    warm_params: dict[str, Any] = field(default_factory=dict)
    warm_rows: int | None = 2048
    dtype: str = "float32"
    supervised: bool = True
    data_key: str = ""        # cases with the same key share one data set (default: name)

    def sizes(self, scale: float) -> tuple[int, int]:
        """Train and test rows at ``scale`` (at least a few hundred and 50)."""
        n = max(300, math.ceil(self.n_train * scale))
        t = max(50, math.ceil(self.n_test * scale)) if self.n_test else 0
        return n, t

    def size_text(self, scale: float) -> str:
        n, t = self.sizes(scale)
        text = f"{_si(n)} x {self.n_features}"
        return text + (f", test {_si(t)}" if t else "")

    def build(self, peer: str, data: Data, warm: bool = False) -> Any:
        """A fresh estimator for ``peer``."""
        params = {**self.params, **data.params}
        if peer == "sklearn":
            cls = _import(f"{self.sk_module}.{self.estimator}")
            params.update(self.sk_params)
            params.update(_sklearn_version_params(self, cls))
        else:
            cls = _import(f"xpdb.ml.{self.estimator}")
            params.update(self.xp_params)
        if warm:
            params.update(self.warm_params)
        return cls(**params)


def _si(n: int) -> str:
    for unit, size in (("M", 10**6), ("k", 10**3)):
        if n >= size:
            v = n / size
            return f"{v:.3g}{unit}"
    return str(n)


def _sklearn_version_params(case: Case, cls: type) -> dict[str, Any]:
    """Parameters that depend on the installed scikit-learn."""
    if case.estimator == "PCA":
        from sklearn.utils._param_validation import StrOptions

        opts = cls._parameter_constraints["svd_solver"]
        has_eigh = any(isinstance(o, StrOptions) and "covariance_eigh" in o.options for o in opts)
        # scikit-learn < 1.5 lacks covariance_eigh: its "auto" then picks randomized
        return {"svd_solver": "covariance_eigh" if has_eigh else "auto"}
    return {}


# -- data -------------------------------------------------------------------------------------
def _split(X: np.ndarray, y: np.ndarray | None, n: int) -> tuple[Any, Any, Any, Any]:
    return X[:n], None if y is None else y[:n], X[n:], None if y is None else y[n:]


def _classification_data(n_features: int, n_classes: int, class_sep: float,
                         dtype: str) -> Callable[[int, int, int], Data]:
    def make(n: int, t: int, seed: int) -> Data:
        X, y = datagen.classification(n + t, n_features, n_classes=n_classes,
                                      class_sep=class_sep, seed=seed, dtype=dtype)
        return Data(*_split(X, y, n))
    return make


def _regression_data(n_features: int, dtype: str) -> Callable[[int, int, int], Data]:
    def make(n: int, t: int, seed: int) -> Data:
        X, y = datagen.regression(n + t, n_features, n_informative=n_features // 2,
                                  noise=100.0, seed=seed, dtype=dtype)
        return Data(*_split(X, y, n))
    return make


def _blobs_data(n_features: int, centers: int, dtype: str) -> Callable[[int, int, int], Data]:
    def make(n: int, t: int, seed: int) -> Data:
        X, y = datagen.blobs(n + t, n_features, centers=centers, seed=seed, dtype=dtype)
        return Data(*_split(X, y, n))
    return make


def _knn_data(n_features: int, k: int, dtype: str) -> Callable[[int, int, int], Data]:
    base = _classification_data(n_features, 2, 1.0, dtype)

    def make(n: int, t: int, seed: int) -> Data:
        d = base(n, t, seed)
        m = min(KNN_RECALL_QUERIES, t)
        d.extra["recall_queries"] = m
        d.extra["neighbors"] = datagen.knn_reference(d.X_train, d.X_test[:m], k)
        return d
    return make


def _dbscan_data(n_features: int, centers: int, neighbors: int,
                 dtype: str) -> Callable[[int, int, int], Data]:
    def make(n: int, t: int, seed: int) -> Data:
        X, y = datagen.blobs(n, n_features, centers=centers, seed=seed, dtype=dtype)
        # about `neighbors` points within eps, fewer where the blobs are small (scaled down)
        k = max(10, min(neighbors, n // (4 * centers)))
        # nudged off the sampled pair's exact distance, which float32 and float64
        # arithmetic could put on either side of eps
        eps = datagen.kth_neighbor_distance(X, k, seed=seed) * 1.001
        return Data(X, y, None, None, params={"eps": round(eps, 6)})
    return make


# -- scores (host NumPy, the same code for every peer) ----------------------------------------
def _accuracy(est: Any, out: Any, data: Data, put: Put) -> dict[str, Any]:
    return {"accuracy": float(np.mean(host(out) == data.y_test))}


def _r2(est: Any, out: Any, data: Data, put: Put) -> dict[str, Any]:
    y, p = data.y_test, host(out).astype(np.float64).ravel()
    ss = float(((y - y.mean()) ** 2).sum())
    return {"r2": 1.0 - float(((y - p) ** 2).sum()) / ss}


def _kmeans_score(est: Any, out: Any, data: Data, put: Put) -> dict[str, Any]:
    from sklearn.metrics import adjusted_rand_score

    labels = host(out)
    centers = host(est.cluster_centers_).astype(np.float64)
    diff = data.X_test.astype(np.float64) - centers[labels]
    return {"inertia": float((diff * diff).sum()),
            "ari_truth": float(adjusted_rand_score(data.y_test, labels)),
            "n_iter": int(est.n_iter_)}


def _pca_score(est: Any, out: Any, data: Data, put: Put) -> dict[str, Any]:
    ratio = host(est.explained_variance_ratio_)
    Z = host(out).astype(np.float64)
    return {"explained_variance_ratio": float(ratio.sum()),
            # the variance the components capture on held-out rows
            "test_variance": float(Z.var(axis=0).sum())}


def _knn_score(est: Any, out: Any, data: Data, put: Put) -> dict[str, Any]:
    m = data.extra["recall_queries"]
    ref = data.extra["neighbors"]
    got = host(est.kneighbors(put(data.X_test[:m]), return_distance=False))
    k = ref.shape[1]
    hits = sum(np.intersect1d(a, b).size for a, b in zip(got, ref, strict=True))
    return {**_accuracy(est, out, data, put), "recall": hits / (m * k)}


def _dbscan_score(est: Any, out: Any, data: Data, put: Put) -> dict[str, Any]:
    from sklearn.metrics import adjusted_rand_score

    labels = host(est.labels_)
    return {"n_clusters": int(labels.max()) + 1 if labels.size else 0,
            "noise": float(np.mean(labels < 0)),
            "ari_truth": float(adjusted_rand_score(data.y_train, labels)),
            "labels": labels.astype(np.int32)}  # the runner compares them with sklearn's


CASES: dict[str, Case] = {c.name: c for c in [
    Case("kmeans", "KMeans (k=10)", "KMeans", "sklearn.cluster", 2_000_000, 200_000, 100,
         _blobs_data(100, 10, "float32"), _kmeans_score, "inertia", "ratio",
         params={"n_clusters": 10, "init": "k-means++", "n_init": 1, "max_iter": 100,
                 "tol": 1e-3, "random_state": 42},
         warm_params={"max_iter": 3}, supervised=False),
    Case("logreg", "LogisticRegression", "LogisticRegression", "sklearn.linear_model",
         10_000_000, 1_000_000, 50, _classification_data(50, 2, 0.75, "float64"), _accuracy,
         "accuracy", "diff", params={"C": 1.0, "tol": 1e-4, "max_iter": 200},
         sk_params={"solver": "lbfgs"}, warm_params={"max_iter": 3}, dtype="float64"),
    Case("linear", "LinearRegression", "LinearRegression", "sklearn.linear_model",
         5_000_000, 500_000, 50, _regression_data(50, "float64"), _r2, "r2", "diff",
         dtype="float64"),
    Case("ridge", "Ridge (alpha=5)", "Ridge", "sklearn.linear_model", 5_000_000, 500_000, 50,
         _regression_data(50, "float64"), _r2, "r2", "diff", params={"alpha": 5.0},
         dtype="float64", data_key="linear"),
    Case("pca", "PCA (10 components)", "PCA", "sklearn.decomposition", 5_000_000, 500_000, 500,
         _classification_data(500, 2, 1.0, "float32"), _pca_score,
         "explained_variance_ratio", "ratio", infer="transform",
         params={"n_components": 10}, xp_params={"svd_solver": "covariance_eigh"},
         supervised=False),
    Case("knn", "KNeighborsClassifier (k=10, brute)", "KNeighborsClassifier",
         "sklearn.neighbors", 1_000_000, 100_000, 100, _knn_data(100, 10, "float32"),
         _knn_score, "recall", "diff", params={"n_neighbors": 10, "n_jobs": -1},
         sk_params={"algorithm": "brute"}),  # n_jobs: xpdb's CPU threads, as sklearn's
    Case("dbscan", "DBSCAN (min_samples=5)", "DBSCAN", "sklearn.cluster", 500_000, 0, 10,
         _dbscan_data(10, 50, 50, "float32"), _dbscan_score, "ari_sklearn", "diff",
         infer=None, params={"min_samples": 5, "n_jobs": -1}, supervised=False),
    Case("rf", "RandomForestClassifier (100 trees, depth 12)", "RandomForestClassifier",
         "sklearn.ensemble", 1_000_000, 100_000, 50, _classification_data(50, 2, 1.0, "float32"),
         _accuracy, "accuracy", "diff",
         params={"n_estimators": 100, "max_depth": 12, "max_features": "sqrt",
                 "bootstrap": True, "min_samples_split": 5, "min_samples_leaf": 2,
                 "random_state": 42, "n_jobs": -1},  # xpdb: threads on the CPU only
         warm_params={"n_estimators": 2}, warm_rows=None),
]}
