"""Spatial analytics on the CPU (NumPy) and the GPU (CuPy), one code path.

Geometry columns follow the GeoArrow layout (:mod:`xpdb.spatial.geometry`); shapely is needed
only for conversions (WKT/WKB, shapely and GeoPandas objects, files), never by the kernels,
so ``import xpdb.spatial`` works without it.

Semantics (planar, as shapely): coordinates are (x, y) = (longitude, latitude) in a plane; a
polygon crossing the antimeridian must be split there first. ``points_in_polygons`` and
``sjoin(..., predicate="within")`` match shapely's ``contains``/``within``: a point on a
polygon's boundary (edge or vertex) is not inside; ``predicate="intersects"`` counts it.
Null and empty geometries match nothing. Coordinates within rounding of an edge may be
classified differently from shapely's robust predicates (xpdb uses float64 orientation
tests); exactly representable cases (vertices, axis-parallel edges, grid points) agree.

Modules: ``geometry`` (GeometryArray and constructors), ``io`` (shapely, WKT, WKB, GeoArrow,
GeoParquet, GeoJSON, shapefiles, GeoPandas), ``bbox`` (bounding boxes, window queries),
``index`` (the uniform grid over bounding boxes), ``contains`` (point in polygon),
``join`` (spatial joins), ``distance`` (haversine, point-point/linestring/polygon distances,
nearest linestring), ``trajectory`` (trajectories by object id and time: length, speed,
bounding box), ``projection`` (WGS84 <-> local planar, checked against PROJ).
"""

from __future__ import annotations

from .bbox import bbox_overlap_pairs, bounds, points_in_window, total_bounds
from .contains import points_in_polygons
from .distance import (
    EARTH_RADIUS_KM,
    SpatialValueError,
    haversine_distance,
    nearest_linestring,
    point_linestring_distance,
    point_point_distance,
    point_polygon_distance,
)
from .geometry import (
    GEOMETRY_TYPES,
    LINESTRING,
    MULTILINESTRING,
    MULTIPOINT,
    MULTIPOLYGON,
    POINT,
    POLYGON,
    Edges,
    GeometryArray,
    GeometryError,
    boxes,
    concat_geometries,
    linestrings,
    multipolygons,
    points,
    polygons,
)
from .index import GridIndex
from .io import (
    from_arrow,
    from_geopandas,
    from_shapely,
    from_wkb,
    from_wkt,
    read_file,
    read_geoparquet,
    to_arrow,
    to_geopandas,
    to_shapely,
    to_wkb,
    to_wkt,
    write_file,
    write_geoparquet,
)
from .join import sjoin
from .projection import cartesian_to_lonlat, lonlat_to_cartesian, proj_string
from .trajectory import (
    Trajectories,
    derive_trajectories,
    trajectory_bounding_boxes,
    trajectory_distances_and_speeds,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "GEOMETRY_TYPES",
    "LINESTRING",
    "MULTILINESTRING",
    "MULTIPOINT",
    "MULTIPOLYGON",
    "POINT",
    "POLYGON",
    "Edges",
    "GeometryArray",
    "GeometryError",
    "GridIndex",
    "SpatialValueError",
    "Trajectories",
    "bbox_overlap_pairs",
    "bounds",
    "boxes",
    "cartesian_to_lonlat",
    "concat_geometries",
    "derive_trajectories",
    "from_arrow",
    "from_geopandas",
    "from_shapely",
    "from_wkb",
    "from_wkt",
    "haversine_distance",
    "linestrings",
    "lonlat_to_cartesian",
    "multipolygons",
    "nearest_linestring",
    "point_linestring_distance",
    "point_point_distance",
    "point_polygon_distance",
    "points",
    "points_in_polygons",
    "points_in_window",
    "polygons",
    "proj_string",
    "read_file",
    "read_geoparquet",
    "sjoin",
    "to_arrow",
    "to_geopandas",
    "to_shapely",
    "to_wkb",
    "to_wkt",
    "total_bounds",
    "trajectory_bounding_boxes",
    "trajectory_distances_and_speeds",
    "write_file",
    "write_geoparquet",
]
