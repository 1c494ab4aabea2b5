"""points_in_polygons against shapely (STRtree queries) on random and degenerate geometry."""

from __future__ import annotations

import numpy as np
import pytest

from xpdb.device import get_device
from xpdb.errors import TypeError as XpdbTypeError
from xpdb.errors import XpdbError
from xpdb.spatial import GridIndex, from_shapely, linestrings, points_in_polygons
from xpdb.spatial import contains as contains_mod

from .conftest import (
    as_pairs,
    boundary_points,
    needs_shapely,
    oracle_pairs,
    random_multipolygons,
    random_polygons,
    shapely,
    star,
    star_polygon_array,
)

PREDS = [("contains", "within"), ("intersects", "intersects")]


def _check(device, x, y, polys, **kw) -> int:
    """Compare both predicates with shapely; return the number of boundary pairs (those
    ``intersects`` finds and ``contains`` does not)."""
    ga = from_shapely(polys, device)
    found = {}
    for ours, theirs in PREDS:
        p, g = points_in_polygons(x, y, ga, predicate=ours, **kw)
        assert str(get_device(device)) == str(ga.device)
        got = as_pairs(p, g)
        want = oracle_pairs(x, y, polys, theirs)
        assert got == want, (ours, sorted(set(got) ^ set(want))[:5])
        found[ours] = len(got)
    return found["intersects"] - found["contains"]


@needs_shapely
def test_random_polygons_with_holes_and_boundary_points(device, rng):
    polys = random_polygons(rng, 150)
    bx, by = boundary_points(polys)
    x = np.concatenate([rng.uniform(-5, 105, 5000), bx])
    y = np.concatenate([rng.uniform(-5, 105, 5000), by])
    assert _check(device, x, y, polys) >= len(bx)


@needs_shapely
def test_integer_grid_points_on_integer_polygons(device, rng):
    """Every point of an integer grid against polygons with integer vertices: many points
    lie exactly on diagonal edges and vertices, where only exact arithmetic agrees."""
    polys = random_polygons(rng, 60, extent=40, integer=True)
    gx, gy = np.meshgrid(np.arange(-2, 43, dtype=float), np.arange(-2, 43, dtype=float))
    assert _check(device, gx.ravel(), gy.ravel(), polys) > 200


@needs_shapely
def test_multipolygons_with_holes(device, rng):
    mp = random_multipolygons(rng, 40)
    bx, by = boundary_points(mp)
    x = np.concatenate([rng.uniform(-5, 130, 4000), bx])
    y = np.concatenate([rng.uniform(-5, 105, 4000), by])
    assert _check(device, x, y, mp) >= len(bx)


@needs_shapely
def test_nested_and_overlapping_shapes(device):
    """A point in a hole of one polygon but inside an island polygon in that hole; polygons
    sharing an edge; a point on a hole's vertex."""
    outer = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)],
                            [[(2, 2), (2, 8), (8, 8), (8, 2)]])
    island = shapely.box(4, 4, 6, 6)
    right = shapely.box(10, 0, 20, 10)
    mp = shapely.MultiPolygon([shapely.box(30, 0, 31, 1), shapely.box(32, 0, 33, 1)])
    polys = np.array([outer, island, right, mp], dtype=object)
    x = np.array([1, 5, 3, 10, 10, 2, 15, 30.5, 31.5, 32, 4, 4.5])
    y = np.array([1, 5, 3, 5, 0, 2, 5, 0.5, 0.5, 0.5, 4, 6])
    assert _check(device, x, y, polys) == 8


@needs_shapely
def test_empty_null_polygons_and_nan_points(device, rng):
    polys = list(random_polygons(rng, 8, holes=False))
    polys[2] = shapely.from_wkt("POLYGON EMPTY")
    polys[5] = None
    polys = np.array(polys, dtype=object)
    x = rng.uniform(0, 100, 3000)
    y = rng.uniform(0, 100, 3000)
    x[::7] = np.nan
    ga = from_shapely(polys, device)
    p, g = points_in_polygons(x, y, ga, "intersects")
    got = as_pairs(p, g)
    keep = np.array([q is not None for q in polys])
    sub = np.nonzero(keep)[0]
    ok = ~np.isnan(x)
    want = sorted((int(np.nonzero(ok)[0][a]), int(sub[b]))
                  for a, b in oracle_pairs(x[ok], y[ok], polys[keep], "intersects"))
    assert got == want and len(got) > 0
    assert not any(b in (2, 5) for _, b in got)
    # nothing to match at all
    e = from_shapely(np.array([None, shapely.from_wkt("POLYGON EMPTY")]), device)
    assert len(points_in_polygons(x, y, e)[0]) == 0
    assert len(points_in_polygons(np.zeros(0), np.zeros(0), ga)[0]) == 0


@needs_shapely
def test_antimeridian_is_planar_like_shapely(device):
    """A polygon spanning lon 170..190 (planar) and its split twin across +-180: a point
    at lon -175 is only in the split one, exactly as in shapely."""
    wide = shapely.box(170, -10, 190, 10)
    split = shapely.MultiPolygon([shapely.box(170, -10, 180, 10), shapely.box(-180, -10, -170, 10)])
    polys = np.array([wide, split], dtype=object)
    x = np.array([-175.0, 175.0, 185.0, 180.0, -180.0])
    y = np.zeros(5)
    assert _check(device, x, y, polys) == 2


@needs_shapely
def test_tiny_chunks_give_the_same_answer(device, rng, monkeypatch):
    polys = random_polygons(rng, 40)
    x, y = rng.uniform(0, 100, 3000), rng.uniform(0, 100, 3000)
    ga = from_shapely(polys, device)
    p0, g0 = points_in_polygons(x, y, ga)
    monkeypatch.setattr(contains_mod, "PAIR_EDGE_BUDGET", 7)
    idx = GridIndex(ga, cells_per_item=0.5)
    p1, g1 = points_in_polygons(x, y, ga, index=idx, max_pairs=5)
    assert as_pairs(p0, g0) == as_pairs(p1, g1) == oracle_pairs(x, y, polys, "within")


@needs_shapely
def test_numpy_twin_matches_device_kernel(device, rng):
    """The portable expansion and the dispatched test (the RawKernel on the GPU) agree."""
    dev = get_device(device)
    polys = random_polygons(rng, 30, extent=30, integer=True)
    ga = from_shapely(polys, device)
    edges = contains_mod.PolygonEdges(ga)
    n = 4000
    px = dev.asarray(np.round(rng.uniform(0, 30, n) * 2) / 2)
    py = dev.asarray(np.round(rng.uniform(0, 30, n) * 2) / 2)
    g = dev.asarray(rng.integers(0, len(polys), n))
    for pred in ("contains", "intersects"):
        twin = contains_mod.pair_test_xp(dev.xp, px, py, g, edges, pred, budget=1000)
        fast = contains_mod.pair_test(px, py, g, edges, pred)
        np.testing.assert_array_equal(dev.to_host(twin), dev.to_host(fast))
        want = getattr(shapely, "contains" if pred == "contains" else "intersects")(
            polys[dev.to_host(g)], shapely.points(dev.to_host(px), dev.to_host(py)))
        np.testing.assert_array_equal(dev.to_host(fast), want)


@needs_shapely
@pytest.mark.parametrize("per_band", [1, 3, 8, 10**6])
def test_band_sizes_on_many_vertex_polygons(device, rng, per_band):
    """Polygons of 50-300 vertices, segmentized boxes (long runs of collinear edges, points
    on them): the y-band edge lists give shapely's answer for any band size."""
    stars = [shapely.Polygon(star(rng, *rng.uniform(10, 90, 2), 10.0, int(rng.integers(50, 300))))
             for _ in range(12)]
    boxes_ = list(shapely.segmentize(shapely.box(*rng.integers(0, 80, (2, 8)),
                                                 *(rng.integers(0, 80, (2, 8)) + 15)), 1.0))
    polys = np.array(stars + boxes_, dtype=object)
    ga = from_shapely(polys, device)
    edges = contains_mod.PolygonEdges(ga, edges_per_band=per_band)
    bx, by = boundary_points(polys)
    x = np.concatenate([rng.uniform(0, 100, 3000), bx])
    y = np.concatenate([rng.uniform(0, 100, 3000), by])
    dev = get_device(device)
    idx = GridIndex(ga)
    p, g = idx.query_points(dev.asarray(x), dev.asarray(y))
    for pred, fn in (("contains", shapely.contains), ("intersects", shapely.intersects)):
        got = contains_mod.pair_test(dev.asarray(x)[p], dev.asarray(y)[p], g, edges, pred)
        want = fn(polys[dev.to_host(g)], shapely.points(x[dev.to_host(p)], y[dev.to_host(p)]))
        np.testing.assert_array_equal(dev.to_host(got), want)
    n_edges = np.diff(dev.to_host(edges.edge_offsets))
    np.testing.assert_array_equal(dev.to_host(edges.n_bands), np.maximum(n_edges // per_band, 1))


@needs_shapely
@pytest.mark.parametrize("method", ["points", "pairs"])
def test_methods_agree_with_shapely(device, rng, method):
    """The per-point pass (kernel on the GPU, twin on the CPU) with its fallback for points
    in several polygons, and the pair path, on overlapping polygons."""
    polys = random_polygons(rng, 80, extent=50)
    bx, by = boundary_points(polys)
    x = np.concatenate([rng.uniform(-2, 52, 4000), bx, [np.nan]])
    y = np.concatenate([rng.uniform(-2, 52, 4000), by, [1.0]])
    ga = from_shapely(polys, device)
    for ours, theirs in PREDS:
        got = as_pairs(*points_in_polygons(x, y, ga, ours, method=method, max_pairs=999))
        want = oracle_pairs(x, y, polys, theirs)
        assert got == want
        counts = np.bincount([p for p, _ in want])
        assert (counts > 1).sum() > 100  # the multi-polygon fallback is exercised


@needs_shapely
def test_point_hits_twin_matches_device(device, rng):
    dev = get_device(device)
    polys = random_polygons(rng, 50, extent=30, integer=True)
    ga = from_shapely(polys, device)
    idx, edges = GridIndex(ga), contains_mod.PolygonEdges(ga)
    x = dev.asarray(np.round(rng.uniform(-1, 31, 5000) * 2) / 2)
    y = dev.asarray(np.round(rng.uniform(-1, 31, 5000) * 2) / 2)
    for pred in ("contains", "intersects"):
        c0, f0 = contains_mod.point_hits_xp(dev.xp, x, y, idx, edges, pred)
        c1, f1 = contains_mod.point_hits(x, y, idx, edges, pred)
        np.testing.assert_array_equal(dev.to_host(c0), dev.to_host(c1))
        np.testing.assert_array_equal(dev.to_host(f0), dev.to_host(f1))
        assert int(dev.to_host(c0).max()) > 1


@needs_shapely
def test_bad_input_raises(device):
    ga = from_shapely(np.array([shapely.box(0, 0, 1, 1)]), device)
    with pytest.raises(XpdbError, match="unknown predicate 'touches'"):
        points_in_polygons([0.5], [0.5], ga, predicate="touches")
    lines = linestrings([0.0, 1.0], [0.0, 1.0], [0, 2], device=device)
    with pytest.raises(XpdbTypeError, match="needs polygons"):
        points_in_polygons([0.5], [0.5], lines)
    with pytest.raises(XpdbError, match="equal length"):
        points_in_polygons([0.5, 1.0], [0.5], ga)
    with pytest.raises(XpdbError, match="unknown method 'fast'"):
        points_in_polygons([0.5], [0.5], ga, method="fast")


@pytest.mark.parametrize("method", ["points", "pairs"])
def test_device_matches_cpu_without_shapely(device, rng, method):
    """Runs where shapely is missing (the GPU machine): each method on ``device`` against the
    CPU pair path (itself checked against shapely above) on star polygons with holes, with
    integer vertices and half-integer grid points (many on edges and vertices)."""
    cpu = star_polygon_array(rng, 60, "cpu", extent=40, integer=True)
    here = cpu.to(device)
    g = np.arange(-2, 42, 0.5)
    gx, gy = (v.ravel() for v in np.meshgrid(g, g))
    x = np.concatenate([gx, rng.uniform(-2, 42, 3000), [np.nan]])
    y = np.concatenate([gy, rng.uniform(-2, 42, 3000), [0.0]])
    found = {}
    for pred in ("contains", "intersects"):
        want = as_pairs(*points_in_polygons(x, y, cpu, pred, method="pairs"))
        got = as_pairs(*points_in_polygons(x, y, here, pred, method=method, max_pairs=5000))
        assert got == want
        found[pred] = len(want)
    assert found["intersects"] - found["contains"] > 100  # boundary cases are present


def _lattice(device, k: int = 6):
    """``k * k`` unit squares on the integer lattice, every other one with a square hole."""
    from xpdb.spatial import polygons

    xs, ys, ring_off, geom_off = [], [], [0], [0]
    for i in range(k):
        for j in range(k):
            rings = [np.array([[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1], [i, j]], float)]
            if (i + j) % 2:
                h = np.array([[i + .25, j + .25], [i + .25, j + .75], [i + .75, j + .75],
                              [i + .75, j + .25], [i + .25, j + .25]])
                rings.append(h)
            for r in rings:
                xs.append(r[:, 0])
                ys.append(r[:, 1])
                ring_off.append(ring_off[-1] + len(r))
            geom_off.append(geom_off[-1] + len(rings))
    return polygons(np.concatenate(xs), np.concatenate(ys), ring_off, geom_off, device=device)


@pytest.mark.parametrize("pred", ["contains", "intersects"])
def test_known_cells_answer_like_the_exact_test(device, rng, pred):
    """Cells no edge reaches answer for all their points: on a lattice whose grid lines lie
    on the polygons' edges (points on the lines, on cell borders and inside cells), and on
    overlapping star polygons, the per-point path with cell states equals the pair path."""
    dev = get_device(device)
    ga = _lattice(device)
    # the index grid: 1/4 cells, so grid lines fall on every edge and hole edge
    idx = GridIndex(ga, cells_per_item=16.0, max_entries_per_item=64.0)
    edges = contains_mod.PolygonEdges(ga)
    cells = contains_mod.CellStates(idx, edges)
    assert cells.n_known > 0
    x = np.concatenate([np.round(rng.uniform(-0.5, 6.5, 4000) * 8) / 8,
                        rng.uniform(0, 6, 2000)])
    y = np.concatenate([np.round(rng.uniform(-0.5, 6.5, 4000) * 8) / 8,
                        rng.uniform(0, 6, 2000)])
    xd, yd = dev.asarray(x), dev.asarray(y)
    want = as_pairs(*points_in_polygons(xd, yd, ga, pred, index=idx, method="pairs"))
    got = as_pairs(*points_in_polygons(xd, yd, ga, pred, index=idx, method="points"))
    assert got == want
    # the same through the twin and (on the GPU) the kernel, with the cell states
    c0, f0 = contains_mod.point_hits_xp(dev.xp, xd, yd, idx, edges, pred, cells=cells)
    c1, f1 = contains_mod.point_hits(xd, yd, idx, edges, pred, cells=cells)
    np.testing.assert_array_equal(dev.to_host(c0), dev.to_host(c1))
    np.testing.assert_array_equal(dev.to_host(f0), dev.to_host(f1))
    # random stars with holes on the default (fine) grid
    stars = star_polygon_array(rng, 60, device=device, extent=40.0)
    sx, sy = dev.asarray(rng.uniform(-1, 41, 5000)), dev.asarray(rng.uniform(-1, 41, 5000))
    assert as_pairs(*points_in_polygons(sx, sy, stars, pred, method="points")) == \
        as_pairs(*points_in_polygons(sx, sy, stars, pred, method="pairs"))


def test_cell_states_skip_long_edges(device):
    """Past the (edge, cell) budget every cell is left to the exact test."""
    ga = _lattice(device, 3)
    idx = GridIndex(ga, cells_per_item=16.0, max_entries_per_item=64.0)
    edges = contains_mod.PolygonEdges(ga)
    assert contains_mod.CellStates(idx, edges).n_known > 0
    assert contains_mod.CellStates(idx, edges, budget=10).n_known == 0


@needs_shapely
def test_index_is_kept_with_the_polygons(device, rng):
    """A second join to the same polygons reuses their grid, edge bands and cell states and
    gives the same pairs; a join of a very different size builds a grid of its own; a new
    array (``take``) starts without them."""
    polys = random_polygons(rng, 80)
    ga = from_shapely(polys, device)
    dev = get_device(device)
    x, y = dev.asarray(rng.uniform(-5, 105, 20000)), dev.asarray(rng.uniform(-5, 105, 20000))
    first = as_pairs(*points_in_polygons(x, y, ga))
    kept = ga._derived["pip"]
    assert as_pairs(*points_in_polygons(x, y, ga)) == first
    assert ga._derived["pip"] is kept
    assert first == oracle_pairs(dev.to_host(x), dev.to_host(y), polys, "within")
    few = as_pairs(*points_in_polygons(x[:500], y[:500], ga))
    assert ga._derived["pip"][0] != kept[0]
    assert few == [pg for pg in first if pg[0] < 500]
    assert "pip" not in ga.take(np.arange(len(ga)))._derived
