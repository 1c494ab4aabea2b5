"""The demo's trip generator: schema, determinism, dirty rows, internal consistency."""

from __future__ import annotations

import glob
import os

import numpy as np
import pyarrow.parquet as pq
import pytest

from xpdb.demo import taxi
from xpdb.errors import XpdbError

ROWS = 100_000


@pytest.fixture(scope="module")
def trips():
    return taxi.generate_trips(ROWS, seed=3).to_pandas()


def test_schema_and_size():
    t = taxi.generate_trips(500, seed=1)
    assert t.schema == taxi.SCHEMA
    assert t.num_rows == 500
    for name in ["vendor", "pickup_at", "dropoff_at", "pickup_lon", "pickup_lat",
                 "dropoff_lon", "dropoff_lat", "passengers", "distance", "fare", "tip",
                 "total", "payment", "cab_type"]:
        assert name in t.column_names


def test_same_seed_same_trips_other_seed_other_trips():
    a, b = taxi.generate_trips(2000, seed=5), taxi.generate_trips(2000, seed=5)
    c = taxi.generate_trips(2000, seed=6)
    assert a.equals(b)
    assert not a.equals(c)


def test_dirty_row_fractions(trips):
    t = trips
    clean_sign = (t["fare"] > 0) == (t["surcharge"] > 0)
    observed = {
        "negative_fare": (t["fare"] < 0).mean(),
        "zero_distance": (t["distance"] == 0).mean(),
        "zero_passengers": (t["passengers"] == 0).mean(),
        "null_tip": t["tip"].isna().mean(),
        "pickup_after_dropoff": (t["pickup_at"] > t["dropoff_at"]).mean(),
        "zero_coordinates": (((t["pickup_lon"] == 0) & (t["pickup_lat"] == 0))
                             | ((t["dropoff_lon"] == 0) & (t["dropoff_lat"] == 0))).mean(),
    }
    assert set(observed) == set(taxi.DIRTY)
    for kind, share in taxi.DIRTY.items():
        # five binomial standard deviations: fails only when the share is really off
        sd = np.sqrt(share * (1 - share) / ROWS)
        assert abs(observed[kind] - share) < 5 * sd, (kind, observed[kind], share)
    assert clean_sign.all()  # refunds negate the whole row's money


def _good(t):
    return t[(t["fare"] > 0) & (t["distance"] > 0) & (t["dropoff_at"] > t["pickup_at"])
             & (t["pickup_lon"] != 0) & (t["dropoff_lon"] != 0)]


def test_money_adds_up(trips):
    t = trips[trips["tip"].notna()]
    assert np.allclose(t["total"], t["fare"] + t["surcharge"] + t["tip"], atol=0.011)
    untipped = trips[trips["tip"].isna()]
    assert np.allclose(untipped["total"], untipped["fare"] + untipped["surcharge"], atol=0.011)
    g = _good(trips)
    minutes = (g["dropoff_at"] - g["pickup_at"]).dt.total_seconds() / 60
    metered = taxi.BASE + taxi.PER_MILE * g["distance"] + taxi.PER_MINUTE * minutes
    flat = g["fare"] == taxi.JFK_FLAT
    # the meter: base + per mile + per minute (times are whole seconds, distance 0.01 mi)
    assert np.allclose(g.loc[~flat, "fare"], metered[~flat], atol=0.02)
    assert 0.02 < flat.mean() < 0.15  # JFK flat fares exist, not too many


def test_tips_mostly_on_cards(trips):
    t = trips[trips["tip"].notna() & (trips["fare"] > 0)]
    card = t["payment"] == "card"
    assert (t.loc[~card, "tip"] == 0).all()
    assert (t.loc[card, "tip"] > 0).mean() > 0.8
    assert 0.6 < card.mean() < 0.85


def test_dropoffs_consistent_with_distance(trips):
    g = _good(trips)
    straight = taxi._straight_miles(g["pickup_lon"].to_numpy(), g["pickup_lat"].to_numpy(),
                                    g["dropoff_lon"].to_numpy(), g["dropoff_lat"].to_numpy())
    # street miles are longer than the straight line, but not wildly
    ratio = g["distance"].to_numpy() / np.maximum(straight, 1e-9)
    assert np.median(ratio) == pytest.approx(taxi.ROUTE_FACTOR, rel=0.1)
    assert np.quantile(ratio, 0.01) > 0.9


def test_rush_hours_and_weekends(trips):
    t = trips
    hour = t["pickup_at"].dt.hour
    weekend = t["pickup_at"].dt.day_of_week >= 5
    weekday_counts = hour[~weekend].value_counts()
    assert weekday_counts[18] > 3 * weekday_counts[4]
    assert weekday_counts[8] > 1.5 * weekday_counts[5]
    weekend_counts = hour[weekend].value_counts()
    # weekend nights are busier than weekday nights (per day)
    assert weekend_counts[1] / weekend.sum() > 1.5 * weekday_counts[1] / (~weekend).sum()
    g = _good(t)
    mph = g["distance"] / ((g["dropoff_at"] - g["pickup_at"]).dt.total_seconds() / 3600)
    h = g["pickup_at"].dt.hour
    assert mph[h == 3].median() > 1.5 * mph[h == 8].median()
    assert set(t["pickup_at"].dt.year) == {2022, 2023, 2024}


def test_write_trips_files(tmp_path):
    paths = taxi.write_trips(str(tmp_path / "trips"), 2500, seed=9, file_rows=1000)
    assert [os.path.basename(p) for p in paths] == [
        "trips-00000.parquet", "trips-00001.parquet", "trips-00002.parquet"]
    assert sorted(glob.glob(str(tmp_path / "trips" / "*.parquet"))) == paths
    tables = [pq.read_table(p) for p in paths]
    assert [t.num_rows for t in tables] == [1000, 1000, 500]
    assert all(t.schema.equals(taxi.SCHEMA) for t in tables)
    again = taxi.write_trips(str(tmp_path / "again"), 2500, seed=9, file_rows=1000)
    assert all(pq.read_table(a).equals(pq.read_table(b)) for a, b in zip(paths, again, strict=True))


def test_write_trips_rejects_no_rows(tmp_path):
    with pytest.raises(XpdbError, match="rows=0"):
        taxi.write_trips(str(tmp_path), 0)
