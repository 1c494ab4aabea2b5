"""Polygon/polygon ``contains`` and ``within``, exactly as shapely (DE-9IM), on ``xp``.

``contains(A, B)`` holds when no point of B lies in A's exterior and some point of B's
interior lies in A's interior (``within(B, A)`` is the same test). For valid polygonal
A and B with area (polygons or multipolygons, holes allowed), the second condition follows
from the first, so the test is **B is a subset of the closed set A**. A polygon therefore
contains itself and a polygon sharing boundary with it from the inside; a polygon filling
exactly a hole of A is not contained (its interior is A's exterior).

The exact test, vectorized over candidate pairs (no loop over pairs):

1. candidates: B's bounding box inside A's (a :class:`~xpdb.spatial.index.GridIndex` over
   the A side, queried with the B boxes, then the containment of the boxes). If no edge
   of A meets B's box (through A's horizontal bands,
   :class:`~xpdb.spatial.contains.PolygonEdges`), the box lies wholly inside or outside
   A and one vertex of B decides: the common case of small polygons in large zones;
2. otherwise every vertex of B must lie in closed A (:func:`~xpdb.spatial.contains.pair_test`,
   ``"intersects"``), which settles most of the rest;
3. edge pairs: each edge ``b`` of B against the edges ``a`` of A listed in the bands that
   ``b``'s own y-span covers (a few per band, so similar polygons cost linear work), by
   orientation signs. A *proper crossing* (the interiors of ``a`` and ``b`` cross at one
   point) whose point is not a vertex of A means B leaves A (near a point of ``a`` that is
   no vertex, A is a half-plane and ``b`` crosses its border): not contained. The crossing
   point is a vertex ``v`` of A exactly when some vertex of A inside ``b`` lies on the line
   of ``a`` (a ring of A touching ``a`` there); then ``v`` splits both edges (below);
4. split every edge of B at the vertices of A lying inside it (touching points, ends of
   collinear overlaps), and every edge of A near B at the vertices of B inside it (and at
   the vertices of step 3). After step 3 the boundary of the other polygon meets a piece
   only at its ends or along all of it, so the piece's open part lies wholly in the other
   polygon's interior, boundary or exterior (no computed intersection point is ever needed:
   every split point is an input vertex). A piece inside a collinear overlap of the two
   edges lies on the boundary (decided by the orientation signs, exact for shared
   vertices whatever their coordinates); any other piece is classified by its midpoint.
   Required: every piece of B's boundary in closed A (so B's boundary lies in A), and no
   piece of A's boundary strictly inside B (else a hole of A, or a notch, lies inside B);
5. with B's boundary in A and A's boundary outside B's interior, B can still fail only when
   one part P of B (a polygon of a multipolygon) has its whole boundary on A's boundary
   and its interior in A's exterior: P fills a hole of A exactly. So for each part whose
   boundary pieces all lie on A's boundary (no piece strictly inside A), one side test
   decides: take the part's first edge and an edge of A overlapping it collinearly; P's
   interior lies on the left of its edge when the ring turns counter-clockwise (shell) or
   clockwise (hole), likewise A's; the part is inside A when both interiors lie on the same
   side of the shared line. Rings may come in either orientation (the signed area decides).

Why this is complete: when the tests of 4 pass but B is not inside A, a component C of A's
exterior lies in B's interior; its border lies on A's boundary, so it cannot reach B's
interior (step 4), hence lies on B's boundary, and C is then the interior of one part of B
(the interior of a valid polygon is connected): step 5. Each step only rejects pairs that
are not contained, so the test is exact when the orientation signs are.

Work is bounded: pairs are processed in chunks of about ``budget`` band entries and
vertices, and the edge pairs of step 3 in chunks of about ``budget`` rows (an edge of B whose
bands alone exceed the budget gets a chunk of its own). Everything is array code on ``xp``
and runs unchanged on CuPy (``pair_test`` uses its GPU kernel there).

Rounding: orientations and midpoints are computed in float64. Shared vertices and edges
(bit-identical coordinates) are exact for any coordinates. Inputs whose vertices lie on a
common grid (integers, or multiples of a power of two, of magnitude below about 2**25) give
exact orientations and midpoints throughout, so vertices touching edges, collinear partial
overlaps and holes filled exactly all agree with shapely. A vertex within rounding error of
another polygon's edge without being exactly on it (a computed intersection point used as
a vertex, say) may be classified differently from shapely's robust predicates. Invalid
input (self-intersecting rings, overlapping parts, rings of zero area) gives an unspecified
answer, as in shapely.

GEOS 3.14 (shapely 2.2) answers ``contains`` differently for the same point sets when a ring
touches another ring's edge at a point that is not a vertex of that edge (a hole touching
the middle of a shell edge): it reports part of B outside A although ``difference(B, A)``
is empty. The answer here does not depend on the vertices listed (see the tests); it is
shapely's answer once the touching point is a vertex of both rings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import TypeError as XpdbTypeError
from ..kernels._xp import bincount, is_numpy
from .contains import PolygonEdges, pair_test, polygon_edges
from .geometry import GeometryArray, expand_ranges, segment_ids
from .index import GridIndex, _chunks, sort_pairs

#: edge-pair rows (and band entries) per chunk
RELATE_BUDGET = 1 << 20
RELATE_BUDGET_GPU = 1 << 25


def polygons_contain(
    left: GeometryArray, right: GeometryArray, budget: int | None = None
) -> tuple[Any, Any]:
    """Pairs ``(i, j)`` where ``left[i]`` contains ``right[j]`` (shapely's ``contains``).

    Parameters
    ----------
    left, right : GeometryArray
        Polygons or multipolygons on one device (holes allowed). Null and empty rows
        match nothing.
    budget : int, optional
        Edge-pair rows per chunk; bounds memory (default 1M on the CPU, 32M on the GPU).

    Returns
    -------
    (left_idx, right_idx) : int64 arrays on ``left``'s device, sorted by ``i`` then ``j``

    Examples
    --------
    >>> from xpdb.spatial import boxes
    >>> a = boxes(np.array([0.0, 5.0]), np.array([0.0, 0.0]), np.array([4.0, 6.0]),
    ...           np.array([4.0, 1.0]))
    >>> b = boxes(np.array([0.0, 3.0, 5.0]), np.array([0.0, 3.0, 0.0]),
    ...           np.array([2.0, 5.0, 6.0]), np.array([4.0, 5.0, 1.0]))
    >>> [v.tolist() for v in polygons_contain(a, b)]   # a box contains an equal box
    [[0, 1], [0, 2]]
    """
    from .bbox import bounds

    _check_polygonal(left, right, "polygons_contain")
    xp = left.xp
    right = right.to(left.device)
    lb, rb = bounds(left), bounds(right)
    # index the containers and query with the (smaller) boxes they must hold: each query
    # box covers few cells
    ri, li = GridIndex(left).query_bounds(*rb)
    if li.shape[0] == 0:
        return li, ri
    inside = ((lb[0][li] <= rb[0][ri]) & (lb[1][li] <= rb[1][ri])
              & (lb[2][li] >= rb[2][ri]) & (lb[3][li] >= rb[3][ri]))
    li, ri = li[inside], ri[inside]
    with left.device.guard():
        hit = _contains(xp, left, right, li, ri, budget, boxes_checked=True)
    return sort_pairs(xp, li[hit], ri[hit])


def polygons_within(
    left: GeometryArray, right: GeometryArray, budget: int | None = None
) -> tuple[Any, Any]:
    """Pairs ``(i, j)`` where ``left[i]`` lies within ``right[j]``: ``contains(right[j],
    left[i])``, sorted by ``i`` then ``j``.

    Examples
    --------
    >>> from xpdb.spatial import boxes
    >>> a = boxes(np.array([0.0]), np.array([0.0]), np.array([4.0]), np.array([4.0]))
    >>> b = boxes(np.array([1.0, 3.0]), np.array([1.0, 3.0]), np.array([2.0, 5.0]),
    ...           np.array([2.0, 5.0]))
    >>> [v.tolist() for v in polygons_within(b, a)]
    [[0], [0]]
    """
    ri, li = polygons_contain(right.to(left.device), left, budget)
    return sort_pairs(left.xp, li, ri)


def contains_pairs(
    a: GeometryArray, b: GeometryArray, ai: Any, bi: Any, budget: int | None = None
) -> Any:
    """Bool per pair ``k``: does ``a[ai[k]]`` contain ``b[bi[k]]`` (False for null or empty
    rows). The test of :func:`polygons_contain` on given pairs (row-wise ``ST_Contains``).
    """
    _check_polygonal(a, b, "contains_pairs")
    xp = a.xp
    b = b.to(a.device)
    n = int(ai.shape[0])
    if n == 0:
        return xp.zeros(0, dtype=bool)
    with a.device.guard():
        return _contains(xp, a, b, ai, bi, budget, boxes_checked=False)


def _check_polygonal(a: GeometryArray, b: GeometryArray, where: str) -> None:
    if not (a.is_polygonal and b.is_polygonal):
        msg = (f"{where} needs polygons or multipolygons on both sides, got {a.geom_type} and "
               f"{b.geom_type}; use points_in_polygons for points")
        raise XpdbTypeError(msg)


# -- the test ----------------------------------------------------------------------------


def _contains(
    xp: Any, a: GeometryArray, b: GeometryArray, ai: Any, bi: Any, budget: int | None,
    boxes_checked: bool,
) -> Any:
    from .bbox import bounds

    if budget is None:
        budget = RELATE_BUDGET if is_numpy(xp) else RELATE_BUDGET_GPU
    n = int(ai.shape[0])
    out = xp.zeros(n, dtype=bool)
    if n == 0:
        return out
    ab, bb = bounds(a), bounds(b)
    if boxes_checked:
        ok = xp.ones(n, dtype=bool)
    else:  # NaN (null, empty) compares False
        ok = ((ab[0][ai] <= bb[0][bi]) & (ab[1][ai] <= bb[1][bi])
              & (ab[2][ai] >= bb[2][bi]) & (ab[3][ai] >= bb[3][bi]))
    sel = xp.nonzero(ok)[0]
    if sel.shape[0] == 0:
        return out
    ae, be = polygon_edges(a), polygon_edges(b)
    pa, pb = ai[sel], bi[sel]
    box = [v[pb] for v in bb]
    # pairs in chunks of about `budget` band entries + vertices (linear memory); the
    # quadratic edge-pair rows are chunked again inside
    entries = _near_count(xp, ae, pa, box[1], box[3])
    co = b.geom_coord_offsets()
    nv = co[pb + 1] - co[pb]
    sides: list[_Sides] = []
    res = xp.zeros(sel.shape[0], dtype=bool)
    for lo, hi in _chunks(xp, entries + nv, budget):
        res[lo:hi] = _pair_chunk(
            xp, a, b, ae, be, pa[lo:hi], pb[lo:hi], [v[lo:hi] for v in box], sides, budget)
    out[sel] = res
    return out


def _pair_chunk(
    xp: Any, a: GeometryArray, b: GeometryArray, ae: PolygonEdges, be: PolygonEdges,
    ai: Any, bi: Any, box: list[Any], sides: list[_Sides], budget: int,
) -> Any:
    """Steps 2-5 for pairs whose boxes nest (``sides``: the _Sides of a and b, built on
    first use)."""
    n = int(ai.shape[0])
    out = xp.zeros(n, dtype=bool)
    sk, se = _near_edges(xp, ae, ai, box)
    na = bincount(xp, sk, n)
    # no edge of A meets B's box: the box lies wholly inside or outside A, one vertex of B
    # tells which (the common case of small polygons in large zones)
    free = xp.nonzero(na == 0)[0]
    if free.shape[0]:
        v = b.geom_coord_offsets()[bi[free]]
        out[free] = pair_test(b.x[v], b.y[v], ai[free], ae, "intersects")
    busy = xp.nonzero(na > 0)[0]
    if busy.shape[0]:
        busy = busy[_vertices_inside(xp, b, ai[busy], bi[busy], ae, budget)]
    if busy.shape[0] == 0:
        return out
    if not sides:
        sides += [_Sides(a), _Sides(b)]
    pos = xp.full(n, -1, dtype=np.int64)
    pos[busy] = xp.arange(busy.shape[0], dtype=np.int64)
    keep = pos[sk] >= 0
    out[busy] = _edge_test(xp, ae, be, ai[busy], bi[busy], pos[sk[keep]], se[keep],
                           (sides[0], sides[1]), budget)
    return out


def _expanded_chunks(xp: Any, starts: Any, counts: Any, budget: int
                     ) -> Iterator[tuple[Any, Any]]:
    """Row ``r`` stands for positions ``starts[r] : starts[r] + counts[r]``: yields, in
    chunks of about ``budget`` positions, ``(row, position)`` of every one (empty chunks
    skipped)."""
    for lo, hi in _chunks(xp, counts, budget):
        c = counts[lo:hi]
        row = xp.repeat(xp.arange(lo, hi, dtype=np.int64), c)
        if row.shape[0]:
            yield row, expand_ranges(xp, starts[lo:hi], c)


def _vertices_inside(
    xp: Any, b: GeometryArray, ai: Any, bi: Any, ae: PolygonEdges, budget: int
) -> Any:
    """Bool per pair: every vertex of ``b[bi[k]]`` lies in closed ``a[ai[k]]``."""
    co = b.geom_coord_offsets()
    starts = co[bi]
    counts = co[bi + 1] - starts
    n = int(ai.shape[0])
    bad = xp.zeros(n, dtype=bool)
    for pid, v in _expanded_chunks(xp, starts, counts, budget):
        inside = pair_test(b.x[v], b.y[v], ai[pid], ae, "intersects")
        bad |= bincount(xp, pid[~inside], n) > 0
    return ~bad


def _near_count(xp: Any, edges: PolygonEdges, g: Any, y0: Any, y1: Any) -> Any:
    """Band entries of row ``g[k]`` between heights ``y0[k]`` and ``y1[k]``."""
    base = edges.band_start[:-1][g]
    st = edges.band_offsets[base + edges.band_of(g, y0)]
    return edges.band_offsets[base + edges.band_of(g, y1) + 1] - st


def _near_edges(xp: Any, edges: PolygonEdges, g: Any, box: list[Any]) -> tuple[Any, Any]:
    """``(query, edge)`` for the edges of row ``g[k]`` that may meet ``box[k]`` (each once),
    sorted by query: the entries of the bands the box spans whose box overlaps it and whose
    line passes through it, an edge kept only in the first of those bands it lies in
    (``band_of`` is monotone, so this is exact)."""
    x0, y0, x1, y1 = box
    base = edges.band_start[:-1][g]
    b0 = edges.band_of(g, y0)
    st = edges.band_offsets[base + b0]
    cnt = edges.band_offsets[base + edges.band_of(g, y1) + 1] - st
    q = xp.repeat(xp.arange(g.shape[0], dtype=np.int64), cnt)
    j = expand_ranges(xp, st, cnt)
    if j.shape[0] == 0:
        return q, j
    e = edges.band_edges[j]
    ex0, ey0, ex1, ey1 = edges.x0[e], edges.y0[e], edges.x1[e], edges.y1[e]
    lo_y = xp.minimum(ey0, ey1)
    keep = xp.nonzero(
        (xp.minimum(ex0, ex1) <= x1[q]) & (xp.maximum(ex0, ex1) >= x0[q])
        & (lo_y <= y1[q]) & (xp.maximum(ey0, ey1) >= y0[q])
        & ((ex0 != ex1) | (ey0 != ey1))  # zero-length edges carry nothing
    )[0]
    q, e, j = q[keep], e[keep], j[keep]
    ex0, ey0, ex1, ey1, lo_y = ex0[keep], ey0[keep], ex1[keep], ey1[keep], lo_y[keep]
    # once per edge: in the first of the query's bands that lists it
    first = base[q] + edges.band_of(g[q], xp.maximum(lo_y, y0[q]))
    keep = xp.nonzero((j >= edges.band_offsets[first]) & (j < edges.band_offsets[first + 1]))[0]
    q, e = q[keep], e[keep]
    ex0, ey0, ex1, ey1 = ex0[keep], ey0[keep], ex1[keep], ey1[keep]
    # a long edge's box may overlap the query box while the edge passes by: drop edges
    # with all four corners of the box strictly on one side of their line
    side = [xp.sign((ex1 - ex0) * (cy[q] - ey0) - (ey1 - ey0) * (cx[q] - ex0))
            for cx, cy in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    total = side[0] + side[1] + side[2] + side[3]
    keep = (total != 4) & (total != -4)
    return q[keep], e[keep]


class _Sides:
    """Per edge of a polygon array: does the polygon's interior lie on its left."""

    def __init__(self, geoms: GeometryArray) -> None:
        xp = geoms.xp
        e = geoms.edges()
        ro = geoms.ring_offsets()
        nr = geoms.n_rings
        # signed ring areas about each ring's first vertex (precision for lon/lat offsets)
        first = xp.minimum(ro[:-1], max(geoms.n_coords - 1, 0))
        if geoms.n_coords:
            ox, oy = geoms.x[first][e.ring], geoms.y[first][e.ring]
        else:
            ox = oy = xp.zeros(0, dtype=np.float64)
        c = (e.x0 - ox) * (e.y1 - oy) - (e.x1 - ox) * (e.y0 - oy)
        area = bincount(xp, e.ring, nr, weights=c)
        ccw = (area > 0)[e.ring]
        hole = ~geoms.ring_is_shell()[e.ring]
        self.left = ccw != hole
        # the part (polygon of a multipolygon, or row) of every edge
        self.part = segment_ids(xp, geoms.offsets[-2])[e.ring]


def _orient(px: Any, py: Any, qx: Any, qy: Any, rx: Any, ry: Any, xp: Any) -> Any:
    """Sign of the turn p -> q -> r (+1 left, -1 right, 0 collinear)."""
    return xp.sign((qx - px) * (ry - py) - (qy - py) * (rx - px))


def _along(xp: Any, dx: Any, dy: Any, x: Any, y: Any) -> Any:
    """A coordinate increasing along a segment of direction (dx, dy): exact order of
    points on it (x or y, whichever the segment spans more, signed)."""
    return xp.where(xp.abs(dx) >= xp.abs(dy), x * xp.sign(dx), y * xp.sign(dy))


def _edge_test(
    xp: Any, ae: PolygonEdges, be: PolygonEdges, ai: Any, bi: Any, sk: Any, se: Any,
    sides: tuple[_Sides, _Sides], budget: int,
) -> Any:
    """Steps 3-5 of the module docstring for pairs whose vertex test passed; ``(sk, se)``:
    (pair, edge of A) for the edges of A near B's box, sorted by pair."""
    n = int(ai.shape[0])
    bad = xp.zeros(n, dtype=bool)
    # units: (pair, edge of B); slots: (pair, edge of A near B's box)
    bs = be.edge_offsets[bi]
    bn = be.edge_offsets[bi + 1] - bs
    uk = xp.repeat(xp.arange(n, dtype=np.int64), bn)
    ue = expand_ranges(xp, bs, bn)
    nz = (be.x0[ue] != be.x1[ue]) | (be.y0[ue] != be.y1[ue])
    uk, ue = uk[nz], ue[nz]
    # slots sorted by (pair, edge): row events find their slot by binary search
    n_edges = int(ae.x0.shape[0])
    order = xp.lexsort(xp.stack([se, sk]))
    sk, se = sk[order], se[order]
    slot_key = sk * n_edges + se
    # rows: each edge b against the edges of A in the bands its own y-span covers (a few
    # per band), not against all edges near B: linear in the edges for similar polygons
    ug = ai[uk]
    ylo = xp.minimum(be.y0[ue], be.y1[ue])
    yhi = xp.maximum(be.y0[ue], be.y1[ue])
    base = ae.band_start[:-1][ug]
    ust = ae.band_offsets[base + ae.band_of(ug, ylo)]
    cnt = ae.band_offsets[base + ae.band_of(ug, yhi) + 1] - ust
    b_ev: list[tuple[Any, Any, Any]] = []   # (unit, x, y): vertex of A inside edge b
    a_ev: list[tuple[Any, Any, Any]] = []   # (slot, x, y): vertex splitting edge a
    # (unit, slot, lo, hi along b, lo, hi along a): collinear overlap of positive length
    ov: list[tuple[Any, ...]] = []
    for ru_all, j in _expanded_chunks(xp, ust, cnt, budget):
        ru = ru_all
        ia, ib = ae.band_edges[j], ue[ru]
        ax0, ay0, ax1, ay1 = ae.x0[ia], ae.y0[ia], ae.x1[ia], ae.y1[ia]
        bx0, by0, bx1, by1 = be.x0[ib], be.y0[ib], be.x1[ib], be.y1[ib]
        near = xp.nonzero(
            (xp.minimum(ax0, ax1) <= xp.maximum(bx0, bx1))
            & (xp.minimum(bx0, bx1) <= xp.maximum(ax0, ax1))
            & (xp.minimum(ay0, ay1) <= yhi[ru]) & (ylo[ru] <= xp.maximum(ay0, ay1))
            & ((ax0 != ax1) | (ay0 != ay1)))[0]
        # an edge of A listed in several of b's bands counts in the first of them only
        first = base[ru[near]] + ae.band_of(
            ug[ru[near]], xp.maximum(xp.minimum(ay0[near], ay1[near]), ylo[ru[near]]))
        jn = j[near]
        near = near[(jn >= ae.band_offsets[first]) & (jn < ae.band_offsets[first + 1])]
        ru, ia = ru[near], ia[near]
        ax0, ay0, ax1, ay1 = ax0[near], ay0[near], ax1[near], ay1[near]
        bx0, by0, bx1, by1 = bx0[near], by0[near], bx1[near], by1[near]

        def slot(m: Any, ru: Any = ru, ia: Any = ia) -> tuple[Any, Any]:
            """The slots (pair, edge of A) of rows ``m``, and whether found: an edge meeting
            b is near B, only rounding could make the two tests disagree."""
            key = uk[ru[m]] * n_edges + ia[m]
            at = xp.minimum(xp.searchsorted(slot_key, key), max(int(sk.shape[0]) - 1, 0))
            ok = (slot_key[at] == key) if sk.shape[0] else xp.zeros(key.shape[0], bool)
            return at, ok

        o1 = _orient(ax0, ay0, ax1, ay1, bx0, by0, xp)
        o2 = _orient(ax0, ay0, ax1, ay1, bx1, by1, xp)
        o3 = _orient(bx0, by0, bx1, by1, ax0, ay0, xp)
        o4 = _orient(bx0, by0, bx1, by1, ax1, ay1, xp)
        adx, ady, bdx, bdy = ax1 - ax0, ay1 - ay0, bx1 - bx0, by1 - by0
        tb0, tb1 = _along(xp, bdx, bdy, bx0, by0), _along(xp, bdx, bdy, bx1, by1)
        ta0, ta1 = _along(xp, bdx, bdy, ax0, ay0), _along(xp, bdx, bdy, ax1, ay1)
        # a vertex of A (each vertex starts one edge of its ring) strictly inside b
        m = (o3 == 0) & (ta0 > tb0) & (ta0 < tb1)
        b_ev.append((ru[m], ax0[m], ay0[m]))
        # a vertex of B strictly inside a
        sa0 = _along(xp, adx, ady, ax0, ay0)
        sa1 = _along(xp, adx, ady, ax1, ay1)
        sb0 = _along(xp, adx, ady, bx0, by0)
        m = xp.nonzero((o1 == 0) & (sb0 > sa0) & (sb0 < sa1))[0]
        at, ok = slot(m)
        a_ev.append((at[ok], bx0[m[ok]], by0[m[ok]]))
        # collinear with an overlap of positive length
        lo_b = xp.maximum(xp.minimum(ta0, ta1), tb0)
        hi_b = xp.minimum(xp.maximum(ta0, ta1), tb1)
        m = xp.nonzero((o1 == 0) & (o2 == 0) & (lo_b < hi_b))[0]
        at, ok = slot(m)
        m, at = m[ok], at[ok]
        sb0, sb1 = sb0[m], _along(xp, adx[m], ady[m], bx1[m], by1[m])
        ov.append((ru[m], at, lo_b[m], hi_b[m],
                   xp.maximum(xp.minimum(sb0, sb1), sa0[m]),
                   xp.minimum(xp.maximum(sb0, sb1), sa1[m])))
        cross = xp.nonzero((o1 * o2 < 0) & (o3 * o4 < 0))[0]
        if cross.shape[0]:
            cu = ru[cross]
            ok, vs, vx, vy = _crossing_at_vertex(
                xp, cu, ax0[cross], ay0[cross], ax1[cross], ay1[cross], b_ev[-1])
            bad |= bincount(xp, uk[cu[~ok]], n) > 0
            # the vertex splits a too
            at, found = slot(cross)
            keep = found[vs]
            a_ev.append((at[vs][keep], vx[keep], vy[keep]))
    ovs = [xp.concatenate([o[k] for o in ov]) for k in range(6)] if ov else [
        xp.zeros(0, dtype=np.int64)] * 2 + [xp.zeros(0, dtype=np.float64)] * 4
    # step 4 for the edges of B: pieces between consecutive split points, in closed A. A
    # piece on a collinear overlap lies on A's boundary whatever its midpoint's rounding
    # (shared edges with any coordinates): only the other pieces are tested
    ux0, uy0, ux1, uy1 = be.x0[ue], be.y0[ue], be.x1[ue], be.y1[ue]
    mu, mx, my, t0 = _piece_midpoints(xp, ux0, uy0, ux1, uy1, b_ev)
    free = xp.nonzero(~_covered(xp, mu, t0, ovs[0], ovs[2], ovs[3]))[0]
    mu, mx, my = mu[free], mx[free], my[free]
    g = ai[uk[mu]]
    # most pieces lie strictly inside A: the boundary test runs on the others only
    strict = pair_test(mx, my, g, ae, "contains")
    interior = xp.zeros(uk.shape[0], dtype=bool)
    interior[mu[strict]] = True
    rest = xp.nonzero(~strict)[0]
    if rest.shape[0]:
        on = pair_test(mx[rest], my[rest], g[rest], ae, "intersects")
        bad |= bincount(xp, uk[mu[rest[~on]]], n) > 0
    # step 4 for the near edges of A: no piece strictly inside B
    sx0, sy0, sx1, sy1 = ae.x0[se], ae.y0[se], ae.x1[se], ae.y1[se]
    ms, nx, ny, t0 = _piece_midpoints(xp, sx0, sy0, sx1, sy1, a_ev)
    order = (xp.argsort(ovs[1], kind="stable") if is_numpy(xp)
             else xp.argsort(ovs[1]))  # CuPy's argsort is stable
    free = xp.nonzero(~_covered(xp, ms, t0, ovs[1][order], ovs[4][order], ovs[5][order]))[0]
    ms, nx, ny = ms[free], nx[free], ny[free]
    if ms.shape[0]:
        inside_b = pair_test(nx, ny, bi[sk[ms]], be, "contains")
        bad |= bincount(xp, sk[ms[inside_b]], n) > 0
    # step 5: parts of B whose boundary lies wholly on A's boundary
    bad |= _filled_holes(xp, uk, ue, se, interior, ovs[0], ovs[1], ae, be, sides, n)
    return ~bad


def _crossing_at_vertex(
    xp: Any, cu: Any, ax0: Any, ay0: Any, ax1: Any, ay1: Any,
    b_ev: tuple[Any, Any, Any],
) -> tuple[Any, Any, Any, Any]:
    """For proper crossings (unit ``cu[k]``, edge a): is the crossing point a vertex of A,
    i.e. does a vertex of A inside the unit's edge (``b_ev``, sorted by unit) lie on the
    line of a. Returns (ok per crossing, crossing index and x, y of each such vertex)."""
    eu, ex, ey = b_ev
    lo = xp.searchsorted(eu, cu, side="left")
    c = xp.searchsorted(eu, cu, side="right") - lo
    k = xp.repeat(xp.arange(cu.shape[0], dtype=np.int64), c)
    j = expand_ranges(xp, lo, c)
    on = _orient(ax0[k], ay0[k], ax1[k], ay1[k], ex[j], ey[j], xp) == 0
    ok = bincount(xp, k[on], int(cu.shape[0])) > 0
    return ok, k[on], ex[j][on], ey[j][on]


def _piece_midpoints(
    xp: Any, x0: Any, y0: Any, x1: Any, y1: Any, events: list[tuple[Any, Any, Any]],
) -> tuple[Any, Any, Any, Any]:
    """Midpoints of the pieces of segments ``k`` (``x0[k]``...) cut at the event points
    (k, x, y): (k, x, y, t) per piece of positive length, uncut segments first; ``t``: the
    piece's start along its segment (:func:`_along`)."""
    ev_id = (xp.concatenate([e[0] for e in events]) if events
             else xp.zeros(0, dtype=np.int64))
    ev_x = xp.concatenate([e[1] for e in events]) if events else x0[:0]
    ev_y = xp.concatenate([e[2] for e in events]) if events else y0[:0]
    cut = bincount(xp, ev_id, int(x0.shape[0])) > 0
    whole = xp.nonzero(~cut)[0]
    parts = [(whole, (x0[whole] + x1[whole]) * 0.5, (y0[whole] + y1[whole]) * 0.5,
              x0[whole], y0[whole])]
    if ev_id.shape[0]:
        c = xp.nonzero(cut)[0]
        pid = xp.concatenate([c, c, ev_id])
        px = xp.concatenate([x0[c], x1[c], ev_x])
        py = xp.concatenate([y0[c], y1[c], ev_y])
        # their directions order the points along each segment exactly
        t = _along(xp, (x1 - x0)[pid], (y1 - y0)[pid], px, py)
        order = xp.lexsort(xp.stack([t, pid.astype(np.float64)]))
        pid, px, py = pid[order], px[order], py[order]
        keep = (pid[1:] == pid[:-1]) & ((px[1:] != px[:-1]) | (py[1:] != py[:-1]))
        m = xp.nonzero(keep)[0]
        parts.append((pid[m], (px[m] + px[m + 1]) * 0.5, (py[m] + py[m + 1]) * 0.5,
                      px[m], py[m]))
    k, mx, my, sx, sy = (xp.concatenate([p[i] for p in parts]) for i in range(5))
    return k, mx, my, _along(xp, (x1 - x0)[k], (y1 - y0)[k], sx, sy)


def _covered(xp: Any, k: Any, t: Any, ov_k: Any, lo: Any, hi: Any) -> Any:
    """Bool per piece (segment ``k``, start ``t``): does an overlap interval ``[lo, hi)`` of
    that segment (``ov_k`` sorted) hold its start. Pieces never straddle an interval's end
    (those are split points), so the start decides for the whole piece."""
    first = xp.searchsorted(ov_k, k, side="left")
    c = xp.searchsorted(ov_k, k, side="right") - first
    p = xp.repeat(xp.arange(k.shape[0], dtype=np.int64), c)
    j = expand_ranges(xp, first, c)
    hit = (lo[j] <= t[p]) & (t[p] < hi[j])
    return bincount(xp, p[hit], int(k.shape[0])) > 0


def _filled_holes(
    xp: Any, uk: Any, ue: Any, se: Any, interior: Any, ov_u: Any, ov_s: Any,
    ae: PolygonEdges, be: PolygonEdges, sides: tuple[_Sides, _Sides], n: int,
) -> Any:
    """Bool per pair: some part of B has no boundary piece strictly inside A and lies on
    the exterior side of A's boundary (it fills a hole of A exactly)."""
    bad = xp.zeros(n, dtype=bool)
    m = int(uk.shape[0])
    if m == 0:
        return bad
    sa, sb = sides
    part = sb.part[ue]
    start = xp.ones(m, dtype=bool)
    start[1:] = (uk[1:] != uk[:-1]) | (part[1:] != part[:-1])
    grp = xp.cumsum(start) - 1
    n_grp = int(grp[-1]) + 1
    has_inside = bincount(xp, grp[interior], n_grp) > 0
    first = xp.nonzero(start)[0][~has_inside]
    if first.shape[0] == 0:
        return bad
    if ov_u.shape[0] == 0:  # cannot happen for exact input: no overlap, no filled hole
        bad[uk[first]] = True
        return bad
    # rows came in unit order, chunk after chunk: ov_u is sorted
    idx = xp.minimum(xp.searchsorted(ov_u, first), ov_u.shape[0] - 1)
    found = ov_u[idx] == first
    eb, ea = ue[first], se[ov_s[idx]]
    same = ((be.x1[eb] - be.x0[eb]) * (ae.x1[ea] - ae.x0[ea])
            + (be.y1[eb] - be.y0[eb]) * (ae.y1[ea] - ae.y0[ea])) > 0
    a_left = sa.left[ea]
    agree = sb.left[eb] == xp.where(same, a_left, ~a_left)
    bad[uk[first[~(found & agree)]]] = True
    return bad
