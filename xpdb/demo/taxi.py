"""A generator of realistic NYC-taxi-like trips (fixed seed), written as Parquet files.

The shape follows the public TLC trip records: more trips in the weekday rush hours and on
weekend nights, slower traffic in the rush hours, airport trips (JFK to and from Manhattan
at the flat fare), dropoffs placed at the trip's distance from the pickup, metered fares
(base + per mile + per minute) plus surcharges, tips mostly on card payments, green cabs
in the outer boroughs. A small share of rows is dirty in the ways the real data is
(:data:`DIRTY`), so that the demo's cleaning step has work to do.

Generation runs on the host with NumPy: it makes the input files, it is not part of what
the demo measures.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

#: the trips' columns and their types (also the demo's ``CREATE TABLE trips``)
SCHEMA = pa.schema([
    ("vendor", pa.string()),
    ("pickup_at", pa.timestamp("us")),
    ("dropoff_at", pa.timestamp("us")),
    ("pickup_lon", pa.float64()),
    ("pickup_lat", pa.float64()),
    ("dropoff_lon", pa.float64()),
    ("dropoff_lat", pa.float64()),
    ("passengers", pa.int8()),
    ("distance", pa.float64()),
    ("fare", pa.float64()),
    ("surcharge", pa.float64()),
    ("tip", pa.float64()),
    ("total", pa.float64()),
    ("payment", pa.string()),
    ("cab_type", pa.string()),
])

#: the share of rows made dirty in each way (independently, so a row can be dirty twice)
DIRTY = {
    "negative_fare": 0.004,         # refunds: fare, surcharge, tip and total negated
    "zero_distance": 0.006,         # the meter saw no movement
    "zero_passengers": 0.005,       # the driver did not enter the count
    "null_tip": 0.01,               # tip not recorded (total then excludes it)
    "pickup_after_dropoff": 0.002,  # clock errors: the two times swapped
    "zero_coordinates": 0.004,      # no GPS fix: the pickup or the dropoff at (0, 0)
}

#: the first day of the generated period and its length (three years, so Q3 and Q4 of the
#: taxi benchmark group by several years)
START = np.datetime64("2022-01-01", "D")
DAYS = 3 * 365 + 1

# pickup areas: name, (lon, lat) centre, (lon, lat) spread in degrees, share of pickups
_AREAS = [
    ("midtown", (-73.982, 40.757), (0.012, 0.014), 0.42),
    ("downtown", (-74.004, 40.721), (0.010, 0.012), 0.20),
    ("uptown", (-73.958, 40.789), (0.012, 0.014), 0.13),
    ("brooklyn", (-73.957, 40.683), (0.025, 0.020), 0.11),
    ("queens", (-73.880, 40.742), (0.030, 0.020), 0.06),
    ("jfk", (-73.7781, 40.6413), (0.003, 0.003), 0.05),
    ("lga", (-73.8740, 40.7769), (0.002, 0.002), 0.03),
]
_AIRPORT_DESTS = [("jfk", 0.5), ("lga", 0.4), ("ewr", 0.1)]
_AIRPORTS = {"jfk": (-73.7781, 40.6413), "lga": (-73.8740, 40.7769), "ewr": (-74.1745, 40.6895)}

# trips started in each hour of the day (relative), on weekdays and on weekends
_WEEKDAY_HOURS = np.array([3, 2, 1.2, 0.8, 0.8, 1.2, 3, 5.5, 6.5, 6, 5, 5, 5.2, 5.2, 5.5,
                           5.8, 5.6, 6.5, 7, 7, 6.5, 6, 5.5, 4.2])
_WEEKEND_HOURS = np.array([6, 5.5, 4.5, 3.5, 2, 1.2, 1.2, 1.6, 2.4, 3.4, 4.2, 4.8, 5, 5,
                           5, 5, 5, 5.2, 5.4, 5.4, 5.4, 5.5, 5.8, 6])
# typical speed in mph at each hour (weekday traffic; weekends get a bonus)
_SPEED = np.array([19, 20, 21, 21, 21, 19, 15, 11, 9.5, 10, 11, 11, 11, 11, 10.5, 10,
                   9.5, 9.5, 10, 11, 13, 15, 16, 17.5])

# NYC TLC rates (2023): fare per trip, mile and minute; the JFK flat fare; surcharges
BASE, PER_MILE, PER_MINUTE, JFK_FLAT = 3.00, 2.80, 0.35, 70.00
MTA_TAX, IMPROVEMENT, CONGESTION, RUSH_HOUR, OVERNIGHT, AIRPORT_FEE = (
    0.50, 1.00, 2.50, 2.50, 1.00, 1.75)
TOLLS = 6.94
ROUTE_FACTOR = 1.3  # street miles per straight-line mile

_MILES_PER_DEG_LAT = 69.0

#: rows per Parquet file written by :func:`write_trips`
FILE_ROWS = 1_000_000


def generate_trips(rows: int, seed: int | np.random.SeedSequence = 42) -> pa.Table:
    """Generate ``rows`` NYC-taxi-like trips.

    Parameters
    ----------
    rows : int
        Number of trips.
    seed : int or numpy.random.SeedSequence
        The same seed gives the same trips.

    Returns
    -------
    pyarrow.Table
        Columns as in :data:`SCHEMA`, a share of dirty rows as in :data:`DIRTY`.

    Examples
    --------
    >>> t = generate_trips(1000, seed=1)
    >>> t.num_rows, t.schema == SCHEMA
    (1000, True)
    """
    rng = np.random.default_rng(seed)
    n = int(rows)

    # -- when: a day (growing demand), then an hour by weekday/weekend profile ----------
    day = _growing_days(rng, n)
    dow = (day + 5) % 7  # 2022-01-01 was a Saturday; 0 = Monday here
    weekend = dow >= 5
    u = rng.random(n)
    hour = np.where(weekend, _pick(_WEEKEND_HOURS, u), _pick(_WEEKDAY_HOURS, u))
    pickup_s = (day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
                + (START.astype("datetime64[s]").astype(np.int64)))

    # -- where: pickup area, then a dropoff at the trip's distance -----------------------
    shares = np.array([a[3] for a in _AREAS])
    area = _pick(shares, rng.random(n))
    centre = np.array([a[1] for a in _AREAS])
    spread = np.array([a[2] for a in _AREAS])
    plon = centre[area, 0] + rng.normal(0, 1, n) * spread[area, 0]
    plat = centre[area, 1] + rng.normal(0, 1, n) * spread[area, 1]
    names = [a[0] for a in _AREAS]
    from_airport = np.isin(area, [names.index("jfk"), names.index("lga")])
    manhattan = area <= names.index("uptown")
    to_airport = manhattan & (rng.random(n) < 0.06)

    # ordinary trips: a log-normal street distance in a random direction
    miles = np.clip(rng.lognormal(np.log(1.8), 0.75, n), 0.1, 40.0)
    bearing = rng.uniform(0, 2 * np.pi, n)
    straight = miles / ROUTE_FACTOR
    cos_lat = np.cos(np.radians(plat))
    dlon = straight * np.sin(bearing) / (_MILES_PER_DEG_LAT * cos_lat)
    dlat = straight * np.cos(bearing) / _MILES_PER_DEG_LAT
    dropoff_lon, dropoff_lat = plon + dlon, plat + dlat

    # airport trips: to an airport from Manhattan, or from an airport into Manhattan
    dest = _pick(np.array([p for _, p in _AIRPORT_DESTS]), rng.random(n))
    apt = np.array([_AIRPORTS[name] for name, _ in _AIRPORT_DESTS])
    into = centre[_pick(np.array([0.6, 0.25, 0.15]), rng.random(n))]
    alon = np.where(to_airport, apt[dest, 0], into[:, 0] + rng.normal(0, 0.01, n))
    alat = np.where(to_airport, apt[dest, 1], into[:, 1] + rng.normal(0, 0.012, n))
    airport_trip = to_airport | from_airport
    dropoff_lon = np.where(airport_trip, alon + rng.normal(0, 0.002, n), dropoff_lon)
    dropoff_lat = np.where(airport_trip, alat + rng.normal(0, 0.002, n), dropoff_lat)
    straight_air = _straight_miles(plon, plat, dropoff_lon, dropoff_lat)
    miles = np.where(airport_trip, straight_air * rng.uniform(1.15, 1.35, n), miles)
    miles = np.round(miles, 2)
    to_jfk = to_airport & (dest == 0)
    jfk_flat = to_jfk | (area == names.index("jfk"))

    # -- how long: distance over the hour's speed (faster on weekends and highways) ------
    speed = _SPEED[hour] * np.where(weekend, 1.15, 1.0) * np.where(airport_trip, 1.6, 1.0)
    speed = speed * rng.lognormal(0.0, 0.25, n)
    minutes = miles / speed * 60 + rng.uniform(0.5, 3.0, n)
    dropoff_s = pickup_s + np.round(minutes * 60).astype(np.int64)

    # -- what it cost: metered or flat fare, surcharges, tip -------------------------------
    fare = np.where(jfk_flat, JFK_FLAT, BASE + PER_MILE * miles + PER_MINUTE * minutes)
    fare = np.round(fare, 2)
    vendor_i = _pick(np.array([0.30, 0.68, 0.02]), rng.random(n))
    green = ~airport_trip & ~manhattan & (rng.random(n) < 0.6)
    green |= (area == names.index("uptown")) & (rng.random(n) < 0.1)
    rush = ~weekend & (hour >= 16) & (hour < 20)
    night = (hour >= 20) | (hour < 6)
    surcharge = (MTA_TAX + IMPROVEMENT + np.where(green, 0.0, CONGESTION)
                 + np.where(rush, RUSH_HOUR, 0.0) + np.where(night, OVERNIGHT, 0.0)
                 + np.where(from_airport, AIRPORT_FEE, 0.0)
                 + np.where(airport_trip & (rng.random(n) < 0.5), TOLLS, 0.0))
    surcharge = np.round(surcharge, 2)
    pay_p = np.where(airport_trip, 0.85, 0.70)
    u = rng.random(n)
    payment_i = np.where(u < pay_p, 0, np.where(u < 0.97, 1, np.where(u < 0.99, 2, 3)))
    preset = np.array([0.0, 0.20, 0.25, 0.30, -1.0])[
        _pick(np.array([0.12, 0.50, 0.22, 0.08, 0.08]), rng.random(n))]
    rate = np.where(preset < 0, rng.uniform(0.05, 0.35, n), preset)
    tip = np.where(payment_i == 0, np.round((fare + surcharge) * rate, 2), 0.0)
    passengers = 1 + _pick(np.array([0.71, 0.14, 0.04, 0.02, 0.06, 0.03]), rng.random(n))

    # -- dirt --------------------------------------------------------------------------
    def dirty(kind: str) -> np.ndarray:
        return rng.random(n) < DIRTY[kind]

    neg = dirty("negative_fare")
    sign = np.where(neg, -1.0, 1.0)
    fare, surcharge, tip = fare * sign, surcharge * sign, tip * sign
    miles = np.where(dirty("zero_distance"), 0.0, miles)
    passengers = np.where(dirty("zero_passengers"), 0, passengers)
    tip_null = dirty("null_tip")
    total = np.round(fare + surcharge + np.where(tip_null, 0.0, tip), 2)
    swap = dirty("pickup_after_dropoff")
    pickup_s, dropoff_s = np.where(swap, dropoff_s, pickup_s), np.where(swap, pickup_s, dropoff_s)
    zero = dirty("zero_coordinates")
    at_pickup = rng.random(n) < 0.5
    zp, zd = zero & at_pickup, zero & ~at_pickup
    plon, plat = np.where(zp, 0.0, plon), np.where(zp, 0.0, plat)
    dropoff_lon, dropoff_lat = np.where(zd, 0.0, dropoff_lon), np.where(zd, 0.0, dropoff_lat)

    def text(values: Sequence[str], codes: np.ndarray) -> pa.Array:
        return pa.DictionaryArray.from_arrays(codes.astype(np.int32),
                                              pa.array(values)).cast(pa.string())

    columns = [
        text(["CMT", "VTS", "DDS"], vendor_i),
        pa.array(pickup_s * 1_000_000, pa.timestamp("us")),
        pa.array(dropoff_s * 1_000_000, pa.timestamp("us")),
        pa.array(np.round(plon, 6)), pa.array(np.round(plat, 6)),
        pa.array(np.round(dropoff_lon, 6)), pa.array(np.round(dropoff_lat, 6)),
        pa.array(passengers.astype(np.int8)),
        pa.array(miles), pa.array(fare), pa.array(surcharge),
        pa.array(tip, mask=tip_null), pa.array(total),
        text(["card", "cash", "no charge", "dispute"], payment_i),
        text(["yellow", "green"], green.astype(np.int32)),
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def _pick(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Category indices drawn with relative ``weights`` from uniforms ``u`` (inverse CDF;
    much faster than ``Generator.choice(p=...)``)."""
    cdf = np.cumsum(weights) / np.sum(weights)
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(weights) - 1)


def _growing_days(rng: np.random.Generator, n: int, growth: float = 0.35) -> np.ndarray:
    """Day numbers in ``[0, DAYS)`` with demand growing linearly by ``growth`` over the
    period (density proportional to ``1 + growth * x``, sampled by its inverse CDF)."""
    u = rng.random(n)
    x = (np.sqrt(1.0 + growth * (2.0 + growth) * u) - 1.0) / growth
    return np.minimum((x * DAYS).astype(np.int64), DAYS - 1)


def _straight_miles(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray,
                    lat2: np.ndarray) -> np.ndarray:
    """Straight-line miles between points (equirectangular; fine at city scale)."""
    cos_lat = np.cos(np.radians((lat1 + lat2) / 2))
    dx = (lon2 - lon1) * cos_lat * _MILES_PER_DEG_LAT
    dy = (lat2 - lat1) * _MILES_PER_DEG_LAT
    return np.hypot(dx, dy)


def write_trips(directory: str, rows: int, seed: int = 42,
                file_rows: int = FILE_ROWS) -> list[str]:
    """Generate ``rows`` trips into Parquet files of at most ``file_rows`` rows each.

    Each file has its own random stream spawned from ``seed``, so files are generated in
    parallel, memory stays bounded and the same ``rows``, ``seed`` and ``file_rows`` give
    the same files.

    Returns
    -------
    list of str
        The paths written, ``trips-00000.parquet``, ``trips-00001.parquet``...
    """
    if rows < 1 or file_rows < 1:
        from ..errors import XpdbError

        msg = f"the demo needs rows >= 1 and file_rows >= 1, got rows={rows}, file_rows={file_rows}"
        raise XpdbError(msg)
    os.makedirs(directory, exist_ok=True)
    n_files = -(-rows // file_rows)
    seeds = np.random.SeedSequence(seed).spawn(n_files)
    paths = [os.path.join(directory, f"trips-{i:05d}.parquet") for i in range(n_files)]

    def write(i: int) -> None:
        count = min(file_rows, rows - i * file_rows)
        pq.write_table(generate_trips(count, seeds[i]), paths[i])

    # files are independent (own seeds), so they are generated concurrently: NumPy and
    # the Parquet writer release the GIL for most of the work
    with ThreadPoolExecutor(max_workers=min(n_files, os.cpu_count() or 1)) as pool:
        list(pool.map(write, range(n_files)))
    return paths


__all__ = ["DIRTY", "FILE_ROWS", "SCHEMA", "generate_trips", "write_trips"]
