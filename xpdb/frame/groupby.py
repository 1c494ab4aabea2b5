"""``DataFrame.groupby``: aggregations, per-group head/tail and window-style transforms.

Results follow pandas with ``as_index=False``: the group keys come back as ordinary columns
(xpdb has no index), first, followed by the aggregated columns. Groups are sorted by key,
missing keys last (``sort=False`` keeps the order of first appearance). With ``dropna=True``
(the default) rows whose key is missing (null or NaN) belong to no group.

Several functions of one column (``agg({"v": ["sum", "mean"]})``) are named
``<column>_<function>`` (``v_sum``, ``v_mean``) since there is no MultiIndex. ``as_index``
is accepted for pandas code and changes nothing. Per-row methods (``cumsum``, ``shift``,
``rank``, ``cumcount``, ``transform``, ``head``...) keep the frame's rows in order; rows
whose key is missing get missing values (or are left out by ``head``/``tail``/``nth``), as in
pandas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import types as t
from ..column import Column
from ..errors import TypeError as XTypeError
from ..errors import XpdbError
from ..kernels import _xp, keys
from ..table import Table
from ._convert import kernel, missing_mask, nan_as_null

# pandas name -> (kernel function, options)
_AGGS: dict[str, tuple[str, dict[str, Any]]] = {
    "sum": ("sum", {}), "mean": ("mean", {}), "min": ("min", {}), "max": ("max", {}),
    "count": ("count", {}), "size": ("count_star", {}), "std": ("std", {}),
    "var": ("var", {}), "median": ("median", {}), "first": ("first", {}),
    "last": ("last", {}), "nunique": ("count_distinct", {}), "prod": ("prod", {}),
    "corr": ("corr", {}), "cov": ("covar_samp", {}), "skew": ("skewness", {}),
    "kurt": ("kurtosis", {}),
}
# aggregations of two columns: named as (column, function, other column)
_PAIRWISE = {"corr", "cov"}
_ROW = "__xpdb_row__"


class GroupBy:
    """Rows of a DataFrame grouped by key columns; made by :meth:`DataFrame.groupby`.

    Examples
    --------
    >>> from xpdb.frame import DataFrame
    >>> df = DataFrame({"k": ["b", "a", "b"], "v": [1, 2, 3]}, device="cpu")
    >>> df.groupby("k").agg(total=("v", "sum"), n=("v", "count")).to_dict()
    {'k': ['a', 'b'], 'total': [2, 4], 'n': [1, 2]}
    >>> df.groupby("k")["v"].cumsum().to_list()
    [1, 2, 4]
    """

    def __init__(self, df: Any, by: str | Sequence[str], dropna: bool = True, sort: bool = True,
                 as_index: bool = False, selection: str | Sequence[str] | None = None):
        self._df = df
        self._by = [by] if isinstance(by, str) else list(by)
        if not self._by:
            raise XTypeError("groupby needs at least one key column")
        for n in self._by:
            df._table.column(n)
        self._dropna = dropna
        self._sort = sort
        self._as_index = as_index
        self._selection = selection

    def __getitem__(self, key: str | Sequence[str]) -> GroupBy:
        names = [key] if isinstance(key, str) else list(key)
        for n in names:
            self._df._table.column(n)
        return GroupBy(self._df, self._by, self._dropna, self._sort, self._as_index,
                       key if isinstance(key, str) else names)

    def __getattr__(self, name: str) -> GroupBy:
        if not name.startswith("_") and name in self._df._table:
            return self[name]
        raise AttributeError(f"'GroupBy' object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"GroupBy(by={self._by}, selection={self._selection!r})"

    # -- inputs -----------------------------------------------------------------------------
    def _value_names(self) -> list[str]:
        if self._selection is None:
            return [n for n in self._df._table.names if n not in self._by]
        return [self._selection] if isinstance(self._selection, str) else list(self._selection)

    def _key_table(self, values: Sequence[str]) -> Table:
        """Keys and values with NaN as null; rows with a missing key dropped if dropna."""
        tb = self._df._table
        names = list(dict.fromkeys([*self._by, *values]))
        return Table([(n, nan_as_null(tb.column(n))) for n in names], len(tb), tb.device)

    def _key_missing(self) -> Any:
        tb = self._df._table
        miss = None
        for n in self._by:
            m = missing_mask(tb.column(n))
            miss = m if miss is None else miss | m
        return miss

    # -- aggregation ------------------------------------------------------------------------
    def agg(self, func: Any = None, **named: Any) -> Any:
        """Aggregate each group.

        Parameters
        ----------
        func : str, list of str, or dict
            ``"sum"`` (every selected column), ``["sum", "mean"]`` (columns named
            ``v_sum``, ``v_mean``), or ``{"v": "sum", "w": ["min", "max"]}``.
        **named
            Named aggregation: ``total=("v", "sum")``; the two-column functions ``corr``
            and ``cov`` name the second column third: ``r=("v1", "corr", "v2")`` (pandas
            has no such form; it computes ``df.groupby(k)[["v1", "v2"]].corr()``).

        Functions: sum, mean, min, max, count, size, std, var, median, first, last,
        nunique, prod, corr, cov. Missing values are skipped; the sum of no values is 0 as
        in pandas.
        """
        specs: list[tuple[str, str, str | None]] = []  # (output name, func, column)
        others: dict[str, str] = {}  # output name -> second column of corr/cov
        if named:
            if func is not None:
                raise XTypeError("pass either a function spec or named aggregations, not both")
            for out, spec in named.items():
                pair = isinstance(spec, tuple) and len(spec) == 2 and spec[1] not in _PAIRWISE
                triple = isinstance(spec, tuple) and len(spec) == 3 and spec[1] in _PAIRWISE
                if not (pair or triple):
                    msg = (f"named aggregation {out}={spec!r} must be a (column, function) "
                           "pair, or (column, 'corr' or 'cov', other column)")
                    raise XTypeError(msg)
                specs.append((out, spec[1], spec[0]))
                if triple:
                    self._df._table.column(spec[2])
                    others[out] = spec[2]
        elif isinstance(func, Mapping):
            for col, fs in func.items():
                if isinstance(fs, str):
                    specs.append((col, fs, col))
                else:
                    specs += [(f"{col}_{f}", f, col) for f in fs]
        elif isinstance(func, str):
            specs = [(c, func, c) for c in self._value_names()]
            if func == "size":
                specs = [("size", "size", None)]
        elif isinstance(func, Sequence):
            specs = [(f"{c}_{f}", f, c) for c in self._value_names() for f in func]
        else:
            raise XTypeError(f"cannot aggregate with {func!r}; give a name, a list or a dict")
        return self._aggregate(specs, others)

    aggregate = agg

    def _aggregate(self, specs: Sequence[tuple[str, str, str | None]],
                   others: Mapping[str, str] | None = None) -> Any:
        from .dataframe import DataFrame

        gb = kernel("groupby", "groupby aggregation")
        for out, f, col in specs:
            if f not in _AGGS:
                raise XTypeError(f"unknown aggregation {f!r}; use one of {sorted(_AGGS)}")
            if col is not None:
                self._df._table.column(col)
            if out in self._by:
                msg = f"the aggregate output {out!r} would replace a key column; rename it"
                raise XpdbError(msg)
        others = others or {}
        values = [c for _, _, c in specs if c is not None] + list(others.values())
        for out, f, _ in specs:
            if f in _PAIRWISE and out not in others:
                raise XTypeError(f"{f!r} needs a second column: name=(column, {f!r}, other)")
        table = self._key_table(list(dict.fromkeys(values)))
        if not self._sort:
            xp = table.device.xp
            table = table.with_column(_ROW, Column(t.int64, xp.arange(len(table), dtype=np.int64),
                                                   None, None, table.device))
        aggs = []
        for out, f, col in specs:
            kfunc, opts = _AGGS[f]
            opts = {**opts, "other": others[out]} if out in others else dict(opts)
            aggs.append(gb.Agg(kfunc, col, out, opts))
        if not self._sort:
            aggs.append(gb.Agg("min", _ROW, _ROW, {}))
        res = gb.groupby_agg(table, self._by, aggs, dropna=self._dropna)
        for out, f, _ in specs:
            if f in ("sum", "count", "size", "nunique", "prod"):
                res = res.with_column(out, _fill_zero(res.column(out), 1 if f == "prod" else 0))
        if not self._sort:
            xp = res.device.xp
            order = _xp.stable_argsort(xp, res.column(_ROW).data)
            res = res.take(order).drop([_ROW])
        return DataFrame._from_table(res.select([*self._by, *[o for o, _, _ in specs]]))

    def _shortcut(self, func: str, numeric_only: bool = False) -> Any:
        names = self._value_names()
        if numeric_only:
            names = [n for n in names if self._df._table.column(n).dtype.is_numeric
                     or self._df._table.column(n).dtype.is_bool]
        return self._aggregate([(n, func, n) for n in names])

    def sum(self, numeric_only: bool = False) -> Any:
        """Sum per group (0 for a group of missing values)."""
        return self._shortcut("sum", numeric_only)

    def mean(self, numeric_only: bool = False) -> Any:
        """Mean per group."""
        return self._shortcut("mean", numeric_only)

    def min(self, numeric_only: bool = False) -> Any:
        """Smallest value per group."""
        return self._shortcut("min", numeric_only)

    def max(self, numeric_only: bool = False) -> Any:
        """Largest value per group."""
        return self._shortcut("max", numeric_only)

    def std(self, numeric_only: bool = False) -> Any:
        """Sample standard deviation (``ddof=1``) per group."""
        return self._shortcut("std", numeric_only)

    def var(self, numeric_only: bool = False) -> Any:
        """Sample variance (``ddof=1``) per group."""
        return self._shortcut("var", numeric_only)

    def median(self, numeric_only: bool = False) -> Any:
        """Median per group."""
        return self._shortcut("median", numeric_only)

    def skew(self, numeric_only: bool = False) -> Any:
        """Sample skewness per group (NaN below 3 values or for a constant group)."""
        return self._shortcut("skew", numeric_only)

    def kurt(self, numeric_only: bool = False) -> Any:
        """Sample excess kurtosis per group (NaN below 4 values or for a constant group)."""
        return self._shortcut("kurt", numeric_only)

    def prod(self, numeric_only: bool = False) -> Any:
        """Product per group (float64; 1 for a group of missing values)."""
        return self._shortcut("prod", numeric_only)

    def count(self) -> Any:
        """Present (non-missing) values per group and column."""
        return self._shortcut("count")

    def nunique(self) -> Any:
        """Distinct present values per group and column."""
        return self._shortcut("nunique")

    def first(self) -> Any:
        """The first present value per group and column."""
        return self._shortcut("first")

    def last(self) -> Any:
        """The last present value per group and column."""
        return self._shortcut("last")

    def size(self) -> Any:
        """Rows per group, in a column ``size``."""
        return self._aggregate([("size", "size", None)])

    # -- per-row results --------------------------------------------------------------------
    def _group_ids(self) -> tuple[Any, int, Any]:
        """Group id of every row (ascending keys) and the rows that belong to no group."""
        tb = self._key_table([])
        codes = keys.factorize(tb.columns)
        excluded = self._key_missing() if self._dropna else None
        return codes.ids, codes.n, excluded

    def cumcount(self, ascending: bool = True) -> Any:
        """Position of each row within its group (0-based; missing-key rows are null)."""
        from .series import Series

        ids, n, excluded = self._group_ids()
        pos = _cumcount(ids, n, ascending)
        col = Column(t.int64, pos, None if excluded is None else ~excluded, None,
                     self._df.device)
        return Series._from_column(col)

    def head(self, n: int = 5) -> Any:
        """The first ``n`` rows of each group, in the frame's row order."""
        return self._positional(n, True)

    def tail(self, n: int = 5) -> Any:
        """The last ``n`` rows of each group, in the frame's row order."""
        return self._positional(n, False)

    def nth(self, n: int) -> Any:
        """The ``n``-th row (0-based; negative from the end) of each group, in row order."""
        ids, k, excluded = self._group_ids()
        pos = _cumcount(ids, k, n >= 0)
        keep = pos == (n if n >= 0 else -n - 1)
        if excluded is not None:
            keep = keep & ~excluded
        return self._df._with_table(self._df._table.filter(keep))

    def _positional(self, n: int, from_start: bool) -> Any:
        ids, k, excluded = self._group_ids()
        pos = _cumcount(ids, k, from_start)
        keep = pos < n if n >= 0 else _from_end(ids, k, pos, -n)
        if excluded is not None:
            keep = keep & ~excluded
        return self._df._with_table(self._df._table.filter(keep))

    def _window(self, func: str, column: str, out: str, **kw: Any) -> Column:
        """A window function over each group in row order (null where the key is missing)."""
        win = kernel("window", f"groupby {func}")
        order = kw.pop("order_by", [_ROW])
        needed = [c for c in [column, *order] if c is not None and c != _ROW]
        table = self._key_table(needed)
        xp = table.device.xp
        table = table.with_column(_ROW, Column(t.int64, xp.arange(len(table), dtype=np.int64),
                                               None, None, table.device))
        desc = kw.pop("descending", False)
        res = win.window(table, self._by, order, [win.WindowFunc(func, column, out, **kw)],
                         descending=desc, nulls_last=True)
        return res.column(out)

    def _per_row(self, make: Any, fill: Any = None) -> Any:
        """Row-aligned results of ``make(column)``; rows of no group get null (or ``fill``)."""
        from .dataframe import DataFrame
        from .series import Series

        names = self._value_names()
        excluded = self._key_missing() if self._dropna else None
        cols = []
        for n in names:
            c = make(n)
            if excluded is not None and fill is None:
                c = c.with_validity(~excluded if c.validity is None else c.validity & ~excluded)
            elif excluded is not None:
                outside = Column(t.bool_, excluded, None, None, c.device)
                c = kernel("expr", "groupby fill").where(outside, fill, c)
            cols.append((n, c))
        if isinstance(self._selection, str):
            return Series._from_column(cols[0][1], self._selection)
        return DataFrame._from_table(Table(cols, len(self._df), self._df.device))

    def _cumulative(self, func: str) -> Any:
        def make(name: str) -> Column:
            src = nan_as_null(self._df._table.column(name))
            col = self._window(func, name, "__out__", frame=(None, 0))
            if func == "sum" and col.dtype != src.dtype and src.dtype.is_integer:
                col = kernel("cast", "cumsum").cast(col, t.int64)
            valid = src.validity
            if valid is not None:
                col = col.with_validity(valid if col.validity is None else col.validity & valid)
            return col

        return self._per_row(make)

    def cumsum(self) -> Any:
        """Running sum within each group; missing values stay missing and add nothing."""
        return self._cumulative("sum")

    def cummax(self) -> Any:
        """Running maximum within each group."""
        return self._cumulative("max")

    def cummin(self) -> Any:
        """Running minimum within each group."""
        return self._cumulative("min")

    def shift(self, periods: int = 1, fill_value: Any = None) -> Any:
        """Values ``periods`` rows earlier within the group (later when negative)."""
        func = "lag" if periods >= 0 else "lead"
        if periods == 0:  # pandas returns the values as they are, missing keys included
            sel = self._value_names()
            if isinstance(self._selection, str):
                return self._df[self._selection]
            return self._df[sel]

        def make(name: str) -> Column:
            return self._window(func, name, "__out__", offset=abs(periods), default=fill_value)

        return self._per_row(make, fill_value)

    def rank(self, method: str = "average", ascending: bool = True) -> Any:
        """Rank of each value within its group (float64; missing values get null).

        ``method``: average, min, max, first or dense, as in pandas.
        """
        if method not in ("average", "min", "max", "first", "dense"):
            raise XTypeError(f"rank method={method!r} is not one of average/min/max/first/dense")

        def make(name: str) -> Column:
            src = nan_as_null(self._df._table.column(name))
            desc = not ascending
            base = {"average": "rank", "min": "rank", "max": "rank", "first": "row_number",
                    "dense": "dense_rank"}[method]
            order = [name, _ROW] if method == "first" else [name]
            r = self._window(base, None, "__r__", order_by=order,
                             descending=[desc, False] if method == "first" else desc)
            xp = r.xp
            val = r.data.astype(np.float64)
            if method in ("average", "max"):
                ties = self._window("count_star", None, "__t__", order_by=[name],
                                    descending=desc, frame=(0, 0), frame_type="range")
                extra = ties.data.astype(np.float64) - 1
                val = val + (extra / 2 if method == "average" else extra)
            valid = src.validity
            return Column(t.float64, xp.asarray(val), valid, None, src.device)

        return self._per_row(make)

    def transform(self, func: str) -> Any:
        """Each row's group aggregate (sum, mean, min, max, count, size), row-aligned."""
        wfunc = {"sum": "sum", "mean": "mean", "min": "min", "max": "max", "count": "count",
                 "size": "count_star"}.get(func)
        if wfunc is None:
            raise XTypeError(f"transform({func!r}) supports sum, mean, min, max, count, size")

        def make(name: str) -> Column:
            col = self._window(wfunc, None if wfunc == "count_star" else name, "__out__",
                               order_by=[], frame=(None, None))
            if func in ("sum", "count", "size"):
                col = _fill_zero(col, 0)
            return col

        return self._per_row(make)


def _fill_zero(col: Column, value: int) -> Column:
    """Nulls replaced by ``value`` (pandas' sum/count of no values)."""
    if col.validity is None:
        return col
    xp = col.xp
    data = xp.where(col.validity, col.data, col.data.dtype.type(value))
    return Column(col.dtype, data, None, col.dictionary, col.device)


def _cumcount(ids: Any, n: int, ascending: bool = True) -> Any:
    """Position of each row among the rows of its group (in row order, or from the end)."""
    xp = _namespace(ids)
    rows = ids.shape[0]
    if rows == 0:
        return xp.zeros(0, dtype=np.int64)
    order = _xp.argsort_bounded(xp, ids, n)
    counts = _xp.bincount(xp, ids, n)
    starts = xp.cumsum(counts) - counts
    sorted_ids = ids[order]
    pos_sorted = xp.arange(rows, dtype=np.int64) - starts[sorted_ids]
    if not ascending:
        pos_sorted = counts[sorted_ids] - 1 - pos_sorted
    pos = xp.empty(rows, dtype=np.int64)
    pos[order] = pos_sorted  # order is a permutation: no repeated indices
    return pos


def _from_end(ids: Any, n: int, pos: Any, k: int) -> Any:
    """True for rows that are not among the last ``k`` of their group (head(-k))."""
    xp = _namespace(ids)
    counts = _xp.bincount(xp, ids, n)
    return pos < counts[ids] - k


def _namespace(a: Any) -> Any:
    from ..device import device_of

    return np if isinstance(a, np.ndarray) else device_of(a).xp
