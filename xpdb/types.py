"""Logical types and their physical (array) representation.

=================  ====================================  ==================================
logical type       physical values on the device         notes
=================  ====================================  ==================================
bool               bool
int8 ... int64     the same integer dtype
uint8 ... uint64   the same integer dtype
float32, float64   the same float dtype                  NaN is a value, not a null
string             int32 codes into a host dictionary    dictionary: sorted, unique
date               int32 days since 1970-01-01
timestamp(unit)    int64 units since the epoch (UTC)     unit s/ms/us/ns, optional tz
duration(unit)     int64 units
decimal(p, s)      int64 unscaled integers               p <= 18; value = int / 10**s
geometry           int64 row ids into a GeometryArray    see xpdb.spatial.column
=================  ====================================  ==================================

Every type can hold nulls; a column's validity mask says which rows are null.

Decimals are fixed-point int64 (like DuckDB's decimals of up to 18 digits): sums and
comparisons are exact and run at integer speed on the GPU. Arrow decimals of wider precision
are read when every value fits in 18 digits and are rejected with a clear error otherwise.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .errors import TypeError as XTypeError

_INT_KINDS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_FLOAT_KINDS = ("float32", "float64")
_UNITS = ("s", "ms", "us", "ns")


@dataclass(frozen=True)
class DataType:
    """A logical column type.

    Use the module constants (``xpdb.types.int64``...) and the constructors
    :func:`timestamp`, :func:`duration`, :func:`decimal` rather than this class directly.
    """

    kind: str
    unit: str | None = None
    tz: str | None = None
    precision: int | None = None
    scale: int | None = None

    def __str__(self) -> str:
        if self.kind in ("timestamp", "duration"):
            return f"{self.kind}[{self.unit}{', ' + self.tz if self.tz else ''}]"
        if self.kind == "decimal":
            return f"decimal({self.precision}, {self.scale})"
        return self.kind

    __repr__ = __str__

    # -- classification -----------------------------------------------------------------
    @property
    def is_bool(self) -> bool:
        return self.kind == "bool"

    @property
    def is_integer(self) -> bool:
        return self.kind in _INT_KINDS

    @property
    def is_signed_integer(self) -> bool:
        return self.kind in _INT_KINDS[:4]

    @property
    def is_unsigned_integer(self) -> bool:
        return self.kind in _INT_KINDS[4:]

    @property
    def is_float(self) -> bool:
        return self.kind in _FLOAT_KINDS

    @property
    def is_decimal(self) -> bool:
        return self.kind == "decimal"

    @property
    def is_numeric(self) -> bool:
        """Integers, floats and decimals (not bool)."""
        return self.is_integer or self.is_float or self.is_decimal

    @property
    def is_string(self) -> bool:
        return self.kind == "string"

    @property
    def is_geometry(self) -> bool:
        return self.kind == "geometry"

    @property
    def is_temporal(self) -> bool:
        return self.kind in ("date", "timestamp", "duration")

    @property
    def physical(self) -> np.dtype:
        """The NumPy/CuPy dtype of the values array."""
        return np.dtype(_PHYSICAL.get(self.kind, self.kind))

    # -- arrow --------------------------------------------------------------------------
    def to_arrow(self) -> pa.DataType:
        """The pyarrow type this logical type round-trips with."""
        k = self.kind
        if k == "bool":
            return pa.bool_()
        if k in _INT_KINDS or k in _FLOAT_KINDS:
            return pa.from_numpy_dtype(np.dtype(k))
        if k == "string":
            return pa.string()
        if k == "date":
            return pa.date32()
        if k == "timestamp":
            return pa.timestamp(self.unit, tz=self.tz)
        if k == "duration":
            return pa.duration(self.unit)
        if k == "decimal":
            return pa.decimal128(self.precision, self.scale)
        if k == "geometry":  # the storage of WKB; a column's to_arrow gives GeoArrow arrays
            return pa.binary()
        raise XTypeError(f"type {self} has no arrow equivalent")  # pragma: no cover


_PHYSICAL = {"string": "int32", "date": "int32", "timestamp": "int64", "duration": "int64",
             "decimal": "int64", "geometry": "int64"}

bool_ = DataType("bool")
int8 = DataType("int8")
int16 = DataType("int16")
int32 = DataType("int32")
int64 = DataType("int64")
uint8 = DataType("uint8")
uint16 = DataType("uint16")
uint32 = DataType("uint32")
uint64 = DataType("uint64")
float32 = DataType("float32")
float64 = DataType("float64")
string = DataType("string")
date = DataType("date")
geometry = DataType("geometry")


def timestamp(unit: str = "us", tz: str | None = None) -> DataType:
    """A timestamp type: int64 ``unit``\\s since 1970-01-01 UTC, shown in ``tz``."""
    if unit not in _UNITS:
        raise XTypeError(f"timestamp unit {unit!r} is not one of {_UNITS}")
    return DataType("timestamp", unit=unit, tz=tz)


def duration(unit: str = "us") -> DataType:
    """An elapsed-time type: int64 ``unit``\\s."""
    if unit not in _UNITS:
        raise XTypeError(f"duration unit {unit!r} is not one of {_UNITS}")
    return DataType("duration", unit=unit)


MAX_DECIMAL_PRECISION = 18


def decimal(precision: int, scale: int = 0) -> DataType:
    """A fixed-point type of ``precision`` digits, ``scale`` of them after the point."""
    if not 1 <= precision <= MAX_DECIMAL_PRECISION or not 0 <= scale <= precision:
        msg = (
            f"decimal({precision}, {scale}) is not supported: precision must be 1..18 and "
            "scale 0..precision (xpdb stores decimals as int64); cast to float64 for more"
        )
        raise XTypeError(msg)
    return DataType("decimal", precision=precision, scale=scale)


def from_arrow(t: pa.DataType) -> DataType:
    """The logical type for a pyarrow type.

    Dictionary, large and view strings map to ``string``; date64 maps to ``date``;
    decimals of more than 18 digits map to ``decimal(18, scale)`` (values are checked when
    read).
    """
    if pa.types.is_dictionary(t):
        return from_arrow(t.value_type)
    if isinstance(t, pa.ExtensionType) and t.extension_name.startswith(("geoarrow.", "ogc.")):
        return geometry
    if pa.types.is_boolean(t):
        return bool_
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        if pa.types.is_float16(t):
            return float32
        return DataType(np.dtype(t.to_pandas_dtype()).name)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return string
    if pa.types.is_date(t):
        return date
    if pa.types.is_timestamp(t):
        return timestamp(t.unit, t.tz)
    if pa.types.is_duration(t):
        return duration(t.unit)
    if pa.types.is_decimal(t):
        return decimal(min(t.precision, MAX_DECIMAL_PRECISION), min(t.scale, 18))
    if pa.types.is_null(t):
        return float64  # an all-null column of no type: the choice pandas and DuckDB make
    msg = (
        f"arrow type {t} is not supported by xpdb; supported: bool, integers, floats, "
        "strings, date, timestamp, duration, decimal. Cast or drop the column first"
    )
    raise XTypeError(msg)


def from_numpy(dtype: Any) -> DataType:
    """The logical type for a NumPy (or CuPy) dtype."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return bool_
    if dt.kind in "iuf":
        if dt == np.float16:
            return float32
        return DataType(dt.name)
    if dt.kind == "M":
        unit = np.datetime_data(dt)[0]
        return date if unit == "D" else timestamp(unit if unit in _UNITS else "ns")
    if dt.kind == "m":
        unit = np.datetime_data(dt)[0]
        return duration(unit if unit in _UNITS else "ns")
    if dt.kind in "OUS":
        return string
    raise XTypeError(f"NumPy dtype {dt} is not supported by xpdb")


_ALIASES = {
    "bool": bool_, "boolean": bool_, "int": int64, "integer": int32, "bigint": int64,
    "smallint": int16, "tinyint": int8, "float": float64, "double": float64,
    "real": float32, "str": string, "string": string, "text": string, "varchar": string,
    "object": string, "date": date, "timestamp": timestamp("us"), "datetime": timestamp("us"),
    "datetime64[ns]": timestamp("ns"), "datetime64[us]": timestamp("us"),
    "datetime64[ms]": timestamp("ms"), "datetime64[s]": timestamp("s"),
    "category": string,
}


def parse(spec: Any) -> DataType:
    """Read a type from a DataType, a name (``"int64"``, ``"string"``, ``"decimal(10,2)"``),
    a NumPy dtype, a Python type or a pyarrow type.

    Examples
    --------
    >>> parse("decimal(10, 2)"), parse(float), parse("Int64")
    (decimal(10, 2), float64, int64)
    """
    if isinstance(spec, DataType):
        return spec
    if isinstance(spec, pa.DataType):
        return from_arrow(spec)
    if spec is bool:
        return bool_
    if spec is int:
        return int64
    if spec is float:
        return float64
    if spec is str:
        return string
    if isinstance(spec, str):
        text = spec.strip().lower().replace(" ", "")
        if text in _ALIASES:
            return _ALIASES[text]
        if text.startswith(("decimal(", "numeric(")) and text.endswith(")"):
            parts = text[text.index("(") + 1 : -1].split(",")
            try:
                return decimal(int(parts[0]), int(parts[1]) if len(parts) > 1 else 0)
            except ValueError:
                pass
        if text.startswith("timestamp[") and text.endswith("]"):
            return timestamp(text[10:-1])
        if text == "duration":
            return duration("us")
        if text.startswith("duration[") and text.endswith("]"):
            return duration(text[9:-1])
        if text in _INT_KINDS or text in _FLOAT_KINDS:
            return DataType(text)
    try:
        return from_numpy(np.dtype(spec))
    except (builtins.TypeError, XTypeError):
        pass
    raise XTypeError(f"unknown type {spec!r}; use a name such as 'int64', 'string', 'date'")


def common_numeric(a: DataType, b: DataType) -> DataType:
    """The type both operands of arithmetic or comparison are promoted to.

    Integers and floats follow NumPy's promotion (int64 and uint64 give float64); decimals
    with decimals keep the larger scale; decimals with floats give float64.
    """
    if a == b:
        return a
    if a.is_decimal or b.is_decimal:
        if a.is_float or b.is_float:
            return float64
        sa = a.scale if a.is_decimal else 0
        sb = b.scale if b.is_decimal else 0
        scale = max(sa, sb)
        ia = (a.precision - a.scale) if a.is_decimal else _int_digits(a)
        ib = (b.precision - b.scale) if b.is_decimal else _int_digits(b)
        return decimal(min(MAX_DECIMAL_PRECISION, max(ia, ib) + scale), scale)
    if a.is_bool and b.is_bool:
        return bool_
    if not ((a.is_numeric or a.is_bool) and (b.is_numeric or b.is_bool)):
        raise XTypeError(f"no common numeric type for {a} and {b}")
    return DataType(np.promote_types(a.physical, b.physical).name)


def _int_digits(t: DataType) -> int:
    return {"int8": 3, "int16": 5, "int32": 10, "bool": 1}.get(t.kind, 18)
