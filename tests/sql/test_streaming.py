"""Queries over stored tables larger than the memory budget stream through the device.

The same queries run with a budget that holds the table (normal execution) and with one far
below it (streaming); both must equal DuckDB's answers on the same data.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

import xpdb
from xpdb.testing import assert_tables_equal

ROWS = 60_000


@pytest.fixture(scope="module")
def data() -> pa.Table:
    rng = np.random.default_rng(3)
    k = rng.integers(0, 50, ROWS)
    v = rng.normal(10, 5, ROWS)
    v_mask = rng.random(ROWS) < 0.05
    return pa.table({
        "k": pa.array(k, pa.int64()),
        "s": pa.array([f"g{i % 7}" for i in k]),
        "v": pa.array(v, mask=v_mask),
        "q": pa.array(rng.integers(-1000, 1000, ROWS), pa.int32()),
    })


QUERIES = [
    "SELECT k, count(*) AS n, sum(v) AS sv, avg(q) AS aq, min(s) AS ms, max(v) AS mv "
    "FROM t GROUP BY k ORDER BY k",
    "SELECT s, count(DISTINCT k) AS dk, stddev_samp(v) AS sd, count(v) AS cv "
    "FROM t WHERE q > 0 GROUP BY s ORDER BY s",
    "SELECT count(*) AS n, sum(q) AS sq FROM t WHERE v > 12 AND s <> 'g3'",
    "SELECT k, q, v FROM t WHERE q BETWEEN 10 AND 12 ORDER BY k, q, v",
    "SELECT k * 2 AS k2, sum(q) FILTER (WHERE v > 10) AS sq FROM t GROUP BY k * 2 ORDER BY 1",
    "SELECT median(v) AS m FROM t",  # holistic: read whole, not streamed
]


@pytest.mark.parametrize("query", QUERIES)
def test_streamed_equals_duckdb(tmp_path_factory, device, data, query):
    path = tmp_path_factory.mktemp("db") / "db"
    with xpdb.connect(path, device=device) as db:
        db.register("src", data)
        db.sql("CREATE TABLE t AS SELECT * FROM src")
    duck = duckdb.connect()
    duck.register("t", data)
    want = duck.sql(query).to_arrow_table()
    ordered = "ORDER BY" in query
    # a budget far below the table's 60,000 x (8 + 4 + 8 + 4) bytes: streamed
    small = xpdb.connect(path, device=device, memory_limit=200_000)
    got = small.sql(query).to_arrow()
    assert_tables_equal(got, want, check_row_order=ordered, rtol=1e-9)
    assert small.cache.nbytes == 0  # nothing of the big table was cached
    big = xpdb.connect(path, device=device, read_only=True)  # fits: read once, cached
    assert_tables_equal(big.sql(query).to_arrow(), want, check_row_order=ordered, rtol=1e-9)
    assert big.cache.nbytes > 0


def test_explain_analyze_shows_streaming_and_cache(tmp_path, device, data):
    path = tmp_path / "db"
    with xpdb.connect(path, device=device) as db:
        db.register("src", data)
        db.sql("CREATE TABLE t AS SELECT * FROM src")
    small = xpdb.connect(path, device=device, memory_limit=100_000)
    text = small.explain("SELECT k, sum(v) FROM t GROUP BY k", analyze=True)
    assert "Streaming: streamed t (60,000 rows, columns k, v) through the device in" in text
    assert "exceed the memory limit of 100,000" in text
    small.close()
    roomy = xpdb.connect(path, device=device)
    first = roomy.explain("SELECT k, sum(v) FROM t GROUP BY k", analyze=True)
    assert "Column cache: 0 hits, 2 misses" in first
    second = roomy.explain("SELECT k, sum(v) FROM t GROUP BY k", analyze=True)
    assert "Column cache: 2 hits, 0 misses, 0B read into it" in second
    assert "Streaming" not in second


def test_out_of_memory_is_a_clear_error_and_changes_nothing(tmp_path, device, data,
                                                            monkeypatch):
    from xpdb.errors import DeviceMemoryError
    from xpdb.kernels import groupby as kg

    path = tmp_path / "db"
    db = xpdb.connect(path, device=device)
    db.register("src", data)
    db.sql("CREATE TABLE t AS SELECT * FROM src")

    def oom(*args, **kwargs):  # what CuPy raises when its pool limit is hit
        raise MemoryError("Out of memory allocating 1,000,000,000 bytes")

    monkeypatch.setattr(kg, "groupby_agg", oom)
    with pytest.raises(DeviceMemoryError, match="out of memory on .*raise it with"):
        db.sql("CREATE TABLE u AS SELECT k, sum(v) FROM t GROUP BY k")
    monkeypatch.undo()
    assert db.tables() == ["src", "t"]
    assert db.sql("SELECT count(*) FROM t").fetchall() == [(ROWS,)]
    db.close()
    assert xpdb.connect(path, device=device).tables() == ["t"]


@pytest.mark.parametrize("kind", ["JOIN", "LEFT JOIN", "FULL OUTER JOIN"])
def test_co_sharded_join_runs_shard_by_shard(tmp_path, device, data, kind):
    path = tmp_path / "db"
    dims = pa.table({"k": pa.array(range(0, 60, 2), pa.int64()),
                     "label": [f"L{i}" for i in range(0, 60, 2)]})
    with xpdb.connect(path, device=device) as db:
        db.register("src", data)
        db.register("dsrc", dims)
        db.sql("CREATE TABLE f WITH (shard_key = 'k', shards = 8) AS SELECT * FROM src")
        db.sql("CREATE TABLE d WITH (shard_key = 'k', shards = 8) AS SELECT * FROM dsrc")
    duck = duckdb.connect()
    duck.register("f", data)
    duck.register("d", dims)
    sql = (f"SELECT f.k, d.label, f.q FROM f {kind} d ON f.k = d.k WHERE f.q > 900 "
           "ORDER BY f.k, f.q, d.label")
    small = xpdb.connect(path, device=device, memory_limit=200_000)
    assert_tables_equal(small.sql(sql).to_arrow(), duck.sql(sql).to_arrow_table())
    text = small.explain(sql, analyze=True)
    assert "co-sharded join of f and d on (k) = (k): 8 shard pairs" in text
    roomy = xpdb.connect(path, device=device, read_only=True)  # fits: one join
    assert "co-sharded" not in roomy.explain(sql, analyze=True)
    assert_tables_equal(roomy.sql(sql).to_arrow(), duck.sql(sql).to_arrow_table())


def test_batches_stop_early_and_report_read_errors(tmp_path, device, data):
    path = tmp_path / "db"
    db = xpdb.connect(path, device=device)
    db.register("src", data)
    db.sql("CREATE TABLE t AS SELECT * FROM src")
    stored = db._tables["t"]
    gen = stored.batches(["k"], 1000)
    assert next(gen).num_rows == 1000
    gen.close()  # the prefetching thread stops; nothing hangs
    import glob
    import os

    for f in glob.glob(os.path.join(str(path), "tables", "t-*", "*.parquet")):
        with open(f, "r+b") as fh:  # damage the data files
            fh.write(b"garbage!")
    with pytest.raises(xpdb.errors.IOError, match="missing or damaged"):
        list(stored.batches(["k"], 1000))
