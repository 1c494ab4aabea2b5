"""Series: operators, missing values, element-wise functions, reductions, distinct values,
conversion. The oracle is pandas on the same data."""

from __future__ import annotations

import math
import operator

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpdb
from xpdb import types as t
from xpdb.errors import TypeError as XTypeError
from xpdb.errors import XpdbError
from xpdb.frame import DataFrame, Series, from_pandas
from xpdb.testing import assert_tables_equal

fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def pd_ints() -> pd.Series:
    return pd.Series([3, None, -7, 0, 12, 5], dtype="float64", name="x")


def pd_floats() -> pd.Series:
    return pd.Series([1.5, np.nan, -2.25, 0.0, np.inf, 4.0], name="y")


def xs(ps: pd.Series, device: str, dtype: object = None) -> Series:
    s = Series(ps, device=device)
    return s if dtype is None else s.astype(dtype)


def check(xser: Series, pser: pd.Series) -> None:
    assert isinstance(xser, Series)
    assert_tables_equal(xser.to_frame("v").to_pandas(), pser.reset_index(drop=True).to_frame("v"))


# -- construction ------------------------------------------------------------------------------
def test_construct(device: str) -> None:
    s = Series([1, None, 3], name="a", device=device)
    assert s.name == "a" and s.dtype == t.int64 and len(s) == 3 and s.shape == (3,)
    assert s.device is xpdb.get_device(device)
    assert Series(np.array([1.0, np.nan]), device=device).isna().to_list() == [False, True]
    p = pd.Series(["x", None], name="p")
    assert Series(p, device=device).name == "p"
    assert Series(Series([1, 2], device=device), name="q").name == "q"
    assert Series([], device=device).empty
    assert Series([1, 2], device=device, dtype="float64").dtype == t.float64
    assert "Name: a, dtype: int64" in repr(s)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(s)


def test_getitem_head_tail(device: str) -> None:
    s = Series([10, 20, 30, 40], device=device)
    assert s[0] == 10 and s[-1] == 40
    with pytest.raises(IndexError):
        s[4]
    assert s[1:3].to_list() == [20, 30]
    assert s[::2].to_list() == [10, 30]
    assert s[[3, 0, -1]].to_list() == [40, 10, 40]
    assert s[np.array([1])].to_list() == [20] and s.take([2]).to_list() == [30]
    with pytest.raises(IndexError):
        s[[7]]
    assert s[s > 15].to_list() == [20, 30, 40]
    assert s.head(2).to_list() == [10, 20] and s.tail(2).to_list() == [30, 40]
    assert list(s) == [10, 20, 30, 40]


# -- arithmetic --------------------------------------------------------------------------------
_OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
        operator.mod]


@pytest.mark.parametrize("op", _OPS)
def test_arith_series_and_scalars(device: str, op: object) -> None:
    a, b = pd_ints(), pd_floats()
    xa, xb = xs(a, device), xs(b, device)
    check(op(xa, xb), op(a, b))
    check(op(xa, 3), op(a, 3))
    check(op(2.5, xb), op(2.5, b))
    check(op(xb, 0), op(b, 0))
    check(op(np.float64(2.0), xa), op(np.float64(2.0), a))


def test_int_arith_division_by_zero(device: str) -> None:
    a = pd.Series([1, 0, -1, 3])
    b = pd.Series([0, 0, 0, -2])
    xa, xb = Series(a, device=device), Series(b, device=device)
    check(xa / xb, a / b)
    check(xa // xb, a // b)
    check(xa % xb, a % b)
    check(xa / 0, a / 0)


def test_int64_extremes_wrap_like_pandas(device: str) -> None:
    a = pd.Series([2**63 - 1, -(2**63), 0, 7])
    x = Series(a, device=device)
    check(x + 1, a + 1)
    check(x - 1, a - 1)
    check(x * 2, a * 2)
    check(x // 3, a // 3)
    check(x % 5, a % 5)
    check(x == 2**63 - 1, a == 2**63 - 1)
    assert x.max() == 2**63 - 1 and x.min() == -(2**63)


def test_pow_neg_abs_round(device: str) -> None:
    a = pd.Series([1.5, -2.5, 0.5, None, 3.0])
    x = Series(a, device=device)
    check(x ** 2, a ** 2)
    check(2 ** x, 2 ** a)
    check(-x, -a)
    check(abs(x), a.abs())
    check(x.abs(), a.abs())
    check(x.round(), a.round())
    check((x * 1.234).round(2), (a * 1.234).round(2))
    ints = Series([15, 25, -35], device=device)
    check(ints.round(-1), pd.Series([15, 25, -35]).round(-1))
    check(+x, a)


def test_string_concat_with_plus(device: str) -> None:
    a = pd.Series(["a", None, "ü"])
    x = Series(a, device=device)
    assert (x + "!").to_list() == ["a!", None, "ü!"]
    assert ("<" + x).to_list() == ["<a", None, "<ü"]


def test_length_and_device_mismatch(device: str) -> None:
    with pytest.raises(XpdbError, match="equal lengths"):
        Series([1, 2], device=device) + Series([1, 2, 3], device=device)
    with pytest.raises(XpdbError, match="rows"):
        Series([1, 2], device=device) + np.array([1, 2, 3])


# -- comparison and logic ----------------------------------------------------------------------
@pytest.mark.parametrize("op", [operator.eq, operator.ne, operator.lt, operator.le,
                                operator.gt, operator.ge])
def test_compare_filters_like_pandas(device: str, op: object) -> None:
    a, b = pd_ints(), pd_floats()
    pdf = pd.DataFrame({"a": a, "b": b})
    xdf = from_pandas(pdf, device=device)
    # pandas' NaN != x is True; xpdb's is null, so != leaves out missing rows (documented)
    present = pdf["a"].notna() & pdf["b"].notna()
    exp = pdf[op(pdf["a"], pdf["b"]) & present] if op is operator.ne else \
        pdf[op(pdf["a"], pdf["b"])]
    assert_tables_equal(xdf[op(xdf["a"], xdf["b"])].to_pandas(), exp.reset_index(drop=True))
    exp = pdf[op(pdf["a"], 3) & pdf["a"].notna()]
    assert_tables_equal(xdf[op(xdf["a"], 3)].to_pandas(), exp.reset_index(drop=True))
    # on rows where both sides are present the result equals pandas'
    got = op(xdf["a"], xdf["b"]).to_list()
    exp = op(a, b).tolist()
    present = (a.notna() & b.notna()).tolist()
    assert [g for g, p in zip(got, present, strict=True) if p] == \
        [e for e, p in zip(exp, present, strict=True) if p]
    assert all(g is None for g, p in zip(got, present, strict=True) if not p)


def test_comparison_with_null_is_null_not_false(device: str) -> None:
    x = Series([1.0, None], device=device)
    assert (x == 1).to_list() == [True, None]
    assert (~(x == 1)).to_list() == [False, None]
    assert (~(x == 1)).fillna(False).to_list() == [False, False]


def test_strings_compare(device: str) -> None:
    a = pd.Series(["b", "a", None, "ä"])
    x = Series(a, device=device)
    assert (x == "a").to_list() == [False, True, None, False]
    assert (x > "a").to_list() == [True, False, None, True]
    assert (x == x).to_list() == [True, True, None, True]


def test_kleene_logic(device: str) -> None:
    p = Series([True, True, True, False, False, False, None, None, None], device=device)
    q = Series([True, False, None] * 3, device=device)
    assert (p & q).to_list() == [True, False, None, False, False, False, None, False, None]
    assert (p | q).to_list() == [True, True, True, True, False, None, True, None, None]
    assert (p ^ q).to_list() == [False, True, None, True, False, None, None, None, None]
    assert (~p).to_list() == [False] * 3 + [True] * 3 + [None] * 3
    assert (p & True).to_list() == p.to_list()
    assert (False | q).to_list() == q.to_list()
    assert (~Series([1, 2], device=device)).to_list() == [-2, -3]
    with pytest.raises(XTypeError, match="boolean"):
        Series([1], device=device) & Series([True], device=device)


# -- missing values and element-wise -----------------------------------------------------------
def test_missing_values(device: str) -> None:
    a = pd.Series([1.0, None, np.nan, 4.0])
    x = Series(a, device=device)
    check(x.isna(), a.isna())
    check(x.notna(), a.notna())
    check(x.isnull(), a.isnull())
    check(x.notnull(), a.notnull())
    check(x.fillna(0), a.fillna(0))
    check(x.dropna(), a.dropna())
    nan = x / 0 * 0  # NaN made by arithmetic is missing too, as in pandas
    assert nan.isna().to_list() == [True, True, True, True]
    assert nan.count() == 0 and nan.fillna(1).to_list() == [1.0] * 4
    s = Series(["a", None], device=device)
    assert s.fillna("z").to_list() == ["a", "z"]
    assert s.fillna(Series(["p", "q"], device=device)).to_list() == ["a", "q"]
    ints = Series([1, None], device=device)
    assert ints.fillna(0).to_list() == [1, 0] and ints.fillna(0).dtype == t.int64


def test_astype(device: str) -> None:
    x = Series([1.7, None, -2.2], device=device)
    assert x.astype("int64").to_list() == [1, None, -2]
    assert Series([1, 2], device=device).astype(str).to_list() == ["1", "2"]
    assert Series(["1.5", None], device=device).astype("float64").to_list() == [1.5, None]


def test_between_isin_where_clip(device: str) -> None:
    a = pd.Series([1, 5, None, 10, -3], dtype="float64")
    x = Series(a, device=device)
    pdf = pd.DataFrame({"a": a})
    xdf = from_pandas(pdf, device=device)
    for inc in ("both", "neither", "left", "right"):
        assert_tables_equal(xdf[xdf["a"].between(1, 10, inclusive=inc)].to_pandas(),
                            pdf[pdf["a"].between(1, 10, inclusive=inc)].reset_index(drop=True))
    check(x.isin([1, 10]), a.isin([1, 10]))
    check(x.isin([1, None]), a.isin([1, None]))
    check(x.isin(np.array([5.0])), a.isin(np.array([5.0])))
    check(Series(["a", None, "b"], device=device).isin(["b"]),
          pd.Series(["a", None, "b"]).isin(["b"]))
    with pytest.raises(XTypeError, match="list-like"):
        x.isin(1)
    check(x.where(x > 2, 0), a.where(a > 2, 0))
    check(x.where(x > 2), a.where(a > 2))
    check(x.mask(x > 2, -1), a.mask(a > 2, -1))
    check(x.clip(0, 6), a.clip(0, 6))
    check(x.clip(lower=2), a.clip(lower=2))
    i = pd.Series([1, 7, -4])
    check(Series(i, device=device).clip(-1.5, 5), i.clip(-1.5, 5))


def test_cumsum(device: str) -> None:
    a = pd.Series([1.0, None, 2.0, 3.0])
    check(Series(a, device=device).cumsum(), a.cumsum())
    b = pd.Series([True, False, True])
    check(Series(b, device=device).cumsum(), b.cumsum())


# -- reductions ----------------------------------------------------------------------------------
_REDUCTIONS = ["sum", "mean", "min", "max", "count", "std", "var", "median", "nunique",
               "prod", "skew", "kurt"]


def _same(got: object, exp: object) -> bool:
    if isinstance(exp, float | np.floating) and math.isnan(exp):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(exp, float | np.floating):
        return math.isclose(got, exp, rel_tol=1e-9, abs_tol=1e-12)
    return got == exp and type(got) in (int, bool, float, str)


@pytest.mark.parametrize("data", [
    [3, None, -7, 0, 12, 5],
    [1.5, np.nan, -2.25, 0.0, 4.0],
    [],
    [None, None],
    [2**62, 2**62 - 1, -(2**63)],
    [7],
], ids=["ints", "floats", "empty", "all-null", "extreme", "single"])
def test_reductions_match_pandas(device: str, data: list) -> None:
    dtype = "Int64" if data and all(isinstance(v, int) or v is None for v in data) else "float64"
    a = pd.Series(data, dtype=dtype)
    x = Series(a, device=device)
    for func in _REDUCTIONS:
        if func == "prod" and data and abs(max((v for v in data if v is not None),
                                                default=0, key=abs)) > 2**31:
            continue
        got, exp = getattr(x, func)(), getattr(a, func)()
        if exp is pd.NA:
            exp = float("nan")
        assert _same(got, exp), (func, got, exp)
    for q in (0.0, 0.3, 0.5, 1.0) if max(map(abs, filter(None, data)), default=0) < 2**53 else ():
        exp = a.quantile(q)
        assert _same(x.quantile(q), float("nan") if exp is pd.NA else exp)


def test_reductions_bool_string_any_all(device: str) -> None:
    b = pd.Series([True, None, False, True], dtype="boolean")
    x = Series(b, device=device)
    assert x.sum() == 2 and x.any() and not x.all() and x.mean() == pytest.approx(2 / 3)
    assert Series([None], device=device, dtype="bool").all()
    assert not Series([], device=device, dtype="bool").any()
    s = Series(["pear", None, "apple", "ä"], device=device)
    assert s.min() == "apple" and s.max() == "ä" and s.count() == 3 and s.nunique() == 3
    with pytest.raises(XTypeError, match="numeric"):
        s.mean()
    with pytest.raises(XTypeError):
        s.sum()
    assert Series([1, 2, 3], device=device).quantile([0.25, 0.75]).to_list() == [1.5, 2.5]


# -- distinct values and sorting -----------------------------------------------------------------
def test_unique_nunique(device: str) -> None:
    a = pd.Series(["b", None, "a", "b", "日本", None, "a"])
    x = Series(a, device=device)
    assert x.unique().to_list() == [None if v is None or v != v else v for v in a.unique()]
    assert x.nunique() == a.nunique() and x.nunique(dropna=False) == a.nunique(dropna=False)
    f = pd.Series([2.0, np.nan, 2.0, -0.0, 0.0, 1.0])
    got = Series(f, device=device).unique().to_list()
    assert got[0] == 2.0 and got[1] is None and len(got) == len(f.unique()) == 4


@pytest.mark.parametrize("kw", [{}, {"ascending": True}, {"normalize": True},
                                {"dropna": False}, {"sort": False},
                                {"dropna": False, "ascending": True}])
def test_value_counts(device: str, kw: dict) -> None:
    a = pd.Series(["b", "a", "b", None, "c", "a", None, None, "d"], name="v")
    got = Series(a, device=device).value_counts(**kw)
    assert_tables_equal(got.to_pandas(), a.value_counts(**kw).reset_index())
    n = pd.Series([3, 1, 3, 1, 2])
    assert_tables_equal(Series(n, device=device).value_counts(**kw).to_pandas(),
                        n.value_counts(**kw).reset_index())


@pytest.mark.parametrize("ascending", [True, False])
@pytest.mark.parametrize("na_position", ["first", "last"])
def test_sort_values(device: str, ascending: bool, na_position: str) -> None:
    a = pd.Series([3.0, None, -1.0, 3.0, np.nan, 0.5])
    x = Series(a, device=device)
    check(x.sort_values(ascending=ascending, na_position=na_position),
          a.sort_values(ascending=ascending, na_position=na_position, kind="stable"))
    assert x.argsort().to_list() == [2, 5, 0, 3, 1, 4]
    check(x.drop_duplicates(), a.drop_duplicates())
    check(x.nsmallest(2), a.nsmallest(2))


# -- conversion -----------------------------------------------------------------------------------
def test_conversions(device: str) -> None:
    x = Series([1.5, None], name="f", device=device)
    p = x.to_pandas()
    assert p.name == "f" and isinstance(p.index, pd.RangeIndex) and math.isnan(p[1])
    assert x.to_arrow().to_pylist() == [1.5, None]
    np.testing.assert_array_equal(x.to_numpy(), np.array([1.5, np.nan]))
    assert np.asarray(Series([1, 2], device=device)).tolist() == [1, 2]
    assert x.to_list() == x.tolist() == [1.5, None]
    frame = x.to_frame()
    assert isinstance(frame, DataFrame) and frame.columns == ["f"]
    s = Series(["a", None], device=device).to_numpy()
    assert s.dtype == object and s[1] is None
    assert Series([1, None], device=device).to_pandas(nullable=True).dtype == "Int64"
    c = x.copy()
    assert c.to_list() == x.to_list() and x.rename("g").name == "g"


def test_dlpack_to_torch(device: str) -> None:
    torch = pytest.importorskip("torch")
    x = Series([1.0, 2.0, 3.0], device=device)
    tt = torch.from_dlpack(x)
    assert tt.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(XTypeError, match="null"):
        torch.from_dlpack(Series([1.0, None], device=device))
    with pytest.raises(XTypeError, match="DLPack"):
        torch.from_dlpack(Series(["a"], device=device))


def test_to_cupy(device: str) -> None:
    x = Series([1.0, None], device=device)
    if not xpdb.gpu_available():
        with pytest.raises(xpdb.errors.DeviceError):
            x.to_cupy()
        return
    np.testing.assert_array_equal(x.to_cupy().get(), np.array([1.0, np.nan]))


# -- property tests ------------------------------------------------------------------------------
_vals = st.one_of(st.none(), st.integers(-(2**31), 2**31), st.floats(allow_nan=True,
                                                                      allow_infinity=True))


@st.composite
def pairs(draw: st.DrawFn) -> tuple[pd.Series, pd.Series]:
    n = draw(st.integers(0, 10))
    a = draw(st.lists(_vals, min_size=n, max_size=n))
    b = draw(st.lists(_vals, min_size=n, max_size=n))
    return pd.Series(a, dtype="float64"), pd.Series(b, dtype="float64")


@fixture_ok
@given(ab=pairs(), op=st.sampled_from([operator.add, operator.sub, operator.mul,
                                       operator.truediv]))
def test_property_arith_matches_pandas(device: str, ab: tuple, op: object) -> None:
    a, b = ab
    with np.errstate(all="ignore"):
        exp = op(a, b)
    check(op(Series(a, device=device), Series(b, device=device)), exp)


@fixture_ok
@given(ab=pairs(), op=st.sampled_from([operator.eq, operator.ne, operator.lt, operator.ge]))
def test_property_compare_filter_matches_pandas(device: str, ab: tuple, op: object) -> None:
    a, b = ab
    pdf = pd.DataFrame({"a": a, "b": b})
    xdf = from_pandas(pdf, device=device)
    mask = op(xdf["a"], xdf["b"])
    exp = pdf[op(pdf["a"], pdf["b"]) & pdf["a"].notna() & pdf["b"].notna()]
    assert_tables_equal(xdf[mask].to_pandas(), exp.reset_index(drop=True))


@fixture_ok
@given(ab=pairs())
def test_property_reductions_match_pandas(device: str, ab: tuple) -> None:
    a, _ = ab
    a = a.replace([np.inf, -np.inf], np.nan)
    x = Series(a, device=device)
    with np.errstate(all="ignore"):
        for func in ("sum", "mean", "min", "max", "count", "median", "nunique"):
            got, exp = getattr(x, func)(), getattr(a, func)()
            assert _same(got, exp) or math.isclose(got, exp, rel_tol=1e-6), func
        exp = a.std()
        assert _same(x.std(), exp) or math.isclose(x.std(), exp, rel_tol=1e-6)
