from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from xpdb.errors import BindError, XpdbError
from xpdb.table import Table, concat_tables
from xpdb.testing import assert_tables_equal


def sample_arrow() -> pa.Table:
    return pa.table({
        "i": pa.array([1, None, 3], pa.int64()),
        "s": pa.array(["ü", None, "日本"]),
        "f": pa.array([0.5, None, -1.0]),
        "b": pa.array([None, True, False]),
        "d": pa.array([dt.date(2020, 1, 1), None, dt.date(1900, 3, 1)]),
        "n": pa.array([None, None, None], pa.float64()),
    })


def test_arrow_round_trip(device):
    at = sample_arrow()
    tb = Table.from_arrow(at, device)
    tb.validate()
    assert tb.num_rows == 3 and tb.names == at.column_names
    assert tb.to_arrow().equals(at)


def test_empty_table_round_trip(device):
    at = sample_arrow().slice(0, 0)
    tb = Table.from_arrow(at, device)
    assert tb.num_rows == 0
    assert tb.to_arrow().equals(at)


def test_pandas_round_trip(device):
    df = pd.DataFrame({
        "a": [1, 2, 3],
        "s": ["x", None, "ü"],
        "f": [1.0, np.nan, 3.0],
        "t": pd.to_datetime(["2020-01-01 00:00", None, "2021-06-30 12:00"]),
        "ni": pd.array([1, None, 3], dtype="Int64"),
    })
    tb = Table.from_pandas(df, device)
    back = tb.to_pandas()
    pd.testing.assert_frame_equal(back[["a", "f", "t"]], df[["a", "f", "t"]], check_dtype=False)
    assert back["s"].tolist()[0] == "x" and pd.isna(back["s"][1]) and back["s"][2] == "ü"
    nullable = tb.to_pandas(nullable=True)
    assert str(nullable["ni"].dtype) == "Int64"
    assert nullable["ni"].tolist()[0] == 1 and pd.isna(nullable["ni"][1])


def test_pandas_index_is_dropped_when_default_and_kept_when_named(device):
    df = pd.DataFrame({"v": [1, 2]}, index=pd.Index([10, 20], name="key"))
    tb = Table.from_pandas(df, device)
    assert tb.names == ["key", "v"]
    assert Table.from_pandas(df.reset_index(drop=True), device).names == ["v"]


def test_derivations(device, dev):
    tb = Table.from_arrow(sample_arrow(), device)
    assert tb.select(["s", "i"]).names == ["s", "i"]
    assert tb.drop(["s"]).names == ["i", "f", "b", "d", "n"]
    assert tb.rename({"i": "id"}).names[0] == "id"
    mask = dev.asarray(np.array([True, False, True]))
    assert tb.filter(mask).column("s").to_pylist() == ["ü", "日本"]
    assert tb.take(dev.asarray(np.array([2, 2], np.int64))).column("i").to_pylist() == [3, 3]
    assert tb.slice(1).num_rows == 2 and tb.slice(5).num_rows == 0
    assert tb.with_column("i", tb.column("f")).column("i").dtype.kind == "float64"


def test_unknown_column_suggests_closest(device):
    tb = Table.from_pydict({"amount": [1]}, device)
    with pytest.raises(BindError, match="column 'amout' not found; did you mean 'amount'"):
        tb.column("amout")


def test_bad_construction():
    with pytest.raises(XpdbError, match="equal lengths"):
        Table.from_arrow(pa.table({"a": [1]})).with_column(
            "b", Table.from_pydict({"b": [1, 2]}).column("b"))
    with pytest.raises(XpdbError, match="duplicate column name"):
        Table([("a", Table.from_pydict({"a": [1]}).column("a"))] * 2)


def test_concat_tables(device):
    a = Table.from_pydict({"k": ["x", None], "v": [1, 2]}, device)
    b = Table.from_pydict({"k": ["y"], "v": [3]}, device)
    out = concat_tables([a, b])
    assert_tables_equal(out, {"k": ["x", None, "y"], "v": [1, 2, 3]})
    with pytest.raises(XpdbError, match="cannot concatenate tables"):
        concat_tables([a, b.rename({"v": "w"})])


def test_move_between_devices(device, dev):
    tb = Table.from_arrow(sample_arrow(), "cpu")
    dev.reset_stats()
    moved = tb.to(device)
    assert moved.device is dev
    assert_tables_equal(moved.to("cpu"), sample_arrow())
    if dev.is_gpu:
        assert dev.stats.to_device > 0
