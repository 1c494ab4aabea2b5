"""pandas' ``merge`` on xpdb's join kernels: pandas' output columns and row order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..column import Column
from ..errors import TypeError as XTypeError
from ..errors import XpdbError
from ..kernels import keys
from ..table import Table
from ._convert import kernel, nan_as_null

_HOWS = ("inner", "left", "right", "outer", "cross")


def merge(left: Any, right: Any, how: str = "inner", on: Any = None, left_on: Any = None,
          right_on: Any = None, suffixes: tuple[str, str] = ("_x", "_y")) -> Any:
    """Join two DataFrames the way ``pandas.merge`` does.

    Parameters
    ----------
    left, right : DataFrame
    how : {"inner", "left", "right", "outer", "cross"}
    on : str or list of str, optional
        Key columns present in both frames. Without ``on``/``left_on``/``right_on`` the
        columns the frames share are the keys.
    left_on, right_on : str or list of str, optional
        Key columns of each side (same count).
    suffixes : (str, str)
        Added to non-key column names present on both sides.

    Returns
    -------
    DataFrame
        Columns as pandas gives them: left columns, then right columns; a key of the same
        name on both sides appears once (for ``outer``, coalesced from both sides), keys of
        different names appear both. Missing keys (null, NaN) match each other, as in
        pandas. Rows: ``inner``/``left`` in left order (matches of one left row in right
        order), ``right`` in right order, ``outer`` sorted by the keys (missing last).

    Examples
    --------
    >>> from xpdb.frame import DataFrame
    >>> a = DataFrame({"k": [1, 2, 3], "x": ["a", "b", "c"]}, device="cpu")
    >>> b = DataFrame({"k": [3, 1], "y": [30, 10]}, device="cpu")
    >>> a.merge(b, on="k").to_dict()
    {'k': [1, 3], 'x': ['a', 'c'], 'y': [10, 30]}
    """
    from .dataframe import DataFrame

    if not isinstance(right, DataFrame):
        right = DataFrame(right, device=left.device)
    if how not in _HOWS:
        raise XTypeError(f"how={how!r} must be one of {list(_HOWS)}")
    if right.device is not left.device:
        msg = f"cannot merge frames on {left.device} and {right.device}; move one with .to()"
        raise XpdbError(msg)
    lt, rt = left._table, right._table
    if how == "cross":
        if on is not None or left_on is not None or right_on is not None:
            raise XTypeError("a cross merge takes no keys (on/left_on/right_on)")
        lidx, ridx = _cross(lt, rt)
        return DataFrame._from_table(_assemble(lt, rt, lt, rt, lidx, ridx, [], [], how,
                                               suffixes))
    lkeys, rkeys = _resolve_keys(lt, rt, on, left_on, right_on)
    lk = Table([(n, nan_as_null(lt.column(n))) for n in lkeys], len(lt), lt.device)
    rk = Table([(n, nan_as_null(rt.column(n))) for n in rkeys], len(rt), rt.device)
    lk, rk = _typed_null_keys(lk, rk, lkeys, rkeys)
    join = kernel("join", "merge")
    lidx, ridx = join.join_indices(lk, rk, lkeys, rkeys, how, nulls_equal=True)
    lidx, ridx = _pandas_order(lk, rk, lkeys, rkeys, lidx, ridx, how)
    return DataFrame._from_table(_assemble(lt, rt, lk, rk, lidx, ridx, lkeys, rkeys, how,
                                           suffixes))


def _as_list(keys_: Any) -> list[str]:
    if keys_ is None:
        return []
    return [keys_] if isinstance(keys_, str) else list(keys_)


def _resolve_keys(lt: Table, rt: Table, on: Any, left_on: Any,
                  right_on: Any) -> tuple[list[str], list[str]]:
    if on is not None:
        if left_on is not None or right_on is not None:
            raise XTypeError("pass either on= or left_on=/right_on=, not both")
        lkeys = rkeys = _as_list(on)
    elif left_on is not None or right_on is not None:
        lkeys, rkeys = _as_list(left_on), _as_list(right_on)
        if len(lkeys) != len(rkeys):
            msg = f"left_on has {len(lkeys)} keys and right_on {len(rkeys)}; they must match"
            raise XTypeError(msg)
    else:
        lkeys = rkeys = [n for n in lt.names if n in rt]
        if not lkeys:
            msg = (
                "the frames share no column to merge on; pass on=, or left_on= and "
                "right_on=, or how='cross'"
            )
            raise XTypeError(msg)
    if not lkeys:
        raise XTypeError("merge needs at least one key column")
    for n in lkeys:
        lt.column(n)
    for n in rkeys:
        rt.column(n)
    return lkeys, rkeys


def _typed_null_keys(lk: Table, rk: Table, lkeys: Sequence[str],
                     rkeys: Sequence[str]) -> tuple[Table, Table]:
    """Give a key column that holds only nulls the other side's type.

    A pandas column of nothing but None arrives as float64 (Arrow's null type); it can only
    match nulls, so it is retyped rather than rejected against a string key.
    """
    for ln, rn in zip(lkeys, rkeys, strict=True):
        lc, rc = lk.column(ln), rk.column(rn)
        if lc.dtype == rc.dtype:
            continue
        if lc.null_count == len(lc):
            lk = lk.with_column(ln, Column.full(len(lc), None, rc.dtype, lc.device))
        elif rc.null_count == len(rc):
            rk = rk.with_column(rn, Column.full(len(rc), None, lc.dtype, rc.device))
    return lk, rk


def _cross(lt: Table, rt: Table) -> tuple[Any, Any]:
    xp = lt.device.xp
    nl, nr = len(lt), len(rt)
    lidx = xp.repeat(xp.arange(nl, dtype=np.int64), nr)
    ridx = xp.tile(xp.arange(nr, dtype=np.int64), nl)
    return lidx, ridx


def _pandas_order(lk: Table, rk: Table, lkeys: Sequence[str], rkeys: Sequence[str],
                  lidx: Any, ridx: Any, how: str) -> tuple[Any, Any]:
    """Reorder matched pairs into pandas' row order.

    The join kernel already gives pandas' order for inner, left and right joins (left
    order, then right order within a left row; the reverse for right joins); an outer merge
    is sorted by the key values here, then by left and right row.
    """
    xp = lk.device.xp
    if lidx.shape[0] == 0 or how != "outer":
        return lidx, ridx
    parts = []
    for ln, rn in zip(lkeys, rkeys, strict=True):
        lc, rc = keys.align_key_columns(lk.column(ln), rk.column(rn))
        key = _coalesce(lc.take(lidx, nullable=True), rc.take(ridx, nullable=True))
        parts.append(keys.order_codes(key))
    ids = keys.combine(parts).ids
    order = xp.lexsort(xp.stack([ridx, lidx, ids]))
    return lidx[order], ridx[order]


def _coalesce(a: Column, b: Column) -> Column:
    """Values of ``a``, and of ``b`` where ``a`` is null (same type and dictionary)."""
    if a.validity is None:
        return a
    xp = a.xp
    data = xp.where(a.validity, a.data, b.data)
    valid = a.validity | b.valid_mask()
    return Column(a.dtype, data, valid, a.dictionary, a.device)


def _assemble(lt: Table, rt: Table, lk: Table, rk: Table, lidx: Any, ridx: Any,
              lkeys: Sequence[str], rkeys: Sequence[str], how: str,
              suffixes: tuple[str, str]) -> Table:
    """The output table; shared keys come from the key tables ``lk``/``rk`` (NaN as null,
    all-null keys retyped)."""
    n = int(lidx.shape[0])
    lnull = how in ("right", "outer")
    rnull = how in ("left", "outer")
    shared = {ln for ln, rn in zip(lkeys, rkeys, strict=True) if ln == rn}
    left_names = lt.names
    right_names = [c for c in rt.names if c not in shared]
    lset, rset = set(left_names), set(right_names)
    cols: list[tuple[str, Column]] = []
    for name in left_names:
        if name in shared:
            cols.append((name, _shared_key(lk.column(name), rk.column(name), lidx, ridx, how)))
            continue
        out = name + suffixes[0] if name in rset else name
        cols.append((out, lt.column(name).take(lidx, nullable=lnull)))
    for name in right_names:
        out = name + suffixes[1] if name in lset else name
        cols.append((out, rt.column(name).take(ridx, nullable=rnull)))
    seen: set[str] = set()
    for name, _ in cols:
        if name in seen:
            msg = f"the merge result would hold column {name!r} twice; change suffixes"
            raise XpdbError(msg)
        seen.add(name)
    return Table(cols, n, lt.device)


def _shared_key(lc: Column, rc: Column, lidx: Any, ridx: Any, how: str) -> Column:
    if how in ("inner", "left"):
        return lc.take(lidx, nullable=how == "left")
    if how == "right":
        return rc.take(ridx)
    a, b = keys.align_key_columns(lc, rc)
    return _coalesce(a.take(lidx, nullable=True), b.take(ridx, nullable=True))
