"""The point-in-polygon CUDA kernels themselves, run on the CPU through
:mod:`xpdb.kernels.emulate`, against their NumPy twins (the GPU machine runs the real ones
in test_contains.py)."""

from __future__ import annotations

import numpy as np
import pytest

from xpdb.kernels import emulate
from xpdb.spatial import contains as cm
from xpdb.spatial.index import GridIndex

from .conftest import star_polygon_array

pytestmark = pytest.mark.skipif(not emulate.available(), reason="needs g++ to emulate kernels")


def _twin_pairs(x, y, index, edges, pred):
    # the CPU assembly of _by_points: single hits plus the pair path
    return cm._by_points(np, x, y, index, edges, pred, cm.MAX_PAIRS_CPU)


@pytest.mark.parametrize("fine", [False, True])
@pytest.mark.parametrize("pred", ["contains", "intersects"])
def test_point_and_emit_kernels_match_the_twin(rng, pred, fine):
    # integer vertices and half-integer points: many points on edges and vertices, and
    # overlapping stars, so points in several polygons take the kernel's rescan; on the
    # fine grid most points take their cell's known state
    polys = star_polygon_array(rng, 40, extent=30.0, integer=True)
    index = GridIndex(polys, cells_per_item=64.0, max_entries_per_item=256.0) if fine \
        else GridIndex(polys)
    edges = cm.PolygonEdges(polys)
    cells = cm.CellStates(index, edges) if fine else None
    assert not fine or cells.n_known > index.nx * index.ny // 4
    x = np.round(rng.uniform(-1, 31, 1500) * 2) / 2
    y = np.round(rng.uniform(-1, 31, 1500) * 2) / 2
    x[:3] = np.nan  # match nothing
    xp = emulate.emulated_cupy()
    count, first = cm._point_hits_gpu(xp, -1, x, y, index, edges, pred, cells)
    c0, f0 = cm.point_hits_xp(np, x, y, index, edges, pred, cells=cells)
    np.testing.assert_array_equal(count, c0)
    np.testing.assert_array_equal(first, f0)
    assert count.max() > 1 and (count == 0).any()
    off = np.zeros(x.shape[0] + 1, dtype=np.int64)
    off[1:] = np.cumsum(count)
    p, g = cm._emit_gpu(xp, -1, x, y, index, edges, pred, count, first, off, int(off[-1]),
                        cells)
    p0, g0 = _twin_pairs(x, y, index, edges, pred)
    np.testing.assert_array_equal(p, p0)
    np.testing.assert_array_equal(g, g0)


def test_pair_kernel_matches_the_twin(rng):
    polys = star_polygon_array(rng, 30, extent=20.0, integer=True)
    edges = cm.PolygonEdges(polys)
    n = 800
    px = np.round(rng.uniform(-1, 21, n) * 2) / 2
    py = np.round(rng.uniform(-1, 21, n) * 2) / 2
    g = rng.integers(0, 30, n).astype(np.int64)
    xp = emulate.emulated_cupy()
    for pred in ("contains", "intersects"):
        got = cm._pair_test_gpu(xp, -1, px, py, g, edges, pred)
        np.testing.assert_array_equal(got, cm.pair_test_xp(np, px, py, g, edges, pred))
