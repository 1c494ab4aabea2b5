from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from xpdb import types as t
from xpdb.errors import TypeError as XTypeError

ARROW_TYPES = [
    pa.bool_(), pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(),
    pa.uint32(), pa.uint64(), pa.float32(), pa.float64(), pa.string(), pa.date32(),
    pa.timestamp("s"), pa.timestamp("ms"), pa.timestamp("us", "UTC"), pa.timestamp("ns"),
    pa.duration("us"), pa.decimal128(10, 2), pa.decimal128(18, 0),
]


@pytest.mark.parametrize("at", ARROW_TYPES, ids=str)
def test_arrow_round_trip(at):
    assert t.from_arrow(at).to_arrow() == at


@pytest.mark.parametrize(
    ("at", "expected"),
    [(pa.large_string(), t.string), (pa.dictionary(pa.int8(), pa.string()), t.string),
     (pa.date64(), t.date), (pa.decimal128(38, 4), t.decimal(18, 4)), (pa.null(), t.float64)],
)
def test_arrow_types_that_map_onto_others(at, expected):
    assert t.from_arrow(at) == expected


def test_unsupported_arrow_type_is_clear():
    with pytest.raises(XTypeError, match="not supported by xpdb"):
        t.from_arrow(pa.list_(pa.int64()))


def test_physical_layout():
    assert t.string.physical == np.int32
    assert t.date.physical == np.int32
    assert t.timestamp("ns").physical == np.int64
    assert t.decimal(10, 2).physical == np.int64


def test_decimal_limits():
    with pytest.raises(XTypeError, match="precision must be 1..18"):
        t.decimal(19, 2)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("int64", t.int64), ("BIGINT", t.int64), ("varchar", t.string), (float, t.float64),
     ("decimal(12, 3)", t.decimal(12, 3)), (np.dtype("int16"), t.int16), ("datetime64[ms]", t.timestamp("ms")),
     ("timestamp[ns]", t.timestamp("ns")), (pa.int8(), t.int8), ("bool", t.bool_),
     ("duration[ms]", t.duration("ms"))],
)
def test_parse(spec, expected):
    assert t.parse(spec) == expected


def test_parse_unknown():
    with pytest.raises(XTypeError, match="unknown type 'nonsense'"):
        t.parse("nonsense")


def test_common_numeric():
    assert t.common_numeric(t.int32, t.int64) == t.int64
    assert t.common_numeric(t.int64, t.float32) == t.float64
    assert t.common_numeric(t.int64, t.uint64) == t.float64
    assert t.common_numeric(t.decimal(10, 2), t.decimal(12, 4)) == t.decimal(12, 4)
    assert t.common_numeric(t.decimal(12, 2), t.int32) == t.decimal(12, 2)
    assert t.common_numeric(t.decimal(10, 2), t.float64) == t.float64
    with pytest.raises(XTypeError):
        t.common_numeric(t.string, t.int64)
