from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpdb import types as t
from xpdb.column import Column, concat_columns, normalize_dictionary, unify_dictionaries
from xpdb.errors import TypeError as XTypeError

ARRAYS = {
    "bool": pa.array([True, None, False]),
    "int8": pa.array([-128, None, 127], pa.int8()),
    "int64": pa.array([np.iinfo(np.int64).min, None, np.iinfo(np.int64).max]),
    "uint64": pa.array([0, None, np.iinfo(np.uint64).max], pa.uint64()),
    "float32": pa.array([1.5, None, float("nan")], pa.float32()),
    "float64": pa.array([float("-inf"), None, float("inf"), -0.0]),
    "string": pa.array(["b", "a", None, "b", "é", "", "🦆"]),
    "date": pa.array([dt.date(1969, 12, 31), None, dt.date(2400, 2, 29)]),
    "timestamp_ns_utc": pa.array([1, None, -10**18], pa.timestamp("ns", "UTC")),
    "timestamp_s": pa.array([0, 2**40, None], pa.timestamp("s")),
    "duration": pa.array([5, None], pa.duration("ms")),
    "decimal": pa.array([decimal.Decimal("1.23"), None, decimal.Decimal("-99999999.99")],
                        pa.decimal128(10, 2)),
    "decimal18": pa.array([decimal.Decimal("999999999999999999"), decimal.Decimal("-1")],
                          pa.decimal128(18, 0)),
    "all_null": pa.array([None, None], pa.int32()),
    "empty": pa.array([], pa.string()),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_arrow_round_trip_is_exact(name, device):
    arr = ARRAYS[name]
    col = Column.from_arrow(arr, device)
    col.validate()
    assert len(col) == len(arr)
    assert col.null_count == arr.null_count
    out = col.to_arrow()
    assert out.type == arr.type
    if pa.types.is_floating(arr.type):  # NaN != NaN for Array.equals
        assert out.is_valid().equals(arr.is_valid())
        np.testing.assert_array_equal(out.fill_null(0).to_numpy(), arr.fill_null(0).to_numpy())
    else:
        assert out.equals(arr), (out, arr)


def test_chunked_and_sliced_arrays(device):
    arr = pa.chunked_array([pa.array([1, 2, None]), pa.array([4, None])])
    assert Column.from_arrow(arr, device).to_pylist() == [1, 2, None, 4, None]
    sliced = pa.array(["x", "y", None, "z"]).slice(1, 2)
    assert Column.from_arrow(sliced, device).to_pylist() == ["y", None]
    dec = pa.array([decimal.Decimal(i) for i in range(5)], pa.decimal128(5, 0)).slice(2, 2)
    assert Column.from_arrow(dec, device).to_pylist() == [2, 3]


def test_wide_decimal_that_fits_is_read_and_one_that_does_not_is_rejected(device):
    ok = pa.array([decimal.Decimal("12.5"), None], pa.decimal128(38, 1))
    col = Column.from_arrow(ok, device)
    assert col.dtype == t.decimal(18, 1)
    assert col.to_pylist() == [decimal.Decimal("12.5"), None]
    big = pa.array([decimal.Decimal(10**30)], pa.decimal128(38, 0))
    with pytest.raises(XTypeError, match="beyond 18 digits|exceed 18 digits"):
        Column.from_arrow(big, device)


def test_string_dictionary_is_sorted_and_unique(device):
    arr = pa.array(["pear", "apple", "pear", None, "Zebra", "apple"])
    col = Column.from_arrow(arr, device)
    assert col.dictionary.to_pylist() == ["Zebra", "apple", "pear"]
    codes = col.device.to_host(col.data)
    assert codes[[0, 1, 2, 4]].tolist() == [2, 1, 2, 0]


def test_dictionary_encoded_input_with_duplicates_and_unused_values(device):
    dictionary = pa.array(["b", "a", "b", "unused"])
    arr = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2, None], pa.int8()), dictionary)
    col = Column.from_arrow(arr, device)
    col.validate()
    assert col.to_pylist() == ["b", "a", "b", None]


def test_from_numpy_with_mask(device, dev):
    values = dev.asarray(np.array([1.0, 2.0, np.nan]))
    col = Column.from_numpy(values, mask=np.array([False, True, False]), device=device)
    got = col.to_pylist()
    assert got[:2] == [1.0, None] and np.isnan(got[2])  # NaN stays a value


def test_from_numpy_strings_and_datetimes(device):
    col = Column.from_numpy(np.array(["x", "y", "x"]), device=device)
    assert col.dtype == t.string and col.to_pylist() == ["x", "y", "x"]
    ts = np.array(["2020-01-01T00:00:01", "NaT"], dtype="datetime64[ms]")
    col = Column.from_numpy(ts, device=device)
    assert col.dtype == t.timestamp("ms") and col.to_pylist()[1] is None


def test_full(device):
    assert Column.full(3, 7, "int32", device).to_pylist() == [7, 7, 7]
    assert Column.full(2, None, "string", device).to_pylist() == [None, None]
    assert Column.full(2, "hé", "string", device).to_pylist() == ["hé", "hé"]


def test_take_filter_slice(device, dev):
    col = Column.from_arrow(pa.array(["a", None, "c", "d"]), device)
    idx = dev.asarray(np.array([3, 0, 1, 0], dtype=np.int64))
    assert col.take(idx).to_pylist() == ["d", "a", None, "a"]
    idx = dev.asarray(np.array([2, -1, 1], dtype=np.int64))
    assert col.take(idx, nullable=True).to_pylist() == ["c", None, None]
    mask = dev.asarray(np.array([True, True, False, True]))
    assert col.filter(mask).to_pylist() == ["a", None, "d"]
    assert col.slice(1, 3).to_pylist() == [None, "c"]
    empty = Column.from_arrow(pa.array([], pa.int64()), device)
    assert empty.take(dev.asarray(np.array([-1], np.int64)), nullable=True).to_pylist() == [None]


def test_concat_unifies_dictionaries(device):
    a = Column.from_arrow(pa.array(["x", "b", None]), device)
    b = Column.from_arrow(pa.array(["a", "x"]), device)
    out = concat_columns([a, b])
    out.validate()
    assert out.to_pylist() == ["x", "b", None, "a", "x"]
    u1, u2 = unify_dictionaries([a, b])
    assert u1.dictionary.equals(u2.dictionary)
    assert u1.to_pylist() == a.to_pylist() and u2.to_pylist() == b.to_pylist()


def test_concat_rejects_mixed_types(device):
    a = Column.from_arrow(pa.array([1]), device)
    b = Column.from_arrow(pa.array([1.0]), device)
    with pytest.raises(XTypeError, match="cannot concatenate columns of types int64 and float64"):
        concat_columns([a, b])


def test_normalize_dictionary():
    unique, remap = normalize_dictionary(pa.array(["b", "a", "b", "c"]))
    assert unique.to_pylist() == ["a", "b", "c"]
    assert remap.tolist() == [1, 0, 1, 2]


def test_dlpack_to_torch(device):
    torch = pytest.importorskip("torch")
    col = Column.from_arrow(pa.array([1.0, 2.0, 3.0]), device)
    tens = torch.from_dlpack(col)
    assert tens.sum().item() == 6.0
    with pytest.raises(XTypeError, match="fill or drop the nulls"):
        torch.from_dlpack(Column.from_arrow(pa.array([1.0, None]), device))


def test_dlpack_to_cupy_on_gpu(device):
    if device != "gpu":
        pytest.skip("CuPy export is checked on the GPU")
    import cupy

    col = Column.from_arrow(pa.array([1, 2, 3]), device)
    assert int(cupy.from_dlpack(col).sum()) == 6


@given(st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=30))
def test_strings_round_trip_property(values):
    arr = pa.array(values, pa.string())
    col = Column.from_arrow(arr, "cpu")
    col.validate()
    assert col.to_arrow().equals(arr)


@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=30))
def test_int64_round_trip_property(values):
    arr = pa.array(values, pa.int64())
    assert Column.from_arrow(arr, "cpu").to_arrow().equals(arr)
