"""Matrix decompositions on ``xp``: PCA and TruncatedSVD, scikit-learn's solvers and sign
conventions.

- ``covariance_eigh`` (PCA's choice for tall data): one product ``X.T @ X`` over the rows,
  centered afterwards (no centered copy of X), then ``eigh`` of the small
  ``n_features x n_features`` matrix.
- ``full``: SVD of the centered data.
- ``randomized`` (Halko et al., as scikit-learn's ``randomized_svd``): a Gaussian sketch,
  power iterations re-orthonormalized by QR, then an SVD of the small projected matrix.

Components carry scikit-learn's sign (``svd_flip`` on the rows of ``Vt``: the largest
entry of each component is positive), so they compare with scikit-learn's directly.

Examples
--------
>>> import numpy as np
>>> X = np.array([[-1.0, -1], [-2, -1], [-3, -2], [1, 1], [2, 1], [3, 2]])
>>> PCA(n_components=2).fit(X).explained_variance_ratio_.round(4).tolist()
[0.9924, 0.0076]
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state

from ..device import device_of
from ..errors import NotSupportedError
from ..kernels._xp import is_numpy
from ._data import (
    DataError,
    Twin,
    as_2d,
    check_is_fitted,
    column_means,
    column_vars,
    input_device,
    to_device,
    to_output,
    validate_data,
)
from ._threads import every_core, map_blocks, row_blocks

__all__ = ["PCA", "TruncatedSVD"]


def _svd_flip_rows(xp: Any, U: Any, Vt: Any) -> tuple[Any, Any]:
    """scikit-learn's ``svd_flip(u, v, u_based_decision=False)``: make the largest-magnitude
    entry of each row of ``Vt`` positive (and flip the matching columns of ``U``)."""
    rows = xp.arange(Vt.shape[0])
    signs = xp.sign(Vt[rows, xp.argmax(xp.abs(Vt), axis=1)])
    signs = xp.where(signs == 0, 1, signs)
    Vt = Vt * signs[:, None]
    if U is not None:
        U = U * signs[None, :]
    return U, Vt


#: Bytes of rows one block of a projection centres at once: a CPU block stays in the
#: cache (no centred copy of X goes through memory); a GPU block is most of the data.
PROJECT_BLOCK_BYTES = {"cpu": 1 << 22, "gpu": 1 << 30}


def _project(xp: Any, X: Any, mean: Any, comps: Any) -> Any:
    """``(X - mean) @ comps.T`` by blocks of rows (centring first keeps the digits that
    ``X @ comps.T - mean @ comps.T`` loses to cancellation far from the origin); on the
    CPU the blocks run on every core, one BLAS thread each, as scikit-learn's product
    would use them all."""
    n, d = X.shape
    out = xp.empty((n, comps.shape[0]), dtype=xp.result_type(X.dtype, comps.dtype))
    budget = PROJECT_BLOCK_BYTES["cpu" if is_numpy(xp) else "gpu"]

    def block(b: slice) -> None:
        out[b] = (X[b] - mean) @ comps.T

    map_blocks(xp, block, row_blocks(n, d * X.dtype.itemsize, budget), every_core("PCA"))
    return out


def _range_finder(xp: Any, A: Any, size: int, n_iter: int, normalizer: str,
                  rng: np.random.RandomState) -> Any:
    """An orthonormal basis (n x size) approximating the range of ``A``."""
    # the sketch is drawn on the host so CPU and GPU runs with one seed agree
    Q = to_device(rng.normal(size=(A.shape[1], size)).astype(A.dtype), device_of(A))
    for _ in range(n_iter):
        Q = A @ Q
        if normalizer != "none":
            Q, _ = xp.linalg.qr(Q)
        Q = A.T @ Q
        if normalizer != "none":
            Q, _ = xp.linalg.qr(Q)
    Q, _ = xp.linalg.qr(A @ Q)
    return Q


def _randomized_svd(xp: Any, M: Any, n_components: int, n_oversamples: int, n_iter: Any,
                    normalizer: str, rng: np.random.RandomState) -> tuple[Any, Any, Any]:
    """Truncated ``U, S, Vt`` of ``M`` (scikit-learn's ``randomized_svd``, no sign flip)."""
    if n_iter == "auto":
        n_iter = 7 if n_components < 0.1 * min(M.shape) else 4
    if normalizer == "auto":
        normalizer = "none" if n_iter <= 2 else "QR"
    elif normalizer not in ("none", "QR", "LU"):
        msg = (f"power_iteration_normalizer={normalizer!r} must be 'auto', 'QR', 'LU' or "
               "'none'")
        raise DataError(msg)
    # LU is there for speed in scikit-learn; QR serves the same purpose on both devices
    transpose = M.shape[0] < M.shape[1]
    A = M.T if transpose else M
    Q = _range_finder(xp, A, n_components + n_oversamples, int(n_iter), normalizer, rng)
    Uhat, S, Vt = xp.linalg.svd(Q.T @ A, full_matrices=False)
    U = Q @ Uhat
    if transpose:
        return Vt[:n_components].T, S[:n_components], U[:, :n_components].T
    return U[:, :n_components], S[:n_components], Vt[:n_components]


class PCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Principal component analysis on the data's device; scikit-learn's ``PCA``.

    Parameters
    ----------
    n_components : int, float in (0, 1) or None
        Components kept; a float keeps the fewest whose explained variance ratio exceeds
        it; None keeps ``min(n_samples, n_features)``. ``"mle"`` is not supported.
    copy : bool, default True
        Accepted for compatibility; the data is never modified.
    whiten : bool, default False
        Scale the projections to unit variance.
    svd_solver : {"auto", "full", "covariance_eigh", "randomized", "arpack"}, default "auto"
        "auto" follows scikit-learn: ``covariance_eigh`` when ``n_features <= 1000`` and
        ``n_samples >= 10 * n_features``, else ``full`` for small data or a float
        ``n_components``, else ``randomized``. "arpack" runs ``full`` (same result).
    tol : float, default 0.0
        Unused (ARPACK's tolerance).
    iterated_power : int or "auto", default "auto"
        Power iterations of the randomized solver.
    n_oversamples : int, default 10
    power_iteration_normalizer : {"auto", "QR", "LU", "none"}, default "auto"
        "LU" runs QR.
    random_state : int, RandomState or None

    Attributes
    ----------
    components_ : array (n_components, n_features)
    explained_variance_, explained_variance_ratio_, singular_values_ : arrays
    mean_ : array (n_features,)
    n_components_, n_samples_ : int
    noise_variance_ : float
    n_features_in_, feature_names_in_
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.decomposition.PCA", "transform", "transform", 1e-8, {"n_components": 3}),
        Twin("sklearn.decomposition.PCA", "transform", "transform", 1e-8,
             {"n_components": 2, "whiten": True, "svd_solver": "full"}),
        Twin("sklearn.decomposition.PCA", "transform", "transform", 1e-8,
             {"n_components": 2, "svd_solver": "covariance_eigh"}),
    )

    def __init__(self, n_components: Any = None, *, copy: bool = True, whiten: bool = False,
                 svd_solver: str = "auto", tol: float = 0.0, iterated_power: Any = "auto",
                 n_oversamples: int = 10, power_iteration_normalizer: str = "auto",
                 random_state: Any = None):
        self.n_components = n_components
        self.copy = copy
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.tol = tol
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state

    def _solver(self, n: int, d: int, n_components: Any) -> str:
        solver = self.svd_solver
        if solver not in ("auto", "full", "covariance_eigh", "randomized", "arpack"):
            msg = (f"PCA: svd_solver={solver!r} must be 'auto', 'full', 'covariance_eigh', "
                   "'randomized' or 'arpack'")
            raise DataError(msg)
        if solver == "arpack":
            return "full"
        if solver != "auto":
            return solver
        if d <= 1000 and n >= 10 * d:
            return "covariance_eigh"
        if max(n, d) <= 500:
            return "full"
        if isinstance(n_components, (int, np.integer)) and 1 <= n_components < 0.8 * min(n, d):
            return "randomized"
        return "full"

    def fit(self, X: Any, y: Any = None) -> PCA:
        """Fit the components on ``X`` (n_samples, n_features); ``y`` is ignored."""
        Xa, _, dev = validate_data(self, X, dtype="numeric")
        xp = dev.xp
        n, d = Xa.shape
        if n < 2:
            raise DataError(f"PCA needs at least 2 rows to estimate variances; X has {n}")
        nc = self.n_components
        if isinstance(nc, str):
            raise NotSupportedError(f"PCA: n_components={nc!r} is not supported; pass an int "
                                    "or a float in (0, 1)")
        if nc is None:
            nc = min(n, d)
        is_ratio = isinstance(nc, float) and 0 < nc < 1
        if not is_ratio and not (isinstance(nc, (int, np.integer))
                                 and 0 <= nc <= min(n, d)):
            msg = (f"PCA: n_components={nc!r} must be between 0 and min(n_samples, "
                   f"n_features)={min(n, d)}, or a float in (0, 1)")
            raise DataError(msg)
        solver = self._solver(n, d, nc)
        if solver == "randomized" and (is_ratio or nc < 1):
            msg = (f"PCA: n_components={nc!r} needs svd_solver='full' or 'covariance_eigh'; "
                   "the randomized solver takes an int >= 1")
            raise DataError(msg)
        self._fit_svd_solver = solver
        mean = column_means(xp, Xa)
        if solver == "covariance_eigh":
            # X.T @ X over the raw rows, centered afterwards: no centered copy of X
            C = Xa.T @ Xa
            C -= n * mean[:, None] * mean[None, :]
            C /= n - 1
            evals, evecs = xp.linalg.eigh(C)
            evals = xp.maximum(evals[::-1], 0)
            Vt = evecs[:, ::-1].T
            _, Vt = _svd_flip_rows(xp, None, Vt)
            ev = evals
            S = xp.sqrt(evals * (n - 1))
            total_var = ev.sum()
        elif solver == "full":
            _, S, Vt = xp.linalg.svd(Xa - mean, full_matrices=False)
            _, Vt = _svd_flip_rows(xp, None, Vt)
            ev = S**2 / (n - 1)
            total_var = ev.sum()
        else:
            rng = check_random_state(self.random_state)
            Xc = Xa - mean
            U, S, Vt = _randomized_svd(xp, Xc, int(nc), self.n_oversamples,
                                       self.iterated_power, self.power_iteration_normalizer,
                                       rng)
            _, Vt = _svd_flip_rows(xp, U, Vt)
            ev = S**2 / (n - 1)
            total_var = xp.einsum("ij,ij->", Xc, Xc) / (n - 1)
        ratio = ev / total_var
        if is_ratio:
            cum = xp.cumsum(ratio)
            pos = xp.searchsorted(cum, xp.asarray([nc], dtype=cum.dtype), side="right")
            nc = int(pos[0]) + 1
            nc = min(nc, int(ev.shape[0]))
        nc = int(nc)
        if nc < min(n, d):
            if solver == "randomized":
                noise = (total_var - ev.sum()) / (min(n, d) - nc)
            else:
                noise = ev[nc:].mean()
        else:
            noise = 0.0
        self.mean_ = mean
        self.components_ = xp.ascontiguousarray(Vt[:nc])
        self.explained_variance_ = ev[:nc].copy()
        self.explained_variance_ratio_ = ratio[:nc].copy()
        self.singular_values_ = S[:nc].copy()
        self.noise_variance_ = float(noise)
        self.n_components_ = nc
        self.n_samples_ = n
        self._n_features_out = nc
        return self

    def transform(self, X: Any) -> Any:
        """Project ``X`` onto the components (whitened when ``whiten``)."""
        check_is_fitted(self, ("components_",))
        Xa, _, dev = validate_data(self, X, reset=False, dtype=self.components_.dtype)
        comps = to_device(self.components_, dev)
        out = _project(dev.xp, Xa, to_device(self.mean_, dev), comps)
        if self.whiten:
            out /= dev.xp.sqrt(to_device(self.explained_variance_, dev))
        return to_output(out, X)

    def inverse_transform(self, X: Any) -> Any:
        """Map projections back to the feature space (the mean plus the kept components)."""
        check_is_fitted(self, ("components_",))
        dev = input_device(X)
        Z = _as_array(X, dev, self.components_.dtype)
        comps = to_device(self.components_, dev)
        if self.whiten:
            comps = dev.xp.sqrt(to_device(self.explained_variance_, dev))[:, None] * comps
        return to_output(Z @ comps + to_device(self.mean_, dev), X)

    def get_covariance(self) -> Any:
        """The data covariance of the probabilistic PCA model (n_features, n_features)."""
        check_is_fitted(self, ("components_",))
        comps = self.components_
        ev = self.explained_variance_
        xp = device_of(comps).xp
        if self.whiten:
            comps = comps * xp.sqrt(ev[:, None])
        diff = xp.maximum(ev - self.noise_variance_, 0)
        cov = (comps.T * diff) @ comps
        cov += self.noise_variance_ * xp.eye(cov.shape[0], dtype=cov.dtype)
        return cov

    def get_precision(self) -> Any:
        """The inverse of :meth:`get_covariance`."""
        cov = self.get_covariance()
        return device_of(cov).xp.linalg.inv(cov)

    def score_samples(self, X: Any) -> Any:
        """Log-likelihood of each row under the probabilistic PCA model."""
        check_is_fitted(self, ("components_",))
        Xa, _, dev = validate_data(self, X, reset=False, dtype=self.components_.dtype)
        xp = dev.xp
        prec = to_device(self.get_precision(), dev)
        Xr = Xa - to_device(self.mean_, dev)
        _, logdet = xp.linalg.slogdet(prec)
        ll = -0.5 * (Xr * (Xr @ prec)).sum(axis=1)
        ll -= 0.5 * (Xa.shape[1] * np.log(2 * np.pi) - logdet)
        return to_output(ll, X)

    def score(self, X: Any, y: Any = None) -> float:
        """Average log-likelihood of the rows of ``X``."""
        return float(self.score_samples(X).mean())


def _as_array(X: Any, dev: Any, dtype: Any) -> Any:
    arr, _ = as_2d(X, dtype=dtype)
    return to_device(arr, dev)


class TruncatedSVD(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Truncated SVD without centering (latent semantic analysis); scikit-learn's
    ``TruncatedSVD``.

    Parameters
    ----------
    n_components : int, default 2
    algorithm : {"randomized", "arpack"}, default "randomized"
        "arpack" computes the exact SVD (the result ARPACK converges to).
    n_iter : int, default 5
        Power iterations of the randomized solver.
    n_oversamples : int, default 10
    power_iteration_normalizer : {"auto", "QR", "LU", "none"}, default "auto"
    random_state : int, RandomState or None
    tol : float, default 0.0
        Unused (ARPACK's tolerance).

    Attributes
    ----------
    components_ : array (n_components, n_features)
    explained_variance_, explained_variance_ratio_, singular_values_ : arrays
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(50, 6))
    >>> TruncatedSVD(n_components=2, random_state=0).fit_transform(X).shape
    (50, 2)
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.decomposition.TruncatedSVD", "transform", "transform", 1e-6,
             {"n_components": 2, "algorithm": "arpack"}),
        Twin("sklearn.decomposition.TruncatedSVD", "counts", "transform", 1e-6,
             {"n_components": 3, "n_iter": 10, "random_state": 0}),
    )

    def __init__(self, n_components: int = 2, *, algorithm: str = "randomized",
                 n_iter: int = 5, n_oversamples: int = 10,
                 power_iteration_normalizer: str = "auto", random_state: Any = None,
                 tol: float = 0.0):
        self.n_components = n_components
        self.algorithm = algorithm
        self.n_iter = n_iter
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state
        self.tol = tol

    def fit(self, X: Any, y: Any = None) -> TruncatedSVD:
        """Fit on ``X`` (n_samples, n_features); ``y`` is ignored."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fit on ``X`` and return its projections ``U * S`` (n_samples, n_components)."""
        Xa, _, dev = validate_data(self, X, dtype="numeric")
        xp = dev.xp
        d = Xa.shape[1]
        k = self.n_components
        if not (isinstance(k, (int, np.integer)) and 1 <= k <= d):
            msg = (f"TruncatedSVD: n_components={k!r} must be an int between 1 and "
                   f"n_features={d}")
            raise DataError(msg)
        if self.algorithm == "arpack":
            U, S, Vt = xp.linalg.svd(Xa, full_matrices=False)
            U, S, Vt = U[:, :k], S[:k], Vt[:k]
        elif self.algorithm == "randomized":
            U, S, Vt = _randomized_svd(xp, Xa, int(k), self.n_oversamples, self.n_iter,
                                       self.power_iteration_normalizer,
                                       check_random_state(self.random_state))
        else:
            msg = (f"TruncatedSVD: algorithm={self.algorithm!r} must be 'randomized' or "
                   "'arpack'")
            raise DataError(msg)
        U, Vt = _svd_flip_rows(xp, U, Vt)
        # the randomized U carries the sketch's approximation error; X @ V does not
        Z = U * S[None, :] if self.algorithm == "arpack" else Xa @ Vt.T
        self.components_ = xp.ascontiguousarray(Vt)
        self.explained_variance_ = column_vars(xp, Z)
        self.explained_variance_ratio_ = self.explained_variance_ / column_vars(xp, Xa).sum()
        self.singular_values_ = S
        self._n_features_out = int(k)
        return to_output(Z, X)

    def transform(self, X: Any) -> Any:
        """Project ``X`` onto the components."""
        check_is_fitted(self, ("components_",))
        Xa, _, dev = validate_data(self, X, reset=False, dtype=self.components_.dtype)
        return to_output(Xa @ to_device(self.components_, dev).T, X)

    def inverse_transform(self, X: Any) -> Any:
        """Map projections back to the feature space."""
        check_is_fitted(self, ("components_",))
        dev = input_device(X)
        Z = _as_array(X, dev, self.components_.dtype)
        return to_output(Z @ to_device(self.components_, dev), X)
