"""Geometry conversions and files: shapely, WKT, WKB, GeoArrow, GeoParquet, GeoPandas, OGR.

shapely (and geopandas/pyogrio for files) are imported inside the functions that need them,
so ``import xpdb.spatial`` works without them. GeoArrow conversion and GeoArrow-encoded
GeoParquet need only pyarrow.

- shapely arrays <-> :class:`GeometryArray`: ``shapely.to_ragged_array`` /
  ``from_ragged_array`` (GeoArrow's layout); a mix of single and multi geometries of one
  family (Polygon and MultiPolygon) becomes the multi type; other mixes raise.
- GeoArrow: pyarrow extension arrays ``geoarrow.point`` ... ``geoarrow.multipolygon`` with
  separated coordinates (``struct<x: double, y: double>``) and int32 list offsets (int64
  where they do not fit).
- GeoParquet 1.1: the ``geo`` file metadata, geometry column encoded as ``WKB`` (the most
  widely read; needs shapely) or natively (``encoding="geoarrow"``).
- Shapefile, GeoJSON and every OGR format: through GeoPandas with the pyogrio engine.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from ..device import Device, get_device
from ..errors import IOError as XpdbIOError
from ..errors import TypeError as XpdbTypeError
from .geometry import (
    LINESTRING,
    MULTILINESTRING,
    MULTIPOINT,
    MULTIPOLYGON,
    NESTING,
    POINT,
    POLYGON,
    GeometryArray,
)

# shapely's GeometryType ids
_SHAPELY_IDS = {
    POINT: 0, LINESTRING: 1, POLYGON: 3, MULTIPOINT: 4, MULTILINESTRING: 5, MULTIPOLYGON: 6,
}
_FROM_SHAPELY_IDS = {v: k for k, v in _SHAPELY_IDS.items()}
# GeoParquet / GeoJSON type names
_GEOJSON_NAMES = {
    POINT: "Point", LINESTRING: "LineString", POLYGON: "Polygon", MULTIPOINT: "MultiPoint",
    MULTILINESTRING: "MultiLineString", MULTIPOLYGON: "MultiPolygon",
}


def _shapely() -> Any:
    try:
        import shapely
    except ImportError as e:  # pragma: no cover - depends on the environment
        msg = "this conversion needs shapely>=2: pip install 'xpdb[spatial]' (or shapely)"
        raise ImportError(msg) from e
    return shapely


# -- shapely ----------------------------------------------------------------------------------
def from_shapely(
    geoms: Any, device: str | Device = "cpu", geom_type: str | None = None
) -> GeometryArray:
    """A :class:`GeometryArray` from shapely geometries (None marks a null row).

    Parameters
    ----------
    geoms : sequence or array of shapely geometries
        One geometry family; Polygon and MultiPolygon (or LineString and MultiLineString,
        Point and MultiPoint) together become the multi type.
    device : str or Device
    geom_type : str, optional
        The type to use when there is nothing to infer it from (all rows null).
    """
    shapely = _shapely()
    arr = np.asarray(geoms, dtype=object)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    missing = shapely.is_missing(arr)
    if missing.all():
        gt = geom_type or POINT
        n = arr.shape[0]
        xs = np.full(n, np.nan) if gt == POINT else np.zeros(0)
        offs = tuple(
            np.zeros(n + 1 if i == 0 else 1, dtype=np.int64) for i in range(NESTING[gt])
        )
        return GeometryArray(gt, xs, xs.copy(), offs, np.zeros(n, dtype=bool), device)
    try:
        type_id, coords, offsets = shapely.to_ragged_array(arr, include_z=False)
    except ValueError as e:
        types = sorted({str(t) for t in shapely.get_type_id(arr[~missing])})
        msg = (
            f"cannot make one geometry array from shapely geometries of type ids {types}: "
            f"{e}. A GeometryArray holds one type (polygons and multipolygons mix); split "
            "the geometries by type first."
        )
        raise XpdbTypeError(msg) from e
    gt = _FROM_SHAPELY_IDS[int(type_id)]
    validity = None if not missing.any() else ~missing
    # shapely lists offsets innermost first; GeometryArray outermost first
    return GeometryArray(
        gt, coords[:, 0].copy(), coords[:, 1].copy(), tuple(reversed(offsets)), validity, device
    )


def to_shapely(geoms: GeometryArray) -> np.ndarray:
    """A NumPy object array of shapely geometries; None for null rows."""
    shapely = _shapely()
    cpu = geoms.to("cpu")
    coords = np.stack([cpu.x, cpu.y], axis=1)
    out = shapely.from_ragged_array(
        shapely.GeometryType(_SHAPELY_IDS[cpu.geom_type]), coords,
        tuple(reversed(cpu.offsets)) or None,
    )
    if cpu.validity is not None:
        out[~cpu.validity] = None
    return out


def from_wkt(text: Any, device: str | Device = "cpu", geom_type: str | None = None
             ) -> GeometryArray:
    """Geometries from WKT strings (None is null). Malformed text raises ParseError."""
    from ..errors import ParseError

    shapely = _shapely()
    try:
        g = shapely.from_wkt(np.asarray(text, dtype=object), on_invalid="raise")
    except Exception as e:
        raise ParseError(f"invalid WKT: {e}. Check the geometry text.") from e
    return from_shapely(g, device, geom_type)


def to_wkt(geoms: GeometryArray, rounding_precision: int = -1) -> np.ndarray:
    """WKT strings (object array; None for null rows). -1 keeps full precision."""
    shapely = _shapely()
    return shapely.to_wkt(to_shapely(geoms), rounding_precision=rounding_precision, trim=True)


def from_wkb(data: Any, device: str | Device = "cpu", geom_type: str | None = None
             ) -> GeometryArray:
    """Geometries from WKB bytes (None is null). Malformed bytes raise ParseError."""
    from ..errors import ParseError

    shapely = _shapely()
    try:
        g = shapely.from_wkb(np.asarray(data, dtype=object), on_invalid="raise")
    except Exception as e:
        raise ParseError(f"invalid WKB: {e}") from e
    return from_shapely(g, device, geom_type)


def to_wkb(geoms: GeometryArray) -> np.ndarray:
    """ISO WKB bytes (object array; None for null rows)."""
    shapely = _shapely()
    return shapely.to_wkb(to_shapely(geoms), flavor="iso")


# -- GeoArrow -------------------------------------------------------------------------------
class GeoArrowType(pa.ExtensionType):
    """A GeoArrow extension type (``geoarrow.point``... with separated coordinates).

    Not registered with pyarrow (so it never clashes with geoarrow-pyarrow's types);
    :func:`from_arrow` reads any ``geoarrow.*`` extension array by its name.
    """

    def __init__(self, geom_type: str, storage: pa.DataType, metadata: str = "{}") -> None:
        self.geom_type = geom_type
        self.metadata = metadata
        super().__init__(storage, f"geoarrow.{geom_type}")

    def __arrow_ext_serialize__(self) -> bytes:
        return self.metadata.encode()

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type: pa.DataType, serialized: bytes
                                  ) -> GeoArrowType:
        return cls(_geom_type_of_storage(storage_type), storage_type, serialized.decode() or "{}")


def _geom_type_of_storage(storage: pa.DataType) -> str:
    # the nesting depth tells the family only up to single/multi; callers that know better
    # (the extension name) override it
    depth = 0
    t = storage
    while pa.types.is_list(t) or pa.types.is_large_list(t):
        depth += 1
        t = t.value_type
    return {0: POINT, 1: LINESTRING, 2: POLYGON, 3: MULTIPOLYGON}[depth]


_COORD = pa.struct([pa.field("x", pa.float64(), nullable=False),
                    pa.field("y", pa.float64(), nullable=False)])
_LEVEL_NAMES = {
    LINESTRING: ["vertices"], MULTIPOINT: ["points"], POLYGON: ["rings", "vertices"],
    MULTILINESTRING: ["linestrings", "vertices"],
    MULTIPOLYGON: ["polygons", "rings", "vertices"],
}


def geoarrow_type(geom_type: str, metadata: str = "{}") -> GeoArrowType:
    """The GeoArrow extension type (separated coordinates, 32-bit offsets) of a geometry
    type, as :func:`to_arrow` makes it (the storage layer rebuilds stored types with it).

    Examples
    --------
    >>> geoarrow_type("polygon").storage_type
    ListType(list<rings: list<vertices: struct<x: double not null, y: double not null> not null> not null>)
    """
    typ: pa.DataType = pa.struct(list(_COORD))
    for name in reversed(_LEVEL_NAMES.get(geom_type, [])):
        typ = pa.list_(pa.field(name, typ, nullable=False))
    return GeoArrowType(geom_type, typ, metadata)


def to_arrow(geoms: GeometryArray, crs: Any = None) -> pa.ExtensionArray:
    """A GeoArrow extension array (``geoarrow.<type>``, separated coordinates) on the host.

    ``crs`` (e.g. ``"EPSG:4326"`` or PROJJSON as a dict) goes into the extension metadata.

    Examples
    --------
    >>> from xpdb.spatial import points
    >>> a = to_arrow(points([1.0, 2.0], [3.0, 4.0]))
    >>> a.type.extension_name, a.storage.to_pylist()
    ('geoarrow.point', [{'x': 1.0, 'y': 3.0}, {'x': 2.0, 'y': 4.0}])
    """
    cpu = geoms.to("cpu")
    large = cpu.n_coords >= 2**31 - 1 or any(int(o[-1]) >= 2**31 - 1 for o in cpu.offsets)
    arr: pa.Array = pa.StructArray.from_arrays(
        [pa.array(cpu.x), pa.array(cpu.y)], fields=list(_COORD)
    )
    names = _LEVEL_NAMES.get(cpu.geom_type, [])
    mask = None if cpu.validity is None else pa.array(~cpu.validity)
    if not names and mask is not None:
        arr = pa.StructArray.from_arrays(
            [pa.array(cpu.x), pa.array(cpu.y)], fields=list(_COORD), mask=mask
        )
    for level in range(len(cpu.offsets) - 1, -1, -1):
        o = cpu.offsets[level]
        cls = pa.LargeListArray if large else pa.ListArray
        off = pa.array(o.astype(np.int64 if large else np.int32))
        field = pa.field(names[level], arr.type, nullable=False)
        arr = cls.from_arrays(off, arr, type=(pa.large_list if large else pa.list_)(field),
                              mask=mask if level == 0 else None)
    meta = "{}" if crs is None else json.dumps({"crs": crs})
    typ = GeoArrowType(cpu.geom_type, arr.type, meta)
    return pa.ExtensionArray.from_storage(typ, arr)


def from_arrow(array: Any, device: str | Device = "cpu", geom_type: str | None = None
               ) -> GeometryArray:
    """A :class:`GeometryArray` from a GeoArrow array, or WKB (binary) / WKT (string) arrays.

    GeoArrow arrays may be extension arrays (``geoarrow.*``) or their storage (pass
    ``geom_type`` to tell ``multipoint`` from ``linestring``); coordinates separated
    (struct x, y) or interleaved (fixed-size list of 2). Chunked arrays are combined.
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if isinstance(array, pa.ExtensionArray):
        name = array.type.extension_name
        if name in ("geoarrow.wkb", "ogc.wkb"):
            return from_wkb(array.storage.to_numpy(zero_copy_only=False), device, geom_type)
        if name == "geoarrow.wkt":
            return from_wkt(array.storage.to_numpy(zero_copy_only=False), device, geom_type)
        if not name.startswith("geoarrow."):
            raise XpdbTypeError(f"cannot read geometry from extension type {name!r}")
        geom_type = name.split(".", 1)[1]
        array = array.storage
    t = array.type
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return from_wkb(array.to_numpy(zero_copy_only=False), device, geom_type)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return from_wkt(array.to_numpy(zero_copy_only=False), device, geom_type)
    gt = geom_type or _geom_type_of_storage(t)
    if gt not in NESTING:
        raise XpdbTypeError(f"unknown GeoArrow geometry type {gt!r}")
    validity = None
    if array.null_count:
        validity = np.asarray(array.is_valid())
    offsets = []
    cur = array
    for _ in range(NESTING[gt]):
        if not (pa.types.is_list(cur.type) or pa.types.is_large_list(cur.type)):
            msg = f"GeoArrow {gt} storage must nest {NESTING[gt]} lists, got type {t}"
            raise XpdbTypeError(msg)
        o = np.asarray(cur.offsets, dtype=np.int64)
        base = int(o[0])
        child = cur.values.slice(base, int(o[-1]) - base)
        offsets.append(o - base)
        cur = child
    x, y = _coords(cur)
    if gt == POINT and validity is not None:
        x = np.where(validity, x, np.nan)
        y = np.where(validity, y, np.nan)
    return GeometryArray(gt, x, y, tuple(offsets), validity, device)


def _coords(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    t = arr.type
    if pa.types.is_struct(t):
        x = arr.field("x").to_numpy(zero_copy_only=False)
        y = arr.field("y").to_numpy(zero_copy_only=False)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if pa.types.is_fixed_size_list(t):
        width = t.list_size
        flat = arr.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
        return flat[:, 0].astype(np.float64), flat[:, 1].astype(np.float64)
    raise XpdbTypeError(f"GeoArrow coordinates must be struct<x, y> or fixed_size_list, got {t}")


# -- GeoParquet -------------------------------------------------------------------------------
def write_geoparquet(
    path: str,
    geometry: GeometryArray,
    columns: Any = None,
    geometry_name: str = "geometry",
    encoding: str = "WKB",
    crs: Any = None,
) -> None:
    """Write a GeoParquet 1.1 file: ``columns`` plus the geometry column.

    Parameters
    ----------
    path : str
    geometry : GeometryArray
    columns : pyarrow.Table, pandas.DataFrame or dict, optional
        Other columns, as many rows as ``geometry``.
    geometry_name : str
    encoding : {"WKB", "geoarrow"}
        ``"WKB"`` (needs shapely; read by every GeoParquet reader) or the native GeoArrow
        encoding (``"point"``, ``"polygon"``... in the metadata; pyarrow only).
    crs : str or dict, optional
        PROJJSON (dict) or a string such as ``"EPSG:4326"``; None omits it (GeoParquet
        then means OGC:CRS84).
    """
    import pyarrow.parquet as pq

    from .bbox import total_bounds

    table = _as_arrow_table(columns, len(geometry))
    if geometry_name in table.column_names:
        raise XpdbTypeError(f"column {geometry_name!r} already exists; pick another name")
    enc = encoding.lower()
    if enc == "wkb":
        wkb = to_wkb(geometry)
        col: pa.Array = pa.array(list(wkb), type=pa.binary())
        meta_enc = "WKB"
    elif enc == "geoarrow":
        col = to_arrow(geometry).storage
        meta_enc = geometry.geom_type
    else:
        raise XpdbTypeError(f"unknown GeoParquet encoding {encoding!r}; use 'WKB' or 'geoarrow'")
    table = table.append_column(pa.field(geometry_name, col.type), col)
    bbox = [float(v) for v in total_bounds(geometry)]
    colmeta: dict[str, Any] = {
        "encoding": meta_enc,
        "geometry_types": [_GEOJSON_NAMES[geometry.geom_type]],
    }
    if not any(np.isnan(bbox)):
        colmeta["bbox"] = bbox
    if crs is not None:
        colmeta["crs"] = _crs_json(crs)
    geo = {"version": "1.1.0", "primary_column": geometry_name,
           "columns": {geometry_name: colmeta}}
    meta = dict(table.schema.metadata or {})
    meta[b"geo"] = json.dumps(geo).encode()
    try:
        pq.write_table(table.replace_schema_metadata(meta), path)
    except OSError as e:
        raise XpdbIOError(f"cannot write GeoParquet file {path!r}: {e}", path=str(path)) from e


def _crs_json(crs: Any) -> Any:
    if isinstance(crs, dict):
        return crs
    try:
        import pyproj

        return json.loads(pyproj.CRS.from_user_input(crs).to_json())
    except ImportError:  # pragma: no cover - pyproj missing: keep the text
        return crs


def read_geoparquet(
    path: str, device: str | Device = "cpu", geometry_name: str | None = None
) -> tuple[GeometryArray, pa.Table]:
    """Read a GeoParquet file: the geometry column and the other columns (a pyarrow Table).

    The primary geometry column (or ``geometry_name``) is decoded from its ``geo`` metadata
    encoding (WKB or a GeoArrow native encoding).
    """
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as e:
        raise XpdbIOError(f"cannot read GeoParquet file {path!r}: {e}", path=str(path)) from e
    raw = (table.schema.metadata or {}).get(b"geo")
    if raw is None:
        msg = (
            f"{path!r} has no 'geo' metadata, so it is not GeoParquet; read it with "
            "xpdb.read_parquet and convert the geometry column with from_arrow/from_wkb"
        )
        raise XpdbIOError(msg, path=str(path))
    geo = json.loads(raw)
    name = geometry_name or geo.get("primary_column", "geometry")
    meta = geo.get("columns", {}).get(name)
    if meta is None or name not in table.column_names:
        raise XpdbIOError(f"{path!r}: no geometry column {name!r}", path=str(path))
    col = table.column(name)
    enc = str(meta.get("encoding", "WKB")).lower()
    gtypes = [t.lower() for t in meta.get("geometry_types", [])]
    hint = gtypes[0] if len(gtypes) == 1 and gtypes[0] in NESTING else None
    if enc == "wkb":
        geoms = from_arrow(col, get_device(device), geom_type=hint)
    else:
        geoms = from_arrow(col, get_device(device), geom_type=enc)
    return geoms, table.drop_columns([name])


def _as_arrow_table(columns: Any, n: int) -> pa.Table:
    if columns is None:
        return pa.table({}).append_column("__n", pa.nulls(n)).drop_columns(["__n"])
    if isinstance(columns, pa.Table):
        t = columns
    elif isinstance(columns, dict):
        t = pa.table(columns)
    else:
        t = pa.Table.from_pandas(columns, preserve_index=False)
    if t.num_rows != n:
        raise XpdbTypeError(f"columns have {t.num_rows} rows but the geometry has {n}")
    return t


# -- GeoPandas and OGR files -------------------------------------------------------------------
def from_geopandas(obj: Any, device: str | Device = "cpu") -> GeometryArray:
    """The geometry of a GeoSeries or (the active geometry of) a GeoDataFrame."""
    geom = obj.geometry if hasattr(obj, "geometry") else obj
    return from_shapely(np.asarray(geom.values, dtype=object), device)


def to_geopandas(geoms: GeometryArray, columns: Any = None, crs: Any = None) -> Any:
    """A GeoDataFrame (``columns`` plus ``geometry``), or a GeoSeries when ``columns`` is None."""
    import geopandas
    import pandas as pd

    gs = geopandas.GeoSeries(to_shapely(geoms), crs=crs)
    if columns is None:
        return gs
    df = columns if isinstance(columns, pd.DataFrame) else pd.DataFrame(columns)
    return geopandas.GeoDataFrame(df.reset_index(drop=True), geometry=gs, crs=crs)


def read_file(path: str, device: str | Device = "cpu", **kwargs: Any) -> tuple[GeometryArray, Any]:
    """Read a shapefile, GeoJSON, GeoPackage... (any OGR format, through pyogrio).

    Returns the geometry and the attribute columns (a pandas DataFrame). ``kwargs`` go to
    ``geopandas.read_file`` (``layer=``, ``bbox=``, ``columns=``...).
    """
    import geopandas

    try:
        gdf = geopandas.read_file(path, engine="pyogrio", **kwargs)
    except Exception as e:
        raise XpdbIOError(f"cannot read {path!r}: {e}", path=str(path)) from e
    geoms = from_geopandas(gdf, device)
    attrs = gdf.drop(columns=gdf.geometry.name)
    return geoms, attrs


def write_file(
    path: str, geoms: GeometryArray, columns: Any = None, driver: str | None = None,
    crs: Any = None,
) -> None:
    """Write a shapefile, GeoJSON... (driver inferred from the extension, through pyogrio)."""
    import geopandas

    if columns is None:
        gdf = geopandas.GeoDataFrame(geometry=to_geopandas(geoms, crs=crs), crs=crs)
    else:
        gdf = to_geopandas(geoms, columns, crs)
    try:
        gdf.to_file(path, driver=driver, engine="pyogrio")
    except Exception as e:
        raise XpdbIOError(f"cannot write {path!r}: {e}", path=str(path)) from e
