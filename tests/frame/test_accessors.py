"""Series.str and Series.dt against pandas on the same data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb.errors import TypeError as XTypeError
from xpdb.frame import Series, from_pandas
from xpdb.testing import assert_tables_equal

fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

TEXT = [" Ab ", None, "cd", "ümlaut", "a.b.a", "", "日本語", "ABC", "12", "x\ty"]


def check(xser: Series, pser: pd.Series) -> None:
    assert isinstance(xser, Series)
    assert_tables_equal(xser.to_frame("v").to_pandas(), pser.reset_index(drop=True).to_frame("v"))


_STR_CALLS = [
    ("upper", ()), ("lower", ()), ("title", ()), ("capitalize", ()), ("swapcase", ()),
    ("len", ()), ("strip", ()), ("lstrip", ()), ("rstrip", ()), ("strip", (" A",)),
    ("slice", (1, 3)), ("slice", (None, None, -1)), ("slice", (-2,)), ("get", (0,)),
    ("pad", (5,)), ("pad", (6, "both", "*")), ("zfill", (4,)), ("repeat", (2,)),
    ("contains", ("a",)), ("contains", ("A", False)), ("contains", ("^a|b$",)),
    ("contains", (".", True, 0, False, False)), ("startswith", ("a",)),
    ("startswith", (("a", "c"),)), ("endswith", ("a",)), ("match", ("[a-c]",)),
    ("fullmatch", ("[a-d]+",)), ("find", ("b",)), ("count", ("a",)),
    ("replace", ("a", "X")), ("replace", ("a", "X", 1)), ("replace", ("A", "z", -1, False)),
    ("replace", (r"(\w)\.", r"<\1>", -1, None, 0, True)), ("replace", (".", "-")),
    ("isdigit", ()), ("isalpha", ()), ("isalnum", ()), ("isnumeric", ()), ("isspace", ()),
    ("islower", ()), ("isupper", ()),
]


@pytest.mark.parametrize(("name", "args"), _STR_CALLS, ids=[f"{n}{a}" for n, a in _STR_CALLS])
def test_str_methods_match_pandas(device: str, name: str, args: tuple) -> None:
    p = pd.Series(TEXT, dtype="str")
    x = Series(p, device=device)
    check(getattr(x.str, name)(*args), getattr(p.str, name)(*args))


def test_str_predicates_filter_like_pandas(device: str) -> None:
    pdf = pd.DataFrame({"s": pd.Series(TEXT, dtype="str"), "i": range(len(TEXT))})
    xdf = from_pandas(pdf, device=device)
    for mask_x, mask_p in [(xdf["s"].str.contains("a"), pdf["s"].str.contains("a")),
                           (~xdf["s"].str.startswith("a"), ~pdf["s"].str.startswith("a"))]:
        assert_tables_equal(xdf[mask_x].to_pandas(), pdf[mask_p].reset_index(drop=True))
    assert Series(["a", None], device=device).str.contains("a", na=None).to_list() == [True, None]


def test_str_cat(device: str) -> None:
    p = pd.Series(["a", None, "ç"], dtype="str")
    x = Series(p, device=device)
    assert x.str.cat(sep=",") == p.str.cat(sep=",")
    assert x.str.cat(sep=",", na_rep="?") == p.str.cat(sep=",", na_rep="?")
    check(x.str.cat(x, sep="-"), p.str.cat(p, sep="-"))
    check(x.str.cat(["1", "2", "3"]), p.str.cat(["1", "2", "3"]))
    check(x.str.cat(x, na_rep="_"), p.str.cat(p, na_rep="_"))


def test_str_on_empty_and_all_null(device: str) -> None:
    e = Series([], device=device, dtype="string")
    assert e.str.upper().to_list() == [] and e.str.len().to_list() == []
    n = Series([None, None], device=device, dtype="string")
    assert n.str.upper().to_list() == [None, None]
    assert n.str.contains("a").to_list() == [False, False]


def test_str_needs_strings(device: str) -> None:
    with pytest.raises(XTypeError, match=r"\.str"):
        _ = Series([1, 2], device=device).str


@fixture_ok
@given(values=st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=12),
       pat=st.sampled_from(["a", "é", "", "ab", " "]))
def test_property_str_matches_pandas(device: str, values: list, pat: str) -> None:
    p = pd.Series(values, dtype="str")
    x = Series(p, device=device)
    check(x.str.upper(), p.str.upper())
    check(x.str.len(), p.str.len())
    check(x.str.contains(pat, regex=False), p.str.contains(pat, regex=False))
    check(x.str.replace(pat, "_"), p.str.replace(pat, "_"))
    check(x.str.strip(), p.str.strip())


# -- .dt -------------------------------------------------------------------------------------------
_FIELDS = ["year", "month", "day", "hour", "minute", "second", "microsecond", "dayofweek",
           "day_of_week", "weekday", "dayofyear", "day_of_year", "quarter"]
# pandas 3.1 deprecates the short names that xpdb keeps; the oracle uses the long ones
_PANDAS = {"dayofweek": "day_of_week", "weekday": "day_of_week", "dayofyear": "day_of_year"}


def timestamps() -> pd.Series:
    return pd.Series(pd.to_datetime([
        "2024-02-29 13:45:30.123456", None, "1969-12-31 23:59:59.999999", "2000-01-01",
        "2023-12-31 00:00:01", "1900-03-01 06:07:08",
    ], format="ISO8601").as_unit("us"))


@pytest.mark.parametrize("field", _FIELDS)
def test_dt_fields_match_pandas(device: str, field: str) -> None:
    p = timestamps()
    x = Series(p, device=device)
    check(getattr(x.dt, field), getattr(p.dt, _PANDAS.get(field, field)))


@pytest.mark.parametrize("field", ["year", "month", "day", "dayofweek", "dayofyear", "quarter"])
def test_dt_fields_of_dates(device: str, field: str) -> None:
    days = [dt.date(2024, 2, 29), None, dt.date(1969, 12, 31), dt.date(2023, 1, 1)]
    x = Series(days, device=device)
    p = pd.Series(pd.to_datetime(pd.Series(days)))
    check(getattr(x.dt, field), getattr(p.dt, _PANDAS.get(field, field)))


def test_dt_date_floor_normalize_strftime(device: str) -> None:
    p = timestamps()
    x = Series(p, device=device)
    assert x.dt.date.to_list() == [None if v is pd.NaT else v for v in p.dt.date.tolist()]
    for freq in ("D", "h", "min", "s"):
        check(x.dt.floor(freq), p.dt.floor(freq))
    check(x.dt.normalize(), p.dt.normalize())
    check(x.dt.strftime("%Y-%m-%d %H:%M"), p.dt.strftime("%Y-%m-%d %H:%M"))
    with pytest.raises(XTypeError, match=r"\.dt"):
        _ = Series([1], device=device).dt
    with pytest.raises(AttributeError):
        _ = x.dt.nope


def test_dt_with_time_zone(device: str) -> None:
    p = pd.Series(pd.to_datetime(["2024-03-10 01:30", "2024-03-10 12:00", None])
                  .tz_localize("UTC").tz_convert("America/New_York"))
    x = Series(p, device=device)
    check(x.dt.hour, p.dt.hour)
    check(x.dt.day, p.dt.day)


def test_dt_nat_from_numpy(device: str) -> None:
    arr = np.array(["2021-05-06T07:08:09", "NaT"], dtype="datetime64[s]")
    x = Series(arr, device=device)
    assert x.dt.year.to_list() == [2021, None]
    assert x.isna().to_list() == [False, True]
