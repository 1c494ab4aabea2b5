"""Dates and timestamps as integers: fields, truncation and calendar arithmetic.

``date`` is int32 days since 1970-01-01; ``timestamp[unit]`` is int64 units since the epoch
(UTC; ``dtype.tz`` is the zone it is shown in); ``duration[unit]`` is int64 units. All
arithmetic runs on the device with integer math: the calendar conversions are Howard
Hinnant's ``civil_from_days`` / ``days_from_civil`` (proleptic Gregorian calendar, any
year), so no datetime64 is needed (CuPy has none).

Time zones: fields, truncation and month/day arithmetic of a timestamp whose ``tz`` is not
UTC work in that zone's local time. The UTC offsets come from pyarrow's time-zone database
on the host, once per distinct offset interval in the data's range (sampled daily, with the
transition instants found to the second), and are applied on the device with one
``searchsorted``. A local time that does not exist or exists twice (a DST gap or overlap)
maps back to UTC with the offset in force just before it.

Where xpdb and DuckDB differ, by design:

- ``date_trunc`` and ``add_interval`` keep a date a date (DuckDB returns a timestamp);
- ``extract`` returns int64 (epoch: float64); sub-second fields follow DuckDB by default
  (``millisecond`` counts from the start of the minute) and pandas with
  ``convention="pandas"`` (``microsecond`` counts from the start of the second).
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import types as t
from ..column import Column
from ..device import Device
from ..errors import CastError, ExecutionError, NotSupportedError
from ..errors import TypeError as XTypeError
from . import strings

_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_US_PER_DAY = 86_400 * 10**6
_UTC_NAMES = {"utc", "etc/utc", "z", "+00:00", "-00:00", "gmt", "etc/gmt", "zulu",
              "universal", "etc/universal", "utc+00:00"}
# pyarrow's zone database covers years 1..9999; offsets outside reuse the nearest one.
_TZ_MIN_S = -62_135_596_800
_TZ_MAX_S = 253_402_214_400
_I64 = np.iinfo(np.int64)

_FIELDS = {
    "year": "year", "years": "year", "quarter": "quarter", "quarters": "quarter",
    "month": "month", "months": "month", "week": "week", "weeks": "week",
    "weekofyear": "week", "day": "day", "days": "day", "dayofmonth": "day",
    "dayofyear": "dayofyear", "doy": "dayofyear", "day_of_year": "dayofyear",
    "dow": "dow", "isodow": "isodow", "dayofweek": "dayofweek", "day_of_week": "dayofweek",
    "weekday": "dayofweek", "hour": "hour", "hours": "hour", "minute": "minute",
    "minutes": "minute", "second": "second", "seconds": "second",
    "millisecond": "millisecond", "milliseconds": "millisecond",
    "microsecond": "microsecond", "microseconds": "microsecond",
    "nanosecond": "nanosecond", "nanoseconds": "nanosecond", "epoch": "epoch",
    "isoyear": "isoyear",
}
_TRUNC_UNITS = {
    "year": "year", "years": "year", "y": "year", "quarter": "quarter", "quarters": "quarter",
    "q": "quarter", "month": "month", "months": "month", "week": "week", "weeks": "week",
    "w": "week", "day": "day", "days": "day", "d": "day", "hour": "hour", "hours": "hour",
    "h": "hour", "minute": "minute", "minutes": "minute", "min": "minute",
    "second": "second", "seconds": "second", "s": "second", "sec": "second",
    "millisecond": "millisecond", "milliseconds": "millisecond", "ms": "millisecond",
    "microsecond": "microsecond", "microseconds": "microsecond", "us": "microsecond",
    "nanosecond": "nanosecond", "nanoseconds": "nanosecond", "ns": "nanosecond",
}
_CALENDAR_UNITS = ("year", "quarter", "month", "week", "day")
# sub-day units as (seconds, fraction of a second): unit length = seconds + 1/fraction
_CLOCK_UNITS = {"hour": (3600, 1), "minute": (60, 1), "second": (1, 1),
                "millisecond": (0, 10**3), "microsecond": (0, 10**6), "nanosecond": (0, 10**9)}


# -- calendar (Howard Hinnant's algorithms, valid for every year) -------------------------------
def civil_from_days(xp: Any, days: Any) -> tuple[Any, Any, Any]:
    """(year, month 1..12, day 1..31) of int64 days since 1970-01-01.

    Examples
    --------
    >>> [int(v[0]) for v in civil_from_days(np, np.array([-1]))]
    [1969, 12, 31]
    """
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = (mp + 2) % 12 + 1
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def days_from_civil(xp: Any, year: Any, month: Any, day: Any) -> Any:
    """Days since 1970-01-01 of a (year, month, day); the inverse of :func:`civil_from_days`.

    Examples
    --------
    >>> int(days_from_civil(np, np.array([2000]), 3, 1)[0])
    11017
    """
    year = year - (month <= 2)
    era = year // 400
    yoe = year - era * 400
    mp = (month + 9) % 12  # months counted from March
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _is_leap(year: Any) -> Any:
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def _days_in_month(xp: Any, year: Any, month: Any) -> Any:
    # months 1,3,5,7,8,10,12 have 31 days: the low bit of month + month // 8; plain
    # arithmetic (no where) so Python ints work on CuPy too
    return 30 + ((month + (month >> 3)) & 1) - (month == 2) * (2 - _is_leap(year))


def _add_months(xp: Any, days: Any, months: Any) -> Any:
    """Days plus whole months, the day clamped to the end of the month (Jan 31 + 1 = Feb 28)."""
    year, month, day = civil_from_days(xp, days)
    total = year * 12 + (month - 1) + months
    new_year = total // 12
    new_month = total - new_year * 12 + 1
    new_day = xp.minimum(day, _days_in_month(xp, new_year, new_month))
    return days_from_civil(xp, new_year, new_month, new_day)


def _trunc_days(xp: Any, days: Any, unit: str) -> Any:
    if unit == "day":
        return days
    if unit == "week":
        return days - (days + 3) % 7  # 1970-01-01 was a Thursday; weeks start on Monday
    year, month, day = civil_from_days(xp, days)
    if unit == "month":
        return days - day + 1
    if unit == "quarter":
        return days_from_civil(xp, year, (month - 1) // 3 * 3 + 1, 1)
    return days_from_civil(xp, year, 1, 1)


def _rescale(x: Any, per_second: int, target: int) -> Any:
    """``x`` units of ``1/per_second`` s expressed in units of ``1/target`` s (floor)."""
    if per_second >= target:
        return x // (per_second // target)
    return x * (target // per_second)


def _finer(a: str, b: str) -> str:
    return a if _PER_SECOND[a] >= _PER_SECOND[b] else b


# -- time zones --------------------------------------------------------------------------------
def _is_utc(tz: str | None) -> bool:
    return tz is None or tz.strip().lower() in _UTC_NAMES


def _offsets_at(tz: str, seconds: np.ndarray) -> np.ndarray:
    arr = pa.array(seconds, pa.timestamp("s", tz))
    local = pc.local_timestamp(arr).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return local - seconds


@functools.lru_cache(maxsize=64)
def _tz_table(tz: str, lo_day: int, hi_day: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC offset transitions of ``tz`` between two days: ``(instants, offsets)`` in seconds,
    ``offsets[i]`` in force before ``instants[i]`` (and the last one after the last)."""
    days = np.arange(lo_day, hi_day + 1, dtype=np.int64) * 86_400
    try:
        off = _offsets_at(tz, days)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        msg = f"unknown time zone {tz!r}: {e}. Use an IANA name such as 'Europe/Paris'"
        raise XTypeError(msg) from e
    change = np.flatnonzero(off[1:] != off[:-1])
    lo, hi, before = days[change], days[change + 1], off[change]
    while lo.size and (hi - lo > 1).any():
        mid = (lo + hi) // 2
        same = _offsets_at(tz, mid) == before
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    offsets = np.concatenate([off[:1], off[change + 1]])
    return hi, offsets


def _valid_range(dev: Device, data: Any, validity: Any) -> tuple[int, int] | None:
    xp = dev.xp
    if data.shape[0] == 0:
        return None
    if validity is not None:
        if not bool(dev.scalar(validity.any())):
            return None
        lo = xp.where(validity, data, _I64.max).min()
        hi = xp.where(validity, data, _I64.min).max()
    else:
        lo, hi = data.min(), data.max()
    return int(dev.scalar(lo)), int(dev.scalar(hi))


def _utc_offsets(dev: Device, tz: str, unit: str, data: Any, validity: Any) -> Any:
    """The UTC offset (in ``unit``) of ``tz`` at each UTC instant of ``data``."""
    xp = dev.xp
    ps = _PER_SECOND[unit]
    span = _valid_range(dev, data, validity)
    if span is None:
        return xp.zeros(data.shape[0], np.int64)
    lo = min(max(span[0] // ps, _TZ_MIN_S), _TZ_MAX_S) // 86_400 - 1
    hi = min(max(span[1] // ps, _TZ_MIN_S), _TZ_MAX_S) // 86_400 + 1
    instants, offsets = _tz_table(tz, lo, hi)
    instants = np.clip(instants, _I64.min // ps, _I64.max // ps) * ps
    idx = xp.searchsorted(dev.asarray(instants), data, side="right")
    return dev.asarray(offsets * ps)[idx]


def _to_local(col: Column) -> Any:
    """Timestamp values as local wall-clock units (the values themselves when UTC)."""
    dt = col.dtype
    if _is_utc(dt.tz):
        return col.data
    return col.data + _utc_offsets(col.device, dt.tz, dt.unit, col.data, col.validity)


def _from_local(dev: Device, dtype: t.DataType, local: Any, validity: Any) -> Any:
    """Local wall-clock units back to UTC instants (the inverse of :func:`_to_local`)."""
    if _is_utc(dtype.tz):
        return local
    guess = local - _utc_offsets(dev, dtype.tz, dtype.unit, local, validity)
    return local - _utc_offsets(dev, dtype.tz, dtype.unit, guess, validity)


# -- operands: columns and Python scalars ------------------------------------------------------
@dataclass
class _Operand:
    dtype: t.DataType | None  # None for the null literal
    data: Any  # device array, or a Python int for a scalar
    validity: Any = None
    column: Column | None = None


def _operand(x: Any, name: str) -> _Operand:
    if isinstance(x, Column):
        return _Operand(x.dtype, x.data, x.validity, x)
    if x is None:
        return _Operand(None, 0)
    if isinstance(x, np.datetime64 | np.timedelta64):
        if np.isnat(x):
            return _Operand(None, 0)
        unit = np.datetime_data(x.dtype)[0]
        if isinstance(x, np.datetime64) and unit == "D":
            return _Operand(t.date, int(x.astype(np.int64)))
        if unit not in _PER_SECOND:
            x = x.astype(x.dtype.str[:3] + "[ns]")
            unit = "ns"
        kind = t.timestamp(unit) if isinstance(x, np.datetime64) else t.duration(unit)
        return _Operand(kind, int(x.astype(np.int64)))
    if isinstance(x, _dt.datetime):
        if hasattr(x, "nanosecond") and hasattr(x, "value"):  # pandas Timestamp
            return _Operand(t.timestamp("ns", "UTC" if x.tzinfo else None), int(x.value))
        if x.tzinfo is not None:
            micros = (x - _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)) // _dt.timedelta(microseconds=1)
            return _Operand(t.timestamp("us", "UTC"), micros)
        return _Operand(t.timestamp("us"), (x - _dt.datetime(1970, 1, 1)) // _dt.timedelta(microseconds=1))
    if isinstance(x, _dt.date):
        return _Operand(t.date, x.toordinal() - 719_163)
    if isinstance(x, _dt.timedelta):
        if hasattr(x, "value") and hasattr(x, "nanoseconds"):  # pandas Timedelta
            return _Operand(t.duration("ns"), int(x.value))
        return _Operand(t.duration("us"), x // _dt.timedelta(microseconds=1))
    msg = (
        f"{name} takes a Column, datetime.date, datetime.datetime or datetime.timedelta, "
        f"got {type(x).__name__} {x!r}"
    )
    raise XTypeError(msg)


def _frame(ops: list[_Operand], name: str) -> tuple[Device, int]:
    cols = [o.column for o in ops if o.column is not None]
    if not cols:
        msg = f"{name} needs at least one Column argument (got only scalars)"
        raise XTypeError(msg)
    dev, n = cols[0].device, len(cols[0])
    for c in cols[1:]:
        if len(c) != n or c.device is not dev:
            msg = (
                f"{name}: columns must have one length and device, got {len(c)} rows on "
                f"{c.device} and {n} rows on {dev}"
            )
            raise ExecutionError(msg)
    return dev, n


def _and(*validities: Any) -> Any:
    out = None
    for v in validities:
        if v is not None:
            out = v if out is None else out & v
    return out


def _result(dev: Device, n: int, dtype: t.DataType, data: Any, ops: list[_Operand]) -> Column:
    xp = dev.xp
    if any(o.dtype is None for o in ops):
        return Column.full(n, None, dtype, dev)
    if not hasattr(data, "shape") or data.shape != (n,):
        data = xp.broadcast_to(xp.asarray(data), (n,))
    data = xp.ascontiguousarray(data.astype(dtype.physical, copy=False))
    return Column(dtype, data, _and(*(o.validity for o in ops)), None, dev)


def _in_unit(op: _Operand, unit: str) -> Any:
    """A date/timestamp/duration operand as int64 ``unit``\\s (dates at midnight)."""
    data = op.data if isinstance(op.data, int) else op.data.astype(np.int64)
    if op.dtype.kind == "date":
        return data * (86_400 * _PER_SECOND[unit])
    return _rescale(data, _PER_SECOND[op.dtype.unit], _PER_SECOND[unit])


def _require(col: Any, kinds: tuple[str, ...], name: str) -> None:
    if not isinstance(col, Column):
        msg = f"{name} expects a Column, got {type(col).__name__} {col!r}"
        raise XTypeError(msg)
    if col.dtype.kind not in kinds:
        msg = (
            f"{name} expects a column of type {' or '.join(kinds)}, got {col.dtype}; "
            "cast it first (xpdb.kernels.cast.cast)"
        )
        raise XTypeError(msg)


def _unit_of(op: _Operand) -> str:
    return "s" if op.dtype.kind == "date" else op.dtype.unit


# -- fields ----------------------------------------------------------------------------------
def _parts(col: Column) -> tuple[Any, Any, int]:
    """(days, time of day in units, units per second) in local time."""
    if col.dtype.kind == "date":
        return col.data.astype(np.int64), None, 1
    ps = _PER_SECOND[col.dtype.unit]
    per_day = 86_400 * ps
    local = _to_local(col)
    days = local // per_day
    return days, local - days * per_day, ps


def extract(col: Column, field: str, convention: str = "sql") -> Column:
    """One calendar or clock field of a date or timestamp column.

    Parameters
    ----------
    col : Column
        date or timestamp (a timestamp with a time zone gives local-time fields).
    field : str
        year, quarter, month, week (ISO week), day, dayofyear, dow (Sunday=0..Saturday=6),
        isodow (Monday=1..Sunday=7), dayofweek (pandas: Monday=0..Sunday=6), hour, minute,
        second, millisecond, microsecond, nanosecond, isoyear (ISO 8601 week-numbering
        year), epoch (seconds since 1970-01-01 UTC, float64).
    convention : {"sql", "pandas"}
        Sub-second fields. "sql" (DuckDB): millisecond/microsecond/nanosecond count from the
        start of the minute (``12:00:05.25`` has millisecond 5250). "pandas": millisecond
        and microsecond count from the start of the second, nanosecond is 0..999 (the
        nanoseconds beyond the microsecond).

    Returns
    -------
    Column
        int64 (float64 for epoch); clock fields of a date are 0.

    Examples
    --------
    >>> import datetime
    >>> c = Column.from_pylist([datetime.date(2021, 1, 3), None])
    >>> extract(c, "year").to_pylist(), extract(c, "week").to_pylist()
    ([2021, None], [53, None])
    >>> extract(c, "dow").to_pylist(), extract(c, "isodow").to_pylist()
    ([0, None], [7, None])
    """
    _require(col, ("date", "timestamp"), "extract")
    f = _FIELDS.get(str(field).strip().lower())
    if f is None:
        msg = f"extract: unknown field {field!r}; use one of {sorted(set(_FIELDS.values()))}"
        raise XTypeError(msg)
    if convention not in ("sql", "pandas"):
        msg = f"extract: convention must be 'sql' or 'pandas', got {convention!r}"
        raise ExecutionError(msg)
    xp = col.xp
    if f == "epoch":
        if col.dtype.kind == "date":
            out = col.data.astype(np.float64) * 86_400.0
        else:
            ps = _PER_SECOND[col.dtype.unit]
            # split toward zero so both parts share a sign (no cancellation near 0)
            whole = xp.where(col.data < 0, -((-col.data) // ps), col.data // ps)
            out = whole.astype(np.float64) + (col.data - whole * ps).astype(np.float64) / ps
        return Column(t.float64, out, col.validity, None, col.device)
    days, tod, ps = _parts(col)
    out = _field(xp, f, days, tod, ps, convention)
    return Column(t.int64, out.astype(np.int64, copy=False), col.validity, None, col.device)


def _field(xp: Any, f: str, days: Any, tod: Any, ps: int, convention: str) -> Any:
    if f in ("year", "month", "day", "quarter"):
        year, month, day = civil_from_days(xp, days)
        return {"year": year, "month": month, "day": day, "quarter": (month - 1) // 3 + 1}[f]
    if f == "dayofyear":
        year = civil_from_days(xp, days)[0]
        return days - days_from_civil(xp, year, 1, 1) + 1
    if f == "dow":
        return (days + 4) % 7
    if f == "isodow":
        return (days + 3) % 7 + 1
    if f == "dayofweek":
        return (days + 3) % 7
    if f in ("week", "isoyear"):
        thursday = days - (days + 3) % 7 + 3  # the ISO year is the year of the week's Thursday
        iso_year = civil_from_days(xp, thursday)[0]
        if f == "isoyear":
            return iso_year
        return (thursday - days_from_civil(xp, iso_year, 1, 1)) // 7 + 1
    if tod is None:
        return xp.zeros_like(days)
    if f == "hour":
        return tod // (3600 * ps)
    if f == "minute":
        return tod // (60 * ps) % 60
    if f == "second":
        return tod // ps % 60
    target = {"millisecond": 10**3, "microsecond": 10**6, "nanosecond": 10**9}[f]
    if convention == "sql":
        return _rescale(tod % (60 * ps), ps, target)
    sub = tod % ps
    if f == "nanosecond":
        return _rescale(sub, ps, 10**9) % 1000
    return _rescale(sub, ps, target)


def date_part(field: str, col: Column) -> Column:
    """SQL ``date_part(field, col)``: :func:`extract` with the arguments swapped."""
    return extract(col, field)


# -- truncation --------------------------------------------------------------------------------
def date_trunc(col: Column, unit: str) -> Column:
    """Round down to the start of a ``unit``, keeping the column's type.

    Parameters
    ----------
    col : Column
        date or timestamp. A timestamp with a time zone is truncated in local time
        (pandas ``dt.floor`` and DuckDB on TIMESTAMPTZ do the same).
    unit : str
        year, quarter, month, week (starting Monday, ISO), day, hour, minute, second,
        millisecond, microsecond, nanosecond.

    Notes
    -----
    A date stays a date (DuckDB returns a timestamp for ``date_trunc`` of a date; the values
    are the same); truncating a date to a unit shorter than a day returns it unchanged.

    Examples
    --------
    >>> import datetime
    >>> c = Column.from_pylist([datetime.date(2024, 5, 17)])
    >>> date_trunc(c, "quarter").to_pylist(), date_trunc(c, "week").to_pylist()
    ([datetime.date(2024, 4, 1)], [datetime.date(2024, 5, 13)])
    """
    _require(col, ("date", "timestamp"), "date_trunc")
    u = _TRUNC_UNITS.get(str(unit).strip().lower())
    if u is None:
        msg = f"date_trunc: unknown unit {unit!r}; use one of {sorted(set(_TRUNC_UNITS.values()))}"
        raise XTypeError(msg)
    xp, dt = col.xp, col.dtype
    if dt.kind == "date":
        if u not in _CALENDAR_UNITS:
            return col
        out = _trunc_days(xp, col.data.astype(np.int64), u).astype(np.int32)
        return Column(dt, out, col.validity, None, col.device)
    ps = _PER_SECOND[dt.unit]
    local = _to_local(col)
    if u in _CALENDAR_UNITS:
        per_day = 86_400 * ps
        out_local = _trunc_days(xp, local // per_day, u) * per_day
    else:
        seconds, fraction = _CLOCK_UNITS[u]
        step = seconds * ps if seconds else ps // fraction
        if step <= 1:
            return col
        out_local = local - local % step
    out = _from_local(col.device, dt, out_local, col.validity)
    return Column(dt, out, col.validity, None, col.device)


# -- interval and duration arithmetic ---------------------------------------------------------
def _int_operand(x: Any, name: str) -> tuple[Any, Any]:
    if isinstance(x, Column):
        if not (x.dtype.is_integer or x.dtype.is_bool):
            msg = f"add_interval: {name} must be an integer column, got {x.dtype}"
            raise XTypeError(msg)
        return x.data.astype(np.int64), x.validity
    if isinstance(x, bool) or not isinstance(x, int | np.integer):
        msg = f"add_interval: {name} must be an int or an integer Column, got {x!r}"
        raise XTypeError(msg)
    return int(x), None


def add_interval(col: Column, months: Any = 0, days: Any = 0, micros: Any = 0) -> Column:
    """Add a calendar interval: months, then days, then microseconds (PostgreSQL/DuckDB).

    Parameters
    ----------
    col : Column
        date or timestamp. For a timestamp with a time zone, months and days move the local
        wall-clock date (as PostgreSQL does for TIMESTAMPTZ); microseconds are exact time.
    months, days, micros : int or integer Column
        Negative values subtract. Month arithmetic clamps the day to the end of the month
        (Jan 31 + 1 month = Feb 28 or 29).

    Returns
    -------
    Column
        A date stays a date when ``micros`` is a whole number of days (DuckDB returns a
        timestamp); otherwise a date becomes ``timestamp[us]``. A timestamp keeps its type;
        microseconds finer than its unit raise NotSupportedError.

    Examples
    --------
    >>> import datetime
    >>> c = Column.from_pylist([datetime.date(2020, 1, 31), datetime.date(2020, 2, 29)])
    >>> add_interval(c, months=1).to_pylist()
    [datetime.date(2020, 2, 29), datetime.date(2020, 3, 29)]
    >>> add_interval(c, months=12, days=1).to_pylist()
    [datetime.date(2021, 2, 1), datetime.date(2021, 3, 1)]
    """
    _require(col, ("date", "timestamp"), "add_interval")
    xp, dev, dt = col.xp, col.device, col.dtype
    mo, vm = _int_operand(months, "months")
    dd, vd = _int_operand(days, "days")
    us, vu = _int_operand(micros, "micros")
    validity = _and(col.validity, vm, vd, vu)
    calendar = not (isinstance(mo, int) and mo == 0 and isinstance(dd, int) and dd == 0)
    if dt.kind == "date":
        if isinstance(us, int) and us % _US_PER_DAY == 0:
            out = col.data.astype(np.int64)
            if calendar:
                out = _add_months(xp, out, mo) + dd
            out = (out + us // _US_PER_DAY).astype(np.int32)
            return Column(dt, out, validity, None, dev)
        col = Column(t.timestamp("us"), col.data.astype(np.int64) * _US_PER_DAY,
                     col.validity, None, dev)
        dt = col.dtype
    ps = _PER_SECOND[dt.unit]
    out = col.data
    if calendar:
        per_day = 86_400 * ps
        local = _to_local(col)
        day = local // per_day
        moved = (_add_months(xp, day, mo) + dd) * per_day + (local - day * per_day)
        out = _from_local(dev, dt, moved, validity)
    if not (isinstance(us, int) and us == 0):
        if ps < 10**6 and isinstance(us, int) and us % (10**6 // ps):
            msg = (
                f"add_interval: {us} microseconds is finer than the column's unit "
                f"{dt.unit!r}; cast the column to timestamp[us] first"
            )
            raise NotSupportedError(msg)
        out = out + _rescale(us, 10**6, ps)
    out = xp.ascontiguousarray(xp.broadcast_to(out, (len(col),)).astype(np.int64))
    return Column(dt, out, validity, None, dev)


def _add(a: Any, b: Any, sign: int, name: str) -> Column:
    oa, ob = _operand(a, name), _operand(b, name)
    dev, n = _frame([oa, ob], name)
    ka = oa.dtype.kind if oa.dtype is not None else "duration"
    kb = ob.dtype.kind if ob.dtype is not None else "duration"
    if sign < 0 and kb != "duration":
        msg = f"{name}: the subtrahend must be a duration, got {ob.dtype}"
        raise XTypeError(msg)
    if ka != "duration" and kb != "duration":
        msg = f"{name}: cannot add {oa.dtype} and {ob.dtype}; one side must be a duration"
        raise XTypeError(msg)
    point, dur = (oa, ob) if kb == "duration" else (ob, oa)
    if point.dtype is None or dur.dtype is None:
        known = point.dtype or dur.dtype
        dtype = known if known.kind != "date" else t.timestamp("us")
        return Column.full(n, None, dtype, dev)
    unit = _finer(_unit_of(point), dur.dtype.unit)
    if point.dtype.kind == "duration":
        dtype = t.duration(unit)
    else:
        dtype = t.timestamp(unit, point.dtype.tz)
    pa_, pb = _in_unit(point, unit), _in_unit(dur, unit)
    data = pa_ + pb if sign > 0 else pa_ - pb
    return _result(dev, n, dtype, data, [oa, ob])


def add_duration(a: Any, b: Any) -> Column:
    """``a + b`` where one side is a duration and the other a date, timestamp or duration.

    Columns and scalars (``datetime.date``, ``datetime.datetime``, ``datetime.timedelta``,
    NumPy datetime64/timedelta64, None) mix freely; at least one side is a Column. The
    result has the finer unit of the two; a date becomes a timestamp (at midnight).

    Examples
    --------
    >>> import datetime
    >>> c = Column.from_pylist([datetime.datetime(2020, 1, 1, 12)])
    >>> add_duration(c, datetime.timedelta(hours=13)).to_pylist()
    [datetime.datetime(2020, 1, 2, 1, 0)]
    """
    return _add(a, b, 1, "add_duration")


def sub_duration(a: Any, b: Any) -> Column:
    """``a - b`` where ``b`` is a duration (see :func:`add_duration`)."""
    return _add(a, b, -1, "sub_duration")


def diff(a: Any, b: Any) -> Column:
    """``a - b``: timestamps give a duration (finer unit); dates give int64 days (as DuckDB);
    a date with a timestamp counts the date as midnight; ``b`` a duration subtracts it.

    Examples
    --------
    >>> import datetime
    >>> c = Column.from_pylist([datetime.date(2020, 3, 1)])
    >>> diff(c, datetime.date(2020, 1, 1)).to_pylist()
    [60]
    """
    oa, ob = _operand(a, "diff"), _operand(b, "diff")
    dev, n = _frame([oa, ob], "diff")
    if ob.dtype is not None and ob.dtype.kind == "duration":
        return sub_duration(a, b)
    known = [o.dtype for o in (oa, ob) if o.dtype is not None]
    for k in known:
        if k.kind not in ("date", "timestamp", "duration"):
            msg = f"diff: cannot subtract values of type {k}; use dates or timestamps"
            raise XTypeError(msg)
    if all(k.kind == "date" for k in known):
        dtype = t.int64
        if len(known) < 2:
            return Column.full(n, None, dtype, dev)
        data = _day_numbers(oa) - _day_numbers(ob)
        return _result(dev, n, dtype, data, [oa, ob])
    if any(k.kind == "duration" for k in known):
        msg = f"diff: cannot subtract {ob.dtype} from {oa.dtype}"
        raise XTypeError(msg)
    if len(known) < 2:
        unit = "s" if known[0].kind == "date" else known[0].unit
        return Column.full(n, None, t.duration(unit), dev)
    unit = _finer(_unit_of(oa), _unit_of(ob))
    data = _in_unit(oa, unit) - _in_unit(ob, unit)
    return _result(dev, n, t.duration(unit), data, [oa, ob])


def _day_numbers(op: _Operand) -> Any:
    return op.data if isinstance(op.data, int) else op.data.astype(np.int64)


def _local_units(op: _Operand, unit: str) -> Any:
    """An operand in local wall-clock ``unit``\\s."""
    if op.column is not None and op.dtype.kind == "timestamp" and not _is_utc(op.dtype.tz):
        local = Column(op.dtype, _to_local(op.column), op.validity, None, op.column.device)
        return _in_unit(_Operand(local.dtype, local.data), unit)
    return _in_unit(op, unit)


def date_diff(unit: str, a: Any, b: Any) -> Column:
    """DuckDB's ``date_diff(unit, a, b)``: the number of ``unit`` boundaries from a to b.

    year, quarter, month and day count calendar boundaries crossed (2020-12-31 to
    2021-01-01 is one year); hour, minute, second, millisecond and microsecond count clock
    boundaries; week is the whole weeks between the dates, rounded toward zero (DuckDB's
    rule). Timestamps with a time zone count in local time.

    Examples
    --------
    >>> import datetime
    >>> c = Column.from_pylist([datetime.date(2020, 12, 31)])
    >>> date_diff("year", c, datetime.date(2021, 1, 1)).to_pylist()
    [1]
    """
    u = _TRUNC_UNITS.get(str(unit).strip().lower())
    if u is None or u == "nanosecond":
        msg = f"date_diff: unknown unit {unit!r}; use year, quarter, month, week, day, hour, minute, second, millisecond or microsecond"
        raise XTypeError(msg)
    oa, ob = _operand(a, "date_diff"), _operand(b, "date_diff")
    dev, n = _frame([oa, ob], "date_diff")
    xp = dev.xp
    for o in (oa, ob):
        if o.dtype is not None and o.dtype.kind not in ("date", "timestamp"):
            msg = f"date_diff takes dates and timestamps, got {o.dtype}"
            raise XTypeError(msg)
    if oa.dtype is None or ob.dtype is None:
        return Column.full(n, None, t.int64, dev)
    unit_ = _finer(_unit_of(oa), _unit_of(ob))
    ps = _PER_SECOND[unit_]
    va, vb = _local_units(oa, unit_), _local_units(ob, unit_)
    if u in _CALENDAR_UNITS:
        per_day = 86_400 * ps
        da, db = va // per_day, vb // per_day
        if u == "day":
            data = db - da
        elif u == "week":
            d = db - da
            data = xp.where(d >= 0, d // 7, -((-d) // 7))
        else:
            ya, ma, _ = civil_from_days(xp, da)
            yb, mb, _ = civil_from_days(xp, db)
            if u == "year":
                data = yb - ya
            elif u == "quarter":
                data = (yb * 4 + (mb - 1) // 3) - (ya * 4 + (ma - 1) // 3)
            else:
                data = (yb * 12 + mb) - (ya * 12 + ma)
    else:
        seconds, fraction = _CLOCK_UNITS[u]
        if seconds:
            step = seconds * ps
            data = vb // step - va // step
        elif ps >= fraction:
            step = ps // fraction
            data = vb // step - va // step
        else:
            data = (vb - va) * (fraction // ps)
    return _result(dev, n, t.int64, data, [oa, ob])


# -- construction and conversion ---------------------------------------------------------------
def to_timestamp(
    col: Column, unit: str = "s", out_unit: str = "us", tz: str | None = None
) -> Column:
    """Timestamps from numbers of ``unit``\\s since 1970-01-01 UTC (DuckDB ``to_timestamp``
    for seconds, pandas ``to_datetime(..., unit=)``).

    Floats are rounded to the nearest ``out_unit``; NaN and infinities give null.

    Examples
    --------
    >>> to_timestamp(Column.from_pylist([0, 86_400, None])).to_pylist()[:2]
    [datetime.datetime(1970, 1, 1, 0, 0), datetime.datetime(1970, 1, 2, 0, 0)]
    """
    if not isinstance(col, Column) or not (col.dtype.is_integer or col.dtype.is_float):
        got = col.dtype if isinstance(col, Column) else type(col).__name__
        msg = f"to_timestamp expects an integer or float column, got {got}"
        raise XTypeError(msg)
    if unit not in _PER_SECOND or out_unit not in _PER_SECOND:
        msg = f"to_timestamp: units must be one of {list(_PER_SECOND)}, got {unit!r}, {out_unit!r}"
        raise XTypeError(msg)
    xp = col.xp
    validity = col.validity
    if col.dtype.is_float:
        finite = xp.isfinite(col.data)
        scaled = xp.where(finite, col.data, 0).astype(np.float64) * (
            _PER_SECOND[out_unit] / _PER_SECOND[unit]
        )
        data = xp.rint(scaled).astype(np.int64)
        validity = finite if validity is None else validity & finite
    else:
        data = _rescale(col.data.astype(np.int64), _PER_SECOND[unit], _PER_SECOND[out_unit])
    return Column(t.timestamp(out_unit, tz), data, validity, None, col.device)


def make_date(year: Any, month: Any, day: Any, errors: str = "raise") -> Column:
    """Dates from year, month and day (integer Columns or ints; DuckDB ``make_date``).

    Parameters
    ----------
    errors : {"raise", "null"}
        An impossible date (2021-02-29, month 13) raises CastError naming the first bad row,
        or becomes null.

    Examples
    --------
    >>> make_date(Column.from_pylist([2020, 2021]), 2, 29, errors="null").to_pylist()
    [datetime.date(2020, 2, 29), None]
    """
    ops = []
    for name, v in (("year", year), ("month", month), ("day", day)):
        if isinstance(v, Column):
            if not v.dtype.is_integer:
                msg = f"make_date: {name} must be an integer column, got {v.dtype}"
                raise XTypeError(msg)
            ops.append(_Operand(v.dtype, v.data.astype(np.int64), v.validity, v))
        elif v is None:
            ops.append(_Operand(None, 0))
        elif isinstance(v, int | np.integer) and not isinstance(v, bool):
            ops.append(_Operand(t.int64, int(v)))
        else:
            msg = f"make_date: {name} must be an int or an integer Column, got {v!r}"
            raise XTypeError(msg)
    dev, n = _frame(ops, "make_date")
    xp = dev.xp
    if any(o.dtype is None for o in ops):
        return Column.full(n, None, t.date, dev)
    y, m, d = (xp.asarray(o.data) for o in ops)
    month_ok = (m >= 1) & (m <= 12)
    m_safe = xp.where(month_ok, m, 1)
    ok = month_ok & (d >= 1) & (d <= _days_in_month(xp, y, m_safe))
    days = days_from_civil(xp, y, m_safe, d)
    ok = ok & (days >= np.iinfo(np.int32).min) & (days <= np.iinfo(np.int32).max)
    ok = xp.broadcast_to(xp.asarray(ok), (n,))
    validity = _and(*(o.validity for o in ops))
    bad = ~ok if validity is None else ~ok & validity
    if errors == "raise":
        if n and bool(dev.scalar(bad.any())):
            i = int(dev.scalar(xp.argmax(bad)))
            vals = [int(dev.scalar(xp.broadcast_to(xp.asarray(v), (n,))[i])) for v in (y, m, d)]
            msg = (
                f"make_date({vals[0]}, {vals[1]}, {vals[2]}) at row {i} is not a valid date; "
                "fix the input or pass errors='null'"
            )
            raise CastError(msg)
    elif errors != "null":
        msg = f"make_date: errors must be 'raise' or 'null', got {errors!r}"
        raise ExecutionError(msg)
    col = _result(dev, n, t.date, xp.where(ok, days, 0), ops)
    return col if errors == "raise" else col.with_validity(_and(col.validity, ok))


def _strftime_pieces(fmt: str) -> list[str | None]:
    """The format split at ``%f`` (None marks it), which pyarrow does not know."""
    pieces: list[str | None] = []
    buf: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            if fmt[i + 1] == "f":
                pieces.extend(["".join(buf), None])
                buf = []
            else:
                buf.append(fmt[i : i + 2])
            i += 2
            continue
        buf.append(fmt[i])
        i += 1
    pieces.append("".join(buf))
    return [p for p in pieces if p != ""]


def strftime(col: Column, format: str) -> Column:  # noqa: A002 - the name users know
    """Format dates or timestamps as strings (host formatting of the distinct values).

    Directives are those of C/Python ``strftime`` as pyarrow implements them, plus ``%f``
    (microseconds, 6 digits). ``%S`` prints whole seconds (as Python and DuckDB).
    Timestamps with a time zone print in local time (``%Z`` names the zone).

    Examples
    --------
    >>> import datetime
    >>> c = Column.from_pylist([datetime.datetime(2020, 1, 2, 3, 4, 5, 600)])
    >>> strftime(c, "%Y/%m/%d %H:%M:%S.%f").to_pylist()
    ['2020/01/02 03:04:05.000600']
    """
    _require(col, ("date", "timestamp"), "strftime")
    xp, dev, dt = col.xp, col.device, col.dtype
    data = col.data if col.validity is None else xp.where(col.validity, col.data, 0)
    uniq, inverse = xp.unique(data, return_inverse=True)
    values = dev.to_host(uniq).astype(np.int64)
    if dt.kind == "date":
        seconds, sub, ps = values * 86_400, np.zeros_like(values), 1
    else:
        ps = _PER_SECOND[dt.unit]
        seconds = values // ps
        sub = values - seconds * ps
    stamps = pa.array(seconds, pa.timestamp("s", dt.tz if dt.kind == "timestamp" else None))
    parts: list[pa.Array] = []
    for piece in _strftime_pieces(format):
        if piece is None:
            micros = pa.array(_rescale(sub, ps, 10**6)).cast(pa.string())
            parts.append(pc.utf8_lpad(micros, 6, "0").cast(pa.large_string()))
        else:
            parts.append(pc.strftime(stamps, format=piece, locale="C").cast(pa.large_string()))
    if not parts:
        text = pa.array([""] * len(values), pa.large_string())
    elif len(parts) == 1:
        text = parts[0]
    else:
        text = pc.binary_join_element_wise(*parts, pa.scalar("", pa.large_string()))
    return strings.from_lookup(dev, inverse.reshape(-1), col.validity, text, t.string)


def strptime(col: Column, format: str, unit: str = "us", errors: str = "raise") -> Column:  # noqa: A002
    """Parse a string column into timestamps (host parsing of the dictionary).

    Parameters
    ----------
    format : str
        strptime directives as pyarrow implements them; ``%z`` gives a UTC timestamp.
    unit : str
        The timestamp unit.
    errors : {"raise", "null"}
        A value (in some row) that does not parse raises CastError naming it and the row,
        or becomes null.

    Examples
    --------
    >>> c = Column.from_pylist(["2020-01-02 03:04", None])
    >>> strptime(c, "%Y-%m-%d %H:%M").to_pylist()
    [datetime.datetime(2020, 1, 2, 3, 4), None]
    """
    strings._require_string(col, "strptime")
    if errors not in ("raise", "null"):
        msg = f"strptime: errors must be 'raise' or 'null', got {errors!r}"
        raise ExecutionError(msg)
    dev, xp = col.device, col.xp
    parsed = pc.strptime(col.dictionary, format=format, unit=unit, error_is_null=True)
    codes = strings._safe_codes(col)
    if errors == "raise" and parsed.null_count:
        bad_entry = dev.asarray(parsed.is_null().to_numpy(zero_copy_only=False))
        bad = bad_entry[codes] if col.validity is None else bad_entry[codes] & col.validity
        if bool(dev.scalar(bad.any())):
            row = int(dev.scalar(xp.argmax(bad)))
            value = col.dictionary[int(dev.scalar(codes[row]))].as_py()
            msg = (
                f"strptime: {value!r} at row {row} does not match the format {format!r}; "
                "fix the format or pass errors='null'"
            )
            raise CastError(msg)
    return strings.from_lookup(dev, codes, col.validity, parsed)


__all__ = [
    "add_duration",
    "add_interval",
    "civil_from_days",
    "date_diff",
    "date_part",
    "date_trunc",
    "days_from_civil",
    "diff",
    "extract",
    "make_date",
    "strftime",
    "strptime",
    "sub_duration",
    "to_timestamp",
]
