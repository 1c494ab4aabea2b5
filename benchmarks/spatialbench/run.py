"""Spatial benchmark: xpdb.spatial (GPU or CPU) beside shapely 2, GeoPandas, NumPy and pandas.

Cases (``--cases``):

- ``join``: points to zone polygons (``sjoin(points, zones, "within")``), once per
  ``--polygons`` count; peers: shapely's STRtree query with ``predicate="within"``, shapely's
  bounding-box query refined by ``contains_xy`` on prepared polygons, ``geopandas.sjoin``.
- ``haversine``: great-circle distances of point pairs; peer: NumPy's textbook formula.
- ``trajectory``: points of moving objects -> per-object length and average speed
  (``derive_trajectories`` + ``trajectory_distances_and_speeds``); peer: pandas (sort, NumPy
  haversine between consecutive points, ``groupby`` sums/min/max).

xpdb runs at full size (``--points``; trajectories ``--traj-objects`` x ``--traj-points``) on
``--device`` and again at the CPU size; the CPU peers run at ``--cpu-points`` only (100M
points take them minutes), in a process pool of ``--workers`` processes over as many chunks
(shapely/GeoPandas/NumPy/pandas calls use one core each). Speedups against them are per
point, labelled with the size the CPU peer was measured at; nothing is extrapolated.
Every run: one warm-up (its answer is checked), then ``--repeats`` timed runs, the median
reported; the GPU is synchronized before every clock read; the host-to-device copy is timed
apart. The floor of each case is the bytes it must read and write over the device's memory
bandwidth, measured by a large device copy at the start.

Usage::

    python benchmarks/spatialbench/run.py --points 1e8 --polygons 1000,10000 --cpu-points 2e6 \\
        --repeats 3 --out results/spatial
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context, shared_memory
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make xpdb importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from xpdb.device import Device, get_device, gpu_available
from xpdb.spatial import (
    EARTH_RADIUS_KM,
    derive_trajectories,
    haversine_distance,
    multipolygons,
    points,
    sjoin,
    trajectory_distances_and_speeds,
)

CASES = ("join", "haversine", "trajectory")
JOIN_PEERS = ("shapely", "shapely-xy", "geopandas")
PEERS = {"join": JOIN_PEERS, "haversine": ("numpy",), "trajectory": ("pandas",)}
#: a lon/lat box around New York City: about 30 km x 39 km
EXTENT = (-74.05, 40.55, -73.70, 40.90)
#: metres per degree of latitude on the mean sphere
M_PER_DEG = EARTH_RADIUS_KM * 1000.0 * math.pi / 180.0
#: nominal peak memory bandwidth (B/s) by device name, beside the measured copy bandwidth
NOMINAL_BANDWIDTH = (
    ("H200", 4.8e12), ("H100 PCIe", 2.0e12), ("H100", 3.35e12), ("A100-SXM4-80GB", 2.039e12),
    ("A100-SXM4-40GB", 1.555e12), ("A100", 1.935e12), ("L40S", 0.864e12), ("L4", 0.3e12),
)
POINT_CHUNK = 1 << 20  # points are generated in chunks of this many: a prefix is a subsample
TRAJ_BLOCK = 10_000  # objects per generated block (one random stream each)
MAX_EDGE_POINTS = 9  # interior vertices of a zone edge: 2..9, so 12..40 vertices a zone


# -- data -------------------------------------------------------------------------------------
def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` over (starts, lens)."""
    ends = np.cumsum(lens)
    return np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(starts - (ends - lens), lens)


def _edge_points(rng: np.random.Generator, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray,
                 by: np.ndarray, straight: np.ndarray, dx: float, dy: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interior vertices of edges a->b: (x, y, valid), each (edges, MAX_EDGE_POINTS).

    2..9 vertices at sorted positions along the edge, pushed sideways by up to 6% of a cell
    (tapering to 0 at the corners, so neighbouring edges never cross); ``straight`` edges
    (the map's border) stay straight.
    """
    e = ax.shape[0]
    slot = np.arange(MAX_EDGE_POINTS)[None, :]
    k = rng.integers(2, MAX_EDGE_POINTS + 1, e)
    valid = slot < k[:, None]
    u = np.where(valid, rng.random((e, MAX_EDGE_POINTS)), np.inf)
    u.sort(axis=1)
    t = np.where(valid, u, 0.5)
    off = rng.uniform(-0.06, 0.06, (e, MAX_EDGE_POINTS)) * np.sin(np.pi * t)
    off[straight] = 0.0
    # the normal in cell units, scaled back to degrees
    ex, ey = (bx - ax) / dx, (by - ay) / dy
    length = np.hypot(ex, ey)
    nx, ny = -ey / length * dx, ex / length * dy
    x = ax[:, None] + t * (bx - ax)[:, None] + off * nx[:, None]
    y = ay[:, None] + t * (by - ay)[:, None] + off * ny[:, None]
    return x, y, valid


def zone_map(n: int, seed: int = 42, extent: tuple[float, ...] = EXTENT) -> dict[str, Any]:
    """``n`` zones tiling a city: multipolygons in the GeoArrow layout (NumPy arrays).

    A ``g x g`` grid (``g = ceil(sqrt(n))``) of cells with jittered corners and 2..9
    jittered vertices on every edge (edges are shared, so zones tile without gaps or
    overlaps; cells past ``n`` are dropped). About 10% of the zones have a hole (6..10
    vertices) whose island belongs to another zone as a second part (an exclave), so those
    zones are true multipolygons. Returns ``x``, ``y``, ``ring_offsets``,
    ``polygon_offsets``, ``geom_offsets`` and the counts ``grid``, ``holes``.
    """
    rng = np.random.default_rng([seed, 1])
    g = max(1, math.ceil(math.sqrt(n)))
    x0, y0, x1, y1 = extent
    dx, dy = (x1 - x0) / g, (y1 - y0) / g
    idx = np.arange(g + 1)
    jx = rng.uniform(-0.2, 0.2, (g + 1, g + 1))
    jy = rng.uniform(-0.2, 0.2, (g + 1, g + 1))
    jx[[0, -1], :] = 0.0  # corners on the map's border stay on it
    jy[:, [0, -1]] = 0.0
    vx = x0 + (idx[:, None] + jx) * dx  # [i, j]: i along x, j along y
    vy = y0 + (idx[None, :] + jy) * dy
    # horizontal edges H[i, j]: V[i, j] -> V[i+1, j]; vertical W[i, j]: V[i, j] -> V[i, j+1]
    hb = np.zeros((g, g + 1), dtype=bool)
    hb[:, [0, -1]] = True
    hx, hy, hv = _edge_points(rng, vx[:-1].ravel(), vy[:-1].ravel(), vx[1:].ravel(),
                              vy[1:].ravel(), hb.ravel(), dx, dy)
    wb = np.zeros((g + 1, g), dtype=bool)
    wb[[0, -1], :] = True
    wx, wy, wv = _edge_points(rng, vx[:, :-1].ravel(), vy[:, :-1].ravel(), vx[:, 1:].ravel(),
                              vy[:, 1:].ravel(), wb.ravel(), dx, dy)
    cells = np.arange(n)
    ci, cj = cells % g, cells // g
    h = lambda i, j: i * (g + 1) + j  # noqa: E731  (flat index of H[i, j])
    w = lambda i, j: i * g + j  # noqa: E731
    one = np.ones((n, 1), dtype=bool)

    def corner(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, ...]:
        return vx[i, j][:, None], vy[i, j][:, None], one

    # a counter-clockwise ring: bottom, right, top reversed, left reversed, closed
    parts = [
        corner(ci, cj), (hx[h(ci, cj)], hy[h(ci, cj)], hv[h(ci, cj)]),
        corner(ci + 1, cj), (wx[w(ci + 1, cj)], wy[w(ci + 1, cj)], wv[w(ci + 1, cj)]),
        corner(ci + 1, cj + 1),
        (hx[h(ci, cj + 1)][:, ::-1], hy[h(ci, cj + 1)][:, ::-1], hv[h(ci, cj + 1)][:, ::-1]),
        corner(ci, cj + 1), (wx[w(ci, cj)][:, ::-1], wy[w(ci, cj)][:, ::-1],
                             wv[w(ci, cj)][:, ::-1]),
        corner(ci, cj),
    ]
    px = np.concatenate([p[0] for p in parts], axis=1)
    py = np.concatenate([p[1] for p in parts], axis=1)
    pv = np.concatenate([p[2] for p in parts], axis=1)
    cell_x, cell_y, cell_len = px[pv], py[pv], pv.sum(axis=1)
    # holes and their islands (owned by zone (c + g + 1) % n, a diagonal neighbour)
    owner = (cells + g + 1) % n
    hole = (rng.random(n) < 0.1) & (owner != cells)
    hc = cells[hole]
    nh = int(hc.shape[0])
    m = rng.integers(6, 11, nh)
    slot = np.arange(11)[None, :]
    ang = (np.minimum(slot, m[:, None]) % m[:, None] + rng.random((nh, 11))) * (
        2 * np.pi / m[:, None])
    rad = 0.12 * min(dx, dy) * rng.uniform(0.6, 1.0, (nh, 11))
    cx = (vx[ci[hole], cj[hole]] + vx[ci[hole] + 1, cj[hole]] + vx[ci[hole], cj[hole] + 1]
          + vx[ci[hole] + 1, cj[hole] + 1]) / 4
    cy = (vy[ci[hole], cj[hole]] + vy[ci[hole] + 1, cj[hole]] + vy[ci[hole], cj[hole] + 1]
          + vy[ci[hole] + 1, cj[hole] + 1]) / 4
    ix = cx[:, None] + rad * np.cos(ang)
    iy = cy[:, None] + rad * np.sin(ang)
    # close each ring: slot m repeats slot 0
    ix[np.arange(nh), m] = ix[:, 0]
    iy[np.arange(nh), m] = iy[:, 0]
    iv = slot <= m[:, None]
    isl_x, isl_y = ix[iv], iy[iv]
    # the hole is the island's ring reversed (clockwise)
    rev = np.where(iv, m[:, None] - slot, 0)
    hol_x = np.take_along_axis(ix, rev, axis=1)[iv]
    hol_y = np.take_along_axis(iy, rev, axis=1)[iv]
    pool_x = np.concatenate([cell_x, isl_x, hol_x])
    pool_y = np.concatenate([cell_y, isl_y, hol_y])
    pool_len = np.concatenate([cell_len, m + 1, m + 1]).astype(np.int64)
    pool_start = np.concatenate([[0], np.cumsum(pool_len)[:-1]])
    # rings: (zone, part, ring within part, pool ring)
    zone = np.concatenate([cells, owner[hole], hc])
    part = np.concatenate([np.zeros(n, np.int64), np.ones(nh, np.int64), np.zeros(nh, np.int64)])
    ring = np.concatenate([np.zeros(n, np.int64), np.zeros(nh, np.int64), np.ones(nh, np.int64)])
    pool = np.arange(n + 2 * nh)
    order = np.lexsort((ring, part, zone))
    pool = pool[order]
    lens = pool_len[pool]
    coords = _ranges(pool_start[pool], lens)
    ring_offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    polygon_offsets = np.concatenate([np.nonzero(ring[order] == 0)[0], [n + 2 * nh]])
    n_parts = np.bincount(zone[order][ring[order] == 0], minlength=n)
    geom_offsets = np.concatenate([[0], np.cumsum(n_parts)]).astype(np.int64)
    return {"x": pool_x[coords], "y": pool_y[coords], "ring_offsets": ring_offsets,
            "polygon_offsets": polygon_offsets.astype(np.int64), "geom_offsets": geom_offsets,
            "grid": g, "holes": nh}


def zones_xpdb(zm: dict[str, Any], device: str | Device) -> Any:
    """The zone map as an xpdb multipolygon GeometryArray on ``device``."""
    return multipolygons(zm["x"], zm["y"], zm["ring_offsets"], zm["polygon_offsets"],
                         zm["geom_offsets"], device=device)


def zones_shapely(zm: dict[str, Any]) -> np.ndarray:
    """The zone map as shapely MultiPolygons (built by shapely itself, not by xpdb)."""
    import shapely

    coords = np.stack([zm["x"], zm["y"]], axis=1)
    return shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON, coords,
        (zm["ring_offsets"], zm["polygon_offsets"], zm["geom_offsets"]))


def _hotspots(seed: int, extent: tuple[float, ...] = EXTENT) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng([seed, 2])
    x0, y0, x1, y1 = extent
    k = 24
    cx = rng.uniform(x0 + 0.1 * (x1 - x0), x1 - 0.1 * (x1 - x0), k)
    cy = rng.uniform(y0 + 0.1 * (y1 - y0), y1 - 0.1 * (y1 - y0), k)
    sigma = rng.uniform(0.002, 0.015, k)
    cum = np.cumsum(rng.dirichlet(np.ones(k)))
    return cx, cy, sigma, cum


def sample_points(n: int, seed: int = 42, stream: int = 3,
                  extent: tuple[float, ...] = EXTENT) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points (lon, lat): half uniform over ``extent``, half around 24 hot spots.

    Generated in chunks of :data:`POINT_CHUNK` with one random stream each, so the first
    ``m`` points of ``sample_points(n)`` are ``sample_points(m)``: the CPU subsample is a
    prefix of the full set.
    """
    x0, y0, x1, y1 = extent
    cx, cy, sigma, cum = _hotspots(seed, extent)
    x = np.empty(n)
    y = np.empty(n)
    for c, lo in enumerate(range(0, n, POINT_CHUNK)):
        rng = np.random.default_rng([seed, stream, c])
        m = POINT_CHUNK
        ux, uy = rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)
        s = np.minimum(np.searchsorted(cum, rng.random(m)), len(cum) - 1)
        gx = cx[s] + sigma[s] * rng.standard_normal(m)
        gy = cy[s] + sigma[s] * rng.standard_normal(m)
        # clustered points that fall off the map are replaced by uniform ones
        hot = (rng.random(m) < 0.5) & (gx > x0) & (gx < x1) & (gy > y0) & (gy < y1)
        hi = min(n, lo + m)
        x[lo:hi] = np.where(hot, gx, ux)[: hi - lo]
        y[lo:hi] = np.where(hot, gy, uy)[: hi - lo]
    return x, y


def trajectory_points(n_objects: int, per_object: int, seed: int = 42
                      ) -> dict[str, np.ndarray]:
    """GPS-like tracks: ``per_object`` points for each of ``n_objects`` moving objects.

    Objects start uniformly over the map, move at 2..20 m/s with a drifting heading, report
    every 5..60 s (int64 epoch seconds). Rows arrive time-major within blocks of
    :data:`TRAJ_BLOCK` objects (every object's first report, then every second one...),
    object ids shuffled within a block; each block has its own random stream, so the data
    of the first ``k`` objects is ``trajectory_points(k, ...)``, rows in the same order.
    Returns ``id`` (int64), ``lon``, ``lat`` (degrees), ``t`` (int64 seconds).
    """
    x0, y0, x1, y1 = EXTENT
    p = per_object
    out: dict[str, list[np.ndarray]] = {"id": [], "lon": [], "lat": [], "t": []}
    for b, o0 in enumerate(range(0, n_objects, TRAJ_BLOCK)):
        rng = np.random.default_rng([seed, 5, b])
        nb = TRAJ_BLOCK
        lon0, lat0 = rng.uniform(x0, x1, nb), rng.uniform(y0, y1, nb)
        speed = rng.uniform(2.0, 20.0, nb)
        heading = rng.uniform(0, 2 * np.pi, nb) + np.cumsum(
            rng.normal(0.0, 0.3, (p - 1, nb)), axis=0)
        dt = rng.integers(5, 61, (p - 1, nb))
        t0 = rng.integers(1_700_000_000, 1_700_003_600, nb)
        step = speed * dt
        dlat = step * np.sin(heading) / M_PER_DEG
        dlon = step * np.cos(heading) / (M_PER_DEG * np.cos(np.radians(lat0)))
        zero = np.zeros((1, nb))
        lat = lat0 + np.concatenate([zero, np.cumsum(dlat, axis=0)])
        lon = lon0 + np.concatenate([zero, np.cumsum(dlon, axis=0)])
        t = t0 + np.concatenate([zero.astype(np.int64), np.cumsum(dt, axis=0)])
        local = rng.permutation(nb)
        keep = local < min(nb, n_objects - o0)
        ids = np.broadcast_to(o0 + local, (p, nb))
        out["id"].append(ids[:, keep].ravel())
        out["lon"].append(lon[:, keep].ravel())
        out["lat"].append(lat[:, keep].ravel())
        out["t"].append(t[:, keep].ravel())
    return {k: np.concatenate(v) for k, v in out.items()}


def numpy_haversine(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray,
                    radius: float = EARTH_RADIUS_KM) -> np.ndarray:
    """The textbook haversine, ``2 R asin(sqrt(h))``, in NumPy (the CPU peer)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2)
    return 2 * radius * np.arcsin(np.sqrt(h))


# -- CPU peers: run in worker processes over shared-memory inputs ------------------------------
_W: dict[str, Any] = {}  # the state of a CPU worker (also of the parent with --workers 1)


class SharedArrays:
    """NumPy arrays copied once into shared memory, so workers read them without pickling."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.blocks: list[shared_memory.SharedMemory] = []
        self.spec: dict[str, tuple[str, tuple[int, ...], str]] = {}
        for name, a in arrays.items():
            shm = shared_memory.SharedMemory(create=True, size=max(1, a.nbytes))
            np.ndarray(a.shape, a.dtype, buffer=shm.buf)[...] = a
            self.blocks.append(shm)
            self.spec[name] = (shm.name, a.shape, a.dtype.str)

    def close(self) -> None:
        for shm in self.blocks:
            shm.close()
            shm.unlink()
        self.blocks = []


def _worker_init(spec: dict[str, Any] | None, arrays: dict[str, np.ndarray] | None,
                 setup: dict[str, Any]) -> None:
    """Attach the inputs (shared memory, or the parent's arrays in-process) and build the
    per-worker state: the zones as shapely geometries, their STRtree, a GeoDataFrame."""
    _W.clear()
    if spec is not None:
        _W["shm"] = [shared_memory.SharedMemory(name=s[0]) for s in spec.values()]
        arrays = {k: np.ndarray(s[1], np.dtype(s[2]), buffer=shm.buf)
                  for (k, s), shm in zip(spec.items(), _W["shm"], strict=True)}
    _W["arrays"] = arrays
    if "zones" in setup:
        import shapely

        polys = zones_shapely(setup["zones"])
        shapely.prepare(polys)
        _W["polys"] = polys
        _W["tree"] = shapely.STRtree(polys)
        if "geopandas" in setup.get("peers", ()):
            import geopandas

            gdf = geopandas.GeoDataFrame(geometry=polys)
            _ = gdf.sindex  # built once per worker, as a user's reused GeoDataFrame has it
            _W["zones_gdf"] = gdf


def _peer_task(peer: str, lo: int, hi: int) -> tuple[np.ndarray, ...]:
    """One chunk of a CPU peer's work: input rows (or object ids) ``lo:hi``."""
    a = _W["arrays"]
    if peer in JOIN_PEERS:
        x, y = a["x"][lo:hi], a["y"][lo:hi]
        if peer == "shapely":
            import shapely

            pi, gi = _W["tree"].query(shapely.points(x, y), predicate="within")
        elif peer == "shapely-xy":
            import shapely

            pi, gi = _W["tree"].query(shapely.points(x, y))  # bounding boxes only
            ok = shapely.contains_xy(_W["polys"][gi], x[pi], y[pi])
            pi, gi = pi[ok], gi[ok]
        else:
            import geopandas

            pts = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(x, y))
            res = geopandas.sjoin(pts, _W["zones_gdf"], predicate="within", how="inner")
            pi, gi = res.index.to_numpy(), res["index_right"].to_numpy()
        return pi.astype(np.int64) + lo, gi.astype(np.int64)
    if peer == "numpy":
        s = slice(lo, hi)
        return (numpy_haversine(a["lon1"][s], a["lat1"][s], a["lon2"][s], a["lat2"][s]),)
    if peer == "pandas":
        return _pandas_speeds(a, lo, hi)
    raise ValueError(f"unknown peer {peer!r}")


def _pandas_speeds(a: dict[str, np.ndarray], lo: int, hi: int) -> tuple[np.ndarray, ...]:
    """Per-object length (km) and speed (m/s) of objects ``lo <= id < hi`` with pandas."""
    import pandas as pd

    ids = a["id"]
    m = (ids >= lo) & (ids < hi)
    df = pd.DataFrame({"id": ids[m], "lon": a["lon"][m], "lat": a["lat"][m], "t": a["t"][m]})
    df = df.sort_values(["id", "t"], kind="stable")
    sid, lon, lat = df["id"].to_numpy(), df["lon"].to_numpy(), df["lat"].to_numpy()
    step = np.zeros(len(df))
    if len(df) > 1:
        same = sid[1:] == sid[:-1]
        step[1:] = np.where(same, numpy_haversine(lon[:-1], lat[:-1], lon[1:], lat[1:]), 0.0)
    df["step"] = step
    g = df.groupby("id", sort=True).agg(dist=("step", "sum"), t0=("t", "min"),
                                        t1=("t", "max"))
    dur = (g["t1"] - g["t0"]).to_numpy(np.float64)
    dist = g["dist"].to_numpy()
    speed = np.where(dur > 0, dist * 1000.0 / np.where(dur > 0, dur, 1.0), np.nan)
    return g.index.to_numpy(np.int64), dist, speed


class CpuPool:
    """``workers`` processes (spawned, so no CUDA state is forked) sharing the inputs;
    ``workers == 1`` runs in this process."""

    def __init__(self, arrays: dict[str, np.ndarray], setup: dict[str, Any],
                 workers: int) -> None:
        self.workers = workers
        self.shared: SharedArrays | None = None
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1:
            self.shared = SharedArrays(arrays)
            self.pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                            initializer=_worker_init,
                                            initargs=(self.shared.spec, None, setup))
        else:
            _worker_init(None, arrays, setup)

    def run(self, peer: str, n: int) -> list[tuple[np.ndarray, ...]]:
        """The peer over ``n`` rows (or ids) in ``workers`` chunks, results in chunk order."""
        bounds = np.linspace(0, n, self.workers + 1).astype(int)
        chunks = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
        if self.pool is None:
            return [_peer_task(peer, lo, hi) for lo, hi in chunks]
        futures = [self.pool.submit(_peer_task, peer, lo, hi) for lo, hi in chunks]
        return [f.result() for f in futures]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        if self.shared is not None:
            self.shared.close()
        _W.clear()


def _concat(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(len(parts[0])))


# -- timing -----------------------------------------------------------------------------------
def _error(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:300] if text else ''}"


def measure(fn: Callable[[], Any], sync: Callable[[], None], repeats: int,
            cap: float) -> tuple[Any, dict[str, Any]]:
    """One warm-up run (its answer is returned), then ``repeats`` timed runs; the repeats
    are skipped when the warm-up took longer than ``cap`` seconds (then it is the only
    time, marked ``warmup_only``). ``gc.collect()`` runs before each run, off the clock."""
    gc.collect()
    t0 = time.perf_counter()
    ans = fn()
    sync()
    warm = time.perf_counter() - t0
    rec: dict[str, Any] = {"status": "ok", "warmup_s": warm}
    times: list[float] = []
    if warm <= cap:
        for _ in range(repeats):
            gc.collect()
            t0 = time.perf_counter()
            out = fn()
            sync()
            times.append(time.perf_counter() - t0)
            del out
    if not times:
        times = [warm]
        rec["warmup_only"] = True
        if warm > cap:
            rec["over_cap"] = True
    rec["times_s"] = times
    rec["median_s"] = statistics.median(times)
    return ans, rec


def device_bandwidth(dev: Device, mib: int | None = None) -> dict[str, Any]:
    """Copy bandwidth of ``dev`` (read + write bytes / time, median of 5 copies of ``mib``
    MiB; default 2048 on a GPU, 256 on the CPU) and the nominal peak from
    :data:`NOMINAL_BANDWIDTH` when the GPU's name is listed."""
    xp = dev.xp
    nbytes = (mib or (2048 if dev.is_gpu else 256)) << 20
    a = xp.ones(nbytes // 8)
    b = xp.empty_like(a)
    times = []
    for _ in range(6):
        dev.synchronize()
        t0 = time.perf_counter()
        xp.copyto(b, a)
        dev.synchronize()
        times.append(time.perf_counter() - t0)
    del a, b
    measured = 2 * nbytes / statistics.median(times[1:])
    name = _device_name(dev)
    nominal = next((bw for key, bw in NOMINAL_BANDWIDTH if name and key in name), None)
    return {"device": name, "measured_Bps": measured, "nominal_Bps": nominal,
            "copy_bytes": nbytes, "how": "device copy (read + write) of "
            f"{nbytes / 2**30:.2g} GiB, median of 5" + ("" if dev.is_gpu else ", one core")}


def _device_name(dev: Device) -> str | None:
    if not dev.is_gpu:
        return platform.processor() or _cpu_model()
    props = dev.xp.cuda.runtime.getDeviceProperties(dev.index)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "hostname": platform.node(), "platform": platform.platform(),
        "python": platform.python_version(), "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }
    versions = {}
    for mod in ("numpy", "pandas", "pyarrow", "shapely", "geopandas", "pyproj", "cupy", "xpdb"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001  (absent or broken: recorded as None)
            versions[mod] = None
    info["versions"] = versions
    return info


def peer_available(peer: str) -> str | None:
    """None when ``peer`` can run here, else why not."""
    need = {"shapely": ("shapely",), "shapely-xy": ("shapely",),
            "geopandas": ("shapely", "geopandas"), "numpy": (), "pandas": ("pandas",)}[peer]
    for mod in need:
        try:
            __import__(mod)
        except ImportError as e:
            return f"{mod} is not installed ({e}); carry its wheel to run this peer"
    return None


# -- the cases ----------------------------------------------------------------------------------
class Case:
    """What one case records: inputs, runs, checks; ``rec`` is its entry in results.json."""

    def __init__(self, args: argparse.Namespace, dev: Device, bw: float, name: str,
                 label: str, n: int, n_cpu: int, unit: str) -> None:
        self.args, self.dev, self.bw = args, dev, bw
        self.rec: dict[str, Any] = {"case": name, "label": label, "n": n, "n_cpu": n_cpu,
                                    "unit": unit, "runs": [], "checks": [], "notes": []}
        self.engine = "xpdb-gpu" if dev.is_gpu else "xpdb-cpu"

    def floor(self, nbytes: float, what: str) -> None:
        self.rec["floor"] = {"bytes": nbytes, "ms": nbytes / self.bw * 1e3, "what": what}

    def run(self, engine: str, size: int, fn: Callable[[], Any], sync: Callable[[], None],
            workers: int = 1) -> Any:
        a = self.args
        try:
            ans, rec = measure(fn, sync, a.repeats, a.cap_seconds)
        except Exception as e:  # noqa: BLE001  (one failing engine must not stop the others)
            rec, ans = {"status": "error", "reason": _error(e)}, None
        rec.update(engine=engine, size=size, workers=workers)
        if rec["status"] == "ok":
            rec["ns_per_point"] = rec["median_s"] / max(size, 1) * 1e9
            rec["points_per_s"] = size / rec["median_s"] if rec["median_s"] else None
        self.rec["runs"].append(rec)
        shown = (f"{rec['median_s'] * 1e3:.4g} ms" if rec["status"] == "ok"
                 else f"{rec['status']}: {rec.get('reason')}")
        print(f"[{self.rec['label']}] {engine} n={size:,}: {shown}", flush=True)
        return ans

    def check(self, what: str, ok: bool, detail: str) -> None:
        self.rec["checks"].append({"what": what, "ok": bool(ok), "detail": detail})
        print(f"[{self.rec['label']}] check {what}: {'ok' if ok else 'MISMATCH'} ({detail})",
              flush=True)

    def skip(self, engine: str, size: int, reason: str) -> None:
        self.rec["runs"].append({"engine": engine, "size": size, "status": "skipped",
                                 "reason": reason})
        print(f"[{self.rec['label']}] {engine}: skipped: {reason}", flush=True)


def _h2d(dev: Device, arrays: dict[str, np.ndarray]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The arrays on ``dev`` and the copy's timing (synchronized)."""
    dev.synchronize()
    t0 = time.perf_counter()
    out = {k: dev.asarray(v) for k, v in arrays.items()}
    dev.synchronize()
    sec = time.perf_counter() - t0
    nbytes = sum(v.nbytes for v in arrays.values())
    return out, {"bytes": nbytes, "seconds": sec,
                 "GBps": nbytes / sec / 1e9 if sec and dev.is_gpu else None}


def _prefix_pairs(xp: Any, p: Any, g: Any, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The (point, polygon) pairs of points ``< m`` (pairs sorted by point), on the host."""
    k = int(xp.searchsorted(p, xp.asarray([m], dtype=p.dtype))[0])
    return _host(p[:k]), _host(g[:k])


def _host(a: Any) -> np.ndarray:
    return a.get() if hasattr(a, "get") else np.asarray(a)


def _sorted_pairs(p: np.ndarray, g: np.ndarray) -> np.ndarray:
    o = np.lexsort((g, p))
    return np.stack([p[o], g[o]], axis=1)


def _pairs_equal(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
                 ) -> tuple[bool, str]:
    sa, sb = _sorted_pairs(*a), _sorted_pairs(*b)
    if sa.shape == sb.shape and np.array_equal(sa, sb):
        return True, f"{len(sa):,} pairs equal"
    only_a = len({tuple(r) for r in sa.tolist()} - {tuple(r) for r in sb.tolist()})
    only_b = len({tuple(r) for r in sb.tolist()} - {tuple(r) for r in sa.tolist()})
    return False, f"{len(sa):,} vs {len(sb):,} pairs; {only_a} only in the first, {only_b} " \
                  "only in the second"


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> tuple[bool, str]:
    if a.shape != b.shape:
        return False, f"shapes {a.shape} vs {b.shape}"
    both_nan = np.isnan(a) & np.isnan(b)
    err = np.where(both_nan, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1e-300))
    worst = float(np.nanmax(err)) if err.size else 0.0
    ok = bool(np.all(both_nan | (np.abs(a - b) <= rtol * np.abs(b) + 1e-12)))
    return ok, f"{a.size:,} values, max relative difference {worst:.3g} (rtol {rtol:g})"


def _peers(args: argparse.Namespace, case: str) -> list[str]:
    return [p for p in PEERS[case] if p in args.peers]


def run_join(args: argparse.Namespace, dev: Device, bw: float, n_polygons: int,
             pts: tuple[np.ndarray, np.ndarray] | None = None, pts_seconds: float = 0.0
             ) -> dict:
    """The join to ``n_polygons`` zones (``pts``: the points when already generated, in
    ``pts_seconds``)."""
    n, m = args.points, min(args.cpu_points, args.points)
    case = Case(args, dev, bw, "join", f"join {n_polygons:,} zones", n, m, "points")
    xp = dev.xp
    t0 = time.perf_counter()
    zm = zone_map(n_polygons, args.seed)
    x, y = pts if pts is not None else sample_points(n, args.seed)
    case.rec["data"] = {
        "gen_seconds": time.perf_counter() - t0 + pts_seconds, "zones": n_polygons,
        "vertices": int(zm["x"].shape[0]), "holes_and_exclaves": zm["holes"],
        "grid": f"{zm['grid']}x{zm['grid']}", "extent": EXTENT,
        "points": "50% uniform over the extent, 50% around 24 Gaussian hot spots"}
    arrays, case.rec["h2d"] = _h2d(dev, {"x": x, "y": y})
    zones = zones_xpdb(zm, dev)
    zbytes = zones.nbytes
    dx, dy = arrays["x"], arrays["y"]

    def cold() -> Any:
        # as a zones array joined for the first time: its grid, edge bands and cell states
        # (kept with the array after a join, as GeoPandas keeps a frame's sindex) rebuilt
        zones._derived.clear()
        return sjoin(points(dx, dy, device=dev), zones, "within")

    case.run(cold_engine(case.engine), n, cold, dev.synchronize)
    ans = case.run(case.engine, n, lambda: sjoin(points(dx, dy, device=dev), zones, "within"),
                   dev.synchronize)
    n_pairs = int(ans[0].shape[0]) if ans is not None else n
    case.rec["pairs"] = n_pairs
    case.floor(16 * n + 16 * n_pairs + zbytes,
               "reads x, y (16 B a point) and the zones, writes the (point, zone) int64 pairs "
               "(16 B a pair)")
    got = _prefix_pairs(xp, *ans, m) if ans is not None else None
    ans = arrays = dx = dy = None  # free the device memory (the lambda above holds them)
    gc.collect()
    xs, ys = x[:m], y[:m]
    del x, y
    if dev.is_gpu and m < n:
        sx, sy = dev.asarray(xs), dev.asarray(ys)
        small = case.run(case.engine, m, lambda: sjoin(points(sx, sy, device=dev), zones,
                                                       "within"), dev.synchronize)
        if small is not None and got is not None:
            case.check(f"{case.engine} at {m:,} = its full run's prefix",
                       *_pairs_equal(got, (_host(small[0]), _host(small[1]))))
        del small, sx, sy
    if dev.is_gpu and "xpdb-cpu" in args.peers:
        czones = zones_xpdb(zm, "cpu")
        cpu = case.run("xpdb-cpu", m, lambda: sjoin(points(xs, ys), czones, "within"),
                       lambda: None)
        if cpu is not None and got is not None:
            case.check(f"xpdb-cpu = {case.engine}", *_pairs_equal(cpu, got))
    peers = _peers(args, "join")
    ready = [p for p in peers if not _skip_unavailable(case, p, m)]
    if ready:
        pool = CpuPool({"x": xs, "y": ys}, {"zones": zm, "peers": ready}, args.workers)
        try:
            for peer in ready:
                res = case.run(peer, m, lambda p=peer: _concat(pool.run(p, m)), lambda: None,
                               args.workers)
                if res is not None and got is not None:
                    case.check(f"{case.engine} = {peer}", *_pairs_equal(got, res))
        finally:
            pool.close()
    speedups(case)
    return case.rec


def cold_engine(engine: str) -> str:
    """The name of ``engine``'s runs that build the zones' index in every timed run."""
    return f"{engine} (index built)"


def _skip_unavailable(case: Case, peer: str, size: int) -> bool:
    why = peer_available(peer)
    if why:
        case.skip(peer, size, why)
    return why is not None


def run_haversine(args: argparse.Namespace, dev: Device, bw: float) -> dict:
    n, m = args.points, min(args.cpu_points, args.points)
    case = Case(args, dev, bw, "haversine", "haversine", n, m, "pairs")
    t0 = time.perf_counter()
    lon1, lat1 = sample_points(n, args.seed, stream=3)
    lon2, lat2 = sample_points(n, args.seed, stream=4)
    case.rec["data"] = {"gen_seconds": time.perf_counter() - t0,
                        "pairs": "origin and destination from two point streams"}
    host = {"lon1": lon1, "lat1": lat1, "lon2": lon2, "lat2": lat2}
    arrays, case.rec["h2d"] = _h2d(dev, host)
    case.floor(40 * n, "reads 4 float64 coordinates, writes 1 float64 distance (40 B a pair)")
    ans = case.run(case.engine, n, lambda: haversine_distance(
        arrays["lon1"], arrays["lat1"], arrays["lon2"], arrays["lat2"]), dev.synchronize)
    got = _host(ans[:m]) if ans is not None else None
    ans = arrays = None
    gc.collect()
    sub = {k: v[:m] for k, v in host.items()}
    del host, lon1, lat1, lon2, lat2
    if dev.is_gpu and m < n:
        small_in = {k: dev.asarray(v) for k, v in sub.items()}
        small = case.run(case.engine, m, lambda: haversine_distance(
            small_in["lon1"], small_in["lat1"], small_in["lon2"], small_in["lat2"]),
            dev.synchronize)
        del small, small_in
    if dev.is_gpu and "xpdb-cpu" in args.peers:
        cpu = case.run("xpdb-cpu", m, lambda: haversine_distance(
            sub["lon1"], sub["lat1"], sub["lon2"], sub["lat2"]), lambda: None)
        if cpu is not None and got is not None:
            case.check(f"xpdb-cpu = {case.engine}", *_close(cpu, got, args.rtol))
    if "numpy" in args.peers:
        pool = CpuPool(sub, {}, args.workers)
        try:
            res = case.run("numpy", m, lambda: _concat(pool.run("numpy", m)), lambda: None,
                           args.workers)
        finally:
            pool.close()
        if res is not None and got is not None:
            case.check(f"{case.engine} = numpy haversine", *_close(got, res[0], args.rtol))
    speedups(case)
    return case.rec


def run_trajectory(args: argparse.Namespace, dev: Device, bw: float) -> dict:
    per = args.traj_points
    n_obj = args.traj_objects
    k = max(1, min(n_obj, args.cpu_points // per))
    n, m = n_obj * per, k * per
    case = Case(args, dev, bw, "trajectory", "trajectory", n, m, "points")
    t0 = time.perf_counter()
    data = trajectory_points(n_obj, per, args.seed)
    case.rec["data"] = {"gen_seconds": time.perf_counter() - t0, "objects": n_obj,
                        "points_per_object": per, "cpu_objects": k,
                        "layout": f"time-major rows within blocks of {TRAJ_BLOCK:,} objects"}
    arrays, case.rec["h2d"] = _h2d(dev, data)
    case.floor(32 * n + 16 * n_obj, "reads id, lon, lat, t (32 B a point), writes length "
               "and speed (16 B an object); the sort's extra passes are not counted")

    def xpdb_speeds(a: dict[str, Any]) -> tuple[Any, Any, Any]:
        traj = derive_trajectories(a["id"], a["lon"], a["lat"], a["t"], time_unit="s",
                                   metric="haversine")
        dist, speed = trajectory_distances_and_speeds(traj)
        return traj.object_id, dist, speed

    ans = case.run(case.engine, n, lambda: xpdb_speeds(arrays), dev.synchronize)
    got = tuple(_host(v[:k]) for v in ans) if ans is not None else None
    ans = arrays = None
    gc.collect()
    sub = data if k == n_obj else {key: v[data["id"] < k] for key, v in data.items()}
    del data
    if dev.is_gpu and k < n_obj:
        small_in = {key: dev.asarray(v) for key, v in sub.items()}
        small = case.run(case.engine, m, lambda: xpdb_speeds(small_in), dev.synchronize)
        del small, small_in
    if dev.is_gpu and "xpdb-cpu" in args.peers:
        cpu = case.run("xpdb-cpu", m, lambda: xpdb_speeds(sub), lambda: None)
        if cpu is not None and got is not None:
            ok_d, det_d = _close(cpu[1], got[1], args.rtol)
            ok_s, det_s = _close(cpu[2], got[2], args.rtol)
            case.check(f"xpdb-cpu = {case.engine}", ok_d and ok_s,
                       f"lengths: {det_d}; speeds: {det_s}")
    if "pandas" in args.peers and not _skip_unavailable(case, "pandas", m):
        pool = CpuPool(sub, {}, args.workers)
        try:
            res = case.run("pandas", m, lambda: _concat(pool.run("pandas", k)), lambda: None,
                           args.workers)
        finally:
            pool.close()
        if res is not None and got is not None:
            same_ids = np.array_equal(res[0], got[0].astype(np.int64))
            ok_d, det_d = _close(got[1], res[1], args.rtol)
            ok_s, det_s = _close(got[2], res[2], args.rtol)
            case.check(f"{case.engine} = pandas", same_ids and ok_d and ok_s,
                       f"ids {'equal' if same_ids else 'DIFFER'}; lengths: {det_d}; "
                       f"speeds: {det_s}")
    speedups(case)
    return case.rec


def speedups(case: Case) -> None:
    """xpdb's full-size run against every CPU run, per point (the CPU measured at its own
    size) and, where xpdb also ran at the CPU size, at equal size."""
    runs = [r for r in case.rec["runs"] if r["status"] == "ok"]
    main = next((r for r in runs if r["engine"] == case.engine and r["size"] == case.rec["n"]),
                None)
    same = next((r for r in runs if r["engine"] == case.engine
                 and r["size"] == case.rec["n_cpu"]), None)
    cold = next((r for r in runs if r["engine"] == cold_engine(case.engine)
                 and r["size"] == case.rec["n"]), None)
    out = []
    if main is not None:
        for r in runs:
            if r["engine"].startswith(case.engine):
                continue
            entry = {"peer": r["engine"], "peer_size": r["size"], "workers": r["workers"],
                     "per_point": r["ns_per_point"] / main["ns_per_point"],
                     "label": f"speedup per point, {r['engine']} measured at "
                              f"{r['size']:,} {case.rec['unit']}, {case.engine} at "
                              f"{main['size']:,}"}
            if same is not None and same is not main:
                entry["same_size"] = r["median_s"] / same["median_s"]
            if cold is not None:
                entry["per_point_cold"] = r["ns_per_point"] / cold["ns_per_point"]
            out.append(entry)
    case.rec["speedups"] = out


# -- report -------------------------------------------------------------------------------------
def _ms(s: float) -> str:
    return f"{s * 1e3:.4g}"


def render_markdown(result: dict) -> str:
    m = result["machine"]
    bw = result["bandwidth"]
    lines = ["# Spatial benchmark: xpdb.spatial and its CPU peers", ""]
    lines.append(f"Machine: {m['cpu_count']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB; "
                 f"device: {result['device']} ({bw['device']}); Python {m['python']}.")
    vers = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    lines.append(f"Versions: {vers}.")
    nominal = (f"; nominal peak {bw['nominal_Bps'] / 1e12:.3g} TB/s" if bw["nominal_Bps"]
               else "")
    lines.append(f"Memory bandwidth: {bw['measured_Bps'] / 1e9:.4g} GB/s measured ({bw['how']})"
                 f"{nominal}. Floors use the measured bandwidth.")
    a = result["args"]
    lines += ["", f"Each cell: median of {a['repeats']} timed runs after one warm-up (`1 run`: "
              f"the warm-up only, slower than --cap-seconds {a['cap_seconds']:g}). CPU peers "
              f"run in {a['workers']} processes over {a['workers']} chunks (one chunk a "
              "process; shapely, GeoPandas, NumPy and pandas use one core per call). "
              "Speedups: CPU time per point / xpdb time per point, the CPU measured at the "
              "size shown, never extrapolated; `same size`: both measured at the CPU size."]
    for c in result["cases"]:
        lines += ["", f"## {c['label']}: {c['n']:,} {c['unit']} (CPU peers at {c['n_cpu']:,})",
                  ""]
        d = c.get("data", {})
        lines.append("Data: " + ", ".join(f"{k} {v}" for k, v in d.items()
                                          if k != "gen_seconds")
                     + f"; generated in {d.get('gen_seconds', 0):.1f} s.")
        if "h2d" in c and result["device"] != "cpu":
            h = c["h2d"]
            rate = f" ({h['GBps']:.3g} GB/s)" if h.get("GBps") else ""
            lines.append(f"Host to device: {h['bytes'] / 1e6:.4g} MB in "
                         f"{_ms(h['seconds'])} ms{rate}, not in the times below.")
        if "floor" in c:
            f = c["floor"]
            lines.append(f"Floor: {f['bytes'] / 1e9:.4g} GB / bandwidth = {f['ms']:.3g} ms "
                         f"({f['what']}).")
        if "pairs" in c:
            lines.append(f"Pairs found: {c['pairs']:,}.")
        lines += ["", f"| engine | {c['unit']} | workers | ms | ns per point | "
                      "M points/s | x floor |", "|---|---:|---:|---:|---:|---:|---:|"]
        for r in c["runs"]:
            if r["status"] != "ok":
                lines.append(f"| {r['engine']} | {r['size']:,} | | {r['status']} | | | |")
                continue
            xf = ""
            if r["size"] == c["n"] and "floor" in c:
                xf = f"{r['median_s'] * 1e3 / c['floor']['ms']:.3g}"
            tag = " (1 run)" if r.get("warmup_only") else ""
            lines.append(f"| {r['engine']} | {r['size']:,} | {r.get('workers', 1)} | "
                         f"{_ms(r['median_s'])}{tag} | {r['ns_per_point']:.4g} | "
                         f"{r['points_per_s'] / 1e6:.4g} | {xf} |")
        if c.get("speedups"):
            lines.append("")
            for s in c["speedups"]:
                same = f"; same size: {s['same_size']:.3g}x" if "same_size" in s else ""
                if "per_point_cold" in s:
                    same += f"; index built in the run: {s['per_point_cold']:.4g}x"
                lines.append(f"- {s['per_point']:.4g}x ({s['label']}){same}")
        for ck in c["checks"]:
            lines.append(f"- check {ck['what']}: {'ok' if ck['ok'] else 'MISMATCH'} "
                         f"({ck['detail']})")
        for r in c["runs"]:
            if r["status"] != "ok":
                lines.append(f"- {r['engine']}: {r['status']}: {r.get('reason', '')}")
        for note in c.get("notes", []):
            lines.append(f"- {note}")
    target = result.get("target")
    if target:
        lines += ["", "## Target", "", target]
    return "\n".join(lines) + "\n"


def join_target(result: dict, factor: float = 1000.0) -> str | None:
    """Whether xpdb's join is at least ``factor`` times faster per point than every CPU peer."""
    parts = []
    for c in result["cases"]:
        if c["case"] != "join":
            continue
        for s in c.get("speedups", []):
            if s["peer"] in JOIN_PEERS:
                verdict = "met" if s["per_point"] >= factor else "NOT met"
                cold = ""
                if "per_point_cold" in s:
                    ok = "met" if s["per_point_cold"] >= factor else "NOT met"
                    cold = (f"; with xpdb's index built in the timed run: "
                            f"{s['per_point_cold']:.4g}x: {ok}")
                parts.append(f"- {c['label']}, vs {s['peer']} ({s['workers']} processes): "
                             f"{s['per_point']:.4g}x per point: {verdict}{cold}")
    if not parts:
        return None
    return (f"The issue asks for at least {factor:g}x over the CPU libraries on the join "
            "(per point; CPU peers measured at their own size):\n" + "\n".join(parts))


def write_outputs(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=1, default=str))
    (out / "results.md").write_text(render_markdown(result))


# -- main -------------------------------------------------------------------------------------
def run_benchmark(args: argparse.Namespace) -> dict:
    """Run the cases ``args`` asks for; the result is also written to ``args.out`` after
    every case, so a run cut short keeps what it measured."""
    dev = get_device(args.device)
    out = Path(args.out) if args.out else None
    bw = device_bandwidth(dev, args.bandwidth_mib)
    result: dict[str, Any] = {"machine": machine_info(), "device": str(dev),
                              "args": dict(vars(args)),
                              "bandwidth": bw, "cases": []}
    print(f"device {dev} ({bw['device']}): copy bandwidth {bw['measured_Bps'] / 1e9:.4g} GB/s",
          flush=True)
    started = time.perf_counter()
    for c in args.cases:
        if c == "join":
            t0 = time.perf_counter()
            pts = sample_points(args.points, args.seed)  # the same points for every map
            gen = time.perf_counter() - t0
            recs = [run_join(args, dev, bw["measured_Bps"], p, pts, gen)
                    for p in args.polygons]
            del pts
        elif c == "haversine":
            recs = [run_haversine(args, dev, bw["measured_Bps"])]
        else:
            recs = [run_trajectory(args, dev, bw["measured_Bps"])]
        result["cases"] += recs
        result["target"] = join_target(result)
        gc.collect()
        if out is not None:
            write_outputs(result, out)
    result["wall_seconds"] = time.perf_counter() - started
    if out is not None:
        write_outputs(result, out)
    return result


def _count(text: str) -> int:
    return int(float(text))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", default=",".join(CASES), help=f"subset of {','.join(CASES)}")
    p.add_argument("--points", type=_count, default=10**8,
                   help="points of the join and pairs of the haversine case (default 1e8)")
    p.add_argument("--polygons", default="1000,10000", help="zone counts of the join")
    p.add_argument("--traj-objects", type=_count, default=10**6,
                   help="moving objects of the trajectory case (default 1e6)")
    p.add_argument("--traj-points", type=_count, default=100,
                   help="points per object (default 100: 1e8 points)")
    p.add_argument("--cpu-points", type=_count, default=2 * 10**6,
                   help="size at which the CPU peers (and xpdb's CPU-size run) are measured")
    p.add_argument("--repeats", type=int, default=3, help="timed runs after the warm-up")
    p.add_argument("--cap-seconds", type=float, default=60.0,
                   help="after a warm-up slower than this, its repeats are skipped")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="processes (and chunks) of the CPU peers (default: all cores)")
    p.add_argument("--peers", default="shapely,shapely-xy,geopandas,numpy,pandas,xpdb-cpu",
                   help="CPU peers to run ('none': xpdb only)")
    p.add_argument("--device", default="auto", help="xpdb's device: auto, gpu or cpu")
    p.add_argument("--bandwidth-mib", type=int, default=None,
                   help="size of the bandwidth copy (default 2048 MiB on a GPU, 256 on the CPU)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--rtol", type=float, default=1e-9, help="tolerance of distance checks")
    p.add_argument("--out", default="spatial-results", help="directory for results.json/.md")
    a = p.parse_args(argv)
    a.cases = [c.strip() for c in a.cases.split(",") if c.strip()]
    for c in a.cases:
        if c not in CASES:
            p.error(f"unknown case {c!r}; choose from {','.join(CASES)}")
    a.polygons = [_count(v) for v in a.polygons.split(",") if v.strip()]
    a.peers = [] if a.peers == "none" else [s.strip() for s in a.peers.split(",") if s.strip()]
    known = {*JOIN_PEERS, "numpy", "pandas", "xpdb-cpu"}
    for s in a.peers:
        if s not in known:
            p.error(f"unknown peer {s!r}; choose from {','.join(sorted(known))} or none")
    if a.device == "auto":
        a.device = "gpu" if gpu_available() else "cpu"
    if a.workers < 1 or a.repeats < 0 or a.points < 1 or a.cpu_points < 1:
        p.error("--workers, --points and --cpu-points must be >= 1, --repeats >= 0")
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [p for p in args.peers if p != "xpdb-cpu" and peer_available(p)]
    if missing:
        print(f"CPU peers skipped (not installed): {', '.join(missing)}", flush=True)
    result = run_benchmark(args)
    print()
    print(render_markdown(result), flush=True)
    print(f"wall time {result['wall_seconds']:.1f} s; results in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
