"""Preprocessing on ``xp``: scalers, one-hot and label encoding, and imputation.

Statistics are column reductions on the data's device; transforms are elementwise or one
scatter. String categories (pandas object columns, xpdb string columns) are mapped on the
host over their distinct values only: an xpdb string column keeps its codes on the device
and only its dictionary is looked at.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin

from ..device import Device, get_device
from ..errors import NotSupportedError
from ._data import (
    DataError,
    Twin,
    as_1d,
    check_is_fitted,
    column_sums,
    decode_labels,
    encode_labels,
    feature_names,
    input_device,
    to_device,
    validate_data,
)

__all__ = ["LabelEncoder", "MinMaxScaler", "OneHotEncoder", "SimpleImputer", "StandardScaler"]


def _nan_stats(xp: Any, X: Any) -> tuple[Any, Any, Any]:
    """Per-column count, mean and (population) variance ignoring NaN, without warnings for
    all-NaN columns (their mean and variance are NaN)."""
    missing = xp.isnan(X)
    count = column_sums(xp, ~missing)
    safe = xp.where(count > 0, count, 1)
    mean = column_sums(xp, xp.where(missing, 0.0, X)) / safe
    dev = xp.where(missing, 0.0, X - mean)
    var = column_sums(xp, dev, square=True) / safe
    empty = count == 0
    return count, xp.where(empty, np.nan, mean), xp.where(empty, np.nan, var)


def _handle_zeros(xp: Any, scale: Any) -> Any:
    """Scales that are (almost) zero become 1, so constant features pass unchanged."""
    eps = 10 * np.finfo(scale.dtype).eps
    return xp.where(xp.isnan(scale) | (scale < eps), 1.0, scale).astype(scale.dtype)


class StandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize features: ``(x - mean_) / scale_``, statistics computed on X's device.

    NaNs are ignored when fitting and kept when transforming (as scikit-learn).

    Parameters
    ----------
    copy : bool, default True
        Kept for scikit-learn compatibility; transforms always return a new array.
    with_mean, with_std : bool, default True

    Attributes
    ----------
    mean_, var_, scale_ : arrays (n_features,) or None
    n_samples_seen_ : int or array of per-column counts when NaNs were present
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> StandardScaler().fit_transform(np.array([[0.0], [2.0]])).ravel().tolist()
    [-1.0, 1.0]
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.preprocessing.StandardScaler", "transform", "transform", 1e-10),
    )

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True):
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X: Any, y: Any = None) -> StandardScaler:
        """Compute the mean and standard deviation of every column of ``X``."""
        X, _, dev = validate_data(self, X, dtype="numeric", allow_nan=True)
        xp = dev.xp
        count, mean, var = _nan_stats(xp, X)
        n_seen = int(X.shape[0])
        self.n_samples_seen_ = n_seen if bool((count == n_seen).all()) else count
        # as scikit-learn: the mean is kept whenever anything was computed
        self.mean_ = mean.astype(X.dtype) if self.with_mean or self.with_std else None
        if self.with_std:
            self.var_ = var.astype(X.dtype)
            self.scale_ = _handle_zeros(xp, xp.sqrt(self.var_))
        else:
            self.var_ = None
            self.scale_ = None
        return self

    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """Standardized ``X``, an array on X's device."""
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric", allow_nan=True)
        if self.with_mean:
            X = X - to_device(self.mean_, dev).astype(X.dtype, copy=False)
        if self.with_std:
            X = X / to_device(self.scale_, dev).astype(X.dtype, copy=False)
        return X if (self.with_mean or self.with_std) else X.copy()

    def inverse_transform(self, X: Any, copy: bool | None = None) -> Any:
        """Undo :meth:`transform`."""
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric", allow_nan=True)
        if self.with_std:
            X = X * to_device(self.scale_, dev).astype(X.dtype, copy=False)
        if self.with_mean:
            X = X + to_device(self.mean_, dev).astype(X.dtype, copy=False)
        return X


class MinMaxScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale every feature to ``feature_range`` by its minimum and maximum.

    Parameters
    ----------
    feature_range : (float, float), default (0, 1)
    copy : bool, default True
        Kept for scikit-learn compatibility.
    clip : bool, default False
        Clip transformed values of new data to ``feature_range``.

    Attributes
    ----------
    data_min_, data_max_, data_range_, scale_, min_ : arrays (n_features,)
    n_samples_seen_ : int
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.preprocessing.MinMaxScaler", "transform", "transform", 1e-10,
             {"feature_range": (-1.0, 2.0)}),
    )

    def __init__(self, feature_range: tuple[float, float] = (0, 1), *, copy: bool = True,
                 clip: bool = False):
        self.feature_range = feature_range
        self.copy = copy
        self.clip = clip

    def fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Compute the per-feature minimum and maximum of ``X`` (NaNs ignored)."""
        lo, hi = (float(v) for v in self.feature_range)
        if lo >= hi:
            raise DataError(f"MinMaxScaler feature_range={self.feature_range!r}: the minimum "
                            "must be smaller than the maximum")
        X, _, dev = validate_data(self, X, dtype="numeric", allow_nan=True)
        xp = dev.xp
        missing = xp.isnan(X)
        empty = missing.all(axis=0)
        dmin = xp.where(empty, np.nan, xp.where(missing, xp.inf, X).min(axis=0))
        dmax = xp.where(empty, np.nan, xp.where(missing, -xp.inf, X).max(axis=0))
        self.data_min_ = dmin.astype(X.dtype)
        self.data_max_ = dmax.astype(X.dtype)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = ((hi - lo) / _handle_zeros(xp, self.data_range_)).astype(X.dtype)
        self.min_ = (lo - self.data_min_ * self.scale_).astype(X.dtype)
        self.n_samples_seen_ = int(X.shape[0])
        return self

    def transform(self, X: Any) -> Any:
        """``X * scale_ + min_`` on X's device."""
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric", allow_nan=True)
        out = X * to_device(self.scale_, dev) + to_device(self.min_, dev)
        if self.clip:
            out = dev.xp.clip(out, *(float(v) for v in self.feature_range))
        return out.astype(X.dtype, copy=False)

    def inverse_transform(self, X: Any) -> Any:
        """Undo :meth:`transform`."""
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric", allow_nan=True)
        return ((X - to_device(self.min_, dev)) / to_device(self.scale_, dev)).astype(
            X.dtype, copy=False)


class SimpleImputer(TransformerMixin, BaseEstimator):
    """Replace missing values by a per-column statistic computed on the data's device.

    Parameters
    ----------
    missing_values : float, default NaN
        The placeholder of a missing value.
    strategy : {"mean", "median", "most_frequent", "constant"}, default "mean"
    fill_value : float, optional
        The value for ``strategy="constant"`` (default 0).
    copy : bool, default True
        Kept for scikit-learn compatibility.
    keep_empty_features : bool, default False
        Keep columns with no observed value (filled with 0, or ``fill_value`` for
        "constant"); by default they are dropped from the output, as in scikit-learn
        (which also warns; xpdb does not).

    Attributes
    ----------
    statistics_ : array (n_features,)
        NaN for empty features.
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> SimpleImputer().fit_transform(np.array([[1.0], [np.nan], [3.0]])).ravel().tolist()
    [1.0, 2.0, 3.0]
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.impute.SimpleImputer", "transform", "transform", 1e-10),
        Twin("sklearn.impute.SimpleImputer", "transform", "transform", 1e-10,
             {"strategy": "median"}),
        Twin("sklearn.impute.SimpleImputer", "transform", "transform", 1e-10,
             {"strategy": "most_frequent"}),
    )

    def __init__(self, *, missing_values: float = np.nan, strategy: str = "mean",
                 fill_value: float | None = None, copy: bool = True,
                 keep_empty_features: bool = False):
        self.missing_values = missing_values
        self.strategy = strategy
        self.fill_value = fill_value
        self.copy = copy
        self.keep_empty_features = keep_empty_features

    def _as_nan(self, xp: Any, X: Any) -> Any:
        """X with missing values as NaN (a no-op when the placeholder is NaN)."""
        mv = self.missing_values
        if mv is None or (isinstance(mv, float) and np.isnan(mv)):
            return X
        if isinstance(mv, str):
            raise NotSupportedError("SimpleImputer works on numeric data; string "
                                    f"missing_values={mv!r} is not supported")
        X = X.astype(np.float64) if X.dtype.kind != "f" else X
        return xp.where(mv == X, np.nan, X)

    def _fill(self) -> float:
        return 0.0 if self.fill_value is None else float(self.fill_value)

    def fit(self, X: Any, y: Any = None) -> SimpleImputer:
        """Compute the fill value of every column of ``X``."""
        if self.strategy not in ("mean", "median", "most_frequent", "constant"):
            raise DataError(f"SimpleImputer strategy={self.strategy!r}: use 'mean', 'median', "
                            "'most_frequent' or 'constant'")
        X, _, dev = validate_data(self, X, dtype="numeric", allow_nan=True)
        xp = dev.xp
        X = self._as_nan(xp, X)
        missing = xp.isnan(X)
        count = (~missing).sum(axis=0)
        if self.strategy == "mean":
            stats = _nan_stats(xp, X)[1]
        elif self.strategy == "median":
            # missing values as +inf sort last (X holds no infinities: as_2d refuses them)
            ordered = xp.sort(xp.where(missing, xp.inf, X), axis=0)
            lo = xp.maximum((count - 1) // 2, 0)
            hi = xp.maximum(count // 2, 0)
            a = xp.take_along_axis(ordered, lo[None, :], axis=0)[0]
            b = xp.take_along_axis(ordered, hi[None, :], axis=0)[0]
            stats = xp.where(count > 0, (a + b) / 2, np.nan)
        elif self.strategy == "most_frequent":
            stats = xp.full(X.shape[1], np.nan, dtype=X.dtype)
            for j in range(X.shape[1]):  # a loop over columns; each unique runs on device
                col = X[:, j]
                vals, counts = xp.unique(col[~missing[:, j]], return_counts=True)
                if vals.shape[0]:
                    stats[j] = vals[xp.argmax(counts)]  # ties: the smallest, as sklearn
        else:
            stats = xp.full(X.shape[1], self._fill(), dtype=X.dtype)
        # features with no observed value: dropped from the output (NaN statistic), or with
        # keep_empty_features filled with 0 (fill_value for "constant"), as scikit-learn
        empty_fill = self._fill() if self.strategy == "constant" else 0.0
        stats = xp.where(count == 0, empty_fill if self.keep_empty_features else np.nan,
                         stats)
        self.statistics_ = stats.astype(X.dtype, copy=False)
        return self

    def transform(self, X: Any) -> Any:
        """``X`` with missing values filled (and empty features dropped, see above)."""
        X, _, dev = validate_data(self, X, reset=False, dtype="numeric", allow_nan=True)
        xp = dev.xp
        X = self._as_nan(xp, X)
        stats = to_device(self.statistics_, dev)
        empty = xp.isnan(stats)
        filled = xp.where(xp.isnan(X), xp.where(empty, 0.0, stats)[None, :], X)
        if bool(empty.any()):
            filled = filled[:, ~empty]
        return filled.astype(X.dtype, copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (the input names less the dropped empty features)."""
        check_is_fitted(self)
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
            if input_features is None:
                input_features = [f"x{j}" for j in range(self.n_features_in_)]
        names = np.asarray(list(input_features), dtype=object)
        stats = self.statistics_
        empty = np.isnan(stats if isinstance(stats, np.ndarray) else stats.get())
        return names[~empty]


# -- categorical encoders -------------------------------------------------------------------
def _categorical_columns(X: Any) -> tuple[list[tuple[str, Any, Any]], Device, list[str]]:
    """The columns of ``X`` as ``(kind, values, dictionary)`` with their device and names.

    ``kind`` is ``"num"`` (values: a device array), ``"obj"`` (values: a host object array)
    or ``"dict"`` (an xpdb string column: device codes plus its host dictionary).
    """
    from ..frame._convert import device_values

    mod = type(X).__module__
    if mod.startswith("xpdb.frame") and hasattr(X, "table"):
        table = X.table
        out = []
        for name, col in table.items():
            if col.validity is not None and col.null_count:
                raise DataError(f"OneHotEncoder: column {name!r} holds {col.null_count} "
                                "missing values; fill them (fillna) first")
            if col.dictionary is not None:
                out.append(("dict", col.data, np.asarray(col.dictionary.to_pylist(),
                                                         dtype=object)))
            else:
                out.append(("num", device_values(col, name), None))
        return out, table.device, list(table.names)
    if mod.startswith("pandas") and hasattr(X, "columns"):
        out = []
        for name in X.columns:
            s = X[name]
            if s.isna().any():
                raise DataError(f"OneHotEncoder: column {name!r} holds missing values; fill "
                                "them first")
            if s.dtype.kind in "biuf":
                out.append(("num", s.to_numpy(), None))
            else:
                out.append(("obj", s.to_numpy(dtype=object), None))
        return out, get_device("cpu"), [str(c) for c in X.columns]
    dev = input_device(X)
    arr = X if mod.startswith("cupy") else np.asarray(X)
    if arr.ndim != 2:
        raise DataError(f"OneHotEncoder expects 2-d input (samples x features), got shape "
                        f"{tuple(arr.shape)}; reshape a single feature with reshape(-1, 1)")
    kind = "obj" if arr.dtype.kind in "OUS" else "num"
    names = [f"x{j}" for j in range(arr.shape[1])]
    return [(kind, arr[:, j].astype(object) if kind == "obj" else arr[:, j], None)
            for j in range(arr.shape[1])], dev, names


class OneHotEncoder(TransformerMixin, BaseEstimator):
    """Encode categorical features as a dense one-hot matrix on the data's device.

    Accepts numeric columns (categories found by a device ``unique``), pandas object or
    category columns and xpdb string columns (categories from the dictionary of the codes
    in use; the codes never leave the device).

    Parameters
    ----------
    categories : "auto" or list of array-like, default "auto"
    drop : {None, "first", "if_binary"}, default None
    sparse_output : bool, default False
        Only dense output is produced (scikit-learn's default is sparse); True raises.
    dtype : numpy dtype, default float64
    handle_unknown : {"error", "ignore"}, default "error"
        "ignore" encodes an unseen category as all zeros.

    Attributes
    ----------
    categories_ : list of arrays
        Sorted categories per feature: device arrays for numeric features, NumPy object
        arrays for strings.
    drop_idx_ : array of int or None
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> enc = OneHotEncoder().fit(np.array([["b"], ["a"], ["b"]]))
    >>> enc.transform(np.array([["a"], ["b"]])).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """

    _twins: ClassVar[tuple[Twin, ...]] = (
        Twin("sklearn.preprocessing.OneHotEncoder", "categorical", "transform", 0.0,
             {}, {"sparse_output": False}),
        Twin("sklearn.preprocessing.OneHotEncoder", "categorical", "transform", 0.0,
             {"drop": "first"}, {"sparse_output": False, "drop": "first"}),
    )

    def __init__(self, *, categories: Any = "auto", drop: str | None = None,
                 sparse_output: bool = False, dtype: Any = np.float64,
                 handle_unknown: str = "error"):
        self.categories = categories
        self.drop = drop
        self.sparse_output = sparse_output
        self.dtype = dtype
        self.handle_unknown = handle_unknown

    def fit(self, X: Any, y: Any = None) -> OneHotEncoder:
        """Find the categories of every column of ``X``."""
        if self.sparse_output:
            raise NotSupportedError("OneHotEncoder(sparse_output=True) is not supported; xpdb "
                                    "produces dense arrays on the data's device "
                                    "(sparse_output=False)")
        if self.handle_unknown not in ("error", "ignore"):
            raise DataError(f"OneHotEncoder handle_unknown={self.handle_unknown!r}: use "
                            "'error' or 'ignore'")
        if self.drop not in (None, "first", "if_binary"):
            raise DataError(f"OneHotEncoder drop={self.drop!r}: use None, 'first' or "
                            "'if_binary'")
        cols, dev, _names = _categorical_columns(X)
        xp = dev.xp
        self.n_features_in_ = len(cols)
        names = feature_names(X)
        if names is not None:
            self.feature_names_in_ = names
        if self.categories != "auto" and len(self.categories) != len(cols):
            raise DataError(f"OneHotEncoder: categories has {len(self.categories)} lists for "
                            f"{len(cols)} features")
        cats = []
        for j, (kind, values, dictionary) in enumerate(cols):
            if self.categories != "auto":
                given = np.asarray(self.categories[j])
                cats.append(given if given.dtype.kind in "OUS" else to_device(given, dev))
                continue
            if kind == "num":
                cats.append(xp.unique(values))
            elif kind == "dict":
                used = dev.to_host(xp.unique(values))
                cats.append(np.sort(dictionary[used]))
            else:
                cats.append(np.unique(values))
        self.categories_ = cats
        if self.drop is None:
            self.drop_idx_ = None
        elif self.drop == "first":
            self.drop_idx_ = np.zeros(len(cats), dtype=object)
        else:
            self.drop_idx_ = np.asarray([0 if len(c) == 2 else None for c in cats],
                                        dtype=object)
        return self

    def _codes(self, j: int, kind: str, values: Any, dictionary: Any, dev: Device) -> Any:
        """Index of each value of column ``j`` in ``categories_[j]`` (-1 when unseen)."""
        xp = dev.xp
        cats = self.categories_[j]
        if isinstance(cats, np.ndarray) and cats.dtype.kind in "OUS":
            if kind == "num":
                raise DataError(f"OneHotEncoder: feature {j} was fitted on strings but got "
                                "numbers; pass the same kind of column as in fit")
            sc = cats.astype(object)
            src = dictionary if kind == "dict" else values
            pos = np.clip(np.searchsorted(sc, src), 0, len(sc) - 1)
            codes = np.where(sc[pos] == src, pos, -1).astype(np.int64)
            if kind == "dict":  # map the dictionary, then gather through the device codes
                return to_device(codes, dev)[values]
            return to_device(codes, dev)
        if kind != "num":
            raise DataError(f"OneHotEncoder: feature {j} was fitted on numbers but got "
                            "strings; pass the same kind of column as in fit")
        cats = to_device(cats, dev)
        # same dtype on both sides of searchsorted (CuPy wants it); equality uses the raw values
        pos = xp.clip(xp.searchsorted(cats, values.astype(cats.dtype, copy=False)), 0,
                      cats.shape[0] - 1)
        return xp.where(cats[pos] == values, pos, -1).astype(np.int64)

    def transform(self, X: Any) -> Any:
        """The one-hot matrix (n_samples, n_output_features) on X's device."""
        check_is_fitted(self)
        cols, dev, _ = _categorical_columns(X)
        if len(cols) != self.n_features_in_:
            raise DataError(f"X has {len(cols)} features, but OneHotEncoder is expecting "
                            f"{self.n_features_in_} features as input")
        xp = dev.xp
        n = int(cols[0][1].shape[0]) if cols else 0
        sizes = [len(c) for c in self.categories_]
        total = int(sum(sizes))
        out = xp.zeros((n, total), dtype=self.dtype)
        flat = out.reshape(-1)
        rows = xp.arange(n, dtype=np.int64)
        offset = 0
        for j, (kind, values, dictionary) in enumerate(cols):
            codes = self._codes(j, kind, values, dictionary, dev)
            unknown = codes < 0
            if bool(unknown.any()):
                if self.handle_unknown == "error":
                    first = int(dev.to_host(xp.argmax(unknown)))
                    bad = dictionary[int(values[first])] if kind == "dict" else values[first]
                    bad = bad.item() if hasattr(bad, "item") else bad
                    msg = (f"OneHotEncoder: found unknown category {bad!r} in feature {j} "
                           f"(row {first}) during transform; refit, or pass "
                           "handle_unknown='ignore'")
                    raise DataError(msg)
                ok = ~unknown
                flat[rows[ok] * total + offset + codes[ok]] = 1
            else:
                flat[rows * total + offset + codes] = 1
            offset += sizes[j]
        keep = self._kept_columns()
        return out if keep is None else out[:, to_device(keep, dev)]

    def _kept_columns(self) -> np.ndarray | None:
        if self.drop_idx_ is None:
            return None
        keep = []
        offset = 0
        for size, drop in zip((len(c) for c in self.categories_), self.drop_idx_, strict=True):
            keep.extend(offset + i for i in range(size) if drop is None or i != drop)
            offset += size
        return np.asarray(keep, dtype=np.int64)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names ``<feature>_<category>``."""
        check_is_fitted(self)
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
            if input_features is None:
                input_features = [f"x{j}" for j in range(self.n_features_in_)]
        names = []
        for feat, cats in zip(input_features, self.categories_, strict=True):
            host = cats if isinstance(cats, np.ndarray) else cats.get()
            names.extend(f"{feat}_{c}" for c in host.tolist())
        out = np.asarray(names, dtype=object)
        keep = self._kept_columns()
        return out if keep is None else out[keep]


class LabelEncoder(TransformerMixin, BaseEstimator):
    """Encode target labels as integers ``0 .. n_classes - 1``.

    Numeric labels are made unique on their device; string labels on the host.

    Attributes
    ----------
    classes_ : array (n_classes,)

    Examples
    --------
    >>> LabelEncoder().fit_transform(["b", "a", "b"]).tolist()
    [1, 0, 1]
    """

    _twins: ClassVar[tuple[Twin, ...]] = ()

    def fit(self, y: Any) -> LabelEncoder:
        """Learn the sorted distinct labels of ``y``."""
        dev = input_device(y)
        self.classes_ = encode_labels(y, dev)[0]
        return self

    def fit_transform(self, y: Any) -> Any:
        """Fit and return the codes of ``y`` (int64, on y's device)."""
        dev = input_device(y)
        self.classes_, codes = encode_labels(y, dev)
        return codes

    def transform(self, y: Any) -> Any:
        """Codes of ``y`` in ``classes_``; unseen labels raise."""
        check_is_fitted(self)
        dev = input_device(y)
        xp = dev.xp
        arr = as_1d(y, dev, dtype=None)
        classes = self.classes_
        if (isinstance(classes, np.ndarray) and classes.dtype.kind in "OUS") or \
                arr.dtype.kind in "OUS":
            host = dev.to_host(arr).astype(object)
            sc = np.asarray(classes if isinstance(classes, np.ndarray) else classes.get(),
                            dtype=object)
            pos = np.clip(np.searchsorted(sc, host), 0, len(sc) - 1)
            found = sc[pos] == host
            codes = to_device(pos.astype(np.int64), dev)
            bad = None if found.all() else host[~found][0]
        else:
            cls = to_device(classes, dev)
            pos = xp.clip(xp.searchsorted(cls, arr.astype(cls.dtype, copy=False)), 0,
                          cls.shape[0] - 1)
            found = cls[pos] == arr
            codes = pos.astype(np.int64)
            bad = None if bool(found.all()) else dev.to_host(arr[~found][:1])[0].item()
        if bad is not None:
            raise DataError(f"LabelEncoder: y contains a label not seen in fit: {bad!r}")
        return codes

    def inverse_transform(self, y: Any) -> Any:
        """Labels for the integer codes ``y``."""
        check_is_fitted(self)
        dev = input_device(y)
        codes = as_1d(y, dev, dtype=None).astype(np.int64)
        k = int(self.classes_.shape[0])
        if codes.shape[0] and (int(codes.min()) < 0 or int(codes.max()) >= k):
            raise DataError(f"LabelEncoder.inverse_transform: codes must be in [0, {k - 1}]")
        return decode_labels(self.classes_, codes)
