"""Tests of xpdb.kernels.expr against pandas, NumPy, pyarrow and DuckDB on the same values."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import operator
import warnings

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb import types as t
from xpdb.column import Column
from xpdb.errors import ExecutionError, XpdbError
from xpdb.errors import TypeError as XTypeError
from xpdb.kernels import expr as E

D = decimal.Decimal
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def col(values, typ=None, device="cpu") -> Column:
    return Column.from_arrow(pa.array(values, typ), device)


def duck(query: str, **columns) -> list:
    """Rows of ``query`` over a table ``t`` holding ``columns`` (pyarrow arrays or lists)."""
    con = duckdb.connect()
    con.register("t", pa.table(columns))
    rows = con.sql(query).fetchall()
    return [r[0] if len(r) == 1 else r for r in rows]


def same(got: list, expected: list) -> bool:
    if len(got) != len(expected):
        return False
    for g, e in zip(got, expected, strict=True):
        if isinstance(e, float) and math.isnan(e):
            if not (isinstance(g, float) and math.isnan(g)):
                return False
        elif g != e or (g is None) != (e is None):
            return False
    return True


# -- arithmetic -----------------------------------------------------------------------------------
A_INTS = [7, -7, 7, -7, 5, -5, 0, 9, None, 3]
B_INTS = [2, 2, -2, -2, 0, 0, 0, None, 4, 1]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "floordiv", "mod"])
def test_int_arith_ieee_matches_pandas(device, op):
    a, b = [*A_INTS[:7], 3], [*B_INTS[:7], 1]
    got = E.arith(op, col(a, pa.int64(), device), col(b, pa.int64(), device), div_zero="ieee")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(operator, op)(pd.Series(a), pd.Series(b))
    assert got.dtype == t.from_numpy(expected.dtype)
    assert same(got.to_pylist(), expected.tolist())


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "floordiv", "mod"])
def test_float_arith_ieee_matches_pandas(device, op):
    a = [7.5, -7.5, 7.5, 0.0, -1.0, 5.0, float("inf"), float("nan")]
    b = [2.0, 2.0, -2.0, 0.0, 0.0, float("inf"), 2.0, 1.0]
    got = E.arith(op, col(a, None, device), col(b, None, device), div_zero="ieee")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(operator, op)(pd.Series(a), pd.Series(b))
    assert same(got.to_pylist(), expected.tolist())


def test_int_floordiv_without_zero_divisor_stays_integer(device):
    got = E.arith("floordiv", col([7, -7], None, device), col([2, 2], None, device),
                  div_zero="ieee")
    assert got.dtype == t.int64 and got.to_pylist() == [3, -4]
    zero_under_null = col([2, 0], None, device).with_validity(
        col([True, False], None, device).data)
    got = E.arith("mod", 5, zero_under_null, div_zero="ieee")
    assert got.dtype == t.int64 and got.to_pylist() == [1, None]


def test_sql_division_matches_duckdb(device):
    a, b = col(A_INTS, pa.int64(), device), col(B_INTS, pa.int64(), device)
    expected = duck("select a // b, a % b from t", a=A_INTS, b=B_INTS)
    got = list(zip(E.arith("intdiv", a, b).to_pylist(), E.arith("rem", a, b).to_pylist(),
                   strict=True))
    assert got == expected
    assert E.arith("truediv", a, b).to_pylist()[4:7] == [None, None, None]
    assert E.arith("floordiv", a, b).to_pylist() == [
        None if x is None or y in (None, 0) else x // y for x, y in zip(A_INTS, B_INTS,
                                                                        strict=True)]
    assert E.arith("mod", a, b).to_pylist() == [
        None if x is None or y in (None, 0) else x % y for x, y in zip(A_INTS, B_INTS,
                                                                       strict=True)]


def test_float_division_by_zero_null_and_rem(device):
    a, b = col([7.5, -7.5, 1.0, None], None, device), col([2.0, 2.0, 0.0, 1.0], None, device)
    assert E.arith("truediv", a, b).to_pylist() == [3.75, -3.75, None, None]
    assert E.arith("rem", a, b).to_pylist() == [1.5, -1.5, None, None]
    assert E.arith("intdiv", a, b).to_pylist() == [3.0, -3.0, None, None]
    assert E.arith("mod", a, b).to_pylist() == [1.5, 0.5, None, None]


def test_weak_scalars_keep_the_column_type(device):
    i32 = col([1, 2], pa.int32(), device)
    assert E.arith("add", i32, 1).dtype == t.int32
    assert E.arith("add", 1, i32).dtype == t.int32
    assert E.arith("add", i32, 1.5).dtype == t.float64
    assert E.arith("truediv", i32, 2).dtype == t.float64
    assert E.arith("mul", col([1.5], pa.float32(), device), 2.5).dtype == t.float32
    assert E.arith("add", col([1], pa.int8(), device), 1000).to_pylist() == [1001]
    assert E.arith("add", col([1], pa.int8(), device), 1000).dtype == t.int16
    assert E.arith("add", i32, np.int64(1)).dtype == t.int64  # NumPy scalars are strong
    assert E.arith("add", i32, col([1, 1], pa.int16(), device)).dtype == t.int32
    assert E.arith("add", col([1], pa.int64(), device), col([1], pa.uint64(), device)).dtype \
        == t.float64
    assert E.arith("add", col([True], None, device), True).to_pylist() == [2]


def test_integer_overflow_wraps(device):
    c = col([INT64_MAX, INT64_MIN], pa.int64(), device)
    assert E.arith("add", c, 1).to_pylist() == [INT64_MIN, INT64_MIN + 1]
    assert E.negate(c).to_pylist() == [-INT64_MAX, INT64_MIN]
    assert E.arith("mul", col([127], pa.int8(), device), 2).to_pylist() == [-2]


def test_pow(device):
    assert E.power(col([2, 3, None], None, device), 3).to_pylist() == [8, 27, None]
    assert E.arith("pow", col([2.0, 0.0], None, device), -1).to_pylist() == [0.5, math.inf]
    with pytest.raises(ExecutionError, match="negative integer powers"):
        E.arith("pow", col([2, 3], None, device), col([1, -1], None, device))
    under_null = col([-1, 3], None, device).with_validity(col([False, True], None, device).data)
    assert E.arith("pow", 2, under_null).to_pylist() == [None, 8]


DECIMAL_CASES = [
    ("add", "a + b"), ("sub", "a - b"), ("mul", "a * b"), ("truediv", "a / b"),
]


@pytest.mark.parametrize(("op", "sql"), DECIMAL_CASES)
def test_decimal_arith_matches_duckdb(device, op, sql):
    a = pa.array([D("1.5"), D("-2.5"), D("999.9"), None, D("0.1")], pa.decimal128(4, 1))
    b = pa.array([D("2.25"), D("1.00"), D("-0.01"), D("1.00"), D("3.00")], pa.decimal128(5, 2))
    got = E.arith(op, Column.from_arrow(a, device), Column.from_arrow(b, device))
    con = duckdb.connect()
    con.register("t", pa.table({"a": a, "b": b}))
    expected = con.sql(f"select {sql} from t").fetchall()
    typ = con.sql(f"select typeof({sql}) from t limit 1").fetchall()[0][0]
    assert got.to_pylist() == [r[0] for r in expected]
    if op != "truediv":
        assert str(got.dtype).replace(" ", "") == typ.lower()
    else:
        assert got.dtype == t.float64


def test_decimal_mixed_and_remainders(device):
    d = col([D("7.50"), D("-7.50"), None], pa.decimal128(5, 2), device)
    assert E.arith("add", d, 1).to_pylist() == [D("8.50"), D("-6.50"), None]
    assert E.arith("mul", d, 2).dtype.is_decimal
    assert E.arith("add", d, 0.5).dtype == t.float64
    assert E.arith("mul", d, D("0.1")).to_pylist() == [D("0.750"), D("-0.750"), None]
    assert E.arith("mod", d, 2).to_pylist() == [D("1.50"), D("0.50"), None]
    assert E.arith("rem", d, 2).to_pylist() == [D("1.50"), D("-1.50"), None]
    assert E.arith("floordiv", d, 2).to_pylist() == [D(3), D(-4), None]
    assert E.arith("intdiv", d, 2).to_pylist() == [D(3), D(-3), None]
    assert E.arith("mod", d, 0).to_pylist() == [None, None, None]
    assert E.arith("truediv", d, 0, div_zero="ieee").to_pylist() == [math.inf, -math.inf, None]


def test_decimal_overflow_and_scale_errors(device):
    big = col([D("999999999999999.999")], pa.decimal128(18, 3), device)
    with pytest.raises(ExecutionError, match="18 digits"):
        E.arith("add", big, big)
    with pytest.raises(ExecutionError, match="18 digits"):
        E.arith("mul", big, big)
    fine = col([D("1.0")], pa.decimal128(18, 10), device)
    with pytest.raises(XTypeError, match="scale"):
        E.arith("mul", fine, fine)


def test_decimal_product_range_check(device):
    """Products are checked from the operands' largest magnitudes; near the bound (and past
    int64, where the product would wrap) the row-wise check still decides."""
    a = col([D("1.00"), D("-3.00"), D("99999999.99")], pa.decimal128(10, 2), device)
    ok = col([D("2.5"), D("0.5"), D("99.9")], pa.decimal128(9, 1), device)
    assert E.arith("mul", a, ok).to_pylist() == [D("2.500"), D("-1.500"), D("9989999999.001")]
    # largest magnitudes whose product stays below 10**18: no row check needed
    b = col([D("99999999.99"), D("0.01")], pa.decimal128(10, 2), device)
    c = col([D("9999999.9"), D("-9999999.9")], pa.decimal128(8, 1), device)
    assert E.arith("mul", b, c).to_pylist() == [D("99999999.99") * D("9999999.9"),
                                                 D("-99999.999")]
    # largest magnitudes past it, every row's product within: the row check passes them
    d = col([D("0.1"), D("9999999999.9")], pa.decimal128(11, 1), device)
    assert E.arith("mul", b, d).to_pylist() == [D("99999999.99") * D("0.1"),
                                                 D("0.01") * D("9999999999.9")]
    # an unscaled product past int64: wraps without the row check, must raise
    huge = col([D("9999999999.99"), D("1.00")], pa.decimal128(12, 2), device)
    with pytest.raises(ExecutionError, match="18 digits"):
        E.arith("mul", huge, huge)


def test_dates_and_temporal_rejection(device):
    a = col([dt.date(2024, 3, 1), None], None, device)
    assert E.arith("sub", a, dt.date(2024, 2, 1)).to_pylist() == [29, None]
    with pytest.raises(XTypeError, match="datetime"):
        E.arith("add", a, 1)
    with pytest.raises(XTypeError, match="strings"):
        E.arith("add", col(["a"], None, device), "b")


def test_scalar_only_needs_length_and_device(device):
    with pytest.raises(XTypeError, match="length="):
        E.arith("add", 1, 2)
    got = E.arith("add", 1, 2.5, length=3, device=device)
    assert got.to_pylist() == [3.5] * 3 and got.device.kind == device
    assert E.arith("add", None, 1, length=2, device=device).to_pylist() == [None, None]
    assert E.compare("lt", "a", "b", length=1, device=device).to_pylist() == [True]
    assert E.coalesce(None, "x", length=2, device=device).to_pylist() == ["x", "x"]


def test_operands_must_agree(device):
    with pytest.raises(XpdbError, match="rows"):
        E.arith("add", col([1], None, device), col([1, 2], None, device))


# -- unary math ---------------------------------------------------------------------------------
def test_round_half_even_matches_pandas(device):
    values = [2.5, -2.5, 0.5, 1.5, 2.675, 1234.5678, -0.05, 1e300, float("nan"), float("inf")]
    for nd in (0, 1, 2, -1, -2):
        got = E.round_(col(values, None, device), nd).to_pylist()
        assert same(got, pd.Series(values).round(nd).tolist()), nd


def test_round_half_away_matches_duckdb(device):
    values = [2.5, -2.5, 0.5, -0.5, 2.25, -2.25, 2.675, 1234.5678, 0.49999999999999994]
    for nd in (0, 1, 2, -1):
        got = E.round_(col(values, None, device), nd, half="away").to_pylist()
        assert got == duck(f"select round(x, {nd}) from t", x=values), nd


def test_round_integers_and_decimals(device):
    ints = col([15, -25, 35, 4, None], None, device)
    assert E.round_(ints, -1).to_pylist() == [20, -20, 40, 0, None]
    assert E.round_(ints, -1, half="away").to_pylist() == [20, -30, 40, 0, None]
    assert E.round_(ints, 2).to_pylist() == [15, -25, 35, 4, None]
    dec = pa.array([D("1.2345"), D("-1.2355"), D("99.9950"), None], pa.decimal128(10, 4))
    got = E.round_(Column.from_arrow(dec, device), 2, half="away")
    assert got.to_pylist() == duck("select round(x, 2) from t", x=dec)
    assert got.dtype == t.decimal(10, 2)
    assert E.round_(Column.from_arrow(dec, device), -1, half="away").to_pylist() == [
        D(0), D(0), D(100), None]


def test_floor_ceil_trunc(device):
    values = [-1.5, 1.5, -0.0, 2.0, None]
    c = col(values, None, device)
    for fn in ("floor", "ceil", "trunc"):
        expected = [None if v is None else float(getattr(np, fn)(v)) for v in values]
        assert getattr(E, fn)(c).to_pylist() == expected
    dec = pa.array([D("-1.50"), D("1.50"), D("2.00"), None], pa.decimal128(6, 2))
    dc = Column.from_arrow(dec, device)
    assert E.floor(dc).to_pylist() == duck("select floor(x) from t", x=dec)
    assert E.ceil(dc).to_pylist() == duck("select ceil(x) from t", x=dec)
    assert E.trunc(dc).to_pylist() == duck("select trunc(x) from t", x=dec)
    assert E.floor(col([3, -3], None, device)).to_pylist() == [3, -3]


def test_float_math_matches_numpy_without_warnings(device):
    values = [4.0, 0.0, -1.0, 1e-300, np.inf, np.nan, None]
    c = col(values, None, device)
    arr = np.array([np.nan if v is None else v for v in values])
    for name, fn in [("sqrt", np.sqrt), ("exp", np.exp), ("log", np.log), ("log10", np.log10),
                     ("log2", np.log2)]:
        with np.errstate(all="ignore"):
            expected = fn(arr).tolist()
        got = getattr(E, name)(c).to_pylist()
        assert same(got[:-1], expected[:-1]) and got[-1] is None, name
    assert E.sqrt(col([4], pa.int32(), device)).dtype == t.float64
    assert E.sqrt(col([4], pa.float32(), device)).dtype == t.float32
    assert E.log10(col([D("100.0")], pa.decimal128(4, 1), device)).to_pylist() == [2.0]


def test_negate_abs_sign(device):
    c = col([-2.5, 0.0, 3.0, float("nan"), None], None, device)
    assert same(E.negate(c).to_pylist(), [2.5, -0.0, -3.0, float("nan"), None])
    assert same(E.abs_(c).to_pylist(), [2.5, 0.0, 3.0, float("nan"), None])
    assert same(E.sign(c).to_pylist(), [-1.0, 0.0, 1.0, float("nan"), None])
    dec = pa.array([D("-2.5"), D("0.0"), None], pa.decimal128(3, 1))
    assert E.sign(Column.from_arrow(dec, device)).to_pylist() == [-1, 0, None]
    assert E.negate(Column.from_arrow(dec, device)).to_pylist() == [D("2.5"), D("0.0"), None]
    with pytest.raises(XTypeError):
        E.negate(col(["a"], None, device))


# -- comparison ---------------------------------------------------------------------------------
OPS = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
       "gt": operator.gt, "ge": operator.ge}


@pytest.mark.parametrize("op", list(OPS))
def test_compare_mixed_numbers(device, op):
    i = col([1, 2, 3, None, -5], pa.int32(), device)
    f = col([1.0, 2.5, float("nan"), 1.0, -5.0], None, device)
    d = col([D("1.00"), D("2.50"), D("2.99"), D("0"), None], pa.decimal128(4, 2), device)
    fn = OPS[op]
    for x, y, xs, ys in [(i, f, [1, 2, 3, None, -5], [1.0, 2.5, math.nan, 1.0, -5.0]),
                         (i, d, [1, 2, 3, None, -5], [D("1"), D("2.5"), D("2.99"), 0, None]),
                         (d, 2.5, [D("1"), D("2.5"), D("2.99"), 0, None], [2.5] * 5),
                         (i, 2, [1, 2, 3, None, -5], [2] * 5)]:
        expected = [None if a is None or b is None else fn(a, b) for a, b in
                    zip(xs, ys, strict=True)]
        assert E.compare(op, x, y).to_pylist() == expected
    assert E.compare(op, col([1], pa.int8(), device), 1000).to_pylist() == [fn(1, 1000)]


def test_compare_nan_total_order_matches_duckdb(device):
    a = [1.0, float("nan"), float("nan"), 2.0, float("inf"), None]
    b = [float("nan"), float("nan"), 1.0, 2.0, float("nan"), 1.0]
    ca, cb = col(a, None, device), col(b, None, device)
    sql = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
    for op, sym in sql.items():
        assert E.compare(op, ca, cb, nan="total").to_pylist() == duck(
            f"select a {sym} b from t", a=a, b=b), op
        ieee = [None if x is None else OPS[op](x, y) for x, y in zip(a, b, strict=True)]
        assert E.compare(op, ca, cb).to_pylist() == ieee, op


STRS = ["b", "a", None, "d", "ä", "\U0001f600", "", "bb"]


@pytest.mark.parametrize("scalar", ["b", "c", "", "a", "zzz", "\U0001f600", "ä"])
def test_compare_strings_with_scalar_matches_pyarrow(device, scalar):
    c = col(STRS, None, device)
    arr = pa.array(STRS)
    for op in OPS:
        fn = {"eq": pc.equal, "ne": pc.not_equal, "lt": pc.less, "le": pc.less_equal,
              "gt": pc.greater, "ge": pc.greater_equal}[op]
        assert E.compare(op, c, scalar).to_pylist() == fn(arr, scalar).to_pylist(), op
        assert E.compare(op, scalar, c).to_pylist() == fn(scalar, arr).to_pylist(), op


def test_compare_string_columns_with_different_dictionaries(device):
    other = ["a", "a", "x", "d", "b", "\U0001f600", None, "b"]
    x, y = col(STRS, None, device), col(other, None, device)
    for op, fn in [("lt", pc.less), ("eq", pc.equal), ("ge", pc.greater_equal)]:
        assert E.compare(op, x, y).to_pylist() == fn(pa.array(STRS), pa.array(other)).to_pylist()


def test_compare_temporal(device):
    d = col([dt.date(2024, 1, 1), dt.date(2024, 1, 2), None], None, device)
    assert E.compare("gt", d, dt.date(2024, 1, 1)).to_pylist() == [False, True, None]
    assert E.compare("eq", d, np.datetime64("2024-01-02")).to_pylist() == [False, True, None]
    assert E.compare("lt", d, dt.datetime(2024, 1, 1, 12)).to_pylist() == [True, False, None]
    ts = col([pd.Timestamp("2024-01-01 00:00:00.000000001").value, 0], pa.int64(), device)
    ts = Column(t.timestamp("ns"), ts.data, None, None, ts.device)
    assert E.compare("gt", ts, pd.Timestamp("2024-01-01")).to_pylist() == [True, False]
    assert E.compare("eq", ts, np.datetime64("2024-01-01T00:00:00.000000001", "ns")
                     ).to_pylist() == [True, False]
    zoned = col([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)], pa.timestamp("us", "UTC"), device)
    paris = pd.Timestamp("2024-01-01 01:00", tz="Europe/Paris")
    assert E.compare("eq", zoned, paris).to_pylist() == [True]
    assert E.compare("eq", zoned, paris.to_pydatetime()).to_pylist() == [True]
    with pytest.raises(XTypeError, match="naive and zoned"):
        E.compare("eq", zoned, dt.datetime(2024, 1, 1))
    with pytest.raises(XTypeError, match="cast them"):
        E.compare("eq", d, 1)


def test_compare_bools(device):
    b = col([True, False, None], None, device)
    assert E.compare("eq", b, True).to_pylist() == [True, False, None]
    assert E.compare("gt", b, False).to_pylist() == [True, False, None]


# -- logic and nulls ----------------------------------------------------------------------------
TRUTH_A = [True, True, True, False, False, False, None, None, None]
TRUTH_B = [True, False, None, True, False, None, True, False, None]


def test_kleene_logic_matches_duckdb(device):
    a, b = col(TRUTH_A, pa.bool_(), device), col(TRUTH_B, pa.bool_(), device)
    rows = duck("select a and b, a or b, not a from t", a=pa.array(TRUTH_A, pa.bool_()),
                b=pa.array(TRUTH_B, pa.bool_()))
    assert E.and_(a, b).to_pylist() == [r[0] for r in rows]
    assert E.or_(a, b).to_pylist() == [r[1] for r in rows]
    assert E.not_(a).to_pylist() == [r[2] for r in rows]
    assert E.and_(a, False).to_pylist() == [False] * 9
    assert E.or_(a, True).to_pylist() == [True] * 9
    assert E.and_(a, None).to_pylist() == [None, None, None, False, False, False] + [None] * 3
    with pytest.raises(XTypeError, match="bools"):
        E.and_(a, col([1] * 9, None, device))


def test_null_tests(device):
    c = col([1.0, None, float("nan")], None, device)
    assert E.is_null(c).to_pylist() == [False, True, False]
    assert E.is_not_null(c).to_pylist() == [True, False, True]
    assert E.is_nan(c).to_pylist() == [False, None, True]
    assert E.is_null(col([1], None, device)).validity is None
    assert E.is_nan(col([1, None], None, device)).to_pylist() == [False, None]
    assert E.is_null(None, length=2, device=device).to_pylist() == [True, True]


# -- conditionals ---------------------------------------------------------------------------------
def test_case_when_matches_duckdb(device):
    x = [1, 5, None, 10, 7]
    c = col(x, None, device)
    got = E.case_when([E.compare("gt", c, 8), E.compare("gt", c, 4)],
                      ["huge", col(["p", "q", "r", "s", "t"], None, device)], "small")
    expected = duck("select case when x > 8 then 'huge' when x > 4 then y else 'small' end "
                    "from t", x=x, y=["p", "q", "r", "s", "t"])
    assert got.to_pylist() == expected
    got.validate()
    num = E.case_when([E.compare("gt", c, 4)], [c], 0.5)
    assert num.dtype == t.float64 and num.to_pylist() == [0.5, 5.0, 0.5, 10.0, 7.0]
    none_default = E.case_when([E.compare("gt", c, 4)], [1], None)
    assert none_default.to_pylist() == [None, 1, None, 1, 1]


def test_coalesce_nullif_where_fill_null_match_duckdb(device):
    a = [None, 2, None, 4]
    b = [1, None, None, 8]
    ca, cb = col(a, pa.int64(), device), col(b, pa.int64(), device)
    assert E.coalesce(ca, cb, 0).to_pylist() == duck("select coalesce(a, b, 0) from t", a=a,
                                                     b=b)
    assert E.nullif(ca, 4).to_pylist() == duck("select nullif(a, 4) from t", a=a)
    assert E.nullif(ca, cb).to_pylist() == duck("select nullif(a, b) from t", a=a, b=b)
    cond = col([True, None, False, True], None, device)
    assert E.where(cond, ca, cb).to_pylist() == [None, None, None, 4]
    assert E.fill_null(ca, 0).to_pylist() == pd.Series(a).fillna(0).astype(int).tolist()
    assert E.fill_null(col([1, None], pa.int32(), device), 0).dtype == t.int32
    s = E.coalesce(col([None, "x"], None, device), col(["y", None], None, device), "z")
    assert s.to_pylist() == ["y", "x"]
    s.validate()


# -- IN and BETWEEN -------------------------------------------------------------------------------
@pytest.mark.parametrize("values", [[1, 3], [1, None], [None], [2.0, 5], [1, 2, 3, 4, 5]])
def test_isin_matches_duckdb(device, values):
    x = [1, 2, None, 3, 4]
    c = col(x, None, device)
    lst = ", ".join("NULL" if v is None else str(v) for v in values)
    assert E.isin(c, values).to_pylist() == duck(f"select x in ({lst}) from t", x=x)
    assert E.isin(c, values, negate=True).to_pylist() == duck(f"select x not in ({lst}) from t",
                                                              x=x)
    column_values = col(values, None, device)
    assert E.isin(c, column_values).to_pylist() == duck(f"select x in ({lst}) from t", x=x)


def test_isin_strings_floats_and_empty(device):
    s = col(["a", "b", None, "ü"], None, device)
    assert E.isin(s, ["b", "ü", "zz"]).to_pylist() == [False, True, None, True]
    assert E.isin(s, ["b", None]).to_pylist() == [None, True, None, None]
    assert E.isin(s, col(["zz", "a", None], None, device)).to_pylist() == [True, None, None,
                                                                           None]
    f = col([1.0, float("nan"), None], None, device)
    assert E.isin(f, [float("nan"), 1]).to_pylist() == [True, False, None]
    assert E.isin(f, []).to_pylist() == [False, False, False]
    assert E.isin(f, [None]).to_pylist() == [None, None, None]
    assert E.isin(f, [], negate=True).to_pylist() == [True, True, True]
    d = col([dt.date(2024, 1, 1), None], None, device)
    assert E.isin(d, [dt.date(2024, 1, 1)]).to_pylist() == [True, None]
    with pytest.raises(XTypeError):
        E.isin(col([1], None, device), ["a"])


def test_between_matches_duckdb(device):
    x, lo, hi = [1, 5, None, 3, 4, 2], [2, 2, 0, None, None, 3], [5, 4, 4, 2, 9, None]
    cx, clo, chi = (col(v, pa.int64(), device) for v in (x, lo, hi))
    assert E.between(cx, clo, chi).to_pylist() == duck(
        "select x between lo and hi from t", x=x, lo=lo, hi=hi)
    assert E.between(cx, clo, chi, negate=True).to_pylist() == duck(
        "select x not between lo and hi from t", x=x, lo=lo, hi=hi)
    assert E.between(col(["b", "z"], None, device), "a", "c").to_pylist() == [True, False]


# -- literals -------------------------------------------------------------------------------------
def test_literal_types(device):
    cases = [(1, t.int64), (1.5, t.float64), (True, t.bool_), ("x", t.string),
             (D("1.50"), t.decimal(3, 2)), (dt.date(2024, 1, 1), t.date),
             (dt.datetime(2024, 1, 1), t.timestamp("us")), (None, t.float64),
             (np.float32(1.5), t.float32), (dt.timedelta(seconds=1), t.duration("us"))]
    for value, typ in cases:
        c = E.literal(value, 2, device)
        c.validate()
        assert c.dtype == typ and c.to_pylist() == [value, value], value
    assert E.literal(1, 2, device, "float32").to_pylist() == [1.0, 1.0]
    assert E.literal(None, 1, device, "string").to_pylist() == [None]
    assert E.literal(1, 0, device).to_pylist() == []


# -- properties -----------------------------------------------------------------------------------
def _wrap(v: int) -> int:
    return (v + 2**63) % 2**64 - 2**63


maybe_int64 = st.one_of(st.none(), st.integers(INT64_MIN, INT64_MAX),
                        st.sampled_from([INT64_MIN, INT64_MAX, 0, -1, 1]))


@fixture_ok
@given(rows=st.lists(st.tuples(maybe_int64, maybe_int64), max_size=30))
def test_property_int64_arith(device, rows):
    a = [r[0] for r in rows]
    b = [r[1] for r in rows]
    ca, cb = col(a, pa.int64(), device), col(b, pa.int64(), device)

    def ref(fn, x, y, zero_null=False):
        if x is None or y is None or (zero_null and y == 0):
            return None
        return _wrap(fn(x, y))

    def tdiv(x, y):
        q = abs(x) // abs(y)
        return q if (x >= 0) == (y >= 0) else -q

    checks = {"add": (operator.add, False), "sub": (operator.sub, False),
              "mul": (operator.mul, False), "floordiv": (operator.floordiv, True),
              "mod": (operator.mod, True), "intdiv": (tdiv, True),
              "rem": (lambda x, y: x - tdiv(x, y) * y, True)}
    for op, (fn, zero_null) in checks.items():
        got = E.arith(op, ca, cb).to_pylist()
        assert got == [ref(fn, x, y, zero_null) for x, y in zip(a, b, strict=True)], op


@fixture_ok
@given(rows=st.lists(st.tuples(st.one_of(st.none(), st.floats()),
                               st.one_of(st.none(), st.floats())), max_size=30))
def test_property_float_compare_and_logic(device, rows):
    a = [r[0] for r in rows]
    b = [r[1] for r in rows]
    ca, cb = col(a, pa.float64(), device), col(b, pa.float64(), device)
    for op, fn in OPS.items():
        got = E.compare(op, ca, cb).to_pylist()
        assert got == [None if x is None or y is None else fn(x, y)
                       for x, y in zip(a, b, strict=True)], op
    lt, gt = E.compare("lt", ca, cb), E.compare("gt", ca, cb)
    # De Morgan holds in Kleene logic
    assert E.not_(E.and_(lt, gt)).to_pylist() == E.or_(E.not_(lt), E.not_(gt)).to_pylist()


@fixture_ok
@given(values=st.lists(st.one_of(st.none(), st.text(max_size=4)), max_size=20),
       other=st.text(max_size=4))
def test_property_string_compare(device, values, other):
    c = col(values, pa.string(), device)
    for op, fn in OPS.items():
        got = E.compare(op, c, other).to_pylist()
        assert got == [None if v is None else fn(v.encode(), other.encode()) for v in values]


@fixture_ok
@given(values=st.lists(st.one_of(st.none(), st.integers(-20, 20)), max_size=20),
       members=st.lists(st.one_of(st.none(), st.integers(-20, 20)), max_size=5))
def test_property_isin(device, values, members):
    got = E.isin(col(values, pa.int64(), device), members).to_pylist()
    present = {m for m in members if m is not None}
    for v, g in zip(values, got, strict=True):
        if not members:
            assert g is False
        elif not present or v is None or (v not in present and None in members):
            assert g is None
        else:
            assert g == (v in present)


def test_empty_and_single_row_inputs(device):
    for values, typ in [([], pa.int64()), ([None], pa.int64()), ([3], pa.int64()),
                        ([], pa.string()), (["x"], pa.string()), ([None], pa.float64())]:
        c = col(values, typ, device)
        n = len(values)
        results = [E.compare("eq", c, c), E.is_null(c), E.coalesce(c, c), E.nullif(c, c),
                   E.case_when([E.is_null(c)], [c], c), E.isin(c, values or [None])]
        if not pa.types.is_string(typ):
            results += [E.arith("add", c, 1), E.arith("floordiv", c, c), E.round_(c, 1),
                        E.sqrt(c), E.between(c, 0, 5), E.negate(c)]
        else:
            results += [E.compare("lt", c, "y"), E.where(E.is_null(c), "n", c)]
        for r in results:
            r.validate()
            assert len(r) == n


def test_portable_divmod_matches_numpy(dev):
    """The formulations that replace CuPy's floor_divide/remainder/fmod (which differ at
    infinities and go through float64 for integers) agree with NumPy bit for bit."""
    vals = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -7.5, np.inf, -np.inf, np.nan, 1e308, 5e-324,
                     1e16 + 2])
    a, b = np.repeat(vals, len(vals)), np.tile(vals, len(vals))
    with np.errstate(all="ignore"):
        q, m = E.float_divmod(dev.xp, dev.asarray(a), dev.asarray(b))
        expected = np.floor_divide(a, b), np.remainder(a, b)
    for part, want in zip((q, m), expected, strict=True):
        got = dev.to_host(part)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    ai = np.array([INT64_MIN, INT64_MAX, 2**53 + 1, -(2**53) - 1, -7, 7, 0], np.int64)
    bi = np.array([3, -7, 2, 2, 2, -2, 5], np.int64)
    got = dev.to_host(E.int_rem(dev.xp, dev.asarray(ai), dev.asarray(bi)))
    np.testing.assert_array_equal(got, np.fmod(ai, bi))
