"""Recompute some of the demo's answers with pandas on the same Parquet files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..testing import assert_tables_equal


def clean_pandas(trips: Any) -> Any:
    """The ETL's row filter and features in pandas (the oracle of ``CREATE_CLEAN``)."""
    t = trips
    keep = ((t["fare"] > 0) & (t["total"] > 0) & (t["distance"] > 0) & (t["distance"] < 100)
            & t["passengers"].between(1, 6) & (t["dropoff_at"] > t["pickup_at"])
            & (t["pickup_lon"] != 0) & (t["pickup_lat"] != 0)
            & (t["dropoff_lon"] != 0) & (t["dropoff_lat"] != 0))
    c = t[keep].copy()
    c["tip"] = c["tip"].fillna(0.0)
    c["hour"] = c["pickup_at"].dt.hour
    seconds = (c["dropoff_at"] - c["pickup_at"]).dt.total_seconds()
    c["minutes"] = seconds / 60.0
    c["mph"] = c["distance"] / (seconds / 3600.0)
    c["tip_rate"] = c["tip"] / c["fare"]
    return c


def pandas_answers(paths: list[str]) -> dict[str, Any]:
    """Q1, Q2 and revenue by hour computed with pandas from the Parquet files."""
    import pandas as pd

    trips = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    q1 = (trips.groupby("cab_type").size().rename("trips").reset_index()
          .sort_values("cab_type", ignore_index=True))
    q2 = (trips.groupby("passengers")["total"].mean().rename("avg_total").reset_index()
          .sort_values("passengers", ignore_index=True))
    clean = clean_pandas(trips)
    by_hour = (clean.groupby("hour").agg(trips=("total", "size"), revenue=("total", "sum"),
                                         tip_rate=("tip_rate", "mean"), mph=("mph", "mean"))
               .reset_index().sort_values("hour", ignore_index=True))
    return {"Q1 trips by cab type": q1, "Q2 avg total by passengers": q2,
            "revenue by hour of day": by_hour}


def check_with_pandas(answers: Mapping[str, Any], paths: list[str]) -> list[str]:
    """Compare the demo's ``answers`` with pandas; returns the names checked.

    Raises
    ------
    AssertionError
        When an answer differs (beyond float rounding).
    """
    expected = pandas_answers(paths)
    for name, exp in expected.items():
        assert_tables_equal(answers[name], exp, rtol=1e-9)
    return list(expected)


def check_devices_agree(first: Mapping[str, Any], other: Mapping[str, Any]) -> None:
    """Assert two devices' answers are equal (floats up to summation order)."""
    for name, ans in first.items():
        assert_tables_equal(other[name], ans, rtol=1e-9)
