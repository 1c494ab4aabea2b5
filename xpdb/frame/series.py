"""The pandas-like :class:`Series`: one named column on a device."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa

from .. import types as t
from ..column import Column
from ..device import Device, get_device
from ..errors import TypeError as XTypeError
from ..errors import XpdbError
from ..kernels import _xp, keys
from . import reductions as red
from ._convert import (
    bool_mask,
    column_to_numpy,
    device_values,
    is_position_list,
    is_scalar,
    kernel,
    missing_mask,
    nan_as_null,
    positions,
    py_scalar,
    to_column,
)

_ARITH = {
    "__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "truediv",
    "__floordiv__": "floordiv", "__mod__": "mod", "__pow__": "pow",
}
_COMPARE = {"__eq__": "eq", "__ne__": "ne", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
            "__ge__": "ge"}


class Series:
    """One named column on a device, with a pandas-like API.

    Parameters
    ----------
    data : array-like or scalar
        A list, NumPy or CuPy array, pandas Series, pyarrow array, xpdb Column or Series.
        Float NaN in host input is stored as null (missing), as pandas treats it.
    name : str, optional
        Defaults to the name of a pandas/xpdb Series input.
    device : str or Device, optional
        Defaults to where ``data`` lives (host data: the ``device`` setting).
    dtype : type spec, optional
        Cast the values to this xpdb type.

    Notes
    -----
    Differences from pandas:

    - There is no index: rows are positional and operations between two Series pair rows
      by position (both must have the same length). ``to_pandas`` gives a RangeIndex.
    - Comparisons (``==``, ``<``...) with a missing value give null (SQL's three-valued
      logic) where pandas gives False (``NaN == 1`` is False). A null in a boolean mask
      selects nothing, so ``df[s > 1]`` keeps the rows pandas keeps for ``== < <= > >=``.
      Two cases differ: pandas' ``NaN != 1`` is True (xpdb: null, so ``df[s != 1]`` leaves
      out missing rows), and ``~(s > 1)`` is null on missing rows, not True. Use
      ``(s != 1) | s.isna()`` or ``fillna`` on the mask for pandas' rows. ``&``, ``|`` and
      ``~`` follow Kleene logic (``False & null`` is False). ``isin`` and ``isna`` never
      give null.
    - ``/`` by zero gives inf or NaN as in pandas; a NaN produced by arithmetic is a
      missing value for ``isna``, ``dropna``, ``fillna`` and the reductions.
    - Types are xpdb's logical types (``int64``, ``string``, ``timestamp[us]``...).

    Examples
    --------
    >>> s = Series([1, 2, None], name="x", device="cpu")
    >>> (s * 2).to_list()
    [2, 4, None]
    >>> s.sum(), s.mean(), s.isna().to_list()
    (3, 1.5, [False, False, True])
    """

    __array_ufunc__ = None  # make NumPy scalars defer to our reflected operators
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, data: Any = None, name: str | None = None, device: Any = None,
                 dtype: Any = None):
        if name is None and hasattr(data, "name") and not isinstance(data, Column):
            name = data.name if isinstance(data, Series) else _pandas_name(data)
        if data is None:
            data = []
        dev = _input_device(data) if device is None else get_device(device)
        self._col = to_column(data, dev, None if not is_scalar(data) else 1, dtype)
        self._name = name

    @classmethod
    def _from_column(cls, col: Column, name: Any = None) -> Series:
        s = cls.__new__(cls)
        s._col = col
        s._name = name
        return s

    def _new(self, col: Column, name: Any = ...) -> Series:
        return Series._from_column(col, self._name if name is ... else name)

    # -- structure --------------------------------------------------------------------------
    @property
    def name(self) -> Any:
        """The Series' name (the column name in a DataFrame)."""
        return self._name

    @name.setter
    def name(self, value: Any) -> None:
        self._name = value

    def rename(self, name: Any) -> Series:
        """The same values under another name."""
        return self._new(self._col, name)

    @property
    def dtype(self) -> t.DataType:
        """The xpdb logical type."""
        return self._col.dtype

    @property
    def device(self) -> Device:
        """The device holding the values."""
        return self._col.device

    def __len__(self) -> int:
        return len(self._col)

    @property
    def size(self) -> int:
        """Number of rows."""
        return len(self._col)

    @property
    def shape(self) -> tuple[int]:
        """(rows,)."""
        return (len(self._col),)

    @property
    def ndim(self) -> int:
        """Always 1."""
        return 1

    @property
    def empty(self) -> bool:
        """True when there are no rows."""
        return len(self._col) == 0

    @property
    def column(self) -> Column:
        """The underlying :class:`~xpdb.column.Column`."""
        return self._col

    def to(self, device: Any) -> Series:
        """This Series on ``device``."""
        return self._new(self._col.to(device))

    def copy(self, deep: bool = True) -> Series:
        """A copy. xpdb never changes a column in place, so ``deep=False`` is as safe."""
        if not deep:
            return self._new(self._col)
        c = self._col
        validity = None if c.validity is None else c.validity.copy()
        return self._new(Column(c.dtype, c.data.copy(), validity, c.dictionary, c.device))

    def __repr__(self) -> str:
        from .format import series_repr

        return series_repr(self)

    def __bool__(self) -> bool:
        msg = (
            "the truth value of a Series is ambiguous; use & | ~ for element-wise logic, or "
            ".any() / .all()"
        )
        raise ValueError(msg)

    def __iter__(self) -> Any:
        return iter(self.to_list())

    # -- conversion -------------------------------------------------------------------------
    def to_arrow(self) -> pa.Array:
        """A pyarrow array (copies device data to the host)."""
        return self._col.to_arrow()

    def to_pandas(self, nullable: bool = False) -> Any:
        """A pandas Series with a RangeIndex (see :meth:`DataFrame.to_pandas`)."""
        name = "__xpdb_series__"
        from ..table import Table

        pdf = Table([(name, self._col)], len(self._col)).to_pandas(nullable=nullable)
        out = pdf[name]
        out.name = self._name
        return out

    def to_frame(self, name: Any = None) -> Any:
        """A one-column DataFrame."""
        from ..table import Table
        from .dataframe import DataFrame

        label = name if name is not None else (self._name if self._name is not None else "0")
        return DataFrame._from_table(Table([(str(label), self._col)], len(self._col)))

    def to_list(self) -> list[Any]:
        """The values as a Python list (None for nulls)."""
        return self._col.to_pylist()

    tolist = to_list

    def to_numpy(self, dtype: Any = None) -> np.ndarray:
        """A NumPy array on the host.

        Floats show nulls as NaN; integers and bools with nulls raise (``fillna`` or
        ``astype("float64")`` first); strings give an object array with None; dates and
        timestamps give datetime64 with NaT.
        """
        out = column_to_numpy(self._col, str(self._name))
        return out if dtype is None else out.astype(dtype)

    values = property(to_numpy)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.to_numpy(dtype)

    def to_cupy(self) -> Any:
        """A CuPy array on the GPU (the same rules as :meth:`to_numpy` for nulls)."""
        col = self._col
        if not col.device.is_gpu:
            col = col.to(get_device("gpu"))
        return device_values(col, str(self._name))

    def __dlpack__(self, **kwargs: Any) -> Any:
        if not (self.dtype.is_numeric or self.dtype.is_bool) or self.dtype.is_decimal:
            raise XTypeError(f"a Series of type {self.dtype} cannot be exported through DLPack")
        return self._col.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self._col.__dlpack_device__()

    # -- selection --------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int | np.integer) and not isinstance(key, bool):
            n = len(self)
            i = int(key) + n if key < 0 else int(key)
            if not 0 <= i < n:
                raise IndexError(f"position {key} is out of bounds for a Series of {n} rows")
            return self._col.slice(i, i + 1).to_pylist()[0]
        if isinstance(key, slice):
            return self._new(_slice_column(self._col, key))
        if is_position_list(key):
            return self.take(key)
        mask = bool_mask(key, self.device, len(self))
        return self._new(self._col.filter(mask))

    def take(self, indices: Any) -> Series:
        """The values at positions ``indices`` (a list or integer array)."""
        return self._new(self._col.take(positions(indices, self.device, len(self))))

    def head(self, n: int = 5) -> Series:
        """The first ``n`` rows (all but the last ``-n`` when negative)."""
        return self._new(_slice_column(self._col, slice(None, n)))

    def tail(self, n: int = 5) -> Series:
        """The last ``n`` rows (all but the first ``-n`` when negative)."""
        k = len(self)
        return self._new(_slice_column(self._col, slice(max(k - n, 0) if n >= 0 else -n, None)))

    # -- operators --------------------------------------------------------------------------
    def _operand(self, other: Any) -> Any:
        """A Column of this Series' length, or a Python scalar (None for null)."""
        if isinstance(other, Series):
            if len(other) != len(self):
                msg = (
                    f"cannot combine Series of {len(self)} and {len(other)} rows: xpdb has no "
                    "index to align on, so operands must have equal lengths"
                )
                raise XpdbError(msg)
            if other.device is not self.device:
                msg = (
                    f"operands live on {self.device} and {other.device}; move one with "
                    ".to(device)"
                )
                raise XpdbError(msg)
            return other._col
        if is_scalar(other):
            return py_scalar(other)
        return to_column(other, self.device, len(self))

    def _binary_name(self, other: Any) -> Any:
        if isinstance(other, Series):
            return self._name if other._name == self._name else None
        return self._name

    def _arith(self, op: str, other: Any, reflected: bool = False) -> Series:
        from .dataframe import DataFrame

        if isinstance(other, DataFrame):
            return NotImplemented
        b = self._operand(other)
        a = self._col
        if self.dtype.is_string and op == "add":
            strings = kernel("strings", "string concatenation")
            cols = (b, a) if reflected else (a, b)
            return self._new(strings.concat(*cols), self._binary_name(other))
        if reflected:
            a, b = b, a
        expr = kernel("expr", f"Series.{op}")
        return self._new(expr.arith(op, a, b, div_zero="ieee"), self._binary_name(other))

    def _compare(self, op: str, other: Any) -> Series:
        from .dataframe import DataFrame

        if isinstance(other, DataFrame):
            return NotImplemented
        b = self._operand(other)
        expr = kernel("expr", "comparison")
        return self._new(expr.compare(op, self._col, b), self._binary_name(other))

    def _logical(self, op: str, other: Any, reflected: bool = False) -> Series:
        b = self._operand(other)
        a = self._col
        if reflected:
            a, b = b, a
        expr = kernel("expr", "logical operators")
        _check_bool(self._col, op)
        if isinstance(b, Column):
            _check_bool(b, op)
        elif b is not None and not isinstance(b, bool):
            raise XTypeError(f"{op} needs boolean operands, got {b!r}")
        fn = expr.and_ if op == "and" else expr.or_
        if op == "xor":
            res = expr.and_(expr.or_(a, b), expr.not_(expr.and_(a, b)))
            return self._new(res, self._binary_name(other))
        return self._new(fn(a, b), self._binary_name(other))

    def __and__(self, other: Any) -> Series:
        return self._logical("and", other)

    def __rand__(self, other: Any) -> Series:
        return self._logical("and", other, True)

    def __or__(self, other: Any) -> Series:
        return self._logical("or", other)

    def __ror__(self, other: Any) -> Series:
        return self._logical("or", other, True)

    def __xor__(self, other: Any) -> Series:
        return self._logical("xor", other)

    def __invert__(self) -> Series:
        c = self._col
        if c.dtype.is_integer:
            return self._new(Column(c.dtype, c.xp.invert(c.data), c.validity, None, c.device))
        _check_bool(c, "~")
        return self._new(kernel("expr", "~").not_(c))

    def __neg__(self) -> Series:
        return self._new(kernel("expr", "negation").negate(self._col))

    def __pos__(self) -> Series:
        return self

    def __abs__(self) -> Series:
        return self.abs()

    # -- missing values ---------------------------------------------------------------------
    def isna(self) -> Series:
        """True where the value is missing (null or NaN); never null itself."""
        c = self._col
        return self._new(Column(t.bool_, missing_mask(c), None, None, c.device))

    isnull = isna

    def notna(self) -> Series:
        """True where the value is present (not null, not NaN)."""
        c = self._col
        return self._new(Column(t.bool_, ~missing_mask(c), None, None, c.device))

    notnull = notna

    def fillna(self, value: Any) -> Series:
        """Missing values (null and NaN) replaced by ``value`` (a scalar or a Series)."""
        if value is None:
            raise XTypeError("fillna needs a value to fill with, got None")
        col = nan_as_null(self._col)
        if col.validity is None:
            return self._new(col)
        b = self._operand(value)
        return self._new(kernel("expr", "fillna").fill_null(col, b))

    def dropna(self) -> Series:
        """The rows that hold a value."""
        return self._new(self._col.filter(~missing_mask(self._col)))

    # -- element-wise -----------------------------------------------------------------------
    def astype(self, dtype: Any) -> Series:
        """The values cast to ``dtype`` (an xpdb type spec: ``"int64"``, ``"string"``, float...)."""
        target = t.parse(dtype)
        if target == self.dtype:
            return self._new(self._col)
        cast = kernel("cast", "astype")
        return self._new(cast.cast(nan_as_null(self._col), target))

    def abs(self) -> Series:
        """Absolute values."""
        return self._new(kernel("expr", "abs").abs_(self._col))

    def round(self, decimals: int = 0) -> Series:
        """Round half to even, as pandas and NumPy do, to ``decimals`` places."""
        c = self._col
        if c.dtype.is_float or (c.dtype.is_integer and decimals < 0):
            data = c.xp.round(c.data, decimals)
            return self._new(Column(c.dtype, data, c.validity, None, c.device))
        if c.dtype.is_integer or c.dtype.is_bool:
            return self._new(c)
        return self._new(kernel("expr", "round").round_(c, decimals))

    def clip(self, lower: Any = None, upper: Any = None) -> Series:
        """Values limited to ``[lower, upper]`` (scalars; None leaves a side open)."""
        c = self._col
        if not c.dtype.is_numeric or c.dtype.is_decimal:
            raise XTypeError(f"clip needs an integer or float column, got type {c.dtype}")
        target = c.dtype
        for b in (lower, upper):
            if b is not None:
                target = t.common_numeric(target, t.from_numpy(np.asarray(py_scalar(b)).dtype))
        if target != c.dtype:
            c = kernel("cast", "clip").cast(c, target)
        xp = c.xp
        data = c.data
        if lower is not None:
            data = xp.maximum(data, target.physical.type(py_scalar(lower)))
        if upper is not None:
            data = xp.minimum(data, target.physical.type(py_scalar(upper)))
        data = data.astype(target.physical, copy=False)
        return self._new(Column(target, data, c.validity, None, c.device))

    def between(self, left: Any, right: Any, inclusive: str = "both") -> Series:
        """``left <= value <= right`` (``inclusive`` in both/neither/left/right).

        Missing values give null (False in pandas); see the class notes.
        """
        ops = {"both": ("ge", "le"), "neither": ("gt", "lt"), "left": ("ge", "lt"),
               "right": ("gt", "le")}
        if inclusive not in ops:
            raise XTypeError(f"inclusive={inclusive!r} must be one of {list(ops)}")
        lo_op, hi_op = ops[inclusive]
        return (self._compare(lo_op, left)) & (self._compare(hi_op, right))

    def isin(self, values: Iterable[Any]) -> Series:
        """True where the value is one of ``values`` (never null: pandas' membership test).

        A missing value is found as pandas finds it: in a numeric column when ``values``
        holds a float NaN, in other columns when it holds None or NaN.
        """
        if isinstance(values, str) or is_scalar(values):
            msg = f"isin needs a list-like of values, got {values!r}; wrap it in a list"
            raise XTypeError(msg)
        if isinstance(values, Series):
            vals = values.to_list()
        else:
            vals = list(values.tolist() if hasattr(values, "tolist") else values)
        has_nan = any(isinstance(v, float | np.floating) and np.isnan(v) for v in vals)
        vals = [py_scalar(v) for v in vals]
        numeric = self.dtype.is_numeric
        want_missing = has_nan or (not numeric and any(v is None for v in vals))
        present = [v for v in vals if v is not None]
        col = nan_as_null(self._col)
        xp = col.xp
        if present:
            res = kernel("expr", "isin").isin(col, present)
            hit = res.data if res.validity is None else res.data & res.validity
        else:
            hit = xp.zeros(len(col), dtype=bool)
        if want_missing and col.validity is not None:
            hit = hit | ~col.validity
        return self._new(Column(t.bool_, hit, None, None, col.device))

    def where(self, cond: Any, other: Any = None) -> Series:
        """Keep values where ``cond`` is True; elsewhere (False or null) take ``other``."""
        mask = bool_mask(cond, self.device, len(self))
        keep = Column(t.bool_, mask, None, None, self.device)
        b = self._operand(other)
        return self._new(kernel("expr", "where").where(keep, self._col, b))

    def mask(self, cond: Any, other: Any = None) -> Series:
        """Replace values where ``cond`` is True by ``other`` (the opposite of :meth:`where`)."""
        mask = bool_mask(cond, self.device, len(self))
        keep = Column(t.bool_, ~mask, None, None, self.device)
        b = self._operand(other)
        return self._new(kernel("expr", "where").where(keep, self._col, b))

    def cumsum(self) -> Series:
        """Running sum; missing rows stay missing and add nothing (pandas' skipna)."""
        c = nan_as_null(self._col)
        red._check_numeric(c, "cumsum")
        xp = c.xp
        data = c.data if c.validity is None else xp.where(c.validity, c.data, 0)
        dtype = c.dtype
        if dtype.is_bool or (dtype.is_integer and dtype.physical.itemsize < 8):
            dtype = t.uint64 if dtype.is_unsigned_integer else t.int64
        out = xp.cumsum(data.astype(dtype.physical, copy=False))
        return self._new(Column(dtype, out, c.validity, None, c.device))

    # -- reductions -------------------------------------------------------------------------
    def sum(self) -> Any:
        """Sum of the values, skipping missing ones (0 when there are none)."""
        return red.sum_(self._col)

    def prod(self) -> Any:
        """Product of the values, skipping missing ones."""
        return red.prod(self._col)

    def mean(self) -> float:
        """Mean of the values (NaN when there are none)."""
        return red.mean(self._col)

    def min(self) -> Any:
        """Smallest value (NaN when there are none)."""
        return red.min_(self._col)

    def max(self) -> Any:
        """Largest value (NaN when there are none)."""
        return red.max_(self._col)

    def count(self) -> int:
        """Number of values that are not missing."""
        return red.count(self._col)

    def std(self, ddof: int = 1) -> float:
        """Sample standard deviation (``ddof=1``)."""
        return red.std(self._col, ddof)

    def var(self, ddof: int = 1) -> float:
        """Sample variance (``ddof=1``)."""
        return red.var(self._col, ddof)

    def median(self) -> float:
        """The median (NaN when there are no values)."""
        return red.median(self._col)

    def skew(self) -> float:
        """Sample skewness (NaN below 3 values or when all are equal)."""
        return red.skew(self._col)

    def kurt(self) -> float:
        """Sample excess kurtosis (NaN below 4 values or when all are equal)."""
        return red.kurt(self._col)

    def quantile(self, q: Any = 0.5) -> Any:
        """The ``q`` quantile (linear interpolation); a list of ``q`` gives a Series."""
        if is_scalar(q):
            return red.quantile(self._col, float(q))
        vals = [red.quantile(self._col, float(x)) for x in q]
        return Series(vals, name=self._name, device=self.device, dtype=t.float64)

    def any(self) -> bool:
        """True when some present value is true or non-zero."""
        return red.any_(self._col)

    def all(self) -> bool:
        """True when every present value is true or non-zero."""
        return red.all_(self._col)

    def nunique(self, dropna: bool = True) -> int:
        """Number of distinct values (missing values count once with ``dropna=False``)."""
        return red.nunique(self._col, dropna)

    def describe(self) -> Any:
        """Summary statistics as a DataFrame (see :meth:`DataFrame.describe`)."""
        return self.to_frame().describe()

    # -- distinct values and sorting --------------------------------------------------------
    def unique(self) -> Series:
        """Distinct values in order of first appearance (a missing value is kept once)."""
        col = nan_as_null(self._col)
        codes = keys.factorize([col])
        first = keys.group_first_row(codes.ids, codes.n)
        return self._new(col.take(col.xp.sort(first)))

    def drop_duplicates(self, keep: str | bool = "first") -> Series:
        """The Series without repeated values (see :meth:`DataFrame.drop_duplicates`)."""
        return self.to_frame("v").drop_duplicates(keep=keep)["v"].rename(self._name)

    def value_counts(self, normalize: bool = False, sort: bool = True, ascending: bool = False,
                     dropna: bool = True) -> Any:
        """Counts of each distinct value, as a two-column DataFrame.

        The result is pandas' ``value_counts(...).reset_index()``: a column named after
        the Series (``"index"`` when unnamed) with the values, and ``"count"`` (or
        ``"proportion"`` with ``normalize=True``). Ties keep the order of first appearance,
        as in pandas.
        """
        col = nan_as_null(self._col)
        xp = col.xp
        codes = keys.factorize([col])
        counts = _xp.bincount(xp, codes.ids, codes.n)
        first = keys.group_first_row(codes.ids, codes.n)
        if dropna and col.validity is not None and codes.n:
            keep = col.validity[xp.minimum(first, max(len(col) - 1, 0))]
            first, counts = first[keep], counts[keep]
        order = _xp.stable_argsort(xp, first)
        first, counts = first[order], counts[order]
        if sort:
            key = counts if ascending else -counts
            order = _xp.stable_argsort(xp, key)
            first, counts = first[order], counts[order]
        label = self._name if self._name is not None else "index"
        if normalize:
            total = counts.sum()
            stat = ("proportion", Column(t.float64, counts / xp.maximum(total, 1), None, None,
                                         col.device))
        else:
            stat = ("count", Column(t.int64, counts.astype(np.int64), None, None, col.device))
        from ..table import Table
        from .dataframe import DataFrame

        return DataFrame._from_table(Table([(str(label), col.take(first)), stat]))

    def sort_values(self, ascending: bool = True, na_position: str = "last") -> Series:
        """Values in sorted order (stable; missing values first or last)."""
        return self.to_frame("v").sort_values("v", ascending=ascending,
                                              na_position=na_position)["v"].rename(self._name)

    def argsort(self) -> Series:
        """Positions that sort the values (stable, missing values last)."""
        from ..table import Table
        from .dataframe import sort_order

        idx = sort_order(Table([("v", self._col)]), ["v"], [False], True)
        return Series._from_column(Column(t.int64, idx.astype(np.int64), None, None,
                                          self.device), self._name)

    def nlargest(self, n: int = 5, keep: str = "first") -> Series:
        """The ``n`` largest values, largest first (missing values last)."""
        return self.to_frame("v").nlargest(n, "v", keep)["v"].rename(self._name)

    def nsmallest(self, n: int = 5, keep: str = "first") -> Series:
        """The ``n`` smallest values, smallest first (missing values last)."""
        return self.to_frame("v").nsmallest(n, "v", keep)["v"].rename(self._name)

    # -- accessors --------------------------------------------------------------------------
    @property
    def str(self) -> Any:
        """String functions (``.str.upper()``, ``.str.contains(...)``...)."""
        from .accessors import StringAccessor

        return StringAccessor(self)

    @property
    def dt(self) -> Any:
        """Date and time fields (``.dt.year``, ``.dt.dayofweek``...)."""
        from .accessors import DatetimeAccessor

        return DatetimeAccessor(self)


def _make_arith(name: str, op: str) -> None:
    def forward(self: Series, other: Any) -> Series:
        return self._arith(op, other)

    def reflected(self: Series, other: Any) -> Series:
        return self._arith(op, other, reflected=True)

    forward.__name__ = name
    reflected.__name__ = name.replace("__", "__r", 1)
    setattr(Series, name, forward)
    setattr(Series, reflected.__name__, reflected)


def _make_compare(name: str, op: str) -> None:
    def method(self: Series, other: Any) -> Series:
        return self._compare(op, other)

    method.__name__ = name
    setattr(Series, name, method)


for _name, _op in _ARITH.items():
    _make_arith(_name, _op)
for _name, _op in _COMPARE.items():
    _make_compare(_name, _op)

def _make_alias(alias: str, op: str, compare: bool) -> None:
    def method(self: Series, other: Any) -> Series:
        return self._compare(op, other) if compare else self._arith(op, other)

    method.__name__ = alias
    method.__doc__ = f"``{op}`` with ``other`` (a Series of equal length or a scalar)."
    setattr(Series, alias, method)


for _alias, _op in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("div", "truediv"),
                    ("truediv", "truediv"), ("floordiv", "floordiv"), ("mod", "mod"),
                    ("pow", "pow")):
    _make_alias(_alias, _op, False)
for _op in _COMPARE.values():
    _make_alias(_op, _op, True)


# -- helpers shared with the DataFrame ------------------------------------------------------
def _check_bool(col: Column, op: str) -> None:
    if not col.dtype.is_bool:
        raise XTypeError(f"{op} needs boolean operands, got type {col.dtype}")


def _slice_column(col: Column, key: slice) -> Column:
    start, stop, step = key.indices(len(col))
    if step == 1:
        return col.slice(start, max(start, stop))
    idx = col.xp.arange(start, stop, step, dtype=np.int64)
    return col.take(idx)


def _pandas_name(data: Any) -> Any:
    if type(data).__module__.startswith("pandas"):
        return data.name
    return None


def _input_device(data: Any) -> Device:
    if isinstance(data, Series):
        return data.device
    if isinstance(data, Column):
        return data.device
    if type(data).__module__.startswith("cupy"):
        from ..device import device_of

        return device_of(data)
    return get_device(None)
