"""Random and degenerate geometry for the spatial tests (shapely objects: the oracle's input)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from xpdb.spatial import GeometryArray, polygons

try:  # the oracle; the GPU machine may lack it, and then only device-vs-CPU tests run
    import shapely
except ImportError:  # pragma: no cover - depends on the environment
    shapely = None

needs_shapely = pytest.mark.skipif(shapely is None, reason="shapely is not installed")


def star(rng: np.random.Generator, cx: float, cy: float, r: float, k: int,
         integer: bool = False) -> np.ndarray:
    """A closed star-shaped ring (simple: angles sorted, radii in [r/2, r]), CCW, >= 5
    vertices."""
    # jittered angles: every gap < pi, so the centre is inside and holes around it fit
    k = max(k, 5)
    ang = (np.arange(k) + rng.uniform(0, 1, k)) * (2 * np.pi / k)
    rad = rng.uniform(0.5 * r, r, k)
    xy = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], axis=1)
    if integer:
        xy = np.round(xy)
        # rounding may repeat a vertex; drop consecutive duplicates
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
        xy = xy[keep]
    return np.vstack([xy, xy[:1]])


def random_polygons(rng: np.random.Generator, n: int, holes: bool = True,
                    extent: float = 100.0, integer: bool = False) -> np.ndarray:
    """``n`` valid star polygons (some with a hole) scattered over ``[0, extent]^2``."""
    import shapely

    out = []
    for _ in range(n):
        cx, cy = rng.uniform(0, extent, 2)
        r = rng.uniform(2, extent / 5)
        # >= 8 vertices keep every chord farther than 0.35 r from the centre: room for a hole
        with_hole = holes and rng.random() < 0.5
        shell = star(rng, cx, cy, r, int(rng.integers(8 if with_hole else 3, 14)), integer)
        rings = []
        if with_hole:
            rings.append(star(rng, cx, cy, r * 0.3, int(rng.integers(3, 8)), integer)[::-1])
        p = shapely.Polygon(shell, rings)
        if not p.is_valid:  # integer rounding can break a ring; fall back to a box
            p = shapely.box(round(cx), round(cy), round(cx) + 3, round(cy) + 2)
        out.append(p)
    return np.array(out, dtype=object)


def random_multipolygons(rng: np.random.Generator, n: int, extent: float = 100.0
                         ) -> np.ndarray:
    """``n`` multipolygons of 1-3 disjoint parts (a hole in some parts)."""
    import shapely

    out = []
    for _ in range(n):
        k = int(rng.integers(1, 4))
        base = rng.uniform(0, extent, 2)
        parts = []
        for j in range(k):
            cx, cy = base[0] + 12.0 * j, base[1]
            shell = star(rng, cx, cy, 5.0, int(rng.integers(8, 12)))
            rings = [star(rng, cx, cy, 1.5, 4)[::-1]] if rng.random() < 0.5 else []
            parts.append(shapely.Polygon(shell, rings))
        mp = shapely.MultiPolygon(parts)
        assert mp.is_valid, mp
        out.append(mp)
    return np.array(out, dtype=object)


def boundary_points(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every vertex of every ring, and the midpoints of axis-parallel edges (exactly on the
    boundary in floating point)."""
    import shapely

    xs, ys = [], []
    for p in polys:
        if p is None or p.is_empty:
            continue
        parts = p.geoms if hasattr(p, "geoms") else [p]
        rings = [r for part in parts for r in shapely.get_rings(part)]
        for r in rings:
            c = shapely.get_coordinates(r)
            xs.append(c[:, 0])
            ys.append(c[:, 1])
            a, b = c[:-1], c[1:]
            ax_par = (a[:, 0] == b[:, 0]) | (a[:, 1] == b[:, 1])
            mid = (a[ax_par] + b[ax_par]) / 2
            xs.append(mid[:, 0])
            ys.append(mid[:, 1])
    return np.concatenate(xs), np.concatenate(ys)


def oracle_pairs(x: np.ndarray, y: np.ndarray, polys: np.ndarray, predicate: str
                 ) -> list[tuple[int, int]]:
    """Sorted (point, polygon) pairs from shapely's STRtree with a shapely predicate
    (``within`` = the polygon contains the point; ``intersects``)."""
    import shapely

    tree = shapely.STRtree(polys)
    pts = shapely.points(x, y)
    pi, gi = tree.query(pts, predicate=predicate)
    return sorted(zip(pi.tolist(), gi.tolist(), strict=True))


def as_pairs(a: Any, b: Any) -> list[tuple[int, int]]:
    from xpdb.device import device_of

    a = device_of(a).to_host(a)
    b = device_of(b).to_host(b)
    return list(zip(a.tolist(), b.tolist(), strict=True))


def star_polygon_array(rng: np.random.Generator, n: int, device: str = "cpu",
                       extent: float = 100.0, integer: bool = False) -> GeometryArray:
    """``n`` star polygons (half with a hole) built without shapely, for device-vs-CPU tests
    (integer rounding may make a few invalid: both devices see the same rings)."""
    xs, ys, ring_off, geom_off = [], [], [0], [0]
    for _ in range(n):
        cx, cy = rng.uniform(0, extent, 2)
        r = rng.uniform(2, extent / 5)
        rings = [star(rng, cx, cy, r, int(rng.integers(8, 14)), integer)]
        if rng.random() < 0.5:
            rings.append(star(rng, cx, cy, r * 0.3, 5, integer)[::-1])
        for ring in rings:
            xs.append(ring[:, 0])
            ys.append(ring[:, 1])
            ring_off.append(ring_off[-1] + len(ring))
        geom_off.append(geom_off[-1] + len(rings))
    return polygons(np.concatenate(xs), np.concatenate(ys), ring_off, geom_off, device=device)


def gpd_pairs(left: np.ndarray, right: np.ndarray, predicate: str) -> list[tuple[int, int]]:
    """Sorted ``(left, right)`` pairs of ``geopandas.sjoin`` (inner) with ``predicate``."""
    gpd = pytest.importorskip("geopandas")
    lg = gpd.GeoDataFrame(geometry=gpd.GeoSeries(left))
    rg = gpd.GeoDataFrame(geometry=gpd.GeoSeries(right))
    j = gpd.sjoin(lg, rg, predicate=predicate, how="inner")
    return sorted(zip(j.index.tolist(), j["index_right"].tolist(), strict=True))
