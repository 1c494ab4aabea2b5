"""xpdb.spatial.projection against pyproj (PROJ) and by round trips."""

from __future__ import annotations

import numpy as np
import pytest

from xpdb.device import get_device
from xpdb.spatial.distance import EARTH_RADIUS_KM, SpatialValueError, haversine_distance
from xpdb.spatial.projection import cartesian_to_lonlat, lonlat_to_cartesian, proj_string

pyproj = pytest.importorskip("pyproj")

ORIGINS = [(2.35, 48.85), (-73.98, 40.75), (179.9, -33.9), (10.0, 85.0), (0.0, 0.0)]


def _around(rng, lon0, lat0, n, span):
    lon = lon0 + rng.uniform(-span, span, n)
    lat = np.clip(lat0 + rng.uniform(-span, span, n), -89.9, 89.9)
    return lon, lat


def _pyproj(lon, lat, lon0, lat0, projection, unit="m"):
    crs = pyproj.CRS(proj_string(lon0, lat0, projection=projection, unit=unit))
    t = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return t.transform(lon, lat)


@pytest.mark.parametrize("projection", ["tmerc", "aeqd"])
@pytest.mark.parametrize("origin", ORIGINS)
def test_matches_pyproj_within_a_micrometre(device, rng, projection, origin):
    dev = get_device(device)
    lon0, lat0 = origin
    lon, lat = _around(rng, lon0, lat0, 2000, 20.0)  # up to ~2000 km from the origin
    x, y = lonlat_to_cartesian(dev.asarray(lon), dev.asarray(lat), lon0, lat0,
                               projection=projection, unit="m")
    assert type(x) is type(dev.asarray(lon))
    ref_x, ref_y = _pyproj(lon, lat, lon0, lat0, projection)
    np.testing.assert_allclose(dev.to_host(x), ref_x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(dev.to_host(y), ref_y, rtol=0, atol=1e-6)


def test_aeqd_matches_pyproj_on_the_whole_sphere(rng):
    lon = rng.uniform(-180, 180, 5000)
    lat = rng.uniform(-90, 90, 5000)
    x, y = lonlat_to_cartesian(lon, lat, 30.0, -20.0, projection="aeqd", unit="m")
    ref_x, ref_y = _pyproj(lon, lat, 30.0, -20.0, "aeqd")
    np.testing.assert_allclose(x, ref_x, rtol=0, atol=1e-5)
    np.testing.assert_allclose(y, ref_y, rtol=0, atol=1e-5)
    # the defining property: the planar distance to the origin is the great-circle one
    np.testing.assert_allclose(np.hypot(x, y) / 1000, haversine_distance(lon, lat, 30.0, -20.0),
                               rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("projection", ["tmerc", "aeqd"])
def test_round_trip(device, rng, projection):
    dev = get_device(device)
    for lon0, lat0 in ORIGINS:
        lon, lat = _around(rng, lon0, lat0, 1000, 30.0)
        lat[:3] = [90.0, -89.9, lat0]
        lon[2] = lon0
        x, y = lonlat_to_cartesian(dev.asarray(lon), dev.asarray(lat), lon0, lat0,
                                   projection=projection)
        lon2, lat2 = (dev.to_host(a) for a in cartesian_to_lonlat(x, y, lon0, lat0,
                                                                    projection=projection))
        np.testing.assert_allclose(lat2, lat, rtol=0, atol=1e-9)
        dlon = (lon2 - lon + 180.0) % 360.0 - 180.0  # equal modulo 360
        assert np.abs(dlon[1:]).max() < 1e-9  # the pole's longitude is arbitrary
        assert ((lon2 >= -180) & (lon2 < 180)).all()
        assert abs(dev.to_host(x)[2]) < 1e-9 and abs(dev.to_host(y)[2]) < 1e-9  # origin -> 0


def test_units_and_documented_scale_error(rng):
    lon, lat = _around(rng, 2.35, 48.85, 200, 3.0)
    xkm, ykm = lonlat_to_cartesian(lon, lat, 2.35, 48.85)
    xm, ym = lonlat_to_cartesian(lon, lat, 2.35, 48.85, unit="m")
    np.testing.assert_allclose(xm, xkm * 1000, rtol=1e-15)
    np.testing.assert_allclose(ym, ykm * 1000, rtol=1e-15)
    # short north-south steps 100 km east of the origin: the planar length is the WGS84
    # geodesic one times the transverse Mercator scale 1 + x^2 / (2 R^2) (+0.012 %)
    lon0, lat0 = 2.35, 48.85
    east = 100.0 / (111.32 * np.cos(np.radians(lat0)))
    lons = np.array([lon0 + east, lon0 + east])
    lats = np.array([lat0, lat0 + 0.01])
    x, y = lonlat_to_cartesian(lons, lats, lon0, lat0)
    planar = np.hypot(np.diff(x), np.diff(y))[0]
    geod = pyproj.Geod(ellps="WGS84").inv(lons[0], lats[0], lons[1], lats[1])[2] / 1000
    scale = planar / geod
    expected = 1 + x.mean() ** 2 / (2 * EARTH_RADIUS_KM**2)
    assert abs(scale - expected) < 2e-6 and 1.0001 < scale < 1.00015


def test_bad_arguments():
    with pytest.raises(SpatialValueError, match="unknown projection 'utm'"):
        lonlat_to_cartesian([0.0], [0.0], 0.0, 0.0, projection="utm")
    with pytest.raises(SpatialValueError, match="unknown unit 'mi'"):
        cartesian_to_lonlat([0.0], [0.0], 0.0, 0.0, unit="mi")
    with pytest.raises(SpatialValueError, match=r"origin \(0.0, 95.0\)"):
        lonlat_to_cartesian([0.0], [0.0], 0.0, 95.0)
    with pytest.raises(SpatialValueError, match="differ in length"):
        lonlat_to_cartesian([0.0, 1.0], [0.0, 1.0, 2.0], 0.0, 0.0)
    x, y = lonlat_to_cartesian([np.nan], [1.0], 0.0, 0.0)
    assert np.isnan(x).all() and np.isnan(y).all()
