"""Each SQL step of the demo against DuckDB on the same generated Parquet files."""

from __future__ import annotations

import os

import duckdb
import pytest

import xpdb
from xpdb.demo import steps as demo_steps
from xpdb.demo.taxi import write_trips
from xpdb.testing import assert_tables_equal

from .conftest import duck_after_etl

ROWS = 20_000
#: raw columns that together identify a generated trip (to align two tables by sorting)
ROW_KEYS = ["pickup_at", "dropoff_at", "pickup_lon", "pickup_lat", "dropoff_lon",
            "dropoff_lat", "fare", "distance", "vendor"]


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    """A glob of three Parquet files of generated trips."""
    root = tmp_path_factory.mktemp("demo_trips")
    write_trips(str(root), ROWS, seed=11, file_rows=8_000)
    return os.path.join(str(root), "*.parquet")


@pytest.fixture(scope="module")
def duck(parquet):
    con = duck_after_etl(parquet)
    yield con
    con.close()


_RUNS: dict[str, tuple[demo_steps.Context, list[demo_steps.StepTiming], str]] = {}


@pytest.fixture
def ran(device, parquet, tmp_path_factory):
    """The demo's steps run once per device on a persistent database."""
    if device not in _RUNS:
        path = str(tmp_path_factory.mktemp(f"demo_db_{device}") / "db")
        ctx = demo_steps.Context(connect=lambda: xpdb.connect(path, device=device),
                                 parquet=parquet)
        timings = demo_steps.run_steps(ctx, demo_steps.STEPS, xpdb.get_device(device))
        _RUNS[device] = (ctx, timings, path)
    return _RUNS[device]


def _step(name_of_query: str) -> str:
    sql = demo_steps.QUERIES[name_of_query]
    return next(s.name for s in demo_steps.STEPS if getattr(s.run, "sql", None) == sql)


@pytest.mark.parametrize("query", sorted(demo_steps.QUERIES))
def test_query_matches_duckdb(ran, duck, query):
    ctx, _, _ = ran
    expected = duck.execute(demo_steps.QUERIES[query]).arrow().read_all()
    actual = ctx.answers[_step(query)]
    assert len(actual) > 0
    assert_tables_equal(actual, expected, rtol=1e-9)


def test_load_and_clean_match_duckdb(ran, duck):
    ctx, timings, path = ran
    assert [t.name for t in timings] == [s.name for s in demo_steps.STEPS]
    assert all(t.ms >= 0 for t in timings)
    with xpdb.connect(path, device="cpu", read_only=True) as db:
        for table in ["trips", "clean"]:
            actual = db.sql(f"SELECT * FROM {table}").to_arrow()
            expected = duck.execute(f"SELECT * FROM {table}").arrow().read_all()
            assert actual.num_rows == expected.num_rows
            # the raw columns identify a row: sorting by them aligns the two tables fast
            keys = [(c, "ascending") for c in ROW_KEYS]
            assert_tables_equal(actual.sort_by(keys), expected.sort_by(keys), rtol=1e-12)
    n_trips, n_clean = duck.execute(
        "SELECT (SELECT count(*) FROM trips), (SELECT count(*) FROM clean)").fetchone()
    assert n_trips == ROWS
    assert 0.9 * ROWS < n_clean < ROWS  # the dirty rows (about 3%) are gone
    counts = ctx.answers["reopen: tables intact"]
    assert dict(zip(counts["name"], counts["n"], strict=True)) == {"trips": n_trips, "clean": n_clean}


def test_steps_are_extensible(device, parquet, tmp_path):
    """A later feature adds a step: it runs on the same database, its answer is kept."""
    extra = demo_steps.Step("longest trip", demo_steps.sql_step(
        "SELECT max(distance) AS miles FROM clean"), "the longest trip")
    path = str(tmp_path / "db")
    ctx = demo_steps.Context(connect=lambda: xpdb.connect(path, device=device),
                             parquet=parquet)
    chosen = [demo_steps.STEPS[0], demo_steps.STEPS[1], demo_steps.STEPS[2],
              demo_steps.STEPS[3], extra]
    timings = demo_steps.run_steps(ctx, chosen, xpdb.get_device(device))
    assert [t.name for t in timings][-1] == "longest trip"
    con = duckdb.connect()
    expected = con.execute(
        f"SELECT max(distance) AS miles FROM read_parquet('{parquet}') "
        "WHERE fare > 0 AND total > 0 AND distance > 0 AND distance < 100 "
        "AND passengers BETWEEN 1 AND 6 AND dropoff_at > pickup_at AND pickup_lon <> 0 "
        "AND pickup_lat <> 0 AND dropoff_lon <> 0 AND dropoff_lat <> 0").arrow().read_all()
    assert_tables_equal(ctx.answers["longest trip"], expected)


def test_failing_step_closes_the_database(device, parquet, tmp_path):
    path = str(tmp_path / "db")
    ctx = demo_steps.Context(connect=lambda: xpdb.connect(path, device=device),
                             parquet=parquet)
    broken = demo_steps.Step("broken", demo_steps.sql_step("SELECT no_such_column FROM trips"))
    with pytest.raises(xpdb.errors.BindError, match="no_such_column"):
        demo_steps.run_steps(ctx, [*demo_steps.STEPS[:3], broken], xpdb.get_device(device))
    # the writer lock was released: the database opens again for writing
    with xpdb.connect(path, device=device) as db:
        assert db.sql("SELECT count(*) FROM trips").fetchall() == [(ROWS,)]


def test_steps_run_in_memory(device, parquet, duck):
    """The same steps on an in-memory database (the reopen step then only counts)."""
    ctx = demo_steps.Context(connect=lambda: xpdb.connect(device=device), parquet=parquet,
                             persistent=False)
    demo_steps.run_steps(ctx, demo_steps.STEPS, xpdb.get_device(device))
    expected = duck.execute(demo_steps.COUNTS).arrow().read_all()
    assert_tables_equal(ctx.answers["reopen: tables intact"], expected)
    name = _step("revenue_by_hour")
    assert_tables_equal(ctx.answers[name],
                        duck.execute(demo_steps.QUERIES["revenue_by_hour"]).arrow().read_all(),
                        rtol=1e-9)
