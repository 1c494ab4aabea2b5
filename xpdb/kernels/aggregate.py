"""Per-group reductions over dense group ids: the kernels behind :mod:`xpdb.kernels.groupby`.

A :class:`Groups` holds the group id of every row of one table (``ids`` in ``[0, n)``, the
ids of :func:`xpdb.kernels.keys.factorize`) and computes per-group arrays on demand, each
once: group sizes, non-null counts, float and exact integer sums, means, second moments,
minima and maxima, first and last rows, sorted values for quantiles. Several aggregates of
one column (``mean`` and ``std`` of ``v3``) share them.

Primitives, one pass over the rows each (:func:`count_ids`, :func:`wsum`, :func:`isum`,
:func:`row_bounds`, :meth:`Groups.extreme`): on NumPy ``bincount`` for counts and
``ufunc.at`` (``add.at`` for float and exact wrapping int64 sums, twice as fast as
``bincount(weights=)``; ``minimum.at``/``maximum.at`` for extremes and first/last row
indices); on the GPU the fused kernels of :mod:`xpdb.kernels.dense_agg`, which keep the
partial results of few groups in shared memory.

Holistic aggregates sort. Quantiles (:class:`Ranked`) sort one int64 key per value, the group
id in the high bits and an order-preserving image of the value below, so no argsort and no
gather is needed; ``count_distinct`` counts the distinct ``(group, value code)`` pairs with a
bincount when they are few, a sort-based unique otherwise.

NaN is a value (the greatest), null is missing, as in DuckDB: NaN propagates through sums and
means, ``max`` is NaN when a group holds a NaN, ``min`` is NaN only when every value is NaN.
Floating-point warnings are silenced: inf - inf is NaN, as SQL engines return it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import types as t
from ..column import Column
from ..device import Device
from ..errors import TypeError as XTypeError
from . import _xp, dense_agg
from .keys import combine, order_codes

# count_distinct counts (group, value) pairs with a bincount while there are at most this
# many pair slots per row (or this floor), and with a sort-based unique beyond.
_DENSE_FACTOR = 4
_DENSE_FLOOR = 1 << 16
# row_bounds scans this many rows per group (at least the floor) before the whole column.
_PREFIX_FACTOR = 16
_PREFIX_FLOOR = 1 << 14
_INT62 = 1 << 62


def quiet() -> Any:
    """Silence NumPy's floating-point warnings (inf - inf, 0/0); CuPy raises none."""
    return np.errstate(all="ignore")


class Groups:
    """Group ids of the rows of one table and per-group arrays computed from them once.

    Parameters
    ----------
    table : Table
        The table whose columns aggregates read.
    ids : array of int64
        The group of every row, in ``[0, n)``.
    n : int
        The number of groups.
    device : Device
    """

    def __init__(self, table: Any, ids: Any, n: int, device: Device, sizes: Any = None,
                 rep_rows: Any = None):
        self.table = table
        self.ids = ids
        self.n = n
        self.device = device
        self.xp = device.xp
        self.rows = int(ids.shape[0])
        self._cache: dict[tuple[Any, ...], Any] = {}
        if sizes is not None:
            self._cache[("sizes",)] = sizes
        if rep_rows is not None:
            self._cache[("rep_rows",)] = rep_rows

    @classmethod
    def by_keys(cls, table: Any, keys: Any) -> Groups:
        """Group the rows of ``table`` by the columns named ``keys`` (none: one group)."""
        dev = table.device
        if not keys:
            ids = dev.xp.zeros(table.num_rows, dtype=np.int64)
            return cls(table, ids, 1, dev)
        ids, n, sizes, rep = group_ids([table.column(k) for k in keys])
        return cls(table, ids, n, dev, sizes, rep)

    # -- memo ------------------------------------------------------------------------------
    def _memo(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def col(self, name: str) -> Column:
        return self.table.column(name)

    # -- group shape ---------------------------------------------------------------------------
    @property
    def sizes(self) -> Any:
        """Rows per group (int64)."""
        return self._memo(("sizes",), lambda: count_ids(self.xp, self.ids, self.n))

    @property
    def first_rows(self) -> Any:
        """The first row of every group (``rows`` for a group without rows)."""
        return self._memo(("first_rows",), lambda: row_bounds(self.device, self.ids, self.n))

    @property
    def rep_rows(self) -> Any:
        """A row of every group (the first unless the grouping found another for free)."""
        rep = self._cache.get(("rep_rows",))
        return self.first_rows if rep is None else rep

    @property
    def last_rows(self) -> Any:
        """The last row of every group (-1 for a group without rows)."""
        return self._memo(("last_rows",), lambda: row_bounds(
            self.device, self.ids, self.n, last=True))

    def presence(self, name: str) -> Any:
        """Validity of a per-group result of ``name``: True where the group has a non-null
        value, or None when every group is known to have one.

        A group exists only when a row has it, so a column without nulls gives a value to
        every group; the no-key aggregate of an empty table is the one exception.
        """
        if self.col(name).validity is None and self.rows:
            return None
        return self._memo(("presence", name), lambda: self.count(name) > 0)

    # -- counts and sums ---------------------------------------------------------------------
    def count(self, name: str) -> Any:
        """Non-null values per group (int64)."""
        if self.col(name).validity is None:
            return self.sizes
        return self._memo(("count", name), lambda: count_ids(
            self.xp, self.ids, self.n, self.col(name).validity))

    def float_values(self, name: str) -> Any:
        """The values as float64, 0.0 under nulls (decimals scaled, bools 0/1)."""

        def build() -> Any:
            col = self.col(name)
            _check_numeric(col, "a float aggregate")
            xp = self.xp
            v = col.data.astype(np.float64, copy=False)
            if col.dtype.is_decimal and col.dtype.scale:
                v = v / float(10**col.dtype.scale)
            if col.validity is not None:
                v = xp.where(col.validity, v, 0.0)
            return v

        return self._memo(("float_values", name), build)

    def fsum(self, name: str) -> Any:
        """float64 sum of the non-null values per group (0.0 when none).

        Integers of up to 32 bits and bools are summed exactly as int64 first (no float
        rounding, no overflow below 2**32 rows).
        """

        def build() -> Any:
            dt = self.col(name).dtype
            if dt.is_bool or (dt.is_integer and dt.physical.itemsize <= 4):
                return self.isum(name).astype(np.float64)
            return wsum(self.xp, self.ids, self.n, self.float_values(name))

        return self._memo(("fsum", name), build)

    def isum(self, name: str) -> Any:
        """Exact int64 sum of the non-null values per group, wrapping on overflow."""
        col = self.col(name)
        return self._memo(("isum", name), lambda: isum(
            self.xp, self.ids, self.n, col.data, col.validity))

    def mean(self, name: str) -> Any:
        """float64 mean per group (NaN where the group has no values; mask it)."""

        def build() -> Any:
            with quiet():
                return self.fsum(name) / self.count(name)

        return self._memo(("mean", name), build)

    def m2(self, name: str) -> Any:
        """Sum of squared deviations from the group mean (the two-pass algorithm)."""

        def build() -> Any:
            xp = self.xp
            col = self.col(name)
            with quiet():
                dev = self.float_values(name) - self.mean(name)[self.ids]
                if col.validity is not None:
                    dev = xp.where(col.validity, dev, 0.0)
                dev *= dev
                return wsum(xp, self.ids, self.n, dev)

        return self._memo(("m2", name), build)

    def comoments(self, x: str, y: str) -> tuple[Any, Any, Any, Any, Any, Any]:
        """(n, mean x, mean y, co-moment, M2 x, M2 y) over rows where both are not null."""

        def build() -> tuple[Any, ...]:
            xp = self.xp
            cx, cy = self.col(x), self.col(y)
            both = _and_valid(cx.validity, cy.validity)
            ids, n = self.ids, self.n
            vx, vy = self.float_values(x), self.float_values(y)
            if both is None:
                cnt = self.sizes
            else:
                cnt = count_ids(xp, ids, n, both)
                vx, vy = xp.where(both, vx, 0.0), xp.where(both, vy, 0.0)
            with quiet():
                mx = wsum(xp, ids, n, vx) / cnt
                my = wsum(xp, ids, n, vy) / cnt
                dx, dy = vx - mx[ids], vy - my[ids]
                if both is not None:
                    dx, dy = xp.where(both, dx, 0.0), xp.where(both, dy, 0.0)
                cxy = wsum(xp, ids, n, dx * dy)
                m2x = wsum(xp, ids, n, dx * dx)
                m2y = wsum(xp, ids, n, dy * dy)
            return cnt, mx, my, cxy, m2x, m2y

        return self._memo(("comoments", x, y), build)

    # -- typed results ------------------------------------------------------------------------
    def sum(self, name: str) -> Column:
        """The SQL sum: int64 for integers and bools (wrapping, as NumPy and pandas; SQL
        checks with :func:`split_halves`), float64 for floats, decimal(18, s) for decimals,
        the same type for durations; null for no values."""
        col = self.col(name)
        dt = col.dtype
        valid = self.presence(name)
        if dt.is_float:
            return Column(t.float64, self.fsum(name), valid, None, self.device)
        if dt.is_integer or dt.is_bool:
            out_t = t.int64
        elif dt.is_decimal:
            out_t = t.decimal(t.MAX_DECIMAL_PRECISION, dt.scale)
        elif dt.kind == "duration":
            out_t = dt
        else:
            msg = (f"sum of column {name!r} of type {dt} is not defined; sum takes numbers, "
                   "bools, decimals or durations (cast the column first)")
            raise XTypeError(msg)
        data = self.isum(name)
        if valid is not None:
            data = self.xp.where(valid, data, 0)
        return Column(out_t, data, valid, None, self.device)

    def extreme(self, name: str, kind: str) -> Column:
        """``min`` or ``max`` per group in the input's type (NaN greatest, as DuckDB)."""
        col = self.col(name)
        xp = self.xp
        if _xp.is_numpy(xp):
            out = self._extreme_numpy(name, kind == "min")
        else:
            fn = dense_agg.group_min if kind == "min" else dense_agg.group_max
            out, _ = fn(xp, self.ids, self.n, col.data, col.validity)
        present = self.presence(name)
        if present is not None:
            out = xp.where(present, out, out.dtype.type(0))
        return Column(col.dtype, out, present, col.dictionary, self.device)

    def _extreme_numpy(self, name: str, is_min: bool) -> Any:
        xp = self.xp
        col = self.col(name)
        data = col.data
        if data.dtype == np.bool_:
            data = data.astype(np.uint8)
        valid = col.validity
        nan_cnt = None
        if data.dtype.kind == "f":
            # NaN is the greatest: scatter without NaNs, then put them back where they win
            isnan = xp.isnan(data)
            if valid is not None:
                isnan &= valid
            if bool(self.device.scalar(isnan.any())):
                nan_cnt = count_ids(xp, self.ids, self.n, isnan)
                data = xp.where(isnan, math.inf if is_min else -math.inf, data)
            ident = data.dtype.type(math.inf if is_min else -math.inf)
        else:
            info = np.iinfo(data.dtype)
            ident = data.dtype.type(info.max if is_min else info.min)
        if valid is not None:
            data = xp.where(valid, data, ident)
        out = xp.full(self.n, ident, dtype=data.dtype)
        if self.rows:
            (_xp.scatter_min if is_min else _xp.scatter_max)(xp, out, self.ids, data)
        if nan_cnt is not None:
            all_nan = nan_cnt == self.count(name) if is_min else nan_cnt > 0
            out = xp.where(all_nan, math.nan, out).astype(data.dtype, copy=False)
        return out.astype(col.data.dtype, copy=False)

    def pick(self, name: str, kind: str, skipna: bool = True) -> Column:
        """The value of the first or last row of each group (``kind`` "first"/"last").

        With ``skipna`` the first (last) non-null value, as pandas; without, the value of
        the group's first (last) row, null or not, as DuckDB's ``first``.
        """
        col = self.col(name)
        xp = self.xp
        first = kind == "first"
        if not skipna or col.validity is None:
            rows = self.first_rows if first else self.last_rows
        else:
            rows = self._memo(("pick", name, kind), lambda: row_bounds(
                self.device, self.ids, self.n, last=not first, valid=col.validity))
        if self.rows and self.n and col.validity is None:
            return col.take(rows)
        missing = (rows < 0) | (rows >= self.rows)
        return col.take(xp.where(missing, -1, rows), nullable=True)

    def prod(self, name: str, exact: bool | None = None) -> Column:
        """float64 product of the non-null values per group (as DuckDB's ``product``).

        NumPy multiplies in row order (``multiply.at``); other namespaces add logarithms of
        magnitudes and count signs, zeros and NaNs (``exact=False`` forces that branch).
        """
        xp = self.xp
        col = self.col(name)
        v = self.float_values(name)
        if col.validity is not None:
            v = xp.where(col.validity, v, 1.0)
        if exact is None:
            exact = _xp.is_numpy(xp)
        out = _prod_exact(xp, self.ids, self.n, v) if exact else \
            _prod_logs(xp, self.ids, self.n, v)
        present = self.presence(name)
        if present is not None:
            out = xp.where(present, out, 0.0)
        return Column(t.float64, out, present, None, self.device)

    def count_distinct(self, name: str) -> Any:
        """Distinct non-null values per group (int64); NaN counts as one value."""
        xp = self.xp
        col = self.col(name)
        codes = order_codes(col)
        card = codes.n
        vc, ids = codes.ids, self.ids
        if col.validity is not None:
            vc, ids = vc[col.validity], ids[col.validity]
        rows = int(ids.shape[0])
        if rows == 0:
            return xp.zeros(self.n, dtype=np.int64)
        if self.n * card >= _INT62:  # pragma: no cover - needs more than 2**31 rows
            vc = xp.unique(vc, return_inverse=True)[1].reshape(-1)
            card = int(self.device.scalar(vc.max())) + 1
        pair = ids * card + vc
        if self.n * card <= max(_DENSE_FACTOR * rows, _DENSE_FLOOR):
            present = _xp.bincount(xp, pair, self.n * card) > 0
            return present.reshape(self.n, card).sum(axis=1).astype(np.int64)
        return _xp.bincount(xp, xp.unique(pair) // card, self.n)

    def _int_column(self, values: Any) -> Column:
        """An int64 device array as a column, to sort by."""
        return Column(t.int64, values, None, None, self.device)

    # -- strings -------------------------------------------------------------------------------
    def string_agg(self, name: str, sep: str | None = ",",
                   order: tuple[tuple[str, bool, bool], ...] = ()) -> Column:
        """Per group, the non-null values of column ``name`` as text joined by ``sep``, in
        row order or sorted by ``order`` (``(column, descending, nulls_last)`` each, stably);
        null for a group with no value, and everywhere when ``sep`` is None (SQL's
        ``string_agg``/``group_concat``).

        The joining runs on the host through pyarrow (the output is text; on a GPU the
        group ids and the sort come back from the device once).
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        from ..table import Table
        from .cast import cast
        from .sort import sort_indices

        col = self.col(name)
        if sep is None:
            return Column.full(self.n, None, t.string, self.device)
        if not col.dtype.is_string:
            col = cast(col, t.string)
        if order:
            # rows by (group, order keys...): one stable sort keeps row order among ties
            cols = [("__g", self._int_column(self.ids))]
            cols += [(f"__o{i}", self.col(c)) for i, (c, _, _) in enumerate(order)]
            by = [c for c, _ in cols]
            perm = sort_indices(Table(cols, self.rows, self.device), by,
                                [False, *(d for _, d, _ in order)],
                                [True, *(nl for _, _, nl in order)])
            perm = np.asarray(self.device.to_host(perm))
            ids = np.asarray(self.device.to_host(self.ids))
        else:
            ids = np.asarray(self.device.to_host(self.ids))
            perm = np.argsort(ids, kind="stable")
        values = col.to_arrow()
        valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        keep = perm[valid[perm]]
        counts = np.bincount(ids[keep], minlength=self.n)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()),
                                              values.take(pa.array(keep)))
        joined = pc.if_else(pa.array(counts > 0), pc.binary_join(lists, sep),
                            pa.scalar(None, pa.string()))
        return Column.from_arrow(joined, self.device)

    def arg_extreme(self, name: str, by: str, largest: bool) -> Column:
        """Per group, column ``name`` at the row where ``by`` is largest (``arg_max``) or
        smallest (``arg_min``); rows where either is null are skipped, ties go to the first
        row; null for a group without such a row (DuckDB's ``arg_max``/``arg_min``)."""
        from ..table import Table
        from .sort import sort_indices

        xp = self.xp
        col, key = self.col(name), self.col(by)
        perm = sort_indices(Table([("__g", self._int_column(self.ids)), ("__v", key)],
                                  self.rows, self.device),
                            ["__g", "__v"], [False, largest], [True, True])
        valid = _and_valid(col.validity, key.validity)
        if valid is not None:
            perm = perm[valid[perm]]
        g = self.ids[perm]
        first = _xp.run_starts(xp, g)  # sorted by group: each group's best row leads
        rows = xp.full(self.n, -1, dtype=np.int64)  # -1: no row, a null
        rows[g[first]] = perm[first]
        return col.take(rows, nullable=True)

    def mode(self, name: str) -> Column:
        """Per group, the most frequent non-null value of ``name``; among equally frequent
        values the one seen first; null for a group without a value (DuckDB's ``mode``)."""
        from ..table import Table
        from .sort import sort_indices

        xp = self.xp
        col = self.col(name)
        codes = order_codes(col)
        rows = xp.arange(self.rows, dtype=np.int64)
        ids, vc = self.ids, codes.ids
        if col.validity is not None:
            rows, ids, vc = rows[col.validity], ids[col.validity], vc[col.validity]
        out_rows = xp.full(self.n, -1, dtype=np.int64)  # -1: no value, a null
        if int(rows.shape[0]):
            # runs of one (group, value) pair: their sizes and first rows (a stable sort
            # keeps rows ascending within a run)
            order = sort_indices(Table([("g", self._int_column(ids)),
                                        ("v", self._int_column(vc))],
                                       int(rows.shape[0]), self.device), ["g", "v"])
            g, v, r = ids[order], vc[order], rows[order]
            start = _xp.run_starts(xp, g) | _xp.run_starts(xp, v)
            run = xp.cumsum(start) - 1
            size = _xp.bincount(xp, run, int(self.device.scalar(run[-1])) + 1)
            runs = Table([("g", self._int_column(g[start])), ("n", self._int_column(size)),
                          ("r", self._int_column(r[start]))], int(size.shape[0]), self.device)
            # per group the biggest run, ties to the earliest first row: the first in order
            best = sort_indices(runs, ["g", "n", "r"], [False, True, False])
            bg = g[start][best]
            lead = _xp.run_starts(xp, bg)
            out_rows[bg[lead]] = r[start][best][lead]
        return col.take(out_rows, nullable=True)

    def bit_reduce(self, name: str, op: str) -> Column:
        """Per group, the bitwise ``and``/``or``/``xor`` of the non-null integers of
        ``name``, in its type; null for a group without a value (DuckDB's ``bit_and``,
        ``bit_or``, ``bit_xor``). One count of set bits per bit position and group: the
        same passes on NumPy and CuPy, whatever the order of the rows."""
        xp = self.xp
        col = self.col(name)
        if not col.dtype.is_integer:
            raise XTypeError(f"bit_{op}({name!r}) takes integers, got type {col.dtype}; cast "
                             "it to an integer type first")
        bits = np.dtype(col.dtype.physical).itemsize * 8
        ids, data = self.ids, col.data.astype(np.int64).view(np.uint64)
        if col.validity is not None:
            ids, data = ids[col.validity], data[col.validity]
        present = _xp.bincount(xp, ids, self.n)
        out = xp.zeros(self.n, dtype=np.uint64)
        for b in range(bits):
            ones = _xp.bincount(xp, ids[((data >> np.uint64(b)) & np.uint64(1)) == 1], self.n)
            on = ones == present if op == "and" else ones > 0 if op == "or" else ones % 2 == 1
            out |= on.astype(np.uint64) << np.uint64(b)
        if bits < 64:  # sign-extend the narrow type's top bit back into int64
            sign = np.uint64(1 << (bits - 1))
            out = (out ^ sign) - sign
        data = out.view(np.int64).astype(col.dtype.physical)
        valid = present > 0
        data = xp.where(valid, data, xp.zeros(1, data.dtype))
        return Column(col.dtype, data, None if bool(self.device.scalar(valid.all())) else valid,
                      None, self.device)

    def shape(self, name: str, kind: str) -> Column:
        """Per group, the sample ``skewness``, the sample excess ``kurtosis`` or the
        population excess ``kurtosis_pop`` of the non-null values of ``name`` (pandas'
        and DuckDB's formulas, from central moments: two passes, no cancellation of raw
        power sums). Null below 3 values (skewness) or 4 (kurtosis) and, for the
        kurtoses, for constant groups; a constant group's skewness is NaN, as DuckDB's."""
        xp = self.xp
        col = self.col(name)
        _check_numeric(col, kind)
        ids, x = self.ids, _as_float(col.data, col.dtype)
        if col.validity is not None:
            ids, x = ids[col.validity], x[col.validity]
        n = _xp.bincount(xp, ids, self.n).astype(np.float64)
        with quiet():
            mean = _xp.bincount(xp, ids, self.n, weights=x) / n
            d = x - mean[ids]
            d2 = d * d
            m2 = _xp.bincount(xp, ids, self.n, weights=d2) / n
            if kind == "skewness":
                m3 = _xp.bincount(xp, ids, self.n, weights=d2 * d) / n
                value = xp.sqrt(n * (n - 1)) / (n - 2) * m3 / m2 ** 1.5
                valid = n >= 3
            else:
                m4 = _xp.bincount(xp, ids, self.n, weights=d2 * d2) / n
                g2 = m4 / (m2 * m2) - 3.0
                if kind == "kurtosis":
                    value = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6.0)
                    valid = (n >= 4) & (m2 > 0)
                else:
                    value, valid = g2, (n >= 1) & (m2 > 0)
        value = xp.where(valid, value, 0.0)
        return Column(t.float64, value, valid, None, self.device)

    # -- quantiles -----------------------------------------------------------------------------
    def ranked(self, name: str) -> Ranked:
        """The non-null values of ``name`` sorted by (group, value); see :class:`Ranked`."""
        return self._memo(("ranked", name), lambda: Ranked(self, name))

    def quantile(self, name: str, q: float, discrete: bool = False) -> Column:
        """Linear-interpolated (``quantile_cont``, numpy/pandas) or discrete
        (``quantile_disc``, DuckDB's rule) quantile ``q`` of every group."""
        xp = self.xp
        col = self.col(name)
        rk = self.ranked(name)
        cnt = rk.cnt
        valid = self.presence(name)
        last = xp.maximum(cnt - 1, 0)
        if discrete:
            with quiet():
                scaled = cnt.astype(np.float64) * q
                idx = xp.maximum(1, cnt - xp.floor(cnt - scaled).astype(np.int64)) - 1
            (data,) = rk.order_stats([xp.minimum(idx, last)])
            if col.dtype.is_bool:
                data = data.astype(bool)
            if valid is not None:
                data = xp.where(valid, data, data.dtype.type(0))
            return Column(col.dtype, data, valid, col.dictionary, self.device)
        _check_numeric(col, "quantile_cont/median")
        pos = last.astype(np.float64) * q
        lo = xp.floor(pos).astype(np.int64)
        hi = xp.minimum(lo + 1, last)
        frac = pos - lo
        a, b = (_as_float(v, col.dtype) for v in rk.order_stats([lo, hi]))
        with quiet():
            data = xp.where(frac == 0, a, a * (1.0 - frac) + b * frac)
        if valid is not None:
            data = xp.where(valid, data, 0.0)
        return Column(t.float64, data, valid, None, self.device)


class Ranked:
    """The non-null values of one column sorted by (group, value), for order statistics.

    Every value maps to an int64 ``u`` with the same order (floats through their bit
    pattern, NaN greatest, -0.0 as 0.0). One int64 sort of ``group << vb | (u - umin) >>
    shift`` orders the rows by group and value, with no argsort and no gather: where the
    values' range fits in ``vb`` bits (``shift == 0``) the sorted keys hold the values
    themselves. Otherwise a key holds a bucket of ``2**shift`` neighbouring values, and
    :meth:`order_stats` finishes by sorting the few rows in the buckets it needs.
    """

    def __init__(self, groups: Groups, col_name: str):
        xp = groups.xp
        col = groups.col(col_name)
        ids = groups.ids
        u, self.decode, umin, umax = _order_ints(xp, col)
        if col.validity is not None:
            u, ids = u[col.validity], ids[col.validity]
        self.xp = xp
        self.device = groups.device
        self.cnt = groups.count(col_name)
        self.base = xp.cumsum(self.cnt) - self.cnt
        self.rows = int(u.shape[0])
        self.ids = ids
        self.shift = 0
        self.umin = 0
        self.vb = 63 - max(groups.n - 1, 0).bit_length()
        if self.rows == 0:
            self.sorted = u
            return
        self.umin = umin
        self.shift = max(0, (umax - umin).bit_length() - self.vb)
        # u - umin may exceed int64: it wraps, and its uint64 view is the true offset
        with quiet():
            off = (u - np.int64(umin)).view(np.uint64)
        if self.shift:
            off >>= np.uint64(self.shift)
        key = off.view(np.int64)
        if self.vb < 63:
            key |= ids << self.vb
        self.keys = key if self.shift else None
        self.u = u if self.shift else None
        self.sorted = xp.sort(key)

    def order_stats(self, ranks: list[Any]) -> list[Any]:
        """For each array of per-group ranks (0-based, < count), the values of those ranks
        in the column's physical type (unspecified where a group has no values)."""
        xp = self.xp
        n = int(self.cnt.shape[0])
        if self.rows == 0:
            return [self.decode(xp.zeros(n, dtype=np.int64)) for _ in ranks]
        top = self.rows - 1
        pos = [xp.minimum(self.base + r, top) for r in ranks]
        targets = [self.sorted[p] for p in pos]
        low = (1 << self.vb) - 1 if self.vb < 63 else -1
        if not self.shift:
            with quiet():
                return [self.decode((k & low) + np.int64(self.umin)) for k in targets]
        # Rows in the needed buckets, sorted by (bucket key, exact value).
        match = None
        for k in targets:
            hit = self.keys == k[self.ids]
            match = hit if match is None else match | hit
        where = xp.nonzero(match)[0]
        ck, cu = self.keys[where], self.u[where]
        order = sort_pairs(xp, ck, cu)
        ck, cu = ck[order], cu[order]
        out = []
        last = int(cu.shape[0]) - 1
        for p, k in zip(pos, targets, strict=True):
            within = p - xp.searchsorted(self.sorted, k, side="left")
            at = xp.searchsorted(ck, k, side="left") + within
            # a group without values has a stray target: any index will do
            out.append(self.decode(cu[xp.clip(at, 0, last)]))
        return out


# -- scatter primitives: ufunc.at on NumPy, the fused kernels of dense_agg on the GPU ----------
def count_ids(xp: Any, ids: Any, n: int, valid: Any = None) -> Any:
    """Rows per id (only where ``valid``), int64."""
    if _xp.is_numpy(xp):
        return _xp.bincount(xp, ids if valid is None else ids[valid], n)
    return dense_agg.group_count(xp, ids, n, valid)


def wsum(xp: Any, ids: Any, n: int, weights: Any) -> Any:
    """float64 sums of ``weights`` per id, in row order (NumPy's ``add.at`` is twice as fast
    as ``bincount(weights=)``)."""
    if weights.dtype.kind != "f":
        weights = weights.astype(np.float64)
    if not _xp.is_numpy(xp):
        return dense_agg.group_sum(xp, ids, n, weights)
    out = xp.zeros(n, dtype=np.float64)
    if ids.shape[0]:
        with quiet():  # sums may overflow to inf, inf - inf is NaN
            _xp.scatter_add(xp, out, ids, weights.astype(np.float64, copy=False))
    return out


def isum(xp: Any, ids: Any, n: int, values: Any, valid: Any = None) -> Any:
    """Exact int64 sums of integer (or bool) ``values`` per id, wrapping on overflow."""
    if not _xp.is_numpy(xp):
        return dense_agg.group_sum(xp, ids, n, values, valid)
    v = values.astype(np.int64, copy=False)
    if valid is not None:
        v = xp.where(valid, v, 0)
    out = xp.zeros(n, dtype=np.int64)
    if ids.shape[0]:
        with quiet():  # int64 sums wrap on overflow
            _xp.scatter_add(xp, out, ids, v)
    return out


def split_halves(xp: Any, values: Any) -> tuple[Any, Any]:
    """Integer ``values`` as two int64 arrays ``(high, low)`` with ``value = high * 2**32 +
    low`` and ``0 <= low < 2**32``: summed apart, neither can wrap below 2**31 rows, so
    :func:`halves_overflow` can tell exactly which sums left the int64 range."""
    if values.dtype == np.uint64:
        return ((values >> np.uint64(32)).astype(np.int64),
                (values & np.uint64(0xFFFFFFFF)).astype(np.int64))
    v = values.astype(np.int64, copy=False)
    return v >> 32, v & np.int64(0xFFFFFFFF)


def halves_overflow(xp: Any, high: Any, low: Any, limit: int = 2**63) -> Any:
    """Where the exact sum ``high * 2**32 + low`` (sums of :func:`split_halves`) is outside
    ``(-limit, limit)`` (``2**63``: int64 would wrap; ``10**18``: an 18-digit decimal)."""
    high = high + (low >> 32)  # carry, so that 0 <= low < 2**32
    low = low & np.int64(0xFFFFFFFF)
    bad = (high < -(2**31)) | (high >= 2**31)
    if limit < 2**63:
        with quiet():
            exact = (high << 32) | low  # exact wherever ``bad`` is false
        bad = bad | (exact >= limit) | (exact <= -limit)
    return bad


def row_bounds(device: Device, ids: Any, n: int, last: bool = False, valid: Any = None) -> Any:
    """The first (or last) row of every id, only rows where ``valid`` counting; ``rows``
    (or -1) where an id has none.

    On NumPy few groups all occur early: a scan of a prefix of the rows finds their first
    rows, and the rest of the rows is scanned only when some group is still missing.
    """
    xp = device.xp
    rows = int(ids.shape[0])
    none = -1 if last else rows
    if not _xp.is_numpy(xp):
        fn = dense_agg.group_max if last else dense_agg.group_min
        got, cnt = fn(xp, ids, n, xp.arange(rows, dtype=np.int64), valid)
        return xp.where(cnt > 0, got, none)
    scatter = _xp.scatter_max if last else _xp.scatter_min
    prefix = max(_PREFIX_FACTOR * n, _PREFIX_FLOOR)
    start = 0
    out = xp.full(n, none, dtype=np.int64)
    if not last and valid is None and rows > 2 * prefix:
        scatter(xp, out, ids[:prefix], xp.arange(prefix, dtype=np.int64))
        if not bool(device.scalar((out == none).any())):
            return out
        start = prefix
    if rows > start:
        ar = xp.arange(start, rows, dtype=np.int64)
        if valid is not None:
            ar = xp.where(valid, ar, none)
        scatter(xp, out, ids[start:], ar)
    return out


def group_ids(columns: Any) -> tuple[Any, int, Any, Any]:
    """Dense group ids of the rows by the values of ``columns``, in ascending key order.

    The ids are those of :func:`xpdb.kernels.keys.factorize` (nulls last per key); also
    returned: the rows of each group and, when the grouping sorted, one row of each
    group (else None). Dense codes are compacted with a bincount, which is also the group
    sizes, and left as they are when every code occurs; wide codes are compacted by an
    argsort (cheaper than a unique with inverse on NumPy).

    Returns
    -------
    (ids, n, sizes, rep_rows)
    """
    parts = [order_codes(c) for c in columns]
    codes = combine(parts, compact=False)
    ids, n = codes.ids, codes.n
    xp = columns[0].xp
    dev = columns[0].device
    rows = int(ids.shape[0])
    if rows == 0:
        return ids, 0, xp.zeros(0, dtype=np.int64), None
    if n <= max(_DENSE_FACTOR * rows, _DENSE_FLOOR):
        counts = count_ids(xp, ids, n)
        present = counts > 0
        k = int(dev.scalar(xp.count_nonzero(present)))
        if k < n:
            ids = (xp.cumsum(present) - 1)[ids]
            counts = counts[present]
        return ids, k, counts, None
    order = xp.argsort(ids)
    flags = _xp.run_starts(xp, ids[order])
    ranks = xp.cumsum(flags) - 1
    k = int(dev.scalar(ranks[-1])) + 1
    out = xp.empty(rows, dtype=np.int64)
    out[order] = ranks
    starts = xp.nonzero(flags)[0]
    counts = xp.diff(xp.concatenate([starts, xp.asarray([rows], dtype=starts.dtype)]))
    return out, k, counts.astype(np.int64), order[starts]


# -- helpers ---------------------------------------------------------------------------------
def _and_valid(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _check_numeric(col: Column, what: str) -> None:
    dt = col.dtype
    if not (dt.is_numeric or dt.is_bool):
        msg = (f"{what} needs a numeric column, got type {dt}; cast it to a number first "
               "(or use min/max/first/last/quantile_disc, which keep the type)")
        raise XTypeError(msg)


def _as_float(values: Any, dtype: t.DataType) -> Any:
    v = values.astype(np.float64)
    if dtype.is_decimal and dtype.scale:
        v = v / float(10**dtype.scale)
    return v


def _prod_exact(xp: Any, ids: Any, n: int, v: Any) -> Any:
    out = xp.ones(n, dtype=np.float64)
    if ids.shape[0]:
        with quiet():
            xp.multiply.at(out, ids, v)
    return out


def _prod_logs(xp: Any, ids: Any, n: int, v: Any) -> Any:
    """Products from sums of logarithms: portable where ``multiply.at`` is missing."""
    with quiet():
        mag = xp.abs(v)
        zero = wsum(xp, ids, n, (mag == 0).astype(np.float64)) > 0
        neg = wsum(xp, ids, n, (v < 0).astype(np.float64)) % 2 == 1
        nan = wsum(xp, ids, n, xp.isnan(v).astype(np.float64)) > 0
        inf = wsum(xp, ids, n, xp.isinf(v).astype(np.float64)) > 0
        logs = wsum(xp, ids, n, xp.where(mag == 0, 0.0, xp.log(mag)))
        out = xp.exp(logs)
        out = xp.where(neg, -out, out)
        out = xp.where(zero, 0.0, out)
        return xp.where(nan | (zero & inf), math.nan, out)


def sort_pairs(xp: Any, a: Any, b: Any) -> Any:
    """Indices that sort rows by ``a``, then ``b`` (two sorts: by b, then stably by a)."""
    first = xp.argsort(b)
    return first[_xp.stable_argsort(xp, a[first])]


_SIGN64 = np.int64(0x7FFFFFFFFFFFFFFF)
_SIGN32 = np.int32(0x7FFFFFFF)
_POS_INF64 = 0x7FF0000000000000  # the order ints of +inf, -inf and NaN
_NEG_INF64 = -_POS_INF64 - 1
_NAN64 = np.int64(0x7FF8000000000000)


def _order_ints(xp: Any, col: Column) -> tuple[Any, Callable[[Any], Any], int, int]:
    """int64 values with the column's order, the map back to physical values, and the
    least and greatest of the int64 values (over every row, nulls included).

    Floats: NaN (any sign) becomes the greatest value and -0.0 becomes 0.0; flipping the
    magnitude bits of negative numbers makes the bit patterns' integer order the float
    order. uint64 flips its top bit. Everything else widens.
    """
    data = col.data
    dt = data.dtype
    if dt.kind == "f":
        v = data + dt.type(0)
        if dt.itemsize == 8:
            bits = v.view(np.int64)
            u = bits >> 63
            u &= _SIGN64
            u ^= bits
            # NaNs of any sign and payload sit beyond the infinities: make them one value
            lo, hi = _min_max(col.device, u)
            if lo < _NEG_INF64 or hi > _POS_INF64:
                u = xp.where((u < _NEG_INF64) | (u > _POS_INF64), _NAN64, u)
                lo, hi = max(lo, _NEG_INF64), min(max(hi, int(_NAN64)), int(_NAN64))
            return u, lambda k: (k ^ ((k >> 63) & _SIGN64)).view(np.float64), lo, hi
        nan = xp.isnan(v)
        if bool(col.device.scalar(nan.any())):
            v = xp.where(nan, dt.type(math.nan), v)
        bits = v.view(np.int32)
        u = (bits ^ ((bits >> 31) & _SIGN32)).astype(np.int64)

        def back32(k: Any) -> Any:
            b = k.astype(np.int32)
            return (b ^ ((b >> 31) & _SIGN32)).view(np.float32)

        return (u, back32, *_min_max(col.device, u))
    if dt == np.uint64:
        top = np.uint64(1 << 63)
        u = (data ^ top).view(np.int64)
        return (u, lambda k: k.view(np.uint64) ^ top, *_min_max(col.device, u))
    if dt == np.bool_:
        return data.astype(np.int64), lambda k: k.astype(np.uint8), 0, 1
    lo, hi = _min_max(col.device, data)
    return data.astype(np.int64), lambda k: k.astype(dt), lo, hi


def _min_max(device: Device, a: Any) -> tuple[int, int]:
    if not a.shape[0]:
        return 0, 0
    return int(device.scalar(a.min())), int(device.scalar(a.max()))


def merge_moments(groups: Groups, n: Any, mean: Any, m2: Any) -> tuple[Any, Any, Any]:
    """Chan's parallel formula: merge partial (count, mean, M2) rows by ``groups.ids``.

    ``M2 = sum M2_i + sum n_i (mean_i - mean)^2`` with ``mean = sum n_i mean_i / sum n_i``.
    Rows with ``n_i == 0`` must carry 0.0 in ``mean``.
    """
    xp, ids, k = groups.xp, groups.ids, groups.n
    nf = n.astype(np.float64)
    total = wsum(xp, ids, k, nf).astype(np.int64)
    with quiet():
        mu = wsum(xp, ids, k, nf * mean) / total
        d = mean - mu[ids]
        out = wsum(xp, ids, k, m2 + xp.where(n > 0, nf * d * d, 0.0))
    return total, mu, out


def merge_comoments(
    groups: Groups, n: Any, mx: Any, my: Any, cxy: Any, m2x: Any, m2y: Any
) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Merge partial (n, mean x, mean y, co-moment, M2 x, M2 y) rows, as
    :func:`merge_moments` does for one column."""
    xp, ids, k = groups.xp, groups.ids, groups.n
    nf = n.astype(np.float64)
    total = wsum(xp, ids, k, nf).astype(np.int64)
    with quiet():
        ux = wsum(xp, ids, k, nf * mx) / total
        uy = wsum(xp, ids, k, nf * my) / total
        dx, dy = mx - ux[ids], my - uy[ids]
        has = n > 0
        c = wsum(xp, ids, k, cxy + xp.where(has, nf * dx * dy, 0.0))
        sx = wsum(xp, ids, k, m2x + xp.where(has, nf * dx * dx, 0.0))
        sy = wsum(xp, ids, k, m2y + xp.where(has, nf * dy * dy, 0.0))
    return total, ux, uy, c, sx, sy
