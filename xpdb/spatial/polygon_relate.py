"""Polygon/polygon ``contains`` and ``within``, exactly as shapely (DE-9IM), on ``xp``.

``contains(A, B)`` holds when no point of B lies in A's exterior and some point of B's
interior lies in A's interior (``within(B, A)`` is the same test). For valid polygonal
A and B with area (polygons or multipolygons, holes allowed), the second condition follows
from the first, so the test is **B is a subset of the closed set A**. A polygon therefore
contains itself and a polygon sharing boundary with it from the inside; a polygon filling
exactly a hole of A is not contained (its interior is A's exterior).

The exact test, vectorized over candidate pairs (no loop over pairs):

1. candidates: B's bounding box inside A's (a :class:`~xpdb.spatial.index.GridIndex` box
   query, then the containment of the boxes);
2. every vertex of B in closed A (:func:`~xpdb.spatial.contains.pair_test`,
   ``"intersects"``); linear in the vertices, it settles most candidates;
3. edge pairs: each edge ``b`` of B against the edges ``a`` of A near B's box (found through
   A's horizontal bands, :class:`~xpdb.spatial.contains.PolygonEdges`), by orientation
   signs. A *proper crossing* (the interiors of ``a`` and ``b`` cross at one point) whose
   point is not a vertex of A means B leaves A (near a point of ``a`` that is no vertex, A
   is a half-plane and ``b`` crosses its border): not contained. The crossing point is a
   vertex ``v`` of A exactly when some vertex of A on ``b`` lies on the line of ``a`` (a
   ring of A touching ``a`` there); then ``v`` splits both edges (below);
4. split every edge of B at the vertices of A lying inside it (touching points, ends of
   collinear overlaps), and every near edge of A at the vertices of B inside it (and at the
   vertices of step 3). After step 3 the boundary of the other polygon meets a piece only
   at its ends or along all of it, so the piece's open part lies wholly in the other
   polygon's interior, boundary or exterior, and its midpoint tells which (no computed
   intersection point is ever needed: every split point is an input vertex). Required:
   every piece of B's boundary has its midpoint in closed A (so B's boundary lies in A), and
   no piece of A's boundary has its midpoint strictly inside B (else a hole of A, or a
   notch, lies inside B);
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
(the interior of a valid polygon is connected): step 5.

Work is bounded: pairs are processed in chunks of about ``budget`` band entries and
edges, and the edge pairs of step 3 in chunks of ``budget`` rows (a single pair whose
near edges alone exceed the budget forms a chunk of its own, as in
:func:`xpdb.spatial.join.polygons_intersect`). Everything is array code on ``xp`` and runs
unchanged on CuPy (``pair_test`` uses its GPU kernel there).

Rounding: orientations and midpoints are computed in float64. Inputs whose vertices are
exactly representable on a common grid (integers, or multiples of a power of two, of
magnitude below about 2**25) give exact orientations and midpoints, so shared vertices,
shared and collinear edges, vertices touching edges and holes filled exactly all agree with
shapely. For vertices within rounding error of another polygon's edge (a computed
intersection point used as a vertex, say) the answer may differ from shapely's robust
predicates. Invalid input (self-intersecting rings, overlapping parts, rings of zero area)
gives an unspecified answer, as in shapely.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels._xp import bincount, is_numpy
from .contains import PolygonEdges, pair_test
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

    xp = left.xp
    right = right.to(left.device)
    lb, rb = bounds(left), bounds(right)
    li, ri = GridIndex(right).query_bounds(*lb)
    if li.shape[0] == 0:
        return li, ri
    inside = ((lb[0][li] <= rb[0][ri]) & (lb[1][li] <= rb[1][ri])
              & (lb[2][li] >= rb[2][ri]) & (lb[3][li] >= rb[3][ri]))
    li, ri = li[inside], ri[inside]
    with left.device.guard():
        hit = _contains(xp, left, right, li, ri, budget, boxes_checked=True)
    return li[hit], ri[hit]


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
    xp = a.xp
    n = int(ai.shape[0])
    if n == 0:
        return xp.zeros(0, dtype=bool)
    with a.device.guard():
        return _contains(xp, a, b, ai, bi, budget, boxes_checked=False)


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
    ae, be = PolygonEdges(a), PolygonEdges(b)
    sel = sel[_vertices_inside(xp, b, ai[sel], bi[sel], ae, budget)]
    if sel.shape[0] == 0:
        return out
    sides = _Sides(a), _Sides(b)
    pa, pb = ai[sel], bi[sel]
    box = [v[pb] for v in bb]
    # pairs in chunks of about `budget` band entries + edges (linear memory); the quadratic
    # edge-pair rows are chunked again inside
    entries = _near_count(xp, ae, pa, box[1], box[3])
    nb = be.edge_offsets[pb + 1] - be.edge_offsets[pb]
    res = xp.zeros(sel.shape[0], dtype=bool)
    for lo, hi in _chunks(xp, entries + nb, budget):
        res[lo:hi] = _edge_test(
            xp, ae, be, pa[lo:hi], pb[lo:hi], [v[lo:hi] for v in box], sides, budget)
    out[sel] = res
    return out


def _vertices_inside(
    xp: Any, b: GeometryArray, ai: Any, bi: Any, ae: PolygonEdges, budget: int
) -> Any:
    """Bool per pair: every vertex of ``b[bi[k]]`` lies in closed ``a[ai[k]]``."""
    co = b.geom_coord_offsets()
    starts = co[bi]
    counts = co[bi + 1] - starts
    n = int(ai.shape[0])
    bad = xp.zeros(n, dtype=bool)
    for lo, hi in _chunks(xp, counts, budget):
        c = counts[lo:hi]
        pid = xp.repeat(xp.arange(lo, hi, dtype=np.int64), c)
        if pid.shape[0] == 0:
            continue
        v = expand_ranges(xp, starts[lo:hi], c)
        inside = pair_test(b.x[v], b.y[v], ai[pid], ae, "intersects")
        bad |= bincount(xp, pid[~inside], n) > 0
    return ~bad


def _near_count(xp: Any, edges: PolygonEdges, g: Any, y0: Any, y1: Any) -> Any:
    """Band entries of row ``g[k]`` between heights ``y0[k]`` and ``y1[k]``."""
    base = edges.band_start[:-1][g]
    st = edges.band_offsets[base + edges.band_of(g, y0)]
    return edges.band_offsets[base + edges.band_of(g, y1) + 1] - st


def _near_edges(xp: Any, edges: PolygonEdges, g: Any, box: list[Any]) -> tuple[Any, Any]:
    """``(query, edge)`` for the edges of row ``g[k]`` whose box overlaps ``box[k]`` (each
    once), sorted by query: the entries of the bands the box spans, an edge kept only in
    the first of those bands it lies in (``band_of`` is monotone, so this is exact)."""
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
    band = xp.searchsorted(edges.band_offsets, j, side="right") - 1
    ex0, ey0, ex1, ey1 = edges.x0[e], edges.y0[e], edges.x1[e], edges.y1[e]
    lo_y = xp.minimum(ey0, ey1)
    first = base[q] + edges.band_of(g[q], xp.maximum(lo_y, y0[q]))
    keep = (
        (band == first)
        & (xp.minimum(ex0, ex1) <= x1[q]) & (xp.maximum(ex0, ex1) >= x0[q])
        & (lo_y <= y1[q]) & (xp.maximum(ey0, ey1) >= y0[q])
        & ((ex0 != ex1) | (ey0 != ey1))  # zero-length edges carry nothing
    )
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
    xp: Any, ae: PolygonEdges, be: PolygonEdges, ai: Any, bi: Any, box: list[Any],
    sides: tuple[_Sides, _Sides], budget: int,
) -> Any:
    """Steps 3-5 of the module docstring for pairs whose vertex test passed."""
    n = int(ai.shape[0])
    bad = xp.zeros(n, dtype=bool)
    # units: (pair, edge of B); slots: (pair, edge of A near B's box)
    bs = be.edge_offsets[bi]
    bn = be.edge_offsets[bi + 1] - bs
    uk = xp.repeat(xp.arange(n, dtype=np.int64), bn)
    ue = expand_ranges(xp, bs, bn)
    nz = (be.x0[ue] != be.x1[ue]) | (be.y0[ue] != be.y1[ue])
    uk, ue = uk[nz], ue[nz]
    sk, se = _near_edges(xp, ae, ai, box)
    na = bincount(xp, sk, n)
    oa = xp.cumsum(na) - na
    cnt = na[uk]
    b_ev: list[tuple[Any, Any, Any]] = []   # (unit, x, y): vertex of A inside edge b
    a_ev: list[tuple[Any, Any, Any]] = []   # (slot, x, y): vertex splitting edge a
    ov: list[tuple[Any, Any]] = []          # (unit, slot): collinear overlap
    for lo, hi in _chunks(xp, cnt, budget):
        c = cnt[lo:hi]
        ru = xp.repeat(xp.arange(lo, hi, dtype=np.int64), c)
        if ru.shape[0] == 0:
            continue
        rs = expand_ranges(xp, oa[uk[lo:hi]], c)
        ia, ib = se[rs], ue[ru]
        ax0, ay0, ax1, ay1 = ae.x0[ia], ae.y0[ia], ae.x1[ia], ae.y1[ia]
        bx0, by0, bx1, by1 = be.x0[ib], be.y0[ib], be.x1[ib], be.y1[ib]
        near = xp.nonzero(
            (xp.minimum(ax0, ax1) <= xp.maximum(bx0, bx1))
            & (xp.minimum(bx0, bx1) <= xp.maximum(ax0, ax1))
            & (xp.minimum(ay0, ay1) <= xp.maximum(by0, by1))
            & (xp.minimum(by0, by1) <= xp.maximum(ay0, ay1)))[0]
        ru, rs = ru[near], rs[near]
        ax0, ay0, ax1, ay1 = ax0[near], ay0[near], ax1[near], ay1[near]
        bx0, by0, bx1, by1 = bx0[near], by0[near], bx1[near], by1[near]
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
        m = (o1 == 0) & (sb0 > sa0) & (sb0 < sa1)
        a_ev.append((rs[m], bx0[m], by0[m]))
        # collinear with an overlap of positive length
        m = ((o1 == 0) & (o2 == 0)
             & (xp.maximum(xp.minimum(ta0, ta1), tb0) < xp.minimum(xp.maximum(ta0, ta1), tb1)))
        ov.append((ru[m], rs[m]))
        cross = xp.nonzero((o1 * o2 < 0) & (o3 * o4 < 0))[0]
        if cross.shape[0]:
            cu, cs = ru[cross], rs[cross]
            ok, vs, vx, vy = _crossing_at_vertex(
                xp, cu, ax0[cross], ay0[cross], ax1[cross], ay1[cross], b_ev[-1])
            bad |= bincount(xp, uk[cu[~ok]], n) > 0
            a_ev.append((cs[vs], vx, vy))
    # step 4 for the edges of B: pieces between consecutive split points, in closed A
    u_all = xp.arange(uk.shape[0], dtype=np.int64)
    ux0, uy0, ux1, uy1 = be.x0[ue], be.y0[ue], be.x1[ue], be.y1[ue]
    mu, mx, my = _piece_midpoints(xp, u_all, ux0, uy0, ux1, uy1, b_ev)
    g = ai[uk[mu]]
    in_closed = pair_test(mx, my, g, ae, "intersects")
    bad |= bincount(xp, uk[mu[~in_closed]], n) > 0
    interior = xp.zeros(uk.shape[0], dtype=bool)
    rest = xp.nonzero(in_closed)[0]
    if rest.shape[0]:
        strict = pair_test(mx[rest], my[rest], g[rest], ae, "contains")
        interior[mu[rest[strict]]] = True
    # step 4 for the near edges of A: no piece strictly inside B
    s_all = xp.arange(sk.shape[0], dtype=np.int64)
    sx0, sy0, sx1, sy1 = ae.x0[se], ae.y0[se], ae.x1[se], ae.y1[se]
    ms, nx, ny = _piece_midpoints(xp, s_all, sx0, sy0, sx1, sy1, a_ev)
    if ms.shape[0]:
        inside_b = pair_test(nx, ny, bi[sk[ms]], be, "contains")
        bad |= bincount(xp, sk[ms[inside_b]], n) > 0
    # step 5: parts of B whose boundary lies wholly on A's boundary
    bad |= _filled_holes(xp, uk, ue, se, interior, ov, ae, be, sides, n)
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
    xp: Any, ids: Any, x0: Any, y0: Any, x1: Any, y1: Any,
    events: list[tuple[Any, Any, Any]],
) -> tuple[Any, Any, Any]:
    """Midpoints of the pieces of segments ``ids`` cut at the event points (id, x, y):
    (segment id, x, y) per piece of positive length."""
    ev_id = [ids, ids] + [e[0] for e in events]
    ev_x = [x0, x1] + [e[1] for e in events]
    ev_y = [y0, y1] + [e[2] for e in events]
    pid = xp.concatenate(ev_id)
    px, py = xp.concatenate(ev_x), xp.concatenate(ev_y)
    if pid.shape[0] == 0:
        e = xp.zeros(0, dtype=np.float64)
        return pid, e, e.copy()
    # ids index x0...: their directions order the points along each segment exactly
    dx, dy = (x1 - x0)[pid], (y1 - y0)[pid]
    t = _along(xp, dx, dy, px, py)
    order = xp.lexsort(xp.stack([t, pid.astype(np.float64)]))
    pid, px, py = pid[order], px[order], py[order]
    keep = (pid[1:] == pid[:-1]) & ((px[1:] != px[:-1]) | (py[1:] != py[:-1]))
    m = xp.nonzero(keep)[0]
    return pid[m], (px[m] + px[m + 1]) * 0.5, (py[m] + py[m + 1]) * 0.5


def _filled_holes(
    xp: Any, uk: Any, ue: Any, se: Any, interior: Any, ov: list[tuple[Any, Any]],
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
    ov_u = xp.concatenate([o[0] for o in ov]) if ov else xp.zeros(0, dtype=np.int64)
    ov_s = xp.concatenate([o[1] for o in ov]) if ov else xp.zeros(0, dtype=np.int64)
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
