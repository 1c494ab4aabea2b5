"""A uniform grid over bounding boxes: the candidate filter of every spatial join.

Each indexed item (a polygon's bounding box) is entered in every grid cell its box touches;
the entries are sorted by cell, so a cell's items are one slice ``entry_item[o[c]:o[c+1]]``
(sort + offsets, no hash table). A query point falls in one cell, whose items are its
candidates; a query box covers a block of cells. Everything is array code on ``xp``; pairs are
expanded with ``repeat``/``cumsum`` (:func:`~xpdb.spatial.geometry.expand_ranges`) and
produced in chunks of bounded size so 100M points against 10k polygons fit in device memory.

The grid's size aims at ``cells_per_item`` cells per item, and is coarsened while the number
of (cell, item) entries would exceed ``max_entries_per_item`` per item (large items covering
many small cells).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..kernels._xp import argsort_bounded
from .geometry import GeometryArray, expand_ranges


class GridIndex:
    """A uniform grid over the bounding boxes of ``items``.

    Parameters
    ----------
    items : GeometryArray or tuple of 4 xp arrays
        Geometries (their bounds are indexed) or bounds ``(xmin, ymin, xmax, ymax)``. Rows with
        NaN bounds (empty or null geometries) are left out.
    cells_per_item : float
        Target number of grid cells per item.
    max_entries_per_item : float
        Coarsen the grid while the (cell, item) entries exceed this many per item.

    Examples
    --------
    >>> from xpdb.spatial import boxes
    >>> idx = GridIndex(boxes(np.array([0.0, 5.0]), np.array([0.0, 5.0]),
    ...                       np.array([1.0, 6.0]), np.array([1.0, 6.0])))
    >>> [p.tolist() for p in idx.query_points(np.array([0.5, 5.5, 3.0]),
    ...                                       np.array([0.5, 5.5, 3.0]))[:2]]
    [[0, 1], [0, 1]]
    """

    def __init__(
        self,
        items: GeometryArray | tuple[Any, Any, Any, Any],
        cells_per_item: float = 4.0,
        max_entries_per_item: float = 16.0,
    ) -> None:
        if isinstance(items, GeometryArray):
            from .bbox import bounds

            xp = items.xp
            b = bounds(items)
        else:
            from ..device import device_of

            xp = device_of(items[0]).xp
            b = tuple(xp.asarray(v, dtype=np.float64) for v in items)
        self.xp = xp
        ok = ~(xp.isnan(b[0]) | xp.isnan(b[1]) | xp.isnan(b[2]) | xp.isnan(b[3]))
        self.item_ids = xp.nonzero(ok)[0].astype(np.int64, copy=False)
        self.xmin, self.ymin, self.xmax, self.ymax = (v[self.item_ids] for v in b)
        m = int(self.item_ids.shape[0])
        self.n_items = m
        if m == 0:
            self.x0 = self.y0 = 0.0
            self.x1 = self.y1 = -1.0
            self.nx = self.ny = 1
            self.cw = self.ch = 1.0
            self.cell_offsets = xp.zeros(2, dtype=np.int64)
            self.entry_item = xp.zeros(0, dtype=np.int64)
            return
        self.x0, self.y0 = float(self.xmin.min()), float(self.ymin.min())
        self.x1, self.y1 = float(self.xmax.max()), float(self.ymax.max())
        w, h = self.x1 - self.x0, self.y1 - self.y0
        target = max(1.0, cells_per_item * m)
        if w > 0 and h > 0:
            nx = max(1, round(math.sqrt(target * w / h)))
            ny = max(1, round(target / nx))
        elif w > 0:
            nx, ny = max(1, round(target)), 1
        elif h > 0:
            nx, ny = 1, max(1, round(target))
        else:
            nx = ny = 1
        nx, ny = min(nx, 1 << 20), min(ny, 1 << 20)
        while True:
            self._set_grid(nx, ny, w, h)
            ix0, iy0 = self._cell_x(self.xmin), self._cell_y(self.ymin)
            ix1, iy1 = self._cell_x(self.xmax), self._cell_y(self.ymax)
            counts = (ix1 - ix0 + 1) * (iy1 - iy0 + 1)
            total = int(counts.sum())
            if total <= max_entries_per_item * m or nx * ny == 1:
                break
            nx, ny = max(1, nx // 2), max(1, ny // 2)
        # (cell, item) entries: item k covers the block ix0..ix1 x iy0..iy1
        item = xp.repeat(xp.arange(m, dtype=np.int64), counts)
        local = expand_ranges(xp, xp.zeros(m, dtype=np.int64), counts)
        bw = (ix1 - ix0 + 1)[item]
        cell = (iy0[item] + local // bw) * nx + (ix0[item] + local % bw)
        order = argsort_bounded(xp, cell, nx * ny)
        cell_sorted = cell[order]
        self.entry_item = item[order]
        self.cell_offsets = xp.searchsorted(
            cell_sorted, xp.arange(nx * ny + 1, dtype=np.int64)
        ).astype(np.int64)

    def _set_grid(self, nx: int, ny: int, w: float, h: float) -> None:
        self.nx, self.ny = nx, ny
        self.cw = w / nx if w > 0 else 1.0
        self.ch = h / ny if h > 0 else 1.0

    def _cell_x(self, v: Any) -> Any:
        xp = self.xp
        return xp.clip(xp.floor((v - self.x0) / self.cw), 0, self.nx - 1).astype(np.int64)

    def _cell_y(self, v: Any) -> Any:
        xp = self.xp
        return xp.clip(xp.floor((v - self.y0) / self.ch), 0, self.ny - 1).astype(np.int64)

    def __repr__(self) -> str:
        return f"GridIndex({self.n_items} items, {self.nx}x{self.ny} cells)"

    # -- point queries ---------------------------------------------------------------------
    def point_cells(self, x: Any, y: Any) -> Any:
        """Cell of every point (int64), -1 outside the indexed extent or for NaN."""
        xp = self.xp
        inside = (x >= self.x0) & (x <= self.x1) & (y >= self.y0) & (y <= self.y1)
        cell = self._cell_y(xp.where(inside, y, self.y0)) * self.nx + self._cell_x(
            xp.where(inside, x, self.x0)
        )
        return xp.where(inside, cell, -1)

    def iter_point_pairs(
        self, x: Any, y: Any, max_pairs: int = 1 << 24
    ) -> Iterator[tuple[Any, Any]]:
        """Candidate ``(point, item)`` pairs whose item box holds the point (closed boxes).

        Yields chunks of at most about ``max_pairs`` candidates (before the box test), in
        ascending point order; ``item`` is the row number in the indexed array.
        """
        xp = self.xp
        n = int(x.shape[0])
        if n == 0 or self.n_items == 0:
            return
        cell = self.point_cells(x, y)
        safe = xp.maximum(cell, 0)
        starts = self.cell_offsets[safe]
        counts = xp.where(cell >= 0, self.cell_offsets[safe + 1] - starts, 0)
        for a, b in _chunks(xp, counts, max_pairs):
            c = counts[a:b]
            p = xp.repeat(xp.arange(a, b, dtype=np.int64), c)
            if p.shape[0] == 0:
                continue
            it = self.entry_item[expand_ranges(xp, starts[a:b], c)]
            px, py = x[p], y[p]
            keep = (
                (px >= self.xmin[it]) & (px <= self.xmax[it])
                & (py >= self.ymin[it]) & (py <= self.ymax[it])
            )
            yield p[keep], self.item_ids[it[keep]]

    def query_points(self, x: Any, y: Any) -> tuple[Any, Any]:
        """All candidate ``(point, item)`` pairs at once (see :meth:`iter_point_pairs`)."""
        xp = self.xp
        parts = list(self.iter_point_pairs(x, y))
        if not parts:
            e = xp.zeros(0, dtype=np.int64)
            return e, e.copy()
        return xp.concatenate([p for p, _ in parts]), xp.concatenate([i for _, i in parts])

    # -- box queries -----------------------------------------------------------------------
    def query_bounds(self, xmin: Any, ymin: Any, xmax: Any, ymax: Any) -> tuple[Any, Any]:
        """All ``(query, item)`` pairs whose boxes overlap (closed), sorted by query then item.

        NaN query boxes (empty geometries) match nothing. Each pair is produced once: in the
        lowest cell the two boxes share.
        """
        xp = self.xp
        e = xp.zeros(0, dtype=np.int64)
        if self.n_items == 0 or xmin.shape[0] == 0:
            return e, e.copy()
        ok = ~(xp.isnan(xmin) | xp.isnan(ymin) | xp.isnan(xmax) | xp.isnan(ymax))
        ok &= (xmax >= self.x0) & (xmin <= self.x1) & (ymax >= self.y0) & (ymin <= self.y1)
        q = xp.nonzero(ok)[0].astype(np.int64)
        if q.shape[0] == 0:
            return e, e.copy()
        qx0, qy0 = self._cell_x(xmin[q]), self._cell_y(ymin[q])
        qx1, qy1 = self._cell_x(xmax[q]), self._cell_y(ymax[q])
        bw = qx1 - qx0 + 1
        ncell = bw * (qy1 - qy0 + 1)
        qq = xp.repeat(xp.arange(q.shape[0], dtype=np.int64), ncell)
        local = expand_ranges(xp, xp.zeros(q.shape[0], dtype=np.int64), ncell)
        cx = qx0[qq] + local % bw[qq]
        cy = qy0[qq] + local // bw[qq]
        cell = cy * self.nx + cx
        st = self.cell_offsets[cell]
        cnt = self.cell_offsets[cell + 1] - st
        pq = xp.repeat(qq, cnt)
        pcx, pcy = xp.repeat(cx, cnt), xp.repeat(cy, cnt)
        it = self.entry_item[expand_ranges(xp, st, cnt)]
        # keep a pair only in the first cell shared by both boxes (no duplicates)
        first_x = xp.maximum(qx0[pq], self._cell_x(self.xmin[it]))
        first_y = xp.maximum(qy0[pq], self._cell_y(self.ymin[it]))
        qi = q[pq]
        keep = (
            (pcx == first_x) & (pcy == first_y)
            & (xmin[qi] <= self.xmax[it]) & (xmax[qi] >= self.xmin[it])
            & (ymin[qi] <= self.ymax[it]) & (ymax[qi] >= self.ymin[it])
        )
        li, ri = qi[keep], self.item_ids[it[keep]]
        return sort_pairs(xp, li, ri)


def sort_pairs(xp: Any, left: Any, right: Any) -> tuple[Any, Any]:
    """Pairs sorted by ``left`` then ``right``."""
    if left.shape[0] == 0:
        return left.astype(np.int64), right.astype(np.int64)
    span_r = int(right.max()) + 1
    span = (int(left.max()) + 1) * span_r
    if span < (1 << 62):
        order = argsort_bounded(xp, left * span_r + right, span)
    else:
        order = xp.lexsort(xp.stack([right, left]))
    return left[order], right[order]


def _chunks(xp: Any, counts: Any, budget: int) -> Iterator[tuple[int, int]]:
    """Split rows into consecutive ranges whose ``counts`` sum to about ``budget`` or less.

    A row whose count alone exceeds the budget gets a range of its own. Only the range
    boundaries leave the device.
    """
    n = int(counts.shape[0])
    if n == 0:
        return
    cum = xp.cumsum(counts)
    total = int(cum[-1])
    if total <= budget:
        yield 0, n
        return
    k = total // budget
    targets = xp.arange(1, k + 1, dtype=np.int64) * budget
    cuts = xp.searchsorted(cum, targets, side="right")
    host = np.unique(np.asarray(cuts.get() if hasattr(cuts, "get") else cuts))
    a = 0
    for cut in host.tolist():
        c = max(cut, a + 1)
        if c >= n:
            break
        yield a, c
        a = c
    if a < n:
        yield a, n
