"""Fixed datasets for the xpdb.ml tests, one per ``Twin.task`` (see xpdb/ml/_data.py).

Small on purpose (the generic suite runs every estimator on each device) and generated
with fixed seeds, so scores compared against scikit-learn are reproducible.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_classification, make_regression

TASKS = ("regression", "binary", "multiclass", "counts", "cluster", "transform", "missing",
         "categorical")


@functools.cache
def dataset(task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``(X, y)`` on the host for ``task`` (y is None for tasks without a target)."""
    rng = np.random.default_rng(7)
    if task == "regression":
        X, y = make_regression(200, 6, n_informative=5, noise=8.0, random_state=0)
        return X, (y - y.mean()) / y.std()
    if task == "binary":
        X, y = make_classification(240, 6, n_informative=4, class_sep=1.2, random_state=0)
        return X, y
    if task == "multiclass":
        X, y = make_classification(240, 6, n_informative=4, n_classes=3,
                                   n_clusters_per_class=1, class_sep=1.2, random_state=1)
        return X, y
    if task == "counts":
        y = rng.integers(0, 3, 240)
        rates = rng.uniform(0.5, 4.0, (3, 8))
        return rng.poisson(rates[y]).astype(np.float64), y
    if task == "cluster":
        X, _ = make_blobs(240, 4, centers=3, cluster_std=0.8, random_state=0)
        return X, None
    if task == "transform":
        X = rng.normal(size=(200, 5)) @ rng.normal(size=(5, 5)) + rng.normal(3.0, 2.0, 5)
        return X, None
    if task == "missing":
        X = np.round(rng.normal(size=(200, 4)) * 2)
        X[rng.random(X.shape) < 0.15] = np.nan
        return X, None
    if task == "categorical":
        return rng.integers(0, 4, (200, 3)).astype(np.float64), None
    raise KeyError(task)


def on_device(a: Any, device: str) -> Any:
    """A host array (or None) moved to ``device``."""
    if a is None or device == "cpu":
        return a
    from xpdb.device import get_device

    return get_device(device).asarray(a)


def to_host(a: Any) -> Any:
    """NumPy copy of a NumPy/CuPy array (anything else unchanged)."""
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return a


def as_numpy(a: Any) -> np.ndarray:
    """A NumPy array of a NumPy/CuPy array or a sequence."""
    return a.get() if hasattr(a, "get") else np.asarray(a)


def put(device: str, a: Any) -> Any:
    """``a`` as an array on ``device`` (also on the CPU, unlike :func:`on_device`)."""
    from xpdb.device import get_device

    return get_device(device).asarray(a)


def is_on(device: str, a: Any) -> bool:
    """Whether ``a`` is an array of ``device``'s library (CuPy on a GPU, NumPy on a CPU)."""
    return type(a).__module__.startswith("cupy") == (device == "gpu")


@pytest.fixture
def data():
    """``data(task, device)`` -> (X, y) on the device (y on the same device)."""
    def get(task: str, device: str = "cpu") -> tuple[Any, Any]:
        X, y = dataset(task)
        return on_device(X, device), on_device(y, device)
    return get
