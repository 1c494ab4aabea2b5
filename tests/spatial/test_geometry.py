"""GeometryArray: layout, views, row selection, devices (shapely is the oracle)."""

from __future__ import annotations

import numpy as np
import pytest

from xpdb.device import get_device
from xpdb.errors import TypeError as XpdbTypeError
from xpdb.spatial import (
    GeometryArray,
    GeometryError,
    boxes,
    concat_geometries,
    from_shapely,
    linestrings,
    points,
    polygons,
)
from xpdb.spatial.geometry import expand_ranges, gather_ranges, segment_ids

from .conftest import (
    needs_shapely,
    random_multipolygons,
    random_polygons,
    shapely,
    star_polygon_array,
)


def _mixed_rows(rng: np.random.Generator) -> np.ndarray:
    """Polygons with holes, an empty polygon and a null row."""
    polys = list(random_polygons(rng, 12))
    polys[3] = shapely.from_wkt("POLYGON EMPTY")
    polys[7] = None
    return np.array(polys, dtype=object)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Row-wise equality of shapely arrays, nulls equal to nulls."""
    na, nb = shapely.is_missing(a), shapely.is_missing(b)
    if not np.array_equal(na, nb):
        return False
    return bool(np.all(shapely.equals_exact(a[~na], b[~nb], tolerance=0)
                       | (shapely.is_empty(a[~na]) & shapely.is_empty(b[~nb]))))


@needs_shapely
def test_layout_views_match_shapely(device, rng):
    geoms = _mixed_rows(rng)
    ga = from_shapely(geoms, device)
    ga.validate()
    assert len(ga) == len(geoms) and ga.geom_type == "polygon"
    h = get_device(device).to_host
    valid = ~shapely.is_missing(geoms)
    np.testing.assert_array_equal(h(ga.is_null()), ~valid)
    np.testing.assert_array_equal(h(ga.is_empty()), ~valid | shapely.is_empty(geoms))
    # coordinates per row and rings per row
    co = h(ga.geom_coord_offsets())
    n_coords = np.where(valid, shapely.get_num_coordinates(geoms), 0)
    np.testing.assert_array_equal(np.diff(co), n_coords)
    gro = h(ga.geom_ring_offsets())
    n_rings = np.array([0 if g is None or g.is_empty else 1 + shapely.get_num_interior_rings(g)
                        for g in geoms])
    np.testing.assert_array_equal(np.diff(gro), n_rings)
    assert int(h(ga.ring_is_shell()).sum()) == int((n_rings > 0).sum())
    # one edge per consecutive coordinate pair of each ring
    e = ga.edges()
    assert len(e) == int(n_coords.sum() - n_rings.sum())
    np.testing.assert_array_equal(np.bincount(h(e.geom), minlength=len(geoms)),
                                  n_coords - n_rings)
    np.testing.assert_array_equal(h(ga.coord_geom()), np.repeat(np.arange(len(geoms)), n_coords))


@needs_shapely
def test_multipolygon_views(device, rng):
    mp = random_multipolygons(rng, 10)
    ga = from_shapely(mp, device)
    ga.validate()
    h = get_device(device).to_host
    rings = [sum(1 + len(p.interiors) for p in g.geoms) for g in mp]
    np.testing.assert_array_equal(np.diff(h(ga.geom_ring_offsets())), rings)
    assert int(h(ga.ring_is_shell()).sum()) == sum(len(g.geoms) for g in mp)
    np.testing.assert_array_equal(h(ga.ring_geom()), np.repeat(np.arange(10), rings))


@needs_shapely
def test_take_filter_slice_match_shapely_indexing(device, rng):
    geoms = _mixed_rows(rng)
    ga = from_shapely(geoms, device)
    idx = np.array([5, 3, 7, 7, 0, 11])
    assert _same(ga.take(idx).to_shapely(), geoms[idx])
    mask = rng.random(len(geoms)) < 0.5
    assert _same(ga.filter(mask).to_shapely(), geoms[mask])
    assert _same(ga[2:9:3].to_shapely(), geoms[2:9:3])
    assert _same(ga[-1].to_shapely(), geoms[-1:])
    assert len(ga.take(np.zeros(0, dtype=np.int64))) == 0
    with pytest.raises(IndexError):
        ga[len(geoms)]


@needs_shapely
def test_device_round_trip_and_concat(device, rng):
    geoms = _mixed_rows(rng)
    ga = from_shapely(geoms, "cpu").to(device)
    assert str(ga.device).startswith(device)
    back = ga.to("cpu")
    assert _same(back.to_shapely(), geoms)
    cat = concat_geometries([ga, ga.take(np.array([1, 2]))])
    cat.validate()
    assert _same(cat.to_shapely(), np.concatenate([geoms, geoms[[1, 2]]]))
    with pytest.raises(XpdbTypeError, match="concatenate"):
        concat_geometries([ga, points([0.0], [0.0], device=device)])


@needs_shapely
def test_as_multi_keeps_rows(device, rng):
    geoms = _mixed_rows(rng)
    m = from_shapely(geoms, device).as_multi()
    assert m.geom_type == "multipolygon"
    m.validate()
    want = np.array([None if g is None else shapely.MultiPolygon([g] if not g.is_empty else [])
                     for g in geoms], dtype=object)
    assert _same(m.to_shapely(), want)
    pts = points([1.0, np.nan], [2.0, np.nan], device=device).as_multi()
    assert shapely.to_wkt(pts.to_shapely()).tolist() == ["MULTIPOINT ((1 2))", "MULTIPOINT EMPTY"]


@needs_shapely
def test_constructors_match_shapely(device):
    ls = linestrings([0, 1, 2, 5, 6], [0, 1, 0, 5, 5], [0, 3, 3, 5], device=device)
    assert shapely.to_wkt(ls.to_shapely()).tolist() == [
        "LINESTRING (0 0, 1 1, 2 0)", "LINESTRING EMPTY", "LINESTRING (5 5, 6 5)"]
    b = boxes(np.array([0.0, 2.0]), np.array([1.0, 3.0]), np.array([1.0, 5.0]),
              np.array([2.0, 4.0]), device=device)
    want = shapely.box([0.0, 2.0], [1.0, 3.0], [1.0, 5.0], [2.0, 4.0])
    assert bool(np.all(shapely.equals_exact(b.to_shapely(), want, tolerance=0)))
    sq = polygons([0, 1, 1, 0, 0], [0, 0, 1, 1, 0], [0, 5], [0, 1], validity=[True],
                  device=device)
    assert sq.to_shapely()[0].equals(shapely.box(0, 0, 1, 1))


def test_bad_layouts_raise(device):
    with pytest.raises(XpdbTypeError, match="unknown geometry type 'curve'"):
        GeometryArray("curve", [0.0], [0.0], device=device)
    with pytest.raises(GeometryError, match="needs 2 offsets"):
        GeometryArray("polygon", [0.0], [0.0], ([0, 1],), device=device)
    with pytest.raises(GeometryError, match="equal length"):
        points([0.0, 1.0], [0.0], device=device)
    with pytest.raises(GeometryError, match="run from 0 to 3"):
        linestrings([0, 1, 2], [0, 1, 2], [0, 2], device=device).validate()
    with pytest.raises(GeometryError, match="decrease"):
        linestrings([0, 1, 2], [0, 1, 2], [0, 2, 1, 3], device=device).validate()
    with pytest.raises(GeometryError, match="ring 1 is not closed"):
        polygons([0, 1, 1, 0, 5, 6, 6], [0, 0, 1, 0, 5, 5, 6], [0, 4, 7], [0, 2],
                 device=device).validate()
    with pytest.raises(GeometryError, match="validity has 1"):
        points([0.0, 1.0], [0.0, 1.0], validity=[True], device=device)


def test_range_helpers_match_python(device, rng):
    xp = get_device(device).xp
    h = get_device(device).to_host
    lens = rng.integers(0, 4, 50)
    offs = np.concatenate([[0], np.cumsum(lens)])
    np.testing.assert_array_equal(h(segment_ids(xp, xp.asarray(offs))),
                                  np.repeat(np.arange(50), lens))
    starts = rng.integers(0, 100, 50)
    want = np.concatenate([np.arange(s, s + n) for s, n in zip(starts, lens, strict=True)])
    np.testing.assert_array_equal(h(expand_ranges(xp, xp.asarray(starts), xp.asarray(lens))),
                                  want)
    idx = rng.integers(0, 50, 20)
    new, child = gather_ranges(xp, xp.asarray(offs), xp.asarray(idx))
    np.testing.assert_array_equal(np.diff(h(new)), lens[idx])
    np.testing.assert_array_equal(
        h(child), np.concatenate([np.arange(offs[i], offs[i + 1]) for i in idx]))


def test_rows_and_views_on_device_match_cpu_without_shapely(device, rng):
    """Runs without shapely: row selection and kernel views on ``device`` against the CPU."""
    cpu = star_polygon_array(rng, 25, "cpu")
    here = cpu.to(device)
    h = get_device(device).to_host
    idx = np.array([7, 0, 24, 7, 3])
    for a, on_dev in [(cpu.take(idx), here.take(idx)), (cpu[::4], here[::4]),
                      (cpu.as_multi(), here.as_multi())]:
        b = on_dev.to("cpu")
        np.testing.assert_array_equal(a.x, b.x)
        for oa, ob in zip(a.offsets, b.offsets, strict=True):
            np.testing.assert_array_equal(oa, ob)
    e0, e1 = cpu.edges(), here.edges()
    for f in ("x0", "y0", "x1", "y1", "ring", "geom"):
        np.testing.assert_array_equal(getattr(e0, f), h(getattr(e1, f)))
    np.testing.assert_array_equal(cpu.ring_is_shell(), h(here.ring_is_shell()))
    # the views agree with the offsets read by hand
    go, ro = cpu.offsets
    np.testing.assert_array_equal(cpu.geom_coord_offsets(), ro[go])
    assert int(cpu.ring_is_shell().sum()) == 25
