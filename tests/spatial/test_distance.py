"""xpdb.spatial.distance against shapely (planar distances) and pyproj (great circles)."""

from __future__ import annotations

import numpy as np
import pytest

from xpdb.device import get_device
from xpdb.errors import TypeError as XpdbTypeError
from xpdb.spatial import distance as dmod
from xpdb.spatial.distance import (
    EARTH_RADIUS_KM,
    SpatialValueError,
    haversine_distance,
    nearest_linestring,
    point_linestring_distance,
    point_point_distance,
    point_polygon_distance,
)

shapely = pytest.importorskip("shapely")
pyproj = pytest.importorskip("pyproj")


def _host(dev, a):
    return dev.to_host(a)


def _geoms(geoms, device):
    from xpdb.spatial import from_shapely

    return from_shapely(np.asarray(geoms, dtype=object), device=device)


def _shapely_points(x, y):
    pts = shapely.points(x, y)
    pts[np.isnan(x) | np.isnan(y)] = shapely.Point()  # empty points, as GeoArrow's NaN
    return pts


def _assert_matches(got, ref, atol=1e-9):
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=atol, equal_nan=True)


# -- haversine -------------------------------------------------------------------------------


def _geod_km(lon1, lat1, lon2, lat2):
    geod = pyproj.Geod(a=EARTH_RADIUS_KM * 1000.0, f=0.0)  # a sphere: geodesic = great circle
    _, _, d = geod.inv(lon1, lat1, lon2, lat2)
    return np.asarray(d) / 1000.0


def test_haversine_matches_pyproj_on_the_sphere(device, rng):
    dev = get_device(device)
    n = 2000
    lon1, lon2 = rng.uniform(-180, 180, n), rng.uniform(-180, 180, n)
    lat1, lat2 = rng.uniform(-90, 90, n), rng.uniform(-90, 90, n)
    # near-identical points, antipodes, the antimeridian, the poles, unnormalized longitudes
    lon2[:100], lat2[:100] = lon1[:100] + 1e-7, lat1[:100] - 1e-7
    lon2[100:200], lat2[100:200] = lon1[100:200] - 180.0 + 1e-6, -lat1[100:200]
    lon1[200:300], lon2[200:300] = 179.9, -179.95
    lat1[300:350], lat2[350:400] = 90.0, -90.0
    lon1[400:450] += 360.0
    got = haversine_distance(*(dev.asarray(a) for a in (lon1, lat1, lon2, lat2)))
    assert type(got) is type(dev.asarray(lon1))
    ref = _geod_km(lon1, lat1, lon2, lat2)
    np.testing.assert_allclose(_host(dev, got), ref, rtol=1e-10, atol=1e-6)


def test_haversine_special_points(device):
    dev = get_device(device)
    lon1 = dev.asarray([179.5, 0.0, 10.0, 0.0, 20.0, 5.0])
    lat1 = dev.asarray([0.0, 90.0, 90.0, 90.0, 0.0, np.nan])
    lon2 = dev.asarray([-179.5, 123.0, -170.0, 0.0, -160.0, 5.0])
    lat2 = dev.asarray([0.0, 90.0, 89.0, -90.0, 0.0, 0.0])
    got = _host(dev, haversine_distance(lon1, lat1, lon2, lat2))
    arc = np.pi / 180.0 * EARTH_RADIUS_KM  # one degree of a great circle
    ref = [arc, 0.0, arc, 180 * arc, 180 * arc]
    np.testing.assert_allclose(got[:5], ref, rtol=1e-12, atol=1e-9)
    assert np.isnan(got[5])


def test_haversine_broadcasts_scalars_and_checks_inputs(rng):
    lon, lat = rng.uniform(-10, 10, 5), rng.uniform(-10, 10, 5)
    zero = np.zeros(5)
    np.testing.assert_allclose(haversine_distance(lon, lat, 0.0, 0.0),
                               _geod_km(lon, lat, zero, zero), rtol=1e-10)
    with pytest.raises(SpatialValueError, match=r"lat2 holds 123\.0"):
        haversine_distance(0.0, 0.0, 45.0, [10.0, 123.0])
    with pytest.raises(SpatialValueError, match="differ in length"):
        haversine_distance(lon, lat, lon[:3], lat[:3])
    with pytest.raises(XpdbTypeError, match="must hold numbers"):
        haversine_distance(np.array(["a"]), lat[:1], lon[:1], lat[:1])
    assert haversine_distance([], [], [], []).shape == (0,)


def test_haversine_kernel_matches_its_twin(device, rng):
    if device == "cpu":
        pytest.skip("the CPU runs the twin itself; the fused CUDA kernel is GPU-only")
    dev = get_device(device)
    n = 10_000
    arrays = [dev.asarray(rng.uniform(-180, 180, n)), dev.asarray(rng.uniform(-90, 90, n)),
              dev.asarray(rng.uniform(-540, 540, n)), dev.asarray(rng.uniform(-90, 90, n))]
    fast = dev.to_host(haversine_distance(*arrays))
    twin = dev.to_host(dmod._haversine_xp(dev.xp, *arrays, EARTH_RADIUS_KM))
    np.testing.assert_allclose(fast, twin, rtol=1e-13, atol=1e-9)
    one = dev.to_host(haversine_distance(arrays[0], arrays[1], 0.0, 0.0))  # broadcast scalars
    np.testing.assert_allclose(one, _geod_km(*(dev.to_host(a) for a in arrays[:2]),
                                             np.zeros(n), np.zeros(n)), rtol=1e-10, atol=1e-6)


def test_haversine_chunks_agree(monkeypatch, rng):
    lon1, lat1 = rng.uniform(-180, 180, 1000), rng.uniform(-90, 90, 1000)
    full = haversine_distance(lon1, lat1, 0.0, 0.0)
    monkeypatch.setattr(dmod, "CHUNK_ELEMENTS", 77)
    np.testing.assert_array_equal(haversine_distance(lon1, lat1, 0.0, 0.0), full)


# -- planar distances -------------------------------------------------------------------------


def test_point_point_distance_matches_shapely(device, rng):
    dev = get_device(device)
    x1, y1, x2, y2 = (rng.normal(size=300) for _ in range(4))
    x1[:5] = np.nan  # empty points
    ref = shapely.distance(_shapely_points(x1, y1), _shapely_points(x2, y2))
    got = point_point_distance(*(dev.asarray(a) for a in (x1, y1, x2, y2)))
    _assert_matches(_host(dev, got), ref)


def test_series_inputs_nulls_are_empty_points():
    import pandas as pd

    import xpdb

    x = pd.array([0.0, None, 3.0], dtype="Float64")
    y = pd.Series([0.0, 1.0, 4.0])
    ref = shapely.distance(_shapely_points(np.array([0.0, np.nan, 3.0]), y.to_numpy()),
                           shapely.Point(0, 0))
    _assert_matches(point_point_distance(pd.Series(x), y, 0.0, 0.0), ref)
    df = xpdb.DataFrame(pd.DataFrame({"x": x, "y": y}))
    got = point_point_distance(df["x"], df["y"], 0.0, 0.0)  # on the frame's device
    _assert_matches(got.get() if hasattr(got, "get") else got, ref)


def _random_lines(rng, n, multi_every=0):
    lines = []
    for i in range(n):
        k = int(rng.integers(2, 7))
        c = rng.uniform(0, 10, (k, 2)).round(1)  # a coarse grid: exact hits on segments
        if k > 2 and i % 3 == 0:
            c[1] = c[0]  # a zero-length segment
        line = shapely.LineString(c)
        if multi_every and i % multi_every == 0:
            line = shapely.MultiLineString([line, shapely.LineString(c[::-1] + 3.0)])
        lines.append(line)
    return lines


def _random_points(rng, n, geoms):
    x, y = rng.uniform(-2, 12, n).round(1), rng.uniform(-2, 12, n).round(1)
    # points exactly on a vertex and in the middle of a segment of their geometry
    for i in range(0, n, 7):
        c = shapely.get_coordinates(geoms[i]) if geoms[i] is not None else np.zeros((0, 2))
        if len(c) >= 2:
            x[i], y[i] = c[1] if i % 2 else (c[0] + c[1]) / 2
    x[3] = y[3] = np.nan
    return x, y


@pytest.mark.parametrize("multi", [False, True])
def test_point_linestring_distance_matches_shapely(device, rng, multi):
    dev = get_device(device)
    lines = _random_lines(rng, 200, multi_every=4 if multi else 0)
    lines[5] = shapely.MultiLineString() if multi else shapely.LineString()
    lines[9] = None  # a null row
    x, y = _random_points(rng, 200, lines)
    geoms = _geoms(lines, device)
    assert geoms.geom_type == ("multilinestring" if multi else "linestring")
    got = _host(dev, point_linestring_distance(dev.asarray(x), dev.asarray(y), geoms))
    ref = shapely.distance(_shapely_points(x, y), np.asarray(lines, dtype=object))
    _assert_matches(got, ref)
    assert np.isnan(got[[3, 5, 9]]).all() and (got == 0).sum() >= 20


def test_point_linestring_broadcasts_one_side(device, rng):
    dev = get_device(device)
    lines = _random_lines(rng, 30)
    x, y = rng.uniform(0, 10, 30), rng.uniform(0, 10, 30)
    one_line = _geoms(lines[:1], device)
    got = _host(dev, point_linestring_distance(x, y, one_line))
    _assert_matches(got, shapely.distance(_shapely_points(x, y), lines[0]))
    got = _host(dev, point_linestring_distance(x[:1], y[:1], _geoms(lines, device)))
    ref = shapely.distance(shapely.Point(x[0], y[0]), np.asarray(lines, dtype=object))
    _assert_matches(got, ref)
    assert point_linestring_distance([], [], one_line).shape == (0,)


def _random_polygons(rng, n, multi_every=0):
    polys = []
    for i in range(n):
        cx, cy, r = rng.uniform(0, 10), rng.uniform(0, 10), rng.uniform(0.5, 3)
        poly = shapely.Point(cx, cy).buffer(r, quad_segs=int(rng.integers(1, 5)))
        if i % 3 == 0:  # a hole
            poly = poly.difference(shapely.box(cx - r / 3, cy - r / 3, cx + r / 3, cy + r / 3))
        if multi_every and i % multi_every == 0:
            poly = shapely.MultiPolygon([poly, shapely.box(cx + r + 1, cy, cx + r + 2, cy + 1)])
        polys.append(poly)
    return polys


@pytest.mark.parametrize("multi", [False, True])
def test_point_polygon_distance_matches_shapely(device, rng, multi):
    dev = get_device(device)
    polys = _random_polygons(rng, 200, multi_every=4 if multi else 0)
    polys[5] = shapely.MultiPolygon() if multi else shapely.Polygon()
    polys[8] = None
    x, y = _random_points(rng, 200, polys)
    # centres of holes (outside) and of shells (inside when no hole)
    cent = shapely.get_coordinates(shapely.centroid(np.asarray(polys[10:40], dtype=object)))
    x[10:40], y[10:40] = cent[:, 0], cent[:, 1]
    geoms = _geoms(polys, device)
    got = _host(dev, point_polygon_distance(dev.asarray(x), dev.asarray(y), geoms))
    ref = shapely.distance(_shapely_points(x, y), np.asarray(polys, dtype=object))
    _assert_matches(got, ref)
    inside = shapely.contains(np.asarray(polys, dtype=object), _shapely_points(x, y))
    # points within rounding of an edge may be on either side; their distance is ~1e-16
    assert inside.sum() > 10 and (got[inside] <= 1e-12).all()
    if not multi:
        assert (got[12:40:3] > 0).all()  # hole centres are outside


def test_small_chunks_give_the_same_distances(device, rng, monkeypatch):
    dev = get_device(device)
    polys = _random_polygons(rng, 60)
    lines = _geoms(_random_lines(rng, 9), device)
    x, y = _random_points(rng, 60, polys)
    geoms = _geoms(polys, device)
    full = _host(dev, point_polygon_distance(x, y, geoms))
    near = [_host(dev, a) for a in nearest_linestring(x, y, lines)]
    for step in (1, 5, 64):  # one pair may exceed a chunk: it gets a chunk of its own
        monkeypatch.setattr(dmod, "CHUNK_ELEMENTS", step)
        monkeypatch.setattr(dmod, "GPU_CHUNK_ELEMENTS", step)
        np.testing.assert_array_equal(_host(dev, point_polygon_distance(x, y, geoms)), full)
        for a, b in zip(nearest_linestring(x, y, lines), near, strict=True):
            np.testing.assert_array_equal(_host(dev, a), b)


def test_pairwise_inputs_are_checked(rng):
    lines = _geoms(_random_lines(rng, 4), "cpu")
    polys = _geoms(_random_polygons(rng, 4), "cpu")
    with pytest.raises(SpatialValueError, match="3 points and 4 geometries"):
        point_linestring_distance(np.zeros(3), np.zeros(3), lines)
    with pytest.raises(XpdbTypeError, match="linestring or multilinestring, got 'polygon'"):
        point_linestring_distance(np.zeros(4), np.zeros(4), polys)
    with pytest.raises(XpdbTypeError, match="polygon or multipolygon"):
        point_polygon_distance(np.zeros(4), np.zeros(4), lines)
    with pytest.raises(XpdbTypeError, match="GeometryArray"):
        nearest_linestring([0.0], [0.0], [[0.0, 1.0]])


# -- nearest linestring ---------------------------------------------------------------------


def test_nearest_linestring_matches_shapely(device, rng):
    dev = get_device(device)
    lines = _random_lines(rng, 80, multi_every=5)
    lines[4] = shapely.MultiLineString()
    lines[6] = None
    x, y = _random_points(rng, 300, lines + lines + lines + lines)
    geoms = _geoms(lines, device)
    idx, dist = nearest_linestring(dev.asarray(x), dev.asarray(y), geoms)
    idx, dist = _host(dev, idx), _host(dev, dist)
    pts = _shapely_points(x, y)
    matrix = shapely.distance(pts[:, None], np.asarray(lines, dtype=object)[None, :])
    matrix[:, [4, 6]] = np.inf  # the empty and the null rows are never nearest
    ok = ~np.isnan(x)
    ref_idx = np.argmin(matrix[ok], axis=1)  # the first of equally near lines
    np.testing.assert_array_equal(idx[ok], ref_idx)
    np.testing.assert_allclose(dist[ok], matrix[ok].min(axis=1), rtol=1e-12, atol=1e-12)
    assert (idx[~ok] == -1).all() and np.isnan(dist[~ok]).all()


def test_nearest_linestring_ties_and_empties(device):
    dev = get_device(device)
    lines = [shapely.LineString([(0, 1), (4, 1)]), shapely.LineString([(0, -1), (4, -1)]),
             shapely.LineString([(2, 0), (2, 0.5)])]
    idx, dist = nearest_linestring([1.0, 3.0, 2.0], [0.0, 0.0, 0.0], _geoms(lines[:2], device))
    assert _host(dev, idx).tolist() == [0, 0, 0] and _host(dev, dist).tolist() == [1, 1, 1]
    idx, dist = nearest_linestring([2.0, 9.0], [0.0, 1.0], _geoms(lines, device))
    assert _host(dev, idx).tolist() == [2, 0]
    np.testing.assert_allclose(_host(dev, dist), [0.0, 5.0])
    idx, dist = nearest_linestring([1.0], [1.0], _geoms([None, shapely.LineString()], device))
    assert _host(dev, idx).tolist() == [-1] and np.isnan(_host(dev, dist)).all()
