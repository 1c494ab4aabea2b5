"""The pandas-like :class:`DataFrame` over an xpdb :class:`~xpdb.table.Table`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from .. import types as t
from ..column import Column
from ..device import Device, get_device
from ..errors import NotSupportedError, XpdbError
from ..errors import TypeError as XTypeError
from ..kernels import _xp, keys
from ..table import Table
from . import reductions as red
from ._convert import (
    bool_mask,
    column_to_numpy,
    device_values,
    is_scalar,
    kernel,
    missing_mask,
    nan_as_null,
    positions,
    to_column,
    to_table,
)
from .series import Series, _slice_column


class ColumnNames(list):
    """The column names of a DataFrame: a list with pandas' ``tolist()``."""

    def tolist(self) -> list[str]:
        return list(self)


class DataFrame:
    """Named columns of equal length on one device, with a pandas-like API.

    Parameters
    ----------
    data : dict, list of dicts, 2-d array, pandas/pyarrow/xpdb table, optional
        A dict maps names to lists, NumPy/CuPy arrays, Series or scalars (broadcast); a
        list holds one dict per row; a 2-d NumPy/CuPy array gives one column per array
        column; pandas DataFrames, pyarrow Tables and xpdb Tables/DataFrames convert
        whole. Float NaN in host input is stored as null, as pandas treats it.
    device : str or Device, optional
        Where the columns live. None keeps xpdb/CuPy data where it is and puts host data on
        the ``device`` setting's device.
    columns : list of str, optional
        Keep (and order) only these columns; for a 2-d array, the column names.

    Notes
    -----
    Differences from pandas:

    - **No index.** Rows are positional; every result is numbered 0..n-1 and
      ``to_pandas()`` gives a RangeIndex. Group-by keys come back as ordinary columns
      (pandas' ``as_index=False`` layout); ``value_counts`` and ``describe`` return
      DataFrames whose first column holds what pandas puts in the index.
    - ``dtypes`` is a dict of column name to xpdb logical type.
    - Missing values print as ``<null>``; a float NaN that arithmetic produced prints as
      ``NaN`` and is still missing for ``isna``/``dropna``/``fillna``/reductions.
    - Comparisons with a missing value give null (see :class:`Series`).
    - ``sort_values`` is stable by default (pandas' default quicksort is not).

    Examples
    --------
    >>> df = DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]}, device="cpu")
    >>> df[df["v"] > 1].shape
    (2, 2)
    >>> df.groupby("k").agg({"v": "sum"}).to_dict()
    {'k': ['a', 'b'], 'v': [4, 2]}
    """

    def __init__(self, data: Any = None, device: Any = None,
                 columns: Sequence[str] | None = None):
        table = to_table(data, device, columns)
        if columns is not None:
            table = table.select(list(columns))
        object.__setattr__(self, "_table", table)

    @classmethod
    def _from_table(cls, table: Table) -> DataFrame:
        """Wrap a Table without copying (used by xpdb.io and the SQL layer)."""
        df = cls.__new__(cls)
        object.__setattr__(df, "_table", table)
        return df

    def _with_table(self, table: Table) -> DataFrame:
        return DataFrame._from_table(table)

    # -- structure --------------------------------------------------------------------------
    @property
    def table(self) -> Table:
        """The underlying :class:`~xpdb.table.Table`."""
        return self._table

    @property
    def device(self) -> Device:
        """The device holding the columns."""
        return self._table.device

    @property
    def columns(self) -> ColumnNames:
        """The column names, in order (assign a list to rename them all)."""
        return ColumnNames(self._table.names)

    @columns.setter
    def columns(self, names: Sequence[str]) -> None:
        names = [str(n) for n in names]
        if len(names) != len(self._table.names):
            msg = f"{len(names)} names given for {len(self._table.names)} columns"
            raise XpdbError(msg)
        cols = list(zip(names, self._table.columns, strict=True))
        object.__setattr__(self, "_table", Table(cols, self._table.num_rows, self.device))

    @property
    def dtypes(self) -> dict[str, t.DataType]:
        """Column names and their xpdb logical types (a dict, not a pandas Series)."""
        return self._table.schema

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return (self._table.num_rows, len(self._table.names))

    @property
    def size(self) -> int:
        """rows x columns."""
        return self._table.num_rows * len(self._table.names)

    @property
    def ndim(self) -> int:
        """Always 2."""
        return 2

    @property
    def empty(self) -> bool:
        """True when the frame has no rows or no columns."""
        return self._table.num_rows == 0 or not self._table.names

    def __len__(self) -> int:
        return self._table.num_rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._table.names)

    def __contains__(self, name: object) -> bool:
        return name in self._table

    def keys(self) -> ColumnNames:
        """The column names (as pandas)."""
        return self.columns

    def items(self) -> Iterator[tuple[str, Series]]:
        """(name, Series) for every column."""
        for name, col in self._table.items():
            yield name, Series._from_column(col, name)

    def to(self, device: Any) -> DataFrame:
        """This frame on ``device`` (host/device copies are counted by the device)."""
        return self._with_table(self._table.to(get_device(device)))

    def copy(self, deep: bool = True) -> DataFrame:
        """A copy. Columns are never changed in place, so a shallow copy is as safe."""
        if not deep:
            return self._with_table(self._table)
        return self._with_table(Table(
            [(n, Series._from_column(c).copy()._col) for n, c in self._table.items()],
            self._table.num_rows, self.device))

    def reset_index(self, drop: bool = True) -> DataFrame:
        """The frame itself (xpdb has no index; kept for pandas code)."""
        if not drop:
            raise NotSupportedError("reset_index(drop=False): xpdb frames have no index")
        return self._with_table(self._table)

    def __repr__(self) -> str:
        from .format import frame_repr

        return frame_repr(self)

    def _repr_html_(self) -> str:
        from .format import frame_html

        return frame_html(self)

    # -- selection --------------------------------------------------------------------------
    def _series(self, name: str) -> Series:
        return Series._from_column(self._table.column(name), name)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._series(key)
        if isinstance(key, slice):
            return self._with_table(Table(
                [(n, _slice_column(c, key)) for n, c in self._table.items()],
                len(range(*key.indices(len(self)))), self.device))
        if isinstance(key, list | ColumnNames) and all(isinstance(k, str) for k in key):
            return self._with_table(self._table.select(list(key)))
        mask = bool_mask(key, self.device, len(self))
        return self._with_table(self._table.filter(mask))

    def __getattr__(self, name: str) -> Series:
        if name.startswith("_"):
            raise AttributeError(name)
        table = self.__dict__.get("_table")
        if table is not None and name in table:
            return self._series(name)
        raise AttributeError(f"'DataFrame' object has no attribute or column {name!r}")

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise XTypeError(f"column names must be strings, got {key!r}")
        col = self._as_column(value)
        object.__setattr__(self, "_table", self._table.with_column(key, col))

    def __delitem__(self, key: str) -> None:
        object.__setattr__(self, "_table", self._table.drop([key]))

    def _as_column(self, value: Any) -> Column:
        if isinstance(value, Series):
            if len(value) != len(self) and self._table.names:
                msg = (
                    f"cannot set a column of {len(value)} rows in a frame of {len(self)} rows "
                    "(xpdb aligns by position)"
                )
                raise XpdbError(msg)
            return value._col.to(self.device)
        n = len(self) if (self._table.names or is_scalar(value)) else None
        return to_column(value, self.device, n)

    def pop(self, name: str) -> Series:
        """Remove the column ``name`` and return it."""
        s = self._series(name)
        del self[name]
        return s

    def insert(self, loc: int, column: str, value: Any) -> None:
        """Insert the column ``column`` at position ``loc`` (in place)."""
        if column in self._table:
            raise XpdbError(f"column {column!r} already exists")
        items = list(self._table.items())
        items.insert(loc, (column, self._as_column(value)))
        object.__setattr__(self, "_table", Table(items, self._table.num_rows, self.device))

    def head(self, n: int = 5) -> DataFrame:
        """The first ``n`` rows (all but the last ``-n`` when negative)."""
        return self[slice(None, n)]

    def tail(self, n: int = 5) -> DataFrame:
        """The last ``n`` rows (all but the first ``-n`` when negative)."""
        k = len(self)
        return self[slice(max(k - n, 0) if n >= 0 else -n, None)]

    def take(self, indices: Any) -> DataFrame:
        """The rows at positions ``indices`` (a list or an integer array; negative counts
        from the end)."""
        return self._with_table(self._table.take(positions(indices, self.device, len(self))))

    def select_dtypes(self, include: Any = None, exclude: Any = None) -> DataFrame:
        """Columns whose type is in ``include`` and not in ``exclude``.

        Type names are xpdb types or the groups ``"number"``, ``"bool"``, ``"string"``,
        ``"datetime"``.
        """
        def match(dt: t.DataType, specs: Any) -> bool:
            for s in [specs] if isinstance(specs, str) or not isinstance(specs, Sequence) \
                    else specs:
                if s in ("number", "numeric", np.number) and dt.is_numeric:
                    return True
                if s in ("datetime", "temporal") and dt.is_temporal:
                    return True
                if s in ("bool", "number", "numeric", "datetime", "temporal"):
                    if s == "bool" and dt.is_bool:
                        return True
                    continue
                if t.parse(s).kind == dt.kind:
                    return True
            return False

        names = [n for n, dt in self.dtypes.items()
                 if (include is None or match(dt, include))
                 and (exclude is None or not match(dt, exclude))]
        return self[names]

    # -- reshaping columns ------------------------------------------------------------------
    def rename(self, columns: Mapping[str, str] | Callable[[str], str] | None = None,
               mapper: Any = None) -> DataFrame:
        """Columns renamed by a mapping or a function of the old name."""
        m = columns if columns is not None else mapper
        if m is None:
            return self._with_table(self._table)
        if callable(m):
            mapping = {n: str(m(n)) for n in self._table.names}
        else:
            mapping = dict(m)
        return self._with_table(self._table.rename(mapping))

    def drop(self, labels: Any = None, columns: Any = None, errors: str = "raise") -> DataFrame:
        """The frame without the named columns (rows cannot be dropped by label)."""
        names = columns if columns is not None else labels
        if names is None:
            return self._with_table(self._table)
        names = [names] if isinstance(names, str) else list(names)
        if errors == "ignore":
            names = [n for n in names if n in self._table]
        return self._with_table(self._table.drop(names))

    def assign(self, **kwargs: Any) -> DataFrame:
        """A new frame with columns added or replaced; a callable value gets the frame."""
        out = self.copy(deep=False)
        for name, value in kwargs.items():
            out[name] = value(out) if callable(value) else value
        return out

    def astype(self, dtype: Any) -> DataFrame:
        """Columns cast to ``dtype``, or per column with a dict of name to type."""
        spec = dtype if isinstance(dtype, Mapping) else dict.fromkeys(self._table.names, dtype)
        for n in spec:
            self._table.column(n)
        cols = [(n, self._series(n).astype(spec[n])._col if n in spec else c)
                for n, c in self._table.items()]
        return self._with_table(Table(cols, len(self), self.device))

    # -- missing values ---------------------------------------------------------------------
    def _bool_frame(self, invert: bool) -> DataFrame:
        cols = []
        for n, c in self._table.items():
            miss = missing_mask(c)
            cols.append((n, Column(t.bool_, ~miss if invert else miss, None, None, self.device)))
        return self._with_table(Table(cols, len(self), self.device))

    def isna(self) -> DataFrame:
        """A frame of bools, True where a value is missing (null or NaN)."""
        return self._bool_frame(False)

    isnull = isna

    def notna(self) -> DataFrame:
        """A frame of bools, True where a value is present."""
        return self._bool_frame(True)

    notnull = notna

    def dropna(self, subset: Any = None, how: str = "any", thresh: int | None = None) -> DataFrame:
        """Rows without missing values in ``subset`` (every column by default).

        ``how="all"`` drops only rows where every column of ``subset`` is missing;
        ``thresh`` keeps rows with at least that many present values.
        """
        names = self._names(subset)
        xp = self.device.xp
        if not names:
            return self._with_table(self._table)
        present = xp.zeros(len(self), dtype=np.int64)
        for n in names:
            present += ~missing_mask(self._table.column(n))
        if thresh is not None:
            keep = present >= thresh
        elif how == "any":
            keep = present == len(names)
        elif how == "all":
            keep = present > 0
        else:
            raise XTypeError(f"how={how!r} must be 'any' or 'all'")
        return self._with_table(self._table.filter(keep))

    def fillna(self, value: Any) -> DataFrame:
        """Missing values replaced by ``value`` (a scalar, or a dict of name to value).

        A scalar fills only columns whose type can hold it (as pandas does for mixed
        frames, strings are not filled with numbers and vice versa).
        """
        if isinstance(value, Mapping):
            for n in value:
                self._table.column(n)
            spec = dict(value)
        else:
            spec = {n: value for n, dt in self.dtypes.items() if _fits(dt, value)}
        cols = [(n, self._series(n).fillna(spec[n])._col if n in spec else c)
                for n, c in self._table.items()]
        return self._with_table(Table(cols, len(self), self.device))

    # -- rows: sorting and duplicates -------------------------------------------------------
    def _names(self, subset: Any) -> list[str]:
        if subset is None:
            return list(self._table.names)
        names = [subset] if isinstance(subset, str) else list(subset)
        for n in names:
            self._table.column(n)
        return names

    def sort_values(self, by: str | Sequence[str], ascending: bool | Sequence[bool] = True,
                    na_position: str = "last", kind: str = "stable",
                    ignore_index: bool = True) -> DataFrame:
        """Rows sorted by the columns ``by`` (stable: ties keep their order).

        Missing values go last (``na_position="last"``) or first, whatever the direction,
        for every key (pandas 3.1 misplaces them in secondary keys with "first").
        """
        names = self._names(by)
        asc = [ascending] * len(names) if isinstance(ascending, bool) else list(ascending)
        if len(asc) != len(names):
            raise XpdbError(f"{len(asc)} ascending flags for {len(names)} sort columns")
        if na_position not in ("last", "first"):
            raise XTypeError(f"na_position={na_position!r} must be 'last' or 'first'")
        idx = sort_order(self._table, names, [not a for a in asc], na_position == "last")
        return self._with_table(self._table.take(idx))

    def _top(self, n: int, columns: Any, keep: str, descending: bool) -> DataFrame:
        names = self._names(columns)
        if keep not in ("first", "last", "all"):
            raise XTypeError(f"keep={keep!r} must be 'first', 'last' or 'all'")
        if keep != "first":
            raise NotSupportedError(f"nlargest/nsmallest keep={keep!r}; use keep='first'")
        idx = sort_order(self._table, names, [descending] * len(names), True)
        return self._with_table(self._table.take(idx[: max(n, 0)]))

    def nlargest(self, n: int, columns: Any, keep: str = "first") -> DataFrame:
        """The ``n`` rows with the largest ``columns``, largest first (ties: first seen;
        missing values last, as pandas 3)."""
        return self._top(n, columns, keep, True)

    def nsmallest(self, n: int, columns: Any, keep: str = "first") -> DataFrame:
        """The ``n`` rows with the smallest ``columns``, smallest first (missing last)."""
        return self._top(n, columns, keep, False)

    def duplicated(self, subset: Any = None, keep: str | bool = "first") -> Series:
        """True for rows that repeat an earlier (``keep="first"``) or later row."""
        keep_mask = _keep_mask(self._table, self._names(subset), keep)
        return Series._from_column(Column(t.bool_, ~keep_mask, None, None, self.device))

    def drop_duplicates(self, subset: Any = None, keep: str | bool = "first") -> DataFrame:
        """Rows with distinct ``subset`` values (missing values equal each other).

        ``keep`` picks the first or last of each set of duplicates, or none (False); rows
        keep their order.
        """
        return self._with_table(
            self._table.filter(_keep_mask(self._table, self._names(subset), keep)))

    def nunique(self, dropna: bool = True) -> dict[str, int]:
        """Distinct values per column (a dict)."""
        return {n: red.nunique(c, dropna) for n, c in self._table.items()}

    def value_counts(self, subset: Any = None, normalize: bool = False, sort: bool = True,
                     ascending: bool = False, dropna: bool = True) -> DataFrame:
        """Counts of distinct rows: pandas' ``value_counts(...).reset_index()``."""
        names = self._names(subset)
        table = Table([(n, nan_as_null(self._table.column(n))) for n in names], len(self),
                      self.device)
        if dropna:
            table = DataFrame._from_table(table).dropna()._table
        xp = self.device.xp
        codes = keys.factorize(table.columns) if names and len(table) else None
        if codes is None:
            counts = xp.zeros(0, np.int64)
            first = xp.zeros(0, np.int64)
        else:
            counts = _xp.bincount(xp, codes.ids, codes.n)
            first = keys.group_first_row(codes.ids, codes.n)
        order = _xp.stable_argsort(xp, first)  # groups in order of first appearance
        first, counts = first[order], counts[order]
        if sort:
            order = _xp.stable_argsort(xp, counts if ascending else -counts)
            first, counts = first[order], counts[order]
        out = table.take(first)
        if normalize:
            stat = Column(t.float64, counts / max(len(table), 1), None, None, self.device)
            return self._with_table(out.with_column("proportion", stat))
        return self._with_table(out.with_column("count", Column(t.int64, counts, None, None,
                                                                 self.device)))

    # -- reductions -------------------------------------------------------------------------
    def _reduce(self, func: str, numeric_only: bool) -> dict[str, Any]:
        out = {}
        for n, c in self._table.items():
            if numeric_only and not red.is_numeric_type(c.dtype):
                continue
            out[n] = red.reduce(c, func)
        return out

    def sum(self, numeric_only: bool = True) -> dict[str, Any]:
        """Per-column sums (a dict of name to Python scalar)."""
        return self._reduce("sum", numeric_only)

    def mean(self, numeric_only: bool = True) -> dict[str, Any]:
        """Per-column means (NaN for columns without values)."""
        return self._reduce("mean", numeric_only)

    def min(self, numeric_only: bool = False) -> dict[str, Any]:
        """Per-column minima."""
        return self._reduce("min", numeric_only)

    def max(self, numeric_only: bool = False) -> dict[str, Any]:
        """Per-column maxima."""
        return self._reduce("max", numeric_only)

    def count(self) -> dict[str, int]:
        """Present (non-missing) values per column."""
        return self._reduce("count", False)

    def std(self, numeric_only: bool = True) -> dict[str, Any]:
        """Per-column sample standard deviations (``ddof=1``)."""
        return self._reduce("std", numeric_only)

    def var(self, numeric_only: bool = True) -> dict[str, Any]:
        """Per-column sample variances (``ddof=1``)."""
        return self._reduce("var", numeric_only)

    def median(self, numeric_only: bool = True) -> dict[str, Any]:
        """Per-column medians."""
        return self._reduce("median", numeric_only)

    def skew(self, numeric_only: bool = True) -> dict[str, Any]:
        """Per-column sample skewness."""
        return self._reduce("skew", numeric_only)

    def kurt(self, numeric_only: bool = True) -> dict[str, Any]:
        """Per-column sample excess kurtosis."""
        return self._reduce("kurt", numeric_only)

    def describe(self) -> DataFrame:
        """count, mean, std, min, 25%, 50%, 75%, max of each numeric (non-bool) column.

        pandas puts the statistic names in the index; here they form the first column,
        ``statistic``.
        """
        names = [n for n, dt in self.dtypes.items() if dt.is_numeric]
        if not names:
            msg = "describe() summarizes numeric columns and this frame has none"
            raise NotSupportedError(msg)
        stats = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
        data: dict[str, Any] = {"statistic": stats}
        for n in names:
            c = self._table.column(n)
            cnt = red.count(c)
            vals = [float(cnt), red.mean(c), red.std(c)]
            vals += [red.quantile(c, q) for q in (0.0, 0.25, 0.5, 0.75, 1.0)]
            data[n] = vals
        table = Table.from_arrow(pa.table({k: pa.array(v, pa.string() if k == "statistic"
                                                       else pa.float64())
                                           for k, v in data.items()}), self.device)
        return self._with_table(table)

    # -- combining --------------------------------------------------------------------------
    def merge(self, right: DataFrame, how: str = "inner", on: Any = None,
              left_on: Any = None, right_on: Any = None,
              suffixes: tuple[str, str] = ("_x", "_y")) -> DataFrame:
        """Join with ``right`` on key columns, with pandas' columns and row order.

        See :func:`xpdb.frame.merge.merge`.
        """
        from .merge import merge

        return merge(self, right, how=how, on=on, left_on=left_on, right_on=right_on,
                     suffixes=suffixes)

    def groupby(self, by: str | Sequence[str], dropna: bool = True, sort: bool = True,
                as_index: bool = False) -> Any:
        """Group rows by the columns ``by``; see :class:`xpdb.frame.groupby.GroupBy`."""
        from .groupby import GroupBy

        return GroupBy(self, by, dropna=dropna, sort=sort, as_index=as_index)

    # -- conversion -------------------------------------------------------------------------
    def to_arrow(self) -> pa.Table:
        """A pyarrow Table (device data is copied to the host)."""
        return self._table.to_arrow()

    def to_pandas(self, nullable: bool = False) -> Any:
        """A pandas DataFrame with a RangeIndex.

        Parameters
        ----------
        nullable : bool, default False
            False gives pandas' classic dtypes (integers with nulls become float64 with
            NaN); True gives the nullable dtypes (Int64, boolean, Float64).
        """
        return self._table.to_pandas(nullable=nullable)

    def to_numpy(self, dtype: Any = None) -> np.ndarray:
        """A 2-d NumPy array of the columns' common type.

        Numeric columns are promoted to one dtype (``dtype`` overrides it); nulls become NaN
        when that dtype is a float and raise for integers and bools (``fillna`` or
        ``astype("float64")`` first). Any string, decimal or temporal column gives an object
        array (None for nulls).
        """
        names = self._table.names
        cols = self._table.columns
        if not cols:
            return np.empty((len(self), 0), dtype=dtype or np.float64)
        numeric = all((c.dtype.is_numeric and not c.dtype.is_decimal) or c.dtype.is_bool
                      for c in cols)
        if numeric:
            target = np.result_type(*[c.dtype.physical for c in cols]) if dtype is None \
                else np.dtype(dtype)
            parts = []
            for n, c in zip(names, cols, strict=True):
                src = c
                if target.kind == "f" and c.validity is not None and not c.dtype.is_float:
                    src = kernel("cast", "to_numpy").cast(c, t.float64)
                parts.append(column_to_numpy(src, n).astype(target, copy=False))
            return np.stack(parts, axis=1)
        parts = [column_to_numpy(c, n).astype(object) for n, c in zip(names, cols, strict=True)]
        return np.stack(parts, axis=1).astype(dtype or object)

    values = property(to_numpy)

    def to_cupy(self) -> Any:
        """A 2-d CuPy array of numeric columns (nulls as NaN for floats; ints must be full)."""
        table = self._table if self.device.is_gpu else self._table.to(get_device("gpu"))
        cols = table.columns
        if not cols:
            raise XpdbError("to_cupy needs at least one column")
        target = np.result_type(*[c.dtype.physical for c in cols])
        xp = table.device.xp
        parts = [device_values(c, n).astype(target, copy=False)
                 for n, c in zip(table.names, cols, strict=True)]
        return xp.stack(parts, axis=1)

    def to_dict(self, orient: str = "list") -> Any:
        """The data as Python objects.

        ``orient="list"`` (the default here; pandas' default is ``"dict"``) gives
        ``{name: [values]}``; ``"records"`` gives ``[{name: value}, ...]``; ``"dict"`` gives
        ``{name: {row: value}}``.
        """
        data = self._table.to_pydict()
        if orient == "list":
            return data
        if orient == "records":
            names = list(data)
            return [dict(zip(names, row, strict=True))
                    for row in zip(*data.values(), strict=True)]
        if orient == "dict":
            return {n: dict(enumerate(v)) for n, v in data.items()}
        raise XTypeError(f"to_dict orient={orient!r}: use 'list', 'records' or 'dict'")


def _fits(dt: t.DataType, value: Any) -> bool:
    if isinstance(value, str):
        return dt.is_string
    if isinstance(value, bool):
        return dt.is_bool
    if isinstance(value, int | float | np.number):
        return dt.is_numeric
    return True


def sort_order(table: Table, by: Sequence[str], descending: Sequence[bool],
               nulls_last: bool) -> Any:
    """Row positions that stably sort ``table`` by ``by`` (NaN counts as missing)."""
    sort = kernel("sort", "sort_values")
    keyed = Table([(n, nan_as_null(table.column(n))) for n in by], len(table), table.device)
    return sort.sort_indices(keyed, list(by), list(descending), nulls_last)


def _keep_mask(table: Table, names: Sequence[str], keep: str | bool) -> Any:
    """Bool array, True for the rows drop_duplicates keeps."""
    xp = table.device.xp
    n = len(table)
    if n == 0 or not names:
        return xp.ones(n, dtype=bool) if n == 0 or keep is not False else xp.zeros(n, bool)
    codes = keys.factorize([nan_as_null(table.column(c)) for c in names])
    rows = xp.arange(n, dtype=np.int64)
    if keep == "first":
        chosen = keys.group_first_row(codes.ids, codes.n)
    elif keep == "last":
        chosen = _xp.scatter_max(xp, xp.full(codes.n, -1, np.int64), codes.ids, rows)
    elif keep is False:
        counts = _xp.bincount(xp, codes.ids, codes.n)
        return counts[codes.ids] == 1
    else:
        raise XTypeError(f"keep={keep!r} must be 'first', 'last' or False")
    mask = xp.zeros(n, dtype=bool)
    mask[chosen] = True
    return mask


def from_pandas(df: Any, device: Any = None) -> DataFrame:
    """A DataFrame from a pandas DataFrame (a named index becomes a column).

    Examples
    --------
    >>> import pandas as pd
    >>> from_pandas(pd.DataFrame({"a": [1.0, None]}), device="cpu").isna().to_dict()
    {'a': [False, True]}
    """
    return DataFrame(df, device=device)


def from_arrow(table: pa.Table, device: Any = None) -> DataFrame:
    """A DataFrame from a pyarrow Table (zero-copy on the CPU where Arrow allows)."""
    return DataFrame(table, device=device)
