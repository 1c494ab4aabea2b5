"""The demo's pipeline: a list of named steps, each a callable run on one database.

A :class:`Step` is a name and a callable taking the :class:`Context` (the open database,
the Parquet files, the answers so far). The runner times each step on each device. Later
features add steps by appending to :data:`STEPS` (or passing their own list to
:func:`run_steps`), e.g. the ML issue's fare regression and tip classifier
(``CREATE MODEL``/``PREDICT`` over ``clean``) and the spatial issue's pickups-to-zones
join::

    STEPS.insert(-1, Step("ML: fare regression", sql_step("CREATE MODEL ..."), "fare model"))

Every statement is plain SQL through ``xpdb.connect(path, device=...)``; the queries are
in :data:`QUERIES` so that tests can run the same text on DuckDB.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

#: ``CREATE TABLE trips`` with explicit types (the generator's schema)
CREATE_TRIPS = """
CREATE OR REPLACE TABLE trips (
    vendor VARCHAR, pickup_at TIMESTAMP, dropoff_at TIMESTAMP,
    pickup_lon DOUBLE, pickup_lat DOUBLE, dropoff_lon DOUBLE, dropoff_lat DOUBLE,
    passengers TINYINT, distance DOUBLE, fare DOUBLE, surcharge DOUBLE, tip DOUBLE,
    total DOUBLE, payment VARCHAR, cab_type VARCHAR
)"""

#: the ETL: drop the dirty rows, fill missing tips, add features
CREATE_CLEAN = """
CREATE OR REPLACE TABLE clean AS
SELECT vendor, pickup_at, dropoff_at, pickup_lon, pickup_lat, dropoff_lon, dropoff_lat,
       passengers, distance, fare, surcharge, coalesce(tip, 0.0) AS tip, total, payment,
       cab_type,
       hour(pickup_at) AS hour,
       dayofweek(pickup_at) AS dow,
       CAST(pickup_at AS DATE) AS day,
       date_diff('second', pickup_at, dropoff_at) / 60.0 AS minutes,
       distance / (date_diff('second', pickup_at, dropoff_at) / 3600.0) AS mph,
       coalesce(tip, 0.0) / fare AS tip_rate
FROM trips
WHERE fare > 0 AND total > 0 AND distance > 0 AND distance < 100
  AND passengers BETWEEN 1 AND 6
  AND dropoff_at > pickup_at
  AND pickup_lon <> 0 AND pickup_lat <> 0 AND dropoff_lon <> 0 AND dropoff_lat <> 0"""

#: the analytics, by name: the four classic taxi-benchmark queries (Mark Litwintschik's
#: "billion taxi rides", on the raw table as there), then analyst queries on ``clean``
QUERIES = {
    "q1_trips_by_cab_type": """
        SELECT cab_type, count(*) AS trips
        FROM trips GROUP BY cab_type ORDER BY cab_type""",
    "q2_avg_total_by_passengers": """
        SELECT passengers, avg(total) AS avg_total
        FROM trips GROUP BY passengers ORDER BY passengers""",
    "q3_trips_by_passengers_year": """
        SELECT passengers, year(pickup_at) AS year, count(*) AS trips
        FROM trips GROUP BY 1, 2 ORDER BY passengers, year""",
    "q4_trips_by_passengers_year_miles": """
        SELECT passengers, year(pickup_at) AS year, CAST(round(distance) AS INTEGER) AS miles,
               count(*) AS trips
        FROM trips GROUP BY 1, 2, 3 ORDER BY year, trips DESC, passengers, miles""",
    "revenue_by_hour": """
        SELECT hour, count(*) AS trips, sum(total) AS revenue, avg(tip_rate) AS tip_rate,
               avg(mph) AS mph
        FROM clean GROUP BY hour ORDER BY hour""",
    "tips_by_payment": """
        SELECT payment, count(*) AS trips, avg(fare) AS fare, avg(tip_rate) AS tip_rate,
               avg(minutes) AS minutes
        FROM clean GROUP BY payment ORDER BY trips DESC, payment""",
    "vendor_best_days": """
        WITH daily AS (
            SELECT vendor, day, count(*) AS trips, sum(total) AS revenue
            FROM clean GROUP BY vendor, day)
        SELECT vendor, day, trips, revenue, rnk FROM (
            SELECT vendor, day, trips, revenue,
                   rank() OVER (PARTITION BY vendor ORDER BY revenue DESC, day) AS rnk
            FROM daily) AS ranked
        WHERE rnk <= 3 ORDER BY vendor, rnk""",
    "top_routes": """
        SELECT round(pickup_lat, 2) AS from_lat, round(pickup_lon, 2) AS from_lon,
               round(dropoff_lat, 2) AS to_lat, round(dropoff_lon, 2) AS to_lon,
               count(*) AS trips, avg(fare) AS fare, avg(minutes) AS minutes
        FROM clean GROUP BY 1, 2, 3, 4
        ORDER BY trips DESC, from_lat, from_lon, to_lat, to_lon LIMIT 10""",
}

#: the row counts shown after reopening the database
COUNTS = "SELECT 'trips' AS name, count(*) AS n FROM trips UNION ALL " \
         "SELECT 'clean' AS name, count(*) AS n FROM clean"


def copy_statement(pattern: str) -> str:
    """``COPY trips FROM '<pattern>'`` with the path quoted by sqlglot."""
    return f"COPY trips FROM {exp.Literal.string(pattern).sql()}"


@dataclass
class Context:
    """What the steps share on one device.

    Attributes
    ----------
    connect : callable
        Opens the database (``xpdb.connect(path, device=...)`` or an in-memory one).
    parquet : str
        The glob of the generated Parquet files.
    db : Database
        The open connection.
    answers : dict
        Each showing step's answer (a pandas DataFrame), by step name.
    persistent : bool
        Whether ``connect`` opens a database directory (then the reopen step runs).
    """

    connect: Callable[[], Any]
    parquet: str
    db: Any = None
    answers: dict[str, Any] = field(default_factory=dict)
    persistent: bool = True


@dataclass(frozen=True)
class Step:
    """A named step: ``run(ctx)`` returns an answer to show (pandas) or None."""

    name: str
    run: Callable[[Context], Any]
    title: str | None = None  # shown above the answer; None: the answer is not printed


def sql_step(sql: str) -> Callable[[Context], Any]:
    """A step running ``sql`` (kept as the callable's ``sql`` attribute); a query's answer
    comes back as pandas."""
    def run(ctx: Context) -> Any:
        res = ctx.db.sql(sql)
        return res.to_pandas() if res.rowcount < 0 else None
    run.sql = sql  # type: ignore[attr-defined]
    return run


def _open(ctx: Context) -> None:
    ctx.db = ctx.connect()


def _reopen(ctx: Context) -> Any:
    before = ctx.db.sql(COUNTS).to_pandas()
    if not ctx.persistent:
        return before
    ctx.db.close()
    ctx.db = ctx.connect()
    after = ctx.db.sql(COUNTS).to_pandas()
    if not before.equals(after):
        from ..errors import StorageError

        msg = f"the reopened database differs: before {before.to_dict('list')}, " \
              f"after {after.to_dict('list')}"
        raise StorageError(msg)
    return after


def _load(ctx: Context) -> Any:
    return ctx.db.sql(copy_statement(ctx.parquet)).rowcount


#: the demo's steps in order; answers of steps with a title are printed
STEPS: list[Step] = [
    Step("open the database", _open),
    Step("CREATE TABLE trips", sql_step(CREATE_TRIPS)),
    Step("COPY trips FROM Parquet", _load),
    Step("ETL: clean + features", sql_step(CREATE_CLEAN)),
    Step("Q1 trips by cab type", sql_step(QUERIES["q1_trips_by_cab_type"]),
         "Q1: trips by cab type"),
    Step("Q2 avg total by passengers", sql_step(QUERIES["q2_avg_total_by_passengers"]),
         "Q2: average total by passenger count"),
    Step("Q3 trips by passengers, year", sql_step(QUERIES["q3_trips_by_passengers_year"]),
         "Q3: trips by passenger count and year"),
    Step("Q4 by passengers, year, miles",
         sql_step(QUERIES["q4_trips_by_passengers_year_miles"]),
         "Q4: trips by passenger count, year and rounded miles (first rows)"),
    Step("revenue by hour of day", sql_step(QUERIES["revenue_by_hour"]),
         "revenue, tip rate and speed by hour of day"),
    Step("tips by payment type", sql_step(QUERIES["tips_by_payment"]),
         "fares and tips by payment type"),
    Step("window: vendors' best days", sql_step(QUERIES["vendor_best_days"]),
         "each vendor's three best days by revenue (rank() over vendor)"),
    Step("top routes (0.01 deg grid)", sql_step(QUERIES["top_routes"]),
         "top routes between 0.01-degree grid cells"),
    Step("reopen: tables intact", _reopen, "row counts after reopening the database"),
]

from .ml_steps import ML_STEPS  # noqa: E402  (ml_steps builds on Step, defined above)

STEPS[-1:-1] = ML_STEPS  # the models are trained before the database is reopened

from .zones import ZONE_STEPS  # noqa: E402  (zones builds on Step, defined above)

STEPS[-1:-1] = ZONE_STEPS  # pickups per zone polygon (a temporary table, before reopen)


@dataclass
class StepTiming:
    """One step's wall time in milliseconds on one device."""

    name: str
    ms: float


def run_steps(ctx: Context, steps: Sequence[Step], device: Any,
              on_step: Callable[[StepTiming], None] | None = None) -> list[StepTiming]:
    """Run ``steps`` in order on ``ctx``, timing each (device work finished included).

    ``on_step`` is called with each step's timing as soon as it is done (progress). The
    connection is closed at the end, also when a step fails.
    """
    timings = []
    try:
        for step in steps:
            t0 = time.perf_counter()
            answer = step.run(ctx)
            device.synchronize()
            timings.append(StepTiming(step.name, (time.perf_counter() - t0) * 1000))
            if step.title is not None:
                ctx.answers[step.name] = answer
            if on_step is not None:
                on_step(timings[-1])
    finally:
        if ctx.db is not None:
            ctx.db.close()
    return timings


__all__ = ["COUNTS", "CREATE_CLEAN", "CREATE_TRIPS", "QUERIES", "STEPS", "Context",
           "Step", "StepTiming", "copy_statement", "run_steps", "sql_step"]
