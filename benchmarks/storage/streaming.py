"""The device-resident cache and streaming on a persistent database (issue 4).

Writes a table of ``--rows`` rows into a persistent xpdb database, then on ``--device``:

1. with a device memory limit (``--device-limit``, which caps CuPy's pool) far below the
   table: the queries stream the table through the device (the column cache's budget,
   half the limit, cannot hold it) and must equal DuckDB's answers over the same Parquet
   files;
2. without a limit: the first run reads the columns into the cache, the next runs hit it.

Times are medians of ``--repeats`` runs (the GPU synchronized before each clock read); the
output is a Markdown table and JSON with the cache statistics per run.

Usage::

    python benchmarks/storage/streaming.py --rows 200_000_000 --device gpu \\
        --device-limit 4GB --out results/streaming
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import statistics
import tempfile
import time

import numpy as np
import pyarrow as pa

import xpdb
from xpdb.testing import assert_tables_equal

QUERIES = {
    "agg_by_key": "SELECT k, count(*) AS n, sum(v) AS sv, avg(q) AS aq FROM t GROUP BY k "
                  "ORDER BY k",
    "filtered_sum": "SELECT count(*) AS n, sum(v) AS sv FROM t WHERE q BETWEEN 0 AND 99",
    "selective_rows": "SELECT k, q, v FROM t WHERE q = 7 AND k < 3 ORDER BY k, v",
}


def make_table(path: str, rows: int, chunk: int = 20_000_000) -> None:
    rng = np.random.default_rng(0)
    with xpdb.connect(path, device="cpu") as db:
        db.sql("CREATE TABLE t (k BIGINT, v DOUBLE, q INTEGER)")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            piece = pa.table({"k": rng.integers(0, 1000, n), "v": rng.random(n),
                              "q": rng.integers(0, 10_000, n).astype(np.int32)})
            db.register("piece", piece)
            db.sql("INSERT INTO t SELECT * FROM piece")
            db.unregister("piece")


def timed(db, sql: str, repeats: int) -> tuple[float, list[dict], object]:
    times, caches, res = [], [], None
    for _ in range(repeats):
        db.cache.reset_stats()
        t0 = time.perf_counter()
        res = db.sql(sql).to_arrow()
        db.device.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
        s = db.cache.stats
        caches.append({"hits": s.hits, "misses": s.misses, "bytes_loaded": s.bytes_loaded})
    return statistics.median(times), caches, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--device-limit", default="1GB", help="device memory limit for part 1")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dir", default=None, help="where the database goes (default: a temp dir)")
    ap.add_argument("--out", default="streaming")
    args = ap.parse_args()
    import duckdb

    base = args.dir or tempfile.mkdtemp(prefix="xpdb-stream-")
    path = os.path.join(base, "db")
    t0 = time.perf_counter()
    make_table(path, args.rows)
    write_s = time.perf_counter() - t0
    files = glob.glob(os.path.join(path, "tables", "t-*", "**", "*.parquet"), recursive=True)
    disk = sum(os.path.getsize(f) for f in files)
    duck = duckdb.connect()
    duck.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet({files!r})")
    report = {"rows": args.rows, "write_s": write_s, "parquet_bytes": disk,
              "python": platform.python_version(), "xpdb": xpdb.__version__,
              "duckdb": duckdb.__version__, "runs": {}}

    dev = xpdb.get_device(args.device)
    report["device"] = str(dev)
    if dev.is_gpu:
        props = dev.xp.cuda.runtime.getDeviceProperties(dev.index)
        report["gpu"] = props["name"].decode()
    dev.set_memory_limit(args.device_limit)
    db = xpdb.connect(path, device=dev)
    table_bytes = db._tables["t"].estimated_bytes()
    report.update(device_limit=dev.memory_limit, cache_budget=db.memory_limit,
                  table_device_bytes=table_bytes)
    for name, sql in QUERIES.items():
        want = duck.sql(sql).to_arrow_table()
        t0 = time.perf_counter()
        duck.sql(sql).to_arrow_table()
        duck_ms = (time.perf_counter() - t0) * 1e3
        ms, caches, got = timed(db, sql, args.repeats)
        assert_tables_equal(got, want, rtol=1e-9)
        explain = db.explain(sql, analyze=True)
        note = [ln for ln in explain.splitlines() if ln.startswith("Streaming")]
        report["runs"][f"streamed/{name}"] = {"ms": ms, "duckdb_ms": duck_ms, "cache": caches,
                                              "note": note}
        print(f"streamed  {name:<16} {ms:10.1f} ms  duckdb {duck_ms:8.1f} ms  {note}",
              flush=True)
    db.close()
    dev.set_memory_limit(None)
    db = xpdb.connect(path, device=dev)
    for name, sql in QUERIES.items():
        first, c1, _ = timed(db, sql, 1)
        ms, caches, got = timed(db, sql, args.repeats)
        report["runs"][f"cached/{name}"] = {"first_ms": first, "ms": ms, "cache": c1 + caches}
        print(f"cached    {name:<16} first {first:10.1f} ms  then {ms:8.1f} ms  {caches[-1]}",
              flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "streaming.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    lines = [f"# Streaming and the column cache: {args.rows:,} rows on {report.get('gpu', dev)}",
             "", f"Table on the device: {table_bytes:,} bytes; Parquet on disk {disk:,} bytes; "
             f"device limit in part 1: {report['device_limit']:,} bytes (cache budget "
             f"{report['cache_budget']:,}). Write time {write_s:.1f} s.", "",
             "| query | streamed (limit) ms | DuckDB ms | first read ms | cached ms |",
             "|---|---:|---:|---:|---:|"]
    for name in QUERIES:
        s, c = report["runs"][f"streamed/{name}"], report["runs"][f"cached/{name}"]
        lines.append(f"| {name} | {s['ms']:.1f} | {s['duckdb_ms']:.1f} | {c['first_ms']:.1f} | "
                     f"{c['ms']:.1f} |")
    with open(os.path.join(args.out, "streaming.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
