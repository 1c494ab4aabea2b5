"""xpdb.spatial.trajectory against a pandas groupby reference (and pyproj for distances)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xpdb.device import get_device
from xpdb.spatial.distance import EARTH_RADIUS_KM, SpatialValueError
from xpdb.spatial.trajectory import (
    derive_trajectories,
    trajectory_bounding_boxes,
    trajectory_distances_and_speeds,
)

pyproj = pytest.importorskip("pyproj")


def _frame(rng, n=3000, n_ids=150):
    ids = rng.integers(0, n_ids, n) * 7 - 300  # sparse, negative ids
    t = rng.integers(0, 500, n)  # many equal timestamps within an object
    lon = rng.uniform(-180, 180, n)
    lat = rng.uniform(-80, 80, n)
    return pd.DataFrame({"id": ids, "t": t, "x": lon, "y": lat})


def _reference(df, metric):
    s = df.sort_values(["id", "t"], kind="stable")
    nxt = s.groupby("id")[["x", "y"]].shift(-1)
    if metric == "haversine":
        geod = pyproj.Geod(a=EARTH_RADIUS_KM * 1000.0, f=0.0)
        ok = nxt["x"].notna().to_numpy()
        step = np.zeros(len(s))
        step[ok] = geod.inv(s["x"].to_numpy()[ok], s["y"].to_numpy()[ok],
                            nxt["x"].to_numpy()[ok], nxt["y"].to_numpy()[ok])[2] / 1000.0
    else:
        step = np.hypot(nxt["x"] - s["x"], nxt["y"] - s["y"]).fillna(0.0).to_numpy()
    s = s.assign(step=step)
    g = s.groupby("id", sort=True)
    out = g.agg(dist=("step", "sum"), t0=("t", "min"), t1=("t", "max"), n=("t", "size"),
                xmin=("x", "min"), ymin=("y", "min"), xmax=("x", "max"), ymax=("y", "max"))
    dur = (out["t1"] - out["t0"]).astype(float)
    out["speed"] = (out["dist"] * 1000.0 / dur).where(dur > 0)
    return s, out


@pytest.mark.parametrize("metric", ["haversine", "euclidean"])
def test_matches_pandas_groupby(device, rng, metric):
    dev = get_device(device)
    df = _frame(rng)
    traj = derive_trajectories(*(dev.asarray(df[c].to_numpy()) for c in ("id", "x", "y", "t")),
                               metric=metric)
    s, ref = _reference(df, metric)
    assert len(traj) == len(ref)
    np.testing.assert_array_equal(dev.to_host(traj.object_id), ref.index.to_numpy())
    np.testing.assert_array_equal(dev.to_host(traj.order), s.index.to_numpy())
    np.testing.assert_array_equal(np.diff(dev.to_host(traj.offsets)), ref["n"].to_numpy())
    np.testing.assert_array_equal(dev.to_host(traj.x), s["x"].to_numpy())
    dist, speed = (dev.to_host(a) for a in trajectory_distances_and_speeds(traj))
    np.testing.assert_allclose(dist, ref["dist"].to_numpy(), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(speed, ref["speed"].to_numpy(), rtol=1e-9, atol=1e-6)
    boxes = [dev.to_host(a) for a in trajectory_bounding_boxes(traj)]
    for got, col in zip(boxes, ["xmin", "ymin", "xmax", "ymax"], strict=True):
        np.testing.assert_array_equal(got, ref[col].to_numpy())


def test_datetimes_and_string_ids(rng):
    df = _frame(rng, n=400, n_ids=20)
    base = derive_trajectories(df["id"], df["x"], df["y"], df["t"] * 1000, time_unit="ms")
    stamps = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(df["t"], unit="s"))
    names = df["id"].map(lambda i: f"car{i}")  # string ids: factorized, sorted as strings
    traj = derive_trajectories(names.to_numpy(), df["x"], df["y"], stamps)
    assert traj.time_unit in ("ns", "us") and traj.object_id.dtype.kind in "OU"
    _, ref = _reference(df.assign(id=names), "haversine")
    assert list(traj.object_id) == list(ref.index)
    d1, s1 = trajectory_distances_and_speeds(base)
    d2, s2 = trajectory_distances_and_speeds(traj)
    np.testing.assert_allclose(s2, ref["speed"].to_numpy(), rtol=1e-9, atol=1e-6)
    assert np.isnan(s1).sum() == np.isnan(s2).sum()
    np.testing.assert_allclose(np.sort(d1), np.sort(d2), rtol=1e-12)


def test_xpdb_series_inputs():
    import xpdb

    df = xpdb.DataFrame(pd.DataFrame({
        "id": ["car2", "car1", "car2", "car1"], "x": [0.0, 0.0, 3.0, 0.0], "y": [0.0, 0.0, 4.0, 1.0],
        "t": pd.to_datetime(["2024-01-01 00:00:00", "2024-01-01 00:00:00",
                             "2024-01-01 00:00:10", "2024-01-01 00:00:20"]),
    }))
    traj = derive_trajectories(df["id"], df["x"], df["y"], df["t"], metric="euclidean")
    assert list(traj.object_id) == ["car1", "car2"]
    dist, speed = trajectory_distances_and_speeds(traj)
    ref_dist = pd.Series([1.0, 5.0])  # planar km: object 1 moves 1 km in 20 s, 2: 5 in 10
    dist, speed = (a.get() if hasattr(a, "get") else a for a in (dist, speed))  # CuPy
    np.testing.assert_allclose(dist, ref_dist)
    np.testing.assert_allclose(speed, ref_dist * 1000 / [20.0, 10.0])


def test_degenerate_trajectories(device):
    dev = get_device(device)
    # one point; two points at one time; a trajectory of NaN (empty) points
    traj = derive_trajectories(dev.asarray([5, 6, 6, 7]), dev.asarray([1.0, 2.0, 3.0, np.nan]),
                               dev.asarray([1.0, 2.0, 3.0, np.nan]), dev.asarray([0, 9, 9, 1]),
                               metric="euclidean")
    dist, speed = (dev.to_host(a) for a in trajectory_distances_and_speeds(traj))
    assert dist[0] == 0 and dist[1] == np.hypot(1.0, 1.0) and np.isnan(speed).all()
    xmin, _, xmax, _ = (dev.to_host(a) for a in trajectory_bounding_boxes(traj))
    assert xmin.tolist()[:2] == [1.0, 2.0] and xmax.tolist()[:2] == [1.0, 3.0]
    assert np.isnan(xmin[2]) and np.isnan(xmax[2])
    empty = derive_trajectories([], [], [], [])
    assert len(empty) == 0 and trajectory_distances_and_speeds(empty)[0].shape == (0,)
    assert trajectory_bounding_boxes(empty)[0].shape == (0,)


def test_to_linestrings_lengths_match_shapely(rng):
    shapely = pytest.importorskip("shapely")
    df = _frame(rng, n=300, n_ids=30)
    traj = derive_trajectories(df["id"], df["x"], df["y"], df["t"], metric="euclidean")
    lines = traj.to_linestrings().to_shapely()
    dist, _ = trajectory_distances_and_speeds(traj)
    np.testing.assert_allclose(shapely.length(lines), dist, rtol=1e-12)


def test_bad_inputs():
    with pytest.raises(SpatialValueError, match="object_id has shape"):
        derive_trajectories([1, 2], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [0, 1, 2])
    with pytest.raises(SpatialValueError, match="unknown metric 'manhattan'"):
        derive_trajectories([1], [0.0], [0.0], [0], metric="manhattan")
    with pytest.raises(SpatialValueError, match="unknown time_unit 'week'"):
        derive_trajectories([1], [0.0], [0.0], [0], time_unit="week")
    with pytest.raises(SpatialValueError, match="outside"):  # latitude out of range
        traj = derive_trajectories([1, 1], [0.0, 1.0], [0.0, 100.0], [0, 1])
        trajectory_distances_and_speeds(traj)
