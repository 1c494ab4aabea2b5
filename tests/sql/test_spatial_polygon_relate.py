"""SQL ST_Contains / ST_Within between polygons (xpdb.sql.spatial over
xpdb.spatial.polygon_relate): row-wise in SELECT and as an indexed JOIN condition, against
shapely on the same rows (DuckDB's spatial extension is not available offline; DuckDB runs
the surrounding non-spatial SQL)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import xpdb

shapely = pytest.importorskip("shapely")


def _zones() -> list:
    """Big zones on an integer grid: boxes, one with a hole, a multipolygon, a diamond."""
    holed = shapely.Polygon([(0, 0), (8, 0), (8, 8), (0, 8)], [[(3, 3), (5, 3), (5, 5), (3, 5)]])
    return [
        shapely.box(0, 0, 4, 4), shapely.box(4, 0, 8, 4), holed,
        shapely.MultiPolygon([shapely.box(0, 4, 4, 8), shapely.box(6, 6, 8, 8)]),
        shapely.Polygon([(4, 0), (8, 4), (4, 8), (0, 4)]),
    ]


def _parcels(rng: np.random.Generator, n: int) -> list:
    """Small polygons on the half-integer grid: many share edges and corners with the zones,
    some equal a zone or its hole; a few are empty or null."""
    out = []
    for _ in range(n):
        x, y = rng.integers(0, 16, 2) / 2
        w, h = rng.integers(1, 6, 2) / 2
        r = rng.random()
        if r < 0.6:
            out.append(shapely.box(x, y, x + w, y + h))
        elif r < 0.8:
            out.append(shapely.Polygon([(x, y), (x + w, y), (x, y + w)]))
        else:
            out.append(shapely.Polygon([(x, y), (x + w, y + w), (x, y + 2 * w), (x - w, y + w)]))
    zones = _zones()
    out += [zones[0], zones[2], shapely.box(3, 3, 5, 5), shapely.box(2, 2, 6, 6),
            shapely.from_wkt("POLYGON EMPTY"), None]
    return out


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    zones, parcels = _zones(), _parcels(rng, 300)
    zdf = pd.DataFrame({"zone": [f"z{i}" for i in range(len(zones))],
                        "wkt": [g.wkt for g in zones]})
    pdf = pd.DataFrame({"id": np.arange(len(parcels)),
                        "wkt": [None if g is None else g.wkt for g in parcels],
                        "area": [0.0 if g is None else float(g.area) for g in parcels]})
    return zones, parcels, zdf, pdf


@pytest.fixture
def db(device, data):
    _, _, zdf, pdf = data
    con = xpdb.connect(device=device)
    con.register("zw", zdf)
    con.register("pw", pdf)
    con.sql("CREATE TABLE zones AS SELECT zone, ST_GeomFromText(wkt) AS geom FROM zw")
    con.sql("CREATE TABLE parcels AS SELECT id, area, ST_GeomFromText(wkt) AS geom FROM pw")
    return con


def _pairs(zones: list, parcels: list, predicate: str = "contains") -> list[tuple[str, int]]:
    """(zone, parcel id) where ``predicate(zone, parcel)``, by brute force with shapely."""
    fn = getattr(shapely, predicate)
    return sorted((f"z{i}", j) for i, z in enumerate(zones) for j, p in enumerate(parcels)
                  if p is not None and bool(fn(z, p)))


def test_row_wise_contains_and_within(db, data):
    zones, parcels, _, _ = data
    got = db.sql("SELECT z.zone, p.id, ST_Contains(z.geom, p.geom) AS c, "
                 "ST_Within(p.geom, z.geom) AS w, ST_Contains(p.geom, z.geom) AS rc, "
                 "ST_Within(z.geom, p.geom) AS rw "
                 "FROM zones z CROSS JOIN parcels p ORDER BY z.zone, p.id").to_pandas()
    z = [zones[int(s[1:])] for s in got["zone"]]
    p = [parcels[i] for i in got["id"]]
    for col, fn in (("c", shapely.contains),
                    ("w", lambda a, b: shapely.within(b, a)),
                    ("rc", lambda a, b: shapely.contains(b, a)),
                    ("rw", shapely.within)):
        want = [None if b is None else bool(fn(a, b)) for a, b in zip(z, p, strict=True)]
        assert got[col].tolist() == want, col
    assert got["c"].sum() > 100 and got["rc"].sum() >= 2  # a parcel equal to a zone


def test_polygons_of_one_table(db, data):
    """Both arguments from one table: a polygon contains itself, empty/null rows do not."""
    parcels = data[1]
    got = db.sql("SELECT id, ST_Contains(geom, geom) AS c FROM parcels ORDER BY id").to_pandas()
    want = [None if g is None else bool(shapely.contains(g, g)) for g in parcels]
    assert got["c"].tolist() == want
    assert want.count(False) == 1 and want.count(None) == 1


def test_join_on_contains_and_within(db, data):
    zones, parcels, _, _ = data
    want = _pairs(zones, parcels)
    q1 = ("SELECT z.zone, p.id FROM zones z JOIN parcels p ON ST_Contains(z.geom, p.geom) "
          "ORDER BY z.zone, p.id")
    q2 = ("SELECT z.zone, p.id FROM parcels p JOIN zones z ON ST_Within(p.geom, z.geom) "
          "ORDER BY z.zone, p.id")
    q3 = ("SELECT z.zone, p.id FROM zones z, parcels p WHERE ST_Within(p.geom, z.geom) "
          "ORDER BY z.zone, p.id")
    for q in (q1, q2, q3):
        assert [tuple(r) for r in db.sql(q).fetchall()] == want, q
    assert len(want) > 100
    # parcels containing zones (the other direction through the index)
    got = db.sql("SELECT z.zone, p.id FROM zones z JOIN parcels p "
                 "ON ST_Contains(p.geom, z.geom) ORDER BY z.zone, p.id").fetchall()
    assert [tuple(r) for r in got] == _pairs(zones, parcels, "within")


def test_join_aggregate_and_left_join(db, data):
    zones, parcels, _, pdf = data
    pairs = _pairs(zones, parcels)
    duck = duckdb.connect()
    duck.register("pairs", pa.table({"zone": [z for z, _ in pairs],
                                     "id": np.array([j for _, j in pairs], np.int64)}))
    duck.register("pw", pdf)
    want = duck.sql("SELECT zone, count(*) AS n, sum(area) AS a FROM pairs JOIN pw USING (id) "
                    "GROUP BY zone ORDER BY zone").fetchall()
    got = db.sql("SELECT z.zone, count(*) AS n, sum(p.area) AS a FROM zones z JOIN parcels p "
                 "ON ST_Contains(z.geom, p.geom) GROUP BY z.zone ORDER BY z.zone").fetchall()
    assert [(z, n) for z, n, _ in got] == [(z, n) for z, n, _ in want]
    np.testing.assert_allclose([a for *_, a in got], [a for *_, a in want], rtol=1e-12)
    # LEFT JOIN: parcels in no zone (and the empty and null ones) come back once
    n, matched = db.sql("SELECT count(*), count(z.zone) FROM parcels p LEFT JOIN zones z "
                        "ON ST_Within(p.geom, z.geom)").fetchall()[0]
    inside = {j for _, j in pairs}
    assert (n, matched) == (len(pairs) + len(parcels) - len(inside), len(pairs))


def test_join_is_indexed_not_a_cross_product(db, data, monkeypatch):
    from xpdb.kernels import join as kj
    from xpdb.spatial import polygon_relate

    calls = []
    real = polygon_relate.polygons_contain

    def spy(left, right, *a, **kw):
        out = real(left, right, *a, **kw)
        calls.append((len(left), len(right), int(out[0].shape[0])))
        return out

    def no_cross(left, right, left_on, right_on, how, *a, **kw):
        assert how != "cross", "the spatial join ran as a cross product"
        return real_join(left, right, left_on, right_on, how, *a, **kw)

    real_join = kj.join_indices
    monkeypatch.setattr(polygon_relate, "polygons_contain", spy)
    monkeypatch.setattr(kj, "join_indices", no_cross)
    for q, name in (("SELECT count(*) FROM zones z JOIN parcels p ON ST_Contains(z.geom, "
                     "p.geom)", "ST_CONTAINS"),
                    ("SELECT count(*) FROM parcels p JOIN zones z ON ST_Within(p.geom, "
                     "z.geom)", "ST_WITHIN")):
        text = db.explain(q, analyze=True)
        assert f"Spatial join on {name}" in text and "polygons_contain" in text
        assert calls[-1][:2] == (len(data[0]), len(data[1]))
    assert calls[-1][2] == len(_pairs(data[0], data[1]))
