from __future__ import annotations

import datetime
import math
from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb.errors import BindError, ExecutionError
from xpdb.kernels import _xp
from xpdb.kernels import sort as S
from xpdb.shards import ShardedTable
from xpdb.table import Table
from xpdb.testing import assert_tables_equal

I64 = (-(2**63), 2**63 - 1)
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- oracle ------------------------------------------------------------------------------------
def _value(v):
    """Ascending order of a non-null value: NaN above every number, -0.0 equal to 0.0."""
    return (1, 0) if isinstance(v, float) and math.isnan(v) else (0, v)


def oracle(columns, descending, nulls_last):
    """Stable sort by brute force: one stable pass per key, least significant first."""
    idx = list(range(len(columns[0]) if columns else 0))
    for col, desc, last in reversed(list(zip(columns, descending, nulls_last, strict=True))):
        vals = [i for i in idx if col[i] is not None]
        nulls = [i for i in idx if col[i] is None]
        vals = sorted(vals, key=lambda i, c=col: _value(c[i]), reverse=desc)  # stable
        idx = vals + nulls if last else nulls + vals
    return idx


def host(dev, a):
    return dev.to_host(a).tolist()


def table(device, **cols):
    return Table.from_arrow(pa.table(cols), device)


COLUMNS = {
    "int": pa.array([3, None, 1, 3, I64[0], I64[1], 0, None, 1]),
    "small_int": pa.array([3, 1, 2, 3, 0, 2, 1, 1, 3], pa.int8()),
    "uint64": pa.array([2**64 - 1, 0, 2**63, 5, None, 2**63, 0, 7, 1], pa.uint64()),
    "float": pa.array([1.5, float("nan"), -0.0, None, float("inf"), 0.0, float("-inf"),
                       float("nan"), 1.5]),
    "float32": pa.array([1.5, None, -2.0, 0.0, -0.0, 1.5, 3.0, 0.0, -1.0], pa.float32()),
    "string": pa.array(["b", None, "é", "a", "🙂", "", "b", None, "A"]),
    "date": pa.array([datetime.date(2020, 1, d) for d in (3, 1, 2, 1, 9, 3, 4, 5, 6)]),
    "decimal": pa.array([Decimal(x) if x else None for x in
                         ("1.10", "-2.00", None, "1.10", "0.01", "99.99", "-2.00", "3", "4")],
                        pa.decimal128(6, 2)),
    "bool": pa.array([True, None, False, True, False, None, True, False, True]),
}


@pytest.mark.parametrize("name", list(COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("nulls_last", [False, True])
def test_single_key_every_type(name, descending, nulls_last, device, dev):
    t = table(device, x=COLUMNS[name])
    got = host(dev, S.sort_indices(t, "x", descending, nulls_last))
    assert got == oracle([COLUMNS[name].to_pylist()], [descending], [nulls_last])


@pytest.mark.parametrize("keys", [("small_int", "float"), ("string", "int", "bool"),
                                  ("float", "uint64"), ("bool", "date", "decimal")])
def test_several_keys(keys, device, dev):
    t = table(device, **{k: COLUMNS[k] for k in keys})
    for desc in ([False] * len(keys), [True, False, True][: len(keys)]):
        for last in ([True] * len(keys), [False, True, False][: len(keys)]):
            got = host(dev, S.sort_indices(t, list(keys), desc, last))
            assert got == oracle([COLUMNS[k].to_pylist() for k in keys], desc, last)


def test_matches_pandas_sort_values(device, dev, rng):
    n = 200
    df = pd.DataFrame({
        "i": pd.array(rng.integers(-3, 3, n), dtype="Int64"),
        "s": rng.choice(["a", "b", "é", "🙂"], n).astype(object),
        "f": rng.choice([0.5, -1.0, 2.0], n),
        "d": pd.to_datetime(rng.integers(0, 5, n), unit="D"),
    })
    df.loc[::7, "i"] = pd.NA
    df.loc[::5, "s"] = None
    df.loc[::3, "f"] = np.nan  # missing for pandas, null once in xpdb
    t = Table.from_pandas(df, device)
    for by, asc, na in [(["i"], [True], "last"), (["s", "i"], [False, True], "first"),
                        (["f", "d", "s"], [True, False, False], "last"),
                        (["d", "f"], [False, False], "first")]:
        got = host(dev, S.sort_indices(t, by, [not a for a in asc], na == "last"))
        expected = df.sort_values(by, ascending=asc, na_position=na, kind="stable")
        assert got == expected.index.tolist(), (by, asc, na)
        assert_tables_equal(S.sort_table(t, by, [not a for a in asc], na == "last"),
                            expected.reset_index(drop=True))


@pytest.mark.parametrize("order", ["ASC NULLS FIRST", "ASC NULLS LAST", "DESC NULLS FIRST",
                                   "DESC NULLS LAST"])
def test_matches_duckdb_order_by_with_nan(order, device):
    vals = [1.5, float("nan"), None, -2.0, float("inf"), float("-inf"), 0.0, None, 7.0]
    at = pa.table({"x": pa.array(vals), "s": pa.array(["b", "a", None, "é", "b", "a", "c", "a",
                                                        None])})
    t = Table.from_arrow(at, device)
    desc, last = order.startswith("DESC"), order.endswith("LAST")
    con = duckdb.connect()
    con.register("t", at)
    for by in (["x"], ["s", "x"]):
        sql_order = ", ".join(f"{c} {order}" for c in by)
        expected = con.sql(f"SELECT {', '.join(by)} FROM t ORDER BY {sql_order}").arrow()
        expected = expected.read_all() if hasattr(expected, "read_all") else expected
        assert_tables_equal(S.sort_table(t, by, desc, last).select(by), expected)


def test_empty_single_and_argument_errors(device, dev):
    empty = table(device, x=pa.array([], pa.int64()))
    assert host(dev, S.sort_indices(empty, "x")) == []
    assert S.top_k(empty, "x", 3).num_rows == 0
    assert host(dev, S.distinct_indices(empty)) == []
    one = table(device, x=pa.array([None], pa.float64()))
    assert host(dev, S.sort_indices(one, ["x"], True, False)) == [0]
    with pytest.raises(BindError, match="'y' not found"):
        S.sort_indices(one, "y")
    with pytest.raises(BindError, match="at least one key"):
        S.sort_indices(one, [])
    with pytest.raises(ExecutionError, match="descending has 2 entries"):
        S.sort_indices(one, ["x"], [True, False])
    with pytest.raises(ExecutionError, match="keep="):
        S.distinct_indices(one, keep="middle")


# -- top-k -------------------------------------------------------------------------------------
@pytest.mark.parametrize("by", [["small_int"], ["float"], ["int"], ["string", "float"],
                                ["float", "uint64"]])
@pytest.mark.parametrize("descending", [False, True])
def test_top_k_equals_sorted_prefix(by, descending, device, dev):
    t = table(device, **{k: COLUMNS[k] for k in by})
    full = host(dev, S.sort_indices(t, by, descending))
    for k in range(-1, t.num_rows + 2):
        assert host(dev, S.top_k_indices(t, by, k, descending)) == full[: max(k, 0)]
    assert_tables_equal(S.top_k(t, by, 4, descending), S.sort_table(t, by, descending).slice(0, 4))


def test_top_k_matches_pandas_nlargest(device, rng):
    df = pd.DataFrame({"a": rng.integers(0, 5, 100), "b": rng.normal(size=100).round(1)})
    t = Table.from_pandas(df, device)
    for col in ("a", "b"):
        for k in (1, 7, 30):
            assert_tables_equal(S.top_k(t, col, k, descending=True),
                                df.nlargest(k, col, keep="first"))
            assert_tables_equal(S.top_k(t, col, k), df.nsmallest(k, col, keep="first"))


# -- distinct ----------------------------------------------------------------------------------
@pytest.mark.parametrize("keep", ["first", "last", False])
def test_distinct_matches_pandas_drop_duplicates(keep, device, rng):
    n = 120
    df = pd.DataFrame({
        "i": pd.array(rng.integers(0, 3, n), dtype="Int64"),
        "s": rng.choice(["a", "é"], n).astype(object),
        "f": rng.choice([0.5, np.nan, -0.0, 0.0], n),
        "w": rng.integers(I64[0], I64[1], n, dtype=np.int64) % 4 * (2**61),
    })
    df.loc[::4, "i"] = pd.NA
    df.loc[::6, "s"] = None
    t = Table.from_pandas(df, device)
    for subset in (None, ["i"], ["s", "f"], ["w", "i"], "f"):
        expected = df.drop_duplicates(subset, keep=keep)
        assert host(t.device, S.distinct_indices(t, subset, keep)) == expected.index.tolist()
        assert_tables_equal(S.distinct(t, subset, keep), expected)


@pytest.mark.parametrize("scatter", [True, False])
def test_distinct_scatter_and_sort_paths_agree(scatter, device, dev, monkeypatch, rng):
    monkeypatch.setattr(S, "_scatter_distinct", lambda xp: scatter)
    vals = rng.integers(0, 5, 60).tolist()
    t = table(device, x=pa.array([None if v == 4 else v for v in vals]))
    keys = [None if v == 4 else v for v in vals]
    assert host(dev, S.distinct_indices(t)) == [i for i in range(60) if keys.index(keys[i]) == i]
    assert host(dev, S.distinct_indices(t, keep="last")) == [
        i for i in range(60) if keys[i] not in keys[i + 1:]]
    assert host(dev, S.distinct_indices(t, keep=False)) == [
        i for i in range(60) if keys.count(keys[i]) == 1]


def test_distinct_matches_duckdb_with_nan(device):
    at = pa.table({"x": pa.array([float("nan"), 1.0, None, float("nan"), None, 1.0, 2.0]),
                   "s": pa.array(["a", "a", None, "a", None, "b", "a"])})
    con = duckdb.connect()
    con.register("t", at)
    for cols in ("x", "x, s"):
        expected = con.sql(f"SELECT DISTINCT {cols} FROM t").arrow()
        expected = expected.read_all() if hasattr(expected, "read_all") else expected
        got = S.distinct(Table.from_arrow(at, device).select(expected.column_names))
        assert_tables_equal(got, expected, check_row_order=False)


def test_distinct_wide_and_extreme_keys(device, dev):
    vals = [I64[1], None, I64[0], I64[1], None, 0, I64[0]]
    t = table(device, x=pa.array(vals), y=pa.array([1.5, 1.5, float("nan"), 1.5, 2.0, 0.0, -0.0]))
    assert host(dev, S.distinct_indices(t, "x")) == [0, 1, 2, 5]
    assert host(dev, S.distinct_indices(t, "x", keep="last")) == [3, 4, 5, 6]
    assert host(dev, S.distinct_indices(t, "x", keep=False)) == [5]
    assert host(dev, S.distinct_indices(t, ["x", "y"])) == [0, 1, 2, 4, 5, 6]
    assert host(dev, S.distinct_indices(t, "y")) == [0, 2, 4, 5]


# -- sharded -----------------------------------------------------------------------------------
@pytest.mark.parametrize("by", [["small_int"], ["float"], ["int"], ["string", "int"],
                                ["float", "uint64"], ["bool", "date"]])
@pytest.mark.parametrize("rows_per_shard", [2, 4])
def test_sort_sharded_equals_sort_table(by, rows_per_shard, device):
    t = table(device, **{k: COLUMNS[k] for k in by}, row=pa.array(range(9)))
    for desc, last in ((False, True), (True, False)):
        shards = ShardedTable.split(t, rows_per_shard=rows_per_shard)
        assert_tables_equal(S.sort_sharded(shards, by, desc, last),
                            S.sort_table(t, by, desc, last))


def test_sort_sharded_unifies_string_dictionaries(device):
    a = table(device, s=pa.array(["b", "z", None]), row=pa.array([0, 1, 2]))
    b = table(device, s=pa.array(["a", "b", "é"]), row=pa.array([3, 4, 5]))
    got = S.sort_sharded(ShardedTable([a, b]), "s")
    assert got.to_pydict() == {"s": ["a", "b", "b", "z", "é", None], "row": [3, 0, 4, 1, 5, 2]}
    assert_tables_equal(S.sort_sharded(a, "s"), S.sort_table(a, "s"))


# -- code paths --------------------------------------------------------------------------------
def test_radix_and_portable_wide_argsort_agree(dev, rng):
    xp = dev.xp
    keys = np.concatenate([rng.integers(I64[0], I64[1], 500, dtype=np.int64),
                           np.array([I64[0], I64[1], 0, -1, I64[0]], np.int64),
                           rng.integers(0, 3, 200) * (2**40)])
    expected = np.argsort(keys, kind="stable").tolist()
    k = dev.asarray(keys)
    assert host(dev, S.argsort_wide(xp, k, radix=True)) == expected
    assert host(dev, S.argsort_wide(xp, k, radix=False)) == expected


def test_argsort_bounded_packed_and_fallback(dev, rng):
    xp = dev.xp
    keys = rng.integers(0, 50, 300)
    expected = np.argsort(keys, kind="stable").tolist()
    assert host(dev, _xp.argsort_bounded(xp, dev.asarray(keys), 50)) == expected
    assert host(dev, _xp.argsort_bounded(xp, dev.asarray(keys), 2**62)) == expected
    assert host(dev, _xp.argsort_bounded(xp, dev.asarray(keys[:1]), 50)) == [0]


# -- properties --------------------------------------------------------------------------------
_values = {
    "int": (st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(I64)), pa.int64()),
    "float": (st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, -1.5, float("nan"),
                                                    float("inf"), float("-inf")])), pa.float64()),
    "string": (st.one_of(st.none(), st.sampled_from(["", "a", "é", "🙂", "A", "ab"])), pa.string()),
    "bool": (st.one_of(st.none(), st.booleans()), pa.bool_()),
}


@fixture_ok
@given(data=st.data(), kinds=st.lists(st.sampled_from(list(_values)), min_size=1, max_size=3),
       n=st.integers(0, 12))
def test_property_sort_top_k_distinct(data, kinds, n, device, dev):
    cols = [data.draw(st.lists(_values[k][0], min_size=n, max_size=n)) for k in kinds]
    desc = data.draw(st.lists(st.booleans(), min_size=len(kinds), max_size=len(kinds)))
    last = data.draw(st.lists(st.booleans(), min_size=len(kinds), max_size=len(kinds)))
    names = [f"c{i}" for i in range(len(kinds))]
    t = Table.from_arrow(pa.table({nm: pa.array(c, _values[k][1])
                                   for nm, c, k in zip(names, cols, kinds, strict=True)}), device)
    expected = oracle(cols, desc, last)
    assert host(dev, S.sort_indices(t, names, desc, last)) == expected
    k = data.draw(st.integers(0, n + 1))
    assert host(dev, S.top_k_indices(t, names, k, desc, last)) == expected[:k]

    def canon(v):
        return ("nan",) if isinstance(v, float) and math.isnan(v) else v  # -0.0 == 0.0 already

    rows = [tuple(canon(c[i]) for c in cols) for i in range(n)]
    first = [i for i in range(n) if rows.index(rows[i]) == i]
    assert host(dev, S.distinct_indices(t, names)) == first
    last_kept = [i for i in range(n) if rows[i] not in rows[i + 1:]]
    assert host(dev, S.distinct_indices(t, names, keep="last")) == last_kept
