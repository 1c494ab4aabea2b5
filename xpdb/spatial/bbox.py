"""Bounding boxes: per-geometry bounds, rectangular window queries, bbox-overlap pairs."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import XpdbError
from ..kernels._xp import scatter_max, scatter_min
from .geometry import POINT, GeometryArray, segment_ids


def bounds(geoms: GeometryArray) -> tuple[Any, Any, Any, Any]:
    """Per-row bounding boxes ``(xmin, ymin, xmax, ymax)`` as four float64 arrays.

    Empty and null rows get NaN (shapely's ``bounds`` gives NaN for empties too).

    Examples
    --------
    >>> from xpdb.spatial import linestrings
    >>> ls = linestrings([0.0, 2.0, 5.0, 1.0], [1.0, 3.0, 0.0, 0.0], offsets=[0, 2, 2, 4])
    >>> bounds(ls)[2]
    array([ 2., nan,  5.])
    """
    xp = geoms.xp
    n = len(geoms)
    valid = geoms.valid_mask()
    if geoms.geom_type == POINT:
        nan = xp.full(n, np.nan)
        x = xp.where(valid, geoms.x, nan)
        y = xp.where(valid, geoms.y, nan)
        return x, y, x.copy(), y.copy()
    co = geoms.geom_coord_offsets()
    gid = segment_ids(xp, co)
    out = []
    for vals, fn, init in (
        (geoms.x, scatter_min, np.inf),
        (geoms.y, scatter_min, np.inf),
        (geoms.x, scatter_max, -np.inf),
        (geoms.y, scatter_max, -np.inf),
    ):
        acc = xp.full(n, init)
        if gid.shape[0]:
            fn(xp, acc, gid, vals)
        out.append(acc)
    empty = (co[1:] == co[:-1]) | ~valid
    return tuple(xp.where(empty, np.nan, a) for a in out)  # type: ignore[return-value]


def total_bounds(geoms: GeometryArray) -> tuple[float, float, float, float]:
    """The bounding box of all non-empty rows, as Python floats (NaN when there are none)."""
    xp = geoms.xp
    x0, y0, x1, y1 = bounds(geoms)
    ok = ~xp.isnan(x0)
    if not bool(xp.any(ok)):
        return (np.nan, np.nan, np.nan, np.nan)
    return (
        float(x0[ok].min()), float(y0[ok].min()), float(x1[ok].max()), float(y1[ok].max())
    )


def points_in_window(
    x: Any, y: Any, xmin: float, ymin: float, xmax: float, ymax: float,
    predicate: str = "intersects",
) -> Any:
    """Indices (int64, ascending) of the points inside a rectangular window.

    Parameters
    ----------
    x, y : xp arrays of float
        Point coordinates (NumPy or CuPy; the result is on the same device).
    xmin, ymin, xmax, ymax : float
        The window.
    predicate : {"intersects", "contains"}
        ``"intersects"`` keeps points on the window's edges (the closed rectangle, as
        ``shapely.intersects(box, point)``); ``"contains"`` keeps only points strictly inside
        (as ``shapely.contains(box, point)``). NaN coordinates are never inside.

    Examples
    --------
    >>> points_in_window(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 1.0]), 0, 0, 1, 1)
    array([0, 1])
    >>> points_in_window(np.array([0.0, 0.5]), np.array([0.0, 0.5]), 0, 0, 1, 1, "contains")
    array([1])
    """
    from ..device import device_of

    xp = device_of(x).xp
    if predicate == "intersects":
        m = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
    elif predicate == "contains":
        m = (x > xmin) & (x < xmax) & (y > ymin) & (y < ymax)
    else:
        msg = (
            f"points_in_window: unknown predicate {predicate!r}; use 'intersects' (edges "
            "count) or 'contains' (strictly inside)"
        )
        raise XpdbError(msg)
    return xp.nonzero(m)[0].astype(np.int64, copy=False)


def bbox_overlap_pairs(left: GeometryArray, right: GeometryArray) -> tuple[Any, Any]:
    """All ``(i, j)`` whose bounding boxes overlap (closed boxes: touching counts).

    Uses a :class:`~xpdb.spatial.index.GridIndex` over ``right``; pairs are sorted by
    ``(i, j)``. Empty and null rows pair with nothing.
    """
    from .index import GridIndex

    return GridIndex(right).query_bounds(*bounds(left))
