"""Spatial benchmark smoke test: the generators keep their promises (valid zones that tile
the map, prefixes that are subsamples), the harness runs end to end at tiny sizes on every
device, and xpdb's answers equal shapely's, NumPy's and pandas' on the CPU subsample.

A correctness test: it never looks at timings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from spatialbench import run as sb

from xpdb.device import get_device
from xpdb.spatial import points, sjoin

TINY = ["--points", "30000", "--polygons", "60,250", "--cpu-points", "8000",
        "--traj-objects", "300", "--traj-points", "20", "--repeats", "1", "--workers", "1",
        "--bandwidth-mib", "16"]


def _pairs(p, g) -> list[tuple[int, int]]:
    dev = get_device("gpu" if hasattr(p, "get") else "cpu")
    return sorted(zip(dev.to_host(p).tolist(), dev.to_host(g).tolist(), strict=True))


# -- generators -----------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 7, 64, 250])
def test_zone_map_tiles_the_extent(n):
    shapely = pytest.importorskip("shapely")
    zm = sb.zone_map(n, seed=3)
    zones = sb.zones_shapely(zm)
    assert len(zones) == n
    assert shapely.is_valid(zones).all()
    g = zm["grid"]
    x0, y0, x1, y1 = sb.EXTENT
    cells = (x1 - x0) * (y1 - y0) / g**2
    # no overlaps (islands fill their holes exactly); a full grid covers the whole map
    total = shapely.area(zones).sum()
    assert shapely.area(shapely.union_all(zones)) == pytest.approx(total, rel=1e-9)
    assert total <= (x1 - x0) * (y1 - y0) * (1 + 1e-12)
    if n == g * g:
        assert total == pytest.approx(n * cells, rel=1e-9)
    shells = [len(p.geoms[0].exterior.coords) - 1 for p in zones]
    assert min(shells) >= 12 and max(shells) <= 40
    if n >= 64:
        parts = shapely.get_num_geometries(zones)
        holes = np.array([len(p.geoms[0].interiors) for p in zones])
        assert (parts == 2).sum() == zm["holes"] == holes.sum() > 0


def test_prefixes_are_subsamples():
    x, y = sb.sample_points(3 * sb.POINT_CHUNK // 2, seed=5)
    xs, ys = sb.sample_points(1000, seed=5)
    np.testing.assert_array_equal(xs, x[:1000])
    np.testing.assert_array_equal(ys, y[:1000])
    x0, y0, x1, y1 = sb.EXTENT
    assert (x >= x0).all() and (x <= x1).all() and (y >= y0).all() and (y <= y1).all()
    full = sb.trajectory_points(sb.TRAJ_BLOCK + 50, 4, seed=5)
    part = sb.trajectory_points(sb.TRAJ_BLOCK + 7, 4, seed=5)
    keep = full["id"] < sb.TRAJ_BLOCK + 7
    for k in ("id", "lon", "lat", "t"):
        np.testing.assert_array_equal(part[k], full[k][keep])
    assert np.bincount(full["id"]).tolist() == [4] * (sb.TRAJ_BLOCK + 50)


# -- xpdb against the oracles -------------------------------------------------------------------
def test_join_matches_shapely_on_the_subsample(device):
    shapely = pytest.importorskip("shapely")
    zm = sb.zone_map(250, seed=42)
    x, y = sb.sample_points(6000, seed=42)
    p, g = sjoin(points(x, y, device=device), sb.zones_xpdb(zm, device), "within")
    tree = shapely.STRtree(sb.zones_shapely(zm))
    pi, gi = tree.query(shapely.points(x, y), predicate="within")
    expected = sorted(zip(pi.tolist(), gi.tolist(), strict=True))
    assert _pairs(p, g) == expected
    assert len(expected) > 5000  # most points lie in a zone


def test_harness_end_to_end(device, tmp_path):
    pytest.importorskip("shapely")
    pytest.importorskip("geopandas")
    args = sb.parse_args([*TINY, "--device", device, "--out", str(tmp_path)])
    result = sb.run_benchmark(args)
    labels = [c["label"] for c in result["cases"]]
    assert labels == ["join 60 zones", "join 250 zones", "haversine", "trajectory"]
    engine = "xpdb-gpu" if device == "gpu" else "xpdb-cpu"
    for c in result["cases"]:
        assert all(r["status"] == "ok" for r in c["runs"]), c["runs"]
        engines = {r["engine"] for r in c["runs"]}
        assert engine in engines
        xpdb_runs = {engine, "xpdb-cpu", sb.cold_engine(engine)}
        assert engines - xpdb_runs == set(sb.PEERS[c["case"]])
        if c["case"] == "join":  # timed with the zones' index kept and rebuilt
            assert sb.cold_engine(engine) in engines
            assert all("per_point_cold" in s for s in c["speedups"])
        # every CPU peer's answer was compared with xpdb's, and agreed
        checked = {ck["what"].split(" = ")[1].split(" ")[0] for ck in c["checks"]}
        assert set(sb.PEERS[c["case"]]) <= checked
        assert all(ck["ok"] for ck in c["checks"]), c["checks"]
        assert c["floor"]["ms"] > 0
        assert {s["peer"] for s in c["speedups"]} >= set(sb.PEERS[c["case"]])
        assert all("measured at" in s["label"] for s in c["speedups"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert len(saved["cases"]) == 4
    md = (tmp_path / "results.md").read_text()
    assert "speedup per point, shapely measured at 8,000 points" in md
    assert "MISMATCH" not in md


def test_peers_in_a_process_pool_match_one_process():
    pytest.importorskip("shapely")
    zm = sb.zone_map(60, seed=1)
    x, y = sb.sample_points(4000, seed=1)
    one = sb.CpuPool({"x": x, "y": y}, {"zones": zm, "peers": ["shapely"]}, 1)
    try:
        a = sb._concat(one.run("shapely", 4000))
    finally:
        one.close()
    two = sb.CpuPool({"x": x, "y": y}, {"zones": zm, "peers": ["shapely"]}, 2)
    try:
        b = sb._concat(two.run("shapely", 4000))
    finally:
        two.close()
    assert sb._pairs_equal(a, b)[0]
    assert len(a[0]) > 3000


def test_runs_without_the_cpu_libraries(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sb, "peer_available",
                        lambda peer: None if peer in ("numpy", "pandas") else "not installed")
    assert sb.main([*TINY, "--cases", "join", "--polygons", "60", "--device", "cpu",
                    "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "CPU peers skipped (not installed): shapely, shapely-xy, geopandas" in out
    result = json.loads((tmp_path / "results.json").read_text())
    runs = result["cases"][0]["runs"]
    assert [r["status"] for r in runs if r["engine"] == "xpdb-cpu"] == ["ok"]
    assert {r["engine"] for r in runs if r["status"] == "skipped"} == set(sb.JOIN_PEERS)
    assert result["cases"][0]["checks"] == []  # nothing to compare with


def test_numpy_haversine_is_the_textbook_formula():
    # London to Paris, 343.6 km (the xpdb docstring's example)
    d = sb.numpy_haversine(np.array([-0.1278]), np.array([51.5074]), np.array([2.3522]),
                           np.array([48.8566]))
    assert round(float(d[0]), 1) == 343.6


def test_bad_arguments():
    with pytest.raises(SystemExit):
        sb.parse_args(["--cases", "knn"])
    with pytest.raises(SystemExit):
        sb.parse_args(["--peers", "sedona"])
