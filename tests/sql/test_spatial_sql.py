"""Spatial SQL (xpdb.sql.spatial, xpdb.spatial.column): ST_* functions and the indexed
spatial join. The oracle is shapely on the same rows (DuckDB's spatial extension is not
available offline); DuckDB runs the surrounding non-spatial SQL."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import xpdb
from xpdb import errors
from xpdb.testing import assert_tables_equal

shapely = pytest.importorskip("shapely")


# -- data ------------------------------------------------------------------------------------
def _zones() -> list:
    """Polygons on an integer grid (boundaries hit by grid points), one with a hole, one
    multipolygon, one overlapping its neighbours, and a rotated one."""
    out = [shapely.box(x, y, x + 2, y + 2) for y in range(0, 8, 2) for x in range(0, 8, 2)]
    out[5] = shapely.box(2, 2, 4, 4).difference(shapely.box(2.5, 2.5, 3.5, 3.5))
    out[6] = shapely.MultiPolygon([shapely.box(4, 2, 6, 4), shapely.box(9, 9, 10, 10)])
    out.append(shapely.Polygon([(1, 4), (3, 2), (5, 4), (3, 6), (1, 4)]))  # overlaps
    return out


def _points(rng: np.random.Generator, n: int) -> pd.DataFrame:
    lon = rng.uniform(-0.5, 10.5, n)
    lat = rng.uniform(-0.5, 10.5, n)
    grid = rng.random(n) < 0.3  # on grid lines and vertices: boundaries
    lon[grid] = np.round(lon[grid] * 2) / 2
    lat[grid] = np.round(lat[grid] * 2) / 2
    df = pd.DataFrame({"id": np.arange(n), "lon": lon, "lat": lat,
                       "fare": np.round(rng.uniform(3, 60, n), 2)})
    df.loc[rng.random(n) < 0.05, "lon"] = None
    return df


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    zones = _zones()
    zdf = pd.DataFrame({"zone": [f"z{i}" for i in range(len(zones))],
                        "wkt": [g.wkt for g in zones]})
    return _points(rng, 1500), zdf, zones


@pytest.fixture
def db(device, data):
    pts, zdf, _ = data
    con = xpdb.connect(device=device)
    con.register("pts", pts)
    con.register("zw", zdf)
    con.sql("CREATE TABLE zones AS SELECT zone, ST_GeomFromText(wkt) AS geom FROM zw")
    return con


def _shapely_points(pts: pd.DataFrame) -> np.ndarray:
    out = shapely.points(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
    out[pts["lon"].isna().to_numpy()] = None
    return out


def _contains_pairs(zones: list, pts: pd.DataFrame, predicate: str = "contains"
                    ) -> pd.DataFrame:
    """Brute force over all (zone, point) pairs with shapely."""
    p = _shapely_points(pts)
    rows = []
    for zi, z in enumerate(zones):
        ok = np.array([q is not None and bool(getattr(shapely, predicate)(z, q)) for q in p])
        rows += [(zi, i) for i in np.nonzero(ok)[0]]
    return pd.DataFrame(rows, columns=["zi", "pi"])


# -- the geometry column ---------------------------------------------------------------------
def test_point_and_coordinates(db, data):
    pts = data[0]
    got = db.sql("SELECT id, ST_X(ST_Point(lon, lat)) AS x, ST_Y(ST_Point(lon, lat)) AS y "
                 "FROM pts ORDER BY id").to_pandas()
    assert got["x"].isna().sum() == pts["lon"].isna().sum()
    np.testing.assert_array_equal(got["x"].to_numpy(), pts["lon"].to_numpy())
    np.testing.assert_array_equal(got["y"].to_numpy()[pts["lon"].notna()],
                                  pts["lat"].to_numpy()[pts["lon"].notna()])


def test_geometry_column_round_trips_through_arrow(db, data):
    _, _, zones = data
    out = db.sql("SELECT zone, geom FROM zones ORDER BY zone DESC").to_arrow()
    assert out.schema.field("geom").type.extension_name in ("geoarrow.polygon",
                                                            "geoarrow.multipolygon")
    back = xpdb.spatial.from_arrow(out.column("geom")).to_shapely()
    want = {f"z{i}": g for i, g in enumerate(zones)}
    for name, g in zip(out.column("zone").to_pylist(), back, strict=True):
        assert shapely.equals(g, want[name]), name


def test_astext_and_wkb(db, data):
    zones = data[2]
    got = db.sql("SELECT zone, ST_AsText(geom) AS w FROM zones").to_pandas()
    for name, w in zip(got["zone"], got["w"], strict=True):
        assert shapely.equals(shapely.from_wkt(w), zones[int(name[1:])])
    hexes = pd.DataFrame({"h": [shapely.to_wkb(g, hex=True) for g in zones[:3]] + [None]})
    db.register("hexes", hexes)
    got = db.sql("SELECT ST_AsText(ST_GeomFromWKB(h)) AS w FROM hexes").to_pandas()["w"]
    assert got.isna().tolist() == [False, False, False, True]
    for w, g in zip(got[:3], zones[:3], strict=True):
        assert shapely.equals(shapely.from_wkt(w), g)


def test_register_geopandas_and_arrow(device, data):
    geopandas = pytest.importorskip("geopandas")
    _, zdf, zones = data
    gdf = geopandas.GeoDataFrame({"zone": zdf["zone"], "n": np.arange(len(zones))},
                                 geometry=list(zones))
    con = xpdb.connect(device=device)
    con.register("g", gdf)
    area = con.sql("SELECT n, ST_Area(geometry) AS a FROM g ORDER BY n").to_pandas()
    np.testing.assert_allclose(area["a"], shapely.area(np.array(zones, object)), rtol=1e-12)
    # a pyarrow table with a GeoArrow column; stacking two geometry columns (UNION ALL)
    tb = pa.table({"k": [1, 2], "geom": xpdb.spatial.to_arrow(
        xpdb.spatial.from_shapely([shapely.Point(1, 2), shapely.Point(3, 4)]))})
    con.register("p", tb)
    got = con.sql("SELECT k, ST_X(geom) AS x FROM (SELECT * FROM p UNION ALL "
                  "SELECT k + 10, ST_Point(ST_Y(geom), ST_X(geom)) FROM p) ORDER BY k")
    assert got.to_pandas().values.tolist() == [[1, 1.0], [2, 3.0], [11, 2.0], [12, 4.0]]


# -- scalar functions against shapely --------------------------------------------------------
def test_predicates_row_by_row(db, data):
    pts, _, zones = data
    q = ("SELECT p.id, z.zone, ST_Contains(z.geom, ST_Point(p.lon, p.lat)) AS c, "
         "ST_Within(ST_Point(p.lon, p.lat), z.geom) AS w, "
         "ST_Intersects(ST_Point(p.lon, p.lat), z.geom) AS i "
         "FROM pts p JOIN zones z ON z.zone = 'z' || CAST(p.id % 18 AS VARCHAR) ORDER BY p.id")
    got = db.sql(q).to_pandas()
    geoms = [zones[int(z[1:])] for z in got["zone"]]
    p = _shapely_points(pts.set_index("id").loc[got["id"]].reset_index())
    null = np.array([q is None for q in p])
    for col, fn in (("c", shapely.contains),
                    ("w", lambda g, q: shapely.within(q, g)),
                    ("i", lambda g, q: shapely.intersects(q, g))):
        want = [None if q is None else bool(fn(g, q)) for g, q in zip(geoms, p, strict=True)]
        assert got[col].tolist() == want, col
    assert got["c"].isna().to_numpy().tolist() == null.tolist()
    # the grid points include boundary points: contains and intersects differ there
    assert (got["c"] != got["i"]).sum() > 10


def test_polygon_predicates(db, data):
    zones = data[2]
    got = db.sql("SELECT a.zone AS a, b.zone AS b, ST_Intersects(a.geom, b.geom) AS i "
                 "FROM zones a CROSS JOIN zones b").to_pandas()
    want = [bool(shapely.intersects(zones[int(a[1:])], zones[int(b[1:])]))
            for a, b in zip(got["a"], got["b"], strict=True)]
    assert got["i"].tolist() == want
    with pytest.raises(errors.NotSupportedError, match="ST_Contains"):
        db.sql("SELECT ST_Contains(ST_GeomFromText('LINESTRING (0 0, 1 1)'), geom) "
               "FROM zones").fetchall()


def test_distance_and_dwithin(db, data):
    pts, _, zones = data
    got = db.sql(
        "SELECT p.id, z.zone, ST_Distance(ST_Point(p.lon, p.lat), z.geom) AS d, "
        "ST_Distance(z.geom, ST_Point(p.lon, p.lat)) AS d2, "
        "ST_Distance(ST_Point(p.lon, p.lat), ST_Point(p.lat, p.lon)) AS pp, "
        "ST_DWithin(ST_Point(p.lon, p.lat), z.geom, 0.5) AS near "
        "FROM pts p JOIN zones z ON z.zone = 'z' || CAST(p.id % 18 AS VARCHAR) "
        "ORDER BY p.id").to_pandas()
    sub = pts.set_index("id").loc[got["id"]].reset_index()
    p = _shapely_points(sub)
    geoms = np.array([zones[int(z[1:])] for z in got["zone"]], dtype=object)
    want = np.array([np.nan if q is None else shapely.distance(q, g)
                     for q, g in zip(p, geoms, strict=True)])
    np.testing.assert_allclose(got["d"].to_numpy(float), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got["d"].to_numpy(float), got["d2"].to_numpy(float))
    flip = shapely.points(sub["lat"].to_numpy(float), sub["lon"].to_numpy(float))
    want_pp = np.where(sub["lon"].isna(), np.nan, shapely.distance(p, flip).astype(float))
    np.testing.assert_allclose(got["pp"].to_numpy(float), want_pp, rtol=1e-12)
    assert got["near"].tolist() == [None if np.isnan(d) else bool(d <= 0.5) for d in want]


def test_measures(db, data):
    zones = np.array(data[2], dtype=object)
    got = db.sql("SELECT zone, ST_Area(geom) AS a, ST_Length(geom) AS l, "
                 "ST_X(ST_Centroid(geom)) AS cx, ST_Y(ST_Centroid(geom)) AS cy, "
                 "ST_AsText(ST_Envelope(geom)) AS env FROM zones ORDER BY zone").to_pandas()
    z = zones[[int(s[1:]) for s in got["zone"]]]
    np.testing.assert_allclose(got["a"], shapely.area(z), rtol=1e-12)
    assert (got["l"] == 0).all()  # PostGIS / DuckDB: a polygon has no length
    c = shapely.centroid(z)
    np.testing.assert_allclose(got["cx"], shapely.get_x(c), rtol=1e-12)
    np.testing.assert_allclose(got["cy"], shapely.get_y(c), rtol=1e-12)
    env = shapely.from_wkt(got["env"].to_numpy(object))
    assert shapely.equals(env, shapely.envelope(z)).all()
    wkt = ["LINESTRING (0 0, 3 4, 3 10)", "LINESTRING (1 1, 2 1)", None]
    lines = pd.DataFrame({"w": wkt})
    xdb = xpdb.connect(device=db.device)
    xdb.register("lines", lines)
    got = xdb.sql("SELECT ST_Length(w) AS l, ST_X(ST_Centroid(ST_GeomFromText(w))) AS cx "
                  "FROM lines").to_pandas()
    g = shapely.from_wkt(np.array(wkt, dtype=object))
    want = shapely.length(g).astype(float)
    np.testing.assert_allclose(got["l"].to_numpy(float), want, rtol=1e-12)
    want_cx = np.array([np.nan if q is None else shapely.get_x(shapely.centroid(q)) for q in g])
    np.testing.assert_allclose(got["cx"].to_numpy(float), want_cx, rtol=1e-12)


def test_haversine(db, data):
    pts = data[0]
    got = db.sql("SELECT id, haversine(lon, lat, 2.35, 48.85) AS d FROM pts ORDER BY id"
                 ).to_pandas()["d"].to_numpy(float)
    lo1, la1 = np.radians(pts["lon"].to_numpy(float)), np.radians(pts["lat"].to_numpy(float))
    lo2, la2 = np.radians(2.35), np.radians(48.85)
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    want = 2 * 6371.0088 * np.arcsin(np.sqrt(h))
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert np.isnan(got[pts["lon"].isna().to_numpy()]).all()


def test_errors(db):
    with pytest.raises(errors.TypeError, match="ST_X"):
        db.sql("SELECT ST_X(geom) FROM zones").fetchall()
    with pytest.raises(errors.TypeError, match="geometry"):
        db.sql("SELECT ST_Area(fare) FROM pts").fetchall()
    with pytest.raises(errors.ParseError, match="WKT"):
        db.sql("SELECT ST_GeomFromText('POLYGON((0 0, 1') FROM pts").fetchall()
    with pytest.raises(errors.TypeError, match="mixes types"):
        db.sql("SELECT ST_GeomFromText(w) FROM (VALUES ('POINT (1 2)'), "
               "('LINESTRING (0 0, 1 1)')) AS v(w)").fetchall()


# -- the spatial join ------------------------------------------------------------------------
ZONE_JOIN = ("SELECT z.zone, count(*) AS n, avg(t.fare) AS fare FROM pts t JOIN zones z "
             "ON ST_Contains(z.geom, ST_Point(t.lon, t.lat)) GROUP BY z.zone")


def _per_zone(pts: pd.DataFrame, pairs: pd.DataFrame) -> pa.Table:
    """The aggregation around the join, run by DuckDB on shapely's pairs."""
    duck = duckdb.connect()
    zone = pa.array([f"z{i}" for i in pairs["zi"]], pa.string())
    duck.register("pairs", pa.table({"pi": pairs["pi"].to_numpy(np.int64), "zone": zone}))
    duck.register("pts", pa.Table.from_pandas(pts, preserve_index=False))
    return duck.sql("SELECT zone, count(*) AS n, avg(fare) AS fare FROM pairs JOIN pts "
                    "ON pairs.pi = pts.id GROUP BY zone ORDER BY zone").fetch_arrow_table()


def test_zone_join_matches_shapely(db, data):
    pts, _, zones = data
    got = db.sql(ZONE_JOIN + " ORDER BY z.zone").to_arrow()
    want = _per_zone(pts, _contains_pairs(zones, pts))
    assert_tables_equal(got, want, rtol=1e-12)
    # the same join written with WHERE, and with ST_Within and the sides swapped
    for q in ("SELECT z.zone, count(*) AS n, avg(t.fare) AS fare FROM pts t, zones z "
              "WHERE ST_Contains(z.geom, ST_Point(t.lon, t.lat)) GROUP BY z.zone",
              "SELECT z.zone, count(*) AS n, avg(t.fare) AS fare FROM zones z JOIN pts t "
              "ON ST_Within(ST_Point(t.lon, t.lat), z.geom) GROUP BY z.zone"):
        assert_tables_equal(db.sql(q + " ORDER BY z.zone").to_arrow(), want, rtol=1e-12)


def test_join_is_indexed_not_a_cross_product(db, data, monkeypatch):
    from xpdb.kernels import join as kj
    from xpdb.sql import spatial

    calls = []
    real = spatial.points_in_polygons

    def spy(x, y, polys, **kw):
        out = real(x, y, polys, **kw)
        calls.append((int(x.shape[0]), len(polys), int(out[0].shape[0])))
        return out

    def no_cross(left, right, left_on, right_on, how, *a, **kw):
        assert how != "cross", "the spatial join ran as a cross product"
        return real_join(left, right, left_on, right_on, how, *a, **kw)

    real_join = kj.join_indices
    monkeypatch.setattr(spatial, "points_in_polygons", spy)
    monkeypatch.setattr(kj, "join_indices", no_cross)
    text = db.explain(ZONE_JOIN, analyze=True)
    assert "Spatial join on ST_CONTAINS" in text and "points_in_polygons" in text
    n, m, k = calls[-1]
    assert (n, m) == (len(data[0]), len(data[2]))
    assert k < n * m / 5  # pairs found, far fewer than the cross product's


def test_zones_table_keeps_its_index_between_queries(db, data, monkeypatch):
    """Joining the same stored zones again reuses their grid (built once); a WHERE on the
    zones (other rows) builds one for those rows; every answer matches shapely's."""
    from xpdb.spatial import contains

    pts, _, zones = data
    builds = []
    real = contains.pip_index
    monkeypatch.setattr(contains, "pip_index",
                        lambda *a, **kw: (builds.append(1), real(*a, **kw))[1])
    want = _per_zone(pts, _contains_pairs(zones, pts))
    for _ in range(3):
        assert_tables_equal(db.sql(ZONE_JOIN + " ORDER BY z.zone").to_arrow(), want,
                            rtol=1e-12)
    assert len(builds) == 1
    some = [i for i in range(len(zones)) if i % 2 == 0]
    q = ("SELECT z.zone, count(*) AS n, avg(t.fare) AS fare FROM pts t JOIN "
         "(SELECT * FROM zones WHERE zone IN ({})) z ON ST_Contains(z.geom, "
         "ST_Point(t.lon, t.lat)) GROUP BY z.zone ORDER BY z.zone").format(
             ", ".join(f"'z{i}'" for i in some))
    pairs = _contains_pairs(zones, pts)
    assert_tables_equal(db.sql(q).to_arrow(),
                        _per_zone(pts, pairs[pairs["zi"].isin(some)]), rtol=1e-12)
    assert len(builds) == 2
    assert_tables_equal(db.sql(ZONE_JOIN + " ORDER BY z.zone").to_arrow(), want, rtol=1e-12)


def test_join_intersects_residual_and_outer(db, data):
    pts, _, zones = data
    pairs = _contains_pairs(zones, pts, "intersects")
    got = db.sql("SELECT t.id, z.zone FROM pts t JOIN zones z "
                 "ON ST_Intersects(ST_Point(t.lon, t.lat), z.geom) AND t.id % 3 = 0 "
                 "ORDER BY t.id, z.zone").to_pandas()
    want = pairs[pairs["pi"] % 3 == 0]
    want = pd.DataFrame({"id": want["pi"].to_numpy(),
                         "zone": [f"z{i}" for i in want["zi"]]}).sort_values(["id", "zone"])
    assert got.values.tolist() == want.values.tolist()
    # LEFT JOIN: points in no zone (and null points) come back once with a NULL zone
    got = db.sql("SELECT count(*) AS n, count(z.zone) AS matched FROM pts t LEFT JOIN zones z "
                 "ON ST_Contains(z.geom, ST_Point(t.lon, t.lat))").fetchall()[0]
    inside = _contains_pairs(zones, pts)
    assert got == (len(inside) + len(pts) - inside["pi"].nunique(), len(inside))


def test_join_polygons_and_dwithin(db, data):
    pts, _, zones = data
    got = db.sql("SELECT a.zone AS a, b.zone AS b FROM zones a JOIN zones b "
                 "ON ST_Intersects(a.geom, b.geom) ORDER BY a.zone, b.zone").to_pandas()
    want = sorted((f"z{i}", f"z{j}") for i in range(len(zones)) for j in range(len(zones))
                  if shapely.intersects(zones[i], zones[j]))
    assert [tuple(r) for r in got.values.tolist()] == want
    got = db.sql("SELECT t.id, z.zone FROM pts t JOIN zones z "
                 "ON ST_DWithin(z.geom, ST_Point(t.lon, t.lat), 0.25) "
                 "ORDER BY t.id, z.zone").to_pandas()
    p = _shapely_points(pts)
    want = sorted((int(i), f"z{j}") for j, z in enumerate(zones) for i, q in enumerate(p)
                  if q is not None and shapely.dwithin(z, q, 0.25))
    assert [tuple(r) for r in got.values.tolist()] == want
    assert "Spatial join on ST_DWITHIN" in db.explain(
        "SELECT count(*) FROM pts t JOIN zones z ON ST_DWithin(z.geom, ST_Point(t.lon, t.lat),"
        " 0.25)", analyze=True)


def test_nulls_and_empties(device):
    con = xpdb.connect(device=device)
    wkt = ["POLYGON EMPTY", "POLYGON ((0 0, 2 0, 2 2, 0 0))", None,
           "MULTIPOLYGON (((0 0, 2 0, 2 2, 0 0)), ((5 5, 6 5, 6 6, 5 5)))"]
    con.register("w", pa.table({"k": [0, 1, 2, 3], "w": pa.array(wkt, pa.string())}))
    con.register("nul", pa.table({"w": pa.array([None, None], pa.string())}))
    got = con.sql("SELECT k, ST_Area(w) AS a, ST_AsText(ST_Envelope(w)) AS e, "
                  "ST_Contains(w, ST_Point(1.5, 0.5)) AS c FROM w ORDER BY k").to_pandas()
    g = shapely.from_wkt(np.array(wkt, dtype=object))
    want_a = [None if x is None else float(shapely.area(x)) for x in g]
    assert [None if pd.isna(a) else a for a in got["a"]] == want_a
    # shapely's envelope of an empty polygon is empty: NULL here (no box to show)
    want_e = [None, *[None if x is None else shapely.envelope(x) for x in g[1:]]]
    for e, w in zip(got["e"], want_e, strict=True):
        assert (pd.isna(e) and w is None) or shapely.equals(shapely.from_wkt(e), w)
    pt = shapely.Point(1.5, 0.5)
    assert got["c"].tolist() == [None if x is None else bool(shapely.contains(x, pt))
                                 for x in g]
    assert con.sql("SELECT count(*), count(ST_GeomFromText(w)) FROM nul").fetchall() == [(2, 0)]
    assert con.sql("SELECT count(*) FROM w JOIN nul ON ST_Contains(w.w, nul.w)").fetchall() \
        == [(0,)]


@pytest.mark.parametrize("sql", [
    "SELECT g FROM z ORDER BY g",
    "SELECT g, count(*) FROM z GROUP BY g",
    "SELECT DISTINCT g FROM z",
    "SELECT g FROM z UNION SELECT g FROM z",
])
def test_geometry_is_no_key(device, sql):
    db = xpdb.connect(device=device)
    db.sql("CREATE TABLE z AS SELECT 1 AS a, ST_Point(1.0, 2.0) AS g "
           "UNION ALL SELECT 2, ST_Point(0.0, 0.0)")
    with pytest.raises(xpdb.errors.TypeError, match="geometry column: geometries have no order"):
        db.sql(sql)
    assert db.sql("SELECT a FROM z ORDER BY a").fetchall() == [(1,), (2,)]
