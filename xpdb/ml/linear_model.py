"""Linear models on ``xp``: least squares, ridge, lasso/elastic net, logistic regression and
minibatch SGD.

The heavy work is a few matrix products over the data on its device: the Gram matrix
``X.T @ X`` for the least-squares family (then a ``p x p`` solve), ``X @ W`` and ``X.T @ G``
per iteration for logistic regression and SGD. What is left is small (``p x p`` or
``n_classes x p``), so solvers that need many tiny sequential steps (coordinate descent on
the Gram matrix, L-BFGS-B's bookkeeping) run on the host on those small arrays, never on
per-row data. No loop runs over rows.

Objectives are scikit-learn's, so coefficients agree with it for the deterministic models.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if

from ..kernels._xp import is_numpy
from ._data import (
    DataError,
    IterationLog,
    Twin,
    as_1d,
    as_2d,
    as_weights,
    check_is_fitted,
    column_means,
    decode_labels,
    encode_labels,
    get_xp,
    to_device,
    validate_data,
)
from ._threads import map_blocks, n_threads

__all__ = [
    "ElasticNet",
    "Lasso",
    "LinearRegression",
    "LogisticRegression",
    "Ridge",
    "SGDClassifier",
    "SGDRegressor",
]


# -- shared pieces --------------------------------------------------------------------------


def _gram(xp: Any, A: Any, B: Any = None, block: int | None = None) -> Any:
    """``A.T @ B`` (``B`` defaults to ``A``; 1-d ``B`` gives a vector) for tall ``A``.

    The plain product by default: on an H100 cuBLAS takes 1.9 ms for 5M x 50 float64, the
    blocked variant (row blocks as one batched GEMM, then summed) 4.2 ms. ``block`` asks for
    the blocked one (kept for very tall inputs and tested).
    """
    B = A if B is None else B
    n = A.shape[0]
    if block is None or n < 2 * block or A.shape[1] > 1024:
        return A.T @ B
    k = n // block
    m = k * block
    Ab = A[:m].reshape(k, block, A.shape[1]).transpose(0, 2, 1)
    vec = B.ndim == 1
    Bb = B[:m].reshape(k, block, 1 if vec else B.shape[1])
    out = xp.matmul(Ab, Bb).sum(axis=0)
    if m < n:
        out = out + A[m:].T @ (B[m:, None] if vec else B[m:])
    return out[:, 0] if vec else out


def _center(xp: Any, X: Any, y: Any, fit_intercept: bool,
            w: Any = None) -> tuple[Any, Any, Any, Any]:
    """Centered copies of X and y (when fitting an intercept) and their (weighted) means;
    with sample weights ``w`` the rows are scaled by ``sqrt(w)`` so that plain least squares
    on the result is the weighted problem."""
    if not fit_intercept:
        x_mean, y_mean = xp.zeros(X.shape[1], dtype=X.dtype), xp.zeros((), dtype=X.dtype)
    elif w is None:
        x_mean, y_mean = column_means(xp, X), y.mean(axis=0)
    else:
        total = w.sum()
        x_mean, y_mean = (w @ X) / total, (w @ y) / total  # (p,) and () or (n_outputs,)
    Xc, yc = (X - x_mean, y - y_mean) if fit_intercept else (X, y)
    if w is not None:
        root = xp.sqrt(w)
        Xc, yc = Xc * root[:, None], yc * (root if yc.ndim == 1 else root[:, None])
    return Xc, yc, x_mean, y_mean


def _regression_targets(y: Any, dev: Any, n: int, dtype: Any) -> Any:
    """``y`` as (n,) or, for several outputs, (n, n_outputs) on ``dev``."""
    if getattr(y, "ndim", 1) == 2 and y.shape[1] > 1:
        arr = to_device(as_2d(y, name="y")[0], dev).astype(dtype, copy=False)
    else:
        arr = as_1d(y, dev, dtype=dtype)
    if arr.shape[0] != n:
        raise DataError(f"X has {n} rows but y has {arr.shape[0]}; they must have one target "
                        "per sample")
    return arr


class _LinearRegressor(RegressorMixin, BaseEstimator):
    """predict/score for models with ``coef_`` (p,) or (n_outputs, p) and
    ``intercept_``."""

    def predict(self, X: Any) -> Any:
        """Predicted targets on X's device: (n_samples,), or (n_samples, n_outputs) for a
        model fitted on several outputs."""
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric")
        coef = to_device(self.coef_, dev).astype(X.dtype, copy=False)
        return X @ coef.T + to_device(self.intercept_, dev)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 of the predictions (computed on the data's device)."""
        from .metrics import r2_score

        return r2_score(y, self.predict(X), sample_weight=sample_weight)

    def _finish(self, xp: Any, coef: Any, x_mean: Any, y_mean: Any) -> None:
        """Store ``coef`` ((p,) or (p, n_outputs) from the solve) as scikit-learn's
        ``coef_`` ((p,) or (n_outputs, p)) and the intercept."""
        self.coef_ = coef.T if coef.ndim == 2 else coef
        if self.fit_intercept:
            self.intercept_ = y_mean - x_mean @ coef
        else:
            self.intercept_ = xp.zeros((), dtype=coef.dtype)  # 0.0 as scikit-learn


class LinearRegression(_LinearRegressor):
    """Ordinary least squares through the normal equations.

    Solves ``(Xc.T @ Xc) w = Xc.T @ yc`` on centered data with a least-squares solve of the
    small ``p x p`` system (minimum-norm coefficients when features are collinear).

    Parameters
    ----------
    fit_intercept : bool, default True

    Attributes
    ----------
    coef_ : array of shape (n_features,), or (n_targets, n_features) for 2-d ``y``
    intercept_ : 0-d array, or (n_targets,)
    n_features_in_ : int
    feature_names_in_ : array of str
        Only for frames with string column names.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> float(LinearRegression().fit(X, [1.0, 3.0, 5.0]).coef_[0])
    2.0
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.linear_model.LinearRegression", "regression", "coef", 1e-8),
    )

    def __init__(self, *, fit_intercept: bool = True):
        self.fit_intercept = fit_intercept

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegression:
        """Fit on ``X`` (n_samples, n_features) and targets ``y`` (n_samples,), optionally
        weighting the samples."""
        if y is None:
            raise DataError(f"{type(self).__name__}.fit requires y (the targets), but y is "
                            "None; call fit(X, y)")
        X, _, dev = validate_data(self, X, dtype="numeric")
        xp = dev.xp
        y = _regression_targets(y, dev, X.shape[0], X.dtype)
        w = as_weights(sample_weight, X.shape[0], dev, X.dtype)
        Xc, yc, x_mean, y_mean = _center(xp, X, y, self.fit_intercept, w)
        gram = _gram(xp, Xc)
        coef = xp.linalg.lstsq(gram, _gram(xp, Xc, yc), rcond=None)[0]
        self._finish(xp, coef, x_mean, y_mean)
        return self


class Ridge(_LinearRegressor):
    """Least squares with an L2 penalty: minimizes ``||y - Xw||^2 + alpha ||w||^2``.

    Solved by a Cholesky-based solve of ``(Xc.T @ Xc + alpha I) w = Xc.T @ yc`` (scikit-learn's
    ``solver="cholesky"``, its default for dense data).

    Parameters
    ----------
    alpha : float, default 1.0
    fit_intercept : bool, default True

    Attributes
    ----------
    coef_, intercept_, n_features_in_, feature_names_in_
        As :class:`LinearRegression`.
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.linear_model.Ridge", "regression", "coef", 1e-8, {"alpha": 3.0}),
    )

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True):
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Ridge:
        """Fit on ``X`` (n_samples, n_features) and targets ``y`` (n_samples,), optionally
        weighting the samples (``sum w_i (y_i - x_i w)^2 + alpha ||w||^2``)."""
        if not float(self.alpha) >= 0:
            raise DataError(f"Ridge alpha={self.alpha!r} must be >= 0")
        if y is None:
            raise DataError(f"{type(self).__name__}.fit requires y (the targets), but y is "
                            "None; call fit(X, y)")
        X, _, dev = validate_data(self, X, dtype="numeric")
        xp = dev.xp
        y = _regression_targets(y, dev, X.shape[0], X.dtype)
        w = as_weights(sample_weight, X.shape[0], dev, X.dtype)
        Xc, yc, x_mean, y_mean = _center(xp, X, y, self.fit_intercept, w)
        gram = _gram(xp, Xc)
        gram[xp.diag_indices_from(gram)] += float(self.alpha)
        rhs = _gram(xp, Xc, yc)
        coef = None
        if float(self.alpha) > 0:  # positive definite: Cholesky
            try:
                coef = _cho_solve(xp, xp.linalg.cholesky(gram), rhs)
            except np.linalg.LinAlgError:
                coef = None
            # CuPy reports a failed factorization by NaNs rather than an exception
            if coef is not None and not bool(xp.isfinite(coef).all()):
                coef = None
        if coef is None:
            # alpha == 0 (or numerically singular): minimum-norm least squares
            coef = xp.linalg.lstsq(gram, rhs, rcond=None)[0]
        self._finish(xp, coef, x_mean, y_mean)
        return self


def _cho_solve(xp: Any, chol: Any, b: Any) -> Any:
    """Solve ``L L^T x = b`` with the lower Cholesky factor ``L``."""
    return xp.linalg.solve(chol.T, xp.linalg.solve(chol, b))


# -- lasso and elastic net ----------------------------------------------------------------
def _enet_gram_cd(gram: np.ndarray, q: np.ndarray, y_norm2: float, l1_reg: float,
                  l2_reg: float, log: IterationLog, tol: float, positive: bool) -> tuple:
    """Cyclic coordinate descent on the Gram matrix (scikit-learn's ``precompute`` path).

    Minimizes ``0.5 w'Gw - q'w + 0.5 y'y + l1_reg |w|_1 + 0.5 l2_reg |w|^2`` and stops when
    the duality gap is below ``tol * y'y``. Runs on the host: the arrays are ``p x p``.
    """
    p = gram.shape[0]
    w = np.zeros(p)
    h = np.zeros(p)  # gram @ w, kept up to date
    diag = np.diag(gram).copy()
    tol = tol * y_norm2
    gap = np.inf
    while log.next():
        w_max = 0.0
        d_w_max = 0.0
        for j in range(p):
            if diag[j] == 0.0:
                continue
            w_j = w[j]
            tmp = q[j] - h[j] + w_j * diag[j]
            if positive and tmp < 0:
                new = 0.0
            else:
                new = np.sign(tmp) * max(abs(tmp) - l1_reg, 0.0) / (diag[j] + l2_reg)
            if new != w_j:
                h += (new - w_j) * gram[:, j]
                w[j] = new
            d_w_max = max(d_w_max, abs(new - w_j))
            w_max = max(w_max, abs(new))
        if w_max == 0.0 or d_w_max / w_max < 1e-4 or log.n_iter == log.max_iter:
            q_dot_w = float(w @ q)
            xta = q - h - l2_reg * w
            dual_norm = float(np.max(xta)) if positive else float(np.max(np.abs(xta)))
            r_norm2 = y_norm2 + float(w @ h) - 2.0 * q_dot_w
            w_norm2 = float(w @ w)
            if dual_norm > l1_reg:
                const = l1_reg / dual_norm
                gap = 0.5 * (r_norm2 + r_norm2 * const**2)
            else:
                const = 1.0
                gap = r_norm2
            gap += (l1_reg * float(np.abs(w).sum()) - const * y_norm2 + const * q_dot_w
                    + 0.5 * l2_reg * (1 + const**2) * w_norm2)
            log.log(dual_gap=gap)
            if gap < tol:
                log.converged()
                break
    return w, gap, tol


class ElasticNet(_LinearRegressor):
    """Linear regression with combined L1 and L2 penalties (scikit-learn's objective)::

        1 / (2 n) ||y - Xw||^2 + alpha l1_ratio ||w||_1 + 0.5 alpha (1 - l1_ratio) ||w||^2

    The Gram matrix ``X.T @ X`` is computed where the data lives (one pass); coordinate
    descent then runs on that ``p x p`` matrix, stopping on the duality gap as scikit-learn.

    Parameters
    ----------
    alpha : float, default 1.0
    l1_ratio : float, default 0.5
    fit_intercept : bool, default True
    max_iter : int, default 1000
        Coordinate-descent sweeps.
    tol : float, default 1e-4
        Duality-gap tolerance, relative to ``y'y``.
    positive : bool, default False
        Constrain coefficients to be non-negative.
    time_budget : float, optional
        Stop after this many seconds (a ConvergenceWarning says so).
    verbose : bool or int, default False
        Print the duality gap at each check.

    Attributes
    ----------
    coef_, intercept_, n_features_in_, feature_names_in_
    n_iter_ : int
    dual_gap_ : float
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.linear_model.ElasticNet", "regression", "coef", 1e-3,
             {"alpha": 0.5, "l1_ratio": 0.5, "tol": 1e-8}),
    )

    def __init__(self, alpha: float = 1.0, *, l1_ratio: float = 0.5, fit_intercept: bool = True,
                 max_iter: int = 1000, tol: float = 1e-4, positive: bool = False,
                 time_budget: float | None = None, verbose: bool | int = False):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.positive = positive
        self.time_budget = time_budget
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> ElasticNet:
        """Fit on ``X`` (n_samples, n_features) and targets ``y`` (n_samples,)."""
        if not 0.0 <= float(self.l1_ratio) <= 1.0:
            raise DataError(f"{type(self).__name__} l1_ratio={self.l1_ratio!r} must be in [0, 1]")
        if not float(self.alpha) >= 0:
            raise DataError(f"{type(self).__name__} alpha={self.alpha!r} must be >= 0")
        X, y, dev = validate_data(self, X, y, dtype="numeric", y_required=True)
        xp = dev.xp
        y = y.astype(X.dtype, copy=False)
        Xc, yc, x_mean, y_mean = _center(xp, X, y, self.fit_intercept)
        n = X.shape[0]
        gram = dev.to_host(_gram(xp, Xc)).astype(np.float64)
        q = dev.to_host(_gram(xp, Xc, yc)).astype(np.float64)
        y_norm2 = float(yc @ yc)
        log = IterationLog(type(self).__name__, self.max_iter, self.time_budget, self.verbose)
        alpha = float(self.alpha) * n
        w, gap, tol = _enet_gram_cd(gram, q, y_norm2, alpha * float(self.l1_ratio),
                                    alpha * (1.0 - float(self.l1_ratio)), log,
                                    float(self.tol), bool(self.positive))
        if log.stopped_by != "tol":
            warnings.warn(
                f"{type(self).__name__}: objective did not converge (stopped by "
                f"{log.stopped_by} after {log.n_iter} iterations; duality gap {gap:.3g}, "
                f"tolerance {tol:.3g}); raise max_iter/time_budget or scale the features",
                ConvergenceWarning, stacklevel=2)
        self.n_iter_ = log.n_iter
        self.dual_gap_ = gap / n
        self._finish(xp, to_device(w.astype(X.dtype), dev), x_mean, y_mean)
        return self


class Lasso(ElasticNet):
    """Linear regression with an L1 penalty: :class:`ElasticNet` with ``l1_ratio=1``::

        1 / (2 n) ||y - Xw||^2 + alpha ||w||_1

    Parameters
    ----------
    alpha : float, default 1.0
    fit_intercept, max_iter, tol, positive, time_budget, verbose
        As :class:`ElasticNet`.
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.linear_model.Lasso", "regression", "coef", 1e-3,
             {"alpha": 0.5, "tol": 1e-8}),
    )

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, max_iter: int = 1000,
                 tol: float = 1e-4, positive: bool = False, time_budget: float | None = None,
                 verbose: bool | int = False):
        super().__init__(alpha, l1_ratio=1.0, fit_intercept=fit_intercept, max_iter=max_iter,
                         tol=tol, positive=positive, time_budget=time_budget, verbose=verbose)

    @property
    def l1_ratio(self) -> float:
        return 1.0

    @l1_ratio.setter
    def l1_ratio(self, value: float) -> None:
        pass


# -- classifiers ----------------------------------------------------------------------------
class _LinearClassifier(ClassifierMixin, BaseEstimator):
    """decision_function/predict/score for ``coef_`` (k, p), ``intercept_`` (k,)."""

    def decision_function(self, X: Any) -> Any:
        """Scores per class ((n,) for two classes, else (n, n_classes)) on X's device."""
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric")
        coef = to_device(self.coef_, dev).astype(X.dtype, copy=False)
        scores = X @ coef.T + to_device(self.intercept_, dev)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> Any:
        """Predicted class labels (from ``classes_``) on X's device."""
        scores = self.decision_function(X)
        codes = (scores > 0).astype(np.int64) if scores.ndim == 1 else scores.argmax(axis=1)
        return decode_labels(self.classes_, codes)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of the predictions (computed on the data's device)."""
        from .metrics import accuracy_score

        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)

    def _labels(self, y: Any, dev: Any) -> tuple[Any, Any]:
        classes, codes = encode_labels(y, dev)
        if classes.shape[0] < 2:
            msg = (f"{type(self).__name__} needs samples of at least 2 classes in y, but the "
                   f"data contains only one class: {classes.tolist()!r}")
            raise DataError(msg)
        self.classes_ = classes
        return classes, codes

    def _weights(self, sample_weight: Any, codes: Any, n: int, dev: Any, dtype: Any) -> Any:
        """Sample weights times the class weights (None when neither is given)."""
        w = as_weights(sample_weight, n, dev, dtype)
        cw = self.class_weight
        if cw is None:
            return w
        xp = dev.xp
        k = int(self.classes_.shape[0])
        if cw == "balanced":
            # n / (k * count_c): scikit-learn's "balanced", from the unweighted counts
            counts = xp.bincount(codes, minlength=k).astype(dtype)
            per_class = n / (k * counts)
        elif isinstance(cw, dict):
            host = self.classes_ if isinstance(self.classes_, np.ndarray) \
                else dev.to_host(self.classes_)
            unknown = [c for c in cw if c not in set(host.tolist())]
            if unknown:
                raise DataError(f"{type(self).__name__}: class_weight names classes "
                                f"{unknown!r} that are not in y ({host.tolist()!r})")
            per_class = to_device(np.asarray([float(cw.get(c, 1.0)) for c in host.tolist()],
                                             dtype=dtype), dev)
        else:
            raise DataError(f"{type(self).__name__} class_weight={cw!r}: use None, "
                            "'balanced' or a dict {class: weight}")
        cls_w = per_class[codes]
        return cls_w if w is None else w * cls_w


#: Bytes of rows per block of LogisticRegression's loss and gradient: CPU blocks run on
#: threads (and stay few enough that Python's per-block work is small); a GPU takes the
#: data whole.
LOSS_BLOCK_BYTES = {"cpu": 1 << 24, "gpu": 1 << 62}


def _log_softmax(xp: Any, z: Any) -> Any:
    z = z - z.max(axis=1, keepdims=True)
    return z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))


def _sigmoid(xp: Any, z: Any) -> Any:
    return 0.5 * (1.0 + xp.tanh(0.5 * z))  # overflow-free logistic function


class LogisticRegression(_LinearClassifier):
    """Logistic regression, binary and multinomial, with L2, L1 or elastic-net penalty.

    Minimizes scikit-learn's objective, ``C * sum(loss) + penalty(w)`` (divided by
    ``C * n`` for conditioning), with L-BFGS-B: the loss and gradient are two matrix
    products over the data on its device per evaluation; only the ``(k, p)`` coefficients
    go to the host for the quasi-Newton step. The L1 part is made smooth by splitting
    ``w = w+ - w-`` with ``w+, w- >= 0`` (bounds L-BFGS-B handles), which gives exact zeros.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, default "l2"
    C : float, default 1.0
        Inverse regularization strength.
    l1_ratio : float, optional
        The L1 share for ``penalty="elasticnet"`` (0 is L2, 1 is L1).
    fit_intercept : bool, default True
    class_weight : dict, "balanced" or None
        Weights per class (multiplying ``sample_weight``); "balanced" uses
        ``n_samples / (n_classes * count)``.
    max_iter : int, default 100
        L-BFGS-B iterations.
    tol : float, default 1e-4
        Gradient tolerance (scikit-learn's ``gtol``).
    time_budget : float, optional
        Stop after this many seconds (a ConvergenceWarning says so).
    verbose : bool or int, default False
        Print the objective at every iteration.
    n_jobs : int, optional
        On the CPU, threads computing the loss and gradient over blocks of rows side by
        side (joblib's counting, -1: every core); None uses every core, as scikit-learn's
        L-BFGS loss does. The fit is the same for every value. Ignored on the GPU.

    Attributes
    ----------
    classes_ : array (n_classes,)
    coef_ : array (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : array (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,)
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> LogisticRegression().fit(X, [0, 0, 1, 1]).predict(X).tolist()
    [0, 0, 1, 1]
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.linear_model.LogisticRegression", "binary", "coef", 1e-4,
             {"C": 0.5, "tol": 1e-8, "max_iter": 500}),
        Twin("sklearn.linear_model.LogisticRegression", "multiclass", "coef", 1e-4,
             {"C": 0.5, "tol": 1e-8, "max_iter": 500}),
        Twin("sklearn.linear_model.LogisticRegression", "multiclass", "log_loss", 1e-4,
             {"penalty": "l1", "C": 0.5, "tol": 1e-8, "max_iter": 1000},
             {"l1_ratio": 1.0, "C": 0.5, "solver": "saga", "tol": 1e-8, "max_iter": 5000}),
        Twin("sklearn.linear_model.LogisticRegression", "binary", "log_loss", 1e-4,
             {"penalty": "l1", "C": 0.2, "tol": 1e-8, "max_iter": 1000},
             {"l1_ratio": 1.0, "C": 0.2, "solver": "saga", "tol": 1e-8, "max_iter": 5000}),
    )

    def __init__(self, penalty: str | None = "l2", *, C: float = 1.0,
                 l1_ratio: float | None = None, fit_intercept: bool = True,
                 class_weight: dict | str | None = None, max_iter: int = 100,
                 tol: float = 1e-4, time_budget: float | None = None,
                 verbose: bool | int = False, n_jobs: int | None = None):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.time_budget = time_budget
        self.verbose = verbose
        self.n_jobs = n_jobs

    def _l1_share(self) -> float:
        if self.penalty is None or self.penalty == "none":
            return 0.0
        if self.penalty == "l2":
            return 0.0
        if self.penalty == "l1":
            return 1.0
        if self.penalty == "elasticnet":
            if self.l1_ratio is None or not 0.0 <= float(self.l1_ratio) <= 1.0:
                raise DataError(f"LogisticRegression penalty='elasticnet' needs l1_ratio in "
                                f"[0, 1], got {self.l1_ratio!r}")
            return float(self.l1_ratio)
        raise DataError(f"LogisticRegression penalty={self.penalty!r} is not one of 'l2', "
                        "'l1', 'elasticnet' or None")

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogisticRegression:
        """Fit on ``X`` (n_samples, n_features) and class labels ``y`` (n_samples,),
        optionally weighting the samples (scikit-learn's ``C * sum(w_i loss_i)``)."""
        from scipy.optimize import minimize

        l1 = self._l1_share()
        if not float(self.C) > 0:
            raise DataError(f"LogisticRegression C={self.C!r} must be positive")
        X, y, dev = validate_data(self, X, y, dtype="numeric", y_dtype=None, y_required=True)
        xp = dev.xp
        classes, codes = self._labels(y, dev)
        n, p = X.shape
        w = self._weights(sample_weight, codes, n, dev, X.dtype)
        total = float(n) if w is None else float(w.sum())
        # per-sample factor of the averaged loss: 1/n, or w_i / sum(w)
        scale = (1.0 / n) if w is None else (w / total)[:, None]
        k = 1 if classes.shape[0] == 2 else int(classes.shape[0])
        if k == 1:
            target = codes.astype(X.dtype)
        else:
            target = (codes[:, None] == xp.arange(k)[None, :]).astype(X.dtype)
        # penalty strength on the averaged loss (penalty=None: unpenalized, as scikit-learn)
        alpha = 0.0 if self.penalty is None or self.penalty == "none" \
            else 1.0 / (float(self.C) * total)
        a1, a2 = alpha * l1, alpha * (1.0 - l1)
        n_coef = k * p
        n_int = k if self.fit_intercept else 0
        split = a1 > 0

        def unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            if split:  # coef = w+ - w-, both bounded below by 0
                coef = theta[:n_coef] - theta[n_coef:2 * n_coef]
                b = theta[2 * n_coef:]
            else:
                coef, b = theta[:n_coef], theta[n_coef:]
            return coef.reshape(k, p), (b if n_int else np.zeros(k))

        # the loss and gradient by blocks of rows, summed in block order (the same for any
        # number of threads): on the CPU the elementwise work runs on every core, as
        # scikit-learn's OpenMP loss; on a GPU the data is one block
        rows = max(1, LOSS_BLOCK_BYTES["cpu" if is_numpy(xp) else "gpu"]
                   // max(1, p * X.dtype.itemsize))
        blocks = [slice(i, min(i + rows, n)) for i in range(0, n, rows)]
        threads = n_threads("LogisticRegression", self.n_jobs, default=-1)

        def partial(r: slice, W: Any, b: Any) -> tuple[Any, Any, Any]:
            z = X[r] @ W.T + b
            t = target[r]
            if k == 1:
                z = z[:, 0]
                # log(1 + e^z) - y z, stable for large |z|
                loss = xp.logaddexp(0.0, z) - t * z
                grad_z = (_sigmoid(xp, z) - t)[:, None]
            else:
                logp = _log_softmax(xp, z)
                loss = -(logp * t).sum(axis=1)
                grad_z = xp.exp(logp) - t
            grad_z = grad_z * (scale if w is None else scale[r])
            loss_sum = loss.sum() if w is None else (loss * w[r]).sum()
            return loss_sum, grad_z.T @ X[r], grad_z.sum(axis=0)

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w_h, b_h = unpack(theta)
            W = to_device(w_h, dev).astype(X.dtype)
            b = to_device(b_h, dev).astype(X.dtype)
            sums = map_blocks(xp, lambda r: partial(r, W, b), blocks, threads)
            loss_sum, g, g0 = sums[0]
            for ls, gb, g0b in sums[1:]:
                loss_sum, g, g0 = loss_sum + ls, g + gb, g0 + g0b
            gw = dev.to_host(g).astype(np.float64) + a2 * w_h
            mean_loss = float(loss_sum) / (n if w is None else total)
            f = mean_loss + 0.5 * a2 * float((w_h**2).sum())
            parts = []
            if split:
                f += a1 * float(theta[:2 * n_coef].sum())
                parts = [gw.ravel() + a1, -gw.ravel() + a1]
            else:
                parts = [gw.ravel()]
            if n_int:
                parts.append(dev.to_host(g0).astype(np.float64))
            return f, np.concatenate(parts)

        log = IterationLog("LogisticRegression", self.max_iter, self.time_budget, self.verbose)
        n_theta = (2 if split else 1) * n_coef + n_int
        bounds = [(0.0, None)] * (2 * n_coef) + [(None, None)] * n_int if split else None

        def callback(intermediate_result: Any) -> None:
            log.log(objective=intermediate_result.fun)
            if not log.next():
                raise StopIteration

        log.next()
        res = minimize(fun, np.zeros(n_theta), jac=True, method="L-BFGS-B", bounds=bounds,
                       callback=callback,
                       options={"maxiter": int(self.max_iter), "maxls": 50,
                                "gtol": float(self.tol), "ftol": 64 * np.finfo(float).eps})
        if not res.success:
            why = "time_budget" if log.stopped_by == "time_budget" else res.message
            warnings.warn(f"LogisticRegression did not converge ({why}) after {res.nit} "
                          "iterations; raise max_iter/time_budget or scale the features "
                          "(StandardScaler)", ConvergenceWarning, stacklevel=2)
        elif log.verbose:
            log.converged()
        w_h, b_h = unpack(res.x)
        self.coef_ = to_device(w_h, dev).astype(X.dtype)
        self.intercept_ = to_device(b_h, dev).astype(X.dtype)
        self.n_iter_ = np.asarray([res.nit], dtype=np.int32)
        return self

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_samples, n_classes), on X's device."""
        scores = self.decision_function(X)
        xp = get_xp(scores)
        if scores.ndim == 1:
            p1 = _sigmoid(xp, scores)
            return xp.stack([1.0 - p1, p1], axis=1)
        return xp.exp(_log_softmax(xp, scores))

    def predict_log_proba(self, X: Any) -> Any:
        """Logarithms of :meth:`predict_proba`."""
        scores = self.decision_function(X)
        xp = get_xp(scores)
        if scores.ndim == 1:
            return _log_softmax(xp, xp.stack([xp.zeros_like(scores), scores], axis=1))
        return _log_softmax(xp, scores)


# -- stochastic gradient descent -------------------------------------------------------------
_CLF_LOSSES = ("hinge", "log_loss", "squared_hinge", "modified_huber", "perceptron")
_REG_LOSSES = ("squared_error", "huber", "epsilon_insensitive")


def _loss_grad(xp: Any, loss: str, z: Any, t: Any, epsilon: float) -> tuple[Any, Any]:
    """Per-sample loss and its derivative in the score ``z`` (classes: ``t`` in {-1, 1})."""
    if loss in {"hinge", "perceptron"}:
        margin = 1.0 if loss == "hinge" else 0.0
        m = t * z
        return xp.maximum(margin - m, 0.0), xp.where(m < margin, -t, 0.0)
    if loss == "squared_hinge":
        r = xp.maximum(1.0 - t * z, 0.0)
        return r * r, -2.0 * t * r
    if loss == "log_loss":
        m = t * z
        return xp.logaddexp(0.0, -m), -t * _sigmoid(xp, -m)
    if loss == "modified_huber":
        m = t * z
        quad = xp.maximum(1.0 - m, 0.0) ** 2
        value = xp.where(m >= -1.0, quad, -4.0 * m)
        return value, xp.where(m >= -1.0, -2.0 * t * xp.maximum(1.0 - m, 0.0), -4.0 * t)
    r = z - t
    if loss == "squared_error":
        return 0.5 * r * r, r
    if loss == "huber":
        a = xp.abs(r)
        value = xp.where(a <= epsilon, 0.5 * r * r, epsilon * a - 0.5 * epsilon**2)
        return value, xp.clip(r, -epsilon, epsilon)
    if loss == "epsilon_insensitive":
        return xp.maximum(xp.abs(r) - epsilon, 0.0), xp.where(xp.abs(r) > epsilon, xp.sign(r), 0.0)
    raise DataError(f"unknown loss {loss!r}")


class _BaseSGD(BaseEstimator):
    """Minibatch SGD on ``xp`` shared by SGDClassifier and SGDRegressor."""

    def _check_params(self, losses: tuple[str, ...]) -> None:
        name = type(self).__name__
        if self.loss not in losses:
            raise DataError(f"{name} loss={self.loss!r} is not one of {list(losses)}")
        if self.penalty not in ("l2", "l1", "elasticnet", None):
            raise DataError(f"{name} penalty={self.penalty!r}: use 'l2', 'l1', 'elasticnet' "
                            "or None")
        if self.learning_rate not in ("optimal", "constant", "invscaling", "adaptive"):
            raise DataError(f"{name} learning_rate={self.learning_rate!r}: use 'optimal', "
                            "'constant', 'invscaling' or 'adaptive'")
        if self.learning_rate != "optimal" and not float(self.eta0) > 0:
            raise DataError(f"{name} eta0={self.eta0!r} must be > 0 for "
                            f"learning_rate={self.learning_rate!r}")
        if not float(self.alpha) >= 0:
            raise DataError(f"{name} alpha={self.alpha!r} must be >= 0")
        if self.learning_rate == "optimal" and float(self.alpha) == 0:
            raise DataError(f"{name}: alpha must be > 0 with learning_rate='optimal' (the "
                            "step is 1 / (alpha t)); raise alpha or use 'invscaling'")

    def _sgd(self, X: Any, T: Any, dev: Any, w: Any = None) -> tuple[Any, Any]:
        """Minimize mean loss + penalty over W (k, p), b (k,) for targets T (n, k), each
        sample's loss weighted by ``w`` (None: all 1)."""
        xp = dev.xp
        n, p = X.shape
        k = T.shape[1]
        W = xp.zeros((k, p), dtype=X.dtype)
        b = xp.zeros(k, dtype=X.dtype)
        alpha = float(self.alpha)
        l1 = {"l1": 1.0, "elasticnet": float(self.l1_ratio)}.get(self.penalty, 0.0)
        a1 = alpha * l1 if self.penalty is not None else 0.0
        a2 = alpha * (1.0 - l1) if self.penalty is not None else 0.0
        batch = int(self.batch_size) if self.batch_size != "auto" \
            else int(min(max(8, n // 1000), 8192))
        batch = max(1, min(batch, n))
        rs = xp.random.RandomState(
            self.random_state if isinstance(self.random_state, int | np.integer) else None)
        eta0 = float(self.eta0)
        t0 = 1.0
        if self.learning_rate == "optimal":
            # scikit-learn's heuristic initial step, from Leon Bottou's SGD
            typw = np.sqrt(1.0 / np.sqrt(max(alpha, 1e-12)))
            t0 = 1.0 / (typw * max(alpha, 1e-12))
        # curvature bound of the loss per unit squared row norm (None: not smooth)
        lip = {"squared_hinge": 2.0, "modified_huber": 2.0, "log_loss": 0.25,
               "squared_error": 1.0, "huber": 1.0}.get(self.loss)
        # mean squared row norm by one dot product (no n x p temporary)
        mean_sq = max(float(xp.vdot(X.ravel(), X.ravel())) / n, 1e-300)
        eta_cap = np.inf if lip is None else 1.0 / (lip * mean_sq)
        # eta0 is a per-sample step (scikit-learn's); a step on the mean gradient of a
        # minibatch of B rows takes B times it (the linear scaling rule), capped by the
        # curvature so large minibatches stay stable
        eta0 = min(eta0 * batch, 1.0 / ((lip or 1.0) * mean_sq))
        eta = eta0
        step = 0
        seen = 0
        u = 0.0
        q = xp.zeros_like(W)
        best = np.inf
        no_change = 0
        log = IterationLog(type(self).__name__, self.max_iter, self.time_budget, self.verbose)
        while log.next():
            order = rs.permutation(n) if self.shuffle else xp.arange(n)
            total = xp.zeros((), dtype=X.dtype)
            for start in range(0, n, batch):
                idx = order[start:start + batch]
                xb, tb = X[idx], T[idx]
                z = xb @ W.T + b
                value, dz = _loss_grad(xp, self.loss, z, tb, float(self.epsilon))
                if w is not None:
                    wb = w[idx][:, None]
                    value, dz = value * wb, dz * wb
                total = total + value.sum()
                if self.learning_rate == "optimal":
                    # scikit-learn's 1 / (alpha (t0 + t)) with t counting samples, so the
                    # rate decays per epoch as there; capped where the loss is smooth
                    eta = min(1.0 / (max(alpha, 1e-12) * (t0 + seen)), eta_cap)
                elif self.learning_rate == "invscaling":
                    eta = eta0 / (step + 1) ** float(self.power_t)
                step += 1
                seen += xb.shape[0]
                m = xb.shape[0]
                if a2:
                    W *= 1.0 - eta * a2
                W -= (eta / m) * (dz.T @ xb)
                if self.fit_intercept:
                    b -= (eta / m) * dz.sum(axis=0)
                if a1:
                    # cumulative L1 penalty (Tsuruoka et al. 2009, as scikit-learn): a weight
                    # is clipped at zero by all the penalty it has not yet received, so
                    # gradient noise cannot keep unused features away from exact zero
                    u += eta * a1
                    before = W
                    W = xp.where(W > 0, xp.maximum(0.0, W - (u + q)),
                                 xp.where(W < 0, xp.minimum(0.0, W + (u - q)), W))
                    q += W - before
                # tail averaging: the mean iterate of the epoch is far less noisy than
                # the last one (minibatch steps are fewer and larger than per-sample ones)
                if start == 0:
                    W_avg, b_avg, n_avg = W.copy(), b.copy(), 1
                else:
                    n_avg += 1
                    W_avg += (W - W_avg) / n_avg
                    b_avg += (b - b_avg) / n_avg
            epoch_loss = float(total) / n
            if not np.isfinite(epoch_loss):
                raise DataError(f"{type(self).__name__} diverged (loss {epoch_loss}); lower "
                                "eta0 or scale the features (StandardScaler)")
            log.log(loss=epoch_loss, eta=eta)
            if self.tol is not None and epoch_loss > best - float(self.tol):
                no_change += 1
            else:
                no_change = 0
            best = min(best, epoch_loss)
            if no_change >= int(self.n_iter_no_change):
                if self.learning_rate == "adaptive" and eta > 1e-6:
                    eta /= 5.0
                    no_change = 0
                    continue
                log.converged()
                break
        if log.stopped_by == "time_budget" or (log.stopped_by == "max_iter"
                                               and self.tol is not None):
            warnings.warn(f"{type(self).__name__}: maximum number of iterations reached "
                          f"({log.stopped_by}) before convergence; raise max_iter",
                          ConvergenceWarning, stacklevel=3)
        self.n_iter_ = log.n_iter
        self.t_ = float(step)
        if a1:  # averaging undoes the exact zeros of the L1 steps: keep the last support
            W_avg = xp.where(W == 0, 0.0, W_avg)
        return W_avg, b_avg


_SGD_DOC_PARAMS = """
    penalty : {"l2", "l1", "elasticnet", None}, default "l2"
    alpha : float, default 1e-4
        Penalty strength (also sets the "optimal" learning rate).
    l1_ratio : float, default 0.15
    fit_intercept : bool, default True
    max_iter : int, default 1000
        Epochs (passes over the data).
    tol : float or None, default 1e-3
        Stop when the epoch's mean loss did not improve by ``tol`` for
        ``n_iter_no_change`` epochs.
    shuffle : bool, default True
    random_state : int, optional
    learning_rate : {"optimal", "constant", "invscaling", "adaptive"}
    eta0, power_t : float
        As scikit-learn (``eta0`` is a per-sample step; a minibatch step of B rows uses
        ``B * eta0``, capped by the loss curvature so large minibatches stay stable).
    batch_size : int or "auto", default "auto"
        Rows per step; "auto" takes n / 1000 clipped to [8, 8192] so large data sets run
        about a thousand device steps per epoch.
    n_iter_no_change : int, default 5
    time_budget : float, optional
        Stop after this many seconds.
    verbose : bool or int, default False
        Print the loss of each epoch.
"""


class SGDClassifier(_LinearClassifier, _BaseSGD):
    """Linear classifier trained by minibatch stochastic gradient descent on ``xp``.

    Multiclass problems are one-vs-rest, all classes updated in one matrix product per
    step. Steps average the gradient over a minibatch (scikit-learn steps per sample), and
    the fitted coefficients are the average of the last epoch's iterates, which removes most
    of the noise of the final steps. Accuracy is on a par with scikit-learn's (tested);
    coefficients are not the same.

    Parameters
    ----------
    loss : {"hinge", "log_loss", "squared_hinge", "modified_huber", "perceptron"}
    class_weight : dict, "balanced" or None
        Weights per class (multiplying ``sample_weight``).
    """ + _SGD_DOC_PARAMS + """
    Attributes
    ----------
    classes_, coef_ (1 or n_classes, n_features), intercept_, n_iter_, t_
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.linear_model.SGDClassifier", "binary", "accuracy", 0.04,
             {"random_state": 0}),
        Twin("sklearn.linear_model.SGDClassifier", "multiclass", "accuracy", 0.06,
             {"loss": "log_loss", "random_state": 0}),
    )

    def __init__(self, loss: str = "hinge", *, penalty: str | None = "l2", alpha: float = 1e-4,
                 l1_ratio: float = 0.15, fit_intercept: bool = True, max_iter: int = 1000,
                 tol: float | None = 1e-3, shuffle: bool = True, epsilon: float = 0.1,
                 random_state: int | None = None, learning_rate: str = "optimal",
                 eta0: float = 0.01, power_t: float = 0.5, batch_size: int | str = "auto",
                 n_iter_no_change: int = 5, class_weight: dict | str | None = None,
                 time_budget: float | None = None, verbose: bool | int = False):
        self.loss = loss
        self.class_weight = class_weight
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.batch_size = batch_size
        self.n_iter_no_change = n_iter_no_change
        self.time_budget = time_budget
        self.verbose = verbose

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SGDClassifier:
        """Fit on ``X`` (n_samples, n_features) and class labels ``y``, optionally
        weighting the samples."""
        self._check_params(_CLF_LOSSES)
        X, y, dev = validate_data(self, X, y, dtype="numeric", y_dtype=None, y_required=True)
        xp = dev.xp
        classes, codes = self._labels(y, dev)
        k = 1 if classes.shape[0] == 2 else int(classes.shape[0])
        if k == 1:
            T = (2.0 * codes - 1.0).astype(X.dtype)[:, None]
        else:
            T = xp.where(codes[:, None] == xp.arange(k)[None, :], 1.0, -1.0).astype(X.dtype)
        w = self._weights(sample_weight, codes, X.shape[0], dev, X.dtype)
        self.coef_, self.intercept_ = self._sgd(X, T, dev, w)
        return self

    @available_if(lambda self: self.loss == "log_loss")
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities (only with loss="log_loss"; one-vs-rest normalized)."""
        scores = self.decision_function(X)
        xp = get_xp(scores)
        if scores.ndim == 1:
            p1 = _sigmoid(xp, scores)
            return xp.stack([1.0 - p1, p1], axis=1)
        prob = _sigmoid(xp, scores)
        return prob / prob.sum(axis=1, keepdims=True)


class SGDRegressor(_LinearRegressor, _BaseSGD):
    """Linear regression trained by minibatch stochastic gradient descent on ``xp``.

    Parameters
    ----------
    loss : {"squared_error", "huber", "epsilon_insensitive"}
    epsilon : float, default 0.1
        Width of the huber/epsilon-insensitive zone.
    """ + _SGD_DOC_PARAMS + """
    Attributes
    ----------
    coef_ (n_features,), intercept_ (1,), n_iter_, t_
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.linear_model.SGDRegressor", "regression", "r2", 0.01,
             {"random_state": 0}),
    )

    def __init__(self, loss: str = "squared_error", *, penalty: str | None = "l2",
                 alpha: float = 1e-4, l1_ratio: float = 0.15, fit_intercept: bool = True,
                 max_iter: int = 1000, tol: float | None = 1e-3, shuffle: bool = True,
                 epsilon: float = 0.1, random_state: int | None = None,
                 learning_rate: str = "invscaling", eta0: float = 0.01, power_t: float = 0.25,
                 batch_size: int | str = "auto", n_iter_no_change: int = 5,
                 time_budget: float | None = None, verbose: bool | int = False):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.batch_size = batch_size
        self.n_iter_no_change = n_iter_no_change
        self.time_budget = time_budget
        self.verbose = verbose

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SGDRegressor:
        """Fit on ``X`` (n_samples, n_features) and targets ``y``, optionally weighting the
        samples."""
        self._check_params(_REG_LOSSES)
        X, y, dev = validate_data(self, X, y, dtype="numeric", y_required=True)
        w = as_weights(sample_weight, X.shape[0], dev, X.dtype)
        W, b = self._sgd(X, y.astype(X.dtype, copy=False)[:, None], dev, w)
        self.coef_ = W[0]
        self.intercept_ = b
        return self

    def predict(self, X: Any) -> Any:
        """Predicted targets, a 1-d array on X's device."""
        check_is_fitted(self)
        return super().predict(X)
