"""Polygon/polygon contains and within (xpdb.spatial.polygon_relate) against shapely and
geopandas: hand-made degenerate cases, random polygons on a coarse grid (many exact touches),
random polygons in general position, chunking, and device against CPU."""

from __future__ import annotations

import numpy as np
import pytest

from xpdb.errors import XpdbError
from xpdb.spatial import boxes, from_shapely, points, sjoin
from xpdb.spatial.polygon_relate import contains_pairs, polygons_contain, polygons_within

from .conftest import (
    as_pairs,
    gpd_pairs,
    needs_shapely,
    random_polygons,
    shapely,
    star_polygon_array,
)


def _multi(geoms: list) -> np.ndarray:
    """Polygons as one-part multipolygons (one geometry type per array); None stays."""
    return np.array([g if g is None or g.geom_type == "MultiPolygon"
                     else shapely.MultiPolygon([g]) if not g.is_empty
                     else shapely.from_wkt("MULTIPOLYGON EMPTY") for g in geoms], dtype=object)


def _shapely_pairs(left: np.ndarray, right: np.ndarray, predicate: str) -> list[tuple[int, int]]:
    """All pairs by brute force with shapely (None matches nothing)."""
    fn = getattr(shapely, predicate)
    return [(i, j) for i, a in enumerate(left) for j, b in enumerate(right)
            if a is not None and b is not None and bool(fn(a, b))]


# -- hand-made degenerate cases --------------------------------------------------------------
# Where a ring touches another ring's edge, the touching point is also a vertex of that edge:
# GEOS 3.14's relate answers differently for the same point sets when it is not (see
# test_touching_points_need_not_be_vertices).
PINCHED = [(0, 0), (2, 0), (4, 0), (4, 4), (0, 4)]     # box(0, 0, 4, 4), a vertex at (2, 0)
TOUCHED = [(0, 0), (10, 0), (10, 10), (0, 10), (0, 5)]  # box(0, 0, 10, 10), a vertex at (0, 5)


def _cases() -> tuple[list, list]:
    box, poly, mp = shapely.box, shapely.Polygon, shapely.MultiPolygon
    cw = shapely.geometry.polygon.orient
    holed = poly([(0, 0), (10, 0), (10, 10), (0, 10)], [[(4, 4), (4, 6), (6, 6), (6, 4)]])
    left = [
        box(0, 0, 10, 10),                                   # 0 plain square
        holed,                                               # 1 square with a hole
        mp([box(0, 0, 4, 4), box(6, 0, 10, 4)]),             # 2 two disjoint parts
        mp([box(0, 0, 2, 2), box(2, 2, 4, 4)]),              # 3 parts touching at a vertex
        mp([poly(PINCHED), poly([(2, 0), (1, -2), (3, -2)])]),  # 4 pinch at (2, 0)
        cw(holed, -1.0),                                     # 5 = 1, clockwise shell
        poly(TOUCHED, [[(0, 5), (3, 4), (3, 6)]]),           # 6 hole touching the shell
        shapely.from_wkt("POLYGON EMPTY"),                   # 7
        None,                                                # 8
        mp([poly([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (2, 8), (8, 8), (8, 2)]]),
            box(4, 4, 6, 6)]),                               # 9 an island in the hole
    ]
    right = [
        box(0, 0, 10, 10),                    # 0 equal to left 0
        box(0, 0, 5, 5),                      # 1 shares two edges from inside
        box(10, 0, 12, 5),                    # 2 shares an edge from outside
        box(1, 1, 3, 3),                      # 3 strictly inside
        box(4, 4, 6, 6),                      # 4 fills the hole of left 1 exactly
        box(4.5, 4.5, 5.5, 5.5),              # 5 inside the hole
        box(3, 3, 7, 7),                      # 6 holds the hole
        box(3, 4, 5, 6),                      # 7 crosses into the hole
        box(3, 3, 4, 7),                      # 8 shares part of the hole's edge from outside
        poly([(0, 0), (5, 0), (0, 5)]),       # 9 corner, parts of two edges
        poly([(2, 2), (8, 2), (8, 8), (2, 8)], [[(4, 4), (6, 4), (6, 6), (4, 6)]]),  # 10
        poly([(2, 2), (8, 2), (8, 8), (2, 8)], [[(3, 3), (7, 3), (7, 7), (3, 7)]]),  # 11
        mp([box(1, 1, 2, 2), box(7, 1, 8, 2)]),     # 12 a part in each part of left 2
        mp([box(1, 1, 2, 2), box(11, 1, 12, 2)]),   # 13 one part outside
        box(1, 1, 7, 3),                      # 14 spans the gap of left 2
        cw(box(1, 1, 2, 2), -1.0),            # 15 clockwise ring
        box(10, 10, 11, 11),                  # 16 touches left 0 at a corner, outside
        box(1, 0, 3, 1),                      # 17 edge through the pinch vertex of left 4
        poly([(2, 1), (2, -1), (2.5, 0)]),    # 18 edge crossing left 4's edge at the pinch
        box(0, 0, 2, 2),                      # 19 equals a part of left 3
        poly([(0, 5), (3, 4), (3, 6)]),       # 20 fills left 6's touching hole
        box(0, 0, 10, 3),                     # 21 inside left 6, shares three edges
        box(-1, 2, 1, 3),                     # 22 half outside
        cw(holed, -1.0),                      # 23 equal to left 1 / 5
        shapely.from_wkt("POLYGON EMPTY"),    # 24
        None,                                 # 25
        box(2, 0, 8, 4),                      # 26 both parts of left 2 plus the gap
        poly(TOUCHED, [[(0, 5), (3, 4), (3, 6)]]),  # 27 equal to left 6
        box(4, 4, 6, 6),                      # 28 the island of left 9 (= right 4)
        poly([(2, 2), (8, 2), (8, 8), (2, 8)], [[(4, 4), (6, 4), (6, 6), (4, 6)]]),  # 29 water
        mp([box(0, 0, 2, 10), box(4, 4, 6, 6)]),    # 30 a strip of left 9 and its island
        mp([box(0, 0, 2, 10), box(3, 3, 5, 5)]),    # 31 a strip and a box across the shore
    ]
    return left, right


@needs_shapely
@pytest.mark.parametrize("predicate", ["contains", "within"])
def test_degenerate_cases_match_shapely(device, predicate):
    left, right = (_multi(g) for g in _cases())
    if predicate == "within":
        left, right = right, left
    got = as_pairs(*sjoin(from_shapely(left, device), from_shapely(right, device), predicate))
    want = _shapely_pairs(left, right, predicate)
    assert got == want
    # the cases the brief names, as shapely has them
    pairs = set(got) if predicate == "contains" else {(j, i) for i, j in got}
    assert {(0, 0), (0, 1), (0, 9), (0, 21), (1, 8), (1, 10), (1, 11), (1, 23), (2, 12),
            (4, 17), (5, 23), (6, 21), (6, 27), (3, 19), (9, 28), (9, 30)} <= pairs
    assert not {(1, 4), (1, 5), (1, 6), (1, 7), (0, 2), (0, 16), (2, 13), (2, 14), (2, 26),
                (4, 18), (6, 20), (0, 22), (7, 24), (9, 29), (9, 31), (9, 10)} & pairs


@needs_shapely
def test_touching_points_need_not_be_vertices(device):
    """The same point sets with the touching point a vertex of both rings or of one: the
    answer does not change (shapely's, on the form where it is a vertex of both). GEOS 3.14
    answers False for the un-noded forms, as if part of B lay outside A, though
    ``difference(B, A)`` is empty: xpdb keeps the set answer."""
    box, poly, mp = shapely.box, shapely.Polygon, shapely.MultiPolygon
    hole = [(0, 5), (3, 4), (3, 6)]
    noded = [mp([poly(PINCHED), poly([(2, 0), (1, -2), (3, -2)])]), poly(TOUCHED, [hole])]
    bare = [mp([box(0, 0, 4, 4), poly([(2, 0), (1, -2), (3, -2)])]),
            poly([(0, 0), (10, 0), (10, 10), (0, 10)], [hole])]
    right = [box(1, 0, 3, 1), box(0, 0, 10, 3), poly(TOUCHED, [hole]), bare[1], box(0, 0, 4, 4)]
    want = _shapely_pairs(_multi(noded), _multi(right), "contains")
    assert {(0, 0), (0, 4), (1, 1), (1, 2), (1, 3)} <= set(want)
    for left in (noded, bare):
        got = as_pairs(*sjoin(from_shapely(_multi(left), device),
                              from_shapely(_multi(right), device), "contains"))
        assert got == want
        assert all(shapely.difference(right[j], left[i]).is_empty for i, j in got)


@needs_shapely
def test_row_pairs_match_shapely(device):
    """contains_pairs on every (left, right) pair, nulls and empties included."""
    left, right = (_multi(g) for g in _cases())
    i, j = np.divmod(np.arange(len(left) * len(right)), len(right))
    a, b = from_shapely(left, device), from_shapely(right, device)
    got = a.device.to_host(contains_pairs(a, b, a.device.asarray(i), a.device.asarray(j)))
    want = [left[p] is not None and right[q] is not None and bool(shapely.contains(left[p],
                                                                                   right[q]))
            for p, q in zip(i, j, strict=True)]
    assert got.tolist() == want
    assert sum(want) > 20


@needs_shapely
def test_polygon_arrays_and_ring_orientations(device):
    """Plain polygon arrays (not multipolygons), each ring in both orientations."""
    orient = shapely.geometry.polygon.orient
    left, right = _cases()
    polys = [g for g in left + right if g is not None and g.geom_type == "Polygon"]
    polys = np.array(polys + [orient(g, -1.0) for g in polys] + [orient(g, 1.0) for g in polys],
                     dtype=object)
    for pred in ("contains", "within"):
        got = as_pairs(*sjoin(from_shapely(polys, device), from_shapely(polys, device), pred))
        assert got == _shapely_pairs(polys, polys, pred)


# -- random polygons -------------------------------------------------------------------------
def _grid_shape(rng: np.random.Generator, ext: int):
    """Integer-vertex polygons whose edges have slopes 0, inf or +-1 (boxes, diamonds, right
    triangles, holes, unions and differences), so clipping them by integer boxes keeps every
    vertex on the half-integer grid: all touches are exact."""
    x0, y0 = (int(v) for v in rng.integers(0, ext, 2))
    w, h = (int(v) for v in rng.integers(1, 6, 2))
    r = rng.random()
    if r < 0.3:
        return shapely.box(x0, y0, x0 + w, y0 + h)
    if r < 0.45:
        s = int(rng.integers(1, 5))
        return shapely.Polygon([(x0, y0), (x0 + s, y0 + s), (x0, y0 + 2 * s), (x0 - s, y0 + s)])
    if r < 0.6:
        s = int(rng.integers(1, 6))
        tri = shapely.Polygon([(x0, y0), (x0 + s, y0), (x0, y0 + s)])
        return shapely.affinity.rotate(tri, 90 * int(rng.integers(4)), origin=(x0, y0))
    b = shapely.box(x0, y0, x0 + w, y0 + h)
    if r < 0.8 and w >= 3 and h >= 3:
        hx, hy = x0 + int(rng.integers(1, w - 1)), y0 + int(rng.integers(1, h - 1))
        hole = (shapely.box(hx, hy, hx + 1, hy + 1) if rng.random() < 0.5
                else shapely.Polygon([(hx, hy), (hx + 1, hy + 1), (hx, hy + 1)]))
        return b.difference(hole)
    other = _grid_shape(rng, ext)
    return shapely.union(b, other) if rng.random() < 0.6 else shapely.difference(b, other)


def _grid_polygons(rng: np.random.Generator, n: int, ext: int = 12) -> list:
    out = []
    while len(out) < n:
        p = _grid_shape(rng, ext)
        if p.is_empty or not p.is_valid or p.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        if p.geom_type == "Polygon" and rng.random() < 0.5:
            p = shapely.geometry.polygon.orient(p, -1.0)
        out.append(p)
    return out


def _grid_sets(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Left polygons, and right polygons that include copies of some left ones, their holes
    as polygons and their intersections with integer boxes (shared boundaries)."""
    rng = np.random.default_rng(seed)
    left = _grid_polygons(rng, 60)
    right = _grid_polygons(rng, 60)
    for p in left[:25]:
        right.append(p)
        for part in getattr(p, "geoms", [p]):
            right += [shapely.Polygon(h) for h in part.interiors]
        x, y = (int(v) for v in rng.integers(0, 12, 2))
        c = p.intersection(shapely.box(x, y, x + int(rng.integers(1, 7)),
                                       y + int(rng.integers(1, 7))))
        if c.geom_type in ("Polygon", "MultiPolygon") and not c.is_empty and c.is_valid:
            right.append(c)
    return _multi(left), _multi(right)


@needs_shapely
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("predicate", ["contains", "within"])
def test_grid_polygons_match_geopandas(device, seed, predicate):
    a, b = _grid_sets(seed)
    left, right = (a, b) if predicate == "contains" else (b, a)
    got = as_pairs(*sjoin(from_shapely(left, device), from_shapely(right, device), predicate))
    want = gpd_pairs(left, right, predicate)
    assert got == want
    assert len(want) > 40
    # many of them share boundary (the boundaries meet: DE-9IM entry BB)
    assert sum(shapely.relate(left[i], right[j])[4] != "F" for i, j in want) > 10


@needs_shapely
def test_general_position_polygons_match_geopandas(device, rng):
    """Star polygons with holes and multipolygons at random float coordinates, and shrunk,
    grown and shifted copies (contained, containing, crossing)."""
    a = random_polygons(rng, 80)
    scaled = [shapely.affinity.scale(p, f, f) for p in a[:40] for f in (0.3, 1.2)]
    shifted = [shapely.affinity.translate(p, 0.5, 0.2) for p in a[:20]]
    b = np.array(list(random_polygons(rng, 60)) + scaled + shifted, dtype=object)
    got = as_pairs(*polygons_contain(from_shapely(a, device), from_shapely(b, device)))
    want = gpd_pairs(a, b, "contains")
    assert got == want and len(want) > 30
    # multipolygons within polygons (mixed array types)
    bm = _multi(b)
    got = as_pairs(*polygons_within(from_shapely(bm, device), from_shapely(a, device)))
    assert got == gpd_pairs(bm, a, "within")


@needs_shapely
def test_shared_edges_at_float_coordinates(device, rng):
    """Shared vertices and edges at arbitrary float coordinates are exact: each polygon
    contains itself and the polygons cut from its own vertices, not the hole it has nor a
    copy grown a little; holes and rings of either orientation."""
    orient = shapely.geometry.polygon.orient
    left, right = [], []
    for k in range(30):
        c, r = rng.uniform(0, 100, 2), rng.uniform(1, 10)
        shell = shapely.buffer(shapely.Point(*c), r, quad_segs=int(rng.integers(2, 12)))
        v = shapely.get_coordinates(shell)[:-1]
        v = np.roll(v, -int(rng.integers(len(v))), axis=0)
        cut = shapely.Polygon(v[: int(rng.integers(3, len(v)))])  # a chord across the disc
        if k % 3 == 0:  # with a hole of float coordinates, and that hole as a polygon
            hole = shapely.buffer(shapely.Point(*c), r / 3, quad_segs=3)
            poly = shapely.Polygon(v, [shapely.get_coordinates(hole)])
            right += [hole, shapely.Polygon(v, [shapely.get_coordinates(hole)[::-1]])]
        else:
            poly = shapely.Polygon(v)
            right.append(cut)
        poly = orient(poly, -1.0 if k % 2 else 1.0)
        left.append(poly)
        right += [orient(poly, 1.0), shapely.affinity.scale(poly, 1.001, 1.001)]
    a, b = np.array(left, dtype=object), np.array(right, dtype=object)
    got = as_pairs(*polygons_contain(from_shapely(a, device), from_shapely(b, device)))
    want = gpd_pairs(a, b, "contains")
    assert got == want
    assert len(want) >= 50  # itself twice (both orientations), and most cuts


@needs_shapely
def test_large_polygons(device):
    """Polygons of thousands of edges against each other: each edge of B meets only the
    edges of A in its own bands (linear work), also in tiny chunks."""
    c = shapely.Point(50, 50)
    polys = np.array([shapely.buffer(c, 45, quad_segs=600), shapely.buffer(c, 30, quad_segs=500),
                      shapely.buffer(shapely.Point(80, 50), 30, quad_segs=400)], dtype=object)
    g = from_shapely(polys, device)
    want = _shapely_pairs(polys, polys, "contains")
    assert as_pairs(*polygons_contain(g, g)) == want == [(0, 0), (0, 1), (1, 1), (2, 2)]
    assert as_pairs(*polygons_contain(g, g, budget=500)) == want


@needs_shapely
def test_small_budget_chunks_give_the_same_pairs(device):
    a, b = _grid_sets(5)
    la, lb = from_shapely(a, device), from_shapely(b, device)
    want = as_pairs(*polygons_contain(la, lb))
    assert as_pairs(*polygons_contain(la, lb, budget=7)) == want
    assert want == _shapely_pairs(a, b, "contains")


def test_device_matches_cpu_without_shapely(device, rng):
    """Runs without shapely: star polygons and integer boxes on ``device`` against the CPU
    path (itself checked against shapely above), integer vertices for touching cases."""
    a = star_polygon_array(rng, 60, "cpu", extent=30, integer=True)
    x0, y0 = rng.integers(0, 30, (2, 200)).astype(float)
    b = boxes(x0, y0, x0 + rng.integers(1, 4, 200), y0 + rng.integers(1, 4, 200))
    for left, right in ((a, b), (b, a), (a, a)):
        want = as_pairs(*polygons_contain(left, right))
        got = as_pairs(*polygons_contain(left.to(device), right.to(device), budget=64))
        assert got == want
    assert len(as_pairs(*polygons_contain(a, b))) > 20
    assert as_pairs(*polygons_within(b.to(device), a.to(device))) == sorted(
        (j, i) for i, j in as_pairs(*polygons_contain(a, b)))


def test_points_are_refused(device):
    sq = boxes([0.0], [0.0], [1.0], [1.0], device=device)
    pt = points([0.5], [0.5], device=device)
    with pytest.raises(XpdbError, match="polygons_contain needs polygons.*got polygon and point"):
        polygons_contain(sq, pt)
    with pytest.raises(XpdbError, match="contains_pairs needs polygons"):
        contains_pairs(pt, sq, pt.xp.zeros(1, dtype=np.int64), pt.xp.zeros(1, dtype=np.int64))
