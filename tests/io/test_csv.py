"""Tests of xpdb.io.csv: reading against pandas.read_csv, options, errors, atomic writes."""

from __future__ import annotations

import datetime as dt
import decimal
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xpdb
from xpdb import types as T
from xpdb.device import get_device
from xpdb.errors import IOError as XIOError
from xpdb.io import read_csv, read_csv_table, write_csv
from xpdb.table import Table
from xpdb.testing import assert_tables_equal


def _write(path, text: str) -> str:
    with open(path, "w", encoding="utf8", newline="") as f:
        f.write(text)
    return str(path)


def all_types(n_rep: int = 1) -> pa.Table:
    """One column of every xpdb type, with nulls, extremes and unicode."""
    i64 = np.iinfo(np.int64)
    cols = {
        "b": pa.array([True, None, False, True], pa.bool_()),
        "i8": pa.array([-128, 127, None, 0], pa.int8()),
        "i16": pa.array([-32768, 32767, None, 1], pa.int16()),
        "i32": pa.array([-(2**31), 2**31 - 1, None, 2], pa.int32()),
        "i64": pa.array([int(i64.min), int(i64.max), None, 3], pa.int64()),
        "u8": pa.array([0, 255, None, 4], pa.uint8()),
        "u32": pa.array([0, 2**32 - 1, None, 5], pa.uint32()),
        "u64": pa.array([0, 2**64 - 1, None, 6], pa.uint64()),
        "f32": pa.array([1.5, -0.25, None, 3.0e38], pa.float32()),
        "f64": pa.array([0.1, -1e300, None, float("inf")], pa.float64()),
        "s": pa.array(["héllo, wörld", "", None, 'q"uote\nnew ✓'], pa.string()),
        "d": pa.array([dt.date(1970, 1, 1), dt.date(2024, 2, 29), None, dt.date(1900, 12, 31)]),
        "ts_s": pa.array([0, 1_700_000_000, None, -86_400], pa.timestamp("s")),
        "ts_ms": pa.array([0, 1_700_000_000_123, None, -1], pa.timestamp("ms")),
        "ts_us": pa.array([0, 1_700_000_000_123_456, None, 1], pa.timestamp("us")),
        "ts_ns": pa.array([0, 1_700_000_000_123_456_789, None, 7], pa.timestamp("ns")),
        "tz": pa.array([0, 1_700_000_000_000_000, None, 5], pa.timestamp("us", "Europe/Paris")),
        "dec": pa.array([decimal.Decimal("1.25"), decimal.Decimal("-99999999.99"), None,
                         decimal.Decimal("0.00")], pa.decimal128(10, 2)),
        "dur": pa.array([0, 1500, None, -3], pa.duration("ms")),
        "allnull": pa.nulls(4, pa.int64()),
    }
    table = pa.table(cols)
    return pa.concat_tables([table] * n_rep) if n_rep > 1 else table


# -- reading ---------------------------------------------------------------------------------
def test_read_matches_pandas(device, tmp_path):
    rng = np.random.default_rng(0)
    n = 500
    df = pd.DataFrame({
        "i": rng.integers(-10**12, 10**12, n),
        "f": rng.normal(size=n),
        "s": rng.choice(["a", "bé", "c,d", 'e"f', "ü✓"], n),
        "b": rng.choice([True, False], n),
    })
    df.loc[::7, "f"] = np.nan
    df.loc[::11, "s"] = None
    path = tmp_path / "x.csv"
    df.to_csv(path, index=False)
    got = read_csv_table(path, device=device)
    assert got.device is get_device(device)
    assert got.schema == {"i": T.int64, "f": T.float64, "s": T.string, "b": T.bool_}
    assert_tables_equal(got, pd.read_csv(path))


def test_read_onto_default_device(device, tmp_path):
    path = _write(tmp_path / "x.csv", "a\n1\n")
    with xpdb.config.set(device=device):
        assert read_csv_table(path).device is get_device(device)


def test_nulls_and_quoted_empty_strings(device, tmp_path):
    path = _write(tmp_path / "x.csv",
                  'i,s\n1,\n2,""\nNA,NA\n4,"NA"\nnull,x\nNaN,NULL\n,"a\nb"\n')
    got = read_csv_table(path, device=device).to_pydict()
    assert got == {"i": [1, 2, None, 4, None, None, None],
                   "s": [None, "", None, "NA", "x", None, "a\nb"]}


def test_custom_null_values(device, tmp_path):
    path = _write(tmp_path / "x.csv", "a,b\n-1,x\n2,\n")
    got = read_csv_table(path, null_values=["-1"], device=device).to_pydict()
    assert got == {"a": [None, 2], "b": ["x", ""]}


def test_options_sep_header_names_skip_quote(device, tmp_path):
    path = _write(tmp_path / "x.csv", "# comment\n# more\n1;'a;b'\n2;'c'\n")
    got = read_csv_table(path, sep=";", header=False, skip_rows=2, quotechar="'",
                         device=device)
    assert got.to_pydict() == {"f0": [1, 2], "f1": ["a;b", "c"]}
    named = read_csv_table(path, sep=";", header=False, skip_rows=2, quotechar="'",
                           names=["n", "t"], device=device)
    assert named.to_pydict() == {"n": [1, 2], "t": ["a;b", "c"]}
    path2 = _write(tmp_path / "h.csv", "old1,old2\n1,2\n")
    renamed = read_csv_table(path2, names=["x", "y"], device=device)
    assert renamed.to_pydict() == {"x": [1], "y": [2]}


def test_quoting_disabled(device, tmp_path):
    path = _write(tmp_path / "x.csv", 'a,b\n"x",1\n')
    got = read_csv_table(path, quotechar=None, device=device)
    assert got.to_pydict() == {"a": ['"x"'], "b": [1]}


def test_projection_keeps_requested_order(device, tmp_path):
    path = _write(tmp_path / "x.csv", "a,b,c\n1,2,3\n4,5,6\n")
    got = read_csv_table(path, columns=["c", "a"], device=device)
    assert got.names == ["c", "a"]
    assert got.to_pydict() == {"c": [3, 6], "a": [1, 4]}


def test_dtype_mapping(device, tmp_path):
    path = _write(tmp_path / "x.csv",
                  "i,f,d,p,t,s\n1,2,2020-01-02,1.50,2020-01-02 03:04:05.5,7\n,,,,,\n")
    got = read_csv_table(path, dtype={"i": "int16", "f": "float32", "d": "date",
                                      "p": "decimal(10,2)", "t": "timestamp[ms]", "s": str},
                         device=device)
    assert got.schema == {"i": T.int16, "f": T.float32, "d": T.date, "p": T.decimal(10, 2),
                          "t": T.timestamp("ms"), "s": T.string}
    assert got.to_pydict() == {
        "i": [1, None], "f": [2.0, None], "d": [dt.date(2020, 1, 2), None],
        "p": [decimal.Decimal("1.50"), None], "t": [dt.datetime(2020, 1, 2, 3, 4, 5, 500000), None],
        "s": ["7", None],
    }


def test_dates_inferred_or_kept_as_text(device, tmp_path):
    path = _write(tmp_path / "x.csv",
                  "d,t,z,e\n2020-01-02,2020-01-02 03:04:05,2020-01-02T03:04:05Z,02/01/2020 10:00\n")
    got = read_csv_table(path, device=device)
    assert got.schema == {"d": T.date, "t": T.timestamp("s"), "z": T.timestamp("s", "UTC"),
                          "e": T.string}
    text = read_csv_table(path, parse_dates=False, device=device)
    assert set(text.schema.values()) == {T.string}
    assert text.to_pydict()["d"] == ["2020-01-02"]
    fmt = read_csv_table(path, parse_dates=["e"], date_format="%d/%m/%Y %H:%M", device=device)
    assert fmt.schema["e"] == T.timestamp("us")
    assert fmt.to_pydict()["e"] == [dt.datetime(2020, 1, 2, 10, 0)]


def test_small_blocks_match_one_block(device, tmp_path):
    n = 20_000
    rows = [f"{i},v{i % 37}" for i in range(n)] + ["0.5,last"]  # the last block holds a float
    path = _write(tmp_path / "x.csv", "a,s\n" + "\n".join(rows) + "\n")
    got = read_csv_table(path, block_size=4096, device=device)
    assert got.schema["a"] == T.float64
    assert_tables_equal(got, pd.read_csv(path), check_types=False)


def test_multiple_files_keep_order(device, tmp_path):
    for i, text in enumerate(["a\n1\n2\n", "a\n3\n", "a\n4.5\n"]):
        _write(tmp_path / f"p{i}.csv", text)
    got = read_csv_table([tmp_path / "p2.csv", tmp_path / "p0.csv"], device=device)
    assert got.to_pydict() == {"a": [4.5, 1.0, 2.0]}
    globbed = read_csv_table(str(tmp_path / "p*.csv"), device=device)
    assert globbed.to_pydict() == {"a": [1.0, 2.0, 3.0, 4.5]}
    _write(tmp_path / "_SUCCESS", "")
    assert read_csv_table(tmp_path, device=device).to_pydict() == globbed.to_pydict()


def test_compressed_file(device, tmp_path):
    import gzip

    path = tmp_path / "x.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("a,b\n1,x\n")
    assert read_csv_table(path, device=device).to_pydict() == {"a": [1], "b": ["x"]}


def test_public_read_csv_returns_dataframe(device, tmp_path):
    from xpdb.frame import DataFrame

    path = _write(tmp_path / "x.csv", "a,b\n1,x\n")
    df = read_csv(path, device=device)
    assert isinstance(df, DataFrame)
    assert_tables_equal(df._table, pa.table({"a": [1], "b": ["x"]}))


# -- errors ----------------------------------------------------------------------------------
def _raises(fn, *args, **kwargs) -> XIOError:
    with pytest.raises(XIOError) as info:
        fn(*args, **kwargs)
    return info.value


def test_missing_file_suggests_close_names(tmp_path):
    _write(tmp_path / "trips.csv", "a\n1\n")
    err = _raises(read_csv_table, tmp_path / "trip.csv", device="cpu")
    assert "trip.csv" in str(err) and "did you mean" in str(err) and "trips.csv" in str(err)
    err = _raises(read_csv_table, tmp_path / "nodir" / "x.csv", device="cpu")
    assert "does not exist" in str(err)
    err = _raises(read_csv_table, str(tmp_path / "*.tsv"), device="cpu")
    assert "matches" in str(err)


def test_empty_file(tmp_path):
    path = _write(tmp_path / "e.csv", "")
    err = _raises(read_csv_table, path, device="cpu")
    assert "empty" in str(err) and err.path == path


def test_header_only_file_gives_zero_rows(device, tmp_path):
    path = _write(tmp_path / "h.csv", "a,b\n")
    got = read_csv_table(path, dtype={"a": "int32"}, device=device)
    assert got.num_rows == 0 and got.names == ["a", "b"] and got.schema["a"] == T.int32


@pytest.mark.parametrize("threads_block", [None, 64])
def test_malformed_row_names_file_and_line(tmp_path, threads_block):
    # a quoted newline in line 3 makes physical lines and records differ
    text = 'a,b\n1,x\n2,"y\nz"\n\n3,w,extra\n4,v\n'
    path = _write(tmp_path / "bad.csv", text)
    err = _raises(read_csv_table, path, block_size=threads_block, device="cpu")
    assert err.line == 6 and err.path == path
    assert f"{path}:6" in str(err)
    assert "expected 2 fields but found 3" in str(err) and "3,w,extra" in str(err)
    assert isinstance(err.__cause__, pa.ArrowException)


def test_type_mismatch_names_line_column_value_and_fix(tmp_path):
    n = 5000
    lines = ["id,amount"] + [f"{i},{i * 2}" for i in range(n)] + [f"{n},12x"]
    path = _write(tmp_path / "t.csv", "\n".join(lines) + "\n")
    err = _raises(read_csv_table, path, dtype={"amount": "int64"}, block_size=1 << 12,
                  device="cpu")
    assert err.line == n + 2 and err.column == "amount"
    msg = str(err)
    assert f"{path}:{n + 2}" in msg and "'12x'" in msg and "int64" in msg and "dtype=" in msg


def test_type_mismatch_with_projection_and_no_header(tmp_path):
    path = _write(tmp_path / "t.csv", "1,2,3\n4,oops,6\n")
    err = _raises(read_csv_table, path, header=False, columns=["f1"], dtype={"f1": "int8"},
                  device="cpu")
    assert err.line == 2 and err.column == "f1" and "'oops'" in str(err)


def test_unknown_column_and_dtype_name(tmp_path):
    path = _write(tmp_path / "x.csv", "amount,b\n1,2\n")
    err = _raises(read_csv_table, path, columns=["amout"], device="cpu")
    assert "did you mean 'amount'" in str(err) and err.column == "amout"
    err = _raises(read_csv_table, path, dtype={"amont": "int8"}, device="cpu")
    assert "did you mean 'amount'" in str(err)


def test_bad_encoding_and_conflicting_files(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes("a\ncaf\xe9\n".encode("latin-1"))
    err = _raises(read_csv_table, p, device="cpu")
    assert "encoding" in str(err)
    assert read_csv_table(p, encoding="latin-1", device="cpu").to_pydict() == {"a": ["café"]}
    _write(tmp_path / "n.csv", "a\n1\n")
    _write(tmp_path / "s.csv", "a\nx\n")
    err = _raises(read_csv_table, [tmp_path / "n.csv", tmp_path / "s.csv"], device="cpu")
    assert "'a'" in str(err) and "dtype=" in str(err)
    got = read_csv_table([tmp_path / "n.csv", tmp_path / "s.csv"], dtype={"a": "string"},
                         device="cpu")
    assert got.to_pydict() == {"a": ["1", "x"]}


def test_bad_arguments():
    with pytest.raises(XIOError, match="sep"):
        read_csv_table("x.csv", sep=";;")
    with pytest.raises(XIOError, match="dtype"):
        read_csv_table("x.csv", dtype="int64")


# -- writing ---------------------------------------------------------------------------------
def test_round_trip_every_type(device, tmp_path):
    source = Table.from_arrow(all_types(), device)
    path = tmp_path / "all.csv"
    write_csv(source, path)
    got = read_csv_table(path, dtype=source.schema, device=device)
    assert_tables_equal(got, source, check_types=True)
    # pandas reads the same file to the same values, types aside, except that it takes the
    # quoted empty string for missing where xpdb keeps it (see the csv module's docstring)
    plain = ["b", "i32", "f64", "s"]
    ours = read_csv_table(path, columns=plain, device=device).to_pydict()
    ours["s"] = [None if v == "" else v for v in ours["s"]]
    assert_tables_equal(ours, pd.read_csv(path, usecols=plain)[plain])


def test_round_trip_empty_table(device, tmp_path):
    source = Table.from_arrow(all_types().slice(0, 0), device)
    path = tmp_path / "empty.csv"
    write_csv(source, path)
    got = read_csv_table(path, dtype=source.schema, device=device)
    assert_tables_equal(got, source, check_types=True)


def test_writer_inputs_and_options(device, tmp_path):
    table = Table.from_pydict({"a": [1, 2], "b": ["x", None]}, device)

    class Frame:  # what xpdb.frame.DataFrame exposes to the writers
        _table = table

    for i, data in enumerate([table, Frame(), table.to_pandas(), table.to_arrow()]):
        path = tmp_path / f"w{i}.csv"
        write_csv(data, path, sep="|", header=False)
        assert path.read_text() == '1|"x"\n2|\n'
    with pytest.raises(XIOError, match="cannot write an object"):
        write_csv([1, 2], tmp_path / "bad.csv")


def test_failed_write_leaves_directory_unchanged(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    before = sorted(os.listdir(tmp_path))
    # pyarrow writes the header, then fails on the interval column: a real mid-write failure
    bad = pa.table({"a": [1], "iv": pa.array([pa.MonthDayNano([1, 2, 3])],
                                             pa.month_day_nano_interval())})
    err = _raises(write_csv, bad, target)
    assert str(target) in str(err) and isinstance(err.__cause__, pa.ArrowException)
    assert sorted(os.listdir(tmp_path)) == before and target.read_text() == "old\n"
    err = _raises(write_csv, bad, tmp_path / "new.csv")
    assert sorted(os.listdir(tmp_path)) == before
    with pytest.raises(XIOError, match="does not exist"):
        write_csv(pa.table({"a": [1]}), tmp_path / "nodir" / "x.csv")


def test_write_keeps_file_mode(tmp_path):
    path = tmp_path / "m.csv"
    with open(tmp_path / "plain", "w") as f:
        f.write("x")
    write_csv(pa.table({"a": [1]}), path)
    assert os.stat(path).st_mode == os.stat(tmp_path / "plain").st_mode


# -- properties ------------------------------------------------------------------------------
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
                max_size=8)


@given(
    ints=st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=20),
    floats=st.lists(st.one_of(st.none(), st.floats(allow_nan=False, width=64)), max_size=20),
    strings=st.lists(st.one_of(st.none(), _text), max_size=20),
)
def test_round_trip_property(tmp_path_factory, ints, floats, strings):
    n = min(len(ints), len(floats), len(strings))
    source = pa.table({"i": pa.array(ints[:n], pa.int64()),
                       "f": pa.array(floats[:n], pa.float64()),
                       "s": pa.array(strings[:n], pa.string())})
    path = tmp_path_factory.mktemp("csv") / "p.csv"
    write_csv(source, path)
    got = read_csv_table(path, dtype={"i": "int64", "f": "float64", "s": "string"},
                         device="cpu")
    assert_tables_equal(got, source, check_types=True, rtol=0)
    # the same file through pyarrow's own reader with the same options agrees
    oracle = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types=source.schema, strings_can_be_null=True,
        quoted_strings_can_be_null=False))
    assert_tables_equal(got, oracle, check_types=True, rtol=0)
