"""Bounding boxes, window queries and the grid index (shapely and brute force as oracles)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from xpdb.device import get_device
from xpdb.errors import XpdbError
from xpdb.spatial import (
    GridIndex,
    bbox_overlap_pairs,
    bounds,
    from_shapely,
    points,
    points_in_window,
    total_bounds,
)

from .conftest import (
    as_pairs,
    needs_shapely,
    random_multipolygons,
    random_polygons,
    shapely,
    star_polygon_array,
)


def _geoms(rng: np.random.Generator, kind: str) -> np.ndarray:
    if kind == "polygon":
        g = list(random_polygons(rng, 20))
        g[4] = shapely.from_wkt("POLYGON EMPTY")
    elif kind == "multipolygon":
        g = list(random_multipolygons(rng, 20))
        g[4] = shapely.from_wkt("MULTIPOLYGON EMPTY")
    elif kind == "linestring":
        g = [shapely.LineString(rng.uniform(0, 50, (int(rng.integers(2, 6)), 2)))
             for _ in range(20)]
        g[4] = shapely.from_wkt("LINESTRING EMPTY")
    else:
        g = list(shapely.points(rng.uniform(0, 50, (20, 2))))
        g[4] = shapely.from_wkt("POINT EMPTY")
    g[9] = None
    return np.array(g, dtype=object)


@needs_shapely
@pytest.mark.parametrize("kind", ["point", "linestring", "polygon", "multipolygon"])
def test_bounds_match_shapely(device, rng, kind):
    geoms = _geoms(rng, kind)
    ga = from_shapely(geoms, device)
    h = get_device(device).to_host
    got = np.stack([h(v) for v in bounds(ga)], axis=1)
    np.testing.assert_array_equal(got, shapely.bounds(geoms))
    np.testing.assert_array_equal(np.array(total_bounds(ga)), shapely.total_bounds(geoms))
    np.testing.assert_array_equal(np.stack([h(v) for v in ga.bounds()], axis=1), got)


@needs_shapely
def test_total_bounds_of_nothing_is_nan(device):
    ga = from_shapely(np.array([None, shapely.from_wkt("POLYGON EMPTY")]), device)
    assert np.isnan(total_bounds(ga)).all()


@needs_shapely
@pytest.mark.parametrize("predicate", ["intersects", "contains"])
def test_points_in_window_matches_shapely(device, rng, predicate):
    dev = get_device(device)
    # a grid with points on the window's edges and corners, plus NaN
    g = np.arange(0, 10, 0.5)
    x, y = (v.ravel() for v in np.meshgrid(g, g))
    x = np.append(x, np.nan)
    y = np.append(y, 3.0)
    win = (2.0, 3.0, 6.5, 7.0)
    got = dev.to_host(points_in_window(dev.asarray(x), dev.asarray(y), *win, predicate))
    want = np.nonzero(getattr(shapely, predicate)(shapely.box(*win), shapely.points(x, y)))[0]
    np.testing.assert_array_equal(got, want)
    with pytest.raises(XpdbError, match="unknown predicate 'within'"):
        points_in_window(dev.asarray(x), dev.asarray(y), *win, "within")


def _brute_overlaps(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    ba, bb = shapely.bounds(a), shapely.bounds(b)
    ov = ((ba[:, None, 0] <= bb[None, :, 2]) & (ba[:, None, 2] >= bb[None, :, 0])
          & (ba[:, None, 1] <= bb[None, :, 3]) & (ba[:, None, 3] >= bb[None, :, 1]))
    i, j = np.nonzero(ov)  # NaN bounds compare False: empties never overlap
    return list(zip(i.tolist(), j.tolist(), strict=True))


@needs_shapely
def test_bbox_overlap_pairs_match_brute_force(device, rng):
    a = _geoms(rng, "polygon")
    b = np.concatenate([_geoms(rng, "multipolygon"),
                        # boxes touching others exactly at an edge or a corner
                        shapely.box([0, 10, 20], [0, 0, 10], [10, 20, 30], [10, 10, 20])])
    got = as_pairs(*bbox_overlap_pairs(from_shapely(a, device), from_shapely(b, device)))
    assert got == _brute_overlaps(a, b)
    assert len(got) == len(set(got))


@pytest.mark.parametrize("shape", ["degenerate", "thin", "big"])
def test_grid_index_odd_extents(device, rng, shape):
    """All items at one point, zero-height items on one line, one item covering the rest."""
    dev = get_device(device)
    n = 50
    if shape == "degenerate":
        b = [np.full(n, 3.0), np.full(n, 4.0), np.full(n, 3.0), np.full(n, 4.0)]
    elif shape == "thin":
        x0 = rng.uniform(0, 10, n)
        b = [x0, np.full(n, 1.0), x0 + rng.uniform(0, 2, n), np.full(n, 1.0)]
    else:
        x0, y0 = rng.uniform(0, 10, (2, n))
        x0[0], y0[0] = -100, -100
        b = [x0, y0, x0 + 0.1, y0 + 0.1]
        b[2][0] = b[3][0] = 100
    idx = GridIndex(tuple(dev.asarray(v) for v in b), cells_per_item=8)
    qx = np.concatenate([rng.uniform(-1, 12, 500), b[0][:10], b[2][:10], [3.0]])
    qy = np.concatenate([rng.uniform(-1, 12, 500), b[1][:10], b[3][:10], [4.0]])
    got = as_pairs(*idx.query_points(dev.asarray(qx), dev.asarray(qy)))
    inside = ((qx[:, None] >= b[0]) & (qx[:, None] <= b[2])
              & (qy[:, None] >= b[1]) & (qy[:, None] <= b[3]))
    want = list(zip(*(v.tolist() for v in np.nonzero(inside)), strict=True))
    assert got == want and len(want) > 0
    # box queries: the same boxes against themselves, each overlap once
    got_b = as_pairs(*idx.query_bounds(*(dev.asarray(v) for v in b)))
    ov = ((b[0][:, None] <= b[2]) & (b[2][:, None] >= b[0])
          & (b[1][:, None] <= b[3]) & (b[3][:, None] >= b[1]))
    assert got_b == list(zip(*(v.tolist() for v in np.nonzero(ov)), strict=True))


@needs_shapely
def test_empty_index_and_empty_queries(device):
    dev = get_device(device)
    idx = GridIndex(from_shapely(np.array([None], dtype=object), device, geom_type="polygon"))
    p, i = idx.query_points(dev.asarray([1.0]), dev.asarray([1.0]))
    assert len(p) == len(i) == 0
    pts = points([], [], device=device)
    idx2 = GridIndex(from_shapely(np.array([shapely.box(0, 0, 1, 1)]), device))
    assert len(idx2.query_bounds(*bounds(pts))[0]) == 0
    assert "1 items" in repr(idx2)


def test_bounds_and_window_without_shapely(device, rng):
    """Runs without shapely: bounds against a per-row NumPy loop; windows against masks."""
    ga = star_polygon_array(rng, 30, "cpu")
    dev = get_device(device)
    got = np.stack([dev.to_host(v) for v in bounds(ga.to(device))], axis=1)
    co = ga.geom_coord_offsets()
    want = np.array([[ga.x[a:b].min(), ga.y[a:b].min(), ga.x[a:b].max(), ga.y[a:b].max()]
                     for a, b in itertools.pairwise(co.tolist())])
    np.testing.assert_array_equal(got, want)
    x, y = rng.uniform(0, 10, (2, 1000))
    x[:10] = 2.0  # on the window's left edge
    got_i = dev.to_host(points_in_window(dev.asarray(x), dev.asarray(y), 2, 3, 6, 7))
    np.testing.assert_array_equal(got_i, np.nonzero((x >= 2) & (x <= 6) & (y >= 3) & (y <= 7))[0])
