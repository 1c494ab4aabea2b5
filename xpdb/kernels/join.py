"""Equi-joins: the matching row indices of two tables, and the joined table.

Algorithm (a build/probe join over dense integer ids)
------------------------------------------------------
The right table is the **build** side (the left one for ``how="right"``); the other side
**probes** it. Nothing on the probe side is ever sorted.

1. *Key codes.* Each key pair is mapped to int64 codes that are equal exactly when the keys
   are; the build column fixes the code domain and probe values outside it get -1 (no match):

   - strings: the build dictionary codes. The probe dictionary is mapped onto the build one
     on the host (``pyarrow.compute.index_in``, dictionary-sized work), then the probe codes
     go through that small table in one device gather; no side is recoded into a union.
   - integers, bools, dates, timestamps, decimals: ``value - min`` when the build side's
     value range is dense (up to 4x its rows, or up to 2**22 for a large probe side); else
     the rank among the build side's distinct values (``unique`` on the build side; on the
     probe side a hash lookup with pyarrow on the CPU, ``searchsorted`` on the GPU).
   - floats: ranks as above. NaN equals NaN and -0.0 equals 0.0 (DuckDB, pandas).

   Integers of different widths compare exactly (uint64 included); other type pairs are cast
   to one type first (decimal scales, timestamp units, int with float: the rules of
   :func:`xpdb.kernels.keys.align_key_columns`). Null keys get -1 (never match, SQL) or, with
   ``nulls_equal``, a code of their own (null matches null, as pandas ``merge`` does).
2. *Several keys* fold into one id by mixed radix; when the product of the domains would
   overflow int64 or exceed the dense bound, the ids are renumbered against the build side's
   distinct ids.
3. *Build.* ``bincount`` of the build ids gives each key's run length. When every build key is
   unique (dimension tables, the db-benchmark joins) a lookup table id -> build row answers
   each probe row with one gather. Otherwise a stable sort of the build ids (a packed
   key-and-row sort, :func:`xpdb.kernels._xp.argsort_bounded`) and the exclusive ``cumsum`` of
   the counts give each key's run of build rows, in build row order.
4. *Probe and expand.* Each probe row reads its run (count, start); matches expand with
   ``repeat`` plus ``arange`` arithmetic, with no Python loop over rows or keys.

Cost: O(n_build) to build (plus a sort of the build side for sparse keys or duplicate build
keys), O(n_probe) to probe (a hash lookup or binary search per row for sparse keys), O(output)
to expand; memory O(domain) <= 4 x n_build int64 for the lookup tables.

Build side: the right side (the left for ``how="right"``), which yields the documented order
with no reordering. When the right side is more than 4x longer than the left, inner, semi and
anti joins build on the left instead: a sparse or duplicated right key then costs a hash probe
rather than a sort of the long side (measured 4-12x faster for 1e5 x 1e7 rows with sparse
keys, about even with dense keys). Semi/anti need no reordering (a per-left-row hit flag);
inner pairs come out in right order and one packed sort by left row (O(output)) restores
left-major order. Left and outer joins keep the right as build side.

Row order
---------
- ``inner``, ``left``, ``semi``, ``anti``: left row order; for one left row, its matches in
  right row order (pandas ``merge`` order for inner and left).
- ``right``: right row order; for one right row, its matches in left row order (pandas).
- ``outer`` (alias ``full``): the rows of the left join, then the unmatched right rows in right
  order. pandas sorts an outer merge by key; the DataFrame layer sorts where it must.
- ``cross``: left-major (every right row for left row 0, then for left row 1...).

Indices are int64 arrays on the tables' device; -1 marks the missing side of an outer row
(materialize with ``Table.take(idx, nullable=True)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import types as t
from ..column import Column
from ..errors import BindError, ExecutionError
from ..errors import TypeError as XTypeError
from ..shards import ShardedTable, as_shards, map_shards
from ..table import Table
from . import _xp

HOWS = ("inner", "left", "right", "outer", "semi", "anti", "cross")
_ALIASES = {"full": "outer", "full_outer": "outer", "left_outer": "left",
            "right_outer": "right", "left_semi": "semi", "left_anti": "anti"}

# A key domain (value range, or product of code ranges) up to _DENSE_FACTOR x the build
# rows gets direct lookup tables; so does one up to _LUT_FLOOR entries when the probe side is
# at least a quarter that long (the table then costs less than the probe). 16M entries
# (128 MB of int64): TPC-H SF1's order keys (6M) against a 6M-row lineitem probe then take a
# subtraction instead of a hash lookup (Q5 406 -> 180 ms, Q9 540 -> 352 ms on 2 cores).
_DENSE_FACTOR = 4
_LUT_FLOOR = 1 << 24
# inner/semi/anti joins build on the left when the right is this many times longer
_SWAP_FACTOR = 4
_INT62 = 1 << 62
_SIGN = np.int64(-(1 << 63))


def normalize_how(how: str) -> str:
    """The canonical join type for ``how`` (``full`` -> ``outer``...)."""
    h = _ALIASES.get(str(how).lower(), str(how).lower())
    if h not in HOWS:
        msg = f"unknown join type how={how!r}; use one of {', '.join(HOWS)} (or 'full')"
        raise ExecutionError(msg)
    return h


# -- public API ------------------------------------------------------------------------------
def join_indices(
    left: Table,
    right: Table,
    left_on: Sequence[str] | str,
    right_on: Sequence[str] | str,
    how: str,
    *,
    nulls_equal: bool = False,
) -> tuple[Any, Any]:
    """Row indices of the left and right rows that ``how``-join on equal keys.

    Parameters
    ----------
    left, right : Table
        On one device.
    left_on, right_on : str or sequence of str
        Key columns, paired in order (ignored for ``how="cross"``).
    how : {"inner", "left", "right", "outer", "full", "semi", "anti", "cross"}
    nulls_equal : bool, default False
        False: a null key matches nothing (SQL). True: null matches null (pandas ``merge``).

    Returns
    -------
    (left_idx, right_idx)
        int64 arrays of equal length, -1 where an outer row has no row on that side;
        ``right_idx`` is None for semi and anti joins. Row order: see the module docstring.

    Examples
    --------
    >>> l = Table.from_pydict({"k": [1, 2, 2, None]})
    >>> r = Table.from_pydict({"k": [2, 3, 2]})
    >>> li, ri = join_indices(l, r, "k", "k", "inner")
    >>> li.tolist(), ri.tolist()
    ([1, 1, 2, 2], [0, 2, 0, 2])
    >>> li, ri = join_indices(l, r, "k", "k", "outer")
    >>> li.tolist(), ri.tolist()
    ([0, 1, 1, 2, 2, 3, -1], [-1, 0, 2, 0, 2, -1, 1])
    """
    how = normalize_how(how)
    _check_devices(left, right)
    if how == "cross":
        return _cross(left.device.xp, left.num_rows, right.num_rows)
    lcols, rcols = _key_columns(left, right, left_on, right_on)
    nl, nr = left.num_rows, right.num_rows
    if how == "right":
        build = _Build(lcols, [c.dtype for c in rcols], nulls_equal, nr)
        ridx, lidx = build.match(build.probe_ids(rcols), "left")
        return lidx, ridx
    if how in ("inner", "semi", "anti") and nl * _SWAP_FACTOR < nr:
        return _build_left(left, lcols, rcols, how, nulls_equal)
    build = _Build(rcols, [c.dtype for c in lcols], nulls_equal, nl)
    return build.match(build.probe_ids(lcols), how)


def _build_left(left: Table, lcols: list[Column], rcols: list[Column], how: str,
                nulls_equal: bool) -> tuple[Any, Any]:
    """Inner/semi/anti join built on a much smaller left side; same result and order."""
    xp = left.device.xp
    build = _Build(lcols, [c.dtype for c in rcols], nulls_equal, len(rcols[0]))
    pids = build.probe_ids(rcols)
    if how == "inner":
        # pairs come in right order (each right row's left matches in left order): a stable
        # sort by left row restores left-major order
        ridx, lidx = build.match(pids, "inner")
        order = _xp.argsort_bounded(xp, lidx, left.num_rows)
        return lidx[order], ridx[order]
    hit = build.probe_counts(pids)[build.ids] > 0
    return xp.flatnonzero(hit if how == "semi" else ~hit).astype(np.int64, copy=False), None


def join(
    left: Table,
    right: Table,
    left_on: Sequence[str] | str,
    right_on: Sequence[str] | str,
    how: str,
    *,
    nulls_equal: bool = False,
    suffixes: tuple[str | None, str | None] = ("_x", "_y"),
) -> Table:
    """Join two tables: every left column, then every right column (left only for semi/anti).

    A column name on both sides gets ``suffixes`` (pandas convention; None or "" keeps that
    side's name). Key columns are kept on both sides; merging them is the caller's choice.
    Arguments and row order as in :func:`join_indices`.

    Examples
    --------
    >>> l = Table.from_pydict({"k": [1, 2], "v": ["a", "b"]})
    >>> r = Table.from_pydict({"k": [2, 2], "v": ["x", "y"]})
    >>> join(l, r, "k", "k", "left").to_pydict()
    {'k_x': [1, 2, 2], 'v_x': ['a', 'b', 'b'], 'k_y': [None, 2, 2], 'v_y': [None, 'x', 'y']}
    """
    how = normalize_how(how)
    lidx, ridx = join_indices(left, right, left_on, right_on, how, nulls_equal=nulls_equal)
    return _materialize(left, right, lidx, ridx, how, suffixes)


def join_sharded(
    left: ShardedTable | Table,
    right: Table,
    left_on: Sequence[str] | str,
    right_on: Sequence[str] | str,
    how: str,
    *,
    nulls_equal: bool = False,
    suffixes: tuple[str | None, str | None] = ("_x", "_y"),
) -> ShardedTable:
    """Join a sharded left table with a (broadcast) right table, shard by shard.

    The right side is built once; each left shard probes it through
    :func:`xpdb.shards.map_shards` (concurrently on the CPU). The shards of the result, in
    order, hold the rows :func:`join` would return, in the same order: for ``outer`` the
    unmatched right rows form a last shard; ``right`` joins gather the left side into one
    table first (their order follows the right side) and return one shard.
    """
    how = normalize_how(how)
    data = as_shards(left)
    _check_devices(data.shards[0], right)
    if how == "right":
        return ShardedTable([join(data.concat(), right, left_on, right_on, how,
                                  nulls_equal=nulls_equal, suffixes=suffixes)])
    if how == "cross":
        return data.map(lambda s: join(s, right, left_on, right_on, how, suffixes=suffixes))
    lcols0, rcols = _key_columns(data.shards[0], right, left_on, right_on)
    build = _Build(rcols, [c.dtype for c in lcols0], nulls_equal, data.num_rows)
    lnames = _names(left_on)
    probe_how = "left" if how == "outer" else how

    def work(shard: Table) -> tuple[Table, Any]:
        pids = build.probe_ids([shard.column(n) for n in lnames])
        lidx, ridx = build.match(pids, probe_how)
        hits = build.probe_counts(pids) if how == "outer" else None
        return _materialize(shard, right, lidx, ridx, how, suffixes), hits

    results = map_shards(work, data.shards, data.device)
    shards = [r[0] for r in results]
    if how == "outer":
        hits = results[0][1]
        for r in results[1:]:
            hits = hits + r[1]
        ridx = build.unmatched(hits)
        lidx = data.device.xp.full(ridx.shape[0], -1, dtype=np.int64)
        shards.append(_materialize(data.shards[0], right, lidx, ridx, how, suffixes))
    return ShardedTable(shards)


# -- arguments and output --------------------------------------------------------------------
def _names(on: Sequence[str] | str) -> list[str]:
    return [on] if isinstance(on, str) else list(on)


def _key_columns(left: Table, right: Table, left_on: Any, right_on: Any
                 ) -> tuple[list[Column], list[Column]]:
    lnames, rnames = _names(left_on), _names(right_on)
    if len(lnames) != len(rnames) or not lnames:
        msg = (f"a join needs the same, non-zero number of keys on both sides, got "
               f"left_on={lnames!r} and right_on={rnames!r}")
        raise BindError(msg)
    return [left.column(n) for n in lnames], [right.column(n) for n in rnames]


def _check_devices(left: Table, right: Table) -> None:
    if left.device is not right.device:
        msg = (f"cannot join a table on {left.device} with one on {right.device}; move one "
               "with Table.to(device) first")
        raise ExecutionError(msg)


def _output_names(lnames: list[str], rnames: list[str],
                  suffixes: tuple[str | None, str | None]) -> tuple[list[str], list[str]]:
    common = set(lnames) & set(rnames)
    lsuf, rsuf = suffixes[0] or "", suffixes[1] or ""
    if common and not lsuf and not rsuf:
        msg = (f"columns {sorted(common)!r} are on both sides of the join but no suffix was "
               "given; pass suffixes=('_x', '_y') or rename the columns")
        raise BindError(msg)
    lout = [n + lsuf if n in common else n for n in lnames]
    rout = [n + rsuf if n in common else n for n in rnames]
    seen: set[str] = set()
    dup = sorted({n for n in lout + rout if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dup:
        msg = f"the join result would have duplicate columns {dup!r}; choose other suffixes"
        raise BindError(msg)
    return lout, rout


def _materialize(left: Table, right: Table, lidx: Any, ridx: Any, how: str,
                 suffixes: tuple[str | None, str | None]) -> Table:
    if how in ("semi", "anti"):
        return left.take(lidx)
    lout, rout = _output_names(left.names, right.names, suffixes)
    lt = left.take(lidx, nullable=how in ("right", "outer"))
    rt = right.take(ridx, nullable=how in ("left", "outer"))
    cols = list(zip(lout, lt.columns, strict=True)) + list(zip(rout, rt.columns, strict=True))
    return Table(cols, int(lidx.shape[0]), left.device)


def _cross(xp: Any, nl: int, nr: int) -> tuple[Any, Any]:
    lidx = xp.repeat(xp.arange(nl, dtype=np.int64), nr)
    ridx = xp.tile(xp.arange(nr, dtype=np.int64), nl)
    return lidx, ridx


# -- key codes -------------------------------------------------------------------------------
def _key_plan(bt: t.DataType, pt: t.DataType) -> tuple[str, t.DataType | None]:
    """The code space ("str", "int" or "float") of a key pair and the type both sides are
    cast to first (None: compared as they are)."""
    if bt.is_string or pt.is_string:
        if bt.is_string and pt.is_string:
            return "str", None
        raise XTypeError(f"cannot join a key of type {bt} with one of type {pt}; cast one first")
    intish = (bt.is_integer or bt.is_bool) and (pt.is_integer or pt.is_bool)
    if bt == pt or intish:
        return ("float" if bt.is_float else "int"), None
    if bt.is_float and pt.is_float:
        return "float", None
    if bt.is_decimal and pt.is_decimal and bt.scale == pt.scale:
        return "int", None
    if bt.is_temporal or pt.is_temporal:
        if bt.kind != pt.kind:
            msg = f"cannot join a key of type {bt} with one of type {pt}; cast one first"
            raise XTypeError(msg)
        if bt.unit == pt.unit:  # timestamps differing only in time zone: same instants
            return "int", None
        order = {"s": 0, "ms": 1, "us": 2, "ns": 3}
        return "int", bt if order[bt.unit or "s"] >= order[pt.unit or "s"] else pt
    try:
        target = t.common_numeric(bt, pt)
    except XTypeError as e:
        msg = f"cannot join a key of type {bt} with one of type {pt}; cast one first"
        raise XTypeError(msg) from e
    return ("float" if target.is_float else "int"), target


def _lookup(xp: Any, table: Any, values: Any) -> Any:
    """Position of each value in the sorted, unique ``table``; -1 where absent (int64).

    NumPy: a pyarrow hash lookup (3-5x faster than a binary search of unsorted values).
    Elsewhere: :func:`_lookup_sorted`.
    """
    if table.shape[0] == 0 or values.shape[0] == 0:
        return xp.full(values.shape[0], -1, dtype=np.int64)
    if _xp.is_numpy(xp):
        pos = pc.index_in(pa.array(values), value_set=pa.array(table))
        return pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return _lookup_sorted(xp, table, values)


def _lookup_sorted(xp: Any, table: Any, values: Any) -> Any:
    """Portable :func:`_lookup`: binary search, then an equality check."""
    pos = xp.searchsorted(table, values)
    pos = xp.minimum(pos, table.shape[0] - 1)
    return xp.where(table[pos] == values, pos, -1).astype(np.int64, copy=False)


def _unique_codes(xp: Any, values: Any, ok: Any) -> tuple[Any, Any]:
    """Sorted distinct values of the rows where ``ok`` (None: all) and each row's rank (-1
    where not ok)."""
    sel = values if ok is None else values[ok]
    uniq, inv = xp.unique(sel, return_inverse=True)
    inv = inv.reshape(-1).astype(np.int64, copy=False)
    if ok is None:
        return uniq, inv
    codes = xp.full(values.shape[0], -1, dtype=np.int64)
    codes[ok] = inv
    return uniq, codes


def _and(a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None else a & b


class _KeyEncoder:
    """Codes of one key: the build column fixes the domain, probe columns map into it."""

    def __init__(self, build: Column, probe_type: t.DataType, nulls_equal: bool, limit: int):
        self.kind, self.target = _key_plan(build.dtype, probe_type)
        phys = {build.dtype.physical, probe_type.physical}
        # compare in uint64 order when one side is uint64 (negative values then never match)
        self.unsigned = self.kind == "int" and self.target is None and np.dtype(np.uint64) in phys
        self.float_dtype = np.result_type(*phys) if self.kind == "float" and self.target is None \
            else np.dtype(np.float64)
        self._luts: dict[int, tuple[pa.Array, Any]] = {}
        build = self._cast(build)
        xp = build.xp
        self.xp, self.device = xp, build.device
        values, bad = self._values(build)
        ok = _and(build.validity, None if bad is None else ~bad)
        if self.kind == "str":
            self.dictionary = build.dictionary
            codes, card = values, max(len(build.dictionary), 1)
        elif self.kind == "int":
            codes, card = self._build_int(xp, values, ok, limit)
        else:
            codes, card = self._build_float(xp, values, ok)
        self.null_code = card if nulls_equal else -1
        card += bool(nulls_equal)
        if ok is not None:
            codes = xp.where(ok, codes, -1)
            if nulls_equal and build.validity is not None:
                codes = xp.where(build.validity, codes, self.null_code)
        self.codes, self.card = codes, card

    def _cast(self, col: Column) -> Column:
        if self.target is None or col.dtype == self.target:
            return col
        from .cast import cast

        return cast(col, self.target)

    def _values(self, col: Column) -> tuple[Any, Any]:
        """Comparable physical values and a mask of rows that can never match (or None)."""
        data = col.data
        if self.kind == "str":
            return data.astype(np.int64, copy=False), None
        if self.kind == "float":
            v = data.astype(self.float_dtype, copy=False)
            return v + v.dtype.type(0.0), None  # -0.0 -> 0.0 (the lookup hashes bits)
        if data.dtype == np.uint64:
            return data.view(np.int64) ^ _SIGN, None
        v = data.astype(np.int64, copy=False)
        if self.unsigned:
            return v ^ _SIGN, (v < 0) if data.dtype.kind == "i" else None
        return v, None

    def _build_int(self, xp: Any, v: Any, ok: Any, limit: int) -> tuple[Any, int]:
        n = int(v.shape[0])
        sel = v if ok is None else v[ok]
        if sel.shape[0] == 0:
            self.mode = "none"
            return xp.full(n, -1, dtype=np.int64), 1
        dev = self.device
        lo, hi = int(dev.scalar(sel.min())), int(dev.scalar(sel.max()))
        if hi - lo < limit:
            self.mode, self.lo, self.span = "dense", np.int64(lo), np.uint64(hi - lo + 1)
            return v - self.lo, hi - lo + 1  # wraps only on rows masked out by ok
        self.mode = "sparse"
        self.table, codes = _unique_codes(xp, v, ok)
        return codes, int(self.table.shape[0])

    def _build_float(self, xp: Any, v: Any, ok: Any) -> tuple[Any, int]:
        nan = xp.isnan(v)
        self.table, codes = _unique_codes(xp, v, _and(ok, ~nan))
        self.nan_code = int(self.table.shape[0])
        return xp.where(nan, self.nan_code, codes), self.nan_code + 1

    def probe(self, col: Column) -> Any:
        """Codes of a probe column: -1 where it cannot match, the null code for nulls."""
        xp = self.xp
        col = self._cast(col)
        if self.kind == "str":
            codes = self._probe_str(col)
            bad = None
        else:
            v, bad = self._values(col)
            if self.kind == "float":
                codes = _lookup(xp, self.table, v)
                codes = xp.where(xp.isnan(v), self.nan_code, codes)
            elif self.mode == "dense":
                # v - lo wraps around for far values; as uint64 it is below the span
                # exactly when lo <= v <= hi
                d = v - self.lo
                codes = xp.where(d.view(np.uint64) < self.span, d, -1)
            elif self.mode == "sparse":
                codes = _lookup(xp, self.table, v)
            else:
                codes = xp.full(v.shape[0], -1, dtype=np.int64)
        if bad is not None:
            codes = xp.where(bad, -1, codes)
        if col.validity is not None:
            codes = xp.where(col.validity, codes, self.null_code)
        return codes

    def _probe_str(self, col: Column) -> Any:
        xp = self.xp
        d = col.dictionary
        if d is self.dictionary or d.equals(self.dictionary):
            return col.data.astype(np.int64)
        cached = self._luts.get(id(d))
        if cached is None or cached[0] is not d:
            pos = pc.index_in(d, value_set=self.dictionary).fill_null(-1)
            lut = col.device.asarray(pos.to_numpy(zero_copy_only=False).astype(np.int64))
            cached = (d, lut)
            self._luts[id(d)] = cached
        lut = cached[1]
        if lut.shape[0] == 0:
            return xp.full(len(col), -1, dtype=np.int64)
        return lut[col.data]


class _Build:
    """The build side of a join: key encoders, id folding, and the run table of its ids."""

    def __init__(self, cols: Sequence[Column], probe_types: Sequence[t.DataType],
                 nulls_equal: bool, n_probe: int):
        nb = len(cols[0])
        self.device = cols[0].device
        xp = self.xp = self.device.xp
        limit = max(_DENSE_FACTOR * nb, min(_DENSE_FACTOR * n_probe, _LUT_FLOOR))
        self.encoders = [_KeyEncoder(c, pt, nulls_equal, limit)
                         for c, pt in zip(cols, probe_types, strict=True)]
        ids, n = self.encoders[0].codes, self.encoders[0].card
        # (compaction table or None, card) per further key, replayed on the probe side
        self.steps: list[tuple[Any, int]] = []
        for enc in self.encoders[1:]:
            table = None
            if n * enc.card >= _INT62:
                table, ids = _unique_codes(xp, ids, ids >= 0)
                n = int(table.shape[0])
            ids = _fold(xp, ids, enc.codes, enc.card)
            n *= enc.card
            self.steps.append((table, enc.card))
        self.final = None
        if n > limit:
            self.final, ids = _unique_codes(xp, ids, ids >= 0)
            n = int(self.final.shape[0])
        self.ids, self.n, self.rows = ids, max(n, 1), nb
        self._runs()

    def probe_ids(self, cols: Sequence[Column]) -> Any:
        """The folded ids of probe key columns (-1: matches nothing)."""
        xp = self.xp
        ids = self.encoders[0].probe(cols[0])
        for enc, col, (table, card) in zip(self.encoders[1:], cols[1:], self.steps, strict=True):
            if table is not None:
                ids = _lookup(xp, table, ids)
            ids = _fold(xp, ids, enc.probe(col), card)
        if self.final is not None:
            ids = _lookup(xp, self.final, ids)
        return ids

    def _runs(self) -> None:
        xp, n, ids, dev = self.xp, self.n, self.ids, self.device
        dense = self.rows == 0 or int(dev.scalar(ids.min())) >= 0
        slot = ids if dense else xp.where(ids >= 0, ids, n)
        n_valid = self.rows if dense else int(dev.scalar((ids >= 0).sum()))
        # Try a lookup table id -> build row first: right when the build keys are unique
        # (the common case), and then no counts are needed. With duplicate ids the scatter
        # keeps one row per id (which one is undefined on a GPU), so the number of filled
        # slots still tells whether the ids were unique.
        lut = xp.full(n + 1, -1, dtype=np.int64)
        lut[slot] = xp.arange(self.rows, dtype=np.int64)
        lut[n:] = -1  # id -1 reads slot n (negative index): no row
        self.unique = int(dev.scalar(xp.count_nonzero(lut >= 0))) == n_valid
        if self.unique:
            self.lut = lut
            return
        counts = _xp.bincount(xp, slot, n + 1)
        counts[n:] = 0
        self.counts = counts
        order = _xp.argsort_bounded(xp, slot, n + 1)
        # position self.rows holds -1: the "no match" row of a left join
        self.order = xp.concatenate([order, xp.full(1, -1, dtype=np.int64)])
        self.starts = xp.cumsum(counts) - counts

    def match(self, pids: Any, how: str) -> tuple[Any, Any]:
        """(probe_idx, build_idx) of an inner/left/outer/semi/anti join of the probe rows."""
        xp = self.xp
        npr = int(pids.shape[0])
        if how in ("semi", "anti"):
            hit = self.lut[pids] >= 0 if self.unique else self.counts[pids] > 0
            return xp.flatnonzero(hit if how == "semi" else ~hit).astype(np.int64, copy=False), None
        if self.unique:
            bidx = self.lut[pids]
            if how == "inner":
                pidx = xp.flatnonzero(bidx >= 0).astype(np.int64, copy=False)
                bidx = bidx[pidx]
            else:
                pidx = xp.arange(npr, dtype=np.int64)
        else:
            cnt = self.counts[pids]
            if how == "inner":  # expand only the probe rows that match
                rows = xp.flatnonzero(cnt).astype(np.int64, copy=False)
                pidx, bidx = _expand(xp, self.device, cnt[rows], self.starts[pids[rows]],
                                     self.order, rows)
            else:
                found = cnt > 0
                cnt = xp.where(found, cnt, 1)
                start = xp.where(found, self.starts[pids], self.rows)
                pidx, bidx = _expand(xp, self.device, cnt, start, self.order)
        if how == "outer":
            extra = self.unmatched(self.probe_counts(pids))
            pidx = xp.concatenate([pidx, xp.full(extra.shape[0], -1, dtype=np.int64)])
            bidx = xp.concatenate([bidx, extra])
        return pidx, bidx

    def probe_counts(self, pids: Any) -> Any:
        """How many probe rows hold each id (slot n, for id -1, kept at zero)."""
        xp, n = self.xp, self.n
        counts = _xp.bincount(xp, xp.where(pids >= 0, pids, n), n + 1)
        counts[n:] = 0
        return counts

    def unmatched(self, probe_counts: Any) -> Any:
        """Build rows, in order, whose key no probe row holds."""
        return self.xp.flatnonzero(probe_counts[self.ids] == 0).astype(np.int64, copy=False)


def _fold(xp: Any, ids: Any, codes: Any, card: int) -> Any:
    return xp.where((ids >= 0) & (codes >= 0), ids * card + codes, -1)


def _expand(xp: Any, dev: Any, cnt: Any, start: Any, order: Any, rows: Any = None
            ) -> tuple[Any, Any]:
    """Probe row ``rows[i]`` (default i) repeated cnt[i] times, beside build rows
    ``order[start[i] : start[i] + cnt[i]]``."""
    npr = int(cnt.shape[0])
    if npr == 0:
        empty = xp.zeros(0, dtype=np.int64)
        return empty, empty
    ends = xp.cumsum(cnt)
    total = int(dev.scalar(ends[-1]))
    if rows is None:
        rows = xp.arange(npr, dtype=np.int64)
    pidx = xp.repeat(rows, cnt)
    shift = xp.repeat(start - (ends - cnt), cnt)
    bidx = order[xp.arange(total, dtype=np.int64) + shift]
    return pidx, bidx
