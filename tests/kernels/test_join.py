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
from xpdb.errors import TypeError as XTypeError
from xpdb.kernels import join as J
from xpdb.shards import ShardedTable
from xpdb.table import Table
from xpdb.testing import assert_tables_equal

HOWS = ["inner", "left", "right", "outer", "semi", "anti"]
I64 = (-(2**63), 2**63 - 1)


# -- oracle ------------------------------------------------------------------------------------
def _eq(a, b, nulls_equal):
    if a is None or b is None:
        return nulls_equal and a is None and b is None
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def oracle(lkeys, rkeys, how, nulls_equal=False):
    """Join indices by brute force, in the documented row order (rows are key tuples)."""
    def match(a, b):
        return all(_eq(x, y, nulls_equal) for x, y in zip(a, b, strict=True))

    li, ri = [], []
    if how == "right":
        for j, b in enumerate(rkeys):
            m = [i for i, a in enumerate(lkeys) if match(a, b)] or [-1]
            li += m
            ri += [j] * len(m)
        return li, ri
    for i, a in enumerate(lkeys):
        m = [j for j, b in enumerate(rkeys) if match(a, b)]
        if how in ("semi", "anti"):
            if bool(m) == (how == "semi"):
                li.append(i)
            continue
        if not m and how in ("left", "outer"):
            m = [-1]
        li += [i] * len(m)
        ri += m
    if how == "outer":
        for j, b in enumerate(rkeys):
            if not any(match(a, b) for a in lkeys):
                li.append(-1)
                ri.append(j)
    return li, ri


def host(dev, a):
    return None if a is None else dev.to_host(a).tolist()


def table(device, **cols):
    return Table.from_arrow(pa.table(cols), device)


def check(dev, left, right, lon, ron, how, nulls_equal=False):
    lkeys = list(zip(*[left.column(c).to_pylist() for c in lon], strict=True))
    rkeys = list(zip(*[right.column(c).to_pylist() for c in ron], strict=True))
    li, ri = J.join_indices(left, right, lon, ron, how, nulls_equal=nulls_equal)
    eli, eri = oracle(lkeys, rkeys, how, nulls_equal)
    assert host(dev, li) == eli
    if how in ("semi", "anti"):
        assert ri is None
    else:
        assert host(dev, ri) == eri
        assert str(li.dtype) == str(ri.dtype) == "int64"


KEYS = {
    "int": ([3, None, 1, 3, I64[0], I64[1], 7], [3, 3, None, I64[1], 1, 5, I64[0]], None),
    "float": ([1.5, float("nan"), -0.0, None, float("inf"), 2.0, float("nan")],
              [float("nan"), 0.0, None, 1.5, 1.5, float("-inf")], None),
    "string": (["a", None, "é", "b", "🙂", "a", ""], ["🙂", "a", None, "zz", "a", ""], None),
    "date": ([datetime.date(2020, 1, 1), None, datetime.date(1969, 12, 31)],
             [datetime.date(1969, 12, 31), datetime.date(2020, 1, 1), None,
              datetime.date(2020, 1, 1)], None),
    "decimal": ([Decimal("1.10"), None, Decimal("-2.50"), Decimal("1.10")],
                [Decimal("1.10"), Decimal("-2.50"), None], pa.decimal128(10, 2)),
    "bool": ([True, None, False, True], [False, True, True, None], None),
}


@pytest.mark.parametrize("kind", list(KEYS))
@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("nulls_equal", [False, True])
@pytest.mark.parametrize("swap", [None, 0], ids=["build-right", "build-left"])
def test_single_key_every_type(kind, how, nulls_equal, swap, device, dev, monkeypatch):
    if swap is not None:  # build inner/semi/anti joins on the left side
        monkeypatch.setattr(J, "_SWAP_FACTOR", swap)
    lk, rk, typ = KEYS[kind]
    left = table(device, k=pa.array(lk, typ))
    right = table(device, k=pa.array(rk, typ))
    check(dev, left, right, ["k"], ["k"], how, nulls_equal)


@pytest.mark.parametrize("how", HOWS)
def test_several_keys_of_mixed_types(how, device, dev):
    left = table(device, a=pa.array([1, 1, 2, None, 1, 2]),
                 b=pa.array(["x", "y", "x", "x", None, "x"]),
                 c=pa.array([0.5, 0.5, float("nan"), 0.5, 0.5, float("nan")]))
    right = table(device, a=pa.array([1, 2, 1, 2, None], pa.int16()),
                  b=pa.array(["x", "x", "y", "x", "x"]),
                  c=pa.array([0.5, float("nan"), 0.5, float("nan"), 0.5], pa.float32()))
    for ne in (False, True):
        check(dev, left, right, ["a", "b", "c"], ["a", "b", "c"], how, ne)


@pytest.mark.parametrize("how", HOWS)
def test_int_widths_and_uint64(how, device, dev):
    left = table(device, k=pa.array([1, -1, 127, None, -128], pa.int8()))
    right = table(device, k=pa.array([127, 1, 1, -128, 300], pa.int64()))
    check(dev, left, right, ["k"], ["k"], how)
    big = 2**64 - 1
    left = table(device, k=pa.array([5, -1, I64[1], None, -(2**63)], pa.int64()))
    right = table(device, k=pa.array([big, 5, I64[1], 2**63, 0], pa.uint64()))
    check(dev, left, right, ["k"], ["k"], how)
    check(dev, right, left, ["k"], ["k"], how)


@pytest.mark.parametrize("how", HOWS)
def test_casts_between_key_types(how, device, dev):
    left = table(device, i=pa.array([1, 2, 3, None]), d=pa.array(
        [Decimal("1.50"), Decimal("2.00"), None, Decimal("3.10")], pa.decimal128(5, 2)),
        t=pa.array([1000, 2000, 3000, None], pa.timestamp("ms")))
    right = table(device, i=pa.array([1.0, 2.5, 3.0]), d=pa.array(
        [Decimal("1.5"), Decimal("2"), Decimal("3.1")], pa.decimal128(4, 1)),
        t=pa.array([1000000, 2000001, 3000000], pa.timestamp("us")))
    for k in "idt":
        li, ri = J.join_indices(left, right, k, k, how)
        eli, eri = oracle([(1,), (2,), (3,), (None,)] if k != "d" else
                          [(1,), (2,), (None,), (3,)],
                          [(1,), (2.5,), (3,)] if k != "d" else [(1,), (2,), (3,)], how)
        assert host(dev, li) == eli
        assert host(dev, ri) == (None if how in ("semi", "anti") else eri)
    with pytest.raises(XTypeError, match="cannot join"):
        J.join_indices(left, table(device, i=pa.array(["1"])), "i", "i", how)


@pytest.mark.parametrize("how", HOWS)
def test_string_dictionaries_differ(how, device, dev):
    left = table(device, s=pa.array(["b", "a", "c", None, "é", "b"]))
    right = table(device, s=pa.array(["é", "d", "b", "b", None]))
    check(dev, left, right, ["s"], ["s"], how)
    check(dev, right, left, ["s"], ["s"], how, nulls_equal=True)


@pytest.mark.parametrize("how", [*HOWS, "cross"])
@pytest.mark.parametrize("sizes", [(0, 0), (0, 3), (3, 0), (1, 1)])
def test_empty_and_single_row_sides(how, sizes, device, dev):
    left = table(device, k=pa.array([1, 2, 3][: sizes[0]], pa.int64()))
    right = table(device, k=pa.array([1, 5, 1][: sizes[1]], pa.int64()))
    if how == "cross":
        li, ri = J.join_indices(left, right, [], [], how)
        assert host(dev, li) == [i for i in range(sizes[0]) for _ in range(sizes[1])]
        assert host(dev, ri) == [j for _ in range(sizes[0]) for j in range(sizes[1])]
        return
    check(dev, left, right, ["k"], ["k"], how)
    out = J.join(left, right, "k", "k", how)
    assert out.num_rows == len(J.join_indices(left, right, "k", "k", how)[0])


@pytest.mark.parametrize("how", HOWS)
def test_all_null_keys(how, device, dev):
    left = table(device, k=pa.array([None, None], pa.string()))
    right = table(device, k=pa.array([None, "a", None]))
    for ne in (False, True):
        check(dev, left, right, ["k"], ["k"], how, ne)
    left = table(device, k=pa.array([None, None], pa.int64()))
    right = table(device, k=pa.array([None], pa.int64()))
    for ne in (False, True):
        check(dev, left, right, ["k"], ["k"], how, ne)


def test_cross_is_left_major(device, dev):
    left = table(device, a=pa.array([1, 2]))
    right = table(device, b=pa.array(["x", "y", "z"]))
    out = J.join(left, right, [], [], "cross")
    assert out.to_pydict() == {"a": [1, 1, 1, 2, 2, 2], "b": ["x", "y", "z"] * 2}


# -- pandas and DuckDB oracles -----------------------------------------------------------------
def _frames(rng, n_left, n_right):
    ldf = pd.DataFrame({
        "k": pd.array(rng.integers(0, 6, n_left), dtype="Int64"),
        "s": rng.choice(["a", "b", "é", "🙂"], n_left).astype(object),
        "v": np.arange(n_left),
    })
    rdf = pd.DataFrame({
        "k2": pd.array(rng.integers(0, 8, n_right), dtype="Int64"),
        "s2": rng.choice(["b", "é", "c"], n_right).astype(object),
        "v": np.arange(n_right) * 10,
    })
    ldf.loc[::5, "k"] = pd.NA
    rdf.loc[::4, "k2"] = pd.NA
    ldf.loc[3::7, "s"] = None
    rdf.loc[2::6, "s2"] = None
    return ldf, rdf


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
@pytest.mark.parametrize("on", [["k"], ["s"], ["k", "s"]])
def test_matches_pandas_merge(how, on, device, rng):
    ldf, rdf = _frames(rng, 40, 25)
    ron = [c + "2" for c in on]
    left, right = Table.from_pandas(ldf, device), Table.from_pandas(rdf, device)
    got = J.join(left, right, on, ron, how, nulls_equal=True)
    expected = ldf.merge(rdf, left_on=on, right_on=ron, how=how, suffixes=("_x", "_y"))
    # pandas sorts an outer merge by key; every other order is ours too
    assert_tables_equal(got, expected, check_row_order=how != "outer")


@pytest.mark.parametrize("how", ["inner", "left", "right", "full", "semi", "anti"])
@pytest.mark.parametrize("key", ["k", "s", "f"])
def test_matches_duckdb(how, key, device, rng):
    ldf, rdf = _frames(rng, 30, 20)
    # DuckDB matches NaN with NaN and -0.0 with 0.0 for its own values but not for scanned
    # arrow data (1.5.5): the float keys here hold neither (the oracle tests cover them)
    ldf["f"] = np.where(np.arange(30) % 3 == 0, np.nan, (np.arange(30) % 4) * 0.5)
    rdf["f2"] = np.where(np.arange(20) % 4 == 0, np.nan, (np.arange(20) % 3) * 0.5)
    la, ra = pa.Table.from_pandas(ldf, preserve_index=False), pa.Table.from_pandas(
        rdf, preserve_index=False)
    got = J.join(Table.from_arrow(la, device), Table.from_arrow(ra, device), key, key + "2", how,
                 suffixes=("_x", "_y"))
    con = duckdb.connect()
    con.register("l", la)
    con.register("r", ra)
    sel = "l.*" if how in ("semi", "anti") else "l.*, r.*"
    kind = how.upper()
    expected = con.sql(f"SELECT {sel} FROM l {kind} JOIN r ON l.{key} = r.{key}2").arrow()
    expected = expected.read_all() if hasattr(expected, "read_all") else expected
    if how not in ("semi", "anti"):
        expected = expected.rename_columns(got.names)
    assert_tables_equal(got, expected, check_row_order=False)


def test_many_to_many_order_like_pandas(device):
    ldf = pd.DataFrame({"k": [3, 1, 3, 2, 3], "v": range(5)})
    rdf = pd.DataFrame({"k": [3, 2, 3, 5, 2], "v": range(10, 15)})
    left, right = Table.from_pandas(ldf, device), Table.from_pandas(rdf, device)
    for how in ("inner", "left", "right"):
        got = J.join(left, right, "k", "k", how)
        expected = ldf.merge(rdf, on="k", how=how)  # one merged key column, then v_x, v_y
        key = "k_y" if how == "right" else "k_x"
        assert_tables_equal(got.select([key, "v_x", "v_y"]), expected, check_names=False)


# -- materialization and errors ----------------------------------------------------------------
def test_output_columns_and_suffixes(device):
    left = table(device, k=pa.array([1, 2]), v=pa.array([1.5, 2.5]), a=pa.array(["p", "q"]))
    right = table(device, k=pa.array([2, 2]), v=pa.array([7, 8]), b=pa.array([True, False]))
    out = J.join(left, right, "k", "k", "inner", suffixes=("_l", "_r"))
    assert out.names == ["k_l", "v_l", "a", "k_r", "v_r", "b"]
    assert out.to_pydict()["v_r"] == [7, 8]
    out = J.join(left, right, "k", "k", "outer", suffixes=(None, "_r"))
    assert out.names == ["k", "v", "a", "k_r", "v_r", "b"]
    assert J.join(left, right, "k", "k", "semi").names == ["k", "v", "a"]
    with pytest.raises(BindError, match="no suffix"):
        J.join(left, right, "k", "k", "inner", suffixes=("", None))
    with pytest.raises(BindError, match="duplicate"):
        J.join(left.rename({"a": "v_x"}), right, "k", "k", "inner")


def test_bad_arguments(device):
    left = table(device, k=pa.array([1]))
    right = table(device, k=pa.array([1]))
    with pytest.raises(ExecutionError, match="unknown join type"):
        J.join_indices(left, right, "k", "k", "sideways")
    with pytest.raises(BindError, match="same, non-zero number of keys"):
        J.join_indices(left, right, ["k"], ["k", "k"], "inner")
    with pytest.raises(BindError, match="did you mean"):
        J.join_indices(left, right, "kk", "k", "inner")
    assert J.normalize_how("FULL") == "outer"


# -- sharded -----------------------------------------------------------------------------------
@pytest.mark.parametrize("how", [*HOWS, "cross"])
def test_join_sharded_equals_join(how, device, rng):
    ldf, rdf = _frames(rng, 23, 9)
    left, right = Table.from_pandas(ldf, device), Table.from_pandas(rdf, device)
    sharded = ShardedTable.split(left, rows_per_shard=6)
    got = J.join_sharded(sharded, right, ["k", "s"], ["k2", "s2"], how, nulls_equal=True)
    expected = J.join(left, right, ["k", "s"], ["k2", "s2"], how, nulls_equal=True)
    assert isinstance(got, ShardedTable)
    assert_tables_equal(got, expected)


# -- code paths --------------------------------------------------------------------------------
def test_portable_lookup_equals_hash_lookup(dev):
    xp = dev.xp
    tbl = dev.asarray(np.array([-(2**63), -5, 0, 3, 2**63 - 1], np.int64))
    vals = dev.asarray(np.array([3, 4, -(2**63), 2**63 - 1, -5, 1], np.int64))
    assert host(dev, J._lookup(xp, tbl, vals)) == [3, -1, 0, 4, 1, -1]
    assert host(dev, J._lookup_sorted(xp, tbl, vals)) == [3, -1, 0, 4, 1, -1]
    assert host(dev, J._lookup(xp, tbl[:0], vals)) == [-1] * 6


@pytest.mark.parametrize("how", HOWS)
def test_sparse_and_compacted_paths(how, device, dev, monkeypatch):
    """Force sparse key codes and id compaction (normally only for huge domains)."""
    monkeypatch.setattr(J, "_DENSE_FACTOR", 0)
    monkeypatch.setattr(J, "_LUT_FLOOR", 0)
    monkeypatch.setattr(J, "_INT62", 4)
    left = table(device, a=pa.array([1, 2, None, 1, 9, 2]), b=pa.array(["x", "y", "x", "x", "y", "y"]),
                 c=pa.array([10**12, 5, 5, 10**12, 5, 5]))
    right = table(device, a=pa.array([2, 1, 1, 2, None]), b=pa.array(["y", "x", "x", "y", "x"]),
                  c=pa.array([5, 10**12, 10**12, 6, 5]))
    for ne in (False, True):
        check(dev, left, right, ["a", "b", "c"], ["a", "b", "c"], how, ne)
        check(dev, left, right, ["c"], ["c"], how, ne)
        check(dev, right, left, ["a", "b", "c"], ["a", "b", "c"], how, ne)


# -- properties --------------------------------------------------------------------------------
_values = {
    "int": st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(I64)),
    "float": st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, float("nan"), float("inf"),
                                                   float("-inf")])),
    "string": st.one_of(st.none(), st.sampled_from(["", "a", "é", "🙂", "A"])),
}
_types = {"int": pa.int64(), "float": pa.float64(), "string": pa.string()}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), kind=st.sampled_from(list(_values)), nulls_equal=st.booleans(),
       how=st.sampled_from(HOWS), two_keys=st.booleans(), swap=st.sampled_from([0, 4]))
def test_property_matches_oracle(data, kind, nulls_equal, how, two_keys, swap, device, dev,
                                 monkeypatch):
    monkeypatch.setattr(J, "_SWAP_FACTOR", swap)
    nl = data.draw(st.integers(0, 8))
    nr = data.draw(st.integers(0, 8))
    lk = data.draw(st.lists(_values[kind], min_size=nl, max_size=nl))
    rk = data.draw(st.lists(_values[kind], min_size=nr, max_size=nr))
    cols_l = {"k": pa.array(lk, _types[kind])}
    cols_r = {"k": pa.array(rk, _types[kind])}
    on = ["k"]
    if two_keys:
        cols_l["j"] = pa.array(data.draw(st.lists(st.sampled_from([0, 1, None]), min_size=nl,
                                                  max_size=nl)), pa.int32())
        cols_r["j"] = pa.array(data.draw(st.lists(st.sampled_from([0, 1, None]), min_size=nr,
                                                  max_size=nr)), pa.int64())
        on = ["j", "k"]
    check(dev, Table.from_arrow(pa.table(cols_l), device), Table.from_arrow(pa.table(cols_r),
                                                                             device),
          on, on, how, nulls_equal)
