"""The demo's spatial step: pickups assigned to generated zone polygons, aggregated per zone.

:func:`zone_polygons` tiles the pickup extent (:data:`EXTENT`, lon/lat degrees around the
generator's pickup areas) with a jittered grid of quadrilaterals, NYC's taxi zones in
spirit: the grid's inner vertices move by up to :data:`JITTER` of a cell (a fixed seed),
border vertices move only along the border, so the zones cover the extent without gaps or
overlaps and every zone stays a simple (convex) polygon. Built with NumPy only: the demo
runs without shapely.

The step registers them as a temporary table ``zones (zone VARCHAR, geom GEOMETRY)`` and
runs :data:`ZONE_QUERY`, an indexed spatial join (``ST_Contains(z.geom, ST_Point(...))``
runs as :func:`xpdb.spatial.points_in_polygons` over a grid index, never a cross product).
A pickup on a zone's edge is in no zone (shapely's ``contains``); one outside the extent
is dropped by the inner join.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .steps import Context, Step

#: (lon_min, lat_min, lon_max, lat_max) of the zones: the pickup areas of .taxi
EXTENT = (-74.06, 40.60, -73.74, 40.84)
#: zones across (lon) and down (lat): 20 x 16 = 320 zones
GRID = (20, 16)
#: how far a vertex moves, as a share of the cell size (below 0.25 keeps quads convex)
JITTER = 0.2
SEED = 2024

ZONE_QUERY = """
SELECT z.zone, count(*) AS trips, avg(t.fare) AS avg_fare
FROM clean t JOIN zones z ON ST_Contains(z.geom, ST_Point(t.pickup_lon, t.pickup_lat))
GROUP BY z.zone ORDER BY trips DESC, z.zone LIMIT 10"""


def zone_vertices(extent: tuple[float, float, float, float] = EXTENT,
                  grid: tuple[int, int] = GRID, jitter: float = JITTER, seed: int = SEED
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The jittered grid's vertices: two ``(ny + 1, nx + 1)`` arrays of lon and lat."""
    x0, y0, x1, y1 = extent
    nx, ny = grid
    w, h = (x1 - x0) / nx, (y1 - y0) / ny
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(x0 + w * np.arange(nx + 1), y0 + h * np.arange(ny + 1))
    dx = rng.uniform(-jitter, jitter, gx.shape) * w
    dy = rng.uniform(-jitter, jitter, gy.shape) * h
    # border vertices slide along their border only; corners stay
    dx[:, [0, -1]] = 0.0
    dy[[0, -1], :] = 0.0
    return np.round(gx + dx, 6), np.round(gy + dy, 6)


def zone_polygons(extent: tuple[float, float, float, float] = EXTENT,
                  grid: tuple[int, int] = GRID, jitter: float = JITTER, seed: int = SEED,
                  device: Any = "cpu") -> tuple[list[str], Any]:
    """Zone names (``"Z<row>-<col>"``) and their polygons (a GeometryArray on ``device``).

    Each zone is the quadrilateral of four neighbouring grid vertices, ring closed and
    counter-clockwise (as shapely's ``box``).
    """
    from ..spatial.geometry import polygons

    vx, vy = zone_vertices(extent, grid, jitter, seed)
    nx, ny = grid
    r, c = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    r, c = r.ravel(), c.ravel()
    # the ring: lower left, lower right, upper right, upper left, lower left
    rows = np.stack([r, r, r + 1, r + 1, r], axis=1)
    cols = np.stack([c, c + 1, c + 1, c, c], axis=1)
    x, y = vx[rows, cols].ravel(), vy[rows, cols].ravel()
    n = nx * ny
    geoms = polygons(x, y, ring_offsets=np.arange(n + 1) * 5, geom_offsets=np.arange(n + 1),
                     device=device)
    names = [f"Z{i:02d}-{j:02d}" for i, j in zip(r.tolist(), c.tolist(), strict=True)]
    return names, geoms


def zones_table(device: Any = "cpu") -> Any:
    """The ``zones`` table: ``zone`` (text) and ``geom`` (geometry) on ``device``."""
    from ..column import Column
    from ..spatial.column import geometry_column
    from ..table import Table

    names, geoms = zone_polygons(device=device)
    return Table([("zone", Column.from_pylist(names, device=device)),
                  ("geom", geometry_column(geoms))], len(names), geoms.device)


def _register(ctx: Context) -> Any:
    ctx.db.register("zones", zones_table(ctx.db.device))
    return None


def _zone_query(ctx: Context) -> Any:
    return ctx.db.sql(ZONE_QUERY).to_pandas()


_zone_query.sql = ZONE_QUERY  # type: ignore[attr-defined]

#: the spatial steps (the demo inserts them before the reopen step)
ZONE_STEPS = [
    Step("spatial: register zones", _register),
    Step("spatial: pickups per zone", _zone_query,
         "busiest pickup zones (ST_Contains spatial join of pickups to 320 zone polygons)"),
]

__all__ = ["EXTENT", "GRID", "ZONE_QUERY", "ZONE_STEPS", "zone_polygons", "zone_vertices",
           "zones_table"]
