"""Window functions: ``f(...) OVER (PARTITION BY ... ORDER BY ... ROWS/RANGE ...)``.

One stable sort brings the rows of each partition together in window order (the sort key is
the partition codes then the order codes of :mod:`xpdb.kernels.keys`). In that order a
partition is a run of equal partition codes and a peer group a run of equal full keys, so
every function is a few whole-array expressions over run starts and ends, and the results
are gathered back to the original row order.

- Ranking (``row_number``, ``rank``, ``dense_rank``, ``percent_rank``, ``cume_dist``,
  ``ntile``) comes from partition and peer-group bounds.
- ``lag``/``lead`` are shifted gathers checked against the partition bounds.
- Frames are clipped to the partition as inclusive sorted positions ``[lo, hi]``.
  ``first_value``/``last_value``/``nth_value`` gather at ``lo``, ``hi``, ``lo + n - 1``.
- ``count`` and integer/decimal ``sum`` use prefix sums, ``P[hi + 1] - P[lo]`` in int64.
  The arithmetic is modular, so a frame sum is exact whenever the sum itself fits int64,
  whatever the prefix does in between; a sum that does not fit raises ExecutionError.
- Float ``sum``/``mean`` and ``min``/``max`` never subtract: a frame starting at the
  partition start (the cumulative case) reads a segmented running scan
  (:func:`segmented_scan`), any other frame is reduced from at most log2(frame length)
  power-of-two blocks (:func:`frame_reduce`). So a float sum carries only rounding of its
  own frame's values (a tree-shaped sum, error about log2(L) * eps * sum(|x|) over the
  frame): no cancellation against other rows, and +-inf and NaN give what a direct sum
  gives. Float sums are computed in float64; integer means are float64 sums of the values.

Nulls and NaN follow SQL/DuckDB: aggregates skip nulls (an empty or all-null frame gives
null, ``count`` gives 0); NaN is a value, larger than every number (``max`` of a frame with
a NaN is NaN, ``min`` ignores it unless the frame holds only NaN); ``lag``/``lead`` across a
partition bound give the default; ``first_value`` and friends respect nulls.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .. import types as t
from ..column import Column, concat_columns
from ..errors import ExecutionError, NotSupportedError, XpdbError
from ..errors import TypeError as XTypeError
from ..shards import ShardedTable, map_shards
from ..table import Table, concat_tables
from . import _xp, keys
from .exchange import exchange

_RANKING = ("row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile")
_OFFSET = ("lag", "lead")
_VALUE = ("first_value", "last_value", "nth_value")
_AGGREGATE = ("sum", "mean", "min", "max", "count", "count_star")
FUNCTIONS = _RANKING + _OFFSET + _VALUE + _AGGREGATE
_ALIASES = {"avg": "mean", "count(*)": "count_star"}


@dataclass(frozen=True)
class WindowFunc:
    """One window function call.

    Parameters
    ----------
    func : str
        One of :data:`FUNCTIONS` (``avg`` is accepted for ``mean``).
    column : str or None
        The argument column; None for ranking functions and ``count_star``.
    name : str
        The output column name.
    offset : int
        The lag/lead offset; the bucket count of ``ntile``; ``n`` of ``nth_value``.
    default : scalar
        The lag/lead value when the offset row lies outside the partition (None: null).
    frame : (int or None, int or None), optional
        The frame as signed offsets from the current row: ``(None, 0)`` is UNBOUNDED
        PRECEDING..CURRENT ROW, ``(-2, 2)`` is 2 PRECEDING..2 FOLLOWING, ``(None, None)``
        the whole partition. None gives SQL's default: RANGE UNBOUNDED PRECEDING..CURRENT
        ROW with an ORDER BY (peers included), the whole partition without one.
    frame_type : {"rows", "range"}
        RANGE frames take only None (unbounded) and 0 (the current row's peer group) as
        bounds; ``("range", (0, 0))`` frames the peer group (``count_star`` over it is the
        number of ties, which gives pandas' ``rank(method="max"/"average")``).
    """

    func: str
    column: str | None
    name: str
    offset: int = 1
    default: Any = None
    frame: tuple[int | None, int | None] | None = None
    frame_type: str = "rows"


def window(
    table: Table,
    partition_by: Sequence[str],
    order_by: Sequence[str],
    funcs: Sequence[WindowFunc],
    *,
    descending: bool | Sequence[bool] = False,
    nulls_last: bool | Sequence[bool] = True,
) -> Table:
    """Evaluate window functions over ``table``.

    Parameters
    ----------
    table : Table
    partition_by : sequence of str
        Partition key columns (a null key is one partition, as in SQL).
    order_by : sequence of str
        Order key columns within a partition.
    funcs : sequence of WindowFunc
    descending, nulls_last : bool or sequence of bool
        The direction and null placement of each ``order_by`` key.

    Returns
    -------
    Table
        ``table`` in its original row order with one column per function appended (an
        output name equal to an input column replaces it in place).

    Examples
    --------
    >>> tb = Table.from_pydict({"g": [1, 1, 2, 1], "v": [3, 1, 5, 2]})
    >>> out = window(tb, ["g"], ["v"], [WindowFunc("rank", None, "r"),
    ...                                  WindowFunc("sum", "v", "s")])
    >>> out.column("r").to_pylist(), out.column("s").to_pylist()
    ([3, 1, 1, 2], [6, 1, 5, 3])
    """
    names = [f.name for f in funcs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        msg = f"window functions share the output names {dup}; give each a distinct name"
        raise XpdbError(msg)
    desc = _per_key(descending, len(order_by), "descending")
    nlast = _per_key(nulls_last, len(order_by), "nulls_last")
    specs = [_check(f, table) for f in funcs]
    lay = _layout(table, partition_by, order_by, desc, nlast)
    out = table
    for f in specs:
        out = out.with_column(f.name, _evaluate(lay, f, table))
    return out


# -- validation ---------------------------------------------------------------------------------
def _per_key(value: bool | Sequence[bool], k: int, what: str) -> list[bool]:
    if isinstance(value, bool | np.bool_):
        return [bool(value)] * k
    vals = [bool(v) for v in value]
    if len(vals) != k:
        msg = f"{what}={list(value)!r} has {len(vals)} entries for {k} order_by keys; give one each"
        raise XpdbError(msg)
    return vals


def _check(f: WindowFunc, table: Table) -> WindowFunc:
    func = _ALIASES.get(f.func.lower(), f.func.lower())
    if func not in FUNCTIONS:
        msg = f"unknown window function {f.func!r}; supported: {', '.join(FUNCTIONS)}"
        raise NotSupportedError(msg)
    needs_column = func not in _RANKING and func != "count_star"
    if needs_column:
        if f.column is None:
            raise XpdbError(f"window function {func} needs a column, got column=None")
        table.column(f.column)  # BindError naming the closest column
    if func in ("ntile", "nth_value") and not (_is_int(f.offset) and f.offset >= 1):
        raise XpdbError(f"{func} needs a positive integer n (offset), got {f.offset!r}")
    if func in _OFFSET and not _is_int(f.offset):
        raise XpdbError(f"{func} needs an integer offset, got {f.offset!r}")
    if f.frame_type not in ("rows", "range"):
        raise XpdbError(f"frame_type must be 'rows' or 'range', got {f.frame_type!r}")
    if f.frame is not None:
        ok = isinstance(f.frame, tuple | list) and len(f.frame) == 2 and all(
            b is None or _is_int(b) for b in f.frame)
        if not ok:
            msg = (f"frame must be (preceding, following) of ints or None, e.g. (-2, 0), "
                   f"got {f.frame!r}")
            raise XpdbError(msg)
        if f.frame_type == "range" and any(b not in (None, 0) for b in f.frame):
            msg = (f"RANGE frame {tuple(f.frame)!r} is not supported: RANGE bounds must be "
                   "None (unbounded) or 0 (current row); use frame_type='rows' for offsets")
            raise NotSupportedError(msg)
    return WindowFunc(func, f.column, f.name, f.offset, f.default,
                      None if f.frame is None else tuple(f.frame), f.frame_type)


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)


# -- the sorted layout --------------------------------------------------------------------------
@dataclass
class _Layout:
    """Rows in window order (``perm``) and, per sorted position, the bounds of its
    partition ``[pstart, pend)`` and of its peer group ``[peer_start, peer_end)``."""

    xp: Any
    table: Table
    n: int
    pos: Any
    perm: Any
    inv: Any  # None when perm is the identity
    part_flags: Any
    pstart: Any
    pend: Any
    peer_id: Any
    peer_start: Any
    peer_end: Any

    def back(self, a: Any) -> Any:
        """Values per sorted position, reordered to the original rows."""
        return a if self.inv is None else a[self.inv]

    def sorted_values(self, col: Column) -> tuple[Any, Any]:
        if self.inv is None:
            return col.data, col.validity
        valid = None if col.validity is None else col.validity[self.perm]
        return col.data[self.perm], valid

    def column(self, dtype: t.DataType, data: Any, valid: Any = None,
               dictionary: pa.Array | None = None) -> Column:
        """A result column from values (and validity) per sorted position."""
        v = None if valid is None else self.back(valid)
        return Column(dtype, self.back(data), v, dictionary, self.table.device)

    def scalar(self, a: Any) -> int:
        return int(self.table.device.scalar(a))


def _layout(table: Table, partition_by: Sequence[str], order_by: Sequence[str],
            desc: list[bool], nlast: list[bool]) -> _Layout:
    xp = table.device.xp
    n = table.num_rows
    pos = xp.arange(n, dtype=np.int64)
    # keys._unique_codes computes data[:1] * 0, which warns when that value is +-inf
    with np.errstate(invalid="ignore"):
        pparts = [keys.order_codes(table.column(c)) for c in partition_by]
        oparts = [keys.order_codes(table.column(c), d, nl)
                  for c, d, nl in zip(order_by, desc, nlast, strict=True)]
    first = pos == 0
    if n == 0 or not (pparts or oparts):
        perm, inv, part_flags, peer_flags = pos, None, first, first
    else:
        full = keys.combine(pparts + oparts, compact=False).ids
        perm = _xp.stable_argsort(xp, full)
        inv = xp.empty(n, dtype=np.int64)
        inv[perm] = pos  # perm is a permutation: no duplicate indices
        peer_flags = _xp.run_starts(xp, full[perm])
        if pparts:
            part_flags = _xp.run_starts(xp, keys.combine(pparts, compact=False).ids[perm])
        else:
            part_flags = first
        if not oparts:
            peer_flags = part_flags
    _, pstart, pend = _runs(xp, part_flags, n)
    peer_id, peer_start, peer_end = _runs(xp, peer_flags, n)
    return _Layout(xp, table, n, pos, perm, inv, part_flags, pstart, pend,
                   peer_id, peer_start, peer_end)


def _runs(xp: Any, flags: Any, n: int) -> tuple[Any, Any, Any]:
    """Run index, run start and run end (exclusive) per position, from run-start flags."""
    rid = xp.cumsum(flags.astype(np.int64)) - 1
    starts = xp.nonzero(flags)[0].astype(np.int64)
    ends = xp.concatenate([starts[1:], xp.full(1, n, dtype=np.int64)])
    return rid, starts[rid], ends[rid]


# -- dispatch -----------------------------------------------------------------------------------
def _evaluate(lay: _Layout, f: WindowFunc, table: Table) -> Column:
    if f.func in _RANKING:
        return _ranking(lay, f)
    col = None if f.func == "count_star" else table.column(f.column)
    if f.func in _OFFSET:
        return _shift(lay, f, col)
    lo, hi, running = _frame(lay, f)
    if f.func in _VALUE:
        return _value(lay, f, col, lo, hi)
    return _aggregate(lay, f, col, lo, hi, running)


def _ranking(lay: _Layout, f: WindowFunc) -> Column:
    xp = lay.xp
    pos, pstart, pend = lay.pos, lay.pstart, lay.pend
    if f.func == "row_number":
        return lay.column(t.int64, pos - pstart + 1)
    if f.func == "rank":
        return lay.column(t.int64, lay.peer_start - pstart + 1)
    if f.func == "dense_rank":
        return lay.column(t.int64, lay.peer_id - lay.peer_id[pstart] + 1)
    size = pend - pstart
    if f.func == "percent_rank":
        rank0 = (lay.peer_start - pstart).astype(np.float64)
        denom = xp.maximum(size - 1, 1).astype(np.float64)
        return lay.column(t.float64, xp.where(size > 1, rank0 / denom, 0.0))
    if f.func == "cume_dist":
        return lay.column(t.float64, (lay.peer_end - pstart) / size.astype(np.float64))
    # ntile: the first (size % k) buckets get one row more (SQL's and DuckDB's split)
    r = pos - pstart
    k = xp.minimum(size, int(f.offset))
    q = size // xp.maximum(k, 1)
    large = size - k * q
    split = large * (q + 1)
    bucket = xp.where(r < split, r // (q + 1), large + (r - split) // xp.maximum(q, 1))
    return lay.column(t.int64, bucket + 1)


def _clip_offset(k: int, n: int) -> int:
    return max(-(n + 1), min(n + 1, int(k)))


def _shift(lay: _Layout, f: WindowFunc, col: Column) -> Column:
    xp = lay.xp
    k = _clip_offset(f.offset if f.func == "lag" else -f.offset, lay.n)
    src = lay.pos - k
    inside = (src >= lay.pstart) & (src < lay.pend)
    rows = xp.where(inside, lay.perm[xp.clip(src, 0, max(lay.n - 1, 0))], -1)
    rows = lay.back(rows)
    if f.default is None:
        return col.take(rows, nullable=True)
    default = _default_column(col, f.default)
    both = concat_columns([col, default])
    return both.take(xp.where(rows < 0, lay.n, rows))


def _default_column(col: Column, value: Any) -> Column:
    try:
        return Column.full(1, value, col.dtype, col.device)
    except (pa.ArrowInvalid, pa.ArrowTypeError, builtins.TypeError, ValueError,
            OverflowError) as e:
        msg = (f"lag/lead default {value!r} does not fit column type {col.dtype}; pass a "
               f"default of that type or cast the column first ({e})")
        raise XTypeError(msg) from e


# -- frames -------------------------------------------------------------------------------------
def _frame(lay: _Layout, f: WindowFunc) -> tuple[Any, Any, bool]:
    """Inclusive sorted bounds ``[lo, hi]`` of each row's frame, clipped to its partition.

    An empty frame is returned as ``lo = pos, hi = pos - 1``. ``running`` is True when every
    non-empty frame starts at its partition's start.
    """
    xp = lay.xp
    pos, pstart, pend = lay.pos, lay.pstart, lay.pend
    if f.frame is None:
        start, end = None, 0
        lo, hi = pstart, lay.peer_end - 1
    elif f.frame_type == "range":
        start, end = f.frame
        lo = pstart if start is None else lay.peer_start
        hi = pend - 1 if end is None else lay.peer_end - 1
    else:
        start, end = f.frame
        lo = pstart if start is None else xp.maximum(pos + _clip_offset(start, lay.n), pstart)
        hi = pend - 1 if end is None else xp.minimum(pos + _clip_offset(end, lay.n), pend - 1)
    empty = lo > hi
    lo = xp.where(empty, pos, lo)
    hi = xp.where(empty, pos - 1, hi)
    return lo, hi, start is None


def _value(lay: _Layout, f: WindowFunc, col: Column, lo: Any, hi: Any) -> Column:
    xp = lay.xp
    length = hi - lo + 1
    if f.func == "first_value":
        idx, ok = lo, length > 0
    elif f.func == "last_value":
        idx, ok = hi, length > 0
    else:
        idx, ok = lo + (int(f.offset) - 1), length >= int(f.offset)
    rows = xp.where(ok, lay.perm[xp.clip(idx, 0, max(lay.n - 1, 0))], -1)
    return col.take(lay.back(rows), nullable=True)


def _prefix(xp: Any, x: Any) -> Any:
    return xp.concatenate([xp.zeros(1, dtype=x.dtype), xp.cumsum(x)])


def _frame_count(xp: Any, mask: Any, lo: Any, hi: Any) -> Any:
    """Number of True in ``mask[lo..hi]`` per row (int64)."""
    p = _prefix(xp, mask.astype(np.int64))
    return p[hi + 1] - p[lo]


def _aggregate(lay: _Layout, f: WindowFunc, col: Column | None, lo: Any, hi: Any,
               running: bool) -> Column:
    xp = lay.xp
    length = hi - lo + 1
    if col is None:  # count_star
        return lay.column(t.int64, length)
    data, valid = lay.sorted_values(col)
    cnt = length if valid is None else _frame_count(xp, valid, lo, hi)
    if f.func == "count":
        return lay.column(t.int64, cnt)
    dt = col.dtype
    if f.func in ("min", "max"):
        return _minmax(lay, f.func, col, data, valid, lo, hi, running, cnt)
    summable = dt.is_numeric or dt.is_bool or (f.func == "sum" and dt.kind == "duration")
    if not summable:
        msg = (f"window {f.func}({f.column}) needs a numeric column, got type {dt}; cast it "
               "to a number first")
        raise XTypeError(msg)
    has = cnt > 0
    if valid is not None:
        data = xp.where(valid, data, xp.zeros(1, dtype=data.dtype))
    if f.func == "mean":
        if dt.is_float:
            s = _float_sum(lay, data.astype(np.float64), lo, hi, running)
        else:
            # exact int64 sums, and float64 sums only where those overflow
            exact, approx, wrapped = _int_sum(lay, data, lo, hi, running)
            s = exact.astype(np.float64)
            if wrapped is not None:
                s = xp.where(wrapped, approx, s)
        if dt.is_decimal:
            s = s / float(10**dt.scale)
        with np.errstate(all="ignore"):
            return lay.column(t.float64, s / xp.maximum(cnt, 1), has)
    if dt.is_float:
        return lay.column(t.float64, _float_sum(lay, data.astype(np.float64), lo, hi, running),
                          has)
    s, _, wrapped = _int_sum(lay, data, lo, hi, running)
    if wrapped is not None and lay.scalar(wrapped.sum()):
        row = lay.scalar(xp.nonzero(lay.back(wrapped))[0][0])
        msg = (f"integer overflow in window sum({f.column}) at row {row}: the frame sum "
               "exceeds int64; cast the column to float64 (or decimal) first")
        raise ExecutionError(msg)
    out_type = dt if (dt.kind == "duration") else (
        t.decimal(t.MAX_DECIMAL_PRECISION, dt.scale) if dt.is_decimal else t.int64)
    return lay.column(out_type, s, has)


def _int_sum(lay: _Layout, data: Any, lo: Any, hi: Any,
             running: bool) -> tuple[Any, Any, Any]:
    """Int64 frame sums, exact wherever the sum fits int64.

    Returns ``(sums, approx, wrapped)``: where the values could overflow, ``approx`` holds
    float64 sums and ``wrapped`` marks the frames whose int64 sum wrapped around (both None
    when no frame can overflow).
    """
    xp = lay.xp
    p = _prefix(xp, data.astype(np.int64))
    s = p[hi + 1] - p[lo]  # modular: exact whenever the true sum fits int64
    if lay.n == 0:
        return s, None, None
    big = max(lay.scalar(data.max()), -lay.scalar(data.min()))
    max_len = lay.scalar((hi - lo + 1).max())
    if big * max_len < 2**63:
        return s, None, None
    # the float64 sum lies far closer than 2**62 to the true sum; a wrapped int64 sum is
    # 2**64 away from it
    approx = _float_sum(lay, data.astype(np.float64), lo, hi, running)
    return s, approx, xp.abs(s.astype(np.float64) - approx) > 2.0**62


def _float_sum(lay: _Layout, x: Any, lo: Any, hi: Any, running: bool) -> Any:
    xp = lay.xp
    with np.errstate(all="ignore"):  # inf - inf and friends give NaN as they should
        if running:
            scan = segmented_scan(xp, x, lay.part_flags, "add")
            return xp.where(hi >= lo, scan[xp.maximum(hi, 0)], 0.0)
        return frame_reduce(xp, x, lo, hi, "add")


def _minmax(lay: _Layout, func: str, col: Column, data: Any, valid: Any, lo: Any, hi: Any,
            running: bool, cnt: Any) -> Column:
    xp = lay.xp
    dt = col.dtype
    op = "minimum" if func == "min" else "maximum"
    nan_only = None
    if dt.is_float:
        if func == "min":
            # NaN sorts above every number: min skips it unless the frame holds only NaN
            isnum = ~xp.isnan(data) if valid is None else valid & ~xp.isnan(data)
            x = xp.where(isnum, data, data.dtype.type(np.inf))
            nan_only = (_frame_count(xp, isnum, lo, hi) == 0) & (cnt > 0)
        else:
            x = data if valid is None else xp.where(valid, data, data.dtype.type(-np.inf))
    else:
        x = data.astype(np.int8) if dt.is_bool else data
        if valid is not None:
            info = np.iinfo(x.dtype)
            fill = x.dtype.type(info.max if func == "min" else info.min)
            x = xp.where(valid, x, fill)
    with np.errstate(all="ignore"):
        if running:
            res = segmented_scan(xp, x, lay.part_flags, op)[xp.maximum(hi, 0)]
        else:
            res = frame_reduce(xp, x, lo, hi, op)
    if nan_only is not None:
        res = xp.where(nan_only, data.dtype.type(np.nan), res)
    return lay.column(dt, res.astype(dt.physical), cnt > 0, col.dictionary)


# -- scans over frames (portable; NumPy shortcuts where they are correct) -------------------------
def _identity(op: str, dtype: np.dtype) -> Any:
    if op == "add":
        return dtype.type(0)
    big = np.inf if dtype.kind == "f" else np.iinfo(dtype).max
    small = -np.inf if dtype.kind == "f" else np.iinfo(dtype).min
    return dtype.type(big if op == "minimum" else small)


def segmented_scan(xp: Any, values: Any, seg_start: Any, op: str, *,
                   portable: bool = False) -> Any:
    """Inclusive running ``op`` of ``values`` restarting at every segment start.

    Parameters
    ----------
    xp : module
        NumPy or CuPy.
    values : array
    seg_start : array of bool
        True at the first element of each segment (element 0 must be True).
    op : {"add", "minimum", "maximum"}
    portable : bool
        Force the branch CuPy runs (log-step doubling) on NumPy too, for tests.

    Notes
    -----
    NumPy with a single segment uses ``ufunc.accumulate`` (a sequential sum, as pandas'
    ``cumsum``). Otherwise the scan is Hillis-Steele doubling restricted to the segment:
    ceil(log2(longest segment)) whole-array steps, sums in a tree order that never mixes
    segments.

    Examples
    --------
    >>> import numpy as np
    >>> segmented_scan(np, np.array([1, 2, 3, 4]), np.array([True, False, True, False]),
    ...                "add", portable=True).tolist()
    [1, 3, 3, 7]
    """
    n = values.shape[0]
    fn = getattr(xp, op)
    if n == 0:
        return values.copy()
    starts = xp.nonzero(seg_start)[0]
    if _xp.is_numpy(xp) and not portable and starts.shape[0] == 1:
        return fn.accumulate(values)
    bounds = xp.concatenate([starts, xp.full(1, n, dtype=starts.dtype)])
    longest = int(_xp.to_host(xp, xp.diff(bounds).max()))
    seg = xp.cumsum(seg_start.astype(np.int64))
    out = values.copy()
    k = 1
    while k < longest:
        same = seg[k:] == seg[:-k]
        out[k:] = xp.where(same, fn(out[:-k], out[k:]), out[k:])
        k *= 2
    return out


def frame_reduce(xp: Any, values: Any, lo: Any, hi: Any, op: str) -> Any:
    """``op`` over ``values[lo[i]..hi[i]]`` (inclusive) for every i; the identity where
    ``lo[i] > hi[i]``.

    Each frame is covered by the power-of-two blocks of its length's binary digits, taken
    from left to right; level b's block sums are built from level b-1 by one shifted
    ``op``. Work is O(n log(longest frame)), memory O(n), no subtraction (so no
    cancellation), the same code on NumPy and CuPy.

    Parameters
    ----------
    xp : module
    values : array
    lo, hi : int64 arrays
        Inclusive bounds in ``[0, len(values))`` (``hi = lo - 1`` for an empty frame).
    op : {"add", "minimum", "maximum"}

    Examples
    --------
    >>> import numpy as np
    >>> frame_reduce(np, np.array([5, 1, 4, 2]), np.array([0, 1, 2, 3]),
    ...              np.array([2, 3, 1, 3]), "maximum").tolist()
    [5, 4, -9223372036854775808, 2]
    """
    fn = getattr(xp, op)
    n = values.shape[0]
    acc = xp.full(lo.shape[0], _identity(op, values.dtype), dtype=values.dtype)
    if n == 0 or lo.shape[0] == 0:
        return acc
    length = xp.maximum(hi - lo + 1, 0)
    longest = int(_xp.to_host(xp, length.max()))
    block = values
    cur = lo
    width = 1
    while width <= longest:
        take = (length & width) != 0
        acc = xp.where(take, fn(acc, block[xp.where(take, cur, 0)]), acc)
        cur = cur + xp.where(take, width, 0)
        if 2 * width <= longest:
            nxt = block.copy()
            nxt[: n - width] = fn(block[: n - width], block[width:])
            block = nxt
        width *= 2
    return acc


_ROW = "__xpdb_window_row__"


def window_sharded(
    data: ShardedTable,
    partition_by: Sequence[str],
    order_by: Sequence[str],
    funcs: Sequence[WindowFunc],
    *,
    descending: bool | Sequence[bool] = False,
    nulls_last: bool | Sequence[bool] = True,
    num_parts: int | None = None,
) -> ShardedTable:
    """:func:`window` over a sharded table, by an exchange on the partition keys.

    Rows are hash-partitioned on ``partition_by`` into ``num_parts`` parts (default: one per
    shard), so each window partition lies whole in one part; the parts run concurrently
    (:func:`xpdb.shards.map_shards`), and the results go back to the input's row order and
    shard sizes. Without ``partition_by`` every row is in one window partition, so the shards
    are gathered first. Equal to ``window(data.concat(), ...)`` split like ``data``.
    """
    sizes = [s.num_rows for s in data.shards]
    kw = {"descending": descending, "nulls_last": nulls_last}
    if not partition_by or data.num_shards == 1:
        return _split_like(window(data.concat(), partition_by, order_by, funcs, **kw), sizes)
    if _ROW in data.names:
        raise XpdbError(f"column name {_ROW!r} is reserved by window_sharded")
    xp = data.device.xp
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    tagged = [s.with_column(_ROW, Column(t.int64, xp.arange(offsets[i], offsets[i + 1],
                                                             dtype=np.int64), None, None,
                                         data.device))
              for i, s in enumerate(data.shards)]
    parts = exchange(tagged, partition_by, num_parts or data.num_shards)
    done = map_shards(lambda p: window(p, partition_by, order_by, funcs, **kw), parts,
                      data.device)
    out = concat_tables(done)
    order = _xp.argsort_bounded(xp, out.column(_ROW).data, int(offsets[-1]))
    return _split_like(out.take(order).drop([_ROW]), sizes)


def _split_like(table: Table, sizes: Sequence[int]) -> ShardedTable:
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return ShardedTable([table.slice(int(bounds[i]), int(bounds[i + 1]))
                         for i in range(len(sizes))])
