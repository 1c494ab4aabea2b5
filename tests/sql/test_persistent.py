"""Persistent databases: ``xpdb.connect(path)``, the column cache, time travel, sharding.

DuckDB runs the same statements in its own database file as the oracle.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

import xpdb
from xpdb.errors import BindError, NotSupportedError, StorageError, XpdbError
from xpdb.storage.stored_table import StoredTable
from xpdb.testing import assert_tables_equal

STATEMENTS = [
    "CREATE TABLE t (id INTEGER, name VARCHAR, v DOUBLE, d DATE, amount DECIMAL(12, 2))",
    "INSERT INTO t VALUES (1, 'a', 1.5, DATE '2024-01-02', 10.25), (2, 'b', NULL, NULL, 3.5),"
    " (3, 'ñ', -2.0, DATE '2023-12-31', NULL)",
    "INSERT INTO t SELECT id + 10, name || 'x', v * 2, d, amount FROM t",
    "UPDATE t SET v = 9 WHERE id = 2",
    "DELETE FROM t WHERE id = 11",
    "CREATE TABLE u AS SELECT name, count(*) AS n, sum(amount) AS s FROM t GROUP BY name",
    "CREATE VIEW big AS SELECT id, v FROM t WHERE v > 1",
]
QUERIES = [
    "SELECT * FROM t ORDER BY id",
    "SELECT * FROM u ORDER BY name",
    "SELECT * FROM big ORDER BY id",
    "SELECT t.name, u.n, t.v FROM t JOIN u USING (name) ORDER BY t.id",
]


def _duck(tmp_path) -> duckdb.DuckDBPyConnection:
    duck = duckdb.connect(str(tmp_path / "duck.db"))
    for s in STATEMENTS:
        duck.execute(s)
    return duck


def _check(db, duck, sql: str) -> None:
    got = db.sql(sql).to_arrow()
    want = duck.sql(sql).to_arrow_table()
    assert_tables_equal(got, want)


def test_database_survives_reopen(tmp_path, device):
    path = tmp_path / "db"
    with xpdb.connect(path, device=device) as db:
        for s in STATEMENTS:
            db.sql(s)
        assert db.path == str(path)
    duck = _duck(tmp_path)
    db = xpdb.connect(path, device=device)  # a new connection reads everything back
    assert db.tables() == ["big", "t", "u"]
    for q in QUERIES:
        _check(db, duck, q)
    assert db.sql("DESCRIBE t").fetchall() == [
        ("id", "INTEGER"), ("name", "VARCHAR"), ("v", "DOUBLE"), ("d", "DATE"),
        ("amount", "DECIMAL(12,2)")]
    db.close()


def test_reopen_in_a_new_process_sees_the_same_data(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "db"
    with xpdb.connect(path, device="cpu") as db:
        for s in STATEMENTS:
            db.sql(s)
        want = db.sql("SELECT * FROM t ORDER BY id").fetchall()
    code = (f"import xpdb; db = xpdb.connect({str(path)!r}, device='cpu'); "
            "print(db.sql('SELECT * FROM t ORDER BY id').fetchall())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == repr(want)


def test_time_travel(tmp_path, device):
    db = xpdb.connect(tmp_path / "db", device=device)
    db.sql("CREATE TABLE t (id INTEGER, v VARCHAR)")
    db.sql("INSERT INTO t VALUES (1, 'x'), (2, 'y')")
    db.sql("DELETE FROM t WHERE id = 1")
    db.sql("INSERT INTO t VALUES (3, 'z')")
    hist = db.history("t")
    assert [h["version"] for h in hist] == [0, 1, 2, 3]
    assert [h["operation"] for h in hist] == ["create", "append", "overwrite", "append"]
    assert db.sql("SELECT count(*) FROM t VERSION AS OF 0").fetchall() == [(0,)]
    assert db.sql("SELECT id FROM t VERSION AS OF 1 ORDER BY id").fetchall() == [(1,), (2,)]
    assert db.sql("SELECT id FROM t AT (VERSION => 2)").fetchall() == [(2,)]
    assert db.sql("SELECT id FROM t ORDER BY id").fetchall() == [(2,), (3,)]
    # a join between two versions of one table
    got = db.sql("SELECT a.id FROM t VERSION AS OF 1 a JOIN t b ON a.id = b.id").fetchall()
    assert got == [(2,)]
    assert db.table("t", version=1).to_pandas()["v"].tolist() == ["x", "y"]
    with pytest.raises(StorageError, match="no version 9; versions run from 0 to 3"):
        db.sql("SELECT * FROM t VERSION AS OF 9")
    db.register("mem", pa.table({"a": [1]}))
    with pytest.raises(NotSupportedError, match="only stored tables have versions"):
        db.sql("SELECT * FROM mem VERSION AS OF 0")


def test_failed_statement_changes_nothing(tmp_path, device):
    path = tmp_path / "db"
    db = xpdb.connect(path, device=device)
    db.sql("CREATE TABLE t (id INTEGER, s VARCHAR)")
    db.sql("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    version = db.history("t")[-1]["version"]
    with pytest.raises(XpdbError):
        db.sql("INSERT INTO t SELECT id, CAST(s AS INTEGER) FROM t")  # 'a' is no integer
    with pytest.raises(BindError, match="did you mean 'id'"):
        db.sql("UPDATE t SET s = 'z' WHERE idd = 1")
    with pytest.raises(XpdbError):
        db.sql("CREATE TABLE u AS SELECT CAST(s AS INTEGER) AS x FROM t")
    assert db.history("t")[-1]["version"] == version
    assert db.tables() == ["t"]
    db.close()
    again = xpdb.connect(path, device=device)
    assert again.sql("SELECT * FROM t ORDER BY id").fetchall() == [(1, "a"), (2, "b")]
    assert again.tables() == ["t"]


def test_registered_tables_are_temporary(tmp_path, device):
    path = tmp_path / "db"
    with xpdb.connect(path, device=device) as db:
        db.register("df", pa.table({"a": [1, 2, 3]}))
        db.sql("CREATE TABLE kept AS SELECT a * 10 AS b FROM df")
        db.sql("INSERT INTO df VALUES (4)")  # changes the temporary table only
        assert db.sql("SELECT count(*) FROM df").fetchall() == [(4,)]
        with pytest.raises(XpdbError, match="a stored table has that name"):
            db.register("kept", pa.table({"a": [1]}))
    with xpdb.connect(path, device=device) as db:
        assert db.tables() == ["kept"]
        assert db.sql("SELECT b FROM kept ORDER BY b").fetchall() == [(10,), (20,), (30,)]


def test_column_cache_serves_the_next_query(tmp_path, device):
    path = tmp_path / "db"
    with xpdb.connect(path, device=device) as db:
        db.register("r", pa.table({"i": pa.array(range(1000), pa.int64())}))
        db.sql("CREATE TABLE t AS SELECT i AS a, i * 2 AS b, i % 7 AS c FROM r")
    db = xpdb.connect(path, device=device)
    stored = db._tables["t"]
    assert isinstance(stored, StoredTable)
    assert db.cache.contents() == []  # nothing read at open
    db.cache.reset_stats()
    assert db.sql("SELECT sum(a) FROM t").fetchall() == [(499500,)]
    first = db.cache.reset_stats()
    assert first.misses == 1 and first.bytes_loaded == 8000  # only column a was read
    assert [k[2] for k in db.cache.contents()] == ["a"]
    assert db.sql("SELECT sum(a) FROM t WHERE c = 3").fetchall() == \
        [(sum(i for i in range(1000) if i % 7 == 3),)]
    second = db.cache.reset_stats()
    assert second.hits >= 1 and second.bytes_loaded == 8000  # a hit; only c was read
    # after a commit the cache holds the new version, appended on the device
    db.sql("INSERT INTO t VALUES (1000, 2000, 6)")
    versions = {k[1] for k in db.cache.contents()}
    assert versions == {stored.version + 1}
    db.cache.reset_stats()
    assert db.sql("SELECT sum(a), count(*) FROM t").fetchall() == [(500500, 1001)]
    assert db.cache.reset_stats().misses == 0


def test_cache_evicts_least_recently_used(tmp_path, device):
    db = xpdb.connect(tmp_path / "db", device=device, memory_limit=20_000)
    db.register("r", pa.table({"i": pa.array(range(1000), pa.int64())}))
    db.sql("CREATE TABLE t AS SELECT i AS a, i AS b, i AS c FROM r")
    db.close()
    db = xpdb.connect(tmp_path / "db", device=device, memory_limit=20_000)
    for col in "abc":  # 8,000 bytes each: the third evicts the first
        db.sql(f"SELECT max({col}) FROM t").fetchall()
    assert [k[2] for k in db.cache.contents()] == ["b", "c"]
    assert db.cache.nbytes <= db.memory_limit
    assert db.cache.stats.evictions == 1
    db.memory_limit = "8000"
    assert [k[2] for k in db.cache.contents()] == ["c"]


def test_sharded_table(tmp_path, device):
    path = tmp_path / "db"
    duck = duckdb.connect()
    rows = pa.table({"k": pa.array([i % 13 for i in range(500)], pa.int64()),
                     "s": [f"s{i % 17}" for i in range(500)],
                     "x": [float(i) for i in range(500)]})
    duck.register("src", rows)
    with xpdb.connect(path, device=device) as db:
        db.register("src", rows)
        db.sql("CREATE TABLE a (k BIGINT, s VARCHAR, x DOUBLE) WITH (shard_key = 'k', shards = 4)")
        db.sql("INSERT INTO a SELECT * FROM src")
        db.sql("CREATE TABLE b WITH (shard_key = 'k', shards = 4) AS "
               "SELECT k, count(*) AS n FROM src GROUP BY k")
        info = db._store.table_info("a")
        assert info.shard_key == ("k",) and info.shards == 4
        assert len(db._store.read_shards("a")) == 4
    with xpdb.connect(path, device=device) as db:
        q = "SELECT a.k, b.n, sum(a.x) AS sx FROM a JOIN b USING (k) GROUP BY a.k, b.n ORDER BY 1"
        want = duck.sql(q.replace(" a JOIN b", " src a JOIN (SELECT k, count(*) AS n FROM src "
                                  "GROUP BY k) b")).to_arrow_table()
        assert_tables_equal(db.sql(q).to_arrow(), want)
    with pytest.raises(NotSupportedError, match="option .colour"):
        xpdb.connect(device=device).sql("CREATE TABLE z (a INT) WITH (colour = 'red')")
    with pytest.raises(BindError, match="shard_key column"):
        xpdb.connect(device=device).sql("CREATE TABLE z (a INT) WITH (shard_key = 'b')")


def test_read_only_reader_sees_commits(tmp_path, device):
    path = tmp_path / "db"
    writer = xpdb.connect(path, device=device)
    writer.sql("CREATE TABLE t (a INTEGER)")
    reader = xpdb.connect(path, device=device, read_only=True)
    assert reader.sql("SELECT count(*) FROM t").fetchall() == [(0,)]
    writer.sql("INSERT INTO t VALUES (1), (2)")
    assert reader.sql("SELECT count(*) FROM t").fetchall() == [(2,)]
    with pytest.raises(StorageError):
        reader.sql("INSERT INTO t VALUES (3)")
    with pytest.raises(StorageError, match="another process|open for writing|lock"):
        xpdb.connect(path, device=device)  # a second writer


def test_bad_memory_limit():
    with pytest.raises(XpdbError, match="memory limit 'lots'"):
        xpdb.connect(device="cpu", memory_limit="lots")


def test_in_memory_databases_do_not_need_deltalake():
    import subprocess
    import sys

    code = ("import sys; sys.modules['deltalake'] = None; import xpdb; "
            "print(xpdb.connect(device='cpu').sql('SELECT 41 + 1').fetchall())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[(42,)]"


def test_geometry_columns_are_stored(tmp_path, device):
    shapely = pytest.importorskip("shapely")  # WKT parsing and printing
    path = tmp_path / "db"
    wkts = ["POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 2, 1 1))",
            "POLYGON ((4 0, 8 0, 8 4, 4 4, 4 0))"]
    with xpdb.connect(path, device=device) as db:
        db.register("src", pa.table({"id": [1, 2], "wkt": wkts}))
        db.sql("CREATE TABLE zones AS SELECT id, ST_GeomFromText(wkt) AS geom FROM src")
        db.sql("CREATE TABLE pts (k INTEGER, x DOUBLE, y DOUBLE)")
        db.sql("INSERT INTO pts VALUES (1, 3, 3), (2, 1.5, 1.5), (3, 5, 1), (4, 9, 9)")
        db.sql("CREATE TABLE pg AS SELECT k, ST_Point(x, y) AS p FROM pts")
        db.sql("INSERT INTO zones SELECT 3, ST_GeomFromText('POLYGON ((8 0, 9 0, 9 1, 8 0))')")
    db = xpdb.connect(path, device=device)  # reopened: read back from storage
    assert db.sql("DESCRIBE zones").fetchall() == [("id", "BIGINT"), ("geom", "GEOMETRY")]
    got = db.sql("SELECT id, ST_AsText(geom) FROM zones ORDER BY id").fetchall()
    want = [*wkts, "POLYGON ((8 0, 9 0, 9 1, 8 0))"]
    assert [shapely.equals(shapely.from_wkt(g), shapely.from_wkt(w))
            for (_, g), w in zip(got, want, strict=True)] == [True] * 3
    pairs = db.sql("SELECT p.k, z.id FROM pg p JOIN zones z ON ST_Contains(z.geom, p.p) "
                   "ORDER BY 1").fetchall()
    polys = shapely.from_wkt(want)
    pts = {1: (3, 3), 2: (1.5, 1.5), 3: (5, 1), 4: (9, 9)}
    expected = sorted((k, i + 1) for k, xy in pts.items() for i, g in enumerate(polys)
                      if shapely.contains(g, shapely.Point(*xy)))
    assert pairs == expected  # (2, 1.5, 1.5) is in the hole
    with pytest.raises(XpdbError):  # a point is no polygon: the column keeps its type
        db.sql("INSERT INTO zones SELECT 9, ST_Point(0, 0)")
    assert db.sql("SELECT count(*) FROM zones").fetchall() == [(3,)]


def test_stored_view_of_a_temporary_table_is_refused(tmp_path, device):
    db = xpdb.connect(tmp_path / "db", device=device)
    db.register("df", pa.table({"a": [1, 2]}))
    with pytest.raises(BindError, match=r"reads temporary \(registered\) tables \['df'\]"):
        db.sql("CREATE VIEW v AS SELECT a FROM df")
    assert db.tables() == ["df"]
    db.sql("CREATE TABLE kept AS SELECT * FROM df")
    db.sql("CREATE VIEW v AS SELECT a FROM kept WHERE a > 1")
    assert db.sql("SELECT * FROM v").fetchall() == [(2,)]
    mem = xpdb.connect(device=device)  # in memory everything is temporary: views are fine
    mem.register("df", pa.table({"a": [1, 2]}))
    mem.sql("CREATE VIEW v AS SELECT a FROM df")
