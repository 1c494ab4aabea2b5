"""Inputs, outputs and the device of the data, shared by every estimator of ``xpdb.ml``.

An estimator computes where its training data lives: NumPy arrays and pandas frames on the
CPU, CuPy arrays on their GPU, xpdb DataFrames on the frame's device. This module turns any
accepted input into one 2-d array on that device (:func:`as_2d`), targets into 1-d arrays
(:func:`as_1d`) or label codes (:func:`encode_labels`), and results back into arrays on the
input's device (:func:`to_output`).

Output convention
-----------------
``predict``, ``transform`` and friends return a NumPy array for NumPy, pandas and list
inputs, a CuPy array for CuPy inputs, and for an xpdb DataFrame an array on the frame's
device (CuPy on a GPU, NumPy on the CPU). Fitted attributes (``coef_``, ``means_``...) live
on the device of the training data; an estimator fitted on one device and applied to data
on another moves its (small) attributes to the data, never the data to the attributes.

Helpers for estimator authors
-----------------------------
- :func:`validate_data` (X and y at once, records ``n_features_in_`` and
  ``feature_names_in_`` on ``reset``, checks them otherwise),
- :func:`as_weights` (``sample_weight``), :func:`check_is_fitted`, :func:`to_device`,
  :func:`get_xp`, :func:`input_device`,
- :class:`IterationLog` (``max_iter``, ``tol``, ``time_budget`` and ``verbose`` handling),
- :class:`Twin`: the scikit-learn estimator an xpdb estimator is checked against.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError as _SkNotFittedError

from ..device import Device, device_of, get_device
from ..errors import XpdbError

__all__ = [
    "DataError",
    "IterationLog",
    "NotFittedError",
    "Twin",
    "as_1d",
    "as_2d",
    "as_weights",
    "check_is_fitted",
    "decode_labels",
    "encode_labels",
    "feature_names",
    "get_xp",
    "input_device",
    "to_device",
    "to_output",
    "validate_data",
]


class DataError(XpdbError, ValueError):
    """Input data an estimator cannot take (shape, type, NaN, feature count or names).

    A ``ValueError`` too, as scikit-learn raises for the same mistakes.
    """


class NotFittedError(XpdbError, _SkNotFittedError):
    """An estimator was used before ``fit``; also scikit-learn's ``NotFittedError``."""


# -- devices and namespaces ------------------------------------------------------------------
def _is_cupy(a: Any) -> bool:
    return type(a).__module__.startswith("cupy")


def _is_xpdb_frame(a: Any) -> bool:
    mod = type(a).__module__
    return mod.startswith("xpdb.frame") and hasattr(a, "table")


def _is_pandas(a: Any) -> bool:
    return type(a).__module__.startswith("pandas")


def get_xp(array: Any) -> Any:
    """The array namespace of ``array``: ``cupy`` for CuPy arrays, else ``numpy``.

    Examples
    --------
    >>> get_xp(np.zeros(2)) is np
    True
    """
    return device_of(array).xp if _is_cupy(array) else np


def input_device(X: Any) -> Device:
    """The device an input lives on: a CuPy array's GPU, an xpdb frame's device, else CPU."""
    if _is_cupy(X):
        return device_of(X)
    if _is_xpdb_frame(X):
        return X.device
    if type(X).__module__.startswith("xpdb.frame"):  # an xpdb Series
        return X.device
    return get_device("cpu")


def to_device(array: Any, device: Device) -> Any:
    """``array`` on ``device`` (a no-op when it is already there; copies are counted).

    Used to bring fitted attributes to the data when an estimator is applied on another
    device than the one it was fitted on. None passes through.
    """
    if array is None:
        return None
    if device.is_gpu:
        if _is_cupy(array) and array.device.id == device.index:
            return array
        return device.asarray(array)
    return device.to_host(array) if _is_cupy(array) else np.asarray(array)


def to_output(arr: Any, like: Any) -> Any:
    """``arr`` as the output for input ``like``: on ``like``'s device (see module docs)."""
    return to_device(arr, input_device(like))


# -- inputs ---------------------------------------------------------------------------------
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _target_dtype(src: np.dtype, dtype: Any) -> np.dtype:
    if dtype is None or dtype == "numeric":
        # keep float32/float64, everything else computes in float64 (as scikit-learn)
        return src if src in _FLOATS else np.dtype(np.float64)
    return np.dtype(dtype)


def feature_names(X: Any) -> np.ndarray | None:
    """The column names of a pandas or xpdb DataFrame as an object array, else None.

    Only all-string names count, as in scikit-learn.
    """
    if _is_xpdb_frame(X) or (_is_pandas(X) and hasattr(X, "columns")):
        names = list(X.columns)
        if names and all(isinstance(n, str) for n in names):
            return np.asarray(names, dtype=object)
    return None


def _frame_2d(X: Any, dtype: Any, name: str) -> tuple[Any, Device]:
    from ..frame._convert import device_values

    table = X.table
    dev = table.device
    xp = dev.xp
    cols = []
    for col_name, col in table.items():
        dt = col.dtype
        if not ((dt.is_numeric and not dt.is_decimal) or dt.is_bool):
            msg = (
                f"{name}: column {col_name!r} has type {dt}, which is not numeric; encode it "
                "first (xpdb.ml.OneHotEncoder or LabelEncoder) or drop it"
            )
            raise DataError(msg)
        if col.validity is not None and col.null_count and not dt.is_float:
            cols.append(xp.where(col.validity, col.data.astype(np.float64), np.nan))
        else:
            cols.append(device_values(col, col_name))
    if not cols:
        raise DataError(f"{name} has no columns; an estimator needs at least one feature")
    src = np.result_type(*[c.dtype for c in cols])
    target = _target_dtype(src, dtype)
    return xp.stack([c.astype(target, copy=False) for c in cols], axis=1), dev


def as_2d(
    X: Any,
    dtype: Any = np.float64,
    *,
    allow_nan: bool = False,
    name: str = "X",
    min_rows: int = 1,
) -> tuple[Any, Device]:
    """``X`` as a C-contiguous 2-d array on its own device, with that device.

    Parameters
    ----------
    X : xpdb DataFrame, pandas DataFrame, NumPy or CuPy array, or nested lists
        The features, one row per sample. Columns of frames must be numeric or boolean.
    dtype : numpy dtype, "numeric" or None, default float64
        The dtype of the result. ``"numeric"``/None keeps float32 and float64 and turns
        everything else into float64.
    allow_nan : bool, default False
        Accept NaN (missing values, e.g. for SimpleImputer). Infinities are always refused.
    name : str
        How the input is called in error messages.
    min_rows : int
        Fewest rows accepted.

    Returns
    -------
    (array, Device)
        NumPy on the CPU, CuPy on a GPU.

    Raises
    ------
    DataError
        Not 2-d, empty, non-numeric columns, NaN or infinity.

    Examples
    --------
    >>> a, dev = as_2d([[1, 2], [3, 4]])
    >>> a.dtype, a.shape, str(dev)
    (dtype('float64'), (2, 2), 'cpu')
    """
    if _is_xpdb_frame(X):
        arr, dev = _frame_2d(X, dtype, name)
    elif _is_cupy(X):
        dev = device_of(X)
        arr = X.astype(_target_dtype(X.dtype, dtype), copy=False)
    else:
        dev = get_device("cpu")
        if _is_pandas(X) and hasattr(X, "columns"):
            bad = [c for c, k in X.dtypes.items() if k.kind not in "biuf"]
            if bad:
                msg = (
                    f"{name}: column {bad[0]!r} has dtype {X.dtypes[bad[0]]}, which is not "
                    "numeric; encode it first (xpdb.ml.OneHotEncoder) or drop it"
                )
                raise DataError(msg)
            raw = X.to_numpy(dtype=np.float64 if any(
                k.kind not in "f" for k in X.dtypes) else None, na_value=np.nan)
        else:
            raw = np.asarray(X)
        if raw.dtype.kind not in "biuf":
            try:
                raw = raw.astype(np.float64)
            except (TypeError, ValueError) as e:
                msg = (f"{name} holds non-numeric values (dtype {raw.dtype}); encode them "
                       "first (xpdb.ml.OneHotEncoder or LabelEncoder)")
                raise DataError(msg) from e
        arr = raw.astype(_target_dtype(raw.dtype, dtype), copy=False)
    xp = dev.xp
    if arr.ndim != 2:
        msg = (
            f"{name} must be 2-d (samples x features) but has shape {tuple(arr.shape)}; "
            "reshape a single feature with X.reshape(-1, 1) or a single sample with "
            "X.reshape(1, -1)"
        )
        raise DataError(msg)
    if arr.shape[0] < min_rows:
        raise DataError(f"{name} has {arr.shape[0]} rows; at least {min_rows} needed")
    if arr.shape[1] < 1:
        raise DataError(f"{name} has 0 features (shape {tuple(arr.shape)}); at least 1 needed")
    if allow_nan:
        bad = bool(xp.isinf(arr).any())
    else:
        bad = not _all_finite(xp, arr)
    if bad:
        what = "infinity" if allow_nan else "NaN or infinity"
        msg = (f"{name} contains {what}; remove or impute those values first "
               "(xpdb.ml.SimpleImputer, DataFrame.fillna or dropna)")
        raise DataError(msg)
    return xp.ascontiguousarray(arr), dev


def _all_finite(xp: Any, arr: Any) -> bool:
    """Whether every entry of ``arr`` is finite. A finite sum proves it in one reduction
    (NaN and infinity propagate into the sum) without a boolean array as large as ``arr``;
    only a non-finite sum (or an overflow of huge finite values) takes the full test, as
    scikit-learn's ``_assert_all_finite`` does."""
    if arr.dtype.kind != "f" or arr.size == 0:
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        if bool(xp.isfinite(arr.sum())):
            return True
    return bool(xp.isfinite(arr).all())


def as_1d(y: Any, device: Device, dtype: Any = np.float64, name: str = "y") -> Any:
    """A target ``y`` (array, list, pandas/xpdb Series or one-column frame) as a 1-d array on
    ``device``; ``dtype=None`` keeps its dtype (labels).

    Raises
    ------
    DataError
        When ``y`` is not 1-d (a column vector is accepted) or holds NaN for a float dtype.
    """
    if _is_xpdb_frame(y) and len(y.columns) == 1:
        y = y[y.columns[0]]
    if type(y).__module__.startswith("xpdb.frame"):  # Series
        # strings have no device array form: their labels are mapped on the host
        on_gpu = y.device.is_gpu and not y.dtype.is_string
        arr = y.to_cupy() if on_gpu else y.to_numpy()
    elif _is_pandas(y):
        arr = y.to_numpy()
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
    else:
        arr = y if _is_cupy(y) else np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        msg = f"{name} must be 1-d (one target per sample) but has shape {tuple(arr.shape)}"
        raise DataError(msg)
    if arr.dtype.kind == "O" or arr.dtype.kind in "US":
        if dtype is not None:
            raise DataError(f"{name} holds non-numeric values (dtype {arr.dtype}); "
                            "a numeric target is needed here")
        return arr  # string labels stay on the host (encode_labels maps them)
    arr = to_device(arr, device)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
        if arr.dtype.kind == "f" and not bool(device.xp.isfinite(arr).all()):
            raise DataError(f"{name} contains NaN or infinity; drop those rows first")
    return arr


def as_weights(sample_weight: Any, n: int, device: Device, dtype: Any = np.float64) -> Any:
    """Per-sample weights as a 1-d array of ``n`` values on ``device``, or None for None.

    Raises
    ------
    DataError
        Wrong length, negative or non-finite weights, or all weights zero.
    """
    if sample_weight is None:
        return None
    if np.isscalar(sample_weight):
        return device.xp.full(n, float(sample_weight), dtype=dtype)
    w = as_1d(sample_weight, device, dtype=dtype, name="sample_weight")
    if w.shape[0] != n:
        raise DataError(f"sample_weight has {w.shape[0]} values for {n} samples; pass one "
                        "weight per sample")
    if bool((w < 0).any()) or not float(w.sum()) > 0:
        raise DataError("sample_weight must be non-negative with a positive sum")
    return w


def encode_labels(y: Any, device: Device, name: str = "y") -> tuple[Any, Any]:
    """Class labels ``y`` as ``(classes, codes)``: the sorted distinct labels and, per
    sample, the int64 index of its label in ``classes``.

    Numeric and boolean labels are made unique on ``device`` (``classes`` lives there);
    string/object labels map through the host, ``classes`` is then a NumPy object array and
    only ``codes`` go to the device.

    Examples
    --------
    >>> classes, codes = encode_labels(["b", "a", "b"], get_device("cpu"))
    >>> classes.tolist(), codes.tolist()
    (['a', 'b'], [1, 0, 1])
    """
    arr = as_1d(y, device, dtype=None, name=name)
    if arr.dtype.kind in "OUS":
        try:
            classes, codes = np.unique(arr.astype(object), return_inverse=True)
        except TypeError as e:
            msg = f"{name} mixes label types that cannot be ordered: {e}"
            raise DataError(msg) from e
        return classes, to_device(codes.astype(np.int64), device)
    xp = device.xp
    if arr.dtype.kind == "f" and not bool(xp.isfinite(arr).all()):
        raise DataError(f"{name} contains NaN or infinity; drop those rows first")
    classes, codes = xp.unique(arr, return_inverse=True)
    return classes, codes.reshape(-1).astype(np.int64, copy=False)


def decode_labels(classes: Any, codes: Any) -> Any:
    """Labels for int ``codes``: ``classes[codes]`` where the codes live (host object
    ``classes`` bring the codes to the host)."""
    if isinstance(classes, np.ndarray) and classes.dtype.kind in "OUS" and _is_cupy(codes):
        return classes[codes.get()]
    return to_device(classes, input_device(codes))[codes]


# -- estimator bookkeeping ------------------------------------------------------------------
def check_is_fitted(est: Any, attributes: tuple[str, ...] | None = None) -> None:
    """Raise :class:`NotFittedError` unless ``est`` has been fitted.

    ``attributes`` lists fitted attributes to look for; by default any attribute that ends
    in ``_`` (and does not start with one) set on the instance.
    """
    if attributes is not None:
        fitted = all(hasattr(est, a) for a in attributes)
    else:
        fitted = any(k.endswith("_") and not k.startswith("_") for k in vars(est))
    if not fitted:
        msg = (f"This {type(est).__name__} instance is not fitted yet; call fit(X, y) "
               "before using it")
        raise NotFittedError(msg)


def validate_data(
    est: Any,
    X: Any,
    y: Any = None,
    *,
    reset: bool = True,
    dtype: Any = np.float64,
    y_dtype: Any = np.float64,
    allow_nan: bool = False,
    y_required: bool = False,
) -> tuple[Any, Any, Device]:
    """Check ``X`` (and ``y``) for ``est`` and put them on X's device.

    With ``reset=True`` (in ``fit``) records ``est.n_features_in_`` and, for frames,
    ``est.feature_names_in_``; with ``reset=False`` (predict/transform) checks the fitted
    estimator and that the feature count (and names) match.

    Parameters
    ----------
    y_dtype : dtype or None
        dtype of the returned ``y``; None keeps it (for labels, then use encode_labels).

    Returns
    -------
    (X, y, Device)
        ``y`` is None when not given.
    """
    if y_required and y is None:
        msg = (f"{type(est).__name__}.fit requires y (the targets), but y is None; "
               "call fit(X, y)")
        raise DataError(msg)
    if not reset:
        check_is_fitted(est)
    names = feature_names(X)
    arr, dev = as_2d(X, dtype=dtype, allow_nan=allow_nan)
    if reset:
        est.n_features_in_ = int(arr.shape[1])
        if names is not None:
            est.feature_names_in_ = names
        elif hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
    else:
        n = getattr(est, "n_features_in_", None)
        if n is not None and arr.shape[1] != n:
            msg = (
                f"X has {arr.shape[1]} features, but {type(est).__name__} is expecting {n} "
                "features as input; pass the same columns as in fit"
            )
            raise DataError(msg)
        fitted_names = getattr(est, "feature_names_in_", None)
        if fitted_names is not None and names is not None \
                and list(names) != list(fitted_names):
            msg = (
                f"The feature names should match those that were passed during fit: "
                f"got {list(names)!r}, fitted on {list(fitted_names)!r}"
            )
            raise DataError(msg)
    yy = None
    if y is not None:
        yy = as_1d(y, dev, dtype=y_dtype)
        if yy.shape[0] != arr.shape[0]:
            msg = (f"X has {arr.shape[0]} rows but y has {yy.shape[0]}; they must have one "
                   "target per sample")
            raise DataError(msg)
    return arr, yy, dev


@dataclass
class Twin:
    """The scikit-learn estimator an xpdb estimator is checked against (tests/ml).

    An estimator class declares its checks as a class attribute
    ``_twins: ClassVar[tuple[Twin, ...]]`` (several for several settings, e.g. binary and
    multiclass); ``tests/ml/test_common.py`` fits both on the same fixed dataset and
    compares.

    Attributes
    ----------
    sklearn : str
        Dotted path of the scikit-learn class, e.g. ``"sklearn.linear_model.Ridge"``.
    task : {"regression", "binary", "multiclass", "cluster", "transform", "counts", \
"missing", "categorical"}
        Which fixed dataset the check uses (``tests/ml/conftest.py``): ``counts`` is
        non-negative integer features with class labels; ``cluster`` blobs;
        ``transform`` dense features (no target); ``missing`` features with NaNs;
        ``categorical`` small integer categories.
    score : str
        ``"r2"``, ``"accuracy"``, ``"log_loss"`` (of ``predict_proba``), ``"ari"`` (adjusted
        Rand index of the two labelings), ``"transform"`` (max abs difference of
        ``transform`` outputs, up to column signs), ``"coef"`` (max abs difference of
        ``coef_`` and ``intercept_``) or ``"recon"`` (reconstruction error ratio).
    tol : float
        Allowed gap: the xpdb score may be at most ``tol`` worse than the twin's
        (absolute; for log_loss, higher is worse), or for ``transform``/``coef`` the largest
        absolute difference.
    params : dict
        Parameters of the xpdb estimator.
    twin_params : dict or None
        Parameters of the scikit-learn estimator; None means the same as ``params``.
    """

    sklearn: str
    task: str
    score: str
    tol: float
    params: dict[str, Any] = field(default_factory=dict)
    twin_params: dict[str, Any] | None = None


class IterationLog:
    """Budgets and progress for an iterative fit.

    Stops when ``max_iter`` iterations ran or ``time_budget`` seconds passed; with
    ``verbose`` prints one line per iteration (every ``every`` iterations) to stderr.

    Parameters
    ----------
    name : str
        The estimator's name, printed in the log.
    max_iter : int
    time_budget : float or None
        Seconds; None for no limit.
    verbose : bool or int

    Examples
    --------
    >>> log = IterationLog("Demo", max_iter=3)
    >>> n = 0
    >>> while log.next():
    ...     n += 1
    >>> n, log.n_iter, log.stopped_by
    (3, 3, 'max_iter')
    """

    def __init__(self, name: str, max_iter: int, time_budget: float | None = None,
                 verbose: bool | int = False, every: int = 1):
        if max_iter is None or int(max_iter) < 1:
            raise DataError(f"{name}: max_iter={max_iter!r} must be a positive integer")
        if time_budget is not None and not time_budget > 0:
            raise DataError(f"{name}: time_budget={time_budget!r} must be positive seconds "
                            "or None")
        self.name = name
        self.max_iter = int(max_iter)
        self.time_budget = time_budget
        self.verbose = int(verbose)
        self.every = max(int(every), 1)
        self.n_iter = 0
        self.stopped_by: str | None = None
        self.start = time.perf_counter()

    def next(self) -> bool:
        """True when another iteration may run (call once before each)."""
        if self.n_iter >= self.max_iter:
            self.stopped_by = "max_iter"
            return False
        if self.time_budget is not None and self.elapsed() >= self.time_budget:
            self.stopped_by = "time_budget"
            if self.verbose:
                print(f"[{self.name}] time budget of {self.time_budget}s reached after "
                      f"{self.n_iter} iterations", file=sys.stderr)
            return False
        self.n_iter += 1
        return True

    def elapsed(self) -> float:
        """Seconds since the fit started."""
        return time.perf_counter() - self.start

    def log(self, **values: Any) -> None:
        """Print ``values`` (loss, change...) for this iteration when verbose."""
        if self.verbose and (self.n_iter % self.every == 0 or self.n_iter == 1):
            parts = " ".join(f"{k}={float(v):.6g}" for k, v in values.items())
            print(f"[{self.name}] iter {self.n_iter}/{self.max_iter} {parts} "
                  f"({self.elapsed():.2f}s)", file=sys.stderr)

    def converged(self) -> None:
        """Record that the tolerance was met (ends the loop the caller runs)."""
        self.stopped_by = "tol"
        if self.verbose:
            print(f"[{self.name}] converged after {self.n_iter} iterations "
                  f"({self.elapsed():.2f}s)", file=sys.stderr)


# -- column reductions of tall matrices --------------------------------------------------------
#: rows per block of the GPU column reductions (bounds the float64 temporary of a block)
COLUMN_BLOCK_ELEMENTS = 1 << 24  # 128 MB of float64


def column_sums(xp: Any, X: Any, center: Any = None, square: bool = False,
                blocked: bool | None = None) -> Any:
    """Per-column sums of a 2-d ``X`` (of ``(X - center) ** 2`` with ``square``).

    CuPy's ``X.sum(axis=0)`` over a tall C-ordered matrix runs far below memory bandwidth
    (``X.mean(axis=0)`` took 120 ms for 5M x 50 float64 on an H100, most of a Ridge fit), so
    on the GPU the sums are matrix-vector products with a ones vector, in float64, over row
    blocks of bounded size (1-2 ms). NumPy keeps its own pairwise sums unless ``blocked``
    asks for the same blocked products (tests). Floats come back in ``X``'s dtype, integers
    and booleans as int64.
    """
    blocked = xp is not np if blocked is None else blocked
    n, d = X.shape
    floating = X.dtype.kind == "f"
    if not blocked:
        if center is None and not square:
            return X.sum(axis=0)
        D = X - center if center is not None else X
        return (D * D).sum(axis=0) if square else D.sum(axis=0)
    step = max(1, COLUMN_BLOCK_ELEMENTS // max(d, 1))
    ones = xp.ones(min(step, max(n, 1)), dtype=np.float64)
    acc = xp.zeros(d, dtype=np.float64)
    c = None if center is None else xp.asarray(center, dtype=np.float64)
    for a in range(0, n, step):
        B = X[a:a + step].astype(np.float64, copy=False)
        if c is not None:
            B = B - c
        if square:
            B = B * B
        acc += ones[:B.shape[0]] @ B
    if floating:
        return acc.astype(X.dtype, copy=False)
    return xp.rint(acc).astype(np.int64)


def column_means(xp: Any, X: Any) -> Any:
    """Per-column means of a 2-d ``X`` (float), through :func:`column_sums`."""
    n = max(int(X.shape[0]), 1)
    s = column_sums(xp, X)
    return s / n if s.dtype.kind == "f" else s / float(n)


def column_vars(xp: Any, X: Any, mean: Any = None) -> Any:
    """Per-column population variances (``ddof=0``) of a 2-d float ``X``, two-pass."""
    n = max(int(X.shape[0]), 1)
    mean = column_means(xp, X) if mean is None else mean
    return column_sums(xp, X, center=mean, square=True) / n
