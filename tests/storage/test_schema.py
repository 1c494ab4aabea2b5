"""Exact round trips of every stored type through the catalog JSON and Delta's types."""

from __future__ import annotations

import pyarrow as pa
import pytest

from xpdb.errors import CastError, StorageError
from xpdb.errors import TypeError as XTypeError
from xpdb.storage.schema import (
    conform,
    from_storage,
    schema_from_json,
    schema_to_json,
    storage_schema,
    to_storage,
    type_from_json,
    type_to_json,
)

TYPES = [
    pa.null(), pa.bool_(), pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(),
    pa.uint16(), pa.uint32(), pa.uint64(), pa.float32(), pa.float64(), pa.string(),
    pa.large_string(), pa.string_view(), pa.dictionary(pa.int32(), pa.string()),
    pa.dictionary(pa.int8(), pa.large_string(), ordered=True), pa.date32(), pa.date64(),
    pa.timestamp("s"), pa.timestamp("ms", tz="Europe/Paris"), pa.timestamp("us", tz="UTC"),
    pa.timestamp("ns"), pa.timestamp("ns", tz="America/New_York"), pa.duration("ms"),
    pa.duration("ns"), pa.decimal128(18, 4), pa.decimal128(1, 0), pa.decimal128(38, 10),
]


@pytest.mark.parametrize("typ", TYPES, ids=str)
def test_type_json_round_trip(typ: pa.DataType) -> None:
    assert type_from_json(type_to_json(typ)) == typ


def test_schema_json_keeps_nullability() -> None:
    s = pa.schema([pa.field("a", pa.int64(), nullable=False), ("b", pa.string())])
    assert schema_from_json(schema_to_json(s)) == s


@pytest.mark.parametrize("typ", [pa.list_(pa.int64()), pa.struct([("a", pa.int8())]),
                                 pa.float16(), pa.binary(), pa.decimal256(40, 2)], ids=str)
def test_unsupported_types_are_named(typ: pa.DataType) -> None:
    with pytest.raises(XTypeError, match="cannot be stored"):
        type_to_json(typ)


@pytest.mark.parametrize("bad", [{"id": "nope"}, {"id": "timestamp"}, {"x": 1}])
def test_damaged_type_json(bad: dict) -> None:
    with pytest.raises(StorageError):
        type_from_json(bad)


def _values(typ: pa.DataType) -> pa.Array:
    if pa.types.is_null(typ):
        return pa.nulls(3)
    if pa.types.is_boolean(typ):
        return pa.array([True, None, False])
    if pa.types.is_integer(typ):
        info = __import__("numpy").iinfo(typ.to_pandas_dtype())
        return pa.array([int(info.min), None, int(info.max)], typ)
    if pa.types.is_floating(typ):
        return pa.array([float("-inf"), None, -0.0], typ)
    if pa.types.is_dictionary(typ):
        return pa.array(["é", None, "b"]).cast(typ)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return pa.array(["", None, "日本"], typ)
    if pa.types.is_date32(typ):
        return pa.array([-719162, None, 2932896], typ)
    if pa.types.is_date64(typ):
        return pa.array([-86400000, None, 1], typ)
    if pa.types.is_timestamp(typ) or pa.types.is_duration(typ):
        big = {"s": 10**11, "ms": 10**14, "us": 2**62, "ns": 2**63 - 1}[typ.unit]
        return pa.array([-big, None, big], typ)
    if pa.types.is_decimal(typ):
        from decimal import Decimal
        digits = f"{10**typ.precision - 1}E-{typ.scale}"
        return pa.array([Decimal("-" + digits), None, Decimal(digits)], typ)
    raise AssertionError(typ)


@pytest.mark.parametrize("typ", TYPES, ids=str)
def test_storage_round_trip_is_exact(typ: pa.DataType) -> None:
    schema = pa.schema([("c", typ)])
    table = pa.Table.from_arrays([_values(typ)], schema=schema)
    stored = to_storage(table, schema, "t")
    assert stored.schema == storage_schema(schema)
    back = from_storage(stored, schema, "t")
    assert back.schema == schema
    assert back.equals(table) or back.to_pylist() == table.to_pylist()


def test_storage_types_are_delta_types() -> None:
    s = storage_schema(pa.schema([(str(i), t) for i, t in enumerate(TYPES)]))
    allowed = (pa.types.is_boolean, pa.types.is_signed_integer, pa.types.is_floating,
               pa.types.is_string, pa.types.is_date32, pa.types.is_decimal128,
               pa.types.is_null)
    for f in s:
        if pa.types.is_timestamp(f.type):
            assert f.type.unit == "us" and f.type.tz in (None, "UTC")
        else:
            assert any(ok(f.type) for ok in allowed), f


def test_conform_reorders_and_casts() -> None:
    schema = pa.schema([("a", pa.int16()), ("b", pa.string())])
    got = conform(pa.table({"b": ["x"], "a": pa.array([3], pa.int64())}), schema, "t")
    assert got.schema == schema and got.to_pylist() == [{"a": 3, "b": "x"}]


def test_conform_errors_name_the_column() -> None:
    schema = pa.schema([("a", pa.int8()), pa.field("b", pa.int8(), nullable=False)])
    with pytest.raises(CastError, match="missing \\['b'\\]"):
        conform(pa.table({"a": [1]}), schema, "append table 't'")
    with pytest.raises(CastError, match="column 'a'"):
        conform(pa.table({"a": [1000], "b": [1]}), schema, "append table 't'")
    with pytest.raises(CastError, match="NOT NULL"):
        conform(pa.table({"a": [1], "b": pa.array([None], pa.int8())}), schema, "t")
