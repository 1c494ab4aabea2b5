"""Date and timestamp kernels against pandas ``.dt`` and DuckDB on the same values."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb import types as t
from xpdb.column import Column
from xpdb.errors import CastError, NotSupportedError
from xpdb.errors import TypeError as XTypeError
from xpdb.kernels import datetime as D

_FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
hyp = settings(suppress_health_check=_FIXTURE_OK, max_examples=40)

_con = duckdb.connect()
_con.execute("SET TimeZone = 'UTC'")

PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
DAY_LO = (dt.date(1600, 1, 1) - dt.date(1970, 1, 1)).days
DAY_HI = (dt.date(2400, 12, 31) - dt.date(1970, 1, 1)).days
EDGE_DATES = [dt.date(1970, 1, 1), dt.date(1969, 12, 31), dt.date(2000, 2, 29), dt.date(1900, 2, 28),
              dt.date(1900, 3, 1), dt.date(2024, 2, 29), dt.date(1999, 12, 31), dt.date(2000, 1, 1),
              dt.date(2021, 1, 3), dt.date(2020, 12, 31), dt.date(1600, 1, 1), dt.date(2400, 12, 31),
              dt.date(2004, 12, 27), dt.date(2010, 1, 3)]
EDGE_DAYS = [(d - dt.date(1970, 1, 1)).days for d in EDGE_DATES]

days_lists = st.lists(
    st.none() | st.integers(DAY_LO, DAY_HI) | st.sampled_from(EDGE_DAYS), max_size=15
)
units = st.sampled_from(["s", "ms", "us", "ns"])


def stamps(unit: str):
    """Timestamps over 1600..2400 (1678..2261 for ns), negative epochs included."""
    ps = PER_SECOND[unit]
    lo, hi = (DAY_LO, DAY_HI) if unit != "ns" else (-105_000, 105_000)
    edges = [0, -1, ps * 86_400 - 1, -ps * 86_400, -ps]
    return st.lists(
        st.none() | st.integers(lo * 86_400 * ps, hi * 86_400 * ps) | st.sampled_from(edges),
        max_size=15,
    )


def us_aligned(values: list[int | None], unit: str) -> list[int | None]:
    """Values DuckDB holds exactly: it turns TIMESTAMP_NS into microseconds (toward zero)
    for extract, date_trunc and date_diff."""
    if unit != "ns":
        return values
    return [None if v is None else v - v % 1000 for v in values]


def date_col(days: list[int | None], device: str) -> Column:
    return Column.from_arrow(pa.array(days, pa.int32()).cast(pa.date32()), device)


def ts_col(values: list[int | None], unit: str, device: str, tz: str | None = None) -> Column:
    return Column.from_arrow(pa.array(values, pa.int64()).cast(pa.timestamp(unit, tz)), device)


def duck(sql: str, arr: pa.Array, *params: object, other: pa.Array | None = None) -> list:
    cols = {"x": arr} if other is None else {"x": arr, "y": other}
    _con.register("tbl", pa.table(cols))
    try:
        return [r[0] for r in _con.execute(sql, list(params)).fetchall()]
    finally:
        _con.unregister("tbl")


def check(res: Column, expected: list) -> None:
    res.validate()
    assert res.to_pylist() == expected


def pandas_fields(s: pd.Series) -> dict[str, list]:
    iso = s.dt.isocalendar()

    def ints(x: pd.Series) -> list:
        return [None if pd.isna(v) else int(v) for v in x]

    return {
        "year": ints(s.dt.year), "quarter": ints(s.dt.quarter), "month": ints(s.dt.month),
        "day": ints(s.dt.day), "dayofyear": ints(s.dt.day_of_year),
        "dayofweek": ints(s.dt.day_of_week), "week": ints(iso["week"]),
        "isoyear": ints(iso["year"]), "hour": ints(s.dt.hour), "minute": ints(s.dt.minute),
        "second": ints(s.dt.second),
    }


# -- the calendar --------------------------------------------------------------------------------
def test_civil_round_trip_every_day_of_many_years():
    days = np.arange(DAY_LO - 200_000, DAY_HI + 200_000, 7, dtype=np.int64)
    y, m, d = D.civil_from_days(np, days)
    np.testing.assert_array_equal(D.days_from_civil(np, y, m, d), days)
    sample = days[(days >= -719_162) & (days < 2_932_896)][::97]  # years 1..9999 for Python
    ys, ms, ds = D.civil_from_days(np, sample)
    expected = [dt.date.fromordinal(int(x) + 719_163) for x in sample]
    assert [dt.date(int(a), int(b), int(c)) for a, b, c in zip(ys, ms, ds, strict=True)] == expected


# -- extract -----------------------------------------------------------------------------------
@hyp
@given(days=days_lists)
def test_extract_dates_match_pandas_and_duckdb(device, days):
    c = date_col(days, device)
    s = pd.Series(pa.array(days, pa.int32()).cast(pa.date32()).to_pandas(types_mapper=None)).astype(
        "datetime64[s]"
    )
    for field, expected in pandas_fields(s).items():
        check(D.extract(c, field, convention="pandas"), expected)
    arr = pa.array(days, pa.int32()).cast(pa.date32())
    for field in ("year", "month", "dow", "isodow", "week", "isoyear", "doy", "quarter"):
        check(D.extract(c, field), duck(f"select extract('{field}' from x) from tbl", arr))
    epoch = D.extract(c, "epoch")
    assert epoch.dtype == t.float64
    check(epoch, duck("select extract('epoch' from x) from tbl", arr))


@hyp
@given(data=st.data(), unit=units)
def test_extract_timestamps_match_pandas_and_duckdb(device, data, unit):
    values = data.draw(stamps(unit))
    c = ts_col(values, unit, device)
    arr = pa.array(values, pa.int64()).cast(pa.timestamp(unit))
    s = pd.Series(np.array([0 if v is None else v for v in values], f"datetime64[{unit}]"))
    s[[v is None for v in values]] = pd.NaT
    expected = pandas_fields(s)
    expected["microsecond"] = [None if pd.isna(v) else int(v) for v in s.dt.microsecond]
    expected["nanosecond"] = [None if pd.isna(v) else int(v) for v in s.dt.nanosecond]
    for field, exp in expected.items():
        check(D.extract(c, field, convention="pandas"), exp)
    duck_type = {"s": "timestamp_s", "ms": "timestamp_ms", "us": "timestamp", "ns": "timestamp_ns"}[unit]
    values = us_aligned(values, unit)
    c = ts_col(values, unit, device)
    arr = pa.array(values, pa.int64()).cast(pa.timestamp(unit))
    for field in ("millisecond", "microsecond", "dow", "epoch"):
        got = D.extract(c, field)
        exp = duck(f"select extract('{field}' from x::{duck_type}) from tbl", arr)
        if field == "epoch":
            np.testing.assert_allclose(
                np.array(got.to_pylist(), float), np.array(exp, float), rtol=1e-15
            )
        else:
            check(got, exp)


def test_extract_sql_and_pandas_sub_second_conventions(device):
    c = ts_col([((12 * 60 + 5) * 10**9) + 250_123_456], "ns", device)
    assert D.extract(c, "millisecond").to_pylist() == [5250]
    assert D.extract(c, "microsecond").to_pylist() == [5_250_123]
    assert D.extract(c, "nanosecond").to_pylist() == [5_250_123_456]
    assert D.extract(c, "millisecond", convention="pandas").to_pylist() == [250]
    assert D.extract(c, "microsecond", convention="pandas").to_pylist() == [250_123]
    assert D.extract(c, "nanosecond", convention="pandas").to_pylist() == [456]
    assert D.extract(date_col([5], device), "hour").to_pylist() == [0]


@pytest.mark.parametrize("tz", ["America/New_York", "Europe/Paris", "Asia/Kolkata", "Australia/Lord_Howe"])
def test_extract_in_local_time_matches_pandas(device, rng, tz):
    lo, hi = 0, 2_100_000_000  # 1970..2036: the span where every tz database agrees
    secs = np.sort(rng.integers(lo, hi, 400))
    secs = np.concatenate([secs, [1_615_705_200 - 1, 1_615_705_200, 1_636_264_800 - 1, 1_636_264_800]])
    c = ts_col(list(secs * 1000), "ms", device, tz)
    s = pd.Series(secs.astype("datetime64[s]")).dt.tz_localize("UTC").dt.tz_convert(tz)
    for field, expected in pandas_fields(s).items():
        check(D.extract(c, field), expected)
    check(D.extract(c, "epoch"), [float(x) for x in secs])


def test_unknown_zone_and_field_are_type_errors(device):
    c = ts_col([0], "s", device, "Mars/Olympus_Mons")
    with pytest.raises(XTypeError, match="Mars/Olympus_Mons"):
        D.extract(c, "hour")
    with pytest.raises(XTypeError, match="fortnight"):
        D.extract(date_col([0], device), "fortnight")
    with pytest.raises(XTypeError, match="int64"):
        D.extract(Column.from_pylist([1], device=device), "year")


def test_tz_transitions_found_to_the_second():
    # New York sprang forward at 2021-03-14 07:00 UTC and fell back at 2021-11-07 06:00 UTC
    lo, hi = 18_600, 18_990
    instants, offsets = D._tz_table("America/New_York", lo, hi)
    assert instants.tolist() == [1_615_705_200, 1_636_264_800]
    assert offsets.tolist() == [-18_000, -14_400, -18_000]


# -- truncation ----------------------------------------------------------------------------------
@hyp
@given(days=days_lists, unit=st.sampled_from(["year", "quarter", "month", "week", "day", "hour"]))
def test_date_trunc_dates_match_duckdb(device, days, unit):
    arr = pa.array(days, pa.int32()).cast(pa.date32())
    res = D.date_trunc(date_col(days, device), unit)
    assert res.dtype == t.date
    expected = duck(f"select date_trunc('{unit}', x)::date from tbl", arr)
    check(res, expected)


@hyp
@given(data=st.data(), unit=units, trunc=st.sampled_from(
    ["year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond", "microsecond"]
))
def test_date_trunc_timestamps_match_duckdb(device, data, unit, trunc):
    values = us_aligned(data.draw(stamps(unit)), unit)
    arr = pa.array(values, pa.int64()).cast(pa.timestamp(unit))
    res = D.date_trunc(ts_col(values, unit, device), trunc)
    assert res.dtype == t.timestamp(unit)
    duck_type = {"s": "timestamp_s", "ms": "timestamp_ms", "us": "timestamp", "ns": "timestamp_ns"}[unit]
    expected = duck(f"select date_trunc('{trunc}', x::{duck_type})::timestamp from tbl", arr)
    assert res.to_arrow().cast(pa.timestamp("us")).to_pylist() == expected


@pytest.mark.parametrize("tz", ["America/New_York", "Europe/Paris", "Asia/Kolkata"])
@pytest.mark.parametrize("unit", ["day", "hour", "month", "week"])
def test_date_trunc_in_local_time_matches_pandas(device, rng, tz, unit):
    secs = rng.integers(0, 2_100_000_000, 300)
    c = ts_col(list(secs), "s", device, tz)
    wall = pd.Series(secs.astype("datetime64[s]")).dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
    if unit in ("day", "hour"):
        expected = wall.dt.floor({"day": "D", "hour": "h"}[unit])
    elif unit == "month":
        expected = wall.dt.to_period("M").dt.start_time
    else:
        expected = (wall - pd.to_timedelta(wall.dt.day_of_week, unit="D")).dt.floor("D")
    res = D.date_trunc(c, unit)
    got = pd.Series(res.to_arrow().to_pandas()).dt.tz_localize(None)
    assert [str(x) for x in got] == [str(x) for x in expected.astype("datetime64[s]")]


# -- interval arithmetic -----------------------------------------------------------------------
@hyp
@given(days=days_lists, months=st.integers(-30, 30), ndays=st.integers(-400, 400))
def test_add_interval_dates_match_duckdb(device, days, months, ndays):
    arr = pa.array(days, pa.int32()).cast(pa.date32())
    res = D.add_interval(date_col(days, device), months=months, days=ndays)
    assert res.dtype == t.date
    expected = duck("select (x + to_months(?) + to_days(?))::date from tbl", arr, months, ndays)
    check(res, expected)


@hyp
@given(data=st.data(), unit=st.sampled_from(["us", "ns"]), months=st.integers(-30, 30),
       ndays=st.integers(-60, 60), micros=st.integers(-10**11, 10**11))
def test_add_interval_timestamps_match_duckdb(device, data, unit, months, ndays, micros):
    # whole microseconds: DuckDB computes in microseconds
    values = us_aligned(data.draw(stamps(unit)), unit)
    arr = pa.array(values, pa.int64()).cast(pa.timestamp(unit))
    res = D.add_interval(ts_col(values, unit, device), months, ndays, micros)
    assert res.dtype == t.timestamp(unit)
    expected = duck(
        "select x::timestamp + to_months(?) + to_days(?) + to_microseconds(?) from tbl",
        arr, months, ndays, micros,
    )
    assert res.to_arrow().cast(pa.timestamp("us")).to_pylist() == expected


def test_add_interval_clamps_and_columns(device):
    c = date_col([(dt.date(2020, 1, 31) - dt.date(1970, 1, 1)).days, None], device)
    months = Column.from_pylist([1, 2], device=device)
    check(D.add_interval(c, months=months), [dt.date(2020, 2, 29), None])
    res = D.add_interval(c, micros=90 * 60 * 10**6)
    assert res.dtype == t.timestamp("us")
    check(res, [dt.datetime(2020, 1, 31, 1, 30), None])
    check(D.add_interval(c, days=-31, micros=-86_400 * 10**6), [dt.date(2019, 12, 30), None])
    with pytest.raises(NotSupportedError, match="finer"):
        D.add_interval(ts_col([0], "s", device), micros=5)


def test_add_interval_in_local_time(device):
    # 2021-03-13 12:00 in New York (EST) + 1 day = 2021-03-14 12:00 EDT: 23 hours later
    start = int(pd.Timestamp("2021-03-13 12:00", tz="America/New_York").value // 10**9)
    c = ts_col([start], "s", device, "America/New_York")
    res = D.add_interval(c, days=1)
    assert res.to_pylist()[0] == pd.Timestamp("2021-03-14 12:00", tz="America/New_York")
    assert int(res.data[0]) - start == 23 * 3600
    exact = D.add_interval(c, micros=86_400 * 10**6)
    assert int(exact.data[0]) - start == 24 * 3600


# -- durations, differences -------------------------------------------------------------------
def test_add_and_sub_duration(device):
    ts = ts_col([0, None, -1500], "ms", device)
    check(D.add_duration(ts, dt.timedelta(seconds=1)),
          [dt.datetime(1970, 1, 1, 0, 0, 1), None, dt.datetime(1969, 12, 31, 23, 59, 59, 500_000)])
    assert D.add_duration(ts, dt.timedelta(seconds=1)).dtype == t.timestamp("us")
    dur = Column.from_arrow(pa.array([1, 2, 3], pa.duration("s")), device)
    res = D.add_duration(dur, ts)
    assert res.dtype == t.timestamp("ms")
    check(res, [dt.datetime(1970, 1, 1, 0, 0, 1), None, dt.datetime(1970, 1, 1, 0, 0, 1, 500_000)])
    check(D.sub_duration(ts, dur), [dt.datetime(1969, 12, 31, 23, 59, 59), None,
                                    dt.datetime(1969, 12, 31, 23, 59, 55, 500_000)])
    check(D.add_duration(dur, dur), [dt.timedelta(seconds=2), dt.timedelta(seconds=4),
                                     dt.timedelta(seconds=6)])
    d = date_col([0], device)
    check(D.add_duration(d, np.timedelta64(36, "h")), [dt.datetime(1970, 1, 2, 12)])
    check(D.add_duration(ts, None), [None, None, None])
    with pytest.raises(XTypeError, match="duration"):
        D.add_duration(ts, ts)
    with pytest.raises(XTypeError, match="only scalars"):
        D.add_duration(dt.date(2020, 1, 1), dt.timedelta(1))
    with pytest.raises(XTypeError, match="int"):
        D.add_duration(ts, 5)


@hyp
@given(a=days_lists, b=days_lists)
def test_diff_of_dates_matches_duckdb(device, a, b):
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    arr, other = (pa.array(x, pa.int32()).cast(pa.date32()) for x in (a, b))
    res = D.diff(date_col(a, device), date_col(b, device))
    assert res.dtype == t.int64
    check(res, duck("select x - y from tbl", arr, other=other))


def test_diff_of_timestamps_and_scalars(device):
    a = ts_col([10**6, None, -5], "us", device)
    b = ts_col([3, 4, 5], "s", device)
    res = D.diff(a, b)
    assert res.dtype == t.duration("us")
    check(res, [dt.timedelta(seconds=-2), None, dt.timedelta(seconds=-5, microseconds=-5)])
    check(D.diff(a, dt.datetime(1970, 1, 1, 0, 0, 1)), [dt.timedelta(0), None,
                                                         dt.timedelta(seconds=-1, microseconds=-5)])
    check(D.diff(dt.date(1970, 1, 2), date_col([0, None], device)), [1, None])
    check(D.diff(a, dt.timedelta(seconds=1)), [dt.datetime(1970, 1, 1), None,
                                               dt.datetime(1969, 12, 31, 23, 59, 58, 999_995)])
    aware = dt.datetime(1970, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    check(D.diff(a, aware), [dt.timedelta(seconds=1), None, dt.timedelta(microseconds=-5)])


@hyp
@given(data=st.data(), unit=st.sampled_from(
    ["year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond", "microsecond"]
), tunit=units)
def test_date_diff_matches_duckdb(device, data, unit, tunit):
    a = us_aligned(data.draw(stamps(tunit)), tunit)
    b = data.draw(st.lists(st.none() | st.integers(-10**18, 10**18), min_size=len(a), max_size=len(a)))
    ps = PER_SECOND[tunit]
    lim = 105_000 * 86_400 * ps if tunit == "ns" else DAY_HI * 86_400 * ps
    b = [None if v is None else max(min(v // (10**9 // ps), lim), -lim) for v in b]
    b = us_aligned(b, tunit)
    arr, other = (pa.array(x, pa.int64()).cast(pa.timestamp(tunit)) for x in (a, b))
    duck_type = {"s": "timestamp_s", "ms": "timestamp_ms", "us": "timestamp", "ns": "timestamp_ns"}[tunit]
    expected = duck(f"select date_diff('{unit}', x::{duck_type}, y::{duck_type}) from tbl", arr, other=other)
    check(D.date_diff(unit, ts_col(a, tunit, device), ts_col(b, tunit, device)), expected)


@hyp
@given(a=days_lists, b=days_lists, unit=st.sampled_from(["year", "quarter", "month", "week", "day"]))
def test_date_diff_of_dates_matches_duckdb(device, a, b, unit):
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    arr, other = (pa.array(x, pa.int32()).cast(pa.date32()) for x in (a, b))
    expected = duck(f"select date_diff('{unit}', x, y) from tbl", arr, other=other)
    check(D.date_diff(unit, date_col(a, device), date_col(b, device)), expected)


def test_date_diff_mixed_and_scalar(device):
    c = date_col([0, None], device)
    check(D.date_diff("hour", c, dt.datetime(1970, 1, 1, 5, 30)), [5, None])
    check(D.date_diff("month", dt.date(1969, 12, 31), c), [1, None])
    check(D.date_diff("day", c, None), [None, None])
    with pytest.raises(XTypeError, match="fortnight"):
        D.date_diff("fortnight", c, c)


# -- construction, formatting, parsing ---------------------------------------------------------
def test_to_timestamp(device):
    ints = Column.from_pylist([0, -1, None, 1_700_000_000], device=device)
    res = D.to_timestamp(ints)
    assert res.dtype == t.timestamp("us")
    expected = pd.to_datetime(pd.Series([0, -1, 0, 1_700_000_000]), unit="s").tolist()
    expected[2] = None
    assert res.to_pylist() == [None if v is None else v.to_pydatetime() for v in expected]
    floats = Column.from_pylist([1.5, float("nan"), -0.25, float("inf")], device=device)
    check(D.to_timestamp(floats), [dt.datetime(1970, 1, 1, 0, 0, 1, 500_000), None,
                                   dt.datetime(1969, 12, 31, 23, 59, 59, 750_000), None])
    check(D.to_timestamp(Column.from_pylist([1500], device=device), unit="ms", out_unit="s"),
          [dt.datetime(1970, 1, 1, 0, 0, 1)])


@hyp
@given(days=days_lists)
def test_make_date_round_trips_fields(device, days):
    c = date_col(days, device)
    y, m, d = (D.extract(c, f) for f in ("year", "month", "day"))
    check(D.make_date(y, m, d), c.to_pylist())


def test_make_date_errors(device):
    y = Column.from_pylist([2020, 2021, None], device=device)
    check(D.make_date(y, 2, 29, errors="null"), [dt.date(2020, 2, 29), None, None])
    with pytest.raises(CastError, match=r"make_date\(2021, 2, 29\) at row 1"):
        D.make_date(y, 2, 29)
    check(D.make_date(y, Column.from_pylist([13, 1, 1], device=device), 1, errors="null"),
          [None, dt.date(2021, 1, 1), None])
    check(D.make_date(y, None, 1), [None, None, None])


@hyp
@given(days=days_lists, secs=st.integers(0, 86_399_999_999))
def test_strftime_matches_python(device, days, secs):
    fmt = "%Y-%m-%d %H:%M:%S.%f %j %a|%%f"
    values = [None if d is None or d < -300_000 else d * 86_400_000_000 + secs for d in days]
    c = ts_col(values, "us", device)
    expected = [None if v is None else (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=v)).strftime(fmt)
                for v in values]
    check(D.strftime(c, fmt), expected)
    dates = date_col([d for d in days if d is None or d >= -300_000], device)
    check(D.strftime(dates, "%d/%m/%Y"), [None if v is None else v.strftime("%d/%m/%Y")
                                           for v in dates.to_pylist()])


def test_strftime_time_zone_and_empty(device):
    c = ts_col([0, None], "s", device, "Europe/Paris")
    check(D.strftime(c, "%H:%M %Z"), ["01:00 CET", None])
    check(D.strftime(ts_col([], "ms", device), "%Y"), [])
    check(D.strftime(date_col([None], device), "%Y"), [None])


def test_strptime(device):
    c = Column.from_arrow(pa.array(["2020-01-02 03:04:05", None, "1969-12-31 23:59:59"] * 2), device)
    res = D.strptime(c, "%Y-%m-%d %H:%M:%S", unit="s")
    assert res.dtype == t.timestamp("s")
    check(res, [dt.datetime(2020, 1, 2, 3, 4, 5), None, dt.datetime(1969, 12, 31, 23, 59, 59)] * 2)
    bad = Column.from_arrow(pa.array(["2020-01-02", "nope"]), device)
    with pytest.raises(CastError, match="'nope' at row 1"):
        D.strptime(bad, "%Y-%m-%d")
    check(D.strptime(bad, "%Y-%m-%d", errors="null"), [dt.datetime(2020, 1, 2), None])
    # a bad value no row points at (left in the dictionary by a filter) is no error
    kept = bad.filter(np.array([True, False]) if device == "cpu" else bad.xp.asarray([True, False]))
    check(D.strptime(kept, "%Y-%m-%d"), [dt.datetime(2020, 1, 2)])


def test_empty_and_all_null_columns(device):
    empty = date_col([], device)
    nulls = ts_col([None, None], "us", device, "America/New_York")
    for col in (empty, nulls):
        n = len(col)
        check(D.extract(col, "year"), [None] * n)
        check(D.date_trunc(col, "month"), [None] * n)
        check(D.add_interval(col, months=1), [None] * n)
        check(D.date_diff("day", col, col), [None] * n)
    check(D.diff(empty, empty), [])
