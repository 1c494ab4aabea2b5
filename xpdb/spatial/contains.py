"""Point in polygon: every (point, polygon) pair where the point lies inside.

Three stages, all array code on ``xp``:

1. candidates: a :class:`~xpdb.spatial.index.GridIndex` over the polygons' bounding boxes maps
   each point to the polygons whose box holds it (chunks of bounded size);
2. exact test, vectorized over candidate pairs: the crossing number of a ray from the point
   towards +x over *all* rings of the polygon (shell, holes, every part of a multipolygon),
   so holes and multipolygons need no special case. Only the edges of the polygon's
   horizontal band holding the point are visited (:class:`PolygonEdges`: ~8 edges a band),
   which is exact because no other edge can straddle the point's y. An edge counts when it
   straddles the point's y half-open (``ay <= py < by`` or ``by <= py < ay``) and the point
   lies on the correct side of it (the sign of one cross product);
3. the boundary: a point whose cross product with an edge is exactly 0 inside the edge's box
   lies on the boundary. ``predicate="contains"`` drops it (shapely's ``contains``: the
   boundary is not inside), ``"intersects"`` keeps it.

Before stage 2, :class:`CellStates` settles whole grid cells: on the fine grid that
:func:`pip_index` builds when points far outnumber polygons, most cells hold no polygon edge,
so one test of the cell's centre answers for every point in it, and those points skip the
candidates and the edges (one lookup in the kernel and in its twin).

On the CPU (and as the portable GPU path) stage 2 expands each pair into its band's edges
(``repeat``/``cumsum``) in chunks of at most ``PAIR_EDGE_BUDGET`` pair-edges, keeps the
edges whose y-span holds the point, and reduces with ``bincount``. On the GPU two RawKernels
replace it: ``xpdb_pip_points`` runs one thread per point through all three stages (grid
cell, box test, crossing test) and returns each point's polygon count and first polygon;
``xpdb_pip_emit`` then writes every point's pairs at the prefix sum of the counts, so the
output needs no sort or compaction (only points in two or more polygons scan again); its
twin assembles the same arrays from the single hits and the pair path (``xpdb_pip_pairs``,
one thread per pair, on the GPU). Kernels and twins use the same arithmetic (no fused
multiply-add), so they agree bit for bit; tests compare them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TypeError as XpdbTypeError
from ..errors import XpdbError
from ..kernels._xp import argsort_bounded, bincount, cached_kernel, is_numpy, scatter_min
from .geometry import GeometryArray, expand_ranges
from .index import GridIndex, _chunks

#: candidate pairs per chunk (before the exact test)
MAX_PAIRS_CPU = 1 << 22
MAX_PAIRS_GPU = 1 << 26
#: pair x edge entries per chunk of the portable exact test (small on the CPU: the
#: temporaries stay in cache, several times faster than 8M-entry chunks)
PAIR_EDGE_BUDGET = 1 << 20
PAIR_EDGE_BUDGET_GPU = 1 << 25

PREDICATES = ("contains", "intersects")
#: grid cells per polygon of the point-in-polygon index (fine: most cells then hold no edge
#: and answer for all their points at once, see CellStates), and its caps
PIP_CELLS_PER_ITEM = 256.0
PIP_ENTRIES_PER_ITEM = 512.0
PIP_MAX_CELLS = 1 << 23
#: (edge, cell) pairs CellStates may expand; beyond, every cell is left unknown
CELL_EDGE_BUDGET = 1 << 24
#: cell states: the cell's points need the exact test / lie in no polygon / (>= 0) lie in
#: exactly that polygon, interior
UNKNOWN, NO_POLYGON = -2, -1


#: target edges per horizontal band of a polygon (see PolygonEdges)
EDGES_PER_BAND = 8


class PolygonEdges:
    """The edges of a polygon array, grouped by row and by horizontal band.

    ``edge_offsets[g]:edge_offsets[g+1]`` are the edges of row ``g``. Each row's box is also
    cut into ``n_bands[g]`` horizontal bands of height ``band_h[g]`` (about
    ``EDGES_PER_BAND`` edges each) and every edge is listed in each band its y-span
    overlaps: ``band_edges[band_offsets[b]:band_offsets[b+1]]`` for band
    ``b = band_start[g] + k``. Only edges whose y-span holds a point's y can cross its ray or
    hold it, and they all lie in the point's band, so testing that band alone is exact and
    costs ~``EDGES_PER_BAND`` edges instead of all of them. Point and edge bands come from the
    same monotone formula (:meth:`band_of`), so they agree at band borders.
    """

    def __init__(self, polygons: GeometryArray, edges_per_band: int = EDGES_PER_BAND) -> None:
        from .bbox import bounds

        xp = polygons.xp
        e = polygons.edges()
        n = len(polygons)
        self.x0, self.y0, self.x1, self.y1 = e.x0, e.y0, e.x1, e.y1
        self.edge_offsets = xp.searchsorted(
            e.geom, xp.arange(n + 1, dtype=np.int64)
        ).astype(np.int64)
        _, ymin, _, ymax = bounds(polygons)
        # rows without a box (empty, or null with stray coordinates): one band; the band
        # formula stays monotone, so the test stays exact
        ymin = xp.where(xp.isnan(ymin), 0.0, ymin)
        ymax = xp.where(xp.isnan(ymax), 0.0, ymax)
        n_edges = self.edge_offsets[1:] - self.edge_offsets[:-1]
        self.n_bands = xp.maximum(n_edges // max(1, edges_per_band), 1).astype(np.int64)
        h = (ymax - ymin) / self.n_bands
        self.band_h = xp.where(h > 0, h, 1.0)
        self.band_y0 = ymin
        self.band_start = xp.zeros(n + 1, dtype=np.int64)
        self.band_start[1:] = xp.cumsum(self.n_bands)
        n_total = int(self.band_start[-1])
        g = e.geom
        lo = xp.minimum(e.y0, e.y1)
        hi = xp.maximum(e.y0, e.y1)
        b0 = self.band_of(g, lo)
        b1 = self.band_of(g, hi)
        cnt = b1 - b0 + 1
        m = int(e.x0.shape[0])
        edge = xp.repeat(xp.arange(m, dtype=np.int64), cnt)
        local = expand_ranges(xp, xp.zeros(m, dtype=np.int64), cnt)
        band = (self.band_start[:-1][g] + b0)[edge] + local
        order = argsort_bounded(xp, band, max(n_total, 1))
        self.band_edges = edge[order]
        self.band_offsets = xp.searchsorted(
            band[order], xp.arange(n_total + 1, dtype=np.int64)
        ).astype(np.int64)

    def band_coords(self) -> Any:
        """``(x0, y0, x1, y1)`` of each band entry's edge, one contiguous float64 row per
        entry in band order (the GPU kernels' layout; built on first use)."""
        if getattr(self, "_band_coords", None) is None:
            xp = _xp_of(self.x0)
            e = self.band_edges
            self._band_coords = xp.ascontiguousarray(
                xp.stack([self.x0[e], self.y0[e], self.x1[e], self.y1[e]], axis=1),
                dtype=np.float64)
        return self._band_coords

    def band_of(self, g: Any, y: Any) -> Any:
        """Band number (within row ``g``) of height ``y``: clip(floor((y - y0) / h))."""
        xp = _xp_of(y)
        k = xp.floor((y - self.band_y0[g]) / self.band_h[g])
        k = xp.where(xp.isnan(k), 0, k)  # NaN heights: any band (they match nothing)
        return xp.clip(k, 0, self.n_bands[g] - 1).astype(np.int64)


class CellStates:
    """The answer for every point of a grid cell, where one answer holds for the whole cell.

    A cell that no polygon edge reaches (no edge's bounding box, in grid cells, covers it)
    holds no boundary point, so each polygon holds either all of the cell or none of it:
    the cell's centre, tested once, answers for every point in it. Its state is the one
    polygon holding it, ``NO_POLYGON``, or ``UNKNOWN`` (edges in the cell, or several
    polygons) for the exact test. Cells come from the same floor-and-clip formula as the
    points' (:meth:`GridIndex.point_cells`), which is monotone, so a point on an edge always
    falls in a cell of that edge's box. On a fine grid most points then need one lookup.
    """

    def __init__(self, index: GridIndex, edges: PolygonEdges | None = None,
                 budget: int = CELL_EDGE_BUDGET) -> None:
        xp = index.xp
        n_cells = int(index.nx * index.ny)
        self.state = xp.full(n_cells, UNKNOWN, dtype=np.int64)
        self.n_known = 0
        if edges is None or index.n_items == 0 or int(edges.x0.shape[0]) == 0:
            return
        x0, y0, x1, y1 = edges.x0, edges.y0, edges.x1, edges.y1
        valid = ~(xp.isnan(x0) | xp.isnan(y0) | xp.isnan(x1) | xp.isnan(y1))
        cx0 = index._cell_x(xp.where(valid, xp.minimum(x0, x1), index.x0))
        cx1 = index._cell_x(xp.where(valid, xp.maximum(x0, x1), index.x0))
        cy0 = index._cell_y(xp.where(valid, xp.minimum(y0, y1), index.y0))
        cy1 = index._cell_y(xp.where(valid, xp.maximum(y0, y1), index.y0))
        bw = cx1 - cx0 + 1
        cnt = xp.where(valid, bw * (cy1 - cy0 + 1), 0)
        if int(cnt.sum()) > budget:
            return  # long edges over a fine grid: leave every cell to the exact test
        e = xp.repeat(xp.arange(int(x0.shape[0]), dtype=np.int64), cnt)
        local = expand_ranges(xp, xp.zeros(int(x0.shape[0]), dtype=np.int64), cnt)
        cell = (cy0[e] + local // bw[e]) * index.nx + cx0[e] + local % bw[e]
        dirty = xp.zeros(n_cells, dtype=bool)
        dirty[cell] = True
        clean = xp.nonzero(~dirty)[0]
        cx = index.x0 + (clean % index.nx + 0.5) * index.cw
        cy = index.y0 + (clean // index.nx + 0.5) * index.ch
        # a centre that rounds into a neighbour cell would answer for the wrong cell
        home = index.point_cells(cx, cy) == clean
        clean, cx, cy = clean[home], cx[home], cy[home]
        if clean.shape[0] == 0:
            return
        count, first = point_hits(cx, cy, index, edges, "contains")
        self.state[clean] = xp.where(count == 1, first,
                                     xp.where(count == 0, NO_POLYGON, UNKNOWN))
        self.n_known = int((self.state >= NO_POLYGON).sum())

    @classmethod
    def unknown(cls, index: GridIndex) -> CellStates:
        """Every cell left to the exact test."""
        return cls(index, None)

    def of_points(self, index: GridIndex, x: Any, y: Any) -> Any:
        """State of each point's cell (``NO_POLYGON`` outside the grid or for NaN)."""
        xp = index.xp
        cell = index.point_cells(x, y)
        return xp.where(cell >= 0, self.state[xp.maximum(cell, 0)], NO_POLYGON)


def _xp_of(a: Any) -> Any:
    from ..device import device_of

    return device_of(a).xp


def _check_predicate(predicate: str, where: str) -> str:
    if predicate not in PREDICATES:
        msg = (
            f"{where}: unknown predicate {predicate!r}; use 'contains' (boundary points are "
            "not inside, as shapely) or 'intersects' (boundary points count)"
        )
        raise XpdbError(msg)
    return predicate


def points_in_polygons(
    x: Any,
    y: Any,
    polygons: GeometryArray,
    predicate: str = "contains",
    index: GridIndex | None = None,
    max_pairs: int | None = None,
    method: str = "auto",
) -> tuple[Any, Any]:
    """Every ``(point index, polygon index)`` pair where the point lies in the polygon.

    Parameters
    ----------
    x, y : array-like of float
        Point coordinates; moved to the polygons' device. NaN coordinates match nothing.
    polygons : GeometryArray
        Polygons or multipolygons (holes allowed). Null and empty rows match nothing.
    predicate : {"contains", "intersects"}
        ``"contains"``: the point is in the polygon's interior, as
        ``shapely.contains(polygon, point)`` (a point on an edge or a vertex is *not*
        inside). ``"intersects"``: interior or boundary, as ``shapely.intersects``.
    index : GridIndex, optional
        A prebuilt index over ``polygons`` (to reuse across calls).
    max_pairs : int, optional
        Candidate pairs per chunk; bounds memory (default: 4M on the CPU, 64M on the GPU).
    method : {"auto", "pairs", "points"}
        ``"pairs"``: expand candidate pairs, then test them. ``"points"``: one pass per
        point counting its polygons and keeping the first (a GPU kernel fusing the grid
        lookup, the box test and the crossing test; its NumPy twin on the CPU), then the
        pair path only for points in two or more polygons; points in grid cells of known
        state (:class:`CellStates`) take it directly. ``"auto"``: ``"points"``. The answer
        is the same.

    Returns
    -------
    (point_idx, polygon_idx) : tuple of int64 arrays on the polygons' device
        Sorted by point, then polygon.

    Notes
    -----
    Planar geometry, as shapely: longitudes are x; a polygon crossing the antimeridian must
    be split at it first. Points within rounding error of an edge may be classified
    differently from shapely's robust predicates; exactly representable cases (vertices,
    axis-parallel edges, grid points on edges) agree.

    Examples
    --------
    >>> from xpdb.spatial import polygons
    >>> sq = polygons([0, 4, 4, 0, 0], [0, 0, 4, 4, 0], ring_offsets=[0, 5], geom_offsets=[0, 1])
    >>> p, g = points_in_polygons(np.array([1.0, 4.0, 5.0]), np.array([1.0, 2.0, 1.0]), sq)
    >>> p.tolist(), g.tolist()
    ([0], [0])
    >>> points_in_polygons(np.array([1.0, 4.0]), np.array([1.0, 2.0]), sq, "intersects")[0]
    array([0, 1])
    """
    _check_predicate(predicate, "points_in_polygons")
    if not polygons.is_polygonal:
        msg = (
            f"points_in_polygons needs polygons or multipolygons, got a {polygons.geom_type} "
            "array; convert it (e.g. buffer lines with shapely) first"
        )
        raise XpdbTypeError(msg)
    dev = polygons.device
    xp = dev.xp
    x = dev.asarray(x, dtype=np.float64)
    y = dev.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise XpdbError(f"points_in_polygons: x and y must be 1-d of equal length, got "
                        f"{x.shape} and {y.shape}")
    if max_pairs is None:
        max_pairs = MAX_PAIRS_GPU if dev.is_gpu else MAX_PAIRS_CPU
    if method not in ("auto", "pairs", "points"):
        msg = f"points_in_polygons: unknown method {method!r}; use 'auto', 'pairs' or 'points'"
        raise XpdbError(msg)
    with dev.guard():
        if index is None:
            index, edges, cells = pip_structures(polygons, int(x.shape[0]))
        else:
            edges = polygon_edges(polygons)
            cells = None
        if method == "pairs":
            return _by_pairs(xp, x, y, index, edges, predicate, max_pairs)
        if cells is None:
            cells = CellStates(index, edges)
        return _by_points(xp, x, y, index, edges, predicate, max_pairs, cells)


def polygon_edges(polygons: GeometryArray) -> PolygonEdges:
    """The :class:`PolygonEdges` of ``polygons``, built once and kept with the array."""
    edges = polygons._derived.get("edges")
    if edges is None:
        edges = polygons._derived["edges"] = PolygonEdges(polygons)
    return edges


def pip_structures(polygons: GeometryArray, n_points: int
                   ) -> tuple[GridIndex, PolygonEdges, CellStates]:
    """The grid index (:func:`pip_index`), edge bands and cell states for joining
    ``n_points`` points to ``polygons``, kept with the array for the next join of a similar
    size (the grid depends on the number of points only through its fineness): a zones
    table joined again and again builds them once, as GeoPandas builds a GeoDataFrame's
    ``sindex`` once. Only the latest grid is kept."""
    key = ("pip", _pip_cells_per_item(len(polygons), n_points))
    hit = polygons._derived.get("pip")
    if hit is not None and hit[0] == key:
        return hit[1]
    index = pip_index(polygons, n_points)
    edges = polygon_edges(polygons)
    out = (index, edges, CellStates(index, edges))
    polygons._derived["pip"] = (key, out)
    return out


def _pip_cells_per_item(n_polygons: int, n_points: int) -> float:
    """Grid cells per polygon for ``n_points`` points, rounded down to a power of two so
    that joins of similar sizes share one grid."""
    m = max(n_polygons, 1)
    per_item = min(PIP_CELLS_PER_ITEM, PIP_MAX_CELLS / m, n_points / (4.0 * m))
    return float(2.0 ** np.floor(np.log2(max(per_item, 4.0))))


def pip_index(polygons: GeometryArray, n_points: int) -> GridIndex:
    """The grid index :func:`points_in_polygons` builds: fine (up to
    ``PIP_CELLS_PER_ITEM`` cells a polygon, so most cells hold no edge and answer for their
    points at once) when the points far outnumber the cells, never more cells than a
    quarter of the points (testing the cells' centres must stay cheaper than the points)."""
    per_item = _pip_cells_per_item(len(polygons), n_points)
    return GridIndex(polygons, cells_per_item=per_item,
                     max_entries_per_item=max(PIP_ENTRIES_PER_ITEM * per_item
                                              / PIP_CELLS_PER_ITEM, 16.0))


def _by_pairs(
    xp: Any, x: Any, y: Any, index: GridIndex, edges: PolygonEdges, predicate: str,
    max_pairs: int,
) -> tuple[Any, Any]:
    out_p, out_g = [], []
    for p, g in index.iter_point_pairs(x, y, max_pairs):
        if p.shape[0] == 0:
            continue
        hit = pair_test(x[p], y[p], g, edges, predicate)
        out_p.append(p[hit])
        out_g.append(g[hit])
    if not out_p:
        e = xp.zeros(0, dtype=np.int64)
        return e, e.copy()
    return xp.concatenate(out_p), xp.concatenate(out_g)


def _by_points(
    xp: Any, x: Any, y: Any, index: GridIndex, edges: PolygonEdges, predicate: str,
    max_pairs: int, cells: CellStates | None = None,
) -> tuple[Any, Any]:
    """Per-point counts and first polygons, then pairs only for points in several polygons;
    the output is assembled in (point, polygon) order without a sort."""
    cells = CellStates.unknown(index) if cells is None else cells
    count, first = point_hits(x, y, index, edges, predicate, max_pairs, cells)
    n = int(x.shape[0])
    off = xp.zeros(n + 1, dtype=np.int64)
    off[1:] = xp.cumsum(count)
    total = int(off[-1])
    from ..device import device_of

    dev = device_of(x)
    if dev.is_gpu and index.n_items:
        # pass 2 on the GPU: each point writes its own pairs (the twin below assembles the
        # same arrays from the single hits and the pair path)
        return _emit_gpu(xp, dev.index, x, y, index, edges, predicate, count, first, off,
                         total, cells)
    out_p = xp.empty(total, dtype=np.int64)
    out_g = xp.empty(total, dtype=np.int64)
    single = xp.nonzero(count == 1)[0]
    out_p[off[single]] = single
    out_g[off[single]] = first[single]
    multi = xp.nonzero(count > 1)[0]
    if multi.shape[0]:
        mp, mg = _by_pairs(xp, x[multi], y[multi], index, edges, predicate, max_pairs)
        mp = multi[mp]
        # pairs arrive sorted by point then polygon: the k-th pair of a point goes to
        # off[point] + k
        rank = xp.arange(mp.shape[0], dtype=np.int64) - xp.searchsorted(mp, mp, side="left")
        pos = off[mp] + rank
        out_p[pos] = mp
        out_g[pos] = mg
    return out_p, out_g


def point_hits(
    x: Any, y: Any, index: GridIndex, edges: PolygonEdges, predicate: str,
    max_pairs: int = MAX_PAIRS_CPU, cells: CellStates | None = None,
) -> tuple[Any, Any]:
    """Per point: how many polygons hold it (int64) and the first (lowest) of them (-1: none).

    The GPU kernel does the grid lookup, box test and crossing test in one pass; the
    portable twin goes through candidate pairs.
    """
    from ..device import device_of

    dev = device_of(x)
    if dev.is_gpu:
        return _point_hits_gpu(dev.xp, dev.index, x, y, index, edges, predicate, cells)
    return point_hits_xp(dev.xp, x, y, index, edges, predicate, max_pairs, cells)


def point_hits_xp(
    xp: Any, x: Any, y: Any, index: GridIndex, edges: PolygonEdges, predicate: str,
    max_pairs: int = MAX_PAIRS_CPU, cells: CellStates | None = None,
) -> tuple[Any, Any]:
    """The portable twin of the per-point GPU kernel (runs on NumPy and CuPy): points in
    cells of known state take it, the others go through the pair path."""
    n = int(x.shape[0])
    st = None
    if cells is not None and cells.n_known:
        st = cells.of_points(index, x, y)
        rest = xp.nonzero(st == UNKNOWN)[0]
        p, g = _by_pairs(xp, x[rest], y[rest], index, edges, predicate, max_pairs)
        p = rest[p]
    else:
        p, g = _by_pairs(xp, x, y, index, edges, predicate, max_pairs)
    count = bincount(xp, p, n)
    first = xp.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    if p.shape[0]:
        scatter_min(xp, first, p, g)
    if st is not None:
        inside = st >= 0
        count = count + inside
        first = xp.where(inside, st, first)
    return count, xp.where(count > 0, first, -1)


def pair_test(px: Any, py: Any, g: Any, edges: PolygonEdges, predicate: str) -> Any:
    """Bool per pair: is point ``(px[k], py[k])`` in polygon ``g[k]`` under ``predicate``.

    Dispatches to the GPU kernel for CuPy arrays, else the portable expansion.
    """
    from ..device import device_of

    dev = device_of(px)
    if is_numpy(dev.xp):
        return pair_test_xp(np, px, py, g, edges, predicate, PAIR_EDGE_BUDGET)
    return _pair_test_gpu(dev.xp, dev.index, px, py, g, edges, predicate)


def pair_test_xp(
    xp: Any, px: Any, py: Any, g: Any, edges: PolygonEdges, predicate: str,
    budget: int | None = None,
) -> Any:
    """The portable exact test (NumPy twin of the GPU kernel; also runs on CuPy)."""
    if budget is None:
        budget = PAIR_EDGE_BUDGET if is_numpy(xp) else PAIR_EDGE_BUDGET_GPU
    n = int(px.shape[0])
    band = edges.band_start[:-1][g] + edges.band_of(g, py)
    starts = edges.band_offsets[band]
    counts = edges.band_offsets[band + 1] - starts
    result = xp.zeros(n, dtype=bool)
    for a, b in _chunks(xp, counts, budget):
        c = counts[a:b]
        pid = xp.repeat(xp.arange(b - a, dtype=np.int64), c)
        e = edges.band_edges[expand_ranges(xp, starts[a:b], c)]
        qy = py[a:b][pid]
        ay, by = edges.y0[e], edges.y1[e]
        # only edges whose y-span holds the point can cross its ray or hold it: a few of
        # each polygon's edges, so the rest of the arithmetic runs on a fraction
        near = xp.nonzero(((ay <= qy) | (by <= qy)) & ((ay >= qy) | (by >= qy)))[0]
        pid, e, qy, ay, by = pid[near], e[near], qy[near], ay[near], by[near]
        qx = px[a:b][pid]
        ax, bx = edges.x0[e], edges.x1[e]
        cross = (bx - ax) * (qy - ay) - (by - ay) * (qx - ax)
        up = (ay <= qy) & (by > qy)
        down = (by <= qy) & (ay > qy)
        crossing = (up & (cross > 0)) | (down & (cross < 0))
        on = (
            (cross == 0)
            & (qx >= xp.minimum(ax, bx)) & (qx <= xp.maximum(ax, bx))
            & (qy >= xp.minimum(ay, by)) & (qy <= xp.maximum(ay, by))
        )
        odd = (bincount(xp, pid[crossing], b - a) % 2) == 1
        boundary = bincount(xp, pid[on], b - a) > 0
        result[a:b] = (odd & ~boundary) if predicate == "contains" else (odd | boundary)
    return result


_PIP_SOURCE = r"""
// bc: the band entries' edges, (x0, y0) and (x1, y1) as two double2 each, in band order:
// one contiguous 32-byte read per edge, no indirection
struct XpdbBands {
    const double* y0; const double* h; const long long* nb; const long long* start;
    const long long* off; const double2* bc;
};

// is (qx, qy) in polygon gg: crossing number over the edges of the point's band
__device__ __forceinline__ bool xpdb_pip_one(
    const double qx, const double qy, const long long gg, const XpdbBands B,
    const int intersects)
{
    // the band exactly as PolygonEdges.band_of computes it (floor, NaN -> 0, clip)
    double k = floor(__ddiv_rn(__dsub_rn(qy, B.y0[gg]), B.h[gg]));
    if (k != k) k = 0.0;
    k = fmin(fmax(k, 0.0), (double)(B.nb[gg] - 1));
    const long long band = B.start[gg] + (long long)k;
    int odd = 0;
    int on = 0;
    for (long long j = B.off[band]; j < B.off[band + 1]; ++j) {
        const double2 a = B.bc[2 * j], b = B.bc[2 * j + 1];
        const double ax = a.x, ay = a.y, bx = b.x, by = b.y;
        // no fused multiply-add: the same rounding as the NumPy twin
        const double cross = __dsub_rn(__dmul_rn(__dsub_rn(bx, ax), __dsub_rn(qy, ay)),
                                       __dmul_rn(__dsub_rn(by, ay), __dsub_rn(qx, ax)));
        if ((ay <= qy && by > qy && cross > 0) || (by <= qy && ay > qy && cross < 0)) odd ^= 1;
        if (cross == 0 && qx >= fmin(ax, bx) && qx <= fmax(ax, bx)
            && qy >= fmin(ay, by) && qy <= fmax(ay, by)) on = 1;
    }
    return intersects ? (odd || on) : (odd && !on);
}

extern "C" __global__ void xpdb_pip_pairs(
    const double* px, const double* py, const long long* g,
    const double* by0, const double* bh, const long long* nb, const long long* bstart,
    const long long* boff, const double2* bc,
    const int intersects, const long long n, bool* out)
{
    long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n) return;
    const XpdbBands B = {by0, bh, nb, bstart, boff, bc};
    out[k] = xpdb_pip_one(px[k], py[k], g[k], B, intersects);
}

struct XpdbGrid {
    double gx0, gy0, gx1, gy1, cw, ch; long long nx, ny;
    const long long* cell_off; const long long* entry_item; const long long* item_ids;
    const double* bx0; const double* bya; const double* bx1; const double* byb;
    const long long* cstate;
};

// the polygons holding (qx, qy), in ascending order: returns how many, and writes the
// first `room` of them to hits (room 0: count only)
__device__ __forceinline__ long long xpdb_pip_scan(
    const double qx, const double qy, const XpdbGrid G, const XpdbBands B,
    const int intersects, long long* hits, const long long room)
{
    long long c = 0;
    if (!(qx >= G.gx0 && qx <= G.gx1 && qy >= G.gy0 && qy <= G.gy1)) return 0;
    // the grid cell exactly as GridIndex computes it (floor, then clip)
    double fx = floor(__ddiv_rn(__dsub_rn(qx, G.gx0), G.cw));
    double fy = floor(__ddiv_rn(__dsub_rn(qy, G.gy0), G.ch));
    long long ix = (long long)fmin(fmax(fx, 0.0), (double)(G.nx - 1));
    long long iy = (long long)fmin(fmax(fy, 0.0), (double)(G.ny - 1));
    const long long cell = iy * G.nx + ix;
    // a cell no edge reaches answers for all its points (CellStates)
    const long long st = G.cstate[cell];
    if (st >= 0) {
        if (room > 0) hits[0] = st;
        return 1;
    }
    if (st == -1) return 0;
    for (long long e = G.cell_off[cell]; e < G.cell_off[cell + 1]; ++e) {
        const long long it = G.entry_item[e];
        if (qx < G.bx0[it] || qx > G.bx1[it] || qy < G.bya[it] || qy > G.byb[it]) continue;
        const long long gg = G.item_ids[it];
        if (xpdb_pip_one(qx, qy, gg, B, intersects)) {
            // entries of a cell are in ascending item order, items in polygon order
            if (c < room) hits[c] = gg;
            ++c;
        }
    }
    return c;
}

#define XPDB_GRID_PARAMS \
    const double gx0, const double gy0, const double gx1, const double gy1, \
    const double cw, const double ch, const long long nx, const long long ny, \
    const long long* cell_off, const long long* entry_item, const long long* item_ids, \
    const double* bx0, const double* bya, const double* bx1, const double* byb, \
    const long long* cstate, \
    const double* by0, const double* bh, const long long* nb, const long long* bstart, \
    const long long* boff, const double2* bc
#define XPDB_GRID_INIT \
    const XpdbBands B = {by0, bh, nb, bstart, boff, bc}; \
    const XpdbGrid G = {gx0, gy0, gx1, gy1, cw, ch, nx, ny, cell_off, entry_item, \
                        item_ids, bx0, bya, bx1, byb, cstate};

// pass 1: per point, how many polygons hold it and the first of them (-1: none)
extern "C" __global__ void xpdb_pip_points(
    const double* px, const double* py, const long long n, XPDB_GRID_PARAMS,
    const int intersects, long long* count, long long* first)
{
    long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n) return;
    XPDB_GRID_INIT
    long long f = -1;
    count[k] = xpdb_pip_scan(px[k], py[k], G, B, intersects, &f, 1);
    first[k] = f;
}

// pass 2: each point writes its pairs at its offset (the exclusive prefix sum of the
// counts), so the pairs come out sorted by point, then polygon, with no sort or compaction;
// only points in several polygons repeat the scan
extern "C" __global__ void xpdb_pip_emit(
    const double* px, const double* py, const long long n, XPDB_GRID_PARAMS,
    const int intersects, const long long* count, const long long* first,
    const long long* off, long long* out_p, long long* out_g)
{
    long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n) return;
    const long long c = count[k];
    if (c == 0) return;
    const long long o = off[k];
    if (c == 1) {
        out_p[o] = k;
        out_g[o] = first[k];
        return;
    }
    XPDB_GRID_INIT
    xpdb_pip_scan(px[k], py[k], G, B, intersects, out_g + o, c);
    for (long long j = 0; j < c; ++j) out_p[o + j] = k;
}
"""


def _pair_test_gpu(
    xp: Any, dev_id: int, px: Any, py: Any, g: Any, edges: PolygonEdges, predicate: str
) -> Any:
    n = int(px.shape[0])
    out = xp.zeros(n, dtype=bool)
    if n == 0:
        return out
    kern = _kernel(xp, dev_id, "xpdb_pip_pairs")
    threads = 256
    blocks = (n + threads - 1) // threads
    kern(
        (blocks,), (threads,),
        (
            _f64(xp, px), _f64(xp, py), _i64(xp, g), *_band_args(xp, edges),
            np.int32(predicate == "intersects"), np.int64(n), out,
        ),
    )
    return out


def _band_args(xp: Any, edges: PolygonEdges) -> tuple[Any, ...]:
    """The XpdbBands fields, in the kernels' argument order."""
    return (
        _f64(xp, edges.band_y0), _f64(xp, edges.band_h), _i64(xp, edges.n_bands),
        _i64(xp, edges.band_start), _i64(xp, edges.band_offsets), edges.band_coords(),
    )


def _f64(xp: Any, a: Any) -> Any:
    return xp.ascontiguousarray(a, dtype=np.float64)


def _i64(xp: Any, a: Any) -> Any:
    return xp.ascontiguousarray(a, dtype=np.int64)


def _kernel(xp: Any, dev_id: int, name: str) -> Any:
    return cached_kernel((name, dev_id), lambda: xp.RawKernel(_PIP_SOURCE, name))


def _grid_args(xp: Any, index: GridIndex, edges: PolygonEdges,
               cells: CellStates | None) -> tuple[Any, ...]:
    """The XPDB_GRID_PARAMS of the per-point kernels, in order."""
    cells = CellStates.unknown(index) if cells is None else cells
    return (
        np.float64(index.x0), np.float64(index.y0), np.float64(index.x1),
        np.float64(index.y1), np.float64(index.cw), np.float64(index.ch),
        np.int64(index.nx), np.int64(index.ny),
        _i64(xp, index.cell_offsets), _i64(xp, index.entry_item), _i64(xp, index.item_ids),
        _f64(xp, index.xmin), _f64(xp, index.ymin), _f64(xp, index.xmax),
        _f64(xp, index.ymax), _i64(xp, cells.state), *_band_args(xp, edges),
    )


def _launch_per_point(xp: Any, dev_id: int, name: str, x: Any, y: Any, index: GridIndex,
                      edges: PolygonEdges, predicate: str, cells: CellStates | None,
                      *tail: Any) -> None:
    """One thread per point of kernel ``name`` over the grid arguments, then ``tail``."""
    n = int(x.shape[0])
    threads = 256
    _kernel(xp, dev_id, name)(
        ((n + threads - 1) // threads,), (threads,),
        (_f64(xp, x), _f64(xp, y), np.int64(n), *_grid_args(xp, index, edges, cells),
         np.int32(predicate == "intersects"), *tail),
    )


def _point_hits_gpu(
    xp: Any, dev_id: int, x: Any, y: Any, index: GridIndex, edges: PolygonEdges,
    predicate: str, cells: CellStates | None = None,
) -> tuple[Any, Any]:
    n = int(x.shape[0])
    count = xp.zeros(n, dtype=np.int64)
    first = xp.full(n, -1, dtype=np.int64)
    if n and index.n_items:
        _launch_per_point(xp, dev_id, "xpdb_pip_points", x, y, index, edges, predicate, cells,
                          count, first)
    return count, first


def _emit_gpu(
    xp: Any, dev_id: int, x: Any, y: Any, index: GridIndex, edges: PolygonEdges,
    predicate: str, count: Any, first: Any, off: Any, total: int,
    cells: CellStates | None = None,
) -> tuple[Any, Any]:
    """Pass 2 of the GPU path: every point writes its pairs at ``off[point]``."""
    out_p = xp.empty(total, dtype=np.int64)
    out_g = xp.empty(total, dtype=np.int64)
    if total:
        _launch_per_point(xp, dev_id, "xpdb_pip_emit", x, y, index, edges, predicate, cells,
                          count, first, off, out_p, out_g)
    return out_p, out_g
