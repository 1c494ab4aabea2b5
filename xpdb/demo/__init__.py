"""``xpdb demo``: the end-to-end demo on generated NYC-taxi-like trips.

The CLI calls :func:`add_arguments` to declare the demo's options and :func:`run` to run it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the demo's command-line options on ``parser``."""
    parser.add_argument("--rows", type=int, default=2_000_000, help="trips to generate")
    parser.add_argument("--device", action="append", default=None,
                        help="cpu, gpu or auto (repeatable); default: cpu, and gpu if present")


def run(args: argparse.Namespace) -> int:
    """Run the demo with the parsed options; returns the process exit code."""
    from ..device import gpu_available

    devices = args.device or (["cpu", "gpu"] if gpu_available() else ["cpu"])
    return demo(args.rows, devices)


def make_trips(rows: int, seed: int = 7) -> Any:
    """A NYC-taxi-like trips table as a pyarrow Table (fixed seed)."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)
    pickup = start + rng.integers(0, 31 * 24 * 3600, rows)
    distance = np.round(rng.gamma(2.0, 1.6, rows), 2)
    duration = (distance * rng.uniform(120, 300, rows)).astype(np.int64) + 60
    fare = np.round(3.0 + 2.5 * distance + rng.normal(0, 1.5, rows).clip(-2, 6), 2)
    payment = rng.choice(np.array(["card", "cash", "dispute", "no charge"]), rows,
                         p=[0.7, 0.27, 0.02, 0.01])
    tip = np.where(payment == "card", np.round(fare * rng.uniform(0, 0.3, rows), 2), 0.0)
    passengers = rng.choice(np.arange(1, 7), rows, p=[0.7, 0.14, 0.06, 0.04, 0.04, 0.02])
    vendor = rng.choice(np.array(["CMT", "VTS", "DDS"]), rows, p=[0.45, 0.5, 0.05])
    tip_mask = rng.random(rows) < 0.01  # 1% of tips were not recorded
    return pa.table({
        "vendor": pa.array(vendor).dictionary_encode(),
        "pickup_at": pa.array(pickup, pa.timestamp("s")),
        "dropoff_at": pa.array(pickup + duration, pa.timestamp("s")),
        "passengers": pa.array(passengers.astype(np.int8)),
        "distance": pa.array(distance),
        "payment": pa.array(payment).dictionary_encode(),
        "fare": pa.array(fare),
        "tip": pa.array(tip, mask=tip_mask),
        "pickup_lon": pa.array(np.round(-74.0 + rng.normal(0, 0.05, rows), 6)),
        "pickup_lat": pa.array(np.round(40.75 + rng.normal(0, 0.05, rows), 6)),
    })


def _timed(label: str, fn: Callable[[], Any], device: Any) -> Any:
    t0 = time.perf_counter()
    out = fn()
    device.synchronize()
    ms = (time.perf_counter() - t0) * 1000
    print(f"  {label:<44} {ms:9.1f} ms")
    return out


def demo(rows: int, devices: Sequence[str]) -> int:
    """Run the DataFrame API over generated taxi trips on each device."""
    import xpdb

    trips = make_trips(rows)
    print(f"xpdb {xpdb.__version__} demo: {rows:,} generated taxi trips")
    results = {}
    for name in devices:
        dev = xpdb.get_device(name)
        print(f"\n== device {dev} ==")
        df = _timed("load onto the device", lambda dev=dev: xpdb.DataFrame(trips, device=dev), dev)
        df["tip_rate"] = _timed("feature: tip / fare", lambda df=df: df["tip"] / df["fare"], dev)
        df["hour"] = _timed("feature: pickup hour", lambda df=df: df["pickup_at"].dt.hour, dev)
        clean = _timed("clean: fare > 0 and 0 < distance < 50",
                       lambda df=df: df[(df["fare"] > 0) & (df["distance"] > 0)
                                        & (df["distance"] < 50)], dev)
        by_pay = _timed("group by payment: count, mean fare, mean tip",
                        lambda c=clean: c.groupby("payment").agg(
                            trips=("fare", "count"), mean_fare=("fare", "mean"),
                            mean_tip=("tip", "mean")), dev)
        by_hour = _timed("group by passengers, hour: mean distance",
                         lambda c=clean: c.groupby(["passengers", "hour"]).agg(
                             {"distance": "mean"}), dev)
        top = _timed("top 5 fares", lambda c=clean: c.nlargest(5, "fare")[
            ["vendor", "fare", "distance"]], dev)
        results[name] = (by_pay, by_hour, top)
        _check_with_pandas(trips, by_pay, top)
        print("\ntrips by payment type:")
        print(by_pay)
        print("\ntop 5 fares:")
        print(top)
    return 0


def _check_with_pandas(trips: Any, by_pay: Any, top: Any) -> None:
    """Recompute two of the demo's answers with pandas and say whether they agree."""
    from ..testing import assert_tables_equal

    pdf = trips.to_pandas()
    pdf = pdf[(pdf["fare"] > 0) & (pdf["distance"] > 0) & (pdf["distance"] < 50)]
    exp_pay = (pdf.groupby("payment", observed=True)
               .agg(trips=("fare", "count"), mean_fare=("fare", "mean"),
                    mean_tip=("tip", "mean")).reset_index())
    exp_pay["payment"] = exp_pay["payment"].astype(str)
    exp_pay = exp_pay.sort_values("payment").reset_index(drop=True)  # xpdb: groups by key
    exp_top = pdf.nlargest(5, "fare")[["vendor", "fare", "distance"]].reset_index(drop=True)
    exp_top["vendor"] = exp_top["vendor"].astype(str)
    assert_tables_equal(by_pay.to_pandas(), exp_pay, rtol=1e-9)
    assert_tables_equal(top.to_pandas(), exp_top)
    print("  results agree with pandas on the same data")
