"""DataFrame.groupby: aggregations, shortcuts, per-group positions and window transforms,
against pandas with ``as_index=False`` (xpdb's layout)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb.errors import BindError, XpdbError
from xpdb.errors import TypeError as XTypeError
from xpdb.frame import DataFrame, Series, from_pandas
from xpdb.testing import assert_tables_equal

fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def sample() -> pd.DataFrame:
    return pd.DataFrame({
        "k": ["b", "a", None, "b", "日", "a", "b", None],
        "j": pd.array([1, 1, 2, None, 1, 1, 2, 2], dtype="Int64"),
        "v": [1.0, np.nan, 3.0, 4.0, -5.5, 6.0, np.nan, 8.0],
        "w": pd.array([10, 20, None, 40, 50, 60, 70, 80], dtype="Int64"),
        "n": [np.nan] * 8,
    })


def both(device: str) -> tuple[DataFrame, pd.DataFrame]:
    pdf = sample()
    return from_pandas(pdf, device=device), pdf


def check(xdf: DataFrame | Series, pdf: pd.DataFrame | pd.Series) -> None:
    if isinstance(xdf, Series):
        assert_tables_equal(xdf.to_frame("v").to_pandas(),
                            pdf.reset_index(drop=True).to_frame("v"))
        return
    assert_tables_equal(xdf.to_pandas(), pdf.reset_index(drop=True))


_SHORTCUTS = ["sum", "mean", "min", "max", "count", "std", "var", "median", "first", "last",
              "nunique", "skew", "kurt"]


@pytest.mark.parametrize("func", _SHORTCUTS)
@pytest.mark.parametrize("dropna", [True, False])
def test_shortcuts_match_pandas(device: str, func: str, dropna: bool) -> None:
    xdf, pdf = both(device)
    cols = ["k", "v", "w", "n"]
    got = getattr(xdf[cols].groupby("k", dropna=dropna), func)()
    exp = getattr(pdf[cols].groupby("k", dropna=dropna, as_index=False), func)()
    check(got, exp)
    got = getattr(xdf.groupby(["k", "j"], dropna=dropna)["v"], func)()
    exp = getattr(pdf.groupby(["k", "j"], dropna=dropna, as_index=False)["v"], func)()
    check(got, exp)


def test_skew_and_kurt_match_pandas(device: str) -> None:
    """Groups big enough for both moments, a constant group and a tiny one (NaN)."""
    rng = np.random.default_rng(8)
    k = np.repeat(["a", "b", "c", "d"], [50, 9, 5, 2])
    v = np.concatenate([rng.gamma(2.0, 2.0, 50), rng.normal(size=9), [4.0] * 5, [1.0, 2.0]])
    v[rng.random(len(v)) < 0.1] = np.nan
    pdf = pd.DataFrame({"k": k, "v": v, "w": rng.integers(0, 9, len(v))})
    xdf = from_pandas(pdf, device=device)
    for func in ("skew", "kurt"):
        check(getattr(xdf.groupby("k"), func)(), getattr(pdf.groupby("k", as_index=False),
                                                          func)())
    check(xdf.groupby("k").agg({"v": "skew", "w": "kurt"}),
          pdf.groupby("k", as_index=False).agg({"v": "skew", "w": "kurt"}))


def test_size_and_sort_false(device: str) -> None:
    xdf, pdf = both(device)
    check(xdf.groupby("k").size(), pdf.groupby("k", as_index=False).size())
    check(xdf.groupby("k", dropna=False).size(),
          pdf.groupby("k", as_index=False, dropna=False).size())
    for dropna in (True, False):
        got = xdf.groupby(["j", "k"], sort=False, dropna=dropna).agg({"w": "sum"})
        exp = pdf.groupby(["j", "k"], sort=False, dropna=dropna, as_index=False).agg({"w": "sum"})
        check(got, exp)


def test_agg_forms(device: str) -> None:
    xdf, pdf = both(device)
    g, pg = xdf.groupby("k"), pdf.groupby("k", as_index=False)
    check(g.agg({"v": "sum", "w": "max"}), pg.agg({"v": "sum", "w": "max"}))
    got = g.agg({"v": ["sum", "mean"], "w": ["count"]})
    exp = pdf.groupby("k").agg({"v": ["sum", "mean"], "w": ["count"]})
    exp.columns = ["_".join(c) for c in exp.columns]
    check(got, exp.reset_index())
    check(g.agg(total=("v", "sum"), n=("w", "size"), hi=("w", "max")),
          pg.agg(total=("v", "sum"), n=("w", "size"), hi=("w", "max")))
    check(g[["v", "w"]].agg("mean"), pg[["v", "w"]].agg("mean"))
    check(g.v.sum(), pg["v"].sum())
    check(g.agg("size"), pg.size())


def test_sum_of_all_missing_is_zero(device: str) -> None:
    xdf, pdf = both(device)
    got = xdf.groupby("k").agg({"n": "sum", "v": "prod"})
    exp = pdf.groupby("k", as_index=False).agg({"n": "sum", "v": "prod"})
    check(got, exp)


def test_groupby_errors(device: str) -> None:
    xdf, _ = both(device)
    with pytest.raises(BindError):
        xdf.groupby("nope")
    with pytest.raises(XTypeError, match="unknown aggregation"):
        xdf.groupby("k").agg({"v": "mode"})
    with pytest.raises(XTypeError):
        xdf.groupby("k").agg(total=("v",))
    with pytest.raises(XpdbError, match="key column"):
        xdf.groupby("k").agg(k=("v", "sum"))
    with pytest.raises(XpdbError):
        xdf.groupby("k")["k"].mean()


def test_groupby_empty_frame(device: str) -> None:
    pdf = sample().iloc[:0]
    xdf = from_pandas(pdf, device=device)
    check(xdf.groupby("k").agg({"v": "sum"}), pdf.groupby("k", as_index=False).agg({"v": "sum"}))
    assert len(xdf.groupby("k").head(2)) == 0


# -- per-row results -----------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, -1])
def test_head_tail_nth(device: str, n: int) -> None:
    xdf, pdf = both(device)
    check(xdf.groupby("k").head(n), pdf.groupby("k").head(n))
    check(xdf.groupby("k").tail(n), pdf.groupby("k").tail(n))
    check(xdf.groupby(["k", "j"], dropna=False).head(n),
          pdf.groupby(["k", "j"], dropna=False).head(n))
    check(xdf.groupby("k").nth(n), pdf.groupby("k").nth(n))


@pytest.mark.parametrize("dropna", [True, False])
def test_cumcount_cumulative_shift(device: str, dropna: bool) -> None:
    xdf, pdf = both(device)
    g, pg = xdf.groupby("k", dropna=dropna), pdf.groupby("k", dropna=dropna)
    check(g.cumcount(), pg.cumcount())
    check(g.cumcount(ascending=False), pg.cumcount(ascending=False))
    for func in ("cumsum", "cummax", "cummin"):
        check(getattr(g["v"], func)(), getattr(pg["v"], func)())
        check(getattr(g[["v", "w"]], func)(), getattr(pg[["v", "w"]], func)())
    for periods in (1, 2, -1, 0):
        check(g["w"].shift(periods), pg["w"].shift(periods))
    check(g["v"].shift(1, fill_value=0.0), pg["v"].shift(1, fill_value=0.0))


@pytest.mark.parametrize("method", ["average", "min", "max", "first", "dense"])
@pytest.mark.parametrize("ascending", [True, False])
def test_rank(device: str, method: str, ascending: bool) -> None:
    pdf = pd.DataFrame({"k": ["a", "b", "a", "a", None, "b", "a"],
                        "v": [2.0, 1.0, 2.0, np.nan, 5.0, 1.0, -1.0]})
    xdf = from_pandas(pdf, device=device)
    check(xdf.groupby("k")["v"].rank(method=method, ascending=ascending),
          pdf.groupby("k")["v"].rank(method=method, ascending=ascending))


@pytest.mark.parametrize("func", ["sum", "mean", "min", "max", "count", "size"])
def test_transform(device: str, func: str) -> None:
    xdf, pdf = both(device)
    check(xdf.groupby("k")["v"].transform(func), pdf.groupby("k")["v"].transform(func))


# -- property test -------------------------------------------------------------------------------
@st.composite
def grouped(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 15))
    keys = st.one_of(st.none(), st.sampled_from(["x", "y", "ü", ""]))
    vals = st.one_of(st.none(), st.integers(-(2**40), 2**40))
    return pd.DataFrame({
        "k": pd.array(draw(st.lists(keys, min_size=n, max_size=n)), dtype="str"),
        "v": pd.array(draw(st.lists(vals, min_size=n, max_size=n)), dtype="Int64"),
    })


@fixture_ok
@given(pdf=grouped(), func=st.sampled_from(["sum", "mean", "min", "max", "count", "size",
                                            "nunique", "first"]),
       dropna=st.booleans())
def test_property_groupby_matches_pandas(device: str, pdf: pd.DataFrame, func: str,
                                         dropna: bool) -> None:
    xdf = from_pandas(pdf, device=device)
    got = xdf.groupby("k", dropna=dropna).agg({"v": func} if func != "size" else "size")
    pg = pdf.groupby("k", dropna=dropna, as_index=False)
    exp = pg.size() if func == "size" else pg.agg({"v": func})
    check(got, exp)


def test_named_corr_and_cov_match_pandas(device):
    import pandas as pd

    from xpdb.frame import DataFrame
    from xpdb.testing import assert_tables_equal

    pdf = pd.DataFrame({"k": ["a", "b", "a", "b", "a", "c", "c"],
                        "x": [1.0, 2.0, 3.0, 5.0, 4.0, 1.0, -2.0],
                        "y": [2.0, 1.0, 7.0, 2.0, 8.5, 3.0, 0.5]})
    got = DataFrame(pdf, device=device).groupby("k").agg(r=("x", "corr", "y"),
                                                         c=("x", "cov", "y"))
    rows = []
    for k, g in pdf.groupby("k"):
        rows.append({"k": k, "r": g["x"].corr(g["y"]), "c": g["x"].cov(g["y"])})
    assert_tables_equal(got, pd.DataFrame(rows), rtol=1e-12)


def test_pairwise_aggregation_needs_a_second_column(device):
    import pytest

    from xpdb.errors import TypeError as XTypeError
    from xpdb.frame import DataFrame

    df = DataFrame({"k": [1], "x": [1.0]}, device=device)
    with pytest.raises(XTypeError, match="needs a second column"):
        df.groupby("k").agg({"x": "corr"})
    with pytest.raises(XTypeError, match="'corr' or 'cov', other column"):
        df.groupby("k").agg(r=("x", "corr"))
