"""TPC-H on xpdb and DuckDB: generate the data, run the 22 queries, compare, time.

The data comes from DuckDB's ``dbgen`` (the ``tpch`` extension, loaded from the
``duckdb-extension-tpch`` wheel so no network is needed) as pyarrow tables, optionally
cached as Parquet files in ``--data-dir`` (reused when present). The query texts come from
``tpch_queries()``. Every engine loads the tables (timed apart), then for each query: one
warm-up run whose answer is checked against the reference engine (DuckDB when it runs,
else the first engine), then ``--repeats`` timed runs whose median is reported (the GPU is
synchronized before every clock read).

Answers are compared on column count, row count and values (floats and decimals as numbers
with a relative tolerance of 1e-6). Rows must come in the reference's order of the ORDER BY
keys; rows whose keys tie may come in any order (compared as multisets), and when a LIMIT
cuts through a tie group only the keys of that last group are compared.

Usage::

    python benchmarks/tpch/tpch.py --sf 0.01 --engines xpdb-cpu,duckdb \\
        [--queries 1,3,5] [--repeats 3] [--data-dir DIR] [--query-timeout S] \\
        [--skip xpdb-cpu:19] [--out DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import gc
import glob
import json
import math
import os
import platform
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders",
          "lineitem")
ENGINES = ("xpdb-cpu", "xpdb-gpu", "duckdb")
RTOL = 1e-6
ATOL = 1e-9


# -- data ------------------------------------------------------------------------------------
def duckdb_with_tpch() -> Any:
    """A DuckDB connection with the ``tpch`` extension loaded, offline if possible."""
    import duckdb

    con = duckdb.connect()
    try:
        import duckdb_extension_tpch

        paths = glob.glob(os.path.join(duckdb_extension_tpch.__path__[0], "extensions", "*",
                                       "tpch.duckdb_extension"))
    except ImportError:
        paths = []
    if paths:
        con.execute(f"LOAD '{paths[0]}'")
    else:
        con.execute("INSTALL tpch")
        con.execute("LOAD tpch")
    return con


def _arrow(rel: Any) -> pa.Table:
    """DuckDB's ``.arrow()`` answer as a pa.Table (it is a reader in recent versions)."""
    res = rel.arrow()
    return res.read_all() if hasattr(res, "read_all") else res


def generate(sf: float, data_dir: str | os.PathLike | None = None) -> dict[str, pa.Table]:
    """The eight TPC-H tables at scale factor ``sf`` as pyarrow tables.

    With ``data_dir`` the tables are read from ``data_dir/sf<sf>/<table>.parquet`` when all
    are there, else generated and written there.
    """
    sub = Path(data_dir) / f"sf{sf:g}" if data_dir is not None else None
    if sub is not None and all((sub / f"{t}.parquet").exists() for t in TABLES):
        return {t: pq.read_table(sub / f"{t}.parquet") for t in TABLES}
    con = duckdb_with_tpch()
    con.execute(f"CALL dbgen(sf={sf!r})")
    tables = {t: _arrow(con.sql(f"SELECT * FROM {t}")) for t in TABLES}
    con.close()
    if sub is not None:
        sub.mkdir(parents=True, exist_ok=True)
        for t, tb in tables.items():
            pq.write_table(tb, sub / f"{t}.parquet")
    return tables


def queries() -> dict[int, str]:
    """``{query number: SQL text}`` for the 22 TPC-H queries, as DuckDB ships them."""
    con = duckdb_with_tpch()
    rows = con.execute("SELECT query_nr, query FROM tpch_queries() ORDER BY 1").fetchall()
    con.close()
    return {int(nr): q for nr, q in rows}


# -- engines ---------------------------------------------------------------------------------
class Engine:
    """One engine: ``load`` the tables, ``run`` a query to a pa.Table, ``sync`` the device."""

    name = ""

    def load(self, tables: dict[str, pa.Table]) -> None:
        raise NotImplementedError

    def run(self, sql: str) -> pa.Table:
        raise NotImplementedError

    def sync(self) -> None:
        """Wait for queued device work (a no-op on the CPU)."""

    def close(self) -> None:
        """Free the engine's tables."""


# Arrow -> xpdb host tables, shared by the xpdb engines of one run: the conversion
# (string dictionaries sorted on the host) is the same work for every device, so the GPU
# engine's load is the host-to-device copy of tables the CPU engine already converted.
_HOST_TABLES: dict[tuple[str, int], Any] = {}


class XpdbEngine(Engine):
    def __init__(self, device: str):
        import xpdb

        self.name = f"xpdb-{device}"
        self.db = xpdb.connect(device=device)
        self.load_detail: dict[str, float] = {}

    def load(self, tables: dict[str, pa.Table]) -> None:
        from xpdb.table import Table

        convert = move = 0.0
        for name, tb in tables.items():
            key = (name, id(tb))
            t0 = time.perf_counter()
            if key not in _HOST_TABLES:
                _HOST_TABLES[key] = Table.from_arrow(tb, "cpu")
            t1 = time.perf_counter()
            self.db.register(name, _HOST_TABLES[key])
            self.sync()
            convert += t1 - t0
            move += time.perf_counter() - t1
        self.load_detail = {"convert_s": convert, "register_s": move}

    def run(self, sql: str) -> pa.Table:
        return self.db.sql(sql).to_arrow()

    def sync(self) -> None:
        self.db.device.synchronize()

    def close(self) -> None:
        for name in list(self.db.tables()):
            with contextlib.suppress(Exception):
                self.db.unregister(name)


class DuckdbEngine(Engine):
    name = "duckdb"

    def __init__(self) -> None:
        import duckdb

        self.con = duckdb.connect()

    def load(self, tables: dict[str, pa.Table]) -> None:
        # native tables, as DuckDB would hold them after its own load
        for name, tb in tables.items():
            self.con.register("_src", tb)
            self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _src")
            self.con.unregister("_src")

    def run(self, sql: str) -> pa.Table:
        return _arrow(self.con.sql(sql))

    def close(self) -> None:
        self.con.close()


def make_engine(name: str) -> Engine:
    """An engine by name: ``xpdb-cpu``, ``xpdb-gpu`` or ``duckdb``."""
    if name == "duckdb":
        return DuckdbEngine()
    if name in ("xpdb-cpu", "xpdb-gpu"):
        return XpdbEngine(name.split("-", 1)[1])
    msg = f"unknown engine {name!r}; choose from {', '.join(ENGINES)}"
    raise ValueError(msg)


# -- comparing -------------------------------------------------------------------------------
def order_spec(sql: str, names: list[str]) -> tuple[list[tuple[int, bool]] | None, int | None]:
    """``([(output column index, descending)...] or None, limit or None)`` of the query's
    outermost ORDER BY / LIMIT; None for keys that are not output columns."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, dialect="duckdb")
    limit = None
    lim = tree.args.get("limit")
    if lim is not None:
        value = lim.args.get("expression")
        if isinstance(value, exp.Literal) and value.is_int:
            limit = int(value.this)
    order = tree.args.get("order")
    if order is None:
        return [], limit
    lowered = [n.lower() for n in names]
    keys: list[tuple[int, bool]] = []
    for o in order.expressions:
        e = o.this
        if isinstance(e, exp.Column) and e.name.lower() in lowered:
            keys.append((lowered.index(e.name.lower()), bool(o.args.get("desc"))))
        elif isinstance(e, exp.Literal) and e.is_int and 1 <= int(e.this) <= len(names):
            keys.append((int(e.this) - 1, bool(o.args.get("desc"))))
        else:
            return None, limit
    return keys, limit


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float, decimal.Decimal)):
        return float(v)
    return None


def values_equal(a: Any, b: Any, rtol: float = RTOL) -> bool:
    """Whether two cell values agree: numbers (int, float, decimal) within ``rtol``,
    NaN equals NaN, None equals None, everything else by ``==``."""
    if a is None or b is None:
        return a is None and b is None
    x, y = _num(a), _num(b)
    if x is not None and y is not None:
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return math.isclose(x, y, rel_tol=rtol, abs_tol=ATOL)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    return a == b


def _rows_equal(r: tuple, s: tuple, rtol: float) -> bool:
    return all(values_equal(a, b, rtol) for a, b in zip(r, s, strict=True))


def _sort_key(row: tuple) -> tuple:
    out = []
    for v in row:
        n = _num(v)
        if v is None:
            out.append((0, 0.0, ""))
        elif n is not None:
            out.append((1, n, ""))
        else:
            out.append((2, 0.0, str(v)))
    return tuple(out)


def _multiset_diff(got: list[tuple], want: list[tuple], rtol: float) -> tuple | None:
    """None when the groups hold the same rows, else ``(got row, want row)`` of the first
    difference after sorting both."""
    g, w = sorted(got, key=_sort_key), sorted(want, key=_sort_key)
    for r, s in zip(g, w, strict=True):
        if not _rows_equal(r, s, rtol):
            return r, s
    return None


def _rows(tb: pa.Table) -> list[tuple]:
    cols = [tb.column(i).to_pylist() for i in range(tb.num_columns)]
    return list(zip(*cols, strict=True)) if cols else [() for _ in range(tb.num_rows)]


def compare_tables(got: pa.Table, want: pa.Table, sql: str, rtol: float = RTOL) -> str | None:
    """None when ``got`` answers ``sql`` as ``want`` does, else what differs (with the
    first differing row). Order is checked on the ORDER BY keys; tied rows as multisets."""
    if got.num_columns != want.num_columns:
        return (f"column count {got.num_columns} != {want.num_columns} "
                f"(got {got.column_names}, want {want.column_names})")
    if got.num_rows != want.num_rows:
        return f"row count {got.num_rows} != {want.num_rows}"
    g, w = _rows(got), _rows(want)
    keys, limit = order_spec(sql, want.column_names)
    if keys is None or not keys:  # unordered (or keys not in the output): one multiset
        d = _multiset_diff(g, w, rtol)
        return None if d is None else f"rows differ (as multisets): got {d[0]}, want {d[1]}"
    idx = [k for k, _ in keys]
    for i, (r, s) in enumerate(zip(g, w, strict=True)):
        if not all(values_equal(r[k], s[k], rtol) for k in idx):
            return f"order keys differ at row {i}: got {r}, want {s}"
    # tie groups: runs of equal keys in the reference
    start = 0
    n = len(w)
    while start < n:
        end = start + 1
        while end < n and all(values_equal(w[end][k], w[start][k], rtol) for k in idx):
            end += 1
        cut = limit is not None and end == n == limit
        if not cut:
            d = _multiset_diff(g[start:end], w[start:end], rtol)
            if d is not None:
                where = f"row {start}" if end - start == 1 else f"rows {start}..{end - 1}"
                return f"{where} differ: got {d[0]}, want {d[1]}"
        start = end
    return None


# -- timing ----------------------------------------------------------------------------------
class QueryTimeout(Exception):
    """A query ran past ``--query-timeout``."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise QueryTimeout in the main thread after ``seconds`` (checked between Python
    bytecodes, so a long single kernel call finishes first)."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def fire(signum: int, frame: Any) -> None:
        raise QueryTimeout(f"ran past {seconds:g} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _error(e: BaseException) -> dict[str, str]:
    lines = str(e).strip().splitlines()
    return {"type": type(e).__name__, "message": lines[0][:400] if lines else ""}


def _timed(engine: Engine, sql: str, timeout: float | None) -> tuple[pa.Table, float]:
    gc.collect()
    engine.sync()
    with time_limit(timeout):
        t0 = time.perf_counter()
        res = engine.run(sql)
        engine.sync()
        elapsed = time.perf_counter() - t0
    return res, elapsed


def run_query(engine: Engine, sql: str, repeats: int, timeout: float | None
              ) -> tuple[dict[str, Any], pa.Table | None]:
    """``(record, warm-up answer)``: a warm-up run, then ``repeats`` timed runs."""
    try:
        ans, warm = _timed(engine, sql, timeout)
    except QueryTimeout as e:
        return {"status": "timeout", "error": _error(e)}, None
    except Exception as e:  # noqa: BLE001  (one failing query must not stop the others)
        return {"status": "error", "error": _error(e)}, None
    rec: dict[str, Any] = {"status": "ran", "warmup_s": warm, "rows": ans.num_rows}
    times = []
    for _ in range(repeats):
        try:
            _, t = _timed(engine, sql, timeout)
        except Exception as e:  # noqa: BLE001
            rec["timed_error"] = _error(e)
            break
        times.append(t)
    rec["times_s"] = times
    rec["median_s"] = statistics.median(times) if times else warm
    return rec, ans


# -- driver ----------------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                            "python": platform.python_version()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    versions = {}
    for mod in ("numpy", "pyarrow", "duckdb", "cupy", "xpdb"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001  (absent: recorded as None)
            versions[mod] = None
    info["versions"] = versions
    return info


def run_benchmark(sf: float, engines: list[str], query_nrs: list[int] | None = None,
                  repeats: int = 1, data_dir: str | None = None,
                  timeout: float | None = None, skip: set[tuple[str, int]] | None = None,
                  log: Callable[[str], None] = print,
                  engine_repeats: dict[str, int] | None = None,
                  explain: list[int] | None = None,
                  out_dir: str | None = None) -> dict[str, Any]:
    """Run the queries on the engines; returns the ``results.json`` document.

    ``skip`` holds ``(engine, query number)`` pairs not to run (a query known to exhaust
    memory, say); they are reported as ``skipped``. ``engine_repeats`` overrides
    ``repeats`` per engine. ``explain`` lists queries whose EXPLAIN ANALYZE an xpdb engine
    writes to ``out_dir`` (after its timed runs).
    """
    skip = skip or set()
    t0 = time.perf_counter()
    tables = generate(sf, data_dir)
    gen_s = time.perf_counter() - t0
    texts = queries()
    nrs = query_nrs or sorted(texts)
    ref_name = "duckdb" if "duckdb" in engines else engines[0]
    order = [ref_name] + [e for e in engines if e != ref_name]
    result: dict[str, Any] = {
        "sf": sf, "engines": engines, "reference": ref_name, "repeats": repeats,
        "queries": nrs, "data_s": gen_s, "machine": machine_info(),
        "rows": {t: tb.num_rows for t, tb in tables.items()}, "load_s": {}, "results": {},
    }
    log(f"data sf={sf:g}: {gen_s:.2f} s")
    answers: dict[int, pa.Table] = {}
    for name in order:
        engine = make_engine(name)
        t1 = time.perf_counter()
        engine.load(tables)
        result["load_s"][name] = time.perf_counter() - t1
        detail = getattr(engine, "load_detail", None)
        if detail:
            result.setdefault("load_detail", {})[name] = detail
        log(f"{name}: load {result['load_s'][name]:.2f} s {detail or ''}")
        per: dict[str, Any] = {}
        for nr in nrs:
            if (name, nr) in skip:
                per[str(nr)] = {"status": "skipped",
                                "error": {"type": "skipped", "message": "--skip"}}
                log(f"  q{nr:02d} skipped")
                continue
            reps = (engine_repeats or {}).get(name, repeats)
            rec, ans = run_query(engine, texts[nr], reps, timeout)
            if ans is not None:
                if name == ref_name:
                    answers[nr] = ans
                    rec["status"] = "ok"
                elif nr in answers:
                    diff = compare_tables(ans, answers[nr], texts[nr])
                    rec["status"] = "ok" if diff is None else "wrong"
                    if diff is not None:
                        rec["diff"] = diff
                else:
                    rec["status"] = "unchecked"
            per[str(nr)] = rec
            log(f"  q{nr:02d} {_cell(rec)}")
            del ans
        result["results"][name] = per
        if explain and out_dir and isinstance(engine, XpdbEngine):
            path = Path(out_dir) / f"explain-{name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w") as fh:
                for nr in explain:
                    try:
                        text = engine.db.explain(texts[nr], analyze=True)
                    except Exception as e:  # noqa: BLE001
                        text = f"error: {e}"
                    fh.write(f"-- q{nr}\n{text}\n\n")
        engine.close()
        del engine
        if out_dir:  # what is done so far survives a run cut short
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            (Path(out_dir) / "results.partial.json").write_text(json.dumps(result, indent=1))
        gc.collect()
    return result


def _cell(rec: dict[str, Any]) -> str:
    s = rec["status"]
    if s in ("ok", "unchecked"):
        return f"{s} {rec['median_s'] * 1e3:.1f} ms"
    if s == "skipped":
        return "skipped (--skip)"
    if s == "wrong":
        return f"WRONG ({rec['median_s'] * 1e3:.1f} ms): {rec['diff']}"
    return f"{s}: {rec['error']['type']}: {rec['error']['message']}"


def render_markdown(result: dict[str, Any]) -> str:
    engines = result["engines"]
    m = result["machine"]
    lines = [
        f"# TPC-H SF {result['sf']:g}",
        "",
        f"Machine: {m.get('cpu_model', '?')}, {m['cpu_count']} cores; "
        f"versions {m['versions']}. Reference: {result['reference']}. "
        f"Times are medians of {result['repeats']} runs after a warm-up (ms); "
        "load times apart.",
        "",
        "Load (s): " + ", ".join(f"{k} {v:.2f}" for k, v in result["load_s"].items()),
        "",
        "| query | " + " | ".join(engines) + " |",
        "|---|" + "---|" * len(engines),
    ]
    details = []
    for nr in result["queries"]:
        cells = []
        for e in engines:
            rec = result["results"][e][str(nr)]
            s = rec["status"]
            if s in ("ok", "unchecked"):
                cells.append(f"{s} {rec['median_s'] * 1e3:.1f}")
            elif s == "skipped":
                cells.append("skipped")
            else:
                cells.append("WRONG" if s == "wrong" else f"{s}: {rec['error']['type']}")
                details.append(f"- q{nr} {e}: {_cell(rec)}")
        lines.append(f"| {nr} | " + " | ".join(cells) + " |")
    if details:
        lines += ["", "## Failures", "", *details]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sf", type=float, default=0.01, help="scale factor (0.01, 0.1, 1, ...)")
    p.add_argument("--engines", default=None,
                   help="comma-separated: xpdb-cpu, xpdb-gpu, duckdb "
                        "(default: xpdb-cpu, xpdb-gpu when a GPU is usable, duckdb)")
    p.add_argument("--queries", default=None, help="comma-separated query numbers (all)")
    p.add_argument("--repeats", type=int, default=1, help="timed runs after the warm-up")
    p.add_argument("--data-dir", default=None, help="Parquet cache of the generated tables")
    p.add_argument("--query-timeout", type=float, default=None,
                   help="seconds after which a query is abandoned (checked between kernels)")
    p.add_argument("--skip", default="",
                   help="comma-separated ENGINE:QUERY pairs not to run, e.g. xpdb-cpu:19")
    p.add_argument("--out", default=None, help="directory for results.json and results.md")
    p.add_argument("--repeats-for", default="",
                   help="per-engine repeats, e.g. xpdb-cpu:1 (others use --repeats)")
    p.add_argument("--explain", default="",
                   help="comma-separated queries whose EXPLAIN ANALYZE xpdb engines write to --out")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.engines:
        engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    else:
        import xpdb

        engines = ["xpdb-cpu"] + (["xpdb-gpu"] if xpdb.gpu_available() else []) + ["duckdb"]
    for e in engines:
        if e not in ENGINES:
            print(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}", file=sys.stderr)
            return 2
    nrs = [int(q) for q in args.queries.split(",")] if args.queries else None
    skip = set()
    for item in filter(None, (x.strip() for x in args.skip.split(","))):
        engine, _, nr = item.rpartition(":")
        skip.add((engine, int(nr)))
    engine_repeats = {}
    for item in filter(None, (x.strip() for x in args.repeats_for.split(","))):
        engine, _, n = item.rpartition(":")
        engine_repeats[engine] = int(n)
    explain = [int(q) for q in args.explain.split(",") if q.strip()]
    result = run_benchmark(args.sf, engines, nrs, args.repeats, args.data_dir,
                           args.query_timeout, skip, engine_repeats=engine_repeats,
                           explain=explain, out_dir=args.out)
    md = render_markdown(result)
    print(md)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(result, indent=1, default=str))
        (out / "results.md").write_text(md)
    bad = [nr for e in engines for nr, r in result["results"][e].items() if r["status"] == "wrong"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
