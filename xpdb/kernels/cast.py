"""Casts between logical types: SQL ``CAST``/``TRY_CAST`` and pandas ``astype``.

:func:`cast` converts a column to another logical type on its device. With ``safe=True`` a
value that the target type cannot represent raises :class:`~xpdb.errors.CastError` naming
the first offending value and its row; with ``safe=False`` (SQL ``TRY_CAST``) such values
become nulls. Nulls stay null, and the values under nulls never raise.

Conversions and their rules:

- numbers, bools and decimals into each other, with range checks; NaN and +-inf have no
  integer or decimal value. ``float_to_int`` picks how a fraction is dropped.
- decimals rescale with rounding half away from zero when the scale shrinks, and check
  their precision.
- strings parse each *distinct* dictionary value once on the host (surrounding whitespace
  stripped, as DuckDB does), then gather the results through the codes on the device.
  Integers accept ``'+7'``, ``'1e3'`` and ``'2.5'`` (rounded half away from zero, as DuckDB);
  bools accept true/false, t/f, yes/no, y/n, 1/0 in any case; dates also accept a timestamp
  text (its date part); timestamps accept ISO 8601 with up to nanoseconds and an optional
  zone offset (converted to UTC).
- anything to string formats only the distinct values on the host: floats as Python's
  ``repr`` (``'1.0'``, ``'1e-07'``, as DuckDB and pandas), bools as ``'true'``/``'false'``,
  dates and timestamps in ISO format (``'2024-01-31 12:00:00'``; a zero fraction is left
  out, a time zone shows its local time and offset).
- date <-> timestamp (midnight UTC; a zoned timestamp gives its local date, as pyarrow),
  timestamp and duration unit changes (finer: overflow checked; coarser: floor), a zone
  change only relabels (values are UTC), and dates/timestamps/durations <-> integers as
  their raw counts.
"""

from __future__ import annotations

import contextlib
import decimal
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import types as t
from ..column import Column, normalize_dictionary
from ..errors import CastError, NotSupportedError
from ..errors import TypeError as XTypeError
from . import _xp

PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
SECONDS_PER_DAY = 86_400
FLOAT_TO_INT = ("truncate", "round", "half_even", "sql")
_INT64_MAX = 2**63 - 1

_INT_TEXT = r"^[+-]?[0-9]+$"
_NUMBER_TEXT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_SPECIAL_FLOAT_TEXT = r"(?i)^[+-]?(nan|inf|infinity)$"
_DAY = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = r"([T ]([01][0-9]|2[0-3])(:[0-5][0-9](:([0-5][0-9]|60)(\.[0-9]{1,9})?)?)?)"
_ZONE = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
_DATE_TEXT = f"^{_DAY}$"
_NAIVE_TEXT = f"^{_DAY}{_TIME}?$"
_ZONED_TEXT = f"^{_DAY}{_TIME}?{_ZONE}$"
_Parser = Callable[[pa.Array], pa.Array]
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


def quiet(xp: Any) -> contextlib.AbstractContextManager[Any]:
    """Silence NumPy's floating-point warnings (CuPy never warns); results are masked."""
    return np.errstate(all="ignore") if _xp.is_numpy(xp) else contextlib.nullcontext()


def cast(col: Column, to: Any, safe: bool = True, *, float_to_int: str = "truncate") -> Column:
    """Convert ``col`` to the logical type ``to``.

    Parameters
    ----------
    col : Column
    to : DataType or type spec
        Anything :func:`xpdb.types.parse` reads (``"int32"``, ``"decimal(10,2)"``, ``str``...).
    safe : bool
        True: a value the target cannot represent raises CastError (SQL ``CAST``).
        False: it becomes null (SQL ``TRY_CAST``).
    float_to_int : {"truncate", "round", "half_even", "sql"}
        How floats and decimals lose their fraction on the way to an integer type:
        truncate toward zero (pandas ``astype``); round half away from zero; round half to
        even; or DuckDB's ``CAST`` rules (floats half to even, decimals half away from zero).

    Returns
    -------
    Column
        On ``col``'s device; ``col`` itself when it already has the type.

    Raises
    ------
    CastError
        With ``safe=True``, for the first value (lowest row) that cannot be converted.
    TypeError
        For a conversion that does not exist (date to float...).

    Examples
    --------
    >>> from xpdb.column import Column
    >>> cast(Column.from_pylist([" 1.5", "x", None]), "int64", safe=False).to_pylist()
    [2, None, None]
    >>> cast(Column.from_pylist([2.5, -2.5]), "int32", float_to_int="round").to_pylist()
    [3, -3]
    >>> cast(Column.from_pylist([1.0, 0.1]), "string").to_pylist()
    ['1.0', '0.1']
    """
    target = t.parse(to)
    if float_to_int not in FLOAT_TO_INT:
        msg = f"float_to_int={float_to_int!r} is not one of {FLOAT_TO_INT}"
        raise XTypeError(msg)
    src = col.dtype
    if src == target:
        return col
    if target.is_string:
        return _to_string(col)
    if src.is_string:
        return _from_string(col, target, safe)
    chk = _Checks(col, target, safe)
    with quiet(col.xp):
        if src.is_temporal or target.is_temporal:
            data = _temporal(col, target, chk)
        else:
            data = _numeric(col, target, chk, float_to_int)
    return chk.finish(data)


# -- checks and errors ---------------------------------------------------------------------------
class _Checks:
    """Rows that cannot be converted, with the reason of each check."""

    def __init__(self, col: Column, target: t.DataType, safe: bool):
        self.col, self.target, self.safe = col, target, safe
        self.parts: list[tuple[Any, str]] = []

    def flag(self, bad: Any, reason: str) -> None:
        if self.col.validity is not None:
            bad = bad & self.col.validity
        self.parts.append((bad, reason))

    def any_bad(self) -> Any:
        if not self.parts:
            return None
        bad = self.parts[0][0]
        for b, _ in self.parts[1:]:
            bad = bad | b
        return bad

    def finish(self, data: Any) -> Column:
        col, xp = self.col, self.col.xp
        validity = col.validity
        bad = self.any_bad()
        if bad is not None and bool(col.device.scalar(bad.any())):
            if self.safe:
                row = int(col.device.scalar(xp.argmax(bad)))
                reason = next(r for b, r in self.parts if bool(col.device.scalar(b[row])))
                raise_cast_error(col, self.target, row, reason)
            validity = ~bad if validity is None else validity & ~bad
            data = xp.where(bad, xp.zeros(1, data.dtype), data)
        if data.dtype != self.target.physical:
            data = data.astype(self.target.physical)
        return Column(self.target, data, validity, None, col.device)


def raise_cast_error(col: Column, target: t.DataType, row: int, reason: str) -> None:
    """Raise the CastError for ``col``'s value at ``row`` (one value read to the host)."""
    one = col.slice(row, row + 1)
    try:
        value = one.to_pylist()[0]
    except (OverflowError, ValueError, pa.ArrowException):
        # beyond Python's datetime range: show the stored count
        raw = int(col.device.to_host(one.data)[0])
        value = f"{raw} {col.dtype.unit or 'day'}s since 1970-01-01"
    msg = (
        f"cannot cast {value!r} (row {row}) from {col.dtype} to {target}: {reason}. "
        "Use safe=False (TRY_CAST) to turn values that do not convert into nulls, or "
        + ("clean the text first" if col.dtype.is_string else "cast to a wider type")
    )
    raise CastError(msg)


# -- numbers -------------------------------------------------------------------------------------
def _numeric(col: Column, target: t.DataType, chk: _Checks, mode: str) -> Any:
    src, v, xp = col.dtype, col.data, col.xp
    if not ((src.is_numeric or src.is_bool) and (target.is_numeric or target.is_bool)):
        msg = f"cannot cast {src} to {target}; there is no such conversion"
        raise XTypeError(msg)
    if target.is_bool:
        return v != 0
    if src.is_bool:
        src, v = t.int8, v.astype(np.int8)
    if src.is_integer:
        if target.is_float:
            return v.astype(target.physical)
        if target.is_integer:
            return int_to_int(v, target.physical, chk)
        v = int_to_int(v, np.dtype(np.int64), chk)
        bound = 10 ** (target.precision - target.scale)
        if bound <= _INT64_MAX:
            chk.flag((v >= bound) | (v <= -bound), f"does not fit in {target.precision} digits")
        return v * np.int64(10**target.scale)
    if src.is_float:
        if target.is_float:
            out = v.astype(target.physical)
            if out.dtype.itemsize < v.dtype.itemsize:
                chk.flag(xp.isinf(out) & xp.isfinite(v), f"out of the range of {target}")
            return out
        f = v.astype(np.float64)
        if target.is_integer:
            r = _round_float(xp, f, "half_even" if mode == "sql" else mode)
            return float_to_int_checked(xp, r, target.physical, chk)
        r = _round_float(xp, f * 10.0**target.scale, "round")
        bad = ~(xp.abs(r) < 10.0**target.precision)
        chk.flag(bad, f"does not fit in decimal({target.precision}, {target.scale})")
        return xp.where(bad, 0.0, r).astype(np.int64)
    # decimal source
    scale = src.scale
    if target.is_float:
        return (v.astype(np.float64) / 10.0**scale).astype(target.physical)
    if target.is_integer:
        q = div_round(xp, v, 10**scale, {"truncate": "trunc", "half_even": "half_even"}.get(
            mode, "half_away"))
        return int_to_int(q, target.physical, chk)
    return rescale_decimal(xp, v, scale, target, chk, src.precision)


def int_to_int(v: Any, to: np.dtype, chk: _Checks | None) -> Any:
    """``v`` as integer dtype ``to``, flagging values outside its range on ``chk``."""
    src = v.dtype
    if src == to:
        return v
    si, ti = np.iinfo(src), np.iinfo(to)
    if chk is not None:
        reason = f"out of the range of {to.name} [{ti.min}, {ti.max}]"
        if ti.min > si.min:
            chk.flag(v < src.type(ti.min), reason)
        if ti.max < si.max:
            chk.flag(v > src.type(ti.max), reason)
    return v.astype(to)


def float_to_int_checked(xp: Any, r: Any, to: np.dtype, chk: _Checks) -> Any:
    """Integral float64 ``r`` as integer dtype ``to``; NaN, inf and out-of-range flagged."""
    info = np.iinfo(to)
    bad = ~((r >= float(info.min)) & (r < float(info.max) + 1.0))
    chk.flag(bad, f"NaN, infinite or out of the range of {to.name}")
    return xp.where(bad, 0.0, r).astype(to)


def _round_float(xp: Any, f: Any, mode: str) -> Any:
    if mode == "truncate":
        return xp.trunc(f)
    if mode == "half_even":
        return xp.rint(f)
    return round_half_away(xp, f)


def round_half_away(xp: Any, f: Any) -> Any:
    """Floats rounded to integers, halves away from zero (exact, unlike ``floor(x + .5)``)."""
    a = xp.abs(f)
    fl = xp.floor(a)
    return xp.copysign(fl + (a - fl >= 0.5), f)


def div_round(xp: Any, v: Any, d: int, mode: str) -> Any:
    """Integer ``v / d`` for a positive Python int ``d``, rounded by ``mode``.

    ``mode`` is one of floor, ceil, trunc, half_away, half_even.
    """
    if d == 1:
        return v
    dd = v.dtype.type(d)
    q = v // dd
    if mode == "floor":
        return q
    r = v - q * dd  # 0 <= r < d
    if mode == "ceil":
        up = r != 0
    elif mode == "trunc":
        up = (r != 0) & (v < 0)
    elif mode == "half_away":
        up = xp.where(v >= 0, 2 * r >= dd, 2 * r > dd)
    else:
        up = (2 * r > dd) | ((2 * r == dd) & (q % 2 != 0))
    return q + up.astype(v.dtype)


def mul_checked(xp: Any, v: Any, f: int, chk: _Checks, reason: str) -> Any:
    """int64 ``v * f`` flagging products beyond int64 on ``chk``."""
    if f == 1:
        return v
    lim = np.int64(_INT64_MAX // f)
    chk.flag((v > lim) | (v < -lim), reason)
    return v * np.int64(f)


def rescale_decimal(xp: Any, v: Any, scale: int, target: t.DataType, chk: _Checks,
                    precision: int | None = None) -> Any:
    """Unscaled int64 decimals of ``scale`` as ``target`` (rounding half away from zero).

    ``precision``: the source's, when known; a target with as many integer digits then
    needs no range check (and the same scale no arithmetic: ``v`` comes back as it is).
    """
    s2, p2 = target.scale, target.precision
    reason = f"does not fit in {target}"
    if precision is not None and s2 >= scale and p2 - s2 >= precision - scale:
        return v if s2 == scale else v * np.int64(10 ** (s2 - scale))
    if s2 >= scale:
        bound = 10 ** (p2 - s2 + scale)
        if bound <= _INT64_MAX:
            chk.flag((v >= bound) | (v <= -bound), reason)
        return v * np.int64(10 ** (s2 - scale))
    q = div_round(xp, v, 10 ** (scale - s2), "half_away")
    bound = np.int64(10**p2) if p2 < 19 else None
    if bound is not None:
        chk.flag((q >= bound) | (q <= -bound), reason)
    return q


# -- dates, timestamps, durations ---------------------------------------------------------------
def _temporal(col: Column, target: t.DataType, chk: _Checks) -> Any:
    src, v, xp = col.dtype, col.data, col.xp
    sk, tk = src.kind, target.kind
    if sk == tk == "date":
        return v
    if sk in ("timestamp", "duration") and tk == sk:
        return _change_unit(xp, v, src.unit, target.unit, chk)
    if sk == "date" and tk == "timestamp":
        return mul_checked(xp, v.astype(np.int64), SECONDS_PER_DAY * PER_SECOND[target.unit],
                           chk, f"out of the range of {target}")
    if sk == "timestamp" and tk == "date":
        per_sec = PER_SECOND[src.unit]
        if src.tz is not None and not _is_utc(src.tz):
            v = v + local_offsets(col) * np.int64(per_sec)
        days = v // np.int64(SECONDS_PER_DAY * per_sec)
        return int_to_int(days, np.dtype(np.int32), chk)
    if src.is_temporal and target.is_integer:
        return int_to_int(v, target.physical, chk)
    if src.is_integer and target.is_temporal:
        return int_to_int(v, target.physical, chk)
    msg = f"cannot cast {src} to {target}; there is no such conversion"
    raise XTypeError(msg)


def _change_unit(xp: Any, v: Any, unit: str, to: str, chk: _Checks) -> Any:
    a, b = PER_SECOND[unit], PER_SECOND[to]
    if b >= a:
        return mul_checked(xp, v, b // a, chk, f"out of the range of unit {to!r}")
    return v // np.int64(a // b)


def _is_utc(tz: str) -> bool:
    return tz.upper() in ("UTC", "Z", "+00:00", "ETC/UTC", "GMT", "ETC/GMT", "00:00")


def local_offsets(col: Column) -> Any:
    """UTC offsets in seconds (int64, per row) of a zoned timestamp column's local time.

    Builds the zone's transition table between the column's min and max on the host (a
    coarse grid refined by bisection, independent of the row count) and looks each row up
    with ``searchsorted`` on the device. Null rows get offset 0.
    """
    xp, dev = col.xp, col.device
    n = len(col)
    per_sec = np.int64(PER_SECOND[col.dtype.unit])
    secs = col.data // per_sec
    if col.validity is not None:
        secs = xp.where(col.validity, secs, 0)
    if n == 0 or col.dtype.tz is None or _is_utc(col.dtype.tz):
        return xp.zeros(n, np.int64)
    lo = int(dev.scalar(secs.min()))
    hi = int(dev.scalar(secs.max()))
    tz = col.dtype.tz
    step = max(3600, -(-(hi - lo) // 200_000 // 3600) * 3600)
    grid = np.arange(lo - lo % step, hi + step + 1, step, dtype=np.int64)
    off = _offsets_at(grid, tz)
    change = np.nonzero(off[1:] != off[:-1])[0]
    left, right = grid[change], grid[change + 1]
    off_left = off[change]
    while len(left) and (right - left > 1).any():
        mid = (left + right) // 2
        same = _offsets_at(mid, tz) == off_left
        left, right = np.where(same, mid, left), np.where(same, right, mid)
    starts = np.concatenate([grid[:1], right])
    values = np.concatenate([off[:1], _offsets_at(right, tz)])
    idx = xp.searchsorted(dev.asarray(starts), secs, side="right") - 1
    return dev.asarray(values)[xp.maximum(idx, 0)]


def _offsets_at(seconds: np.ndarray, tz: str) -> np.ndarray:
    utc = pa.array(seconds, pa.timestamp("s", tz))
    local = pc.local_timestamp(utc).view(pa.int64()).to_numpy()
    return local - seconds


# -- to string -----------------------------------------------------------------------------------
def _to_string(col: Column) -> Column:
    xp, dev = col.xp, col.device
    n = len(col)
    data = col.data
    if col.validity is not None:
        # values under nulls are arbitrary: keep them out of the formatting
        data = xp.where(col.validity, data, xp.zeros(1, data.dtype))
    if n == 0:
        empty = pa.array([], pa.string())
        return Column(t.string, xp.zeros(0, np.int32), col.validity, empty, dev)
    # floats by bit pattern, so -0.0 and 0.0 format apart
    keys = data.view(np.int64 if data.dtype.itemsize == 8 else np.int32) \
        if col.dtype.is_float else data
    uniq_keys, inv = xp.unique(keys, return_inverse=True)
    uniq = dev.to_host(uniq_keys).view(data.dtype) if col.dtype.is_float \
        else dev.to_host(uniq_keys)
    text = format_values(Column(col.dtype, uniq, None, None, None))
    dictionary, remap = normalize_dictionary(text)
    codes = dev.asarray(remap)[inv.reshape(-1)]
    return Column(t.string, codes.astype(np.int32), col.validity, dictionary, dev)


def format_values(host_col: Column) -> pa.Array:
    """Text of every value of a (small, host) column, as :func:`cast` to string writes it."""
    dt = host_col.dtype
    if dt.is_float:
        return _format_floats(np.asarray(host_col.data))
    arr = host_col.to_arrow()
    if dt.kind == "duration":
        arr = arr.view(pa.int64())
    text = pc.cast(arr, pa.string())
    if dt.kind == "timestamp":
        text = pc.replace_substring_regex(text, r"\.0+($|[+\-Z])", r"\1")
    return text


def _format_floats(values: np.ndarray) -> pa.Array:
    """Floats as Python's ``repr`` writes them (so DuckDB and pandas agree).

    pyarrow's formatter gives the same shortest digits, laid out differently: integral
    values lack ``.0``, exponents have one digit, and it prefers whichever of positional and
    scientific notation is shorter for magnitudes in [1e-6, 1e-4) and [1e10, 1e16); only
    those go through ``repr`` one by one.
    """
    if values.dtype == np.float32:
        # the shortest float32 digits, read back as the float64 they denote
        values = values.astype(str).astype(np.float64)
    text = pc.cast(pa.array(values, pa.float64()), pa.string())
    text = pc.if_else(pc.match_substring_regex(text, r"^-?[0-9]+$"),
                      pc.binary_join_element_wise(text, ".0", ""), text)
    # RE2 back-references are one digit: r"\10" is group 1, then "0"
    text = pc.replace_substring_regex(text, r"e([+-])([0-9])$", r"e\10\2")
    mag = np.abs(values)
    with np.errstate(invalid="ignore"):
        odd = np.nonzero(((mag >= 1e-6) & (mag < 1e-4)) | ((mag >= 1e10) & (mag < 1e16)))[0]
    if len(odd):
        fixed = pa.array([repr(v) for v in values[odd].tolist()], pa.string())
        mask = np.zeros(len(values), bool)
        mask[odd] = True
        text = pc.replace_with_mask(text, pa.array(mask), fixed)
    return text


# -- from string ---------------------------------------------------------------------------------
def _from_string(col: Column, target: t.DataType, safe: bool) -> Column:
    xp, dev = col.xp, col.device
    d = col.dictionary
    if target.kind == "duration":
        msg = f"cannot cast string to {target}; cast to an integer and then to {target}"
        raise NotSupportedError(msg)
    values, ok = parse_strings(d, target)
    if len(d) == 0:
        data = xp.zeros(len(col), target.physical)
        return Column(target, data, col.validity, None, dev)
    codes = col.data if col.validity is None else xp.where(col.validity, col.data, 0)
    data = dev.asarray(values)[codes]
    validity = col.validity
    if not ok.all():
        bad = ~dev.asarray(ok)[codes]
        if validity is not None:
            bad = bad & validity
        if bool(dev.scalar(bad.any())):
            if safe:
                row = int(dev.scalar(xp.argmax(bad)))
                raise_cast_error(col, target, row, f"not a valid {target}")
            validity = ~bad if validity is None else validity & ~bad
    return Column(target, data, validity, None, dev)


def parse_strings(strings: pa.Array, target: t.DataType) -> tuple[np.ndarray, np.ndarray]:
    """Parse (host) strings into ``target``'s physical values.

    Returns
    -------
    (values, ok)
        NumPy arrays: the physical values (0 where parsing failed) and True where it worked.
    """
    s = pc.utf8_trim_whitespace(strings.cast(pa.string()))
    kind = target.kind
    if target.is_bool:
        low = pc.utf8_lower(s)
        yes = pc.is_in(low, value_set=pa.array(_TRUE)).to_numpy(zero_copy_only=False)
        no = pc.is_in(low, value_set=pa.array(_FALSE)).to_numpy(zero_copy_only=False)
        return yes, yes | no
    if target.is_integer:
        return _parse_integers(s, target)
    if target.is_float:
        cand = _match(s, _NUMBER_TEXT) | _match(s, _SPECIAL_FLOAT_TEXT)
        s = pc.replace_substring_regex(s, r"^\+", "")
        vals, ok = _convert(s, [(cand, lambda a: pc.cast(a, pa.float64()))], t.float64)
        if target == t.float32:
            with np.errstate(all="ignore"):
                v32 = vals.astype(np.float32)
            ok &= ~(np.isinf(v32) & np.isfinite(vals))
            vals = np.where(ok, v32, 0).astype(np.float32)
        return vals, ok
    if target.is_decimal:
        return _parse_decimals(s, target)
    if kind == "date":
        naive = _match(s, _NAIVE_TEXT)
        return _convert(s, [(_match(s, _DATE_TEXT), lambda a: pc.cast(a, pa.date32())),
                            (naive, _date_via_timestamp("s")),
                            (naive, _date_via_timestamp("ns"))], target)
    if kind == "timestamp":
        return _convert(s, _timestamp_parsers(s, target), target)
    msg = f"cannot cast string to {target}"  # pragma: no cover - every kind is handled
    raise XTypeError(msg)


def _parse_integers(s: pa.Array, target: t.DataType) -> tuple[np.ndarray, np.ndarray]:
    s = pc.replace_substring_regex(s, r"^\+", "")
    cand = _match(s, _INT_TEXT)
    # parse as 64 bits, then range-check in NumPy: out-of-range text must not make the
    # parser fail value by value
    wide = t.int64
    if target == t.uint64:
        wide = t.uint64
        cand &= ~_match(s, r"^-")
    vals, ok = _convert(s, [(cand, lambda a: pc.cast(a, wide.to_arrow()))], wide)
    rest = ~ok & _match(s, _NUMBER_TEXT)
    out = np.zeros(len(s), target.physical)
    info = np.iinfo(target.physical)
    with np.errstate(all="ignore"):
        fits = ok & (vals >= vals.dtype.type(max(info.min, np.iinfo(vals.dtype).min))) \
            & (vals <= vals.dtype.type(min(info.max, np.iinfo(vals.dtype).max)))
        out[fits] = vals[fits].astype(target.physical)
        if rest.any():
            # '2.5', '1e3': DuckDB reads a number and rounds it half away from zero
            f = pc.cast(s.filter(pa.array(rest)), pa.float64()).to_numpy(zero_copy_only=False)
            chk = _HostChecks()
            ints = float_to_int_checked(np, round_half_away(np, f), target.physical, chk)
            out[rest], fits[rest] = ints, ~chk.bad
    return out, fits


def _parse_decimals(s: pa.Array, target: t.DataType) -> tuple[np.ndarray, np.ndarray]:
    wide = pa.decimal128(38, 20)
    cand = np.nonzero(_match(s, _NUMBER_TEXT))[0]
    values = np.zeros(len(s), np.int64)
    ok = np.zeros(len(s), bool)
    if not len(cand):
        return values, ok
    parsed = _try_parse(s.take(pa.array(cand)), lambda a: pc.cast(a, wide), wide)
    rounded = pc.round(parsed, target.scale, "half_towards_infinity")
    bound = pa.scalar(decimal.Decimal(10) ** (target.precision - target.scale), wide)
    fits = pc.fill_null(pc.less(pc.abs(rounded), bound), False)
    exact = pc.cast(pc.if_else(fits, rounded, pa.scalar(0, wide)), target.to_arrow())
    fits_np = fits.to_numpy(zero_copy_only=False)
    values[cand[fits_np]] = Column.from_arrow(exact, "cpu").data[fits_np]
    ok[cand[fits_np]] = True
    return values, ok


def _date_via_timestamp(unit: str) -> Callable[[pa.Array], pa.Array]:
    def parse(a: pa.Array) -> pa.Array:
        return pc.cast(pc.floor_temporal(pc.cast(a, pa.timestamp(unit)), unit="day"), pa.date32())
    return parse


def _timestamp_parsers(s: pa.Array, target: t.DataType) -> list[tuple[np.ndarray, _Parser]]:
    unit, tz = target.unit, target.tz
    out_type = target.to_arrow()

    def naive(u: str) -> Callable[[pa.Array], pa.Array]:
        def parse(a: pa.Array) -> pa.Array:
            ts = pc.cast(a, pa.timestamp(u))
            if tz is not None:
                ts = pc.assume_timezone(ts, tz)
            return pc.floor_temporal(ts, unit=_UNIT_NAMES[unit]).cast(out_type) \
                if u != unit else ts.cast(out_type)
        return parse

    def zoned(u: str) -> Callable[[pa.Array], pa.Array]:
        def parse(a: pa.Array) -> pa.Array:
            ts = pc.cast(a, pa.timestamp(u, "UTC"))
            if u != unit:
                ts = pc.floor_temporal(ts, unit=_UNIT_NAMES[unit])
            return ts.cast(pa.timestamp(unit, "UTC")).view(pa.int64()).view(out_type)
        return parse

    plain, with_zone = _match(s, _NAIVE_TEXT), _match(s, _ZONED_TEXT)
    return [(plain, naive(unit)), (plain, naive("ns")), (with_zone, zoned(unit)),
            (with_zone, zoned("ns"))]


_UNIT_NAMES = {"s": "second", "ms": "millisecond", "us": "microsecond", "ns": "nanosecond"}


class _HostChecks:
    """A stand-in for :class:`_Checks` on host arrays without validity."""

    def __init__(self) -> None:
        self.bad: Any = False

    def flag(self, bad: Any, reason: str) -> None:
        self.bad = self.bad | bad


def _match(s: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(s, pattern).to_numpy(zero_copy_only=False)


def _convert(s: pa.Array, steps: list[tuple[np.ndarray, _Parser]], target: t.DataType
             ) -> tuple[np.ndarray, np.ndarray]:
    """Run each parser on its candidate strings (a regex prescreen, so that the parser rarely
    fails); each value takes the first success."""
    n = len(s)
    values = np.zeros(n, target.physical)
    ok = np.zeros(n, bool)
    out_type = target.to_arrow()
    for candidates, parse in steps:
        todo = np.nonzero(candidates & ~ok)[0]
        if not len(todo):
            continue
        res = _try_parse(s.take(pa.array(todo)), parse, out_type)
        parsed = Column.from_arrow(res, "cpu")
        good = parsed.valid_mask()
        values[todo[good]] = parsed.data[good]
        ok[todo[good]] = True
    return values, ok


def _try_parse(a: pa.Array, parse: Callable[[pa.Array], pa.Array], out_type: pa.DataType
               ) -> pa.Array:
    """``parse(a)`` with nulls where it fails: bisect so that only bad values are isolated."""
    try:
        return parse(a).cast(out_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OverflowError):
        if len(a) <= 1:
            return pa.nulls(len(a), out_type)
    mid = len(a) // 2
    return pa.concat_arrays([_try_parse(a[:mid], parse, out_type),
                             _try_parse(a[mid:], parse, out_type)])
