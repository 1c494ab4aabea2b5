"""COPY ... FROM and COPY ... TO, against DuckDB running the same statements."""

from __future__ import annotations

import math
import os
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb.errors import BindError, CastError, NotSupportedError
from xpdb.errors import IOError as XIOError
from xpdb.testing import assert_tables_equal

from .conftest import Both

SCHEMA = "(a INTEGER, b VARCHAR, d DATE, x DOUBLE, ts TIMESTAMP)"


def _write(path: pathlib.Path, text: str) -> str:
    path.write_text(text, encoding="utf8")
    return str(path)


def _both(device: str) -> Both:
    both = Both(device)
    for con in (both.db, both.duck):
        con.sql(f"CREATE TABLE t {SCHEMA}")
        con.sql("INSERT INTO t VALUES (0, 'seed', DATE '2020-01-01', 0.5, NULL)")
    return both


def _run(both: Both, sql: str) -> None:
    """Run a COPY on both engines and check the row counts agree."""
    got = both.db.sql(sql)
    want = both.duck.execute(sql).fetchall()
    assert got.fetchall() == want
    assert got.rowcount == want[0][0]


def _snapshot(both: Both) -> pa.Table:
    return both.db.sql("SELECT * FROM t").to_arrow()


def test_copy_from_csv(device: str, tmp_path: pathlib.Path) -> None:
    both = _both(device)
    f = _write(tmp_path / "in.csv",
               "a,b,d,x,ts\n1,Ann,2024-01-05,2.5,2024-01-05 10:00:00\n"
               "2,,2024-02-29,,\n3,\"日本, ü\",,-1e3,2021-06-01 00:00:01.5\n4,NA,,NaN,\n")
    _run(both, f"COPY t FROM '{f}'")
    _run(both, f"COPY t FROM '{f}' (FORMAT csv, HEADER true, DELIMITER ',')")
    both.check("SELECT * FROM t")
    semi = _write(tmp_path / "semi.txt", "5|x|2024-03-01|1|\n6|y||2|\n")
    _run(both, f"COPY t FROM '{semi}' (FORMAT csv, HEADER false, DELIMITER '|')")
    _run(both, f"COPY t FROM '{semi}' (DELIM '|')")
    nul = _write(tmp_path / "nul.csv", "a,b,d,x,ts\n7,-,-,1.5,-\n-,z,-,-,-\n")
    _run(both, f"COPY t FROM '{nul}' (NULLSTR '-', HEADER)")
    both.check("SELECT * FROM t")


def test_copy_from_csv_column_list_and_glob(device: str, tmp_path: pathlib.Path) -> None:
    both = _both(device)
    (tmp_path / "d").mkdir()
    for i in (2, 0, 1):
        _write(tmp_path / "d" / f"part{i}.csv", f"name,num\nn{i},{i}\nm{i},{i + 10}\n")
    _run(both, f"COPY t (b, a) FROM '{tmp_path}/d/*.csv'")
    both.check("SELECT * FROM t", ordered=True)
    assert both.db.sql("SELECT b FROM t").fetchall()[1:] == \
        [("n0",), ("m0",), ("n1",), ("m1",), ("n2",), ("m2",)]


def test_copy_from_parquet_and_json_by_name(device: str, tmp_path: pathlib.Path) -> None:
    both = _both(device)
    pq.write_table(pa.table({"x": [1.5, None], "b": ["p", "ñ"], "a": pa.array([7, 8], pa.int64()),
                             "d": pa.array([19000, None], pa.date32()), "ts": pa.array(
                                 [1, None], pa.timestamp("us"))}), tmp_path / "f.parquet")
    # DuckDB's COPY matches Parquet columns by position: its INSERT BY NAME is the oracle
    for sql in (f"COPY t FROM '{tmp_path}/f.parquet'",
                f"COPY t FROM '{tmp_path}/f.parquet' (FORMAT parquet)"):
        assert both.db.sql(sql).rowcount == 2
        both.duck.sql(f"INSERT INTO t BY NAME SELECT * FROM read_parquet('{tmp_path}/f.parquet')")
    j = _write(tmp_path / "f.json", '{"b": "j", "a": 9, "x": 2}\n\n{"a": 10, "d": "2024-05-06"}\n')
    _run(both, f"COPY t FROM '{j}'")
    _run(both, f"COPY t FROM '{j}' (FORMAT json)")
    both.check("SELECT * FROM t")
    # a column list: the other columns are null
    pq.write_table(pa.table({"b": ["only"]}), tmp_path / "b.parquet")
    both.db.sql(f"COPY t (b) FROM '{tmp_path}/b.parquet'")
    assert both.db.sql("SELECT * FROM t WHERE b = 'only'").fetchall() == \
        [(None, "only", None, None, None)]


def test_copy_to_formats(device: str, tmp_path: pathlib.Path) -> None:
    both = Both(device)
    for fmt, ext, read in (("csv", "csv", "read_csv"), ("parquet", "parquet", "read_parquet"),
                           ("json", "json", "read_json")):
        out = tmp_path / f"orders.{ext}"
        _run(both, f"COPY orders TO '{out}'")
        both.check(f"SELECT * FROM {read}('{out}')", ordered=True)
        assert_tables_equal(both.expected(f"SELECT * FROM {read}('{out}')"),
                            both.expected("SELECT * FROM orders"))
        other = tmp_path / f"q_{fmt}.dat"
        sql = (f"COPY (SELECT id, status, amount * 2 AS a2 FROM orders WHERE id > 2 "
               f"ORDER BY id DESC) TO '{other}' (FORMAT {fmt})")
        assert both.db.sql(sql).rowcount == 6
        assert_tables_equal(both.expected(f"SELECT * FROM {read}('{other}')"),
                            both.expected("SELECT id, status, amount * 2 AS a2 FROM orders "
                                          "WHERE id > 2 ORDER BY id DESC"))


def test_copy_to_csv_options(device: str, tmp_path: pathlib.Path) -> None:
    both = Both(device)
    out = tmp_path / "o.csv"
    both.db.sql(f"COPY (SELECT id, status FROM orders WHERE id < 3 ORDER BY id) TO '{out}' "
                "(HEADER false, DELIMITER '|')")
    assert out.read_text().splitlines() == ['1|"new"', '2|"shipped"']
    both.db.sql(f"COPY (SELECT id FROM orders WHERE id = 1) TO '{out}'")  # overwrites
    assert out.read_text().splitlines() == ['"id"', "1"]
    both.db.sql(f"COPY customers (name, cust) TO '{tmp_path}/c.parquet' (FORMAT parquet, "
                "COMPRESSION zstd)")
    assert pq.read_table(tmp_path / "c.parquet").column_names == ["name", "cust"]
    assert both.db.sql(f"COPY (SELECT * FROM orders WHERE id < 0) TO '{tmp_path}/e.json'"
                       ).rowcount == 0
    assert (tmp_path / "e.json").read_bytes() == b""


def test_copy_from_bad_value_leaves_table_unchanged(device: str, tmp_path: pathlib.Path) -> None:
    both = _both(device)
    before = _snapshot(both)
    bad = _write(tmp_path / "bad.csv", "a,b,d,x,ts\n1,x,,,\n2,y,,,\nabc,z,,,\n")
    with pytest.raises(XIOError) as info:
        both.db.sql(f"COPY t FROM '{bad}'")
    text = str(info.value)
    for part in ("bad.csv:4", "column 'a'", "value 'abc'", "int32", "table 't' is unchanged"):
        assert part in text, text
    assert info.value.line == 4 and info.value.column == "a"
    big = _write(tmp_path / "big.csv", "a,b,d,x,ts\n3000000000,x,,,\n")
    with pytest.raises(XIOError, match=r"big\.csv:2: column 'a': value '3000000000'"):
        both.db.sql(f"COPY t FROM '{big}'")
    ts = _write(tmp_path / "ts.csv", "a,b,d,x,ts\n1,x,,,2024-01-01\n2,y,,,yesterday\n")
    with pytest.raises(CastError, match=r"ts\.csv:3: column 'ts': value 'yesterday'"):
        both.db.sql(f"COPY t FROM '{ts}'")
    # every file of a glob is read before anything is loaded
    (tmp_path / "g").mkdir()
    _write(tmp_path / "g" / "a.csv", "a,b,d,x,ts\n1,ok,,,\n")
    _write(tmp_path / "g" / "b.csv", "a,b,d,x,ts\nnope,bad,,,\n")
    with pytest.raises(XIOError, match=r"b\.csv:2: column 'a': value 'nope'"):
        both.db.sql(f"COPY t FROM '{tmp_path}/g/*.csv'")
    pq.write_table(pa.table({"a": ["1", "x1"]}), tmp_path / "s.parquet")
    with pytest.raises(CastError, match=r"s\.parquet \(row 2\): column 'a': value 'x1'"):
        both.db.sql(f"COPY t FROM '{tmp_path}/s.parquet'")
    pq.write_table(pa.table({"a": pa.array([2**40], pa.int64())}), tmp_path / "o.parquet")
    with pytest.raises(CastError, match=r"column 'a': value 1099511627776 cannot be cast"):
        both.db.sql(f"COPY t FROM '{tmp_path}/o.parquet'")
    j = _write(tmp_path / "bad.json", '{"a": 1}\n\n{"a": 2}\n{"a": "two"}\n')
    with pytest.raises(XIOError, match=r"bad\.json:4: column 'a' .*'two'"):
        both.db.sql(f"COPY t FROM '{j}'")
    j = _write(tmp_path / "text.json", '{"a": "1"}\n\n{"a": "x"}\n')
    with pytest.raises(CastError, match=r"text\.json:3: column 'a': value 'x' cannot be cast"):
        both.db.sql(f"COPY t FROM '{j}'")
    assert_tables_equal(_snapshot(both), before)


def test_copy_from_shape_errors(device: str, tmp_path: pathlib.Path) -> None:
    both = _both(device)
    before = _snapshot(both)
    wide = _write(tmp_path / "wide.csv", "a,b\n1,x\n")
    with pytest.raises(XIOError, match=r"has 2 columns but COPY loads 5 .*column list"):
        both.db.sql(f"COPY t FROM '{wide}'")
    with pytest.raises(XIOError, match="has 2 columns but COPY loads 1"):
        both.db.sql(f"COPY t (a) FROM '{wide}'")
    with pytest.raises(XIOError, match=r"miss\.csv' not found"):
        both.db.sql(f"COPY t FROM '{tmp_path}/miss.csv'")
    with pytest.raises(XIOError, match="no file matches the pattern"):
        both.db.sql(f"COPY t FROM '{tmp_path}/none/*.csv'")
    with pytest.raises(BindError, match="zz"):
        both.db.sql(f"COPY t (a, zz) FROM '{wide}'")
    with pytest.raises(BindError, match="nosuch"):
        both.db.sql(f"COPY nosuch FROM '{wide}'")
    pq.write_table(pa.table({"a": [1], "extra": [2]}), tmp_path / "e.parquet")
    with pytest.raises(XIOError, match="column 'extra'"):
        both.db.sql(f"COPY t FROM '{tmp_path}/e.parquet'")
    with pytest.raises(NotSupportedError, match="option 'bogus'"):
        both.db.sql(f"COPY t FROM '{wide}' (BOGUS 1)")
    with pytest.raises(NotSupportedError, match="FORMAT 'xlsx'"):
        both.db.sql(f"COPY t FROM '{wide}' (FORMAT xlsx)")
    empty = _write(tmp_path / "empty.json", "")
    assert both.db.sql(f"COPY t FROM '{empty}'").rowcount == 0
    head = _write(tmp_path / "head.csv", "a,b,d,x,ts\n")
    assert both.db.sql(f"COPY t FROM '{head}'").rowcount == 0
    assert_tables_equal(_snapshot(both), before)


def test_copy_to_failures_write_nothing(device: str, tmp_path: pathlib.Path) -> None:
    both = Both(device)
    with pytest.raises(XIOError, match="does not exist"):
        both.db.sql(f"COPY orders TO '{tmp_path}/no/dir/x.csv'")
    with pytest.raises(BindError):
        both.db.sql(f"COPY (SELECT nosuch FROM orders) TO '{tmp_path}/x.csv'")
    with pytest.raises(NotSupportedError, match="option 'bogus'"):
        both.db.sql(f"COPY orders TO '{tmp_path}/x.csv' (BOGUS 1)")
    assert os.listdir(tmp_path) == []


_INT = st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1))
_TEXT = st.one_of(st.none(), st.text(alphabet=st.characters(codec="utf-8",
                                                            exclude_categories=("Cs",)),
                                     max_size=5))
_FLOAT = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_INT, _TEXT, _FLOAT), max_size=8),
       fmt=st.sampled_from(["parquet", "json", "csv"]))
def test_copy_to_then_from_property(device: str, tmp_path_factory: pytest.TempPathFactory,
                                    rows: list[tuple], fmt: str) -> None:
    if fmt == "json":  # JSON has no NaN or infinity
        rows = [(a, b, c if c is None or math.isfinite(c) else None) for a, b, c in rows]
    src = pa.table({"a": pa.array([r[0] for r in rows], pa.int32()),
                    "b": pa.array([r[1] for r in rows], pa.string()),
                    "x": pa.array([r[2] for r in rows], pa.float64())})
    both = Both(device, {"src": src})
    path = tmp_path_factory.mktemp("cp") / f"f.{fmt}"
    assert both.db.sql(f"COPY src TO '{path}'").rowcount == len(rows)
    both.db.sql("CREATE TABLE t (a INTEGER, b VARCHAR, x DOUBLE)")
    assert both.db.sql(f"COPY t FROM '{path}'").rowcount == len(rows)
    got = both.db.sql("SELECT * FROM t").to_arrow()
    if fmt == "csv":  # an empty string and a null are both an empty field... unless quoted
        assert got.column("a").to_pylist() == src.column("a").to_pylist()
        assert_tables_equal(got.select(["a", "x"]), src.select(["a", "x"]))
    else:
        assert_tables_equal(got, src)
