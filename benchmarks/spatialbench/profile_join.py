"""Where the time of the points-to-zones join goes, phase by phase (GPU or CPU).

    python benchmarks/spatialbench/profile_join.py --points 1e8 --polygons 1000,10000

Prints one JSON line per zone count: the grid's shape and occupancy, and the median
milliseconds of the index build, the edge bands, the per-point kernel and the whole
``sjoin`` (the figure the benchmark reports), with the zones' kept index and rebuilt. Points and zones as ``run.py`` makes them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.spatialbench.run import sample_points, zone_map, zones_xpdb
from benchmarks.timing import median_ms
from xpdb.device import get_device
from xpdb.spatial import contains, points, sjoin
from xpdb.spatial.contains import CellStates, PolygonEdges, pip_index, point_hits


def timed(fn, sync, repeats: int) -> float:
    return median_ms(fn, sync, repeats)[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=float, default=1e7)
    ap.add_argument("--polygons", default="1000,10000")
    ap.add_argument("--device", default="gpu")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cells-per-item", default=None,
                    help="comma-separated grid cells per polygon to try (default: xpdb's)")
    a = ap.parse_args()
    dev = get_device(a.device)
    x, y = sample_points(int(a.points))
    dx, dy = dev.asarray(x), dev.asarray(y)
    del x, y
    fineness = ([None] if a.cells_per_item is None
                else [float(v) for v in a.cells_per_item.split(",")])
    for m, per in ((int(v), f) for v in a.polygons.split(",") for f in fineness):
        if per is not None:
            contains.PIP_CELLS_PER_ITEM = per
            contains.PIP_MAX_CELLS = max(contains.PIP_MAX_CELLS, int(per * m))
        zones = zones_xpdb(zone_map(m), dev)
        n = int(dx.shape[0])
        index, edges = pip_index(zones, n), PolygonEdges(zones)
        cells = CellStates(index, edges)
        per_cell = dev.xp.diff(index.cell_offsets)
        rec = {
            "polygons": m, "cells_per_item": contains.PIP_CELLS_PER_ITEM,
            "points": int(dx.shape[0]), "grid": f"{index.nx}x{index.ny}",
            "entries": int(index.entry_item.shape[0]),
            "mean_items_per_cell": float(per_cell.mean()),
            "max_items_per_cell": int(per_cell.max()),
            "edges": int(edges.x0.shape[0]),
            "known_cells": cells.n_known,
            "index_ms": timed(lambda z=zones, k=n: pip_index(z, k), dev.synchronize,
                              a.repeats),
            "edges_ms": timed(lambda z=zones: PolygonEdges(z), dev.synchronize, a.repeats),
            "cells_ms": timed(lambda i=index, e=edges: CellStates(i, e), dev.synchronize,
                              a.repeats),
            "point_hits_ms": timed(
                lambda i=index, e=edges, c=cells: point_hits(dx, dy, i, e, "contains", cells=c),
                dev.synchronize, a.repeats),
            # the zones keep their index after a join: warm reuses it, cold rebuilds it
            "sjoin_ms": timed(lambda z=zones: sjoin(points(dx, dy, device=dev), z, "within"),
                              dev.synchronize, a.repeats),
            "sjoin_cold_ms": timed(
                lambda z=zones: (z._derived.clear(),
                                 sjoin(points(dx, dy, device=dev), z, "within")),
                dev.synchronize, a.repeats),
        }
        count, _ = point_hits(dx, dy, index, edges, "contains", cells=cells)
        rec["points_in_several"] = int((count > 1).sum())
        rec["points_in_none"] = int((count == 0).sum())
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
