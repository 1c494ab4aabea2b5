"""Whole-column reductions with pandas' semantics, returning Python scalars.

Missing values (nulls and float NaN) are skipped. The sum of no values is 0 (False for
``any``, True for ``all``); the mean, median, min, max, std and var of no values are NaN.
``std`` and ``var`` use ``ddof=1`` as pandas does. Integer sums stay exact (int64 on the
device); means and spreads are computed in float64.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .. import types as t
from ..column import Column
from ..errors import TypeError as XTypeError
from ..kernels import keys
from ._convert import nan_as_null

_NAN = float("nan")
F = TypeVar("F", bound=Callable[..., Any])


def _quiet(fn: F) -> F:
    """Run ``fn`` with NumPy's floating-point warnings off (overflow gives inf, as pandas)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _valid_values(col: Column) -> Any:
    """The values of the non-missing rows (a compacted array on the device)."""
    col = nan_as_null(col)
    if col.validity is None:
        return col.data
    return col.data[col.validity]


def _as_float(col: Column, values: Any) -> Any:
    out = values.astype(np.float64)
    if col.dtype.is_decimal:
        out = out / float(10**col.dtype.scale)
    return out


def _check_numeric(col: Column, func: str, allow_bool: bool = True) -> None:
    dt = col.dtype
    if dt.is_numeric or (allow_bool and dt.is_bool):
        return
    msg = (
        f"{func}() needs a numeric column, got type {dt}; cast it with astype() or select "
        "numeric columns"
    )
    raise XTypeError(msg)


def _box(col: Column, value: Any) -> Any:
    """A device scalar of ``col``'s physical type as the Python value of its logical type."""
    xp = col.xp
    one = xp.asarray(value, dtype=col.dtype.physical).reshape(1)
    return Column(col.dtype, one, None, col.dictionary, col.device).to_pylist()[0]


def count(col: Column) -> int:
    """Rows that hold a value (neither null nor NaN)."""
    return int(_valid_values(col).shape[0])


@_quiet
def sum_(col: Column) -> Any:
    """Sum of the values; 0 for no values."""
    dt = col.dtype
    if not (dt.is_numeric or dt.is_bool or dt.kind == "duration"):
        raise XTypeError(f"sum() needs a numeric column, got type {dt}")
    vals = _valid_values(col)
    dev = col.device
    if dt.is_float:
        return float(dev.scalar(vals.astype(np.float64).sum())) if vals.shape[0] else 0.0
    if dt.is_bool:
        return int(dev.scalar(vals.sum()))
    if dt.is_unsigned_integer:
        return int(dev.scalar(vals.astype(np.uint64).sum()))
    total = vals.astype(np.int64).sum() if vals.shape[0] else np.int64(0)
    if dt.is_decimal or dt.kind == "duration":
        return _box(col, total)
    return int(dev.scalar(total))


@_quiet
def prod(col: Column) -> Any:
    """Product of the values; 1 for no values."""
    _check_numeric(col, "prod")
    vals = _valid_values(col)
    if col.dtype.is_float or col.dtype.is_decimal:
        return float(col.device.scalar(_as_float(col, vals).prod()))
    return int(col.device.scalar(vals.astype(np.int64).prod()))


@_quiet
def mean(col: Column) -> float:
    """Arithmetic mean; NaN for no values."""
    _check_numeric(col, "mean")
    vals = _valid_values(col)
    n = int(vals.shape[0])
    if n == 0:
        return _NAN
    return float(col.device.scalar(_as_float(col, vals).mean()))


@_quiet
def var(col: Column, ddof: int = 1) -> float:
    """Variance with ``ddof`` delta degrees of freedom; NaN when too few values."""
    _check_numeric(col, "var")
    vals = _valid_values(col)
    n = int(vals.shape[0])
    if n - ddof <= 0:
        return _NAN
    x = _as_float(col, vals)
    dev = x - x.mean()
    return float(col.device.scalar((dev * dev).sum())) / (n - ddof)


def std(col: Column, ddof: int = 1) -> float:
    """Standard deviation with ``ddof``; NaN when too few values."""
    v = var(col, ddof)
    return math.sqrt(v) if not math.isnan(v) else _NAN


@_quiet
def quantile(col: Column, q: float) -> float:
    """The ``q`` quantile with linear interpolation (pandas' default); NaN for no values."""
    _check_numeric(col, "quantile")
    if not 0 <= q <= 1:
        raise XTypeError(f"quantile {q!r} must lie in [0, 1]")
    vals = _valid_values(col)
    if int(vals.shape[0]) == 0:
        return _NAN
    return float(col.device.scalar(col.xp.quantile(_as_float(col, vals), q)))


def median(col: Column) -> float:
    """The median; NaN for no values."""
    return quantile(col, 0.5)


def _extreme(col: Column, func: str) -> Any:
    dt = col.dtype
    if not (dt.is_numeric or dt.is_bool or dt.is_string or dt.is_temporal):
        raise XTypeError(f"{func}() is not defined for type {dt}")
    vals = _valid_values(col)
    if int(vals.shape[0]) == 0:
        return _NAN
    v = vals.min() if func == "min" else vals.max()
    if dt.is_float:
        return float(col.device.scalar(v))
    if dt.is_integer:
        return int(col.device.scalar(v))
    if dt.is_bool:
        return bool(col.device.scalar(v))
    return _box(col, v)


def min_(col: Column) -> Any:
    """The smallest value (strings by code point); NaN for no values."""
    return _extreme(col, "min")


def max_(col: Column) -> Any:
    """The largest value; NaN for no values."""
    return _extreme(col, "max")


def any_(col: Column) -> bool:
    """True when some value is true (non-zero); missing values are skipped."""
    _check_numeric(col, "any")
    vals = _valid_values(col)
    return bool(col.device.scalar((vals != 0).any())) if vals.shape[0] else False


def all_(col: Column) -> bool:
    """True when every value is true (non-zero); missing values are skipped."""
    _check_numeric(col, "all")
    vals = _valid_values(col)
    return bool(col.device.scalar((vals != 0).all())) if vals.shape[0] else True


def nunique(col: Column, dropna: bool = True) -> int:
    """Distinct values; with ``dropna=False`` missing counts as one more value."""
    col = nan_as_null(col)
    if len(col) == 0:
        return 0
    n = keys.factorize([col]).n
    if col.validity is not None and dropna and col.null_count:
        n -= 1
    return n


def _shape(col: Column, kind: str) -> float:
    """Sample skewness or excess kurtosis through the group-by kernel with one group (the
    code SQL and ``groupby`` use); NaN where pandas gives NaN."""
    from ..kernels import groupby as kg
    from ..table import Table

    _check_numeric(col, "skew" if kind == "skewness" else "kurt")
    out = kg.aggregate(Table([("v", nan_as_null(col))], len(col), col.device),
                       [kg.Agg(kind, "v", "r")]).column("r").to_pylist()[0]
    return _NAN if out is None else float(out)


def skew(col: Column) -> float:
    """Sample skewness (NaN below 3 values or when all are equal)."""
    return _shape(col, "skewness")


def kurt(col: Column) -> float:
    """Sample excess kurtosis (NaN below 4 values or when all are equal)."""
    return _shape(col, "kurtosis")


REDUCERS = {
    "sum": sum_, "prod": prod, "mean": mean, "min": min_, "max": max_, "count": count,
    "std": std, "var": var, "median": median, "nunique": nunique, "any": any_, "all": all_,
    "skew": skew, "kurt": kurt,
}


def reduce(col: Column, func: str) -> Any:
    """Apply the reduction called ``func`` (a key of :data:`REDUCERS`)."""
    try:
        fn = REDUCERS[func]
    except KeyError:
        raise XTypeError(f"unknown reduction {func!r}; use one of {sorted(REDUCERS)}") from None
    return fn(col)


def is_numeric_type(dtype: t.DataType) -> bool:
    """Types pandas' numeric_only keeps (numbers and bools)."""
    return dtype.is_numeric or dtype.is_bool
