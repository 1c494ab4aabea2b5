"""Tests of xpdb.io.ipc: Arrow IPC file/stream/Feather round trips, projection, errors."""

from __future__ import annotations

import datetime as dt
import decimal
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pyarrow import feather, ipc

from xpdb.device import get_device
from xpdb.errors import IOError as XIOError
from xpdb.io import read_ipc, read_ipc_table, write_ipc
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
        "dur": pa.array([0, 1500, None, -3], pa.duration("ns")),
        "allnull": pa.nulls(4, pa.int64()),
    })


@pytest.mark.parametrize("rows", [4, 0])
@pytest.mark.parametrize(("stream", "compression", "memory_map"), [
    (False, None, False), (True, None, False), (False, "zstd", True), (True, "lz4", True),
])
def test_round_trip_every_type(device, tmp_path, rows, stream, compression, memory_map):
    source = Table.from_arrow(all_types().slice(0, rows), device)
    path = tmp_path / "all.arrow"
    write_ipc(source, path, stream=stream, compression=compression)
    with open(path, "rb") as f:
        assert (f.read(6) == b"ARROW1") is not stream
    got = read_ipc_table(path, memory_map=memory_map, device=device)
    assert got.device is get_device(device)
    assert_tables_equal(got, source, check_types=True)


def test_reads_files_written_by_pyarrow_and_pandas(device, tmp_path):
    table = pa.table({"a": [1, 2, None], "s": ["x", None, "ü"]})
    batches = table.to_batches(max_chunksize=1)
    with ipc.new_stream(str(tmp_path / "s.arrows"), table.schema) as w:
        for b in batches:
            w.write_batch(b)
    feather.write_feather(table, tmp_path / "v2.feather")
    with pytest.warns(DeprecationWarning):  # Feather v1 is legacy but still found in the wild
        feather.write_feather(table, tmp_path / "v1.feather", version=1)
    df = pd.DataFrame({"a": [1.0, 2.0, None], "s": ["x", None, "ü"]})
    df.to_feather(tmp_path / "pd.feather")
    for name in ["s.arrows", "v2.feather", "pd.feather"]:
        got = read_ipc_table(tmp_path / name, device=device)
        assert_tables_equal(got, table), name
    with pytest.warns(DeprecationWarning):  # pyarrow's own notice, passed on to the user
        got = read_ipc_table(tmp_path / "v1.feather", device=device)
    assert_tables_equal(got, table)


def test_projection_and_several_files(device, tmp_path):
    write_ipc(pa.table({"a": [1, 2], "b": ["x", "y"], "c": [0.5, 1.5]}), tmp_path / "p0.arrow")
    write_ipc(pa.table({"a": [3], "b": ["z"], "c": [2.5]}), tmp_path / "p1.arrow", stream=True)
    got = read_ipc_table(tmp_path / "p0.arrow", columns=["c", "a"], device=device)
    assert got.names == ["c", "a"] and got.to_pydict() == {"c": [0.5, 1.5], "a": [1, 2]}
    both = read_ipc_table(str(tmp_path / "p*.arrow"), columns=["b"], device=device)
    assert both.to_pydict() == {"b": ["x", "y", "z"]}
    rev = read_ipc_table([tmp_path / "p1.arrow", tmp_path / "p0.arrow"], device=device)
    assert rev.to_pydict()["a"] == [3, 1, 2]


def test_writer_inputs(device, tmp_path):
    table = Table.from_pydict({"a": [1, 2], "b": ["x", None]}, device)

    class Frame:  # what xpdb.frame.DataFrame exposes to the writers
        _table = table

    for i, data in enumerate([table, Frame(), table.to_pandas(), table.to_arrow()]):
        path = tmp_path / f"w{i}.arrow"
        write_ipc(data, path)
        assert_tables_equal(read_ipc_table(path, device=device), table, check_types=True)


def test_public_read_ipc_returns_dataframe(device, tmp_path):
    from xpdb.frame import DataFrame

    path = tmp_path / "x.arrow"
    write_ipc(pa.table({"a": [1]}), path)
    df = read_ipc(path, device=device)
    assert isinstance(df, DataFrame)
    assert_tables_equal(df._table, pa.table({"a": [1]}))


# -- errors ----------------------------------------------------------------------------------
def test_missing_empty_corrupt_unknown(tmp_path):
    good = tmp_path / "trips.arrow"
    write_ipc(pa.table({"amount": list(range(100))}), good)
    with pytest.raises(XIOError, match="did you mean") as info:
        read_ipc_table(tmp_path / "trip.arrow", device="cpu")
    assert "trips.arrow" in str(info.value)
    empty = tmp_path / "empty.arrow"
    empty.write_bytes(b"")
    with pytest.raises(XIOError, match="empty"):
        read_ipc_table(empty, device="cpu")
    garbage = tmp_path / "garbage.arrow"
    garbage.write_bytes(b"definitely not arrow data")
    truncated = tmp_path / "truncated.arrow"
    truncated.write_bytes(good.read_bytes()[: os.path.getsize(good) // 2])
    for bad in (garbage, truncated):
        with pytest.raises(XIOError) as info:
            read_ipc_table([good, bad], device="cpu")
        assert str(bad) in str(info.value) and info.value.path == str(bad)
        assert isinstance(info.value.__cause__, pa.ArrowException)
    with pytest.raises(XIOError, match="did you mean 'amount'") as info:
        read_ipc_table(good, columns=["amout"], device="cpu")
    assert info.value.column == "amout"


def test_unsupported_column_type_is_named(tmp_path):
    path = tmp_path / "l.arrow"
    write_ipc(pa.table({"ok": [1], "lst": [[1, 2]]}), path)
    with pytest.raises(XIOError, match="'lst'"):
        read_ipc_table(path, device="cpu")
    assert read_ipc_table(path, columns=["ok"], device="cpu").to_pydict() == {"ok": [1]}


def test_failed_write_leaves_directory_unchanged(tmp_path, monkeypatch):
    target = tmp_path / "out.arrow"
    write_ipc(pa.table({"a": [1]}), target)
    before, content = sorted(os.listdir(tmp_path)), target.read_bytes()
    real = ipc.new_file

    class Failing:  # writes the schema and one batch, then the disk fills up
        def __init__(self, sink, schema, options=None):
            self.inner = real(sink, schema, options=options)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.inner.close()

        def write_table(self, table):
            self.inner.write_table(table.slice(0, 1))
            raise pa.ArrowIOError("No space left on device")

    monkeypatch.setattr(ipc, "new_file", Failing)
    with pytest.raises(XIOError, match="No space left") as info:
        write_ipc(pa.table({"a": [1, 2, 3]}), target)
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(XIOError):
        write_ipc(pa.table({"a": [1, 2, 3]}), tmp_path / "new.arrow")
    assert sorted(os.listdir(tmp_path)) == before and target.read_bytes() == content
    with pytest.raises(XIOError, match="does not exist"):
        write_ipc(pa.table({"a": [1]}), tmp_path / "nodir" / "x.arrow")
