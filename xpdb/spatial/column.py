"""Geometry columns: how a :class:`~xpdb.column.Column` of logical type ``geometry`` holds a
:class:`~xpdb.spatial.geometry.GeometryArray`.

Layout (the string column's, with geometries in place of strings): ``data`` holds int64 row
ids into a GeometryArray kept in the column's ``dictionary`` slot, on the column's device.
So ``take``/``filter``/``slice`` (joins, sorts, filters) move only the ids and never copy
coordinates; several rows may share one geometry (``ST_GeomFromText`` over a string column
parses each distinct text once and reuses the string codes as ids). A row is null when the
column's validity says so or when its geometry is null. Functions that need the rows'
geometries in row order call :func:`geometries` (a gather through the ids, skipped when the
ids are the identity).

Conversions: :func:`to_arrow` gives a GeoArrow extension array (``geoarrow.point``...,
separated coordinates; pyarrow only, no shapely), :func:`from_arrow` reads GeoArrow
extension arrays and ``geoarrow.wkb``/``ogc.wkb``/``geoarrow.wkt`` (the latter two need
shapely), :func:`table_from_pandas` reads GeoPandas / shapely object columns as geometry
columns (``Database.register`` uses it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from .. import types as t
from ..column import Column
from ..device import Device, get_device
from ..errors import TypeError as XpdbTypeError
from .geometry import GeometryArray, concat_geometries

#: extension names read as geometry columns
GEO_EXTENSIONS = ("geoarrow.point", "geoarrow.linestring", "geoarrow.polygon",
                  "geoarrow.multipoint", "geoarrow.multilinestring", "geoarrow.multipolygon",
                  "geoarrow.wkb", "geoarrow.wkt", "ogc.wkb")


def is_geometry(col: Any) -> bool:
    """True for a Column of logical type ``geometry``."""
    return isinstance(col, Column) and col.dtype.kind == "geometry"


def is_geo_arrow_type(typ: pa.DataType) -> bool:
    """True for a pyarrow extension type xpdb reads as geometry."""
    return isinstance(typ, pa.ExtensionType) and typ.extension_name in GEO_EXTENSIONS


def geometry_column(geoms: GeometryArray, validity: Any = None) -> Column:
    """A geometry Column with one row per geometry of ``geoms`` (ids ``0..n-1``).

    Examples
    --------
    >>> from xpdb.spatial import points
    >>> col = geometry_column(points([1.0, 2.0], [3.0, 4.0]))
    >>> col.dtype, col.data.tolist()
    (geometry, [0, 1])
    """
    xp = geoms.xp
    ids = xp.arange(len(geoms), dtype=np.int64)
    if validity is None and geoms.validity is not None:
        validity = geoms.validity
    return Column(t.geometry, ids, validity, geoms, geoms.device)  # type: ignore[arg-type]


def validity_of(col: Column) -> Any:
    """Bool array per row: True where the row holds a (non-null) geometry."""
    geoms: GeometryArray = col.dictionary  # type: ignore[assignment]
    valid = col.valid_mask()
    if geoms.validity is not None and len(col):
        valid = valid & geoms.validity[col.data]
    return valid


def _same_ids(col: Column, ids: Any) -> bool:
    """Whether the column's dictionary ids equal ``ids`` (the same array, or equal values)."""
    if ids is col.data:
        return True
    if ids.shape != col.data.shape:
        return False
    xp = col.xp
    return bool(col.device.scalar(xp.all(ids == col.data)))


def _identity(col: Column) -> bool:
    geoms: GeometryArray = col.dictionary  # type: ignore[assignment]
    n = len(col)
    if n != len(geoms):
        return False
    xp = col.xp
    return n == 0 or bool(col.device.scalar(xp.all(col.data == xp.arange(n, dtype=np.int64))))


def geometries(col: Column) -> GeometryArray:
    """The column's geometries in row order (nulls as null rows), on its device."""
    geoms: GeometryArray = col.dictionary  # type: ignore[assignment]
    if col.validity is None:
        # the rows of a stored column are the same from query to query: keep the gathered
        # array with the dictionary, so what is derived from it (a spatial join's index)
        # is kept too
        kept = geoms._derived.get("rows")
        if kept is not None and _same_ids(col, kept[0]):
            return kept[1]
    if _identity(col):
        out = geoms
    else:
        out = geoms.take(col.data)
        if col.validity is None:
            geoms._derived["rows"] = (col.data, out)
    if col.validity is not None:
        valid = col.validity if out.validity is None else col.validity & out.validity
        out = GeometryArray(out.geom_type, out.x, out.y, out.offsets, valid, out.device)
    return out


def to_arrow(col: Column) -> pa.Array:
    """The column as a GeoArrow extension array on the host (nulls kept)."""
    from .io import to_arrow as geo_to_arrow

    return geo_to_arrow(geometries(col))


def from_arrow(array: pa.Array, device: Any = "cpu") -> Column:
    """A geometry Column from a GeoArrow / WKB / WKT extension array."""
    from .io import from_arrow as geo_from_arrow

    return geometry_column(geo_from_arrow(array, device=get_device(device)))


def to_device(col: Column, device: Device) -> Column:
    """The column on ``device`` (ids and geometries move together)."""
    geoms: GeometryArray = col.dictionary  # type: ignore[assignment]
    if device.is_gpu:
        move = device.asarray
    else:
        move = col.device.to_host
    validity = None if col.validity is None else move(col.validity)
    return Column(t.geometry, move(col.data), validity, geoms.to(device),  # type: ignore[arg-type]
                  device)


def concat(columns: Sequence[Column]) -> Column:
    """Rows of several geometry columns: their geometry arrays merged, ids offset."""
    first = columns[0]
    arrays: list[GeometryArray] = [c.dictionary for c in columns]  # type: ignore[misc]
    if all(a is arrays[0] for a in arrays):
        merged, shifts = arrays[0], [0] * len(arrays)
    else:
        kinds = {a.geom_type for a in arrays}
        if len(kinds) > 1:
            # a polygon and a multipolygon column merge as multipolygons
            multi = {a.as_multi().geom_type for a in arrays}
            if len(multi) > 1:
                msg = (f"cannot stack geometry columns of types {sorted(kinds)}: a geometry "
                       "column holds one type; convert them (e.g. to multi types) first")
                raise XpdbTypeError(msg)
            arrays = [a.as_multi() for a in arrays]
        merged = concat_geometries(arrays)
        shifts = list(np.cumsum([0] + [len(a) for a in arrays[:-1]]))
    xp = first.xp
    data = xp.concatenate([c.data + int(s) for c, s in zip(columns, shifts, strict=True)])
    validity = None
    if any(c.validity is not None for c in columns):
        validity = xp.concatenate([c.valid_mask() for c in columns])
    return Column(t.geometry, data, validity, merged, first.device)  # type: ignore[arg-type]


def table_from_pandas(df: Any, device: Any = "cpu") -> Any:
    """:meth:`xpdb.table.Table.from_pandas` that also reads geometry columns (a GeoSeries,
    or an object column of shapely geometries) as geometry columns, in their places."""
    from ..table import Table

    names = [str(n) for n in df.columns]
    geo = [n for n, c in zip(names, df.columns, strict=True)
           if str(df[c].dtype) == "geometry" or _holds_shapely(df[c])]
    if not geo:
        return Table.from_pandas(df, device)
    import pandas as pd

    from .io import from_shapely

    dev = get_device(device)
    rest = Table.from_pandas(pd.DataFrame(df.drop(columns=geo)), dev)
    cols = []
    for n, c in zip(names, df.columns, strict=True):
        if n in geo:
            values = np.array(list(df[c]), dtype=object)
            missing = np.array([v is None or (isinstance(v, float) and np.isnan(v))
                                for v in values], dtype=bool)
            values[missing] = None
            cols.append((n, geometry_column(from_shapely(values, dev))))
        else:
            cols.append((n, rest.column(n)))
    return Table(cols, len(df), dev)


def _holds_shapely(s: Any) -> bool:
    if s.dtype != object:
        return False
    first = s.dropna()
    if len(first) == 0:
        return False
    v = first.iloc[0]
    return type(v).__module__.startswith("shapely")


__all__ = ["GEO_EXTENSIONS", "concat", "from_arrow", "geometries",
           "geometry_column", "is_geo_arrow_type", "is_geometry", "table_from_pandas", "to_arrow", "to_device",
           "validity_of"]
