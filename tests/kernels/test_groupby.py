"""Tests of xpdb.kernels.groupby (and the kernels of xpdb.kernels.aggregate).

Oracles: pandas ``groupby(...).agg`` on data without NaN, DuckDB ``GROUP BY`` for SQL null
semantics, NaN, first/last and quantiles. The sharded path must equal the single-table path.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import zlib

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpdb
from xpdb import types as t
from xpdb.column import Column
from xpdb.errors import BindError, NotSupportedError, XpdbError
from xpdb.errors import TypeError as XTypeError
from xpdb.kernels import aggregate as A
from xpdb.kernels import keys as K
from xpdb.kernels.groupby import Agg, aggregate, estimate_groups, groupby_agg
from xpdb.shards import ShardedTable
from xpdb.table import Table
from xpdb.testing import assert_tables_equal

I64 = np.iinfo(np.int64)


# -- oracles --------------------------------------------------------------------------------------
def duck(at: pa.Table, sql: str) -> pa.Table:
    con = duckdb.connect()
    con.execute("SET threads=1")  # first()/last() follow the input order
    con.register("t", at)
    return con.sql(sql).to_arrow_table()


def duck_groupby(at: pa.Table, keys: list[str], exprs: dict[str, str], dropna: bool = False):
    sel = ", ".join([f'"{k}"' for k in keys] + [f'{e} AS "{n}"' for n, e in exprs.items()])
    where = (" WHERE " + " AND ".join(f'"{k}" IS NOT NULL' for k in keys)) if dropna else ""
    if not keys:
        return duck(at, f"SELECT {sel} FROM t")
    by = ", ".join(f'"{k}"' for k in keys)
    order = ", ".join(f'"{k}" ASC NULLS LAST' for k in keys)
    return duck(at, f"SELECT {sel} FROM t{where} GROUP BY {by} ORDER BY {order}")


def pandas_groupby(at: pa.Table, keys: list[str], aggs: dict[str, tuple[str, str, dict]],
                   dropna: bool) -> pa.Table:
    df = at.to_pandas()
    g = df.groupby(keys, dropna=dropna, sort=True)
    parts = {}
    for name, (func, col, kw) in aggs.items():
        parts[name] = g.size() if func == "size" else getattr(g[col], func)(**kw)
    # groupby misorders object keys holding None (bools with nulls): sort again, nulls last
    res = pd.DataFrame(parts).reset_index()
    res = res.sort_values(keys, na_position="last", kind="stable") if len(res) else res
    return pa.Table.from_pandas(res, preserve_index=False)


def run(at: pa.Table, device: str, keys: list[str], aggs: list[Agg], dropna: bool = False,
        shard_rows: int | None = None) -> Table:
    tb = Table.from_arrow(at, device)
    if shard_rows is None:
        return groupby_agg(tb, keys, aggs, dropna=dropna)
    with xpdb.config.set(shard_rows=shard_rows):
        return groupby_agg(tb, keys, aggs, dropna=dropna)


# -- data ---------------------------------------------------------------------------------------------
def _mask(rng: np.random.Generator, n: int, p: float = 0.15) -> np.ndarray:
    return rng.random(n) < p


def key_array(kind: str, rng: np.random.Generator, n: int) -> pa.Array:
    m = _mask(rng, n)
    if kind == "int":
        return pa.array(rng.integers(-3, 4, n).astype(np.int32), mask=m)
    if kind == "wide_int":  # sparse values: the sort-based compaction
        return pa.array(rng.choice([I64.min, -(10**15), 0, 10**15, I64.max], n), mask=m)
    if kind == "string":
        return pa.array(rng.choice(["b", "a", "é", "日本", "😀", "A", ""], n), mask=m)
    if kind == "bool":
        return pa.array(rng.random(n) < 0.5, mask=m)
    if kind == "date":
        days = rng.integers(18000, 18005, n).astype(np.int32)
        return pa.array(days, pa.int32(), mask=m).view(pa.date32())
    if kind == "decimal":
        vals = [decimal.Decimal(int(x)) / 100 for x in rng.integers(-300, 300, n) // 100 * 100]
        return pa.array(vals, pa.decimal128(10, 2), mask=m)
    if kind == "timestamp":
        us = rng.integers(0, 4, n) * 3_600_000_000
        return pa.array(us, pa.int64(), mask=m).view(pa.timestamp("us", tz="UTC"))
    if kind == "float":  # NaN, -0.0 and 0.0 (one group), inf
        return pa.array(rng.choice([0.0, -0.0, 1.5, np.nan, -np.inf], n), mask=m)
    raise AssertionError(kind)


def value_table(rng: np.random.Generator, n: int, keys: dict[str, str], nan: bool = False):
    cols = {name: key_array(kind, rng, n) for name, kind in keys.items()}
    v = np.round(rng.standard_normal(n) * 10, 3)
    if nan:
        v[rng.random(n) < 0.1] = np.nan
    cols["v"] = pa.array(v, mask=_mask(rng, n))
    cols["w"] = pa.array(rng.standard_normal(n))
    cols["i"] = pa.array(rng.integers(-50, 50, n), mask=_mask(rng, n))
    cols["s"] = pa.array(rng.choice(["x", "yy", "ß", "Ω"], n), mask=_mask(rng, n))
    return pa.table(cols)


KEY_KINDS = ["int", "string", "bool", "date", "decimal", "timestamp", "wide_int"]
MULTI_KEYS = [{"k1": "string", "k2": "int"}, {"k1": "bool", "k2": "date", "k3": "decimal"}]


# -- against pandas --------------------------------------------------------------------------------
PANDAS_AGGS = {
    "count": ("count", "v", {}), "size": ("size", None, {}),
    "sum": ("sum", "v", {"min_count": 1}), "isum": ("sum", "i", {"min_count": 1}),
    "min": ("min", "v", {}), "max": ("max", "v", {}), "mean": ("mean", "v", {}),
    "imean": ("mean", "i", {}), "var": ("var", "v", {}), "std": ("std", "v", {}),
    "std0": ("std", "v", {"ddof": 0}), "median": ("median", "v", {}),
    "q30": ("quantile", "v", {"q": 0.3}), "first": ("first", "v", {}),
    "last": ("last", "v", {}), "nunique": ("nunique", "v", {}),
    "prod": ("prod", "i", {"min_count": 1}), "smin": ("min", "s", {}),
    "slast": ("last", "s", {}),
}
XPDB_AGGS = [
    Agg("count", "v", "count"), Agg("size", None, "size"), Agg("sum", "v", "sum"),
    Agg("sum", "i", "isum"), Agg("min", "v", "min"), Agg("max", "v", "max"),
    Agg("mean", "v", "mean"), Agg("avg", "i", "imean"), Agg("var", "v", "var"),
    Agg("std", "v", "std"), Agg("std", "v", "std0", {"ddof": 0}), Agg("median", "v", "median"),
    Agg("quantile", "v", "q30", {"q": 0.3}), Agg("first", "v", "first"),
    Agg("last", "v", "last"), Agg("nunique", "v", "nunique"), Agg("prod", "i", "prod"),
    Agg("min", "s", "smin"), Agg("last", "s", "slast"),
]


@pytest.mark.parametrize("kind", KEY_KINDS)
@pytest.mark.parametrize("dropna", [False, True])
def test_matches_pandas_per_key_type(device, kind, dropna):
    rng = np.random.default_rng(zlib.crc32(f"{kind}{dropna}".encode()))
    at = value_table(rng, 300, {"k": kind})
    got = run(at, device, ["k"], XPDB_AGGS, dropna=dropna)
    expected = pandas_groupby(at, ["k"], PANDAS_AGGS, dropna)
    assert_tables_equal(got, expected)


@pytest.mark.parametrize("keys", MULTI_KEYS, ids=["string-int", "bool-date-decimal"])
@pytest.mark.parametrize("dropna", [False, True])
def test_matches_pandas_several_keys(device, keys, dropna):
    rng = np.random.default_rng(7)
    at = value_table(rng, 400, keys)
    got = run(at, device, list(keys), XPDB_AGGS, dropna=dropna)
    assert_tables_equal(got, pandas_groupby(at, list(keys), PANDAS_AGGS, dropna))


def test_db_benchmark_questions_match_pandas(device):
    """The shapes of the db-benchmark group-by questions, against pandas."""
    rng = np.random.default_rng(11)
    n = 5000
    ids = [f"id{i:03d}" for i in range(1, 21)]
    df = pd.DataFrame({
        "id1": rng.choice(ids, n), "id2": rng.choice(ids, n),
        "id3": rng.choice([f"id{i:010d}" for i in range(500)], n),
        "id4": rng.integers(1, 21, n).astype(np.int32), "id5": rng.integers(1, 21, n),
        "id6": rng.integers(1, 501, n), "v1": rng.integers(1, 6, n),
        "v2": rng.integers(1, 16, n), "v3": np.round(rng.random(n) * 100, 6)})
    tb = Table.from_pandas(df, device)
    g = {"sort": True, "as_index": False}
    cases = [
        (["id1"], [Agg("sum", "v1", "v1")], df.groupby("id1", **g).agg(v1=("v1", "sum"))),
        (["id1", "id2"], [Agg("sum", "v1", "v1")],
         df.groupby(["id1", "id2"], **g).agg(v1=("v1", "sum"))),
        (["id3"], [Agg("sum", "v1", "v1"), Agg("mean", "v3", "v3")],
         df.groupby("id3", **g).agg(v1=("v1", "sum"), v3=("v3", "mean"))),
        (["id4"], [Agg("mean", c, c) for c in ("v1", "v2", "v3")],
         df.groupby("id4", **g).agg(v1=("v1", "mean"), v2=("v2", "mean"), v3=("v3", "mean"))),
        (["id6"], [Agg("sum", c, c) for c in ("v1", "v2", "v3")],
         df.groupby("id6", **g).agg(v1=("v1", "sum"), v2=("v2", "sum"), v3=("v3", "sum"))),
        (["id4", "id5"], [Agg("median", "v3", "m"), Agg("std", "v3", "s")],
         df.groupby(["id4", "id5"], **g).agg(m=("v3", "median"), s=("v3", "std"))),
        (["id3"], [Agg("max", "v1", "a"), Agg("min", "v2", "b")],
         df.groupby("id3", **g).agg(a=("v1", "max"), b=("v2", "min"))),
        (["id1", "id2", "id3", "id4", "id5", "id6"],
         [Agg("sum", "v3", "v3"), Agg("count_star", None, "n")],
         df.groupby(["id1", "id2", "id3", "id4", "id5", "id6"], **g)
         .agg(v3=("v3", "sum"), n=("v1", "size"))),
    ]
    for keys, aggs, expected in cases:
        for rows in (1 << 40, 997):
            with xpdb.config.set(shard_rows=rows):
                assert_tables_equal(groupby_agg(tb, keys, aggs), expected)
    # q9: corr(v1, v2)^2 per (id2, id4)
    got = groupby_agg(tb, ["id2", "id4"], [Agg("corr", "v1", "r", {"other": "v2"})])
    exp = df.groupby(["id2", "id4"])[["v1", "v2"]].corr().xs("v1", level=2)["v2"]
    assert_tables_equal(got, exp.reset_index().rename(columns={"v2": "r"}), atol=1e-12)


# -- against DuckDB -------------------------------------------------------------------------------
DUCK_EXPRS = {
    "c": ("count(v)", Agg("count", "v", "c")),
    "n": ("count(*)", Agg("count_star", None, "n")),
    "cd": ("count(DISTINCT v)", Agg("count_distinct", "v", "cd")),
    "sm": ("sum(v)", Agg("sum", "v", "sm")),
    "si": ("sum(i)", Agg("sum", "i", "si")),
    "mn": ("min(v)", Agg("min", "v", "mn")),
    "mx": ("max(v)", Agg("max", "v", "mx")),
    "av": ("avg(v)", Agg("avg", "v", "av")),
    "md": ("median(v)", Agg("median", "v", "md")),
    "qc": ("quantile_cont(v, 0.9)", Agg("quantile_cont", "v", "qc", {"q": 0.9})),
    "qd": ("quantile_disc(v, 0.25)", Agg("quantile_disc", "v", "qd", {"q": 0.25})),
    "qs": ("quantile_disc(s, 0.5)", Agg("quantile_disc", "s", "qs", {"q": 0.5})),
    "fi": ("first(v)", Agg("first", "v", "fi", {"skipna": False})),
    "la": ("last(v)", Agg("last", "v", "la", {"skipna": False})),
    "fs": ("first(s)", Agg("first", "s", "fs", {"skipna": False})),
    "an": ("any_value(v)", Agg("any_value", "v", "an")),
    "pr": ("product(v)", Agg("product", "v", "pr")),
    "smin": ("min(s)", Agg("min", "s", "smin")),
    "smax": ("max(s)", Agg("max", "s", "smax")),
    "scd": ("count(DISTINCT s)", Agg("nunique", "s", "scd")),
}
# DuckDB raises 'out of range' on a NaN variance: these run on NaN-free data
DUCK_MOMENTS = {
    "vs": ("var_samp(v)", Agg("var_samp", "v", "vs")),
    "vp": ("var_pop(v)", Agg("var_pop", "v", "vp")),
    "ss": ("stddev_samp(v)", Agg("stddev_samp", "v", "ss")),
    "sp": ("stddev_pop(v)", Agg("stddev_pop", "v", "sp")),
    "co": ("corr(v, w)", Agg("corr", "v", "co", {"other": "w"})),
    "cs": ("covar_samp(v, w)", Agg("covar_samp", "v", "cs", {"other": "w"})),
    "cp": ("covar_pop(v, w)", Agg("covar_pop", "v", "cp", {"other": "w"})),
    "ci": ("corr(i, w)", Agg("corr", "i", "ci", {"other": "w"})),
}


def _check_duck(at, device, keys, exprs, dropna=False, shard_rows=None):
    expected = duck_groupby(at, keys, {n: e for n, (e, _) in exprs.items()}, dropna)
    got = run(at, device, keys, [a for _, a in exprs.values()], dropna, shard_rows)
    assert_tables_equal(got, expected)


@pytest.mark.parametrize("kind", ["float", "int", "string", "bool", "date"])
def test_matches_duckdb_with_nan(device, kind):
    rng = np.random.default_rng(5)
    at = value_table(rng, 300, {"k": kind}, nan=True)
    _check_duck(at, device, ["k"], DUCK_EXPRS)
    _check_duck(at, device, [], DUCK_EXPRS)


@pytest.mark.parametrize("keys", [["k"], ["k", "k2"], []])
def test_matches_duckdb_moments(device, keys):
    rng = np.random.default_rng(9)
    at = value_table(rng, 300, {"k": "float", "k2": "string"})
    _check_duck(at, device, keys, DUCK_MOMENTS)
    _check_duck(at, device, keys, DUCK_MOMENTS, dropna=True)


def test_float_keys_nan_and_signed_zero(device):
    at = pa.table({"k": pa.array([0.0, -0.0, np.nan, np.nan, 1.0, None, -np.inf]),
                   "v": [1, 2, 3, 4, 5, 6, 7]})
    got = run(at, device, ["k"], [Agg("sum", "v", "s")])
    assert got.column("s").to_pylist() == [7, 3, 5, 7, 6]
    keys = got.column("k").to_pylist()
    assert keys[:3] == [-math.inf, 0.0, 1.0] and math.isnan(keys[3]) and keys[4] is None
    # pandas would drop the NaN group with dropna=True; NaN is a value in xpdb
    got = run(at, device, ["k"], [Agg("sum", "v", "s")], dropna=True)
    assert got.column("s").to_pylist() == [7, 3, 5, 7]


def test_nan_min_max_follow_duckdb(device):
    at = pa.table({"k": [1, 1, 2, 2, 3, 3, 4],
                   "v": pa.array([np.nan, 1.0, np.nan, np.nan, 2.0, None, None])})
    got = run(at, device, ["k"], [Agg("min", "v", "mn"), Agg("max", "v", "mx")])
    mn, mx = got.column("mn").to_pylist(), got.column("mx").to_pylist()
    assert mn[0] == 1.0 and math.isnan(mn[1]) and mn[2] == 2.0 and mn[3] is None
    assert math.isnan(mx[0]) and math.isnan(mx[1]) and mx[2] == 2.0 and mx[3] is None


# -- types, empty input, extremes ---------------------------------------------------------------
def test_result_types(device):
    at = pa.table({
        "k": ["a", "b", "a"], "i8": pa.array([1, 2, 3], pa.int8()),
        "u": pa.array([1, 2, 3], pa.uint32()), "f32": pa.array([1.5, 2, 3], pa.float32()),
        "d": pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("2.50")],
                      pa.decimal128(9, 2)),
        "dt": pa.array([dt.date(2020, 1, 3), dt.date(2020, 1, 1), None]),
        "ts": pa.array([1, 2, 3], pa.timestamp("ms", tz="Europe/Paris")),
        "b": [True, False, None], "s": ["x", None, "y"],
        "du": pa.array([1, 2, 3], pa.duration("s")),
    })
    aggs = [Agg("sum", "i8", "si8"), Agg("sum", "u", "su"), Agg("sum", "f32", "sf"),
            Agg("sum", "d", "sd"), Agg("sum", "b", "sb"), Agg("sum", "du", "sdu"),
            Agg("mean", "d", "md"), Agg("median", "i8", "mi"), Agg("min", "f32", "mnf"),
            Agg("max", "dt", "mxd"), Agg("first", "ts", "fts"), Agg("last", "b", "lb"),
            Agg("any_value", "s", "as"), Agg("min", "d", "mnd"),
            Agg("quantile_disc", "dt", "qd"), Agg("count", "s", "c"), Agg("nunique", "d", "nu"),
            Agg("prod", "i8", "p"), Agg("bool_or", "b", "bo"), Agg("corr", "i8", "r",
                                                                   {"other": "f32"})]
    got = run(at, device, ["k"], aggs).to_arrow()
    types = dict(zip(got.column_names, got.schema.types, strict=True))
    assert types["si8"] == pa.int64() and types["su"] == pa.int64()
    assert types["sf"] == pa.float64() and types["sd"] == pa.decimal128(18, 2)
    assert types["sb"] == pa.int64() and types["sdu"] == pa.duration("s")
    assert types["md"] == types["mi"] == types["p"] == types["r"] == pa.float64()
    assert types["mnf"] == pa.float32() and types["mxd"] == pa.date32()
    assert types["fts"] == pa.timestamp("ms", tz="Europe/Paris")
    assert types["lb"] == pa.bool_() and types["as"] == pa.string()
    assert types["mnd"] == pa.decimal128(9, 2) and types["qd"] == pa.date32()
    assert types["c"] == types["nu"] == pa.int64() and types["bo"] == pa.bool_()
    row = {n: got.column(n).to_pylist() for n in got.column_names}
    assert row["sd"] == [decimal.Decimal("3.75"), None]
    assert row["md"] == [1.875, None]
    assert row["mxd"] == [dt.date(2020, 1, 3), dt.date(2020, 1, 1)]
    assert row["qd"] == [dt.date(2020, 1, 3), dt.date(2020, 1, 1)]
    assert row["lb"] == [True, False] and row["as"] == ["x", None] and row["sb"] == [1, 0]


def test_empty_table(device):
    at = value_table(np.random.default_rng(0), 0, {"k": "string"})
    aggs = [a for _, a in DUCK_EXPRS.values()] + [a for _, a in DUCK_MOMENTS.values()]
    got = run(at, device, ["k"], aggs)
    assert got.num_rows == 0 and got.names == ["k"] + [a.name for a in aggs]
    assert got.schema["k"] == t.string and got.schema["c"] == t.int64
    exprs = {**DUCK_EXPRS, **DUCK_MOMENTS}
    _check_duck(at, device, [], exprs)  # one row: counts 0, the rest null
    for rows in (1 << 40, 1):
        _check_duck(at, device, [], exprs, shard_rows=rows)


def test_single_row_and_all_null_groups(device):
    at = pa.table({"k": pa.array([1, 2, 2, 3], pa.int64()),
                   "v": pa.array([4.5, None, None, 1.0]), "w": [1.0, 2.0, 3.0, 4.0],
                   "i": pa.array([None, None, None, 7], pa.int64()),
                   "s": pa.array([None, None, None, "z"])})
    exprs = {**DUCK_EXPRS, **DUCK_MOMENTS}
    _check_duck(at, device, ["k"], exprs)
    _check_duck(at.slice(0, 1), device, ["k"], exprs)
    _check_duck(at.slice(0, 1), device, [], exprs)
    got = run(at, device, ["k"], [Agg("first", "v", "f"), Agg("last", "s", "l")])
    assert got.column("f").to_pylist() == [4.5, None, 1.0]
    assert got.column("l").to_pylist() == [None, None, "z"]


def test_int64_extremes(device):
    big = [I64.max, I64.max, I64.min, I64.min, 1, I64.max, -1]
    at = pa.table({"k": [1, 1, 2, 2, 3, 3, 3], "v": pa.array(big, pa.int64())})
    aggs = [Agg("sum", "v", "s"), Agg("min", "v", "mn"), Agg("max", "v", "mx"),
            Agg("quantile_disc", "v", "qd", {"q": 0.5}), Agg("nunique", "v", "nu"),
            Agg("mean", "v", "m"), Agg("median", "v", "md"), Agg("first", "v", "f")]
    for rows in (1 << 40, 2):
        got = run(at, device, ["k"], aggs, shard_rows=rows)
        wrapped = [int(np.array(big[:2]).sum()), int(np.array(big[2:4]).sum()),
                   int(np.array(big[4:]).sum())]  # int64 sums wrap, as NumPy's
        assert got.column("s").to_pylist() == wrapped
        assert got.column("mn").to_pylist() == [I64.max, I64.min, -1]
        assert got.column("mx").to_pylist() == [I64.max, I64.min, I64.max]
        assert got.column("qd").to_pylist() == [I64.max, I64.min, 1]
        assert got.column("nu").to_pylist() == [1, 1, 3]
        assert got.column("f").to_pylist() == [I64.max, I64.min, 1]
        m = got.column("m").to_pylist()
        assert m[0] == pytest.approx(float(I64.max)) and m[1] == pytest.approx(float(I64.min))
        assert got.column("md").to_pylist() == pytest.approx([float(I64.max), float(I64.min), 1.0])


def test_uint64_and_float32_order_statistics(device):
    u = pa.array([0, 2**64 - 1, 2**63, 5], pa.uint64())
    f = pa.array([-1.5, np.inf, np.nan, -0.0], pa.float32())
    at = pa.table({"k": [1, 1, 1, 1], "u": u, "f": f})
    aggs = [Agg("quantile_disc", "u", f"u{q}", {"q": q}) for q in (0, 0.5, 0.75, 1)] + \
        [Agg("quantile_disc", "f", f"f{q}", {"q": q}) for q in (0, 0.5, 0.75, 1)]
    got = run(at, device, ["k"], aggs).to_pydict()
    assert [got[f"u{q}"][0] for q in (0, 0.5, 0.75, 1)] == [0, 5, 2**63, 2**64 - 1]
    fs = [got[f"f{q}"][0] for q in (0, 0.5, 0.75, 1)]
    assert fs[:3] == [-1.5, 0.0, math.inf] and math.isnan(fs[3])


def test_quantile_rules(device):
    """quantile_cont interpolates like numpy; quantile_disc follows DuckDB's index rule."""
    rng = np.random.default_rng(2)
    at = pa.table({"k": rng.integers(0, 12, 200), "v": rng.standard_normal(200) * 1e6})
    qs = [0.0, 0.1, 0.25, 1 / 3, 0.5, 0.75, 0.9, 1.0]
    exprs = {f"c{i}": (f"quantile_cont(v, {q!r})", Agg("quantile", "v", f"c{i}", {"q": q}))
             for i, q in enumerate(qs)}
    exprs |= {f"d{i}": (f"quantile_disc(v, {q!r})", Agg("quantile_disc", "v", f"d{i}", {"q": q}))
              for i, q in enumerate(qs)}
    _check_duck(at, device, ["k"], exprs)
    df = at.to_pandas()
    got = run(at, device, ["k"], [a for _, a in exprs.values()])
    for i, q in enumerate(qs):
        np.testing.assert_allclose(got.column(f"c{i}").to_pylist(),
                                   df.groupby("k").v.quantile(q).to_numpy(), rtol=1e-12)


def test_unicode_keys_sort_like_duckdb(device):
    words = ["zebra", "Äpfel", "apple", "日本", "😀", "", "ñ", "Z", None, "\uff41"]
    at = pa.table({"k": words * 3, "v": list(range(30))})
    _check_duck(at, device, ["k"], {"s": ("sum(v)", Agg("sum", "v", "s")),
                                    "f": ("first(v)", Agg("first", "v", "f"))})


# -- sharded execution -----------------------------------------------------------------------------
SHARDABLE = [a for n, (_, a) in {**DUCK_EXPRS, **DUCK_MOMENTS}.items()
             if a.func not in ("median", "quantile_cont", "quantile_disc")]
SHARDABLE += [Agg("first", "v", "f1"), Agg("last", "v", "l1"), Agg("first", "s", "f2"),
              Agg("mean", "i", "mi"), Agg("bool_and", "b", "ba"), Agg("bool_or", "b", "bo"),
              Agg("min", "b", "mb"), Agg("prod", "i", "pi")]


def _with_bool(at: pa.Table, rng: np.random.Generator) -> pa.Table:
    n = at.num_rows
    return at.append_column("b", pa.array(rng.random(n) < 0.7, mask=_mask(rng, n)))


@pytest.mark.parametrize("keys", [{"k": "string"}, {"k": "float", "k2": "int"}, {}])
@pytest.mark.parametrize("dropna", [False, True])
def test_sharded_equals_single(device, keys, dropna):
    rng = np.random.default_rng(21)
    at = _with_bool(value_table(rng, 500, keys), rng)
    single = run(at, device, list(keys), SHARDABLE, dropna)
    for rows in (7, 64, 333):
        got = run(at, device, list(keys), SHARDABLE, dropna, shard_rows=rows)
        assert_tables_equal(got, single, rtol=1e-9, atol=1e-9)
    tb = Table.from_arrow(at, device)
    for n in (2, 5):
        sharded = ShardedTable.split(tb, num_shards=n)
        assert_tables_equal(groupby_agg(sharded, list(keys), SHARDABLE, dropna=dropna), single,
                            rtol=1e-9, atol=1e-9)


def test_sharded_with_empty_shards_and_other_dictionaries(device):
    rng = np.random.default_rng(4)
    parts = [value_table(rng, n, {"k": "string"}) for n in (50, 0, 80, 1)]
    shards = [Table.from_arrow(p, device) for p in parts]  # each its own string dictionary
    whole = pa.concat_tables(parts)
    aggs = [*SHARDABLE[:12], Agg("median", "v", "med")]
    got = groupby_agg(ShardedTable(shards), ["k"], aggs[:-1])
    assert_tables_equal(got, run(whole, device, ["k"], aggs[:-1]), rtol=1e-9, atol=1e-9)
    # holistic aggregates gather the shards
    got = groupby_agg(ShardedTable(shards), ["k"], aggs)
    assert_tables_equal(got, run(whole, device, ["k"], aggs), rtol=1e-9, atol=1e-9)
    got = aggregate(ShardedTable(shards[1:2] * 3), aggs[:-1])
    assert_tables_equal(got, aggregate(shards[1], aggs[:-1]))


def test_many_groups_skip_sharding_but_agree(device):
    rng = np.random.default_rng(8)
    at = pa.table({"k": rng.permutation(3000), "v": rng.standard_normal(3000)})
    tb = Table.from_arrow(at, device)
    assert estimate_groups(tb, ["k"], sample=500) > 1000
    aggs = [Agg("sum", "v", "s"), Agg("std", "v", "sd")]
    single = groupby_agg(tb, ["k"], aggs)
    with xpdb.config.set(shard_rows=100):
        assert_tables_equal(groupby_agg(tb, ["k"], aggs), single)
    assert_tables_equal(groupby_agg(ShardedTable.split(tb, num_shards=3), ["k"], aggs), single,
                        rtol=1e-9, atol=1e-12)


def test_estimate_groups(device):
    tb = Table.from_pydict({"k": [i % 37 for i in range(20000)], "j": list(range(20000))},
                           device)
    assert estimate_groups(tb, ["k"], sample=2000) == pytest.approx(37, rel=0.01)
    assert estimate_groups(tb, ["j"], sample=2000) > 10000
    assert 1000 < estimate_groups(tb, ["k", "j"], sample=1 << 14) <= math.inf


# -- kernels and branches --------------------------------------------------------------------------
def test_prod_portable_branch_matches_exact(device):
    rng = np.random.default_rng(3)
    v = rng.choice([0.5, -2.0, 3.0, 0.0, -0.25, 1.5, np.inf, np.nan], 400)
    v[:300] = np.abs(v[:300]) + 0.5  # groups without zeros or specials too
    at = pa.table({"k": rng.integers(0, 30, 400), "v": pa.array(v, mask=_mask(rng, 400))})
    _check_duck(at, device, ["k"], {"p": ("product(v)", Agg("prod", "v", "p"))})
    # the portable branch (logarithms) against NumPy's multiply.at, both on the CPU
    g = A.Groups.by_keys(Table.from_arrow(at, "cpu"), ["k"])
    exact, logs = g.prod("v", exact=True), g.prod("v", exact=False)
    assert_tables_equal(Table({"p": logs}), Table({"p": exact}), rtol=1e-12)


def test_group_ids_dense_and_sorted_paths_agree(device, dev):
    rng = np.random.default_rng(1)
    cols = [Column.from_numpy(rng.integers(0, 50, 1000) * 10**12, device=dev) for _ in range(3)]
    ids, n, sizes, rep = A.group_ids(cols)  # 50**3 codes for 1000 rows: the sorted path
    assert rep is not None
    ref = K.factorize(cols)
    assert n == ref.n
    np.testing.assert_array_equal(dev.to_host(ids), dev.to_host(ref.ids))
    np.testing.assert_array_equal(dev.to_host(sizes), np.bincount(dev.to_host(ref.ids)))
    np.testing.assert_array_equal(dev.to_host(ids)[dev.to_host(rep)], np.arange(n))
    ids, n, sizes, rep = A.group_ids(cols[:1])  # few codes: the dense path
    assert rep is None and n == K.factorize(cols[:1]).n
    np.testing.assert_array_equal(dev.to_host(ids), dev.to_host(K.factorize(cols[:1]).ids))


def test_row_bounds(device, dev):
    """First/last rows per group (the prefix scan on NumPy) against a direct computation."""
    rng = np.random.default_rng(6)
    for n_groups in (5, 3000):
        ids = rng.integers(0, n_groups, 70000)
        ids[-1] = n_groups  # a group seen only at the end
        valid = rng.random(70000) < 0.9
        d, dv = dev.asarray(ids), dev.asarray(valid)
        df = pd.DataFrame({"g": ids, "r": np.arange(70000)})
        for last, mask in ((False, None), (True, None), (False, dv), (True, dv)):
            got = dev.to_host(A.row_bounds(dev, d, n_groups + 2, last=last, valid=mask))
            sub = df if mask is None else df[valid]
            exp = np.full(n_groups + 2, -1 if last else 70000)
            agg = sub.groupby("g").r.max() if last else sub.groupby("g").r.min()
            exp[agg.index.to_numpy()] = agg.to_numpy()
            np.testing.assert_array_equal(got, exp)


def test_ranked_bucketed_and_exact_paths(device, dev):
    """Wide float ranges take the bucket-refining path, small integer ranges the exact one."""
    rng = np.random.default_rng(12)
    n = 2000
    k = rng.integers(0, 300, n)
    for v in (rng.standard_normal(n) * 10.0 ** rng.integers(-300, 300, n),
              rng.integers(-5, 5, n), np.round(rng.random(n), 2)):
        at = pa.table({"k": k, "v": v})
        tb = Table.from_arrow(at, device)
        rk = A.Groups.by_keys(tb, ["k"]).ranked("v")
        assert (rk.shift > 0) == (v.dtype.kind == "f")
        _check_duck(at, device, ["k"], {
            "m": ("median(v)", Agg("median", "v", "m")),
            "cd": ("count(DISTINCT v)", Agg("count_distinct", "v", "cd")),
            "a": ("quantile_disc(v, 0.2)", Agg("quantile_disc", "v", "a", {"q": 0.2})),
            "b": ("quantile_disc(v, 0.99)", Agg("quantile_disc", "v", "b", {"q": 0.99}))})


def test_chan_merge_matches_direct(device, dev):
    rng = np.random.default_rng(13)
    v = rng.standard_normal(600) * 3 + 1e6  # a large mean: the merge must not cancel
    at = pa.table({"k": rng.integers(0, 7, 600), "v": v})
    direct = run(at, device, ["k"], [Agg("var", "v", "var"), Agg("std", "v", "sd", {"ddof": 0})])
    for rows in (13, 100):
        got = run(at, device, ["k"], [Agg("var", "v", "var"), Agg("std", "v", "sd", {"ddof": 0})],
                  shard_rows=rows)
        assert_tables_equal(got, direct, rtol=1e-9)
    exp = at.to_pandas().groupby("k").v.var().to_numpy()
    np.testing.assert_allclose(direct.column("var").to_pylist(), exp, rtol=1e-9)


def test_shared_derived_arrays(device):
    """mean and std of one column compute its count and sum once."""
    at = pa.table({"k": [1, 1, 2], "v": [1.0, 3.0, 5.0]})
    tb = Table.from_arrow(at, device)
    g = A.Groups.by_keys(tb, ["k"])
    g.mean("v")
    first = g.fsum("v")
    g.m2("v")
    assert g.fsum("v") is first
    out = groupby_agg(tb, ["k"], [Agg("mean", "v", "m"), Agg("std", "v", "s"),
                                  Agg("sum", "v", "t")])
    assert out.to_pydict() == {"k": [1, 2], "m": [2.0, 5.0], "s": [math.sqrt(2), None],
                               "t": [4.0, 5.0]}


# -- errors --------------------------------------------------------------------------------------
def test_errors(device):
    tb = Table.from_pydict({"k": [1, 2], "s": ["a", "b"], "v": [1.0, 2.0]}, device)
    with pytest.raises(NotSupportedError, match="did you mean 'median'"):
        groupby_agg(tb, ["k"], [Agg("medain", "v", "m")])
    with pytest.raises(BindError, match="'vv' not found"):
        groupby_agg(tb, ["k"], [Agg("sum", "vv", "m")])
    with pytest.raises(BindError, match="'kk' not found"):
        groupby_agg(tb, ["kk"], [Agg("sum", "v", "m")])
    with pytest.raises(XTypeError, match="sum"):
        groupby_agg(tb, ["k"], [Agg("sum", "s", "m")])
    with pytest.raises(XTypeError, match="quantile_disc"):
        groupby_agg(tb, ["k"], [Agg("median", "s", "m")])
    with pytest.raises(XTypeError, match="bool"):
        groupby_agg(tb, ["k"], [Agg("bool_and", "v", "m")])
    with pytest.raises(XpdbError, match=r"q must be in \[0, 1\]"):
        groupby_agg(tb, ["k"], [Agg("quantile", "v", "m", {"q": 1.5})])
    with pytest.raises(XpdbError, match="ddof"):
        groupby_agg(tb, ["k"], [Agg("var", "v", "m", {"ddof": -1})])
    with pytest.raises(BindError, match="second column"):
        groupby_agg(tb, ["k"], [Agg("corr", "v", "m")])
    with pytest.raises(BindError, match="repeat"):
        groupby_agg(tb, ["k"], [Agg("sum", "v", "k")])
    with pytest.raises(BindError, match="needs an input column"):
        groupby_agg(tb, ["k"], [Agg("sum", None, "m")])
    with pytest.raises(XpdbError, match="unknown options"):
        groupby_agg(tb, ["k"], [Agg("sum", "v", "m", {"skip_na": True})])
    # count with no column counts rows; a single key may be given as a string
    assert groupby_agg(tb, "k", [Agg("count", None, "n")]).column("n").to_pylist() == [1, 1]


def test_agg_is_hashable():
    a = Agg("quantile", "v", "q", {"q": 0.5})
    assert a == Agg("quantile", "v", "q", {"q": 0.5}) and hash(a) == hash(Agg("quantile", "v", "q"))


# -- properties ----------------------------------------------------------------------------------
_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.sampled_from([0.0, -0.0, 1.0, -1.0]), st.none())
_ints = st.one_of(st.integers(I64.min, I64.max), st.integers(-3, 3), st.none())
_keys = st.one_of(st.sampled_from(["a", "b", "ü", "😀", ""]), st.none())


@st.composite
def frames(draw):
    n = draw(st.integers(0, 25))
    return pa.table({
        "k": pa.array(draw(st.lists(_keys, min_size=n, max_size=n)), pa.string()),
        "j": pa.array(draw(st.lists(st.one_of(st.integers(-2, 2), st.none()), min_size=n,
                                    max_size=n)), pa.int64()),
        "v": pa.array(draw(st.lists(_floats, min_size=n, max_size=n)), pa.float64()),
        "i": pa.array(draw(st.lists(_ints, min_size=n, max_size=n)), pa.int64()),
    })


PROP_EXPRS = {
    "c": ("count(v)", Agg("count", "v", "c")), "n": ("count(*)", Agg("size", None, "n")),
    "cd": ("count(DISTINCT v)", Agg("nunique", "v", "cd")),
    "ci": ("count(DISTINCT i)", Agg("nunique", "i", "ci")),
    "sm": ("sum(v)", Agg("sum", "v", "sm")), "mn": ("min(v)", Agg("min", "v", "mn")),
    "mx": ("max(v)", Agg("max", "v", "mx")), "mni": ("min(i)", Agg("min", "i", "mni")),
    "mxi": ("max(i)", Agg("max", "i", "mxi")),
    "qd": ("quantile_disc(v, 0.5)", Agg("quantile_disc", "v", "qd", {"q": 0.5})),
    "qi": ("quantile_disc(i, 0.7)", Agg("quantile_disc", "i", "qi", {"q": 0.7})),
    "fi": ("first(v)", Agg("first", "v", "fi", {"skipna": False})),
    "li": ("last(i)", Agg("last", "i", "li", {"skipna": False})),
    "an": ("any_value(i)", Agg("any_value", "i", "an")),
}


_FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@_FIXTURE_OK
@given(frames(), st.sampled_from([["k"], ["k", "j"], []]))
def test_property_matches_duckdb(device, at, keys):
    # NaN-safe comparisons: DuckDB and xpdb both treat NaN as the greatest value
    exprs = {n: e for n, (e, _) in PROP_EXPRS.items()}
    expected = duck_groupby(at, keys, {**exprs, "scale": "sum(abs(v))"})
    aggs = [a for _, a in PROP_EXPRS.values()]
    got = run(at, device, keys, aggs).to_arrow()
    # a float sum depends on the order of the additions by up to eps * sum(|v|) (0 + 4e-90
    # + 1 - 1 is 0 or 4e-90): compare it on that scale, everything else exactly
    scale = expected.column("scale").to_numpy(zero_copy_only=False).astype(float)
    g_sm = got.column("sm").to_numpy(zero_copy_only=False).astype(float)
    e_sm = expected.column("sm").to_numpy(zero_copy_only=False).astype(float)
    finite = np.isfinite(scale)  # where sum(|v|) overflows, so may the sum, in any order
    with np.errstate(invalid="ignore"):
        close = np.abs(g_sm - e_sm) <= 1e-12 * np.abs(e_sm) + 1e-13 * scale
    assert (close | ~finite | (np.isnan(g_sm) & np.isnan(e_sm))).all(), (g_sm, e_sm)
    has_nan = np.isnan(scale)  # a NaN value: the sum is NaN in any order
    assert (np.isnan(g_sm[has_nan]) & np.isnan(e_sm[has_nan])).all(), (g_sm, e_sm)
    assert_tables_equal(got.drop(["sm"]), expected.drop(["sm", "scale"]), rtol=1e-12)
    shardable = [a for a in aggs if not a.func.startswith("quantile")]
    shardable += [Agg("mean", "v", "m"), Agg("var", "i", "vi"), Agg("first", "v", "f1")]
    # A different summation order changes float sums next to +-1.8e308 by far more than any
    # tolerance (max + 1 - max), so the shard/single comparison leaves the extremes out.
    v = pa.array([None if x is None or not abs(x) < 1e300 else x
                  for x in at.column("v").to_pylist()], pa.float64())
    tb = Table.from_arrow(at.set_column(at.column_names.index("v"), "v", v), device)
    sharded = ShardedTable.split(tb, rows_per_shard=4)
    assert_tables_equal(groupby_agg(sharded, keys, shardable), groupby_agg(tb, keys, shardable),
                        rtol=1e-9, atol=1e-300)


@_FIXTURE_OK
@given(frames())
def test_property_matches_pandas_without_nan(device, at):
    # no NaN (pandas' null), no overflow (pandas' Kahan sums turn it into NaN)
    v = pa.array([None if x is None or not abs(x) < 1e300 else x
                  for x in at.column("v").to_pylist()], pa.float64())
    at = at.set_column(2, "v", v).drop_columns(["i"])
    aggs = {"sum": ("sum", "v", {"min_count": 1}), "mean": ("mean", "v", {}),
            "median": ("median", "v", {}), "first": ("first", "v", {}),
            "size": ("size", None, {}), "nunique": ("nunique", "v", {})}
    ours = [Agg(f if f != "size" else "size", c, name) for name, (f, c, _) in aggs.items()]
    for dropna in (False, True):
        expected = pandas_groupby(at, ["k", "j"], aggs, dropna)
        got = run(at, device, ["k", "j"], ours, dropna)
        assert_tables_equal(got, expected, rtol=1e-9, atol=1e-300)
