"""Splitting data and cross-validation for every input kind xpdb takes.

Row selections are computed on the host as small index arrays (the same splits as
scikit-learn for the same ``random_state``) and applied where the data lives: ``take`` on an
xpdb DataFrame, indexing on CuPy arrays, ``iloc`` on pandas. scikit-learn's own
``cross_val_score`` and ``GridSearchCV`` work with xpdb estimators on NumPy and pandas
inputs; :func:`cross_val_score` here also takes xpdb DataFrames.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import model_selection as _sk
from sklearn.base import clone, is_classifier

from ._data import DataError, as_1d, input_device, to_device

__all__ = ["KFold", "StratifiedKFold", "cross_val_score", "take_rows", "train_test_split"]


class KFold(_sk.KFold):
    """K consecutive folds (shuffled with ``shuffle=True``); scikit-learn's ``KFold``.

    ``split(X)`` yields NumPy index arrays; apply them to any input with
    :func:`take_rows`. ``X`` may be an xpdb DataFrame or a CuPy array (only its length is
    read).
    """

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        return super().split(np.zeros((_n_rows(X), 1)), None, groups)


class StratifiedKFold(_sk.StratifiedKFold):
    """Folds that keep the class proportions of ``y``; scikit-learn's ``StratifiedKFold``."""

    def split(self, X: Any, y: Any, groups: Any = None) -> Any:
        return super().split(np.zeros((_n_rows(X), 1)), _host_labels(y), groups)


def _n_rows(a: Any) -> int:
    if hasattr(a, "shape"):
        return int(a.shape[0])
    return len(a)


def _host_labels(y: Any) -> np.ndarray:
    dev = input_device(y)
    arr = as_1d(y, dev, dtype=None)
    return dev.to_host(arr) if not isinstance(arr, np.ndarray) else arr


def take_rows(a: Any, idx: np.ndarray) -> Any:
    """The rows ``idx`` (a NumPy int array) of ``a``, on ``a``'s device and of its kind.

    Examples
    --------
    >>> take_rows(np.array([10, 11, 12]), np.array([2, 0])).tolist()
    [12, 10]
    """
    if a is None:
        return None
    mod = type(a).__module__
    if mod.startswith("xpdb.frame"):
        return a.take(idx)
    if mod.startswith("pandas"):
        return a.iloc[idx]
    if mod.startswith("cupy"):
        return a[to_device(idx, input_device(a))]
    if isinstance(a, np.ndarray):
        return a[idx]
    if isinstance(a, list | tuple):
        return [a[int(i)] for i in idx]  # host lists only: index arrays are small here
    raise DataError(f"cannot take rows of a {type(a).__name__}; pass a NumPy/CuPy array, a "
                    "list, a pandas or an xpdb DataFrame/Series")


def _split_sizes(n: int, test_size: Any, train_size: Any) -> tuple[int, int]:
    """scikit-learn's train/test sizes (a float is a fraction, an int a count)."""
    if test_size is None and train_size is None:
        test_size = 0.25

    def count(v: Any, ceil: bool) -> int | None:
        if v is None:
            return None
        if isinstance(v, float):
            if not 0 < v < 1:
                raise DataError(f"train_test_split: size {v!r} must be in (0, 1) as a fraction")
            return math.ceil(v * n) if ceil else math.floor(v * n)
        if not 0 < int(v) < n:
            raise DataError(f"train_test_split: size {v!r} must be in [1, {n - 1}] as a count")
        return int(v)

    n_test = count(test_size, True)
    n_train = count(train_size, False)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n or n_train <= 0 or n_test <= 0:
        raise DataError(f"train_test_split: {n_train} train + {n_test} test rows do not fit "
                        f"in {n} rows; lower test_size or train_size")
    return n_train, n_test


def train_test_split(*arrays: Any, test_size: float | int | None = None,
                     train_size: float | int | None = None, random_state: Any = None,
                     shuffle: bool = True, stratify: Any = None) -> list[Any]:
    """Split arrays or frames into random train and test subsets.

    Takes NumPy/CuPy arrays, lists, pandas and xpdb DataFrames/Series; every part stays
    on its input's device. For the same ``random_state`` the rows are those
    ``sklearn.model_selection.train_test_split`` picks.

    Returns
    -------
    list
        ``[a_train, a_test, b_train, b_test, ...]``.

    Examples
    --------
    >>> X_train, X_test = train_test_split(np.arange(8), test_size=0.25, random_state=0)
    >>> len(X_train), len(X_test)
    (6, 2)
    """
    if not arrays:
        raise DataError("train_test_split needs at least one array")
    n = _n_rows(arrays[0])
    for a in arrays[1:]:
        if _n_rows(a) != n:
            raise DataError(f"train_test_split: inputs have different numbers of rows: {n} "
                            f"and {_n_rows(a)}")
    n_train, n_test = _split_sizes(n, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise DataError("train_test_split: stratify needs shuffle=True")
        train = np.arange(n_train)
        test = np.arange(n_train, n_train + n_test)
    else:
        cv_cls = _sk.StratifiedShuffleSplit if stratify is not None else _sk.ShuffleSplit
        cv = cv_cls(test_size=n_test, train_size=n_train, random_state=random_state)
        y = _host_labels(stratify) if stratify is not None else None
        train, test = next(cv.split(np.zeros((n, 1)), y))
    out = []
    for a in arrays:
        out.extend([take_rows(a, train), take_rows(a, test)])
    return out


def _scorer(scoring: Any) -> Callable[[Any, Any, Any], float]:
    if scoring is None:
        return lambda est, X, y: est.score(X, y)
    if callable(scoring):
        return scoring
    from . import metrics as m

    def predict_score(metric: Callable, sign: float = 1.0, **kw: Any) -> Callable:
        return lambda est, X, y: sign * metric(y, est.predict(X), **kw)

    def proba_score(metric: Callable, sign: float = 1.0, **kw: Any) -> Callable:
        def score(est: Any, X: Any, y: Any) -> float:
            p = est.predict_proba(X)
            if metric is m.roc_auc_score and p.shape[1] == 2:
                p = p[:, 1]
            return sign * metric(y, p, **kw)
        return score

    table = {
        "accuracy": predict_score(m.accuracy_score),
        "precision": predict_score(m.precision_score),
        "recall": predict_score(m.recall_score),
        "f1": predict_score(m.f1_score),
        "f1_macro": predict_score(m.f1_score, average="macro"),
        "f1_weighted": predict_score(m.f1_score, average="weighted"),
        "roc_auc": proba_score(m.roc_auc_score),
        "roc_auc_ovr": proba_score(m.roc_auc_score, multi_class="ovr"),
        "neg_log_loss": proba_score(m.log_loss, -1.0),
        "r2": predict_score(m.r2_score),
        "neg_mean_squared_error": predict_score(m.mean_squared_error, -1.0),
        "neg_mean_absolute_error": predict_score(m.mean_absolute_error, -1.0),
    }
    if scoring not in table:
        raise DataError(f"unknown scoring {scoring!r}; use one of {sorted(table)} or a "
                        "callable scorer(estimator, X, y)")
    return table[scoring]


def cross_val_score(estimator: Any, X: Any, y: Any = None, *, scoring: Any = None,
                    cv: Any = 5) -> np.ndarray:
    """Scores of ``estimator`` refitted on each training fold and scored on the held-out
    fold, for any input kind (xpdb DataFrames included); each fold stays on the data's
    device.

    Parameters
    ----------
    estimator : estimator
        Cloned for every fold.
    X, y : inputs
    scoring : None, str or callable
        None uses ``estimator.score``; strings name xpdb metrics (``"accuracy"``, ``"f1"``,
        ``"roc_auc"``, ``"neg_log_loss"``, ``"r2"``, ``"neg_mean_squared_error"``...).
    cv : int or splitter, default 5
        An int means StratifiedKFold for classifiers, else KFold (as scikit-learn).

    Returns
    -------
    ndarray of float, one score per fold
    """
    score = _scorer(scoring)
    if isinstance(cv, int | np.integer):
        cv = StratifiedKFold(int(cv)) if is_classifier(estimator) and y is not None \
            else KFold(int(cv))
    if isinstance(cv, _sk.BaseCrossValidator | _sk.BaseShuffleSplit | _sk.KFold):
        splits = cv.split(np.zeros((_n_rows(X), 1)),
                          _host_labels(y) if y is not None else None)
    else:
        splits = cv
    scores = []
    for train, test in splits:
        est = clone(estimator)
        y_train = take_rows(y, train)
        est.fit(take_rows(X, train), y_train) if y is not None \
            else est.fit(take_rows(X, train))
        scores.append(float(score(est, take_rows(X, test), take_rows(y, test))))
    return np.asarray(scores)
