"""DataFrame: construction, selection, missing values, sorting, duplicates, merge, concat,
conversion. The oracle is pandas on the same data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpdb
from xpdb import types as t
from xpdb.errors import BindError, XpdbError
from xpdb.errors import TypeError as XTypeError
from xpdb.frame import DataFrame, Series, concat, from_arrow, from_pandas
from xpdb.table import Table
from xpdb.testing import assert_tables_equal


def sample() -> pd.DataFrame:
    return pd.DataFrame({
        "i": pd.array([3, None, 1, 3, 2, None], dtype="Int64"),
        "f": [1.5, np.nan, -2.0, 1.5, np.inf, 0.0],
        "s": ["b", "ä", None, "b", "日本", "a"],
        "b": [True, False, True, True, None, False],
        "n": [None] * 6,
    })


def both(device: str, pdf: pd.DataFrame | None = None) -> tuple[DataFrame, pd.DataFrame]:
    pdf = sample() if pdf is None else pdf
    return from_pandas(pdf, device=device), pdf


def check(xdf: DataFrame, pdf: pd.DataFrame, **kw: object) -> None:
    assert isinstance(xdf, DataFrame)
    assert_tables_equal(xdf.to_pandas(), pdf.reset_index(drop=True), **kw)


# -- construction -------------------------------------------------------------------------------
def test_from_dict_of_lists_and_arrays(device: str) -> None:
    df = DataFrame({"a": [1, 2, None], "b": np.array([1.0, np.nan, 3.0]), "c": "x",
                    "d": Series(["p", "q", "r"])}, device=device)
    assert df.shape == (3, 4)
    assert df.dtypes == {"a": t.int64, "b": t.float64, "c": t.string, "d": t.string}
    assert df.device is xpdb.get_device(device)
    assert df.to_dict() == {"a": [1, 2, None], "b": [1.0, None, 3.0], "c": ["x"] * 3,
                            "d": ["p", "q", "r"]}
    assert df.isna().to_dict()["b"] == [False, True, False]


def test_from_records_and_2d_array(device: str) -> None:
    rows = [{"a": 1, "b": "x"}, {"a": None, "c": 2.5}]
    check(DataFrame(rows, device=device), pd.DataFrame(rows))
    arr = np.array([[1.0, np.nan], [3.0, 4.0]])
    check(DataFrame(arr, device=device, columns=["p", "q"]),
          pd.DataFrame(arr, columns=["p", "q"]))
    assert DataFrame(arr, device=device).columns == ["0", "1"]
    assert DataFrame([], device=device).shape == (0, 0)
    with pytest.raises(XpdbError, match="names"):
        DataFrame(arr, device=device, columns=["p"])


def test_numpy_input_is_copied(device: str) -> None:
    arr = np.array([1, 2, 3])
    df = DataFrame({"a": arr}, device=device)
    arr[0] = 100
    assert df["a"].to_list() == [1, 2, 3]


def test_from_pandas_arrow_table_dataframe(device: str) -> None:
    xdf, pdf = both(device)
    check(xdf, pdf)
    check(from_arrow(pa.Table.from_pandas(pdf, preserve_index=False), device=device), pdf)
    check(DataFrame(Table.from_pandas(pdf, device)), pdf)
    check(DataFrame(xdf), pdf)
    assert DataFrame(xdf, columns=["s", "i"]).columns == ["s", "i"]


def test_to_pandas_has_range_index(device: str) -> None:
    xdf, _ = both(device)
    out = xdf[xdf["i"] > 1].to_pandas()
    assert isinstance(out.index, pd.RangeIndex)
    nullable = xdf.to_pandas(nullable=True)
    assert str(nullable["i"].dtype) == "Int64"


def test_empty_frames(device: str) -> None:
    df = DataFrame({}, device=device)
    assert df.shape == (0, 0) and df.empty
    e = DataFrame({"a": []}, device=device)
    assert len(e) == 0 and e.empty and e.columns == ["a"]
    check(from_pandas(sample().iloc[:0], device=device), sample().iloc[:0])
    with pytest.raises(XpdbError, match="scalar"):
        DataFrame({"a": 1}, device=device)


def test_bad_inputs(device: str) -> None:
    with pytest.raises(XpdbError, match="same length"):
        DataFrame({"a": [1, 2], "b": [1]}, device=device)
    with pytest.raises(XTypeError):
        DataFrame(42, device=device)


# -- selection ---------------------------------------------------------------------------------
def test_select_columns(device: str) -> None:
    xdf, pdf = both(device)
    assert isinstance(xdf["s"], Series) and xdf["s"].name == "s"
    check(xdf[["s", "i"]], pdf[["s", "i"]])
    assert xdf.f.to_list() == xdf["f"].to_list()
    with pytest.raises(BindError, match="did you mean 's'"):
        xdf["ss"]
    with pytest.raises(AttributeError):
        _ = xdf.nope
    assert "s" in xdf and list(xdf) == list(pdf.columns)
    assert [n for n, _ in xdf.items()] == list(pdf.columns)


def test_setitem_assign_drop_rename(device: str) -> None:
    xdf, pdf = both(device)
    xdf["k"] = 7
    pdf["k"] = 7
    xdf["arr"] = np.arange(6)
    pdf["arr"] = np.arange(6)
    xdf["i"] = xdf["arr"]
    pdf["i"] = pdf["arr"]
    check(xdf, pdf)
    out = xdf.assign(z=lambda d: d["arr"] * 2, w=[1, 2, 3, 4, 5, 6])
    exp = pdf.assign(z=lambda d: d["arr"] * 2, w=[1, 2, 3, 4, 5, 6])
    check(out, exp)
    assert "z" not in xdf  # assign returns a new frame
    check(xdf.drop(columns=["k", "arr"]), pdf.drop(columns=["k", "arr"]))
    check(xdf.rename(columns={"s": "S"}), pdf.rename(columns={"s": "S"}))
    check(xdf.rename(columns=str.upper), pdf.rename(columns=str.upper))
    with pytest.raises(XpdbError, match="rows"):
        xdf["bad"] = [1, 2]
    del xdf["k"]
    assert "k" not in xdf
    popped = xdf.pop("arr")
    assert popped.to_list() == list(range(6)) and "arr" not in xdf
    xdf.insert(0, "first", 1)
    assert xdf.columns[0] == "first"
    xdf.columns = [c.upper() for c in xdf.columns]
    assert xdf.columns.tolist() == ["FIRST", "I", "F", "S", "B", "N"]


def test_boolean_filter_null_mask_is_not_selected(device: str) -> None:
    xdf, pdf = both(device)
    check(xdf[xdf["i"] > 1], pdf[pdf["i"].fillna(0) > 1])
    check(xdf[xdf["f"] >= 0], pdf[pdf["f"] >= 0])
    check(xdf[xdf["b"]], pdf[pdf["b"].fillna(False).astype(bool)])
    check(xdf[[True, False, True, False, True, False]], pdf.iloc[[0, 2, 4]])
    check(xdf[np.array([False] * 6)], pdf.iloc[:0])
    with pytest.raises(XTypeError, match="boolean"):
        xdf[xdf["i"]]


def test_head_tail_slice_take(device: str) -> None:
    xdf, pdf = both(device)
    for n in (0, 2, 10, -2):
        check(xdf.head(n), pdf.head(n))
        check(xdf.tail(n), pdf.tail(n))
    check(xdf[1:5:2], pdf.iloc[1:5:2])
    check(xdf.take([5, 0, -1]), pdf.iloc[[5, 0, -1]])
    with pytest.raises(IndexError):
        xdf.take([6])


def test_structure_copy_to(device: str) -> None:
    xdf, _ = both(device)
    assert xdf.shape == (6, 5) and len(xdf) == 6 and xdf.size == 30 and xdf.ndim == 2
    assert not xdf.empty
    c = xdf.copy()
    c["i"] = 0
    assert xdf["i"].to_list() == [3, None, 1, 3, 2, None]
    assert xdf.to("cpu").device.kind == "cpu"
    assert xdf.reset_index(drop=True).shape == xdf.shape
    assert list(xdf.select_dtypes(include="number").columns) == ["i", "f", "n"]
    assert list(xdf.select_dtypes(exclude=["number", "bool"]).columns) == ["s"]


# -- missing values ----------------------------------------------------------------------------
def test_isna_notna(device: str) -> None:
    xdf, pdf = both(device)
    check(xdf.isna(), pdf.isna())
    check(xdf.notna(), pdf.notna())
    check(xdf.isnull(), pdf.isnull())


@pytest.mark.parametrize("how", ["any", "all"])
def test_dropna(device: str, how: str) -> None:
    xdf, pdf = both(device)
    check(xdf.dropna(how=how), pdf.dropna(how=how))
    check(xdf.dropna(subset=["i", "s"], how=how), pdf.dropna(subset=["i", "s"], how=how))
    check(xdf.dropna(thresh=4), pdf.dropna(thresh=4))


def test_fillna(device: str) -> None:
    xdf, pdf = both(device)
    check(xdf.fillna({"i": 0, "s": "?", "f": -1.0}), pdf.fillna({"i": 0, "s": "?", "f": -1.0}))
    num = pdf[["i", "f"]]
    check(xdf[["i", "f"]].fillna(9), num.fillna(9))
    assert xdf.fillna("z")["s"].to_list() == ["b", "ä", "z", "b", "日本", "a"]


def test_astype(device: str) -> None:
    pdf = pd.DataFrame({"f": [1.0, -2.0, 3.0], "i": [1, 2, 3], "s": ["1", "2", "3"]})
    xdf = from_pandas(pdf, device=device)
    out = xdf.astype({"f": "int64", "s": "int32"})
    assert out.dtypes == {"f": t.int64, "i": t.int64, "s": t.int32}
    check(out, pdf.astype({"f": "int64", "s": "int32"}))
    check(xdf[["f", "i"]].astype("float32"), pdf[["f", "i"]].astype("float32"))
    with pytest.raises(xpdb.errors.CastError):
        from_pandas(sample(), device=device).astype({"f": "int64"})  # NaN and inf
    with pytest.raises(BindError):
        xdf.astype({"nope": "int64"})


# -- sorting and duplicates --------------------------------------------------------------------
def pandas_sort(pdf: pd.DataFrame, by: list[str] | str, ascending: bool | list[bool],
                na_position: str) -> pd.DataFrame:
    """pandas' result, composed of stable one-key sorts from the last key to the first.

    pandas 3.1 places missing values of secondary keys wrongly with ``na_position="first"``
    (``[nan, -inf, nan]`` under a constant first key stays unsorted); one-key sorts are right.
    """
    by = [by] if isinstance(by, str) else list(by)
    asc = [ascending] * len(by) if isinstance(ascending, bool) else list(ascending)
    for col, a in reversed(list(zip(by, asc, strict=True))):
        pdf = pdf.sort_values(col, ascending=a, na_position=na_position, kind="stable")
    return pdf


@pytest.mark.parametrize("na_position", ["last", "first"])
@pytest.mark.parametrize("ascending", [True, False])
def test_sort_values(device: str, ascending: bool, na_position: str) -> None:
    xdf, pdf = both(device)
    for by in ("i", "f", "s", ["s", "i"], ["b", "f"]):
        exp = pandas_sort(pdf, by, ascending, na_position)
        check(xdf.sort_values(by, ascending=ascending, na_position=na_position), exp)
        if isinstance(by, str) or na_position == "last":
            exp = pdf.sort_values(by, ascending=ascending, na_position=na_position, kind="stable")
            check(xdf.sort_values(by, ascending=ascending, na_position=na_position), exp)
    exp = pandas_sort(pdf, ["s", "i"], [True, False], na_position)
    check(xdf.sort_values(["s", "i"], ascending=[True, False], na_position=na_position), exp)


def test_nlargest_nsmallest(device: str) -> None:
    pdf = pd.DataFrame({"a": [3.0, 1.0, np.nan, 3.0, 7.0, -1.0], "b": list("uvwxyz")})
    xdf = from_pandas(pdf, device=device)
    for n in (0, 2, 3, 10):
        check(xdf.nlargest(n, "a"), pdf.nlargest(n, "a"))
        check(xdf.nsmallest(n, "a"), pdf.nsmallest(n, "a"))
    assert xdf["a"].nlargest(2).to_list() == [7.0, 3.0]


@pytest.mark.parametrize("keep", ["first", "last", False])
def test_drop_duplicates(device: str, keep: str | bool) -> None:
    xdf, pdf = both(device)
    check(xdf.drop_duplicates(keep=keep), pdf.drop_duplicates(keep=keep))
    check(xdf.drop_duplicates(subset=["i"], keep=keep), pdf.drop_duplicates(subset=["i"], keep=keep))
    check(xdf.drop_duplicates(subset=["s", "b"], keep=keep),
          pdf.drop_duplicates(subset=["s", "b"], keep=keep))
    assert xdf.duplicated(keep=keep).to_list() == pdf.duplicated(keep=keep).tolist()


def test_nunique_value_counts(device: str) -> None:
    xdf, pdf = both(device)
    assert xdf.nunique() == pdf.nunique().to_dict()
    assert xdf.nunique(dropna=False) == pdf.nunique(dropna=False).to_dict()
    check(xdf.value_counts(subset=["s"]), pdf.value_counts(subset=["s"]).reset_index())
    check(xdf[["s", "b"]].value_counts(), pdf[["s", "b"]].value_counts().reset_index())
    check(xdf[["s", "b"]].value_counts(dropna=False, normalize=True),
          pdf[["s", "b"]].value_counts(dropna=False, normalize=True).reset_index())


# -- reductions and describe -------------------------------------------------------------------
def test_frame_reductions(device: str) -> None:
    xdf, pdf = both(device)
    num = pdf[["i", "f"]].astype("float64").replace(np.inf, 1e10)
    x = from_pandas(num, device=device)
    for func in ("sum", "mean", "std", "var", "median", "min", "max", "count", "skew", "kurt"):
        got = getattr(x, func)()
        exp = getattr(num, func)().to_dict()
        assert got.keys() == exp.keys()
        for k in got:
            assert math.isclose(got[k], exp[k], rel_tol=1e-9), (func, k)
    assert xdf.count() == pdf.count().to_dict()


def test_describe(device: str) -> None:
    pdf = pd.DataFrame({"a": [1, 2, 3, 4, None], "b": [0.5, np.nan, 1.5, -3.0, 2.0],
                        "s": list("abcde")})
    xdf = from_pandas(pdf, device=device)
    exp = pdf.describe().reset_index().rename(columns={"index": "statistic"})
    check(xdf.describe(), exp)


# -- merge ----------------------------------------------------------------------------------------
def merge_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    left = pd.DataFrame({"k": [1.0, 2.0, np.nan, 2.0, 4.0, 1.0], "s": list("abcdef"),
                         "v": [1, 2, 3, 4, 5, 6]})
    right = pd.DataFrame({"k": [2.0, np.nan, 5.0, 1.0, 2.0], "s": list("VWXYZ"),
                          "w": [10, 20, 30, 40, 50]})
    return left, right


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_merge_on_shared_key(device: str, how: str) -> None:
    left, right = merge_inputs()
    xl, xr = from_pandas(left, device=device), from_pandas(right, device=device)
    check(xl.merge(xr, on="k", how=how), left.merge(right, on="k", how=how))
    check(xl.merge(xr, on="k", how=how, suffixes=("_l", "_r")),
          left.merge(right, on="k", how=how, suffixes=("_l", "_r")))


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_merge_left_on_right_on_and_multi_key(device: str, how: str) -> None:
    left, right = merge_inputs()
    right2 = right.rename(columns={"k": "rk"})
    xl, xr2 = from_pandas(left, device=device), from_pandas(right2, device=device)
    check(xl.merge(xr2, left_on="k", right_on="rk", how=how),
          left.merge(right2, left_on="k", right_on="rk", how=how))
    l2 = pd.DataFrame({"a": ["x", "y", "x", None], "b": [1, 2, 1, 3], "v": [1, 2, 3, 4]})
    r2 = pd.DataFrame({"a": ["x", None, "y"], "b": [1, 3, 3], "w": [7, 8, 9]})
    check(from_pandas(l2, device=device).merge(from_pandas(r2, device=device), how=how),
          l2.merge(r2, how=how))


def test_merge_cross_and_errors(device: str) -> None:
    a = pd.DataFrame({"x": [1, 2]})
    b = pd.DataFrame({"y": ["p", "q", "r"]})
    xa, xb = from_pandas(a, device=device), from_pandas(b, device=device)
    check(xa.merge(xb, how="cross"), a.merge(b, how="cross"))
    with pytest.raises(XTypeError, match="share no column"):
        xa.merge(xb)
    with pytest.raises(XTypeError, match="how="):
        xa.merge(xa, how="sideways")


def test_merge_empty(device: str) -> None:
    left, right = merge_inputs()
    e = right.iloc[:0]
    xl, xe = from_pandas(left, device=device), from_pandas(e, device=device)
    for how in ("inner", "left", "outer"):
        check(xl.merge(xe, on="k", how=how), left.merge(e, on="k", how=how))


# -- concat ---------------------------------------------------------------------------------------
def test_concat(device: str) -> None:
    a = pd.DataFrame({"x": [1, 2], "s": ["p", None]})
    b = pd.DataFrame({"s": ["q", "日"], "x": [3.5, np.nan], "z": [True, False]})
    xa, xb = from_pandas(a, device=device), from_pandas(b, device=device)
    check(concat([xa, xb]), pd.concat([a, b], ignore_index=True))
    check(concat([xa]), a)
    check(xpdb.concat([xa, xa.head(0)]), a)
    with pytest.raises(XpdbError):
        concat([])
    with pytest.raises(XTypeError, match="types"):
        concat([xa, DataFrame({"x": ["str"]}, device=device)])


# -- conversion -----------------------------------------------------------------------------------
def test_to_numpy(device: str) -> None:
    df = DataFrame({"a": [1, 2, 3], "b": [0.5, None, 1.5]}, device=device)
    arr = df.to_numpy()
    assert arr.shape == (3, 2) and arr.dtype == np.float64
    np.testing.assert_array_equal(arr, np.array([[1, 0.5], [2, np.nan], [3, 1.5]]))
    ints = DataFrame({"a": [1, 2], "b": np.array([3, 4], dtype=np.int32)}, device=device)
    assert ints.to_numpy().dtype == np.int64
    with pytest.raises(XTypeError, match="nulls"):
        DataFrame({"a": [1, None]}, device=device).to_numpy()
    assert DataFrame({"a": [1, None]}, device=device).to_numpy("float64")[1, 0] != 0
    mixed = DataFrame({"a": [1, 2], "s": ["x", None]}, device=device).to_numpy()
    assert mixed.dtype == object and mixed[1, 1] is None
    with pytest.raises(XTypeError, match="nulls"):
        Series([1, None], device=device).to_numpy()


def test_to_dict_orients(device: str) -> None:
    df = DataFrame({"a": [1, 2], "s": ["x", None]}, device=device)
    assert df.to_dict() == {"a": [1, 2], "s": ["x", None]}
    assert df.to_dict("records") == [{"a": 1, "s": "x"}, {"a": 2, "s": None}]
    assert df.to_dict("dict") == {"a": {0: 1, 1: 2}, "s": {0: "x", 1: None}}
    with pytest.raises(XTypeError):
        df.to_dict("split")


def test_to_cupy(device: str) -> None:
    df = DataFrame({"a": [1, 2], "b": [0.5, None]}, device=device)
    if not xpdb.gpu_available():
        with pytest.raises(xpdb.errors.DeviceError):
            df.to_cupy()
        return
    arr = df.to_cupy()
    assert arr.shape == (2, 2)
    np.testing.assert_array_equal(arr.get(), np.array([[1, 0.5], [2, np.nan]]))


# -- property tests -------------------------------------------------------------------------------
_ints = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
_floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
_text = st.one_of(st.none(), st.text(max_size=4))


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    return pd.DataFrame({
        "i": pd.array(draw(st.lists(_ints, min_size=n, max_size=n)), dtype="Int64"),
        "f": pd.array(draw(st.lists(_floats, min_size=n, max_size=n)), dtype="float64"),
        "s": pd.array(draw(st.lists(_text, min_size=n, max_size=n)), dtype=object),
    })


# the device fixture is a plain string, so reusing it across examples is safe
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@fixture_ok
@given(pdf=frames(), lo=st.integers(-5, 5))
def test_property_filter_matches_pandas(device: str, pdf: pd.DataFrame, lo: int) -> None:
    xdf = from_pandas(pdf, device=device)
    check(xdf[xdf["f"] > lo], pdf[pdf["f"] > lo])
    check(xdf[(xdf["i"] < lo) | xdf["s"].isna()], pdf[(pdf["i"].fillna(lo) < lo) | pdf["s"].isna()])
    check(xdf.dropna(), pdf.dropna())


@fixture_ok
@given(pdf=frames(), asc=st.booleans(), first=st.booleans())
def test_property_sort_and_dedup_match_pandas(device: str, pdf: pd.DataFrame, asc: bool,
                                              first: bool) -> None:
    xdf = from_pandas(pdf, device=device)
    na = "first" if first else "last"
    for by in (["i"], ["s", "f"]):
        exp = pandas_sort(pdf, by, asc, na)
        check(xdf.sort_values(by, ascending=asc, na_position=na), exp)
    check(xdf.drop_duplicates(subset=["s"]), pdf.drop_duplicates(subset=["s"]))


@fixture_ok
@given(left=frames(), right=frames(), how=st.sampled_from(["inner", "left", "right", "outer"]))
def test_property_merge_matches_pandas(device: str, left: pd.DataFrame, right: pd.DataFrame,
                                       how: str) -> None:
    xl, xr = from_pandas(left, device=device), from_pandas(right, device=device)
    # pandas 3.0 and 3.1 order the matches of a null key differently (3.1 as xpdb: right
    # rows in their order); with null keys compare the rows as a multiset
    null_keys = bool(left["s"].isna().any() and right["s"].isna().any())
    # pandas before 3.1 does not keep the left key order of an inner merge either (seen
    # with 3.0.6 on the GPU machine); compare those as a multiset too
    old_pandas = tuple(int(x) for x in pd.__version__.split(".")[:2]) < (3, 1)
    # nullable dtypes: int64 keys beyond 2**53 stay exact (as floats two rows could tie
    # and a multiset comparison pair them wrongly)
    got = xl.merge(xr, on="s", how=how).to_pandas(nullable=True)
    assert_tables_equal(got, left.merge(right, on="s", how=how).reset_index(drop=True),
                        check_row_order=not (null_keys or old_pandas))
