"""Integer codes of key columns: the shared front end of group-by, join, sort and distinct.

:func:`order_codes` maps one column to int64 codes in ``[0, cardinality)`` whose order is the
column's sort order (ascending or descending, nulls first or last). :func:`combine` folds the
codes of several columns into one int64 id per row, lexicographic in the keys, compacted to
``[0, n_groups)``. So one stable argsort of the ids sorts by every key, and equal ids are
equal keys.

Codes come from the cheapest source that keeps order: string dictionary codes (the
dictionary is sorted), bools, integers of a small range (value - min), and otherwise a
sort-based ``unique``. NaN is one value, greater than every number; -0.0 equals 0.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..column import Column, concat_columns, unify_dictionaries
from ..errors import TypeError as XTypeError
from . import _xp

# A value range up to this many times the row count (and at least this floor) is coded
# directly as value - min; wider ranges go through a sort-based unique.
_DENSE_FACTOR = 4
_DENSE_FLOOR = 1 << 16
_INT63 = 1 << 62


@dataclass
class Codes:
    """Order-preserving codes of one or more key columns."""

    ids: Any  # int64 array, one per row
    n: int  # ids lie in [0, n)


def _reject_geometry(col: Column, what: str) -> None:
    """Geometry columns hold ids into their geometry array: they have no order and equal
    shapes may have other ids, so they cannot be keys."""
    if col.dtype.kind == "geometry":
        raise XTypeError(
            f"cannot {what} a geometry column: geometries have no order, and equality of "
            "shapes is ST_Equals, not a key; use a key column, or ST_AsText(geom) / "
            "ST_X/ST_Y for a value to sort or group by")


def order_codes(col: Column, descending: bool = False, nulls_last: bool = True) -> Codes:
    """Codes of one column whose ascending order is the requested sort order.

    Parameters
    ----------
    col : Column
    descending : bool
        Reverse the order of values (nulls are placed by ``nulls_last`` alone).
    nulls_last : bool
        Nulls after (True) or before (False) every value.
    """
    _reject_geometry(col, "sort, group or join by")
    xp = col.xp
    dt = col.dtype
    n_rows = len(col)
    data = col.data
    if dt.is_string:
        codes, card = data.astype(np.int64), len(col.dictionary)
    elif dt.is_bool:
        codes, card = data.astype(np.int64), 2
    elif dt.is_float:
        codes, card = _unique_codes(xp, data, col.validity)
    elif dt.is_integer or dt.is_temporal or dt.is_decimal:
        codes, card = _integer_codes(col, n_rows)
    else:  # pragma: no cover - every logical type is covered above
        raise XTypeError(f"cannot use a column of type {dt} as a key")
    if descending:
        codes = (card - 1) - codes
    if col.validity is not None:
        if nulls_last:
            codes = xp.where(col.validity, codes, card)
        else:
            codes = xp.where(col.validity, codes + 1, 0)
        card += 1
    return Codes(codes, max(card, 1))


def _integer_codes(col: Column, n_rows: int) -> tuple[Any, int]:
    xp = col.xp
    data = col.data
    if n_rows == 0:
        return xp.zeros(0, np.int64), 1
    valid = col.validity
    if valid is not None:
        # null slots hold arbitrary values: take min/max over valid rows only
        nvalid = int(col.device.scalar(valid.sum()))
        if nvalid == 0:
            return xp.zeros(n_rows, np.int64), 1
        lo_v = xp.where(valid, data, _max_of(data)).min()
        hi_v = xp.where(valid, data, _min_of(data)).max()
    else:
        lo_v, hi_v = data.min(), data.max()
    lo, hi = int(col.device.scalar(lo_v)), int(col.device.scalar(hi_v))
    span = hi - lo + 1
    if span <= max(_DENSE_FACTOR * n_rows, _DENSE_FLOOR):
        if data.dtype.kind == "u" or data.dtype.itemsize < 8:
            codes = data.astype(np.int64) - lo
        else:
            codes = (data - np.int64(lo)).astype(np.int64)
        if valid is not None:
            codes = xp.where(valid, codes, 0)
        return codes, span
    return _unique_codes(xp, data, valid)


def _max_of(data: Any) -> Any:
    info = np.iinfo(data.dtype)
    return data.dtype.type(info.max)


def _min_of(data: Any) -> Any:
    info = np.iinfo(data.dtype)
    return data.dtype.type(info.min)


def _unique_codes(xp: Any, data: Any, valid: Any) -> tuple[Any, int]:
    if data.shape[0] == 0:
        return xp.zeros(0, np.int64), 1
    if valid is not None:
        # keep nulls out of the unique set: give them the first valid value
        data = xp.where(valid, data, xp.zeros_like(data[:1]))
    if data.dtype.kind == "f":
        data = data + 0.0  # -0.0 -> 0.0 so both land in one group
    uniq, inv = xp.unique(data, return_inverse=True)
    return inv.reshape(-1).astype(np.int64, copy=False), int(uniq.shape[0])


def combine(parts: Sequence[Codes], compact: bool = True) -> Codes:
    """Fold per-column codes into one id per row, lexicographic in ``parts``.

    With ``compact`` the ids are renumbered to ``[0, n_groups)`` keeping their order.
    """
    if not parts:
        raise XTypeError("combine needs at least one key")
    ids, n = parts[0].ids, parts[0].n
    for p in parts[1:]:
        if n * p.n >= _INT63:
            ids, n = _compact(ids, n)
        ids = ids * p.n + p.ids
        n = n * p.n
    if compact:
        ids, n = _compact(ids, n)
    return Codes(ids, n)


def _compact(ids: Any, n: int) -> tuple[Any, int]:
    xp = _namespace(ids)
    rows = ids.shape[0]
    if rows == 0:
        return ids, 0
    if n <= max(_DENSE_FACTOR * rows, _DENSE_FLOOR):
        present = _xp.bincount(xp, ids, n) > 0
        new = xp.cumsum(present) - 1
        n_groups = int(_to_host(xp, new[-1])) + 1
        return new[ids].astype(np.int64, copy=False), n_groups
    uniq, inv = xp.unique(ids, return_inverse=True)
    return inv.reshape(-1).astype(np.int64, copy=False), int(uniq.shape[0])


def _namespace(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        return np
    from ..device import device_of

    return device_of(a).xp


def _to_host(xp: Any, a: Any) -> Any:
    return a if _xp.is_numpy(xp) else a.get()


def factorize(columns: Sequence[Column], nulls_last: bool = True, compact: bool = True) -> Codes:
    """Group ids of rows by the values of ``columns``, in sorted key order.

    Two rows get one id exactly when every key is equal (null equal to null, as in GROUP BY).
    Ids ascend with the keys (each ascending, nulls last by default). With
    ``compact=False`` the ids are not renumbered: they lie in ``[0, n)`` where ``n`` is the
    product of the key cardinalities and some ids may be unused; a caller that aggregates
    into ``n`` bins directly and drops the empty ones saves a gather over every row.

    Examples
    --------
    >>> import numpy as np
    >>> from xpdb.column import Column
    >>> c = factorize([Column.from_pylist(["b", "a", None, "b"])])
    >>> c.ids.tolist(), c.n
    ([1, 0, 2, 1], 3)
    """
    return combine([order_codes(c, nulls_last=nulls_last) for c in columns], compact=compact)


def group_first_row(ids: Any, n_groups: int) -> Any:
    """For each group id, the smallest row index holding it (int64)."""
    xp = _namespace(ids)
    rows = ids.shape[0]
    out = xp.full(n_groups, rows, dtype=np.int64)
    if rows:
        _xp.scatter_min(xp, out, ids, xp.arange(rows, dtype=np.int64))
    return out


def align_key_columns(left: Column, right: Column) -> tuple[Column, Column]:
    """Make two key columns comparable: one dictionary for strings, one type for numbers."""
    if left.dtype.is_string != right.dtype.is_string:
        raise XTypeError(f"cannot compare keys of types {left.dtype} and {right.dtype}")
    if left.dtype.is_string:
        a, b = unify_dictionaries([left, right])
        return a, b
    if left.dtype == right.dtype:
        return left, right
    from ..types import common_numeric
    from .cast import cast

    if left.dtype.is_temporal or right.dtype.is_temporal:
        if left.dtype.kind != right.dtype.kind:
            raise XTypeError(f"cannot compare keys of types {left.dtype} and {right.dtype}")
        # the finer unit wins: ns > us > ms > s
        order = {"s": 0, "ms": 1, "us": 2, "ns": 3, None: 0}
        target = left.dtype if order[left.dtype.unit] >= order[right.dtype.unit] else right.dtype
    else:
        target = common_numeric(left.dtype, right.dtype)
    return cast(left, target), cast(right, target)


def joint_factorize(
    left: Sequence[Column], right: Sequence[Column]
) -> tuple[Any, Any, int]:
    """Ids of the left and right rows such that equal ids mean equal keys (join keys).

    A row with a null in any key gets id -1 (left) or -2 (right): nulls never match.
    """
    if len(left) != len(right) or not left:
        raise XTypeError("join needs the same, non-zero number of keys on both sides")
    nl = len(left[0])
    parts = []
    lnull = rnull = None
    for lcol, rcol in zip(left, right, strict=True):
        lc, rc = align_key_columns(lcol, rcol)
        both = concat_columns([lc, rc])
        parts.append(order_codes(both))
        if lc.validity is not None:
            lnull = ~lc.validity if lnull is None else lnull | ~lc.validity
        if rc.validity is not None:
            rnull = ~rc.validity if rnull is None else rnull | ~rc.validity
    codes = combine(parts)
    xp = left[0].xp
    lid, rid = codes.ids[:nl], codes.ids[nl:]
    if lnull is not None:
        lid = xp.where(lnull, -1, lid)
    if rnull is not None:
        rid = xp.where(rnull, -2, rid)
    return lid, rid, codes.n
