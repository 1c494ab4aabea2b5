"""Spatial joins against geopandas.sjoin (and shapely for segment tests)."""

from __future__ import annotations

import numpy as np
import pytest

from xpdb.device import get_device
from xpdb.errors import XpdbError
from xpdb.spatial import boxes, from_shapely, linestrings, points, sjoin
from xpdb.spatial.join import polygons_intersect, segments_intersect

from .conftest import (
    as_pairs,
    boundary_points,
    gpd_pairs,
    needs_shapely,
    random_multipolygons,
    random_polygons,
    shapely,
    star_polygon_array,
)


def _points_with_boundary(rng, polys, n=3000):
    bx, by = boundary_points(polys)
    x = np.concatenate([rng.uniform(-5, 105, n), bx])
    y = np.concatenate([rng.uniform(-5, 105, n), by])
    return x, y


@needs_shapely
@pytest.mark.parametrize("predicate", ["within", "intersects", "contains"])
def test_points_to_polygons_match_geopandas(device, rng, predicate):
    polys = np.concatenate([random_polygons(rng, 80), random_multipolygons(rng, 10)])
    polys = np.array([shapely.MultiPolygon([p]) if p.geom_type == "Polygon" else p
                      for p in polys], dtype=object)
    x, y = _points_with_boundary(rng, polys)
    pts = shapely.points(x, y)
    got = as_pairs(*sjoin(from_shapely(pts, device), from_shapely(polys, device), predicate))
    want = gpd_pairs(pts, polys, predicate)
    assert got == want
    if predicate != "contains":
        assert len(want) > 1000


@needs_shapely
@pytest.mark.parametrize("predicate", ["contains", "intersects", "within"])
def test_polygons_to_points_match_geopandas(device, rng, predicate):
    polys = random_polygons(rng, 60)
    x, y = _points_with_boundary(rng, polys, 2000)
    pts = shapely.points(x, y)
    got = as_pairs(*sjoin(from_shapely(polys, device), from_shapely(pts, device), predicate))
    assert got == gpd_pairs(polys, pts, predicate)


@needs_shapely
def test_geopandas_and_shapely_inputs(device, rng):
    gpd = pytest.importorskip("geopandas")
    polys = random_polygons(rng, 30)
    pts = shapely.points(rng.uniform(0, 100, (2000, 2)))
    want = gpd_pairs(pts, polys, "within")
    got = as_pairs(*sjoin(gpd.GeoDataFrame(geometry=pts), gpd.GeoSeries(polys), "within",
                          device=device))
    assert got == want
    assert as_pairs(*sjoin(pts, polys, "within", device=device)) == want


@needs_shapely
def test_null_points_match_nothing(device, rng):
    polys = random_polygons(rng, 20)
    pts = list(shapely.points(rng.uniform(0, 100, (500, 2))))
    pts[3] = None
    pts[10] = shapely.from_wkt("POINT EMPTY")
    pts = np.array(pts, dtype=object)
    got = as_pairs(*sjoin(from_shapely(pts, device), from_shapely(polys, device), "intersects"))
    assert got == gpd_pairs(pts, polys, "intersects")
    assert all(i not in (3, 10) for i, _ in got)


@needs_shapely
def test_polygons_to_polygons_match_geopandas(device, rng):
    a = np.concatenate([random_polygons(rng, 120), random_multipolygons(rng, 20)])
    a = np.array([shapely.MultiPolygon([p]) if p.geom_type == "Polygon" else p for p in a])
    b = random_polygons(rng, 100)
    got = as_pairs(*sjoin(from_shapely(a, device), from_shapely(b, device), "intersects"))
    want = gpd_pairs(a, b, "intersects")
    assert got == want and len(want) > 50


@needs_shapely
def test_touching_nested_and_hole_polygons(device):
    """Edge- and corner-touching boxes, a polygon inside another, one inside a hole,
    one straddling a hole's edge, an empty and a null row."""
    holed = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)],
                            [[(2, 2), (2, 8), (8, 8), (8, 2)]])
    left = np.array([
        holed,
        shapely.box(10, 0, 12, 5),    # shares an edge with holed and with right[0]
        shapely.box(12, 5, 13, 6),    # touches box 1 at a corner
        shapely.from_wkt("POLYGON EMPTY"),
        None,
        shapely.box(100, 4, 110, 6),  # a plus with right[6]: only edges cross
    ], dtype=object)
    right = np.array([
        shapely.box(4, 4, 6, 6),      # inside holed's hole: no intersection with holed
        shapely.box(1, 1, 3, 3),      # straddles the hole's edge
        shapely.box(0.5, 0.5, 1, 1),  # inside holed
        shapely.box(20, 20, 30, 30),  # far away
        shapely.box(-5, -5, 15, 15),  # contains everything
        shapely.box(12, 6, 14, 7),    # corner-touches left[2]
        shapely.box(104, 0, 106, 10),
    ], dtype=object)
    got = as_pairs(*sjoin(from_shapely(left, device), from_shapely(right, device)))
    want = gpd_pairs(left, right, "intersects")
    assert got == want
    assert (0, 0) not in got and (0, 1) in got and (2, 5) in got and (5, 6) in got


@needs_shapely
def test_integer_polygons_touching_a_lot(device, rng):
    """Integer-vertex polygons on a small extent: many shared vertices and collinear edges."""
    a = random_polygons(rng, 80, extent=20, integer=True)
    x0, y0 = rng.integers(0, 20, (2, 120)).astype(float)
    w, h = rng.integers(1, 5, (2, 120))
    b = shapely.box(x0, y0, x0 + w, y0 + h)
    got = as_pairs(*sjoin(from_shapely(a, device), from_shapely(b, device)))
    assert got == gpd_pairs(a, b, "intersects")


@needs_shapely
def test_segments_intersect_matches_shapely(device, rng):
    dev = get_device(device)
    c = rng.integers(0, 4, (4000, 8)).astype(float)  # small integers: collinear, touching
    got = segments_intersect(dev.xp, *(dev.asarray(c[:, k]) for k in range(8)))
    a = shapely.linestrings(c[:, [0, 1, 2, 3]].reshape(-1, 2, 2))
    b = shapely.linestrings(c[:, [4, 5, 6, 7]].reshape(-1, 2, 2))
    # shapely cannot build zero-length lines as segments reliably: compare the rest
    ok = ~(np.all(c[:, 0:2] == c[:, 2:4], axis=1) | np.all(c[:, 4:6] == c[:, 6:8], axis=1))
    np.testing.assert_array_equal(dev.to_host(got)[ok], shapely.intersects(a, b)[ok])


@needs_shapely
def test_unsupported_combinations_raise(device):
    p = points([0.0], [0.0], device=device)
    poly = from_shapely(np.array([shapely.box(0, 0, 1, 1)]), device)
    lines = linestrings([0.0, 1.0], [0.0, 1.0], [0, 2], device=device)
    with pytest.raises(XpdbError, match="unknown predicate 'overlaps'"):
        sjoin(p, poly, "overlaps")
    with pytest.raises(XpdbError, match="not supported"):
        sjoin(poly, lines, "contains")
    with pytest.raises(XpdbError, match="not supported"):
        sjoin(lines, poly)
    with pytest.raises(XpdbError, match="not supported"):
        sjoin(p, p)


def test_polygon_join_device_matches_cpu_without_shapely(device, rng):
    """Runs without shapely: polygon/polygon and point/polygon joins on ``device`` against
    the CPU path (itself checked against geopandas above), integer vertices for touching
    cases, a tiny edge budget for chunking."""
    a = star_polygon_array(rng, 60, "cpu", extent=30, integer=True)
    x0, y0 = rng.integers(0, 30, (2, 50)).astype(float)
    b = boxes(x0, y0, x0 + rng.integers(1, 4, 50), y0 + rng.integers(1, 4, 50))
    want = as_pairs(*polygons_intersect(a, b))
    got = as_pairs(*polygons_intersect(a.to(device), b.to(device), budget=50))
    assert got == want and len(want) > 20
    pts = points(rng.integers(0, 31, 2000) / 1.0, rng.integers(0, 31, 2000) / 1.0)
    for pred in ("within", "intersects"):
        assert as_pairs(*sjoin(pts.to(device), a.to(device), pred)) == as_pairs(
            *sjoin(pts, a, pred))
