"""Trajectories: points grouped by object id in time order, with per-trajectory distance,
speed and bounding box, on ``xp``.

:func:`derive_trajectories` sorts the points by ``(object id, time)`` once (two stable sorts
on the device) and records where each object's run starts (``offsets``, as GeoArrow
linestrings). The per-trajectory functions are then segmented reductions over that order:
consecutive-point distances summed per trajectory, durations from the first and last
timestamps, coordinate minima and maxima, all scatter reductions without Python loops.

Examples
--------
>>> import numpy as np
>>> from xpdb.spatial.trajectory import derive_trajectories, trajectory_distances_and_speeds
>>> traj = derive_trajectories([7, 3, 7, 3], [0.0, 0.0, 3.0, 0.0], [0.0, 0.0, 4.0, 1.0],
...                            [0, 0, 10, 20], metric="euclidean")
>>> traj.object_id.tolist(), traj.offsets.tolist()
([3, 7], [0, 2, 4])
>>> dist, speed = trajectory_distances_and_speeds(traj)
>>> dist.tolist(), speed.tolist()  # km and m/s (planar coordinates in km)
([1.0, 5.0], [50.0, 500.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..device import device_of
from ..errors import TypeError as XpdbTypeError
from ..kernels._xp import bincount, run_starts, scatter_max, scatter_min, stable_argsort
from .distance import (
    SpatialValueError,
    _to_array,
    _xpdb_column,
    as_coordinates,
    haversine_distance,
)

__all__ = [
    "Trajectories",
    "derive_trajectories",
    "trajectory_bounding_boxes",
    "trajectory_distances_and_speeds",
]

_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "m": 60.0, "h": 3600.0, "D": 86400.0}
METRICS = ("haversine", "euclidean")


@dataclass(frozen=True)
class Trajectories:
    """Points sorted by ``(object_id, timestamp)``, split into one run per object.

    Attributes
    ----------
    object_id : array
        The distinct object ids in ascending order, one per trajectory.
    offsets : int64 array
        Trajectory ``i`` holds sorted points ``offsets[i]:offsets[i+1]`` (length
        ``len(self) + 1``).
    order : int64 array
        The sort: sorted point ``k`` is input row ``order[k]``.
    x, y : float64 arrays
        Sorted coordinates (longitude/latitude in degrees for ``metric="haversine"``,
        planar kilometres for ``"euclidean"``).
    timestamp : array
        Sorted timestamps as numbers (int64 for datetime inputs) in ``time_unit``.
    time_unit : str
        Unit of ``timestamp``: ``"s"``, ``"ms"``, ``"us"``, ``"ns"``, ``"m"``, ``"h"``, ``"D"``.
    metric : {"haversine", "euclidean"}
        How distances between consecutive points are measured.
    """

    object_id: Any
    offsets: Any
    order: Any
    x: Any
    y: Any
    timestamp: Any
    time_unit: str
    metric: str

    def __len__(self) -> int:
        return int(self.offsets.shape[0]) - 1

    @property
    def xp(self) -> Any:
        """The array namespace of the trajectories' device."""
        return device_of(self.x).xp

    def point_trajectory(self) -> Any:
        """The trajectory index of every sorted point (int64)."""
        xp = self.xp
        lens = self.offsets[1:] - self.offsets[:-1]
        return xp.repeat(xp.arange(len(self), dtype=np.int64), lens)

    def to_linestrings(self) -> Any:
        """The trajectories as a linestring :class:`~xpdb.spatial.geometry.GeometryArray`.

        A one-point trajectory becomes a one-coordinate linestring (distance functions
        treat it as its point).
        """
        from .geometry import linestrings

        return linestrings(self.x, self.y, self.offsets)


def _timestamps(value: Any, time_unit: str) -> tuple[Any, str]:
    """Timestamps as numbers and their unit (datetime64 and xpdb timestamp columns keep
    theirs)."""
    if type(value).__module__.startswith("xpdb"):
        col = _xpdb_column(value)
        unit = getattr(col.dtype, "unit", None)
        if unit is not None:  # timestamp/duration columns: int64 in their unit
            return col.data, unit
    arr = _to_array(value) if not hasattr(value, "to_numpy") else value.to_numpy()
    if arr.dtype.kind in "mM":
        unit, step = np.datetime_data(arr.dtype)
        if unit not in _SECONDS or step != 1:
            raise XpdbTypeError(f"timestamps of dtype {arr.dtype} are not supported; cast "
                                "them to datetime64[s], [ms], [us] or [ns]")
        return arr.view(np.int64), unit
    if arr.dtype.kind not in "iuf":
        raise XpdbTypeError(f"timestamps must be numbers or datetimes, not dtype {arr.dtype}")
    if time_unit not in _SECONDS:
        raise SpatialValueError(f"unknown time_unit {time_unit!r}; use one of "
                                f"{sorted(_SECONDS)}")
    return arr, time_unit


def _object_ids(value: Any) -> tuple[Any, Any]:
    """Sortable ids (numbers or codes) and, for codes, the id of each code (host array).

    xpdb string columns keep their codes on the device (their dictionary is sorted, so
    codes order like the strings); other strings are factorized on the host.
    """
    if type(value).__module__.startswith("xpdb"):
        col = _xpdb_column(value)
        if getattr(col, "dictionary", None) is not None:
            return col.data, col.dictionary.to_numpy(zero_copy_only=False)
    ids = _to_array(value)
    if ids.dtype.kind in "biuf":
        return ids, None
    if type(ids).__module__.startswith("cupy"):
        raise XpdbTypeError(f"object ids of dtype {ids.dtype} cannot be sorted on the GPU; "
                            "use integer ids")
    uniq, codes = np.unique(np.asarray(ids), return_inverse=True)
    return codes.astype(np.int64).reshape(-1), uniq


def derive_trajectories(
    object_id: Any,
    x: Any,
    y: Any,
    timestamp: Any,
    *,
    time_unit: str = "s",
    metric: str = "haversine",
) -> Trajectories:
    """Group points into trajectories: sort by ``(object_id, timestamp)`` and split by id.

    Parameters
    ----------
    object_id : array-like of int
        The moving object of each point (any integer or float ids; on the CPU also
        strings, which are factorized on the host).
    x, y : array-like of float
        Longitude/latitude in degrees (``metric="haversine"``) or planar coordinates in
        kilometres (``"euclidean"``, e.g. from
        :func:`~xpdb.spatial.projection.lonlat_to_cartesian`).
    timestamp : array-like
        Numbers in ``time_unit``, or datetime64 / pandas / xpdb timestamps (their own unit).
        Points of one object with equal timestamps keep their input order.
    time_unit : str, default "s"
        Unit of numeric timestamps: "s", "ms", "us", "ns", "m", "h" or "D".
    metric : {"haversine", "euclidean"}
        How :func:`trajectory_distances_and_speeds` measures consecutive points.

    Returns
    -------
    Trajectories
        On the device of the inputs (the GPU when any is a CuPy array).

    Raises
    ------
    SpatialValueError
        When the inputs' lengths differ or ``metric``/``time_unit`` is unknown.
    """
    if metric not in METRICS:
        raise SpatialValueError(f"unknown metric {metric!r}; use one of {METRICS}")
    ts, unit = _timestamps(timestamp, time_unit)
    ids_num, uniq = _object_ids(object_id)
    xp, (px, py) = as_coordinates(x, y, names=("x", "y"))
    dev = device_of(px)
    ids_num = dev.asarray(ids_num)
    ts = dev.asarray(ts)
    n = int(px.shape[0])
    for name, arr in (("object_id", ids_num), ("timestamp", ts)):
        if arr.ndim != 1 or int(arr.shape[0]) != n:
            raise SpatialValueError(
                f"{name} has shape {tuple(arr.shape)} but x and y have {n} points; pass one "
                "value per point")
    # lexicographic (id, time) order by two stable sorts: time first, then id
    order = stable_argsort(xp, ts)
    order = order[stable_argsort(xp, ids_num[order])].astype(np.int64, copy=False)
    sorted_ids = ids_num[order]
    starts = xp.nonzero(run_starts(xp, sorted_ids))[0]
    offsets = xp.concatenate([starts, xp.asarray([n])]).astype(np.int64, copy=False)
    first = sorted_ids[starts]
    object_ids = first if uniq is None else uniq[dev.to_host(first)]
    return Trajectories(object_ids, offsets, order, px[order], py[order], ts[order], unit,
                        metric)


def trajectory_distances_and_speeds(traj: Trajectories) -> tuple[Any, Any]:
    """Length and average speed of every trajectory.

    The length is the sum of the distances between consecutive points (great-circle
    kilometres for ``metric="haversine"``, planar kilometres for ``"euclidean"``); the speed
    is the length over the time between the first and last point, in metres per second.

    Parameters
    ----------
    traj : Trajectories
        From :func:`derive_trajectories`.

    Returns
    -------
    (distance_km, speed_m_per_s) : arrays of float64, one per trajectory
        The speed is NaN where the duration is 0 (a single point, equal timestamps).
    """
    xp = traj.xp
    m = len(traj)
    n = int(traj.x.shape[0])
    if n < 2:
        dist = xp.zeros(m, dtype=np.float64)
    else:
        x, y = traj.x, traj.y
        if traj.metric == "haversine":
            step = haversine_distance(x[:-1], y[:-1], x[1:], y[1:])
        else:
            step = xp.hypot(x[1:] - x[:-1], y[1:] - y[:-1])
        tid = traj.point_trajectory()
        # a step joins points k and k+1; it counts only inside one trajectory
        same = tid[1:] == tid[:-1]
        dist = bincount(xp, tid[1:], m, weights=xp.where(same, step, 0.0))
    first = traj.offsets[:-1]
    last = traj.offsets[1:] - 1
    t = traj.timestamp
    if m:
        duration = (t[last] - t[first]).astype(np.float64) * _SECONDS[traj.time_unit]
    else:
        duration = xp.zeros(0, dtype=np.float64)
    positive = duration > 0
    speed = xp.where(positive, dist * 1000.0 / xp.where(positive, duration, 1.0), np.nan)
    return dist, speed


def trajectory_bounding_boxes(traj: Trajectories) -> tuple[Any, Any, Any, Any]:
    """The bounding box ``(xmin, ymin, xmax, ymax)`` of every trajectory's points.

    Returns
    -------
    tuple of four float64 arrays, one entry per trajectory
        In the trajectories' coordinates (degrees or kilometres). NaN coordinates (empty
        points) are skipped; a trajectory of only NaN coordinates has a NaN box.
    """
    xp = traj.xp
    m = len(traj)
    tid = traj.point_trajectory()
    out = []
    for vals, fn, init in (
        (traj.x, scatter_min, np.inf),
        (traj.y, scatter_min, np.inf),
        (traj.x, scatter_max, -np.inf),
        (traj.y, scatter_max, -np.inf),
    ):
        acc = xp.full(m, init)
        if tid.shape[0]:
            fn(xp, acc, tid, xp.where(xp.isnan(vals), init, vals))
        out.append(xp.where(xp.isinf(acc), np.nan, acc))
    return tuple(out)  # type: ignore[return-value]
