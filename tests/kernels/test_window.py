from __future__ import annotations

import datetime
import decimal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb import errors
from xpdb.kernels import window as w
from xpdb.kernels.window import WindowFunc, frame_reduce, segmented_scan, window
from xpdb.table import Table
from xpdb.testing import assert_tables_equal

I64_MIN, I64_MAX = -(2**63), 2**63 - 1


# -- helpers ------------------------------------------------------------------------------------
def make_data(n: int = 200, seed: int = 7) -> pa.Table:
    """Partition keys, order keys (ties), values, all with nulls; ``id`` is the row order."""
    rng = np.random.default_rng(seed)

    def nullable(values, p=0.15):
        mask = rng.random(n) < p
        return pa.array(values, mask=mask)

    words = np.array(["a", "b", "cé", "d", "zz", "Ω"])
    return pa.table({
        "id": np.arange(n, dtype=np.int64),
        "g": nullable(rng.integers(0, 4, n)),
        "o": nullable(rng.integers(0, 6, n)),
        "v": nullable(np.round(rng.normal(0, 10, n), 3)),
        "x": nullable(rng.integers(-1000, 1000, n)),
        "s": nullable(words[rng.integers(0, len(words), n)]),
    })


def duck(data: pa.Table, exprs: list[str]) -> pa.Table:
    con = duckdb.connect()
    con.register("t", data)
    return con.sql(f"select id, {', '.join(exprs)} from t order by id").arrow().read_all()


def ours(data: pa.Table, device: str, part, order, funcs, **kw) -> Table:
    out = window(Table.from_arrow(data, device), part, order, funcs, **kw)
    out.validate()
    return out.select(["id", *[f.name for f in funcs]])


def bound(k, side: str) -> str:
    if k is None:
        return f"unbounded {side}"
    if k == 0:
        return "current row"
    return f"{abs(k)} {'preceding' if k < 0 else 'following'}"


def frame_sql(frame) -> str:
    return f"rows between {bound(frame[0], 'preceding')} and {bound(frame[1], 'following')}"


def order_sql(keys, desc, nulls_last) -> str:
    return ", ".join(f"{k} {'desc' if desc else 'asc'} nulls {'last' if nulls_last else 'first'}"
                     for k in keys)


# -- ranking ------------------------------------------------------------------------------------
@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("nulls_last", [False, True])
def test_ranking_matches_duckdb(desc, nulls_last, device):
    data = make_data()
    over = f"partition by g order by {order_sql(['o'], desc, nulls_last)}"
    over_id = f"partition by g order by {order_sql(['o', 'id'], desc, nulls_last)}"
    exp = duck(data, [f"rank() over ({over}) r", f"dense_rank() over ({over}) dr",
                      f"percent_rank() over ({over}) pr", f"cume_dist() over ({over}) cd",
                      f"row_number() over ({over_id}) rn", f"ntile(3) over ({over_id}) n3",
                      f"ntile(50) over ({over_id}) n50"])
    kw = {"descending": desc, "nulls_last": nulls_last}
    a = ours(data, device, ["g"], ["o"], [WindowFunc("rank", None, "r"),
                                          WindowFunc("dense_rank", None, "dr"),
                                          WindowFunc("percent_rank", None, "pr"),
                                          WindowFunc("cume_dist", None, "cd")], **kw)
    b = ours(data, device, ["g"], ["o", "id"], [WindowFunc("row_number", None, "rn"),
                                                WindowFunc("ntile", None, "n3", offset=3),
                                                WindowFunc("ntile", None, "n50", offset=50)], **kw)
    got = a.with_column("rn", b.column("rn")).with_column("n3", b.column("n3")) \
        .with_column("n50", b.column("n50"))
    assert_tables_equal(got, exp, rtol=1e-12)


def test_ranking_without_order_and_partition(device):
    data = make_data(30)
    exp = duck(data, ["rank() over () r", "dense_rank() over (partition by g) dr",
                      "cume_dist() over (partition by g) cd", "percent_rank() over () pr",
                      "count(*) over (partition by g) c"])
    tb = Table.from_arrow(data, device)
    a = window(tb, [], [], [WindowFunc("rank", None, "r"), WindowFunc("percent_rank", None, "pr")])
    b = window(tb, ["g"], [], [WindowFunc("dense_rank", None, "dr"),
                               WindowFunc("cume_dist", None, "cd"),
                               WindowFunc("count_star", None, "c")])
    got = a.select(["id", "r"]).with_column("dr", b.column("dr")) \
        .with_column("cd", b.column("cd")).with_column("pr", a.column("pr")) \
        .with_column("c", b.column("c"))
    assert_tables_equal(got, exp)


def test_several_order_keys_mixed_directions(device):
    data = make_data(120, seed=3)
    over = "partition by s order by g desc nulls first, o asc nulls last, v desc nulls last"
    exp = duck(data, [f"rank() over ({over}) r", f"dense_rank() over ({over}) dr",
                      f"sum(x) over ({over}) sx"])
    got = ours(data, device, ["s"], ["g", "o", "v"],
               [WindowFunc("rank", None, "r"), WindowFunc("dense_rank", None, "dr"),
                WindowFunc("sum", "x", "sx")],
               descending=[True, False, True], nulls_last=[False, True, True])
    assert_tables_equal(got, exp)


# -- lag / lead ---------------------------------------------------------------------------------
@pytest.mark.parametrize("desc", [False, True])
def test_lag_lead_match_duckdb(desc, device):
    data = make_data()
    over = f"partition by g order by {order_sql(['o', 'id'], desc, True)}"
    exp = duck(data, [f"lag(v, 2, 0) over ({over}) a", f"lead(v) over ({over}) b",
                      f"lag(x, 1, -1) over ({over}) c", f"lead(s, 2, 'zz') over ({over}) d",
                      f"lag(s) over ({over}) e", f"lead(x, 3) over ({over}) f",
                      f"lag(v, 0) over ({over}) h", f"lag(x, -2, 7) over ({over}) i",
                      f"lead(s, 1, 'new') over ({over}) j", f"lag(v, 500, 1.5) over ({over}) k"])
    funcs = [WindowFunc("lag", "v", "a", 2, 0), WindowFunc("lead", "v", "b"),
             WindowFunc("lag", "x", "c", 1, -1), WindowFunc("lead", "s", "d", 2, "zz"),
             WindowFunc("lag", "s", "e"), WindowFunc("lead", "x", "f", 3),
             WindowFunc("lag", "v", "h", 0), WindowFunc("lag", "x", "i", -2, 7),
             WindowFunc("lead", "s", "j", 1, "new"), WindowFunc("lag", "v", "k", 500, 1.5)]
    got = ours(data, device, ["g"], ["o", "id"], funcs, descending=desc)
    assert_tables_equal(got, exp)


# -- frames -------------------------------------------------------------------------------------
FRAMES = [(-2, 0), (-1, 2), (None, 0), (0, None), (None, None), (-3, -1), (1, 3), (None, -1),
          (2, None), (-50, 50)]


@pytest.mark.parametrize("frame", FRAMES, ids=str)
def test_row_frames_match_duckdb(frame, device):
    data = make_data(150, seed=11)
    desc = frame == (-1, 2)
    over = f"partition by g order by {order_sql(['o', 'id'], desc, False)} {frame_sql(frame)}"
    specs = [("sum", "v"), ("sum", "x"), ("count", "v"), ("count_star", None), ("mean", "v"),
             ("mean", "x"), ("min", "v"), ("max", "v"), ("min", "x"), ("max", "x"),
             ("min", "s"), ("max", "s"), ("first_value", "v"), ("last_value", "s"),
             ("nth_value", "x")]
    sql = {"mean": "avg", "count_star": "count"}
    exprs, funcs = [], []
    for i, (fn, col) in enumerate(specs):
        arg = "*" if col is None else col
        extra = ", 2" if fn == "nth_value" else ""
        exprs.append(f"{sql.get(fn, fn)}({arg}{extra}) over ({over}) c{i}")
        funcs.append(WindowFunc(fn, col, f"c{i}", offset=2 if fn == "nth_value" else 1,
                                frame=frame))
    exp = duck(data, exprs)
    got = ours(data, device, ["g"], ["o", "id"], funcs, descending=desc, nulls_last=False)
    assert_tables_equal(got, exp, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("order", [["o"], []], ids=["ordered", "unordered"])
def test_default_and_range_frames_include_peers(order, device):
    data = make_data(150, seed=5)
    o = "order by o" if order else ""
    ranges = {"d": "", "r1": "range between current row and unbounded following",
              "r2": "range between current row and current row",
              "r3": "range between unbounded preceding and unbounded following",
              "r4": "range between unbounded preceding and current row"}
    frames = {"d": None, "r1": (0, None), "r2": (0, 0), "r3": (None, None), "r4": (None, 0)}
    exprs, funcs = [], []
    for key, rng in ranges.items():
        over = f"partition by g {o} {rng}" if rng else f"partition by g {o}"
        for fn, col in [("sum", "v"), ("count", "x"), ("min", "s"), ("max", "v"),
                        ("avg", "x"), ("count", "*")]:
            name = f"{key}_{fn}_{col if col != '*' else 'star'}"
            exprs.append(f"{fn}({col}) over ({over}) {name}")
            func = "count_star" if col == "*" else fn
            funcs.append(WindowFunc(func, None if col == "*" else col, name,
                                    frame=frames[key],
                                    frame_type="range" if frames[key] else "rows"))
    exp = duck(data, exprs)
    got = ours(data, device, ["g"], order, funcs)
    assert_tables_equal(got, exp, rtol=1e-9, atol=1e-9)


def test_nan_and_inf_in_frames(device):
    v = [1.0, np.nan, np.inf, -np.inf, None, 2.0, np.nan, None, None, -0.0, 5.0, np.inf, 3.0]
    n = len(v)
    data = pa.table({"id": np.arange(n), "g": [0] * 7 + [1] * (n - 7), "v": pa.array(v)})
    exprs, funcs = [], []
    for i, frame in enumerate([(-1, 0), (None, 0), (-2, 1), (0, None)]):
        over = f"partition by g order by id {frame_sql(frame)}"
        for fn in ("sum", "min", "max", "avg", "count"):
            exprs.append(f"{fn}(v) over ({over}) {fn}{i}")
            funcs.append(WindowFunc(fn, "v", f"{fn}{i}", frame=frame))
    assert_tables_equal(ours(data, device, ["g"], ["id"], funcs), duck(data, exprs))


def test_float_sums_do_not_cancel(device):
    # prefix-sum differences would give 0 (or garbage) next to 1e20; frames never subtract
    v = [1e20, 1.0, 1.0, 1.0, -1e20, 2.0, 2.0] * 3
    data = pa.table({"id": np.arange(len(v)), "g": np.repeat([0, 1, 2], 7), "v": v})
    got = ours(data, device, ["g"], ["id"], [WindowFunc("sum", "v", "s", frame=(-1, 0)),
                                             WindowFunc("sum", "v", "c")])
    s = got.column("s").to_pylist()
    assert s[2] == 2.0 and s[3] == 2.0 and s[6] == 4.0
    assert got.column("c").to_pylist()[7:10] == [1e20, 1e20, 1e20]


# -- types --------------------------------------------------------------------------------------
def test_typed_columns(device):
    n = 40
    rng = np.random.default_rng(2)
    mask = rng.random(n) < 0.2
    days = rng.integers(0, 20000, n)
    data = pa.table({
        "id": np.arange(n),
        "g": rng.integers(0, 3, n),
        "d": pa.array([datetime.date(1970, 1, 1) + datetime.timedelta(int(x)) for x in days],
                      mask=mask),
        "ts": pa.array(days * 86_400_000_123, pa.timestamp("us"), mask=mask),
        "dec": pa.array([decimal.Decimal(int(x)) / 100 for x in days], pa.decimal128(10, 2),
                        mask=mask),
        "b": pa.array(rng.random(n) < 0.5, mask=mask),
        "i8": pa.array(rng.integers(-100, 100, n).astype(np.int8), mask=mask),
        "u64": pa.array(rng.integers(0, 10**6, n).astype(np.uint64), mask=mask),
    })
    over = "partition by g order by id rows between 2 preceding and current row"
    exprs = [f"{fn}({c}) over ({over}) {fn}_{c}" for c in ("d", "ts", "dec", "b")
             for fn in ("min", "max", "first_value")]
    exprs += [f"sum({c}) over ({over}) sum_{c}" for c in ("dec", "i8", "u64")]
    exprs += [f"avg({c}) over ({over}) avg_{c}" for c in ("dec", "i8")]
    exprs += [f"lag(d, 1, DATE '2000-01-01') over ({over}) lagd"]
    funcs = [WindowFunc(fn, c, f"{fn}_{c}", frame=(-2, 0)) for c in ("d", "ts", "dec", "b")
             for fn in ("min", "max", "first_value")]
    funcs += [WindowFunc("sum", c, f"sum_{c}", frame=(-2, 0)) for c in ("dec", "i8", "u64")]
    funcs += [WindowFunc("mean", c, f"avg_{c}", frame=(-2, 0)) for c in ("dec", "i8")]
    funcs += [WindowFunc("lag", "d", "lagd", default=datetime.date(2000, 1, 1))]
    got = ours(data, device, ["g"], ["id"], funcs)
    assert_tables_equal(got, duck(data, exprs))
    schema = got.schema
    assert schema["min_d"].kind == "date" and schema["max_ts"].kind == "timestamp"
    assert schema["first_value_b"].is_bool and schema["sum_dec"].scale == 2
    assert schema["sum_i8"] == schema["sum_u64"] and schema["sum_i8"].kind == "int64"


def test_type_errors(device):
    tb = Table.from_pydict({"s": ["a", "b"], "x": [1, 2]}, device)
    with pytest.raises(errors.TypeError, match="numeric"):
        window(tb, [], [], [WindowFunc("sum", "s", "y")])
    with pytest.raises(errors.TypeError, match="default"):
        window(tb, [], [], [WindowFunc("lag", "x", "y", default="nope")])


def test_bad_calls(device):
    tb = Table.from_pydict({"g": [1, 2], "x": [1, 2]}, device)
    bad = [
        ([WindowFunc("median", "x", "y")], errors.NotSupportedError, "median"),
        ([WindowFunc("sum", "x", "y", frame=(-1, 0), frame_type="range")],
         errors.NotSupportedError, "RANGE"),
        ([WindowFunc("sum", "x", "y", frame=(-1,))], errors.XpdbError, "frame"),
        ([WindowFunc("sum", "x", "y", frame_type="groups")], errors.XpdbError, "frame_type"),
        ([WindowFunc("ntile", None, "y", offset=0)], errors.XpdbError, "ntile"),
        ([WindowFunc("nth_value", "x", "y", offset=-1)], errors.XpdbError, "nth_value"),
        ([WindowFunc("sum", "xx", "y")], errors.BindError, "'x'"),
        ([WindowFunc("sum", None, "y")], errors.XpdbError, "column"),
        ([WindowFunc("rank", None, "y"), WindowFunc("count_star", None, "y")], errors.XpdbError,
         "distinct"),
    ]
    for funcs, exc, match in bad:
        with pytest.raises(exc, match=match):
            window(tb, ["g"], ["x"], funcs)
    with pytest.raises(errors.XpdbError, match="descending"):
        window(tb, [], ["x"], [WindowFunc("rank", None, "r")], descending=[True, False])
    with pytest.raises(errors.BindError):
        window(tb, ["gg"], [], [WindowFunc("rank", None, "r")])


def test_integer_sum_overflow_raises(device):
    tb = Table.from_pydict({"x": [I64_MAX, 1, 3]}, device)
    with pytest.raises(errors.ExecutionError, match="overflow.*row 1"):
        window(tb, [], [], [WindowFunc("sum", "x", "s", frame=(-1, 0))])
    # prefix sums pass int64 max on the way, but every frame sum fits: exact results
    tb = Table.from_pydict({"x": [I64_MAX, -5, I64_MIN + 10, 3]}, device)
    ok = window(tb, [], [], [WindowFunc("sum", "x", "cum", frame=(None, 0)),
                             WindowFunc("sum", "x", "two", frame=(-1, 0))])
    assert ok.column("cum").to_pylist() == [I64_MAX, I64_MAX - 5, 4, 7]
    assert ok.column("two").to_pylist() == [I64_MAX, I64_MAX - 5, I64_MIN + 5, I64_MIN + 13]


def test_output_replaces_existing_name_and_keeps_row_order(device):
    tb = Table.from_pydict({"g": [2, 1, 2, 1], "x": [10, 20, 30, 40]}, device)
    out = window(tb, ["g"], ["x"], [WindowFunc("sum", "x", "x"), WindowFunc("rank", None, "r")],
                 descending=True)
    assert out.names == ["g", "x", "r"]
    assert out.to_pydict() == {"g": [2, 1, 2, 1], "x": [40, 60, 30, 40], "r": [2, 2, 1, 1]}


def test_empty_and_single_row(device):
    funcs = [WindowFunc("row_number", None, "rn"), WindowFunc("sum", "x", "s", frame=(-2, 2)),
             WindowFunc("lag", "x", "l", default=0), WindowFunc("max", "x", "m"),
             WindowFunc("percent_rank", None, "pr"), WindowFunc("ntile", None, "nt", offset=4),
             WindowFunc("last_value", "x", "lv"), WindowFunc("mean", "x", "a", frame=(1, 3))]
    empty = Table.from_arrow(pa.table({"g": pa.array([], pa.int64()),
                                       "x": pa.array([], pa.float64())}), device)
    out = window(empty, ["g"], ["x"], funcs)
    out.validate()
    assert out.num_rows == 0 and out.names[-1] == "a"
    one = Table.from_pydict({"g": [None], "x": [2.5]}, device)
    out = window(one, ["g"], ["x"], funcs)
    assert out.to_pydict() == {"g": [None], "x": [2.5], "rn": [1], "s": [2.5], "l": [0.0],
                               "m": [2.5], "pr": [0.0], "nt": [1], "lv": [2.5], "a": [None]}
    nocols = Table((), 3, device)
    out = window(nocols, [], [], [WindowFunc("row_number", None, "rn"),
                                  WindowFunc("count_star", None, "c", frame=(-1, 0))])
    assert out.to_pydict() == {"rn": [1, 2, 3], "c": [1, 2, 2]}


def test_all_null_partition_and_values(device):
    data = pa.table({"id": range(6), "g": [None, None, 1, 1, None, 1],
                     "v": pa.array([None] * 6, pa.float64()),
                     "s": pa.array([None, None, "x", None, None, "y"])})
    over = "partition by g order by id"
    exprs = [f"{fn}({c}) over ({over}) {fn}_{c}" for c in ("v", "s")
             for fn in ("min", "max", "count", "first_value")]
    exprs += [f"{fn}(v) over ({over}) {fn}_v2" for fn in ("sum", "mean")]
    exprs += [f"lag(s, 1, 'd') over ({over}) lag_s"]
    funcs = [WindowFunc(fn, c, f"{fn}_{c}") for c in ("v", "s")
             for fn in ("min", "max", "count", "first_value")]
    funcs += [WindowFunc(fn, "v", f"{fn}_v2") for fn in ("sum", "mean")]
    funcs += [WindowFunc("lag", "s", "lag_s", default="d")]
    assert_tables_equal(ours(data, device, ["g"], ["id"], funcs), duck(data, exprs))


# -- pandas oracles ------------------------------------------------------------------------------
def test_matches_pandas_groupby(device):
    rng = np.random.default_rng(4)
    n = 300
    df = pd.DataFrame({"g": rng.integers(0, 7, n), "o": rng.integers(0, 20, n),
                       "v": rng.normal(size=n), "x": rng.integers(-50, 50, n)})
    df["pos"] = np.arange(n)
    tb = Table.from_pandas(df, device)
    out = window(tb, ["g"], ["o"], [
        WindowFunc("sum", "x", "cum", frame=(None, 0)),
        WindowFunc("rank", None, "rmin"), WindowFunc("dense_rank", None, "rdense"),
        WindowFunc("count_star", None, "ties", frame=(0, 0), frame_type="range"),
    ])
    res = out.to_pandas()
    gb = df.groupby("g")
    pd.testing.assert_series_equal(res["rmin"], gb["o"].rank(method="min").astype("int64"),
                                   check_names=False)
    pd.testing.assert_series_equal(res["rdense"], gb["o"].rank(method="dense").astype("int64"),
                                   check_names=False)
    # pandas' method="max" from rank and the number of peers (a RANGE frame of the peer group)
    rmax = (res["rmin"] + res["ties"] - 1).astype(float)
    pd.testing.assert_series_equal(rmax, gb["o"].rank(method="max"), check_names=False)
    # cumulative sum / shift / rolling follow row order within the group: order by pos
    out = window(tb, ["g"], ["pos"], [
        WindowFunc("sum", "v", "cumv", frame=(None, 0)), WindowFunc("sum", "x", "cumx"),
        WindowFunc("lag", "v", "sh2", offset=2), WindowFunc("lead", "x", "shm1"),
        WindowFunc("sum", "v", "roll3", frame=(-2, 0)),
        WindowFunc("max", "v", "rollmax", frame=(-4, 0)),
        WindowFunc("row_number", None, "rn"),
    ])
    res = out.to_pandas()
    exp = pd.DataFrame({
        "cumv": gb["v"].cumsum(), "cumx": gb["x"].cumsum(), "sh2": gb["v"].shift(2),
        "shm1": gb["x"].shift(-1),
        "roll3": gb["v"].rolling(3, min_periods=1).sum().reset_index(level=0, drop=True),
        "rollmax": gb["v"].rolling(5, min_periods=1).max().reset_index(level=0, drop=True),
        "rn": gb.cumcount() + 1,
    }).reset_index(drop=True)
    for c in exp:
        np.testing.assert_allclose(res[c].to_numpy(float), exp[c].to_numpy(float), rtol=1e-12,
                                   atol=1e-12, err_msg=c)
    pd.testing.assert_frame_equal(df[res["rn"] <= 2], gb.head(2))


# -- the scan primitives: portable branch on NumPy, against a plain loop -----------------------------
def naive_frames(values, lo, hi, fn, identity):
    return [fn(values[a:b + 1]) if a <= b else identity for a, b in zip(lo, hi, strict=True)]


@pytest.mark.parametrize("op", ["add", "minimum", "maximum"])
def test_frame_reduce_matches_loop(op, device, dev):
    rng = np.random.default_rng(9)
    n = 257
    values = rng.integers(-1000, 1000, n)
    lo = rng.integers(0, n, n)
    hi = np.minimum(lo + rng.integers(-3, 120, n), n - 1)
    hi = np.where(hi < lo, lo - 1, hi)
    got = frame_reduce(dev.xp, dev.asarray(values), dev.asarray(lo), dev.asarray(hi), op)
    fn = {"add": np.sum, "minimum": np.min, "maximum": np.max}[op]
    identity = {"add": 0, "minimum": I64_MAX, "maximum": I64_MIN}[op]
    assert dev.to_host(got).tolist() == naive_frames(values, lo, hi, fn, identity)


@pytest.mark.parametrize("op", ["add", "minimum", "maximum"])
@pytest.mark.parametrize("portable", [False, True])
@pytest.mark.parametrize("segments", [1, 5, 40])
def test_segmented_scan_branches(op, portable, segments, device, dev):
    rng = np.random.default_rng(segments)
    n = 300
    values = rng.normal(size=n)
    starts = np.zeros(n, bool)
    starts[0] = True
    starts[rng.choice(np.arange(1, n), segments - 1, replace=False)] = True
    got = dev.to_host(segmented_scan(dev.xp, dev.asarray(values), dev.asarray(starts), op,
                                     portable=portable))
    acc = getattr(np, op).accumulate
    expected = np.concatenate([acc(seg) for seg in np.split(values, np.nonzero(starts)[0][1:])])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_portable_scan_on_numpy_through_window(monkeypatch, device):
    # the CPU takes ufunc.accumulate for one partition; force CuPy's doubling branch instead
    data = make_data(80, seed=21)
    funcs = [WindowFunc("sum", "v", "s", frame=(None, 0)), WindowFunc("min", "x", "mn"),
             WindowFunc("max", "s", "mx", frame=(None, 1))]
    expected = ours(data, device, [], ["o", "id"], funcs)
    real = w.segmented_scan
    monkeypatch.setattr(w, "segmented_scan",
                        lambda *a, **k: real(*a, **{**k, "portable": True}))
    assert_tables_equal(ours(data, device, [], ["o", "id"], funcs), expected, rtol=1e-12)


# -- properties ----------------------------------------------------------------------------------
floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64,
                                        min_value=None, max_value=None)
                   .filter(lambda f: f != f or abs(f) < 1e12 or abs(f) == float("inf")))
ints = st.one_of(st.none(), st.integers(-5, 5), st.sampled_from([I64_MIN, I64_MAX, 0]))
offsets = st.one_of(st.none(), st.integers(-4, 4))


@st.composite
def cases(draw):
    n = draw(st.integers(0, 25))
    rows = st.tuples(st.sampled_from([None, 0, 1, 2]), st.sampled_from([None, 0, 1, 2, 3]),
                     floats, ints)
    data = draw(st.lists(rows, min_size=n, max_size=n))
    lo, hi = draw(offsets), draw(offsets)
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return data, (lo, hi), draw(st.booleans()), draw(st.booleans())


# the device fixture is a plain string: sharing it across examples is safe
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases())
def test_property_matches_duckdb(device, case):
    rows, frame, desc, nulls_last = case
    g, o, v, x = zip(*rows, strict=True) if rows else ([], [], [], [])
    data = pa.table({"id": pa.array(range(len(rows)), pa.int64()), "g": pa.array(g, pa.int64()),
                     "o": pa.array(o, pa.int64()), "v": pa.array(v, pa.float64()),
                     "x": pa.array(x, pa.int64())})
    over = f"partition by g order by {order_sql(['o', 'id'], desc, nulls_last)}"
    peers = f"partition by g order by {order_sql(['o'], desc, nulls_last)}"
    fr = f"{over} {frame_sql(frame)}"
    exprs = [f"sum(v) over ({fr}) sv", f"min(v) over ({fr}) mnv", f"max(v) over ({fr}) mxv",
             f"count(x) over ({fr}) cx", f"min(x) over ({fr}) mnx", f"max(x) over ({fr}) mxx",
             f"avg(x) over ({fr}) ax", f"last_value(x) over ({fr}) lx",
             f"rank() over ({peers}) r", f"cume_dist() over ({peers}) cd",
             f"sum(x) over ({peers}) sxp", f"lag(x, 2, 0) over ({over}) lg",
             f"sum(x) over ({fr}) sx"]
    funcs = [WindowFunc("sum", "v", "sv", frame=frame), WindowFunc("min", "v", "mnv", frame=frame),
             WindowFunc("max", "v", "mxv", frame=frame), WindowFunc("count", "x", "cx", frame=frame),
             WindowFunc("min", "x", "mnx", frame=frame), WindowFunc("max", "x", "mxx", frame=frame),
             WindowFunc("mean", "x", "ax", frame=frame),
             WindowFunc("last_value", "x", "lx", frame=frame)]
    got = ours(data, device, ["g"], ["o", "id"], funcs, descending=desc, nulls_last=nulls_last)
    ranked = ours(data, device, ["g"], ["o"], [WindowFunc("rank", None, "r"),
                                               WindowFunc("cume_dist", None, "cd")],
                  descending=desc, nulls_last=nulls_last)
    got = got.with_column("r", ranked.column("r")).with_column("cd", ranked.column("cd"))
    exp = duck(data, exprs)
    fits = all(s is None or I64_MIN <= s <= I64_MAX
               for c in ("sxp", "sx") for s in exp.column(c).to_pylist())
    extra = [("sxp", WindowFunc("sum", "x", "sxp"), ["o"]),
             ("lg", WindowFunc("lag", "x", "lg", 2, 0), ["o", "id"]),
             ("sx", WindowFunc("sum", "x", "sx", frame=frame), ["o", "id"])]
    if not fits:
        with pytest.raises(errors.ExecutionError, match="overflow"):
            for _, f, order in extra:
                ours(data, device, ["g"], order, [f], descending=desc, nulls_last=nulls_last)
        return
    for name, f, order in extra:
        res = ours(data, device, ["g"], order, [f], descending=desc, nulls_last=nulls_last)
        got = got.with_column(name, res.column(name))
    # avg of int64 extremes: float64 sums against DuckDB's exact int128 sums
    assert_tables_equal(got, exp, rtol=1e-9, atol=1e-9)


key_floats = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, -2.0, float("nan"),
                                                   float("inf"), float("-inf")]))
texts = st.one_of(st.none(), st.text(alphabet="aZé€😀\x00 ", max_size=3))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(key_floats, key_floats, texts, floats), max_size=25),
       st.booleans(), st.booleans(), st.integers(1, 4), offsets, offsets)
def test_property_float_and_string_keys(device, rows, desc, nulls_last, k, a, b):
    if a is not None and b is not None and a > b:
        a, b = b, a
    g, o, s, v = zip(*rows, strict=True) if rows else ([], [], [], [])
    data = pa.table({"id": pa.array(range(len(rows)), pa.int64()),
                     "g": pa.array(g, pa.float64()), "o": pa.array(o, pa.float64()),
                     "s": pa.array(s, pa.string()), "v": pa.array(v, pa.float64())})
    peers = f"partition by g order by {order_sql(['o'], desc, nulls_last)}"
    over = f"partition by g order by {order_sql(['o', 'id'], desc, nulls_last)}"
    fr = f"{over} {frame_sql((a, b))}"
    exp = duck(data, [f"rank() over ({peers}) r", f"dense_rank() over ({peers}) dr",
                      f"percent_rank() over ({peers}) pr", f"max(s) over ({peers}) mxs",
                      f"avg(v) over ({peers}) av",
                      f"row_number() over ({over}) rn", f"ntile({k}) over ({over}) nt",
                      f"lead(s, {k}, 'd€') over ({over}) ld",
                      f"min(s) over ({fr}) mns", f"nth_value(s, {k}) over ({fr}) nth",
                      f"first_value(v) over ({fr}) fv"])
    tb = Table.from_arrow(data, device)
    kw = {"descending": desc, "nulls_last": nulls_last}
    p1 = window(tb, ["g"], ["o"], [
        WindowFunc("rank", None, "r"), WindowFunc("dense_rank", None, "dr"),
        WindowFunc("percent_rank", None, "pr"), WindowFunc("max", "s", "mxs"),
        WindowFunc("mean", "v", "av")], **kw)
    p2 = window(p1, ["g"], ["o", "id"], [
        WindowFunc("row_number", None, "rn"), WindowFunc("ntile", None, "nt", offset=k),
        WindowFunc("lead", "s", "ld", offset=k, default="d€"),
        WindowFunc("min", "s", "mns", frame=(a, b)),
        WindowFunc("nth_value", "s", "nth", offset=k, frame=(a, b)),
        WindowFunc("first_value", "v", "fv", frame=(a, b))], **kw)
    p2.validate()
    assert_tables_equal(p2.drop(["g", "o", "s", "v"]), exp, rtol=1e-9, atol=1e-9)
