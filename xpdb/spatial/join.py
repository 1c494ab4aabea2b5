"""Spatial joins: index pairs ``(left row, right row)`` like ``geopandas.sjoin`` (inner).

- points to polygons (either side): :func:`~xpdb.spatial.contains.points_in_polygons`;
- polygons to polygons, ``intersects``: bounding-box candidates from a grid
  (:meth:`~xpdb.spatial.index.GridIndex.query_bounds`), then the exact test, vectorized over
  candidate pairs: two polygons intersect when an edge of one meets an edge of the other
  (closed segments: touching counts), or, failing that, when the first vertex of some ring of
  one lies in the other (one inside the other, no edge crossing);
- polygons to polygons, ``contains`` / ``within``:
  :func:`~xpdb.spatial.polygon_relate.polygons_contain` (boxes inside boxes, then an exact
  test on vertices, edge pieces and orientations; see that module).

Predicates follow shapely with the left geometry first: ``within(point, polygon)`` is
``contains(polygon, point)`` (boundary points excluded); ``intersects`` includes the
boundary. Supported: point/polygon ``within`` and ``intersects``; polygon/point
``contains`` and ``intersects``; polygon/polygon ``intersects``, ``contains`` and
``within`` (shapely's DE-9IM: a polygon contains itself and one sharing its boundary from
the inside, not one filling a hole exactly). A point never contains a
polygon nor a polygon lies within a point: those give no pairs (as shapely for polygons
with area). Other combinations raise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import XpdbError
from ..kernels._xp import bincount
from .contains import PolygonEdges, pair_test, points_in_polygons, polygon_edges
from .geometry import POINT, GeometryArray, expand_ranges
from .index import GridIndex, _chunks, sort_pairs
from .polygon_relate import polygons_contain, polygons_within

PREDICATES = ("intersects", "within", "contains")
#: edge x edge entries per chunk of the polygon-polygon test
EDGE_PAIR_BUDGET = 1 << 20
EDGE_PAIR_BUDGET_GPU = 1 << 25


def sjoin(
    left: Any, right: Any, predicate: str = "intersects", device: Any = None
) -> tuple[Any, Any]:
    """Pairs ``(i, j)`` with ``predicate(left[i], right[j])``, sorted by ``i`` then ``j``.

    Parameters
    ----------
    left, right : GeometryArray, GeoSeries, GeoDataFrame or array of shapely geometries
        Points, polygons or multipolygons. Other inputs are converted (needs shapely).
    predicate : {"intersects", "within", "contains"}
        As ``geopandas.sjoin(left, right, predicate=...)``.
    device : str or Device, optional
        Where to run; by default ``left``'s device (``right`` is moved there), or the CPU
        for converted inputs.

    Returns
    -------
    (left_idx, right_idx) : int64 arrays on ``left``'s device

    Examples
    --------
    >>> from xpdb.spatial import points, boxes
    >>> zones = boxes(np.array([0.0, 2.0]), np.array([0.0, 0.0]), np.array([2.0, 4.0]),
    ...               np.array([2.0, 2.0]))
    >>> pts = points(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]))
    >>> [a.tolist() for a in sjoin(pts, zones, "within")]
    [[0, 2], [0, 1]]
    >>> [a.tolist() for a in sjoin(pts, zones, "intersects")]
    [[0, 1, 1, 2], [0, 0, 1, 1]]
    """
    if predicate not in PREDICATES:
        msg = f"sjoin: unknown predicate {predicate!r}; use one of {', '.join(PREDICATES)}"
        raise XpdbError(msg)
    left, right = _as_geometry(left, device), _as_geometry(right, device)
    left = left.to(device) if device is not None else left
    right = right.to(left.device)
    xp = left.xp
    lp, rp = left.geom_type == POINT, right.geom_type == POINT
    if lp and right.is_polygonal:
        if predicate == "contains":
            return _empty(xp)
        pred = "contains" if predicate == "within" else "intersects"
        return points_in_polygons(*_point_xy(left), right, predicate=pred)
    if rp and left.is_polygonal:
        if predicate == "within":
            return _empty(xp)
        p, g = points_in_polygons(*_point_xy(right), left, predicate=predicate)
        return sort_pairs(xp, g, p)
    if left.is_polygonal and right.is_polygonal:
        if predicate == "intersects":
            return polygons_intersect(left, right)
        if predicate == "contains":
            return polygons_contain(left, right)
        return polygons_within(left, right)
    msg = (
        f"sjoin({left.geom_type}, {right.geom_type}, predicate={predicate!r}) is not "
        "supported; supported: point/polygon 'within' and 'intersects', polygon/point "
        "'contains' and 'intersects', polygon/polygon 'intersects', 'contains' and 'within'"
    )
    raise XpdbError(msg)


def _as_geometry(obj: Any, device: Any) -> GeometryArray:
    if isinstance(obj, GeometryArray):
        return obj
    from .io import from_geopandas, from_shapely

    dev = device if device is not None else "cpu"
    if hasattr(obj, "geometry") or type(obj).__name__ == "GeoSeries":
        return from_geopandas(obj, dev)
    return from_shapely(obj, dev)


def _empty(xp: Any) -> tuple[Any, Any]:
    e = xp.zeros(0, dtype=np.int64)
    return e, e.copy()


def _point_xy(points: GeometryArray) -> tuple[Any, Any]:
    # null points become NaN so they match nothing
    if points.validity is None:
        return points.x, points.y
    xp = points.xp
    return (xp.where(points.validity, points.x, np.nan),
            xp.where(points.validity, points.y, np.nan))


def polygons_intersect(
    left: GeometryArray, right: GeometryArray, budget: int | None = None
) -> tuple[Any, Any]:
    """Pairs of (multi)polygons that intersect (shared boundary points count).

    Bounding-box candidates, then for each candidate pair: a ring's first vertex of one
    inside (or on) the other, else any edge-edge intersection (among the edges near the
    other polygon's box). Work per chunk is bounded by ``budget`` edge pairs.
    """
    xp = left.xp
    from .bbox import bounds

    if budget is None:
        budget = EDGE_PAIR_BUDGET_GPU if left.device.is_gpu else EDGE_PAIR_BUDGET

    li, ri = GridIndex(right).query_bounds(*bounds(left))
    if li.shape[0] == 0:
        return li, ri
    le, re_ = polygon_edges(left), polygon_edges(right)
    # vertex tests first (linear in edges): they settle overlapping pairs and most touching
    # ones; the quadratic edge-edge test runs only on the rest
    hit = _ring_vertex_inside(xp, li, ri, left, re_)
    rest = xp.nonzero(~hit)[0]
    if rest.shape[0]:
        hit[rest] = _ring_vertex_inside(xp, ri[rest], li[rest], right, le)
    rest = xp.nonzero(~hit)[0]
    if rest.shape[0]:
        lb, rb = bounds(left), bounds(right)
        hit[rest] = _edges_meet(xp, li[rest], ri[rest], le, re_, lb, rb, budget)
    return li[hit], ri[hit]


def _edges_meet(
    xp: Any, li: Any, ri: Any, le: PolygonEdges, re_: PolygonEdges,
    lb: tuple[Any, ...], rb: tuple[Any, ...], budget: int,
) -> Any:
    """Bool per pair: does some edge of ``left[li]`` meet some edge of ``right[ri]``.

    Only edges whose box overlaps the other polygon's box take part (``lb``, ``rb``: the
    per-row bounds of both sides).
    """
    n = int(li.shape[0])
    ls, rs = le.edge_offsets[li], re_.edge_offsets[ri]
    ln, rn = le.edge_offsets[li + 1] - ls, re_.edge_offsets[ri + 1] - rs
    out = xp.zeros(n, dtype=bool)
    for a, b in _chunks(xp, ln * rn, budget):
        m = b - a
        pa_, ea = _edges_near(xp, ls[a:b], ln[a:b], le, [v[ri[a:b]] for v in rb])
        pb_, eb = _edges_near(xp, rs[a:b], rn[a:b], re_, [v[li[a:b]] for v in lb])
        na, nb = bincount(xp, pa_, m), bincount(xp, pb_, m)
        oa = xp.cumsum(na) - na
        ob = xp.cumsum(nb) - nb
        c = na * nb
        pid = xp.repeat(xp.arange(m, dtype=np.int64), c)
        if pid.shape[0] == 0:
            continue
        local = expand_ranges(xp, xp.zeros(m, dtype=np.int64), c)
        w = nb[pid]
        ia = ea[oa[pid] + local // w]
        ib = eb[ob[pid] + local % w]
        meet = segments_intersect(
            xp, le.x0[ia], le.y0[ia], le.x1[ia], le.y1[ia],
            re_.x0[ib], re_.y0[ib], re_.x1[ib], re_.y1[ib],
        )
        out[a:b] = bincount(xp, pid[meet], m) > 0
    return out


def _edges_near(
    xp: Any, starts: Any, counts: Any, edges: PolygonEdges, box: list[Any]
) -> tuple[Any, Any]:
    """(pair, edge) for the edges of each pair's polygon that overlap the pair's ``box``,
    sorted by pair."""
    pid = xp.repeat(xp.arange(starts.shape[0], dtype=np.int64), counts)
    e = expand_ranges(xp, starts, counts)
    x0, y0, x1, y1 = (v[pid] for v in box)
    keep = (
        (xp.minimum(edges.x0[e], edges.x1[e]) <= x1) & (xp.maximum(edges.x0[e], edges.x1[e]) >= x0)
        & (xp.minimum(edges.y0[e], edges.y1[e]) <= y1)
        & (xp.maximum(edges.y0[e], edges.y1[e]) >= y0)
    )
    return pid[keep], e[keep]


def segments_intersect(
    xp: Any, ax: Any, ay: Any, bx: Any, by: Any, cx: Any, cy: Any, dx: Any, dy: Any
) -> Any:
    """Bool per pair: do closed segments ``ab`` and ``cd`` share a point.

    Orientation tests; collinear segments intersect when their boxes overlap.

    Examples
    --------
    >>> f = lambda *v: segments_intersect(np, *map(np.array, v))
    >>> f([0.], [0.], [2.], [2.], [0.], [2.], [2.], [0.]).tolist()   # crossing
    [True]
    >>> f([0.], [0.], [1.], [0.], [1.], [0.], [2.], [0.]).tolist()   # collinear, touching
    [True]
    >>> f([0.], [0.], [1.], [0.], [0.], [1.], [1.], [1.]).tolist()   # parallel
    [False]
    """

    def orient(px: Any, py: Any, qx: Any, qy: Any, rx: Any, ry: Any) -> Any:
        return xp.sign((qx - px) * (ry - py) - (qy - py) * (rx - px))

    o1 = orient(ax, ay, bx, by, cx, cy)
    o2 = orient(ax, ay, bx, by, dx, dy)
    o3 = orient(cx, cy, dx, dy, ax, ay)
    o4 = orient(cx, cy, dx, dy, bx, by)
    proper = (o1 * o2 <= 0) & (o3 * o4 <= 0)
    collinear = (o1 == 0) & (o2 == 0)
    boxes = (
        (xp.minimum(ax, bx) <= xp.maximum(cx, dx)) & (xp.minimum(cx, dx) <= xp.maximum(ax, bx))
        & (xp.minimum(ay, by) <= xp.maximum(cy, dy)) & (xp.minimum(cy, dy) <= xp.maximum(ay, by))
    )
    return proper & (~collinear | boxes)


def _ring_vertex_inside(
    xp: Any, a_idx: Any, b_idx: Any, a: GeometryArray, b_edges: PolygonEdges
) -> Any:
    """Bool per pair k: the first vertex of some ring of ``a[a_idx[k]]`` intersects
    ``b[b_idx[k]]`` (inside or on its boundary)."""
    gro = a.geom_ring_offsets()
    ro = a.ring_offsets()
    starts = gro[a_idx]
    counts = gro[a_idx + 1] - starts
    pid = xp.repeat(xp.arange(a_idx.shape[0], dtype=np.int64), counts)
    ring = expand_ranges(xp, starts, counts)
    nonempty = ro[ring + 1] > ro[ring]
    pid, ring = pid[nonempty], ring[nonempty]
    v = ro[ring]
    ok = pair_test(a.x[v], a.y[v], b_idx[pid], b_edges, "intersects")
    return bincount(xp, pid[ok], int(a_idx.shape[0])) > 0
