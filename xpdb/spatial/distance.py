"""Distances on ``xp``: great-circle (haversine) and planar point-point, point-linestring,
point-polygon distances, and the nearest linestring to each point.

Planar distances follow shapely (GEOS) to rounding (GEOS's point-segment formula): the
distance between two geometries is the smallest Euclidean distance between any of their
points, a point inside a polygon or on its boundary is at distance 0, and an empty geometry
(a point with NaN coordinates, a linestring or polygon without coordinates) or a null row
gives NaN. A point within rounding of a polygon's edge (distance ~1e-16) may be classified
inside by one and outside by the other; exactly representable boundary points give 0 in both.

Linestrings and polygons are the GeoArrow containers of :mod:`xpdb.spatial.geometry`
(coordinates ``x``, ``y`` plus offsets); points are plain ``x``, ``y`` arrays. Every
function works segment by segment: each (point, segment) pair is one element of a flat
array, distances are reduced per pair with a scatter-min, and the segments are processed in
chunks of :data:`CHUNK_ELEMENTS` (CPU) or :data:`GPU_CHUNK_ELEMENTS` elements, so memory stays
bounded whatever the input size.

Examples
--------
>>> import numpy as np
>>> from xpdb.spatial.distance import haversine_distance
>>> d = haversine_distance(np.array([-0.1278]), np.array([51.5074]),
...                        np.array([2.3522]), np.array([48.8566]))
>>> round(float(d[0]), 1)  # London to Paris, km
343.6
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ..device import Device, device_of, get_device
from ..errors import TypeError as XpdbTypeError
from ..errors import XpdbError
from ..kernels._xp import bincount, cached_kernel, is_numpy, scatter_min, to_host

__all__ = [
    "CHUNK_ELEMENTS",
    "EARTH_RADIUS_KM",
    "GPU_CHUNK_ELEMENTS",
    "SpatialValueError",
    "as_coordinates",
    "haversine_distance",
    "nearest_linestring",
    "point_linestring_distance",
    "point_point_distance",
    "point_polygon_distance",
]

#: Mean radius of the Earth (IUGG R1 = (2a + b) / 3 of WGS84), in kilometres.
EARTH_RADIUS_KM = 6371.0088

#: Elements (point-segment pairs) one chunk may hold on the CPU and on a GPU. A chunk takes
#: about 150 bytes per element in temporaries, so 2**20 elements is ~160 MB on the CPU and
#: 2**25 elements ~5 GB on a GPU (large enough for each kernel launch to do real work).
CHUNK_ELEMENTS = 1 << 20
GPU_CHUNK_ELEMENTS = 1 << 25


class SpatialValueError(XpdbError, ValueError):
    """Spatial inputs have the wrong shape, length or values."""


# -- inputs ------------------------------------------------------------------------------


def _is_device_array(value: Any) -> bool:
    return type(value).__module__.startswith("cupy")


def _xpdb_column(value: Any) -> Any:
    """The Column behind an xpdb Column or Series."""
    col = getattr(value, "_col", None)
    return value if col is None else col


def _to_array(value: Any) -> Any:
    """An array, CuPy array, xpdb Column/Series, pandas Series or scalar as an array."""
    mod = type(value).__module__
    if _is_device_array(value):
        return value
    if mod.startswith("xpdb"):
        col = _xpdb_column(value)
        data = getattr(col, "data", None)
        if data is None:
            raise XpdbTypeError(f"cannot use {type(value).__name__} as coordinates; pass an "
                                "array, a Series or an xpdb Column")
        validity = getattr(col, "validity", None)
        if validity is not None:  # nulls become NaN: an empty point, as in GeoArrow
            xp = col.device.xp
            data = xp.where(validity, data.astype(np.float64), np.nan)
        return data
    if hasattr(value, "to_numpy"):  # pandas
        arr = value.to_numpy()
        if arr.dtype.kind == "O":  # nullable numbers: NA becomes NaN (strings stay)
            try:
                return value.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                return arr
        return arr
    return np.asarray(value)


def as_coordinates(
    *values: Any, names: tuple[str, ...] | None = None, device: Device | str | None = None
) -> tuple[Any, list[Any]]:
    """Turn coordinate inputs into float64 arrays of one shape on one device.

    Parameters
    ----------
    *values : array-like or scalar
        NumPy/CuPy arrays, lists, pandas or xpdb Series/Columns (nulls become NaN), scalars.
        Scalars and length-1 arrays broadcast against the others.
    names : tuple of str, optional
        Argument names for error messages.
    device : Device or str, optional
        Where the result lives; by default the GPU holding any CuPy input, else the CPU.

    Returns
    -------
    (xp, list of arrays)
        The namespace and the 1-d float64 arrays, all of the same length.

    Raises
    ------
    SpatialValueError
        When the inputs are not 1-d or their lengths differ (and none is a scalar).
    """
    names = names or tuple(f"argument {i + 1}" for i in range(len(values)))
    arrays = [_to_array(v) for v in values]
    if device is not None:
        dev = get_device(device)
    else:
        on_gpu = [a for a in arrays if _is_device_array(a)]
        dev = device_of(on_gpu[0]) if on_gpu else get_device("cpu")
    xp = dev.xp
    out = []
    for name, a in zip(names, arrays, strict=True):
        if a.dtype.kind not in "biuf":
            raise XpdbTypeError(f"{name} must hold numbers (coordinates), not dtype {a.dtype}; "
                                "convert it with astype(float)")
        if a.ndim > 1:
            raise SpatialValueError(f"{name} must be 1-d but has shape {tuple(a.shape)}; "
                                    "pass one coordinate per element")
        out.append(dev.asarray(a).astype(np.float64, copy=False).reshape(-1))
    sizes = {int(a.shape[0]) for a, v in zip(out, arrays, strict=True) if v.ndim == 1}
    sizes.discard(1)
    if len(sizes) > 1:
        shown = ", ".join(f"{n}: {int(a.shape[0])}" for n, a in zip(names, out, strict=True))
        raise SpatialValueError(f"coordinate arrays differ in length ({shown}); "
                                "pass arrays of one length or scalars")
    n = sizes.pop() if sizes else max((int(a.shape[0]) for a in out), default=0)
    out = [a if int(a.shape[0]) == n else xp.broadcast_to(a, (n,)) for a in out]
    return xp, out


# -- great-circle distance -----------------------------------------------------------------


def haversine_distance(
    lon1: Any, lat1: Any, lon2: Any, lat2: Any, *, radius: float = EARTH_RADIUS_KM
) -> Any:
    """Great-circle distance between pairs of points on a sphere, in kilometres.

    The haversine distance, computed in the equivalent form
    ``R atan2(|n1 x n2|, n1 . n2)`` of the two points' unit vectors (Vincenty's special
    case for a sphere), which keeps an absolute error of a few ``R * eps`` (nanometres)
    everywhere: the textbook ``2 R asin(sqrt(h))`` loses up to 0.1 m near antipodal
    points. Longitudes need not be normalized (crossing the antimeridian is fine); at a
    pole the longitude is irrelevant.

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : array-like or scalar
        Longitudes and latitudes in degrees (WGS84 or any spherical approximation), on the
        same device; scalars broadcast.
    radius : float, default :data:`EARTH_RADIUS_KM`
        Sphere radius in the unit of the result (6371.0088 km, the Earth's mean radius;
        the spherical model is within 0.5 % of the WGS84 ellipsoid's geodesic distance).

    Returns
    -------
    array of float64
        One distance per pair on the inputs' device; NaN where a coordinate is NaN.

    Raises
    ------
    SpatialValueError
        When a latitude lies outside [-90, 90] (longitude and latitude swapped?), or the
        inputs' lengths differ.

    Examples
    --------
    >>> import numpy as np
    >>> from xpdb.spatial.distance import haversine_distance
    >>> haversine_distance([179.5, 0.0], [0.0, 90.0], [-179.5, 45.0], [0.0, 90.0]).round(3)
    array([111.195,   0.   ])
    """
    xp, (lo1, la1, lo2, la2) = as_coordinates(
        lon1, lat1, lon2, lat2, names=("lon1", "lat1", "lon2", "lat2"))
    for name, lat in (("lat1", la1), ("lat2", la2)):
        _check_latitude(xp, name, lat)
    if is_numpy(xp) or la1.shape[0] == 0:
        return _haversine_xp(xp, lo1, la1, lo2, la2, radius)
    return _haversine_kernel(xp, la1.device.id)(lo1, la1, lo2, la2, float(radius))


def _haversine_xp(xp: Any, lo1: Any, la1: Any, lo2: Any, la2: Any, radius: float) -> Any:
    """The great-circle distance as array expressions (the NumPy twin of the CUDA kernel)."""
    rad = math.pi / 180.0
    out = xp.empty(la1.shape[0], dtype=np.float64)
    # chunks bound the temporaries (about ten arrays per chunk) for 100M-pair inputs
    step = _chunk_size(xp)
    for start in range(0, int(la1.shape[0]), step):
        s = slice(start, start + step)
        p1 = la1[s] * rad
        p2 = la2[s] * rad
        dl = (lo2[s] - lo1[s]) * rad
        s1, c1, s2, c2 = xp.sin(p1), xp.cos(p1), xp.sin(p2), xp.cos(p2)
        cd = xp.cos(dl)
        num = xp.hypot(c2 * xp.sin(dl), c1 * s2 - s1 * c2 * cd)
        den = s1 * s2 + c1 * c2 * cd
        out[s] = xp.arctan2(num, den) * radius
    return out


_HAVERSINE_NAME = "xpdb_spatial_haversine_f64"
_HAVERSINE_SRC = f"""
const double rad = {math.pi / 180.0!r};
double s1, c1, s2, c2, sd, cd;
sincos(lat1 * rad, &s1, &c1);
sincos(lat2 * rad, &s2, &c2);
sincos((lon2 - lon1) * rad, &sd, &cd);
d = atan2(hypot(c2 * sd, c1 * s2 - s1 * c2 * cd), s1 * s2 + c1 * c2 * cd) * radius;
"""


def _haversine_kernel(xp: Any, dev_id: int) -> Any:
    """One fused CUDA kernel: reads the four inputs once, no temporaries (memory-bound)."""
    return cached_kernel(
        (_HAVERSINE_NAME, dev_id),
        lambda: xp.ElementwiseKernel(
            "float64 lon1, float64 lat1, float64 lon2, float64 lat2, float64 radius",
            "float64 d",
            _HAVERSINE_SRC,
            _HAVERSINE_NAME,
        ),
    )


def _check_latitude(xp: Any, name: str, lat: Any) -> None:
    if lat.shape[0] == 0:
        return
    bad = xp.abs(lat) > 90.0
    if bool(bad.any()):
        first = float(lat[xp.argmax(bad)])
        raise SpatialValueError(
            f"{name} holds {first!r}, outside [-90, 90] degrees; pass longitude before "
            "latitude (haversine_distance(lon1, lat1, lon2, lat2))")


def _chunk_size(xp: Any) -> int:
    return CHUNK_ELEMENTS if xp is np else GPU_CHUNK_ELEMENTS


# -- planar distances ----------------------------------------------------------------------


def point_point_distance(x1: Any, y1: Any, x2: Any, y2: Any) -> Any:
    """Euclidean distance between pairs of points (``shapely.distance`` on points).

    Parameters
    ----------
    x1, y1, x2, y2 : array-like or scalar
        Planar coordinates; a point with NaN coordinates is empty and gives NaN.

    Returns
    -------
    array of float64

    Examples
    --------
    >>> from xpdb.spatial.distance import point_point_distance
    >>> point_point_distance([0.0, 1.0], [0.0, 1.0], [3.0, 1.0], [4.0, 1.0])
    array([5., 0.])
    """
    xp, (ax, ay, bx, by) = as_coordinates(x1, y1, x2, y2, names=("x1", "y1", "x2", "y2"))
    return xp.hypot(bx - ax, by - ay)


def _segment_distance2(xp: Any, px: Any, py: Any, ax: Any, ay: Any, bx: Any, by: Any) -> Any:
    """Squared distance from points ``p`` to segments ``a-b`` (elementwise), as GEOS.

    The projection ``dot = (p - a).(b - a)`` picks the end point ``a`` (``dot <= 0``, which
    also covers a zero-length segment), the end point ``b`` (``dot >= |b - a|²``) or the
    perpendicular distance ``cross² / |b - a|²``, which is exactly 0 for a point on the
    segment. Squares keep the per-element work to products (one square root per result).
    """
    dx = bx - ax
    dy = by - ay
    ex = px - ax
    ey = py - ay
    len2 = dx * dx
    len2 += dy * dy
    dot = ex * dx
    dot += ey * dy
    cross = ex * dy
    cross -= ey * dx
    cross *= cross
    cross /= xp.where(len2 == 0, 1.0, len2)
    ex *= ex
    ey *= ey
    ex += ey  # squared distance to a
    fx = px - bx
    fy = py - by
    fx *= fx
    fy *= fy
    fx += fy  # squared distance to b
    return xp.where(dot <= 0, ex, xp.where(dot >= len2, fx, cross))


def _crossings(px: Any, py: Any, ax: Any, ay: Any, bx: Any, by: Any) -> Any:
    """True where a ray from ``p`` towards +x crosses segment ``a-b`` (even-odd rule)."""
    straddle = (ay > py) != (by > py)
    dy = by - ay
    safe = dy + (dy == 0)  # dy is non-zero wherever straddle holds
    xint = ax + (py - ay) * (bx - ax) / safe
    return straddle & (px < xint)


def _check_geoms(geoms: Any, allowed: tuple[str, ...], func: str) -> None:
    from .geometry import GeometryArray

    if not isinstance(geoms, GeometryArray) or geoms.geom_type not in allowed:
        got = getattr(geoms, "geom_type", type(geoms).__name__)
        raise XpdbTypeError(
            f"{func} takes a GeometryArray of {' or '.join(allowed)}, got {got!r}; build one "
            "with xpdb.spatial.linestrings/polygons or from_shapely")


def _edge_offsets(xp: Any, geoms: Any) -> tuple[Any, Any]:
    """The edges of ``geoms`` and offsets geometry -> edges (edges are ordered by row)."""
    e = geoms.edges()
    rows = xp.arange(len(geoms) + 1, dtype=np.int64)
    return e, xp.searchsorted(e.geom, rows, side="left").astype(np.int64, copy=False)


def _pair_chunks(xp: Any, lens: Any, step: int) -> list[tuple[int, int]]:
    """Ranges of pairs whose expanded segment counts add up to about ``step`` each.

    A single pair with more than ``step`` segments gets a range of its own.
    """
    k = int(lens.shape[0])
    if k == 0:
        return []
    cum = xp.cumsum(lens)
    total = int(cum[-1])
    if total <= step:
        return [(0, k)]
    targets = xp.arange(step, total, step, dtype=np.int64)
    cuts = xp.searchsorted(cum, targets, side="right")
    host = sorted({int(c) for c in to_host(xp, cuts).tolist()} | {0, k})
    return list(itertools.pairwise(host))


def _pair_distance(xp: Any, px: Any, py: Any, geoms: Any, pi: Any, gi: Any) -> Any:
    """Distance from point ``pi[k]`` to geometry ``gi[k]`` for every pair ``k``.

    Each pair expands into one element per segment of its geometry (segment-expanded
    pairs), distances are reduced per pair with a scatter-min, and for polygons the even-odd
    count of ring crossings of a ray from the point decides whether it lies inside (then the
    distance is 0, as in shapely). Pairs are processed in chunks of about
    :data:`CHUNK_ELEMENTS` segments.
    """
    from .geometry import expand_ranges

    k = int(pi.shape[0])
    out = xp.full(k, np.inf)
    if k == 0:
        return out
    polygonal = geoms.is_polygonal
    e, eoff = _edge_offsets(xp, geoms)
    starts = eoff[gi]
    lens = eoff[gi + 1] - starts
    inside = xp.zeros(k, dtype=bool) if polygonal else None
    for a, b in _pair_chunks(xp, lens, _chunk_size(xp)):
        lc = lens[a:b]
        edge = expand_ranges(xp, starts[a:b], lc)
        if edge.shape[0] == 0:
            continue
        local = xp.repeat(xp.arange(b - a, dtype=np.int64), lc)
        p = pi[a:b][local]
        qx, qy = px[p], py[p]
        ax, ay, bx, by = e.x0[edge], e.y0[edge], e.x1[edge], e.y1[edge]
        d2 = _segment_distance2(xp, qx, qy, ax, ay, bx, by)
        d2[xp.isnan(d2)] = np.inf  # empty points: NaN below, without NaN in the scatter-min
        best = xp.full(b - a, np.inf)
        scatter_min(xp, best, local, d2)
        out[a:b] = xp.sqrt(best)
        if polygonal:
            cross = _crossings(qx, qy, ax, ay, bx, by)
            counts = bincount(xp, local, b - a, weights=cross.astype(np.float64))
            inside[a:b] = (counts % 2) == 1
    if polygonal:
        out[inside] = 0.0
    # empty geometries keep +inf; empty (NaN) points and null rows are NaN, as in shapely
    bad = xp.isinf(out) | xp.isnan(px[pi]) | xp.isnan(py[pi]) | ~geoms.valid_mask()[gi]
    out[bad] = np.nan
    return out


def _pairwise(x: Any, y: Any, geoms: Any, func: str) -> Any:
    xp, (px, py) = as_coordinates(x, y, names=("x", "y"), device=geoms.device)
    n, m = int(px.shape[0]), len(geoms)
    if n != m and 1 not in (n, m):
        raise SpatialValueError(
            f"{func}: {n} points and {m} geometries; pass as many points as geometries "
            "(pairwise), or one of either to measure against all of the other")
    k = max(n, m)
    pi = xp.arange(k, dtype=np.int64) if n == k else xp.zeros(k, dtype=np.int64)
    gi = xp.arange(k, dtype=np.int64) if m == k else xp.zeros(k, dtype=np.int64)
    if n == 0 or m == 0:
        return xp.zeros(0, dtype=np.float64)
    return _pair_distance(xp, px, py, geoms, pi, gi)


def point_linestring_distance(x: Any, y: Any, linestrings: Any) -> Any:
    """Distance from each point to the linestring of the same row (``shapely.distance``).

    Parameters
    ----------
    x, y : array-like
        Point coordinates (NaN: an empty point); moved to the linestrings' device.
    linestrings : GeometryArray
        Linestrings or multilinestrings, as many as points, or a single one (measured
        against every point), or any number with a single point.

    Returns
    -------
    array of float64
        One distance per pair on the linestrings' device; NaN for an empty point, an empty
        or null linestring.

    Raises
    ------
    SpatialValueError
        When the point and linestring counts differ and neither is 1.
    xpdb.errors.TypeError
        When ``linestrings`` is not a linestring or multilinestring array.

    Examples
    --------
    >>> from xpdb.spatial.geometry import linestrings
    >>> from xpdb.spatial.distance import point_linestring_distance
    >>> lines = linestrings([0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 0.0, 10.0], offsets=[0, 2, 4])
    >>> point_linestring_distance([5.0, 3.0], [2.0, 4.0], lines)
    array([2., 3.])
    """
    _check_geoms(linestrings, ("linestring", "multilinestring"), "point_linestring_distance")
    return _pairwise(x, y, linestrings, "point_linestring_distance")


def point_polygon_distance(x: Any, y: Any, polygons: Any) -> Any:
    """Distance from each point to the polygon of the same row; 0 inside (``shapely.distance``).

    A point inside a polygon (by the even-odd rule over all its rings, so holes are outside)
    or on its boundary is at distance 0; otherwise the distance is the one to the nearest
    ring segment.

    Parameters
    ----------
    x, y : array-like
        Point coordinates (NaN: an empty point); moved to the polygons' device.
    polygons : GeometryArray
        Polygons or multipolygons, as many as points, or a single one (measured against
        every point), or any number with a single point.

    Returns
    -------
    array of float64
        One distance per pair; NaN for an empty point, an empty or null polygon.

    Examples
    --------
    >>> from xpdb.spatial.geometry import boxes
    >>> from xpdb.spatial.distance import point_polygon_distance
    >>> sq = boxes([0.0], [0.0], [4.0], [4.0])
    >>> point_polygon_distance([1.0, 7.0, 4.0], [1.0, 8.0, 2.0], sq)
    array([0., 5., 0.])
    """
    _check_geoms(polygons, ("polygon", "multipolygon"), "point_polygon_distance")
    return _pairwise(x, y, polygons, "point_polygon_distance")


def nearest_linestring(x: Any, y: Any, linestrings: Any) -> tuple[Any, Any]:
    """For each point, the nearest of all linestrings and the distance to it.

    An exact brute-force search: blocks of points against every segment (a dense
    points x segments distance block of at most :data:`CHUNK_ELEMENTS` elements), reduced by
    ``argmin``. Cost is O(points x segments), which a GPU handles well into the 1e10 range;
    with many more segments, first narrow candidates with a spatial index.

    Parameters
    ----------
    x, y : array-like
        Point coordinates; moved to the linestrings' device.
    linestrings : GeometryArray
        Linestrings or multilinestrings; null and empty rows are never nearest.

    Returns
    -------
    (index, distance)
        ``index`` (int64): the row of the nearest linestring, the lowest row among equally
        near ones, -1 for an empty point or when no linestring has a segment;
        ``distance`` (float64): NaN where ``index`` is -1.

    Examples
    --------
    >>> from xpdb.spatial.geometry import linestrings
    >>> from xpdb.spatial.distance import nearest_linestring
    >>> lines = linestrings([0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 0.0, 10.0], offsets=[0, 2, 4])
    >>> idx, dist = nearest_linestring([5.0, 1.0], [2.0, 4.0], lines)
    >>> idx.tolist(), dist.tolist()
    ([0, 1], [2.0, 1.0])
    """
    _check_geoms(linestrings, ("linestring", "multilinestring"), "nearest_linestring")
    xp, (px, py) = as_coordinates(x, y, names=("x", "y"), device=linestrings.device)
    n = int(px.shape[0])
    index = xp.full(n, -1, dtype=np.int64)
    dist = xp.full(n, np.nan)
    e = linestrings.edges()
    keep = linestrings.valid_mask()[e.geom]
    ax, ay, bx, by, geom = e.x0[keep], e.y0[keep], e.x1[keep], e.y1[keep], e.geom[keep]
    s = int(ax.shape[0])
    if s == 0 or n == 0:
        return index, dist
    block = max(1, _chunk_size(xp) // s)
    for start in range(0, n, block):
        sl = slice(start, min(start + block, n))
        qx, qy = px[sl][:, None], py[sl][:, None]
        d2 = _segment_distance2(xp, qx, qy, ax[None, :], ay[None, :], bx[None, :], by[None, :])
        j = xp.argmin(d2, axis=1)
        dist[sl] = xp.sqrt(xp.take_along_axis(d2, j[:, None], axis=1)[:, 0])
        index[sl] = geom[j]
    empty = xp.isnan(px) | xp.isnan(py)
    index[empty] = -1
    dist[empty] = np.nan
    return index, dist
