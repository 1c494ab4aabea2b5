"""Naive Bayes classifiers on ``xp``: per-class statistics by one matrix product with the
class indicator matrix, predictions by matrix products with the fitted parameters."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ._data import (
    DataError,
    Twin,
    as_weights,
    column_vars,
    decode_labels,
    encode_labels,
    get_xp,
    to_device,
    validate_data,
)

__all__ = ["GaussianNB", "MultinomialNB"]


def _logsumexp(xp: Any, a: Any) -> Any:
    top = a.max(axis=1, keepdims=True)
    return (top + xp.log(xp.exp(a - top).sum(axis=1, keepdims=True)))[:, 0]


class _BaseNB(ClassifierMixin, BaseEstimator):
    """Shared fit bookkeeping and predictions from a joint log likelihood."""

    def _indicator(self, X: Any, y: Any, dev: Any, sample_weight: Any) -> Any:
        """The (weighted) class indicator matrix (n_samples, n_classes); sets classes_ and
        class_count_."""
        classes, codes = encode_labels(y, dev)
        self.classes_ = classes
        xp = dev.xp
        k = int(classes.shape[0])
        onehot = (codes[:, None] == xp.arange(k)[None, :]).astype(X.dtype)
        w = as_weights(sample_weight, X.shape[0], dev, X.dtype)
        if w is not None:
            onehot = onehot * w[:, None]
        self.class_count_ = onehot.sum(axis=0)
        return onehot

    def _priors(self, xp: Any, given: Any, dev: Any) -> Any:
        k = int(self.classes_.shape[0])
        if given is None:
            return self.class_count_ / self.class_count_.sum()
        priors = to_device(np.asarray(given, dtype=np.float64), dev)
        if priors.shape[0] != k:
            raise DataError(f"{type(self).__name__}: {k} classes but {priors.shape[0]} priors")
        if not bool((priors >= 0).all()) or abs(float(priors.sum()) - 1.0) > 1e-8:
            raise DataError(f"{type(self).__name__}: priors must be non-negative and sum to "
                            f"1, got {np.asarray(given).tolist()!r}")
        return priors

    def predict_log_proba(self, X: Any) -> Any:
        """Log class probabilities (n_samples, n_classes) on X's device."""
        jll = self._joint_log_likelihood(X)
        xp = get_xp(jll)
        return jll - _logsumexp(xp, jll)[:, None]

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities (n_samples, n_classes) on X's device."""
        log_proba = self.predict_log_proba(X)
        return get_xp(log_proba).exp(log_proba)

    def predict(self, X: Any) -> Any:
        """The most probable class of every sample, on X's device."""
        codes = self._joint_log_likelihood(X).argmax(axis=1)  # checks fitted state first
        return decode_labels(self.classes_, codes)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of the predictions (computed on the data's device)."""
        from .metrics import accuracy_score

        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)


class GaussianNB(_BaseNB):
    """Gaussian naive Bayes: per class, an independent normal distribution per feature.

    Parameters
    ----------
    priors : array-like (n_classes,), optional
        Class priors; by default the class frequencies.
    var_smoothing : float, default 1e-9
        Share of the largest feature variance added to every variance.

    Attributes
    ----------
    classes_, class_count_, class_prior_ : arrays (n_classes,)
    theta_, var_ : arrays (n_classes, n_features)
    epsilon_ : float
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> X = np.array([[0.0], [0.2], [3.0], [3.2]])
    >>> GaussianNB().fit(X, [0, 0, 1, 1]).predict(np.array([[0.1], [2.9]])).tolist()
    [0, 1]
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.naive_bayes.GaussianNB", "multiclass", "log_loss", 1e-9),
    )

    def __init__(self, *, priors: Any = None, var_smoothing: float = 1e-9):
        self.priors = priors
        self.var_smoothing = var_smoothing

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GaussianNB:
        """Fit the per-class (weighted) means and variances of ``X``."""
        X, y, dev = validate_data(self, X, y, dtype="numeric", y_dtype=None, y_required=True)
        xp = dev.xp
        onehot = self._indicator(X, y, dev, sample_weight)
        counts = self.class_count_
        self.epsilon_ = float(self.var_smoothing) * float(column_vars(xp, X).max())
        self.theta_ = (onehot.T @ X) / counts[:, None]
        # centered second moments: stable where the means are large
        resid = X - (onehot > 0).astype(X.dtype) @ self.theta_
        self.var_ = (onehot.T @ (resid * resid)) / counts[:, None] + self.epsilon_
        self.class_prior_ = self._priors(xp, self.priors, dev).astype(X.dtype)
        return self

    def _joint_log_likelihood(self, X: Any) -> Any:
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric")
        xp = dev.xp
        theta = to_device(self.theta_, dev)
        var = to_device(self.var_, dev)
        prior = to_device(self.class_prior_, dev)
        # one pass per class (not per row) keeps memory at n x p and matches scikit-learn's
        # rounding; the expanded matrix-product form loses digits where means are large
        quad = xp.stack([(((X - theta[c]) ** 2) / var[c]).sum(axis=1)
                         for c in range(theta.shape[0])], axis=1)
        norm = -0.5 * xp.log(2.0 * np.pi * var).sum(axis=1)
        with np.errstate(divide="ignore"):
            log_prior = xp.log(prior)
        return log_prior + norm - 0.5 * quad


class MultinomialNB(_BaseNB):
    """Multinomial naive Bayes for counts (word counts, frequencies).

    Parameters
    ----------
    alpha : float, default 1.0
        Additive (Laplace/Lidstone) smoothing.
    force_alpha : bool, default True
        Use ``alpha`` as given even when tiny (else it is raised to 1e-10).
    fit_prior : bool, default True
        Learn class priors; False uses uniform priors.
    class_prior : array-like, optional

    Attributes
    ----------
    classes_, class_count_, class_log_prior_ : arrays (n_classes,)
    feature_count_, feature_log_prob_ : arrays (n_classes, n_features)
    n_features_in_, feature_names_in_
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.naive_bayes.MultinomialNB", "counts", "log_loss", 1e-9),
        Twin("sklearn.naive_bayes.MultinomialNB", "counts", "log_loss", 1e-9,
             {"alpha": 0.3, "fit_prior": False}),
    )

    def __init__(self, *, alpha: float = 1.0, force_alpha: bool = True, fit_prior: bool = True,
                 class_prior: Any = None):
        self.alpha = alpha
        self.force_alpha = force_alpha
        self.fit_prior = fit_prior
        self.class_prior = class_prior

    def _check_counts(self, X: Any, dev: Any) -> None:
        if bool((X < 0).any()):
            raise DataError(f"{type(self).__name__} needs non-negative features (counts), but "
                            f"X holds negative values (min {float(X.min())!r}); use GaussianNB "
                            "or shift the features with MinMaxScaler")

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MultinomialNB:
        """Fit the smoothed per-class feature distributions of count data ``X`` (rows
        optionally weighted)."""
        alpha = float(self.alpha)
        if alpha < 0:
            raise DataError(f"MultinomialNB alpha={self.alpha!r} must be >= 0")
        if not self.force_alpha and alpha < 1e-10:
            alpha = 1e-10
        X, y, dev = validate_data(self, X, y, dtype="numeric", y_dtype=None, y_required=True)
        xp = dev.xp
        self._check_counts(X, dev)
        onehot = self._indicator(X, y, dev, sample_weight)
        self.feature_count_ = onehot.T @ X
        smoothed = self.feature_count_ + alpha
        with np.errstate(divide="ignore"):
            self.feature_log_prob_ = xp.log(smoothed) - xp.log(smoothed.sum(axis=1,
                                                                            keepdims=True))
            k = int(self.classes_.shape[0])
            if self.class_prior is not None:
                self.class_log_prior_ = xp.log(self._priors(xp, self.class_prior, dev))
            elif self.fit_prior:
                self.class_log_prior_ = xp.log(self.class_count_) - np.log(
                    float(self.class_count_.sum()))
            else:
                self.class_log_prior_ = xp.full(k, -np.log(k), dtype=X.dtype)
        return self

    def _joint_log_likelihood(self, X: Any) -> Any:
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric")
        self._check_counts(X, dev)
        return X @ to_device(self.feature_log_prob_, dev).T + to_device(self.class_log_prior_,
                                                                        dev)
