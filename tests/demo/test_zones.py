"""The demo's zone polygons and its pickups-per-zone spatial join (xpdb.demo.zones)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import xpdb
from xpdb.demo import steps as demo_steps
from xpdb.demo import zones as demo_zones
from xpdb.demo.check import clean_pandas
from xpdb.demo.taxi import write_trips
from xpdb.testing import assert_tables_equal

shapely = pytest.importorskip("shapely")

ROWS = 30_000


@pytest.fixture(scope="module")
def trips(tmp_path_factory):
    root = tmp_path_factory.mktemp("zone_trips")
    paths = write_trips(str(root), ROWS, seed=5, file_rows=ROWS)
    return str(root), pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def test_zones_tile_the_extent():
    names, geoms = demo_zones.zone_polygons()
    nx, ny = demo_zones.GRID
    assert len(names) == len(set(names)) == len(geoms) == nx * ny
    geoms.validate()
    polys = geoms.to_shapely()
    assert shapely.is_valid(polys).all()
    x0, y0, x1, y1 = demo_zones.EXTENT
    box = shapely.box(x0, y0, x1, y1)
    # no gaps and no overlaps: the areas add up to the extent's and the union is the extent
    np.testing.assert_allclose(shapely.area(polys).sum(), box.area, rtol=1e-9)
    assert shapely.union_all(polys).symmetric_difference(box).area < 1e-12
    # jittered: not all zones are the same rectangle
    assert np.ptp(shapely.area(polys)) > 0.1 * shapely.area(polys).mean()


def test_most_pickups_fall_in_a_zone(trips):
    _, df = trips
    x0, y0, x1, y1 = demo_zones.EXTENT
    lon, lat = df["pickup_lon"], df["pickup_lat"]
    inside = (lon > x0) & (lon < x1) & (lat > y0) & (lat < y1)
    assert inside.mean() > 0.95


def test_zone_query_matches_shapely(device, trips):
    root, df = trips
    db = xpdb.connect(device=device)
    db.sql(demo_steps.CREATE_TRIPS)
    db.sql(demo_steps.copy_statement(f"{root}/*.parquet"))
    db.sql(demo_steps.CREATE_CLEAN)
    ctx = demo_steps.Context(connect=lambda: db, parquet="", db=db)
    for step in demo_zones.ZONE_STEPS:
        answer = step.run(ctx)
    clean = clean_pandas(df)
    names, geoms = demo_zones.zone_polygons()
    polys = geoms.to_shapely()
    pts = shapely.points(clean["pickup_lon"].to_numpy(), clean["pickup_lat"].to_numpy())
    tree = shapely.STRtree(polys)
    pi, zi = tree.query(pts, predicate="within")
    pairs = pd.DataFrame({"zone": np.array(names)[zi], "fare": clean["fare"].to_numpy()[pi]})
    want = (pairs.groupby("zone").agg(trips=("fare", "size"), avg_fare=("fare", "mean"))
            .reset_index().sort_values(["trips", "zone"], ascending=[False, True])
            .head(10).reset_index(drop=True))
    assert_tables_equal(answer, want, rtol=1e-9)
    # every matched pickup counted once: the join's total equals shapely's pair count
    total = db.sql("SELECT count(*) FROM clean t JOIN zones z "
                   "ON ST_Contains(z.geom, ST_Point(t.pickup_lon, t.pickup_lat))").fetchall()
    assert total[0][0] == len(pi)
    assert "Spatial join" in db.explain(demo_zones.ZONE_QUERY, analyze=True)


def test_spatial_steps_run_before_reopen():
    names = [s.name for s in demo_steps.STEPS]
    assert names[-1].startswith("reopen")
    assert [s.name for s in demo_zones.ZONE_STEPS] == names[-3:-1]
