"""Conversions and files: shapely, WKT, WKB, GeoArrow, GeoParquet, GeoPandas, OGR formats."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xpdb.errors import IOError as XpdbIOError
from xpdb.errors import ParseError
from xpdb.errors import TypeError as XpdbTypeError
from xpdb.spatial import (
    from_arrow,
    from_geopandas,
    from_shapely,
    from_wkb,
    from_wkt,
    read_file,
    read_geoparquet,
    to_arrow,
    to_geopandas,
    to_shapely,
    to_wkb,
    to_wkt,
    write_file,
    write_geoparquet,
)

from .conftest import (
    needs_shapely,
    random_multipolygons,
    random_polygons,
    shapely,
    star_polygon_array,
)

WKT = {
    "point": ["POINT (1 2)", "POINT EMPTY", None, "POINT (-3.5 4)"],
    "linestring": ["LINESTRING (0 0, 1 1, 2 0)", None, "LINESTRING EMPTY", "LINESTRING (5 5, 6 5)"],
    "polygon": ["POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 1 1))", "POLYGON EMPTY",
                None, "POLYGON ((10 10, 11 10, 11 11, 10 10))"],
    "multipoint": ["MULTIPOINT ((0 0), (1 1))", None, "MULTIPOINT EMPTY", "MULTIPOINT ((2 3))"],
    "multilinestring": ["MULTILINESTRING ((0 0, 1 1), (2 2, 3 3, 4 2))", "MULTILINESTRING EMPTY",
                        None, "MULTILINESTRING ((9 9, 8 8))"],
    "multipolygon": [
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 9 5, 9 9, 5 5), (6 5.5, 8 5.5, 8 7, 6 5.5)))",
        None, "MULTIPOLYGON EMPTY", "MULTIPOLYGON (((20 20, 21 20, 21 21, 20 20)))"],
}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    na, nb = shapely.is_missing(a), shapely.is_missing(b)
    if not np.array_equal(na, nb):
        return False
    a, b = a[~na], b[~nb]
    return bool(np.all(shapely.equals_exact(a, b, tolerance=0)
                       | (shapely.is_empty(a) & shapely.is_empty(b))))


@needs_shapely
@pytest.mark.parametrize("kind", list(WKT))
def test_shapely_wkt_wkb_round_trips(device, kind):
    geoms = shapely.from_wkt(np.array(WKT[kind], dtype=object))
    ga = from_shapely(geoms, device)
    assert ga.geom_type == kind and len(ga) == 4
    ga.validate()
    assert _same(ga.to_shapely(), geoms)
    assert _same(to_shapely(from_wkt(WKT[kind], device)), geoms)
    assert to_wkt(ga).tolist() == shapely.to_wkt(geoms).tolist()
    wkb = to_wkb(ga)
    assert _same(to_shapely(from_wkb(wkb, device)), geoms)


@needs_shapely
def test_polygon_and_multipolygon_mix_becomes_multi(device):
    geoms = shapely.from_wkt(["POLYGON ((0 0, 1 0, 1 1, 0 0))",
                              "MULTIPOLYGON (((5 5, 6 5, 6 6, 5 5)))"])
    ga = from_shapely(geoms, device)
    assert ga.geom_type == "multipolygon"
    assert [g.equals(w) for g, w in zip(ga.to_shapely(), geoms, strict=True)] == [True, True]


@needs_shapely
def test_bad_inputs_raise(device):
    with pytest.raises(XpdbTypeError, match="one geometry array"):
        from_shapely(shapely.from_wkt(["POINT (0 0)", "LINESTRING (0 0, 1 1)"]), device)
    with pytest.raises(ParseError, match="invalid WKT"):
        from_wkt(["POLYGON ((0 0, 1"], device)
    with pytest.raises(ParseError, match="invalid WKB"):
        from_wkb([b"\x01\x02"], device)
    nulls = from_shapely([None, None], device, geom_type="polygon")
    assert nulls.geom_type == "polygon" and nulls.to_shapely().tolist() == [None, None]


@needs_shapely
@pytest.mark.parametrize("kind", list(WKT))
def test_geoarrow_round_trip(device, kind):
    geoms = shapely.from_wkt(np.array(WKT[kind], dtype=object))
    ga = from_shapely(geoms, device)
    arr = to_arrow(ga, crs="EPSG:4326")
    assert arr.type.extension_name == f"geoarrow.{kind}"
    assert json.loads(arr.type.__arrow_ext_serialize__()) == {"crs": "EPSG:4326"}
    assert arr.null_count == 1
    assert _same(from_arrow(arr, device).to_shapely(), geoms)
    # a slice of the storage (offsets not starting at 0), with the type named
    sub = arr.storage.slice(1, 3)
    assert _same(from_arrow(sub, device, geom_type=kind).to_shapely(), geoms[1:])
    # chunked arrays, WKB and WKT arrays
    chunked = pa.chunked_array([arr.storage.slice(0, 2), arr.storage.slice(2)])
    assert _same(from_arrow(chunked, device, geom_type=kind).to_shapely(), geoms)
    assert _same(from_arrow(pa.array(list(shapely.to_wkb(geoms))), device).to_shapely(), geoms)
    assert _same(from_arrow(pa.array(list(shapely.to_wkt(geoms))), device).to_shapely(), geoms)


@needs_shapely
def test_geoarrow_interleaved_coordinates(device):
    coords = pa.FixedSizeListArray.from_arrays(pa.array([0.0, 0, 1, 1, 2, 0, 5, 5, 6, 5]), 2)
    ls = pa.ListArray.from_arrays(pa.array([0, 3, 5], type=pa.int32()), coords)
    ga = from_arrow(ls, device, geom_type="linestring")
    assert to_wkt(ga).tolist() == ["LINESTRING (0 0, 1 1, 2 0)", "LINESTRING (5 5, 6 5)"]


@needs_shapely
@pytest.mark.parametrize("encoding", ["WKB", "geoarrow"])
def test_geoparquet_round_trip_and_geopandas_reads_it(device, rng, tmp_path, encoding):
    gpd = pytest.importorskip("geopandas")
    polys = list(random_multipolygons(rng, 10))
    polys[2] = None
    polys = np.array(polys, dtype=object)
    ga = from_shapely(polys, device)
    path = str(tmp_path / "zones.parquet")
    write_geoparquet(path, ga, {"zone": np.arange(10)}, encoding=encoding, crs="EPSG:4326")
    back, attrs = read_geoparquet(path, device)
    assert _same(back.to_shapely(), polys)
    assert attrs.column("zone").to_pylist() == list(range(10))
    meta = json.loads(pq.read_schema(path).metadata[b"geo"])
    col = meta["columns"]["geometry"]
    assert col["encoding"] == ("WKB" if encoding == "WKB" else "multipolygon")
    np.testing.assert_allclose(col["bbox"], shapely.total_bounds(polys))
    gdf = gpd.read_parquet(path)
    assert _same(np.asarray(gdf.geometry.values, dtype=object), polys)
    assert gdf.crs.to_epsg() == 4326


@needs_shapely
def test_geoparquet_written_by_geopandas(device, rng, tmp_path):
    gpd = pytest.importorskip("geopandas")
    polys = random_polygons(rng, 12)
    gdf = gpd.GeoDataFrame({"v": np.arange(12.0)}, geometry=list(polys), crs="EPSG:3857")
    path = str(tmp_path / "g.parquet")
    gdf.to_parquet(path)
    ga, attrs = read_geoparquet(path, device)
    assert _same(ga.to_shapely(), polys)
    assert attrs.column("v").to_pylist() == list(np.arange(12.0))
    plain = str(tmp_path / "plain.parquet")
    pq.write_table(pa.table({"a": [1]}), plain)
    with pytest.raises(XpdbIOError, match="no 'geo' metadata"):
        read_geoparquet(plain)
    with pytest.raises(XpdbIOError, match="cannot read GeoParquet"):
        read_geoparquet(str(tmp_path / "missing.parquet"))


@needs_shapely
def test_geopandas_in_and_out(device, rng):
    gpd = pytest.importorskip("geopandas")
    polys = random_polygons(rng, 8)
    gdf = gpd.GeoDataFrame({"name": list("abcdefgh")}, geometry=list(polys), crs="EPSG:4326")
    ga = from_geopandas(gdf, device)
    assert _same(ga.to_shapely(), polys)
    assert _same(from_geopandas(gdf.geometry, device).to_shapely(), polys)
    out = to_geopandas(ga, {"name": list("abcdefgh")}, crs="EPSG:4326")
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == gdf.crs
    assert out["name"].tolist() == list("abcdefgh")
    assert bool(out.geometry.geom_equals_exact(gdf.geometry, tolerance=0).all())
    assert isinstance(to_geopandas(ga), gpd.GeoSeries)


@needs_shapely
@pytest.mark.parametrize("suffix", [".geojson", ".shp"])
def test_ogr_files_round_trip(device, rng, tmp_path, suffix):
    gpd = pytest.importorskip("geopandas")
    pytest.importorskip("pyogrio")
    polys = random_polygons(rng, 6, holes=True)
    ga = from_shapely(polys, device)
    path = str(tmp_path / f"zones{suffix}")
    write_file(path, ga, {"zone": np.arange(6)}, crs="EPSG:4326")
    back, attrs = read_file(path, device)
    want = gpd.read_file(path)
    assert _same(back.to_shapely(), np.asarray(want.geometry.values, dtype=object))
    # the shapes themselves survive (shapefiles may reorient rings)
    assert bool(np.all(shapely.equals(back.to_shapely(), polys)))
    assert attrs["zone"].tolist() == list(range(6))
    with pytest.raises(XpdbIOError, match="cannot read"):
        read_file(str(tmp_path / "missing.geojson"))


def test_import_without_shapely():
    """xpdb.spatial imports with shapely blocked; the kernels work; conversions say how to
    install it."""
    code = (
        "import sys; sys.modules['shapely'] = None\n"
        "import numpy as np\n"
        "import xpdb.spatial as sp\n"
        "g = sp.polygons([0, 4, 4, 0, 0], [0, 0, 4, 4, 0], [0, 5], [0, 1])\n"
        "print(sp.points_in_polygons(np.array([1.0]), np.array([1.0]), g)[1].tolist())\n"
        "try:\n    sp.to_wkt(g)\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "[0]"
    assert "xpdb[spatial]" in out[1]


def test_geoarrow_round_trip_without_shapely(device, rng):
    """Runs without shapely: GeoArrow out and back keeps every array exactly."""
    ga = star_polygon_array(rng, 20, device)
    ga = ga.take(np.array([3, 1, 4, 1, 5, 9, 2, 6]))
    back = from_arrow(to_arrow(ga), device)
    for a, b in [(ga.x, back.x), (ga.y, back.y), *zip(ga.offsets, back.offsets, strict=True)]:
        np.testing.assert_array_equal(ga.device.to_host(a), back.device.to_host(b))
    multi = ga.as_multi()
    back = from_arrow(to_arrow(multi), device)
    assert back.geom_type == "multipolygon"
    np.testing.assert_array_equal(back.device.to_host(back.geom_ring_offsets()),
                                  ga.device.to_host(ga.geom_ring_offsets()))
