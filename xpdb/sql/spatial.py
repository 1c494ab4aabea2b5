"""Spatial SQL: the ``geometry`` column type's ``ST_*`` functions and the indexed spatial join.

Geometry columns (:mod:`xpdb.spatial.column`) hold int64 ids into a GeometryArray, so every
function computes on the distinct geometries where it can (``ST_GeomFromText`` parses each
distinct text once, ``ST_Area`` measures each geometry once) and gathers through the ids.
A string argument where a geometry is expected is parsed as WKT (DuckDB's implicit cast),
so geometry can come straight from a WKT text column.

Functions (semantics as shapely, planar; NULL in, NULL out):

=====================================  ==================================================
``ST_Point(x, y)``                     points from two numeric columns (vectorized)
``ST_GeomFromText(wkt)``               WKT text (needs shapely); one geometry type per column
``ST_GeomFromWKB(wkb)``                WKB as hex text or a blob constant (needs shapely)
``ST_AsText(g)``                       WKT text (needs shapely)
``ST_Contains(a, b)``                  no point of b outside a, some of b's interior in
                                       a's interior (a point on a's boundary is not
                                       inside; a polygon contains itself)
``ST_Within(a, b)``                    ``ST_Contains(b, a)``
``ST_Intersects(a, b)``                interior or boundary shared
``ST_Distance(a, b)``                  planar distance (point to point/line/polygon)
``ST_DWithin(a, b, d)``                ``ST_Distance(a, b) <= d``
``ST_Area(g)``, ``ST_Length(g)``       polygon area (0 for others); line length (0 for
                                       points and polygons, as PostGIS and DuckDB)
``ST_X(p)``, ``ST_Y(p)``               a point's coordinates (NULL for an empty point)
``ST_Centroid(g)``                     area / length weighted centroid (a point)
``ST_Envelope(g)``                     bounding box polygon (points stay points)
``haversine(lon1, lat1, lon2, lat2)``  great-circle distance in km (also ``ST_Haversine``)
=====================================  ==================================================

Predicates support point/polygon in either order and polygon/polygon ``ST_Intersects``,
``ST_Contains`` and ``ST_Within`` (:mod:`xpdb.spatial.polygon_relate`); other
combinations raise NotSupportedError naming them.

The spatial join (:func:`spatial_join`, called by the executor for a join without
equality keys): an ON (or WHERE) term ``ST_Contains``/``ST_Within``/``ST_Intersects``
between a geometry of one side and a geometry of the other runs as
:func:`xpdb.spatial.points_in_polygons` (a grid index over the polygons) or
:func:`xpdb.spatial.join.polygons_intersect` or
:func:`xpdb.spatial.polygon_relate.polygons_contain`, never as a cross product; ``ST_DWithin(a, b,
d)`` with a constant ``d`` finds candidates as points in the other side's boxes grown by
``d``, then checks the exact distance. Outer joins add their unmatched rows as usual.
EXPLAIN ANALYZE lists each spatial join below the plan.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from sqlglot import exp

from .. import types as t
from ..column import Column
from ..errors import NotSupportedError
from ..errors import TypeError as XTypeError
from ..spatial import column as gcol
from ..spatial.contains import PolygonEdges, pair_test, points_in_polygons
from ..spatial.geometry import POINT, GeometryArray, boxes, points, segment_ids
from .expressions import Context, Value, as_column, evaluate
from .functions import Function, function_name, positional_args

# -- argument handling ---------------------------------------------------------------------


def _geometry(v: Value, ctx: Context, fname: str) -> Column:
    """``v`` as a geometry column: geometry as is, text parsed as WKT."""
    if isinstance(v, Column) and v.dtype.kind == "geometry":
        return v
    if isinstance(v, str) or (isinstance(v, Column) and v.dtype.is_string):
        return _from_text(as_column(v, ctx), ctx)
    got = v.dtype if isinstance(v, Column) else type(v).__name__
    msg = (f"{fname}() takes a geometry, got {got}; build one with ST_Point(x, y) or "
           "ST_GeomFromText(wkt)")
    raise XTypeError(msg)


def _floats(v: Value, ctx: Context, fname: str) -> Column:
    col = as_column(v, ctx)
    if not (col.dtype.is_numeric or col.dtype.is_bool):
        msg = f"{fname}() takes numbers, got {col.dtype}; cast the argument to DOUBLE"
        raise XTypeError(msg)
    if col.dtype != t.float64:
        from ..kernels.cast import cast

        col = cast(col, t.float64)
    return col


def _both_valid(*cols: Column) -> Any:
    valid = None
    for c in cols:
        if c.validity is not None:
            valid = c.validity if valid is None else valid & c.validity
    return valid


def _per_row(col: Column, values: Any, dtype: t.DataType, valid: Any = None) -> Column:
    """A column of ``values`` (one per distinct geometry) gathered through ``col``'s ids."""
    xp = col.xp
    data = values[col.data] if len(col) else xp.zeros(0, values.dtype)
    v = gcol.validity_of(col)
    if valid is not None and len(col):
        v = v & valid[col.data]
    return Column(dtype, data, v, None, col.device)


def _same_ids(col: Column, geoms: GeometryArray) -> Column:
    """A geometry column with ``col``'s ids over ``geoms`` (one entry per distinct one)."""
    return Column(t.geometry, col.data, col.validity, geoms, col.device)  # type: ignore[arg-type]


# -- constructors and conversions ----------------------------------------------------------


def _st_point(x: Value, y: Value, *, ctx: Context) -> Value:
    if x is None or y is None:
        return None
    xc, yc = _floats(x, ctx, "ST_Point"), _floats(y, ctx, "ST_Point")
    return gcol.geometry_column(points(xc.data, yc.data, device=ctx.device), _both_valid(xc, yc))


def _from_text(col: Column, ctx: Context) -> Column:
    from ..spatial.io import from_wkt

    if not col.dtype.is_string:
        raise XTypeError(f"ST_GeomFromText() takes text (WKT), got {col.dtype}")
    try:
        geoms = from_wkt(col.dictionary.to_numpy(zero_copy_only=False), ctx.device)
    except ImportError as e:
        raise NotSupportedError(f"ST_GeomFromText needs shapely: {e}") from e
    except XTypeError as e:
        msg = (f"ST_GeomFromText: a geometry column holds one type (points, or polygons "
               f"and multipolygons...), but the text mixes types: {e}; filter by type first")
        raise XTypeError(msg) from e
    return Column(t.geometry, col.data.astype(np.int64), col.validity,
                  _at_least_one(geoms), col.device)  # type: ignore[arg-type]


def _at_least_one(geoms: GeometryArray) -> GeometryArray:
    """``geoms``, or one null point when it is empty: the ids under null rows are 0 and
    must point somewhere (an all-null text column has an empty dictionary)."""
    if len(geoms):
        return geoms
    return points([np.nan], [np.nan], validity=[False], device=geoms.device)


def _st_geomfromtext(v: Value, *, ctx: Context) -> Value:
    return _from_text(as_column(v, ctx), ctx)


def _st_geomfromwkb(v: Value, *, ctx: Context) -> Value:
    from ..spatial.io import from_wkb

    if isinstance(v, bytes | bytearray):
        blobs = np.array([bytes(v)], dtype=object)
        codes = ctx.device.xp.zeros(ctx.n, dtype=np.int64)
        validity = None
    else:
        col = as_column(v, ctx)
        if not col.dtype.is_string:
            msg = (f"ST_GeomFromWKB() takes WKB as hex text or a blob constant, got "
                   f"{col.dtype}")
            raise XTypeError(msg)
        try:
            blobs = np.array([bytes.fromhex(s) for s in col.dictionary.to_pylist()], object)
        except ValueError as e:
            raise XTypeError(f"ST_GeomFromWKB(): the text is not hexadecimal WKB: {e}") from e
        codes, validity = col.data.astype(np.int64), col.validity
    try:
        geoms = from_wkb(blobs, ctx.device)
    except ImportError as e:
        raise NotSupportedError(f"ST_GeomFromWKB needs shapely: {e}") from e
    return Column(t.geometry, codes, validity, _at_least_one(geoms),
                  ctx.device)  # type: ignore[arg-type]


def _st_astext(v: Value, *, ctx: Context) -> Value:
    from ..kernels.strings import from_lookup
    from ..spatial.io import to_wkt

    col = _geometry(v, ctx, "ST_AsText")
    try:
        text = to_wkt(col.dictionary)  # type: ignore[arg-type]
    except ImportError as e:
        raise NotSupportedError(f"ST_AsText needs shapely: {e}") from e
    text = np.where(np.equal(text, None), "", text)
    return from_lookup(ctx.device, col.data, gcol.validity_of(col), pa.array(text, pa.string()),
                       t.string)


# -- predicates ----------------------------------------------------------------------------


def relate(predicate: str, a: Column, b: Column) -> Column:
    """Row-wise ``predicate(a[i], b[i])`` for geometry columns (bool, NULL where either is).

    ``predicate`` is ``contains``, ``within`` or ``intersects`` (shapely's semantics).
    """
    if predicate == "within":
        return relate("contains", b, a)
    ga: GeometryArray = a.dictionary  # type: ignore[assignment]
    gb: GeometryArray = b.dictionary  # type: ignore[assignment]
    xp = a.xp
    valid = gcol.validity_of(a) & gcol.validity_of(b)
    n = len(a)
    out = xp.zeros(n, dtype=bool)
    ia, ib = a.data, b.data
    if ga.is_polygonal and gb.geom_type == POINT:
        px, py = gb.x[ib], gb.y[ib]
        sel = xp.nonzero(valid & ~xp.isnan(px) & ~xp.isnan(py))[0]
        if sel.shape[0]:
            out[sel] = pair_test(px[sel], py[sel], ia[sel], PolygonEdges(ga), predicate)
    elif ga.geom_type == POINT and gb.is_polygonal:
        if predicate == "intersects":
            return relate("intersects", b, a)
        # a point never contains a polygon (shapely: polygons have area): all False
    elif ga.geom_type == POINT and gb.geom_type == POINT:
        out = (ga.x[ia] == gb.x[ib]) & (ga.y[ia] == gb.y[ib])
    elif ga.is_polygonal and gb.is_polygonal and predicate == "intersects":
        sel = xp.nonzero(valid)[0]
        if sel.shape[0]:
            out[sel] = _polygon_pairs_intersect(ga, gb, ia[sel], ib[sel])
    elif ga.is_polygonal and gb.is_polygonal:
        from ..spatial.polygon_relate import contains_pairs

        sel = xp.nonzero(valid)[0]
        if sel.shape[0]:
            out[sel] = contains_pairs(ga, gb, ia[sel], ib[sel])
    else:
        msg = (f"ST_{predicate.capitalize()}({ga.geom_type}, {gb.geom_type}) is not supported "
               "yet; supported: point/polygon in either order, polygon/polygon")
        raise NotSupportedError(msg)
    return Column(t.bool_, out & valid, valid, None, a.device)


def _polygon_pairs_intersect(ga: GeometryArray, gb: GeometryArray, li: Any, ri: Any) -> Any:
    """Bool per pair (``ga[li[k]]``, ``gb[ri[k]]``): the test of
    :func:`xpdb.spatial.join.polygons_intersect` on given pairs (boxes first)."""
    from ..spatial.bbox import bounds
    from ..spatial.join import (
        EDGE_PAIR_BUDGET,
        EDGE_PAIR_BUDGET_GPU,
        _edges_meet,
        _ring_vertex_inside,
    )

    xp = ga.xp
    lb, rb = bounds(ga), bounds(gb)
    out = xp.zeros(li.shape[0], dtype=bool)
    near = xp.nonzero((lb[0][li] <= rb[2][ri]) & (rb[0][ri] <= lb[2][li])
                      & (lb[1][li] <= rb[3][ri]) & (rb[1][ri] <= lb[3][li]))[0]
    if near.shape[0] == 0:
        return out
    li, ri = li[near], ri[near]
    le, re_ = PolygonEdges(ga), PolygonEdges(gb)
    hit = _ring_vertex_inside(xp, li, ri, ga, re_)
    rest = xp.nonzero(~hit)[0]
    if rest.shape[0]:
        hit[rest] = _ring_vertex_inside(xp, ri[rest], li[rest], gb, le)
    rest = xp.nonzero(~hit)[0]
    if rest.shape[0]:
        budget = EDGE_PAIR_BUDGET_GPU if ga.device.is_gpu else EDGE_PAIR_BUDGET
        hit[rest] = _edges_meet(xp, li[rest], ri[rest], le, re_, lb, rb, budget)
    out[near] = hit
    return out


def _predicate(name: str) -> Any:
    def run(a: Value, b: Value, *, ctx: Context) -> Value:
        if a is None or b is None:
            return None
        fname = f"ST_{name.capitalize()}"
        return relate(name, _geometry(a, ctx, fname), _geometry(b, ctx, fname))

    return run


# -- measures ------------------------------------------------------------------------------


def distance(a: Column, b: Column) -> Column:
    """Row-wise planar distance (float64; NULL where either is null or empty)."""
    from ..spatial.distance import _pair_distance

    ga: GeometryArray = a.dictionary  # type: ignore[assignment]
    gb: GeometryArray = b.dictionary  # type: ignore[assignment]
    xp = a.xp
    valid = gcol.validity_of(a) & gcol.validity_of(b)
    if ga.geom_type == POINT and gb.geom_type == POINT:
        d = xp.hypot(gb.x[b.data] - ga.x[a.data], gb.y[b.data] - ga.y[a.data])
    elif gb.geom_type == POINT and ga.geom_type != POINT:
        return distance(b, a)
    elif ga.geom_type == POINT and gb.geom_type in ("polygon", "multipolygon", "linestring",
                                                    "multilinestring"):
        d = xp.full(len(a), np.nan)
        sel = xp.nonzero(valid)[0]
        if sel.shape[0]:
            d[sel] = _pair_distance(xp, ga.x, ga.y, gb, a.data[sel], b.data[sel])
    else:
        msg = (f"ST_Distance({ga.geom_type}, {gb.geom_type}) is not supported yet; supported: "
               "a point and a point, linestring or polygon")
        raise NotSupportedError(msg)
    valid = valid & ~xp.isnan(d)
    return Column(t.float64, xp.where(valid, d, 0.0), valid, None, a.device)


def _st_distance(a: Value, b: Value, *, ctx: Context) -> Value:
    if a is None or b is None:
        return None
    return distance(_geometry(a, ctx, "ST_Distance"), _geometry(b, ctx, "ST_Distance"))


def _st_dwithin(a: Value, b: Value, d: Value, *, ctx: Context) -> Value:
    from ..kernels import expr as kx

    if a is None or b is None or d is None:
        return None
    dist = distance(_geometry(a, ctx, "ST_DWithin"), _geometry(b, ctx, "ST_DWithin"))
    return kx.compare("le", dist, d, length=ctx.n, device=ctx.device)


def _ring_sums(geoms: GeometryArray) -> tuple[Any, Any, Any, Any]:
    """Per ring: signed area and the area moments about the ring's first vertex, and that
    vertex (x, y). Coordinates are shifted to the ring's first vertex first (as GEOS), so
    lon/lat-sized offsets do not cost precision."""
    xp = geoms.xp
    e = geoms.edges()
    ro = geoms.ring_offsets()
    nr = geoms.n_rings
    # an empty ring's start may equal n_coords: clip (it has no edges, its origin is unused)
    first = xp.minimum(ro[:-1], max(geoms.n_coords - 1, 0))
    if geoms.n_coords == 0:
        ox = oy = xp.zeros(nr, dtype=np.float64)
    else:
        ox, oy = geoms.x[first], geoms.y[first]
    x0, y0 = e.x0 - ox[e.ring], e.y0 - oy[e.ring]
    x1, y1 = e.x1 - ox[e.ring], e.y1 - oy[e.ring]
    c = x0 * y1 - x1 * y0
    area = _bincount(xp, e.ring, c, nr) / 2.0
    mx = _bincount(xp, e.ring, (x0 + x1) * c, nr) / 6.0
    my = _bincount(xp, e.ring, (y0 + y1) * c, nr) / 6.0
    return area, mx, my, (ox, oy)  # type: ignore[return-value]


def _bincount(xp: Any, idx: Any, weights: Any, n: int) -> Any:
    from ..kernels._xp import bincount

    return bincount(xp, idx, n, weights=weights).astype(np.float64)


def areas(geoms: GeometryArray) -> Any:
    """Area of every geometry (float64; 0 for points and lines; holes subtracted)."""
    xp = geoms.xp
    n = len(geoms)
    if not geoms.is_polygonal:
        return xp.zeros(n, dtype=np.float64)
    area, _, _, _ = _ring_sums(geoms)
    signed = xp.where(geoms.ring_is_shell(), xp.abs(area), -xp.abs(area))
    return _bincount(xp, geoms.ring_geom(), signed, n)


def lengths(geoms: GeometryArray) -> Any:
    """Length of every linestring / multilinestring (0 for points and polygons)."""
    xp = geoms.xp
    n = len(geoms)
    if geoms.geom_type not in ("linestring", "multilinestring"):
        return xp.zeros(n, dtype=np.float64)
    e = geoms.edges()
    return _bincount(xp, e.geom, xp.hypot(e.x1 - e.x0, e.y1 - e.y0), n)


def centroids(geoms: GeometryArray) -> GeometryArray:
    """Centroid of every geometry as a point array (empty point where undefined)."""
    xp = geoms.xp
    n = len(geoms)
    if geoms.geom_type == POINT:
        return geoms
    if geoms.is_polygonal:
        area, mx, my, (ox, oy) = _ring_sums(geoms)
        ok = area != 0
        safe = xp.where(ok, area, 1.0)
        cx, cy = mx / safe + ox, my / safe + oy
        w = xp.where(geoms.ring_is_shell(), xp.abs(area), -xp.abs(area))
        w = xp.where(ok, w, 0.0)
        rg = geoms.ring_geom()
        tot = _bincount(xp, rg, w, n)
        sx = _bincount(xp, rg, w * xp.where(ok, cx, 0.0), n)
        sy = _bincount(xp, rg, w * xp.where(ok, cy, 0.0), n)
    elif geoms.geom_type == "multipoint":
        g = geoms.coord_geom()
        tot = _bincount(xp, g, xp.ones(g.shape[0]), n)
        sx, sy = _bincount(xp, g, geoms.x, n), _bincount(xp, g, geoms.y, n)
    else:
        e = geoms.edges()
        w = xp.hypot(e.x1 - e.x0, e.y1 - e.y0)
        tot = _bincount(xp, e.geom, w, n)
        sx = _bincount(xp, e.geom, w * (e.x0 + e.x1) / 2.0, n)
        sy = _bincount(xp, e.geom, w * (e.y0 + e.y1) / 2.0, n)
    good = tot != 0
    den = xp.where(good, tot, 1.0)
    x = xp.where(good, sx / den, np.nan)
    y = xp.where(good, sy / den, np.nan)
    return points(x, y, geoms.validity, device=geoms.device)


def _measure(fn: Any, fname: str) -> Any:
    def run(v: Value, *, ctx: Context) -> Value:
        col = _geometry(v, ctx, fname)
        return _per_row(col, fn(col.dictionary), t.float64)

    return run


def _coordinate(axis: str) -> Any:
    def run(v: Value, *, ctx: Context) -> Value:
        col = _geometry(v, ctx, f"ST_{axis.upper()}")
        geoms: GeometryArray = col.dictionary  # type: ignore[assignment]
        if geoms.geom_type != POINT:
            msg = f"ST_{axis.upper()}() takes points, got {geoms.geom_type}s"
            raise XTypeError(msg)
        values = geoms.x if axis == "x" else geoms.y
        return _per_row(col, values, t.float64, ~geoms.xp.isnan(values))

    return run


def _st_centroid(v: Value, *, ctx: Context) -> Value:
    col = _geometry(v, ctx, "ST_Centroid")
    return _same_ids(col, centroids(col.dictionary))  # type: ignore[arg-type]


def _st_envelope(v: Value, *, ctx: Context) -> Value:
    col = _geometry(v, ctx, "ST_Envelope")
    geoms: GeometryArray = col.dictionary  # type: ignore[assignment]
    if geoms.geom_type == POINT:
        return col
    x0, y0, x1, y1 = geoms.bounds()
    xp = geoms.xp
    valid = ~xp.isnan(x0)
    env = boxes(*(xp.where(valid, v, 0.0) for v in (x0, y0, x1, y1)), device=geoms.device)
    return _same_ids(col, _drop_rows(env, valid))  # empty and null rows: null


def _haversine(lon1: Value, lat1: Value, lon2: Value, lat2: Value, *, ctx: Context) -> Value:
    from ..spatial.distance import haversine_distance

    if any(v is None for v in (lon1, lat1, lon2, lat2)):
        return None
    cols = [_floats(v, ctx, "haversine") for v in (lon1, lat1, lon2, lat2)]
    valid = _both_valid(*cols)
    d = haversine_distance(*(c.data for c in cols))
    return Column(t.float64, d, valid, None, ctx.device)


FUNCTIONS: dict[str, Function] = {
    "st_point": Function(_st_point, column_first=False, min_args=2, max_args=2),
    "st_geomfromtext": Function(_st_geomfromtext, min_args=1, max_args=1),
    "st_geometryfromtext": Function(_st_geomfromtext, min_args=1, max_args=1),
    "st_geomfromwkb": Function(_st_geomfromwkb, column_first=False, min_args=1, max_args=1),
    "st_astext": Function(_st_astext, column_first=False, min_args=1, max_args=1),
    "st_contains": Function(_predicate("contains"), column_first=False, min_args=2, max_args=2),
    "st_within": Function(_predicate("within"), column_first=False, min_args=2, max_args=2),
    "st_intersects": Function(_predicate("intersects"), column_first=False, min_args=2,
                              max_args=2),
    "st_distance": Function(_st_distance, column_first=False, min_args=2, max_args=2),
    "st_dwithin": Function(_st_dwithin, column_first=False, min_args=3, max_args=3),
    "st_area": Function(_measure(areas, "ST_Area"), column_first=False, max_args=1),
    "st_length": Function(_measure(lengths, "ST_Length"), column_first=False, max_args=1),
    "st_x": Function(_coordinate("x"), column_first=False, max_args=1),
    "st_y": Function(_coordinate("y"), column_first=False, max_args=1),
    "st_centroid": Function(_st_centroid, column_first=False, max_args=1),
    "st_envelope": Function(_st_envelope, column_first=False, max_args=1),
    "haversine": Function(_haversine, column_first=False, min_args=4, max_args=4),
    # sqlglot's own nodes for two of them (their class names, lower case)
    "stpoint": Function(_st_point, column_first=False, min_args=2, max_args=2),
    "stdistance": Function(_st_distance, column_first=False, min_args=2, max_args=2),
    "st_haversine": Function(_haversine, column_first=False, min_args=4, max_args=4),
}


def register() -> None:
    """Add the spatial functions to the SQL registry (idempotent)."""
    from .functions import FUNCTIONS as REGISTRY

    for name, entry in FUNCTIONS.items():
        REGISTRY.setdefault(name, entry)


register()


# -- the spatial join ----------------------------------------------------------------------

_JOIN_PREDICATES = ("st_contains", "st_within", "st_intersects", "st_dwithin")


def spatial_join(ex: Any, left: Any, right: Any, residual: list[exp.Expression], kind: str
                 ) -> tuple[Any, Any, list[exp.Expression]] | None:
    """Matching ``(left rows, right rows)`` of a join from a spatial term of ``residual``
    (see the module docstring), and the terms still to check; None when no term is a
    spatial predicate between the two sides (the executor then joins as before).

    Parameters
    ----------
    ex : Executor
    left, right : Relation
    residual : list of sqlglot expressions
        The join's conditions that are not equalities between the sides.
    kind : str
        The join kind; outer joins add their unmatched rows afterwards (executor).
    """
    from .executor import _side

    if kind not in ("inner", "cross", "left", "right", "outer"):
        return None
    for term in residual:
        name = function_name(term) if isinstance(term, exp.Func) else ""
        if name not in _JOIN_PREDICATES:
            continue
        args = positional_args(term)
        sides = [_side(a, left.scope, right.scope) for a in args[:2]]
        if sorted(s or "" for s in sides) != ["l", "r"]:
            continue
        if name == "st_dwithin" and (len(args) != 3 or args[2].find(exp.Column) is not None):
            continue
        lctx, rctx = ex.context(left), ex.context(right)
        geo = [_geometry(evaluate(a, lctx if s == "l" else rctx),
                         lctx if s == "l" else rctx, name) for a, s in zip(args[:2], sides,
                                                                          strict=True)]
        dist = None
        if name == "st_dwithin":
            dist = evaluate(args[2], lctx)
            if isinstance(dist, Column) or dist is None:
                continue
        pairs = _pairs(name, geo[0], geo[1], dist)
        if pairs is None:
            continue
        first, second, note = pairs
        li, ri = (first, second) if sides[0] == "l" else (second, first)
        ex.notes.append(f"Spatial join on {term.sql(dialect='duckdb')}: {note}, "
                        f"{int(li.shape[0]):,} pairs")
        rest = [r for r in residual if r is not term or name == "st_dwithin"]
        return li, ri, rest
    return None


def _point_coords(col: Column) -> tuple[Any, Any]:
    geoms: GeometryArray = col.dictionary  # type: ignore[assignment]
    xp = col.xp
    valid = gcol.validity_of(col)
    x, y = geoms.x[col.data], geoms.y[col.data]
    return xp.where(valid, x, np.nan), xp.where(valid, y, np.nan)


def _pairs(name: str, a: Column, b: Column, dist: Any) -> tuple[Any, Any, str] | None:
    """Index pairs (rows of ``a``, rows of ``b``) where ``name(a, b)`` may hold (exactly
    for contains/within/intersects, candidates for dwithin); None when not indexable."""
    ga: GeometryArray = a.dictionary  # type: ignore[assignment]
    gb: GeometryArray = b.dictionary  # type: ignore[assignment]
    if name == "st_within":
        out = _pairs("st_contains", b, a, dist)
        return None if out is None else (out[1], out[0], out[2])
    if name == "st_dwithin":
        return _dwithin_pairs(a, b, float(dist))
    pred = "contains" if name == "st_contains" else "intersects"
    if ga.is_polygonal and gb.geom_type == POINT:
        polys = gcol.geometries(a)
        x, y = _point_coords(b)
        pi, gi = points_in_polygons(x, y, polys, predicate=pred)
        return gi, pi, (f"points_in_polygons ({len(b):,} points x {len(polys):,} "
                        "polygons, grid index)")
    if ga.geom_type == POINT and gb.is_polygonal and pred == "intersects":
        out = _pairs("st_intersects", b, a, dist)
        return None if out is None else (out[1], out[0], out[2])
    if ga.geom_type == POINT and gb.is_polygonal:
        e = a.xp.zeros(0, dtype=np.int64)
        return e, e.copy(), "a point contains no polygon"
    if ga.is_polygonal and gb.is_polygonal and pred == "intersects":
        from ..spatial.join import polygons_intersect

        la, lb = gcol.geometries(a), gcol.geometries(b)
        li, ri = polygons_intersect(la, lb)
        return li, ri, f"polygons_intersect ({len(la):,} x {len(lb):,} polygons, grid index)"
    if ga.is_polygonal and gb.is_polygonal:
        from ..spatial.polygon_relate import polygons_contain

        la, lb = gcol.geometries(a), gcol.geometries(b)
        li, ri = polygons_contain(la, lb)
        return li, ri, f"polygons_contain ({len(la):,} x {len(lb):,} polygons, grid index)"
    return None


def _dwithin_pairs(a: Column, b: Column, d: float) -> tuple[Any, Any, str] | None:
    """Candidates of ``ST_DWithin(a, b, d)``: points of one side inside the other side's
    bounding boxes grown by ``d`` (the exact distance is checked afterwards)."""
    ga: GeometryArray = a.dictionary  # type: ignore[assignment]
    gb: GeometryArray = b.dictionary  # type: ignore[assignment]
    if ga.geom_type != POINT and gb.geom_type == POINT:
        out = _dwithin_pairs(b, a, d)
        return None if out is None else (out[1], out[0], out[2])
    if ga.geom_type != POINT:
        msg = (f"ST_DWithin({ga.geom_type}, {gb.geom_type}) in a join is not supported yet; "
               "one side must be points")
        raise NotSupportedError(msg)
    if d < 0:
        e = a.xp.zeros(0, dtype=np.int64)
        return e, e.copy(), "negative distance"
    other = gcol.geometries(b)
    x0, y0, x1, y1 = other.bounds()
    xp = a.xp
    ok = ~xp.isnan(x0)
    grown = boxes(xp.where(ok, x0 - d, 0.0), xp.where(ok, y0 - d, 0.0),
                  xp.where(ok, x1 + d, 0.0), xp.where(ok, y1 + d, 0.0), device=a.device)
    # empty and null rows get an empty box (no coordinates): they match nothing
    grown = _drop_rows(grown, ok)
    x, y = _point_coords(a)
    pi, gi = points_in_polygons(x, y, grown, predicate="intersects")
    return pi, gi, (f"points in boxes grown by {d:g} ({len(a):,} points x {len(other):,} "
                    "boxes, grid index), exact distance after")


def _drop_rows(geoms: GeometryArray, keep: Any) -> GeometryArray:
    """``geoms`` with the rows where ``keep`` is False made empty and null (same length)."""
    xp = geoms.xp
    ring_keep = keep[segment_ids(xp, geoms.offsets[0])]
    ro = geoms.offsets[1]
    lens = (ro[1:] - ro[:-1]) * ring_keep
    new_ro = xp.zeros(ro.shape[0], dtype=np.int64)
    new_ro[1:] = xp.cumsum(lens)
    coord_keep = xp.repeat(ring_keep, ro[1:] - ro[:-1])
    return GeometryArray(geoms.geom_type, geoms.x[coord_keep], geoms.y[coord_keep],
                         (geoms.offsets[0], new_ro), keep, geoms.device)


__all__ = ["FUNCTIONS", "areas", "centroids", "distance", "lengths", "register", "relate",
           "spatial_join"]
