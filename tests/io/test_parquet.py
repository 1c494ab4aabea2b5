"""Tests of xpdb.io.parquet: round trips, projection, row-group pruning, shards, errors."""

from __future__ import annotations

import datetime as dt
import decimal
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpdb import types as T
from xpdb.device import get_device
from xpdb.errors import IOError as XIOError
from xpdb.io import read_parquet, read_parquet_shards, read_parquet_table, write_parquet
from xpdb.io.parquet import normalize_filters
from xpdb.shards import ShardedTable
from xpdb.table import Table
from xpdb.testing import assert_tables_equal


def all_types() -> pa.Table:
    """One column of every xpdb type, with nulls, extremes and unicode."""
    i64 = np.iinfo(np.int64)
    return pa.table({
        "b": pa.array([True, None, False, True], pa.bool_()),
        "i8": pa.array([-128, 127, None, 0], pa.int8()),
        "i16": pa.array([-32768, 32767, None, 1], pa.int16()),
        "i32": pa.array([-(2**31), 2**31 - 1, None, 2], pa.int32()),
        "i64": pa.array([int(i64.min), int(i64.max), None, 3], pa.int64()),
        "u8": pa.array([0, 255, None, 4], pa.uint8()),
        "u16": pa.array([0, 65535, None, 4], pa.uint16()),
        "u32": pa.array([0, 2**32 - 1, None, 5], pa.uint32()),
        "u64": pa.array([0, 2**64 - 1, None, 6], pa.uint64()),
        "f32": pa.array([1.5, float("nan"), None, float("-inf")], pa.float32()),
        "f64": pa.array([0.1, float("nan"), None, float("inf")], pa.float64()),
        "s": pa.array(["héllo, wörld", "", None, 'q"uote\nnew ✓'], pa.string()),
        "d": pa.array([dt.date(1970, 1, 1), dt.date(2024, 2, 29), None, dt.date(1900, 12, 31)]),
        "ts_s": pa.array([0, 1_700_000_000, None, -86_400], pa.timestamp("s")),
        "ts_ms": pa.array([0, 1_700_000_000_123, None, -1], pa.timestamp("ms")),
        "ts_us": pa.array([0, 1_700_000_000_123_456, None, 1], pa.timestamp("us")),
        "ts_ns": pa.array([0, 1_700_000_000_123_456_789, None, 7], pa.timestamp("ns")),
        "tz": pa.array([0, 1_700_000_000_000_000, None, 5], pa.timestamp("us", "Europe/Paris")),
        "dec": pa.array([decimal.Decimal("1.25"), decimal.Decimal("-99999999.99"), None,
                         decimal.Decimal("0.00")], pa.decimal128(10, 2)),
        "dec18": pa.array([decimal.Decimal("99999999999999.9999"), None, None,
                           decimal.Decimal("-1.0001")], pa.decimal128(18, 4)),
        "dur": pa.array([0, 1500, None, -3], pa.duration("ms")),
        "allnull": pa.nulls(4, pa.int64()),
    })


def _parquet_view(table: Table) -> pa.Table:
    """What Parquet gives back: timestamp[s] becomes timestamp[ms] (no seconds unit)."""
    at = table.to_arrow()
    i = at.column_names.index("ts_s")
    return at.set_column(i, "ts_s", at.column(i).cast(pa.timestamp("ms")))


# -- round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize("rows", [4, 0])
def test_round_trip_every_type(device, tmp_path, rows):
    source = Table.from_arrow(all_types().slice(0, rows), device)
    path = tmp_path / "all.parquet"
    write_parquet(source, path)
    got = read_parquet_table(path, device=device)
    assert got.device is get_device(device)
    assert_tables_equal(got, _parquet_view(source), check_types=True)


def test_writer_inputs_and_options(device, tmp_path):
    df = pd.DataFrame({"a": [1, 2, 3], "s": ["x", None, "z"]})
    table = Table.from_pandas(df, device)

    class Frame:  # what xpdb.frame.DataFrame exposes to the writers
        _table = table

    for i, data in enumerate([table, Frame(), df, table.to_arrow()]):
        path = tmp_path / f"w{i}.parquet"
        write_parquet(data, path, compression=None if i else "snappy", row_group_size=2)
        assert pq.ParquetFile(path).metadata.num_row_groups == 2
        assert_tables_equal(read_parquet_table(path, device=device), df)


def test_read_matches_pandas(device, tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"k": rng.integers(0, 5, 300), "v": rng.normal(size=300),
                       "s": rng.choice(["ä", "b", "ç"], 300)})
    path = tmp_path / "p.parquet"
    df.to_parquet(path)  # pandas' own file, with its index metadata
    assert_tables_equal(read_parquet_table(path, device=device), pd.read_parquet(path))
    df[df.k > 1].to_parquet(path)  # a filtered index is stored as a column: not data
    got = read_parquet_table(path, device=device)
    assert got.names == ["k", "v", "s"]
    assert_tables_equal(got, pd.read_parquet(path))


def test_projection(device, tmp_path):
    path = tmp_path / "p.parquet"
    write_parquet(pa.table({"a": [1, 2], "b": ["x", "y"], "c": [1.5, 2.5]}), path)
    got = read_parquet_table(path, columns=["c", "a"], device=device)
    assert got.names == ["c", "a"]
    assert got.to_pydict() == {"c": [1.5, 2.5], "a": [1, 2]}


# -- filters and pruning ---------------------------------------------------------------------
@pytest.fixture
def sorted_file(tmp_path):
    n = 10_000
    df = pd.DataFrame({"x": np.arange(n), "s": np.where(np.arange(n) % 3 == 0, "a", "b"),
                       "y": np.arange(n) * 0.5})
    path = tmp_path / "sorted.parquet"
    write_parquet(df, path, row_group_size=1000)
    return path, df


def test_selective_filter_reads_fewer_row_groups(device, sorted_file):
    path, df = sorted_file
    stats: dict = {}
    got = read_parquet_table(path, filters=[("x", ">", 8500)], device=device, stats=stats)
    assert stats["row_groups"] == 10 and stats["row_groups_read"] == 2
    assert stats["rows_read"] == 2000 and stats["rows"] == 1499
    assert_tables_equal(got, df[df.x > 8500])


@pytest.mark.parametrize(("filters", "groups", "oracle"), [
    ([("x", "==", 4321)], 1, lambda d: d[d.x == 4321]),
    ([("x", "=", 4321), ("s", "==", "a")], 1, lambda d: d[(d.x == 4321) & (d.s == "a")]),
    ([("x", "<", 1500), ("s", "==", "a")], 2, lambda d: d[(d.x < 1500) & (d.s == "a")]),
    ([[("x", "<", 100)], [("x", ">=", 9900)]], 2, lambda d: d[(d.x < 100) | (d.x >= 9900)]),
    ([("x", "in", [5, 5005, 20000])], 2, lambda d: d[d.x.isin([5, 5005, 20000])]),
    ([("x", "not in", [1, 2])], 10, lambda d: d[~d.x.isin([1, 2])]),
    ([("x", "!=", 7)], 10, lambda d: d[d.x != 7]),
    ([("x", "<=", 999.5)], 1, lambda d: d[d.x <= 999.5]),
    ([("x", "==", 2.5)], 1, lambda d: d[d.x == 2.5]),
    ([("y", ">=", 4999.5)], 1, lambda d: d[d.y >= 4999.5]),
    ([("x", ">", 10**6)], 0, lambda d: d[d.x > 10**6]),
])
def test_filters_match_pandas(device, sorted_file, filters, groups, oracle):
    path, df = sorted_file
    stats: dict = {}
    got = read_parquet_table(path, filters=filters, columns=["x", "s"], device=device,
                             stats=stats)
    assert stats["row_groups_read"] == groups
    assert_tables_equal(got, oracle(df)[["x", "s"]])


def test_filters_drop_nulls_and_prune_all_null_groups(device, tmp_path):
    x = pa.array([None, None, 1, 2, None, 3, 4.5, float("nan")], pa.float64())
    path = tmp_path / "n.parquet"
    write_parquet(pa.table({"x": x, "i": list(range(8))}), path, row_group_size=2)
    # nulls never match (SQL logic); NaN is a value, and NaN != 1 holds
    for filters, rows in [
        ([("x", "!=", 1.0)], [3, 5, 6, 7]),
        ([("x", "not in", [2.0])], [2, 5, 6, 7]),
        ([("x", ">", 0)], [2, 3, 5, 6]),
    ]:
        stats: dict = {}
        got = read_parquet_table(path, filters=filters, columns=["i"], device=device,
                                 stats=stats)
        assert got.to_pydict() == {"i": rows}, filters
        assert stats["row_groups_read"] == 3  # the all-null first group is skipped


def test_filters_on_temporal_string_and_decimal_columns(device, tmp_path):
    table = all_types()
    path = tmp_path / "t.parquet"
    write_parquet(table, path, row_group_size=1)
    cases = [
        ([("d", ">=", dt.date(2000, 1, 1))], [1]),
        ([("ts_us", "<", dt.datetime(1970, 1, 1, 0, 0, 1))], [0, 3]),
        ([("tz", ">", dt.datetime(2000, 1, 1, tzinfo=dt.UTC))], [1]),
        ([("s", "in", ["", "nope"])], [1]),
        ([("dec", "<", decimal.Decimal("0"))], [1]),
        ([("u64", ">", 2**63)], [1]),
        ([("b", "==", False)], [2]),
    ]
    for filters, rows in cases:
        stats: dict = {}
        got = read_parquet_table(path, filters=filters, columns=["i8"], device=device,
                                 stats=stats)
        assert got.to_pydict()["i8"] == [table.column("i8")[r].as_py() for r in rows], filters
        assert stats["row_groups_read"] == len(rows), filters


@given(
    values=st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=30),
    sort=st.booleans(),
    group=st.integers(1, 7),
    op=st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"]),
    probe=st.integers(-(2**63), 2**63 - 1),
    pick=st.integers(0, 29),
)
def test_pruning_is_sound_property(tmp_path_factory, values, sort, group, op, probe, pick):
    if sort:
        values = sorted(v for v in values if v is not None) + [v for v in values if v is None]
    present = [v for v in values if v is not None]
    value = present[pick % len(present)] if present and pick % 2 else probe
    arg = [value, probe] if op in ("in", "not in") else value
    path = tmp_path_factory.mktemp("pq") / "h.parquet"
    write_parquet(pa.table({"x": pa.array(values, pa.int64())}), path, row_group_size=group)
    stats: dict = {}
    got = read_parquet_table(path, filters=[("x", op, arg)], device="cpu", stats=stats)
    # oracle: every row read, filtered in Python with SQL null logic
    tests = {"==": lambda v: v == arg, "!=": lambda v: v != arg, "<": lambda v: v < arg,
             "<=": lambda v: v <= arg, ">": lambda v: v > arg, ">=": lambda v: v >= arg,
             "in": lambda v: v in arg, "not in": lambda v: v not in arg}
    expected = [v for v in values if v is not None and tests[op](v)]
    assert got.to_pydict()["x"] == expected
    # every group holding a match is read; no all-null group is
    hit = {k // group for k, v in enumerate(values) if v is not None and tests[op](v)}
    all_null = {k // group for k in range(len(values))} - {
        k // group for k, v in enumerate(values) if v is not None}
    assert len(hit) <= stats["row_groups_read"] <= stats["row_groups"] - len(all_null)


def test_normalize_filters_rejects_malformed():
    for bad in [("x", ">", 1), [], [("x", ">")], [("x", "~", 1)], [(1, ">", 1)],
                [("x", "in", 5)], [("x", "==", None)], "x > 1"]:
        with pytest.raises(XIOError):
            normalize_filters(bad)


def test_filter_errors_name_column(tmp_path):
    path = tmp_path / "p.parquet"
    write_parquet(pa.table({"amount": [1, 2]}), path)
    with pytest.raises(XIOError, match="did you mean 'amount'"):
        read_parquet_table(path, filters=[("amout", ">", 1)], device="cpu")
    with pytest.raises(XIOError, match="amount") as info:
        read_parquet_table(path, filters=[("amount", ">", "abc")], device="cpu")
    assert info.value.column == "amount"


# -- several files and shards ----------------------------------------------------------------
def _three_files(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    write_parquet(pa.table({"a": pa.array([1, 2], pa.int32()), "s": ["x", "y"]}),
                  d / "part-0.parquet")
    write_parquet(pa.table({"a": pa.array([3], pa.int64()), "s": ["z"]}), d / "part-1.parquet")
    write_parquet(pa.table({"a": pa.array([4, 5, 6], pa.int32()), "s": ["x", "w", "v"]}),
                  d / "part-2.parquet", row_group_size=1)
    (d / "_SUCCESS").write_text("")
    return d


def test_directory_glob_and_list(device, tmp_path):
    d = _three_files(tmp_path)
    expected = {"a": [1, 2, 3, 4, 5, 6], "s": ["x", "y", "z", "x", "w", "v"]}
    stats: dict = {}
    got = read_parquet_table(d, device=device, stats=stats)
    assert got.schema == {"a": T.int64, "s": T.string} and got.to_pydict() == expected
    assert stats["files"] == 3 and stats["row_groups"] == 5
    assert read_parquet_table(str(d / "*.parquet"), device=device).to_pydict() == expected
    rev = read_parquet_table([d / "part-2.parquet", d / "part-0.parquet"], device=device)
    assert rev.to_pydict()["a"] == [4, 5, 6, 1, 2]


def test_shards_per_file_and_row_group(device, tmp_path):
    d = _three_files(tmp_path)
    files = read_parquet_shards(d, device=device)
    assert isinstance(files, ShardedTable) and files.num_shards == 3
    assert files.device is get_device(device)
    assert [s.num_rows for s in files] == [2, 1, 3]
    assert_tables_equal(files.concat(), read_parquet_table(d, device=device), check_types=True)
    groups = read_parquet_shards(d, per="row_group", device=device)
    assert [s.num_rows for s in groups] == [2, 1, 1, 1, 1]
    stats: dict = {}
    some = read_parquet_shards(d, per="row_group", filters=[("a", ">=", 5)], columns=["s"],
                               device=device, stats=stats)
    assert [s.to_pydict() for s in some] == [{"s": ["w"]}, {"s": ["v"]}]
    assert stats["row_groups_read"] == 2
    none = read_parquet_shards(d, filters=[("a", ">", 100)], device=device)
    assert none.num_shards == 1 and none.num_rows == 0 and none.names == ["a", "s"]
    with pytest.raises(XIOError, match="per"):
        read_parquet_shards(d, per="page")


def test_public_read_parquet_returns_dataframe(device, tmp_path):
    from xpdb.frame import DataFrame

    path = tmp_path / "p.parquet"
    write_parquet(pa.table({"a": [1]}), path)
    df = read_parquet(path, device=device)
    assert isinstance(df, DataFrame)
    assert_tables_equal(df._table, pa.table({"a": [1]}))


# -- errors ----------------------------------------------------------------------------------
def test_missing_empty_corrupt_files(tmp_path):
    good = tmp_path / "trips.parquet"
    write_parquet(pa.table({"a": list(range(100))}), good)
    with pytest.raises(XIOError, match="did you mean") as info:
        read_parquet_table(tmp_path / "trip.parquet", device="cpu")
    assert "trips.parquet" in str(info.value)
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    with pytest.raises(XIOError, match="empty"):
        read_parquet_table(empty, device="cpu")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"this is not parquet at all")
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[: os.path.getsize(good) // 2])
    for bad in (garbage, truncated):
        with pytest.raises(XIOError) as info:
            read_parquet_table([good, bad], device="cpu")
        assert str(bad) in str(info.value) and info.value.path == str(bad)
        assert isinstance(info.value.__cause__, pa.ArrowException)


def test_unknown_column(tmp_path):
    path = tmp_path / "p.parquet"
    write_parquet(pa.table({"amount": [1]}), path)
    with pytest.raises(XIOError, match="did you mean 'amount'") as info:
        read_parquet_table(path, columns=["amout"], device="cpu")
    assert info.value.column == "amout"


def test_unsupported_column_type_is_named(tmp_path):
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"ok": [1], "lst": [[1, 2]]}), path)
    with pytest.raises(XIOError, match="'lst'"):
        read_parquet_table(path, device="cpu")
    assert read_parquet_table(path, columns=["ok"], device="cpu").to_pydict() == {"ok": [1]}


def test_failed_write_leaves_directory_unchanged(tmp_path, monkeypatch):
    target = tmp_path / "out.parquet"
    write_parquet(pa.table({"a": [1]}), target)
    before, content = sorted(os.listdir(tmp_path)), target.read_bytes()
    bad = pa.table({"iv": pa.array([pa.MonthDayNano([1, 2, 3])], pa.month_day_nano_interval())})
    with pytest.raises(XIOError, match="out.parquet"):
        write_parquet(bad, target)
    assert sorted(os.listdir(tmp_path)) == before and target.read_bytes() == content

    real = pq.ParquetWriter.write_table

    def half_then_fail(self, table, row_group_size=None):  # a disk filling up mid-write
        real(self, table.slice(0, 1), row_group_size=1)
        raise pa.ArrowIOError("No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", half_then_fail)
    with pytest.raises(XIOError, match="No space left") as info:
        write_parquet(pa.table({"a": [1, 2, 3]}), target)
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(XIOError):
        write_parquet(pa.table({"a": [1, 2, 3]}), tmp_path / "new.parquet")
    assert sorted(os.listdir(tmp_path)) == before and target.read_bytes() == content
