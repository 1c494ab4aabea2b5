"""Integer overflow: SQL raises where NumPy wraps (``+ - *``, negation, abs, SUM).

Oracles: Python's unbounded integers for the kernels' overflow checks, DuckDB for SQL
(it raises "Out of Range Error" where xpdb raises ExecutionError, and returns HUGEINT /
DECIMAL(38) sums, which must be past int64 / 18 digits exactly where xpdb raises).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

import xpdb
from xpdb.column import Column
from xpdb.errors import ExecutionError
from xpdb.kernels import aggregate as kagg
from xpdb.kernels import expr as kx

INT_TYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
PY_OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}


def _values(rng: np.random.Generator, dtype: str, n: int) -> np.ndarray:
    """Random values of ``dtype`` with its extremes, small numbers and -1/0/1 mixed in."""
    info = np.iinfo(dtype)
    out = rng.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
    small = rng.integers(max(info.min, -3), 4, size=n).astype(dtype)
    pick = rng.random(n)
    out = np.where(pick < 0.3, small, out)
    out[:4] = [info.min, info.max, 0, 1][:4]
    # square roots of the maximum: products just inside and just outside the range
    root = int(np.sqrt(float(info.max)))
    out[4:8] = np.array([root, root + 1, root - 1, root + 2]).astype(dtype)
    return out


@pytest.mark.parametrize("dtype", INT_TYPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_arith_overflow_matches_python_ints(device: str, dtype: str, op: str) -> None:
    rng = np.random.default_rng(INT_TYPES.index(dtype) * 7 + len(op))
    n = 400
    x, y = _values(rng, dtype, n), _values(rng, dtype, n)[::-1].copy()
    info = np.iinfo(dtype)
    exact = [PY_OPS[op](int(a), int(b)) for a, b in zip(x, y, strict=True)]
    over = np.array([not info.min <= v <= info.max for v in exact])
    valid = rng.random(n) < 0.8
    a = Column.from_arrow(pa.array(x, mask=~valid), device)
    b = Column.from_arrow(pa.array(y), device)
    # wrap (the default) never raises and agrees with NumPy's wrapping
    with np.errstate(all="ignore"):
        wrapped = PY_OPS[op](x, y)
    assert kx.arith(op, a, b).to_pylist() == [int(v) if ok else None
                                              for v, ok in zip(wrapped, valid, strict=True)]
    # raise: exactly when a valid row overflows
    if (over & valid).any():
        first = int(np.argmax(over & valid))
        with pytest.raises(ExecutionError, match=rf"Overflow in .* of {dtype} in 'x' at row "
                                                 rf"{first}: {x[first]} "):
            kx.arith(op, a, b, overflow="raise", expr="x")
    else:
        assert kx.arith(op, a, b, overflow="raise").to_pylist() == \
            [v if ok else None for v, ok in zip(exact, valid, strict=True)]
    # row by row, with the other operand a scalar: every overflow is found, nothing else
    for i in range(0, n, 7):
        one = Column.from_arrow(pa.array(x[i:i + 1]), device)
        if over[i]:
            with pytest.raises(ExecutionError):
                kx.arith(op, one, y[i].item(), overflow="raise")
        else:
            got = kx.arith(op, one, y[i].item(), overflow="raise")
            # a weak Python int may widen the type; the value is what matters
            assert got.to_pylist() == [exact[i]]


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64"])
def test_negate_and_abs_of_minimum(device: str, dtype: str) -> None:
    info = np.iinfo(dtype)
    col = Column.from_arrow(pa.array(np.array([info.min, -5, info.max], dtype)), device)
    assert kx.negate(col).to_pylist()[1:] == [5, -int(info.max)]
    for fn in (kx.negate, kx.abs_):
        with pytest.raises(ExecutionError, match=rf"row 0: {info.min} has no positive"):
            fn(col, overflow="raise")
    masked = Column.from_arrow(pa.array(np.array([info.min, -5], dtype), mask=np.array([True, False])),
                               device)
    assert kx.abs_(masked, overflow="raise").to_pylist() == [None, 5]


def test_split_halves_sums_are_exact(dev) -> None:
    xp = dev.xp
    rng = np.random.default_rng(5)
    info = np.iinfo(np.int64)
    v = rng.integers(info.min, info.max, size=300, dtype=np.int64, endpoint=True)
    v[:3] = [info.min, info.max, -1]
    ids = rng.integers(0, 40, size=300)
    high, low = kagg.split_halves(xp, xp.asarray(v))
    hs = kagg.isum(xp, xp.asarray(ids), 40, high)
    ls = kagg.isum(xp, xp.asarray(ids), 40, low)
    exact = [sum(int(a) for a, g in zip(v, ids, strict=True) if g == k) for k in range(40)]
    bad = dev.to_host(kagg.halves_overflow(xp, hs, ls))
    assert bad.tolist() == [not info.min <= s <= info.max for s in exact]
    assert any(bad) and not all(bad)
    bad18 = dev.to_host(kagg.halves_overflow(xp, hs, ls, 10**18))
    assert bad18.tolist() == [abs(s) >= 10**18 for s in exact]
    # uint64 halves
    u = rng.integers(0, 2**64 - 1, size=50, dtype=np.uint64, endpoint=True)
    uh, ul = kagg.split_halves(xp, xp.asarray(u))
    assert [(int(h) << 32) + int(lo) for h, lo in zip(dev.to_host(uh), dev.to_host(ul),
                                                       strict=True)] == [int(x) for x in u]


# -- SQL, against DuckDB ------------------------------------------------------------------------
@pytest.fixture
def dbs(device: str) -> tuple[Any, duckdb.DuckDBPyConnection]:
    big = pa.table({
        "k": pa.array([1, 1, 2, 2, 3, 3], pa.int64()),
        "v": pa.array([2**62, 2**62, -(2**62), -(2**62), 2**63 - 1, None], pa.int64()),
        "w": pa.array([10**9, 3, -7, 2**31 - 1, 0, None], pa.int64()),
        "i": pa.array([2**31 - 1, 1, -(2**31), -1, 7, None], pa.int32()),
        "s": pa.array([100, 27, -100, -29, 1, None], pa.int8()),
        "d": pa.array([Decimal("9999999999999999.99"), Decimal("0.01"), Decimal("-5.00"),
                       Decimal("-5.00"), Decimal("1.00"), None], pa.decimal128(18, 2)),
    })
    db = xpdb.connect(device=device)
    con = duckdb.connect()
    db.register("big", big)
    con.register("big", big)
    return db, con


@pytest.mark.parametrize("sql", [
    "SELECT v + v FROM big", "SELECT v - 9223372036854775807 FROM big WHERE k = 2", "SELECT -v - 2 FROM big",
    "SELECT v * 2 FROM big", "SELECT w * w * w FROM big", "SELECT i + i FROM big",
    "SELECT i * 2 FROM big", "SELECT s + s FROM big", "SELECT s * s FROM big",
    "SELECT 9223372036854775807 + 1", "SELECT -9223372036854775807 - 2",
    "SELECT 4294967296 * 4294967296", "SELECT abs(v + v) FROM big WHERE k = 2",
])
def test_sql_overflow_raises_like_duckdb(dbs, sql: str) -> None:
    db, con = dbs
    with pytest.raises(duckdb.OutOfRangeException):
        con.sql(sql).fetchall()
    with pytest.raises(ExecutionError, match="Overflow in"):
        db.sql(sql).fetchall()


def _same_rows(dbs, sql: str) -> None:
    """xpdb's rows equal DuckDB's (its integers as plain ints)."""
    db, con = dbs
    want = con.sql(sql).fetchall()
    got = db.sql(sql).fetchall()
    assert [tuple(int(x) if isinstance(x, int) else x for x in r) for r in got] == \
        [tuple(int(x) if isinstance(x, int) else x for x in r) for r in want]


@pytest.mark.parametrize("sql", [
    "SELECT v + 0, v - v, v * 1, -v FROM big ORDER BY k, v",
    "SELECT w * w FROM big WHERE k < 3 ORDER BY k, w", "SELECT i + 0, s - 1 FROM big ORDER BY k, i",
    "SELECT i * 2 FROM big WHERE i BETWEEN -5 AND 5 ORDER BY i",
    "SELECT v + 1 FROM big WHERE v < 0 ORDER BY v", "SELECT 3037000499 * 3037000499",
    "SELECT k, sum(w), sum(i), sum(s) FROM big GROUP BY k ORDER BY k",
    # -2**63 exactly; and a total that fits although its running sum passes 2**63
    "SELECT k, sum(v) FROM big WHERE k = 2 GROUP BY k ORDER BY k", "SELECT sum(v) FROM big",
    "SELECT sum(v) FROM big WHERE k > 1", "SELECT k, sum(d) FROM big WHERE k > 1 GROUP BY k ORDER BY k",
    "SELECT v + v FROM big WHERE k = 2",
])
def test_sql_results_at_the_edge_match_duckdb(dbs, sql: str) -> None:
    _same_rows(dbs, sql)


@pytest.mark.parametrize("sql, limit", [
    ("SELECT k, sum(v) FROM big GROUP BY k", 2**63),
    ("SELECT sum(v) FROM big WHERE k <> 2", 2**63),
    ("SELECT sum(d) + 0 FROM big WHERE k = 1", 10**16),  # 18 digits with scale 2
    ("SELECT k, sum(d) FROM big GROUP BY k HAVING k = 1", 10**16),
])
def test_sql_sum_past_int64_or_18_digits_raises(dbs, sql: str, limit: int) -> None:
    db, con = dbs
    # DuckDB widens (HUGEINT, DECIMAL(38)): its exact sums show the overflow is real
    sums = [r[-1] for r in con.sql(sql).fetchall()]
    assert any(s is not None and abs(s) >= limit for s in sums)
    with pytest.raises(ExecutionError, match=r"Overflow in sum of .*\(computing SUM\("):
        db.sql(sql).fetchall()


def test_window_and_null_rows_do_not_trip_the_check(dbs) -> None:
    db, _ = dbs
    # the overflowing value sits under a null (masked) or in a row filtered away
    got = db.sql("SELECT sum(v) FROM big WHERE k = 3 AND v IS NULL").fetchall()
    assert got == [(None,)]
    got = db.sql("SELECT CASE WHEN k = 3 THEN NULL ELSE v END + 1 AS x FROM big "
                 "WHERE k = 2").fetchall()
    assert got == [(-(2**62) + 1,), (-(2**62) + 1,)]


def test_sum_overflow_with_grouping_sets(dbs) -> None:
    db, con = dbs
    sql = "SELECT k, sum(v) AS s FROM big GROUP BY ROLLUP (k)"
    assert max(abs(s) for _, s in con.sql(sql).fetchall() if s is not None) >= 2**63
    with pytest.raises(ExecutionError, match="Overflow in sum of int64 values"):
        db.sql(sql).fetchall()
    ok = "SELECT k, sum(w) AS s FROM big GROUP BY ROLLUP (k) ORDER BY k NULLS LAST"
    assert db.sql(ok).fetchall() == con.sql(ok).fetchall()


def test_sum_overflow_in_a_streamed_aggregation(tmp_path, device: str) -> None:
    # a stored table over the memory budget is aggregated piece by piece
    rows = 40_000
    k = np.arange(rows) % 4
    v = np.where(k == 1, 2**62 // 4000, 3).astype(np.int64)  # group 1: 10,000 x 2**62/4000
    data = pa.table({"k": pa.array(k, pa.int64()), "v": pa.array(v)})
    path = tmp_path / "db"
    with xpdb.connect(path, device=device) as db:
        db.register("src", data)
        db.sql("CREATE TABLE t AS SELECT * FROM src")
    con = duckdb.connect()
    con.register("t", data)
    small = xpdb.connect(path, device=device, memory_limit=100_000)
    sql = "SELECT k, sum(v) AS s FROM t GROUP BY k ORDER BY k"
    assert max(s for _, s in con.sql(sql).fetchall()) >= 2**63
    with pytest.raises(ExecutionError, match="Overflow in sum of int64 values"):
        small.sql(sql).fetchall()
    ok = "SELECT k, sum(v) AS s FROM t WHERE k <> 1 GROUP BY k ORDER BY k"
    assert small.sql(ok).fetchall() == con.sql(ok).fetchall()
    assert "streamed" in small.explain(ok, analyze=True)


# -- bitwise operators, against DuckDB ----------------------------------------------------------
@pytest.mark.parametrize("sql", [
    "SELECT k, v & w, v | w, xor(v, w), ~v, ~i, i & s, s | 3, xor(s, i) FROM big ORDER BY k, v",
    "SELECT k, w >> 3, i >> 1, s >> 2, v >> 62, w >> 64, i >> -1, w >> k FROM big ORDER BY k, w",
    "SELECT k, w << 2, s << 0, k << 60 FROM big WHERE w BETWEEN 0 AND 1000000000 ORDER BY k, w",
    "SELECT k, i << 0, CAST(k AS INTEGER) << 29, CAST(1 AS TINYINT) << 6 FROM big WHERE i >= 0 "
    "ORDER BY k, i",
    "SELECT 5 & 3, 5 | 3, xor(5, 3), ~5, -8 >> 1, -9 >> 1, 8 >> 70, 0 << 100, NULL & 3",
    "SELECT k, sum(w & 255) FROM big GROUP BY k ORDER BY k",
    "SELECT k, bit_and(v), bit_or(v), bit_xor(v), bit_and(w), bit_or(i), bit_xor(s) FROM big "
    "GROUP BY k ORDER BY k",
    "SELECT bit_and(w), bit_or(w), bit_xor(i), bit_and(s), bit_or(s), bit_xor(v) FROM big",
    "SELECT bit_or(w) FROM big WHERE k > 10",
    "SELECT k FROM big WHERE (w & 1) = 1 ORDER BY k",
])
def test_sql_bitwise_matches_duckdb(dbs, sql: str) -> None:
    _same_rows(dbs, sql)


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT v << 1 FROM big WHERE k = 1", "Overflow in left shift"),
    ("SELECT i << 1 FROM big WHERE k = 1", "Overflow in left shift"),
    ("SELECT s << 2 FROM big WHERE k = 1", "Overflow in left shift"),
    ("SELECT w << 1 FROM big WHERE k = 2", "Cannot left-shift negative number"),
    ("SELECT i << 0 FROM big WHERE k = 2", "Cannot left-shift negative number"),
    ("SELECT w << -1 FROM big WHERE k = 1", "Cannot left-shift by negative number"),
    ("SELECT w << 64 FROM big WHERE k = 1", "Left-shift value 64 is out of range"),
    ("SELECT i << 32 FROM big WHERE k = 1", "Left-shift value 32 is out of range"),
])
def test_sql_left_shift_errors_like_duckdb(dbs, sql: str, message: str) -> None:
    db, con = dbs
    with pytest.raises(duckdb.OutOfRangeException, match=message):
        con.sql(sql).fetchall()
    with pytest.raises(ExecutionError, match=message):
        db.sql(sql).fetchall()


def test_bitwise_kernels_reject_non_integers(device: str) -> None:
    from xpdb.errors import TypeError as XTypeError

    x = Column.from_arrow(pa.array([1.5, 2.0]), device)
    with pytest.raises(XTypeError, match="bitwise 'and' takes integers, got float64"):
        kx.bitwise("and", x, 1)
    with pytest.raises(XTypeError, match="bitwise not takes integers"):
        kx.bit_not(x)
    with pytest.raises(XTypeError, match="unknown bitwise operator"):
        kx.bitwise("nand", x, 1)
    db = xpdb.connect(device=device)
    with pytest.raises(XTypeError, match="takes integers"):
        db.sql("SELECT 1.5 & 3").fetchall()
    db.register("f", pa.table({"x": [1.5, 2.0]}))
    with pytest.raises(XTypeError, match=r"bit_or\('__a0'\) takes integers, got type float64"):
        db.sql("SELECT bit_or(x) FROM f").fetchall()
