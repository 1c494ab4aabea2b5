"""Exact schemas: arrow types to JSON for the catalog, and to the types Delta Lake can store.

Delta Lake has fewer types than xpdb. A column is stored in the nearest Delta type that
keeps every value exactly, and the catalog keeps the exact arrow type so that reads cast
back to it:

===================================  ==========================  ==========================
xpdb / arrow type                    stored in Delta as          other engines see
===================================  ==========================  ==========================
bool, int8..int64, float32/64        the same                    the same
string, large_string, string_view,   string                      string
dictionary<int*, string>
date32                               date                        date
geoarrow.<type> (xpdb geometry)      its storage: nested arrays  arrays of (x, y) structs
                                     of (x, y) structs
decimal128(p, s)                     decimal(p, s)               decimal(p, s)
uint8, uint16, uint32                int16, int32, int64         the same numbers
uint64                               decimal(20, 0)              the same numbers
timestamp[s|ms|us, tz]               timestamp (UTC, us)         the same instants
timestamp[s|ms|us] (no tz)           timestamp_ntz (us)          the same wall times
timestamp[ns, tz?], duration[*],     long (raw int64 units)      plain integers
date64
null                                 void                        nulls
===================================  ==========================  ==========================

Delta timestamps are microseconds only, so nanosecond timestamps keep their exact int64
value in a ``long`` column (DuckDB or Spark read integers there; xpdb reads timestamps).
Field metadata and schema metadata are not kept.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ..errors import CastError, StorageError
from ..errors import TypeError as XTypeError

_SIMPLE: dict[str, pa.DataType] = {
    "null": pa.null(), "bool": pa.bool_(),
    "int8": pa.int8(), "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
    "uint8": pa.uint8(), "uint16": pa.uint16(), "uint32": pa.uint32(),
    "uint64": pa.uint64(), "float32": pa.float32(), "float64": pa.float64(),
    "string": pa.string(), "large_string": pa.large_string(),
    "string_view": pa.string_view(), "date32": pa.date32(), "date64": pa.date64(),
}
_SIMPLE_IDS = {v: k for k, v in _SIMPLE.items()}
_WIDEN = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64(),
          pa.uint64(): pa.decimal128(20, 0)}


def _is_geoarrow(t: pa.DataType) -> bool:
    return isinstance(t, pa.ExtensionType) and t.extension_name.startswith("geoarrow.") \
        and hasattr(t, "geom_type")


def _is_stringish(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def type_to_json(t: pa.DataType) -> dict[str, Any]:
    """The catalog's JSON form of a supported arrow type.

    Examples
    --------
    >>> type_to_json(pa.timestamp("ns", tz="UTC"))
    {'id': 'timestamp', 'unit': 'ns', 'tz': 'UTC'}
    >>> type_from_json(type_to_json(pa.decimal128(10, 2)))
    Decimal128Type(decimal128(10, 2))
    """
    if _is_geoarrow(t):  # (extension types are not hashable: before the dict lookups)
        from ..spatial.io import geoarrow_type

        if t.storage_type != geoarrow_type(t.geom_type).storage_type:
            msg = (f"geometry type {t} cannot be stored (only GeoArrow with separated x/y "
                   "coordinates and 32-bit offsets is); write it through xpdb's geometry "
                   "columns")
            raise XTypeError(msg)
        return {"id": "geoarrow", "geom_type": t.geom_type, "metadata": t.metadata}
    if t in _SIMPLE_IDS:
        return {"id": _SIMPLE_IDS[t]}
    if pa.types.is_timestamp(t):
        return {"id": "timestamp", "unit": t.unit, "tz": t.tz}
    if pa.types.is_duration(t):
        return {"id": "duration", "unit": t.unit}
    if pa.types.is_decimal128(t) and t.precision <= 38:
        return {"id": "decimal128", "precision": t.precision, "scale": t.scale}
    if pa.types.is_dictionary(t) and pa.types.is_integer(t.index_type) \
            and _is_stringish(t.value_type):
        return {"id": "dictionary", "index": type_to_json(t.index_type),
                "value": type_to_json(t.value_type), "ordered": t.ordered}
    msg = (
        f"arrow type {t} cannot be stored in an xpdb database; supported: bool, integers, "
        "float32/64, strings (plain or dictionary), date, timestamp, duration, "
        "decimal128. Cast the column to one of these first"
    )
    raise XTypeError(msg)


def type_from_json(d: dict[str, Any]) -> pa.DataType:
    """The arrow type a catalog JSON type stands for (inverse of :func:`type_to_json`)."""
    try:
        kind = d["id"]
        if kind in _SIMPLE:
            return _SIMPLE[kind]
        if kind == "timestamp":
            return pa.timestamp(d["unit"], tz=d.get("tz"))
        if kind == "duration":
            return pa.duration(d["unit"])
        if kind == "decimal128":
            return pa.decimal128(int(d["precision"]), int(d["scale"]))
        if kind == "dictionary":
            return pa.dictionary(type_from_json(d["index"]), type_from_json(d["value"]),
                                 bool(d.get("ordered", False)))
        if kind == "geoarrow":
            from ..spatial.io import geoarrow_type

            return geoarrow_type(str(d["geom_type"]), str(d.get("metadata", "{}")))
    except (KeyError, TypeError, ValueError, pa.ArrowException) as e:
        msg = f"catalog holds a malformed type {d!r}: {e}; the catalog file is damaged"
        raise StorageError(msg) from e
    msg = f"catalog holds an unknown type {d!r}; it was written by a newer xpdb"
    raise StorageError(msg)


def schema_to_json(schema: pa.Schema) -> list[dict[str, Any]]:
    """A schema as a list of ``{"name", "type", "nullable"}`` (the catalog's form)."""
    return [{"name": f.name, "type": type_to_json(f.type), "nullable": f.nullable}
            for f in schema]


def schema_from_json(fields: list[dict[str, Any]]) -> pa.Schema:
    """Inverse of :func:`schema_to_json`."""
    return pa.schema([pa.field(f["name"], type_from_json(f["type"]), f.get("nullable", True))
                      for f in fields])


def storage_type(t: pa.DataType) -> pa.DataType:
    """The arrow type a column of logical type ``t`` is written to Delta Lake as.

    Examples
    --------
    >>> storage_type(pa.uint32()), storage_type(pa.timestamp("ms", tz="Europe/Paris"))
    (DataType(int64), TimestampType(timestamp[us, tz=UTC]))
    """
    type_to_json(t)  # rejects what cannot be stored
    if _is_geoarrow(t):  # nested lists of (x, y) structs: Delta arrays of structs
        return t.storage_type
    if t in _WIDEN:
        return _WIDEN[t]
    if pa.types.is_dictionary(t) or _is_stringish(t):
        return pa.string()
    if pa.types.is_timestamp(t) and t.unit != "ns":
        return pa.timestamp("us", tz="UTC" if t.tz is not None else None)
    if pa.types.is_timestamp(t) or pa.types.is_duration(t) or pa.types.is_date64(t):
        return pa.int64()
    return t


def storage_schema(schema: pa.Schema) -> pa.Schema:
    """:func:`storage_type` of every field (all nullable, as Delta writers expect)."""
    return pa.schema([pa.field(f.name, storage_type(f.type)) for f in schema])


def _cast(arr: pa.ChunkedArray, to: pa.DataType, what: str) -> pa.ChunkedArray:
    if arr.type == to:
        return arr
    if isinstance(arr.type, pa.ExtensionType) and arr.type.storage_type == to:
        return pa.chunked_array([c.storage for c in arr.chunks], to)  # to storage
    if isinstance(to, pa.ExtensionType) and arr.type == to.storage_type:
        return pa.chunked_array([pa.ExtensionArray.from_storage(to, c) for c in arr.chunks], to)
    if _is_geoarrow(to) and _is_geoarrow(arr.type) and to.geom_type != arr.type.geom_type:
        msg = (f"{what}: the column holds {to.geom_type} geometries, the rows given are "
               f"{arr.type.geom_type}s; a stored geometry column keeps one geometry type "
               "(store other types in another column or table)")
        raise CastError(msg)
    try:
        if pa.types.is_timestamp(arr.type) and pa.types.is_integer(to):
            return arr.cast(pa.timestamp(arr.type.unit)).cast(to)
        if pa.types.is_dictionary(to):
            enc = arr.cast(to.value_type).dictionary_encode()
            return enc.cast(to) if enc.type != to else enc
        return arr.cast(to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
        msg = f"{what}: cannot convert {arr.type} to {to} exactly ({e})"
        raise CastError(msg) from e


def to_storage(table: pa.Table, schema: pa.Schema, where: str) -> pa.Table:
    """``table`` (already in the logical ``schema``) in its Delta storage types."""
    cols = [_cast(table.column(i), storage_type(f.type), f"{where}, column {f.name!r}")
            for i, f in enumerate(schema)]
    return pa.Table.from_arrays(cols, schema=storage_schema(schema))


def from_storage(table: pa.Table, schema: pa.Schema, where: str) -> pa.Table:
    """A table read from Delta cast back to the exact logical ``schema`` (a subset of it
    when ``table`` holds fewer columns, in ``table``'s order)."""
    fields = [schema.field(n) for n in table.column_names]
    cols = [_cast(table.column(i), f.type, f"{where}, column {f.name!r}")
            for i, f in enumerate(fields)]
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))


def conform(data: pa.Table, schema: pa.Schema, where: str) -> pa.Table:
    """``data`` with the columns and exact types of ``schema`` (by name, any order).

    Raises
    ------
    CastError
        A column is missing or extra, a value does not fit, or a non-nullable column
        holds nulls. Nothing is written in that case.
    """
    names = data.column_names
    want = schema.names
    if sorted(names) != sorted(want) or len(set(names)) != len(names):
        missing = [n for n in want if n not in names]
        extra = [n for n in names if n not in want]
        msg = (
            f"{where}: the data's columns {names} do not match the table's {want} "
            f"(missing {missing}, unexpected {extra}); select and rename the columns to "
            "match the table"
        )
        raise CastError(msg)
    cols = []
    for f in schema:
        col = _cast(data.column(f.name), f.type, f"{where}, column {f.name!r}")
        if not f.nullable and col.null_count:
            msg = f"{where}: column {f.name!r} is NOT NULL but the data holds {col.null_count} nulls"
            raise CastError(msg)
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=schema)
