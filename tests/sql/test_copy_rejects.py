"""COPY ... FROM with ON_ERROR 'skip': rejected rows, the rejects table and atomicity.

DuckDB's ``STORE_REJECTS`` is the oracle for CSV (rows loaded, rejected lines, the columns
of cast errors); TRY_CAST in DuckDB for Parquet; Python's json and csv modules where DuckDB
has no such feature or counts lines differently (a quoted value spanning lines: DuckDB
counts records, xpdb physical lines as its error messages do).
"""

from __future__ import annotations

import csv
import io
import json
import pathlib

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import xpdb
from xpdb.errors import BindError, NotSupportedError
from xpdb.errors import IOError as XIOError
from xpdb.sql import rejects as rj
from xpdb.sql.rejects import REJECTS_SCHEMA
from xpdb.testing import assert_tables_equal

SCHEMA = "(a INTEGER, b VARCHAR, x DOUBLE)"


def _write(path: pathlib.Path, text: str) -> str:
    path.write_text(text, encoding="utf8")
    return str(path)


def _db(device: str) -> xpdb.Database:
    db = xpdb.connect(device=device)
    db.sql(f"CREATE TABLE t {SCHEMA}")
    return db


def _duck_rejects(path: str) -> tuple[int, pa.Table, list[tuple[int, str | None, str]]]:
    """DuckDB's row count, loaded rows and (line, column, error type) of its rejects."""
    con = duckdb.connect()
    con.sql(f"CREATE TABLE t {SCHEMA}")
    count = con.execute(f"COPY t FROM '{path}' (STORE_REJECTS true)").fetchall()[0][0]
    rows = con.sql("SELECT * FROM t").arrow()
    rows = rows.read_all() if hasattr(rows, "read_all") else rows
    errors = con.sql("SELECT line, column_name, error_type::VARCHAR FROM reject_errors "
                     "ORDER BY line").fetchall()
    return count, rows, errors


def _check_against_duckdb(db: xpdb.Database, path: str) -> pa.Table:
    count, want, errors = _duck_rejects(path)
    assert errors, "the file must hold bad rows for the comparison to mean something"
    res = db.sql(f"COPY t FROM '{path}' (ON_ERROR 'skip')")
    assert res.rowcount == count
    assert_tables_equal(db.sql("SELECT * FROM t").to_arrow(), want, check_row_order=True)
    rejects = db.sql("SELECT * FROM t_rejects").to_arrow()
    assert sorted(set(rejects.column("line").to_pylist())) == sorted({e[0] for e in errors})
    got_cast = {(r["line"], r["column"]) for r in rejects.to_pylist() if r["column"]}
    assert got_cast == {(e[0], e[1]) for e in errors if e[2] == "CAST"}
    return rejects


def test_skip_csv_matches_duckdb(device: str, tmp_path: pathlib.Path) -> None:
    f = _write(tmp_path / "h.csv", "a,b,x\n1,x,1.5\nzz,y,qq\n\n3\n4,w,2\n5,v,2,9\n"
                                   "1.5,u,1e3\n 7,\"q,r\",-0\n3000000000,big,1\n")
    db = _db(device)
    with pytest.raises(XIOError, match=r"h\.csv:3: column 'a': value 'zz'.*ON_ERROR 'skip'"):
        db.sql(f"COPY t FROM '{f}'")
    m = _write(tmp_path / "m.csv", "a,b,x\n1,x,1\n\n2,y\n")
    with pytest.raises(XIOError, match=r"m\.csv:4: malformed row: expected 3 fields but "
                                       r"found 2: '2,y'"):
        db.sql(f"COPY t FROM '{m}'")
    rejects = _check_against_duckdb(db, f)
    assert rejects.schema.names == REJECTS_SCHEMA.names
    rows = {(r["line"], r["column"]): r for r in rejects.to_pylist()}
    assert rows[(3, "a")]["value"] == "zz" and rows[(3, "x")]["value"] == "qq"
    assert rows[(3, "a")]["file"] == f and "int32" in rows[(3, "a")]["reason"]
    assert rows[(7, None)]["value"] == "5,v,2,9"
    assert "expected 3 fields but found 4" in rows[(7, None)]["reason"]


@pytest.mark.parametrize("bisect", [True, False], ids=["bisect", "dictionary"])
def test_skip_csv_random_corruption_matches_duckdb(device: str, tmp_path: pathlib.Path,
                                                   rng: np.random.Generator,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   bisect: bool) -> None:
    if not bisect:  # too many refused values: the whole column through SQL's cast
        monkeypatch.setattr(rj, "_BISECT_LIMIT", 1)
    # enough rows for pyarrow to parse several blocks on several threads
    n = 60_000
    a = rng.integers(-1000, 1000, n).astype(str).astype(object)
    b = np.array([f"s{i}" for i in range(n)], dtype=object)
    x = rng.normal(size=n).round(3).astype(str).astype(object)
    lines = [f"{a[i]},{b[i]},{x[i]}" for i in range(n)]
    for i in rng.choice(n, 40, replace=False):
        kind = int(rng.integers(0, 5))
        lines[i] = [f"bad{i},{b[i]},{x[i]}", f"{a[i]},{b[i]},nan?", f"{a[i]},{b[i]}",
                    f"{a[i]},{b[i]},{x[i]},extra", ""][kind]
    path = _write(tmp_path / "big.csv", "a,b,x\n" + "\n".join(lines) + "\n")
    _check_against_duckdb(_db(device), path)


def test_skip_csv_lines_are_physical_lines(device: str, tmp_path: pathlib.Path) -> None:
    text = 'a,b,x\n1,"two\nlines",1\n\nbad,y,2\n3,"x\n\ny",oops\n4,z\n5,w,5\n'
    f = _write(tmp_path / "m.csv", text)
    db = _db(device)
    assert db.sql(f"COPY t FROM '{f}' (ON_ERROR 'skip')").rowcount == 2
    reader = csv.reader(io.StringIO(text, newline=""))
    want, last = [], 0
    for fields in reader:  # Python's csv module: the first line of each record
        start, last = last + 1, reader.line_num
        bad = len(fields) == 3 and not (fields[0].isdigit() and
                                        fields[2].lstrip("-").isdigit())
        if fields and (len(fields) != 3 or bad) and start > 1:
            want.append(start)
    assert sorted(db.sql("SELECT line FROM t_rejects").to_arrow().column(0).to_pylist()) == want
    assert db.sql("SELECT a, b FROM t ORDER BY a").fetchall() == [(1, "two\nlines"), (5, "w")]


def test_abort_casts_like_duckdb(device: str, tmp_path: pathlib.Path) -> None:
    # SQL's cast, not pyarrow's stricter typed parse: '1.5' and ' 7' load into INTEGER
    f = _write(tmp_path / "c.csv", "a,b,x\n1.5,u,1e3\n 7,v,-0\n2,w,\n")
    db = _db(device)
    count, want, errors = _duck_rejects(f)
    assert errors == []
    assert db.sql(f"COPY t FROM '{f}'").rowcount == count
    assert_tables_equal(db.sql("SELECT * FROM t").to_arrow(), want, check_row_order=True)


def test_skip_options(device: str, tmp_path: pathlib.Path) -> None:
    f = _write(tmp_path / "o.csv", "a,b,x\n1,x,1\nq,y,2\n3,z,3\n")
    db = _db(device)
    assert db.sql(f"COPY t FROM '{f}' (IGNORE_ERRORS true)").rowcount == 2
    assert db.sql("SELECT line, \"column\", value FROM t_rejects").fetchall() == \
        [(3, "a", "q")]
    # the same table gets appended to; REJECTS_TABLE names another; STORE_REJECTS false none
    db.sql(f"COPY t FROM '{f}' (ON_ERROR 'skip')")
    assert db.sql("SELECT count(*) FROM t_rejects").fetchall() == [(2,)]
    db.sql(f"COPY t FROM '{f}' (STORE_REJECTS true, REJECTS_TABLE 'errs')")
    assert db.sql("SELECT line FROM errs").fetchall() == [(3,)]
    db.sql(f"COPY t FROM '{f}' (IGNORE_ERRORS true, STORE_REJECTS false)")
    assert db.sql("SELECT count(*) FROM t").fetchall() == [(8,)]
    assert sorted(db.tables()) == ["errs", "t", "t_rejects"]
    # a clean file in skip mode still creates an (empty) rejects table
    ok = _write(tmp_path / "ok.csv", "a,b,x\n1,x,1\n")
    db.sql(f"COPY t FROM '{ok}' (ON_ERROR skip, REJECTS_TABLE 'none_yet')")
    assert db.sql("SELECT count(*) FROM none_yet").fetchall() == [(0,)]
    assert db.sql("DESCRIBE none_yet").fetchall()[1][:2] == ("line", "BIGINT")


def test_skip_option_errors(device: str, tmp_path: pathlib.Path) -> None:
    f = _write(tmp_path / "o.csv", "a,b,x\n1,x,1\nq,y,2\n")
    db = _db(device)
    db.sql("CREATE TABLE other (k INTEGER)")
    before = db.sql("SELECT * FROM t").to_arrow()
    with pytest.raises(NotSupportedError, match="ON_ERROR 'ignore'.*'abort'.*'skip'"):
        db.sql(f"COPY t FROM '{f}' (ON_ERROR 'ignore')")
    with pytest.raises(BindError, match="disagree"):
        db.sql(f"COPY t FROM '{f}' (ON_ERROR 'abort', IGNORE_ERRORS true)")
    with pytest.raises(BindError, match="IGNORE_ERRORS takes true or false"):
        db.sql(f"COPY t FROM '{f}' (IGNORE_ERRORS 'maybe')")
    with pytest.raises(BindError, match="columns \\['k'\\].*REJECTS_TABLE another name"):
        db.sql(f"COPY t FROM '{f}' (ON_ERROR 'skip', REJECTS_TABLE 'other')")
    with pytest.raises(BindError, match="is the COPY target"):
        db.sql(f"COPY t FROM '{f}' (REJECTS_TABLE 't')")
    assert_tables_equal(db.sql("SELECT * FROM t").to_arrow(), before)
    assert sorted(db.tables()) == ["other", "t"]


def test_failed_skip_copy_changes_neither_table(device: str, tmp_path: pathlib.Path) -> None:
    (tmp_path / "g").mkdir()
    _write(tmp_path / "g" / "1.csv", "a,b,x\n1,x,1\nq,y,2\n")
    _write(tmp_path / "g" / "2.csv", "a,b\n1,x\n")  # a file-level error: two columns
    db = _db(device)
    with pytest.raises(XIOError, match=r"2\.csv' has 2 columns but COPY loads 3"):
        db.sql(f"COPY t FROM '{tmp_path}/g/*.csv' (ON_ERROR 'skip')")
    assert db.sql("SELECT count(*) FROM t").fetchall() == [(0,)]
    assert db.tables() == ["t"]


def test_nothing_half_loaded(device: str, tmp_path: pathlib.Path) -> None:
    (tmp_path / "p").mkdir()
    for i in range(4):
        body = "1,x,1\n2,y,2\n" if i != 2 else "1,x,1\noops,y,2\n"
        _write(tmp_path / "p" / f"part{i}.csv", "a,b,x\n" + body)
    for path in (None, str(tmp_path / "db")):
        db = xpdb.connect(path, device=device)
        db.sql(f"CREATE TABLE t {SCHEMA}")
        db.sql("INSERT INTO t VALUES (0, 'seed', 0.5)")
        before = db.sql("SELECT * FROM t").to_arrow()
        with pytest.raises(XIOError, match=r"part2\.csv:3: column 'a': value 'oops'"):
            db.sql(f"COPY t FROM '{tmp_path}/p/*.csv'")
        assert_tables_equal(db.sql("SELECT * FROM t").to_arrow(), before)
        db.close()
        if path is not None:  # and nothing reached the storage either
            with xpdb.connect(path, device=device) as again:
                assert_tables_equal(again.sql("SELECT * FROM t").to_arrow(), before)


def test_skip_parquet_casts_per_row(device: str, tmp_path: pathlib.Path) -> None:
    src = pa.table({"a": ["1", "x1", None, "4", "2.5", "99999999999"],
                    "b": ["p", "q", "r", "s", "t", "u"],
                    "x": pa.array([1, 2, 3, 4, 5, 6], pa.int64())})
    pq.write_table(src, tmp_path / "s.parquet")
    db = _db(device)
    got = db.sql(f"COPY t FROM '{tmp_path}/s.parquet' (ON_ERROR 'skip')").rowcount
    con = duckdb.connect()
    kept = con.sql(f"SELECT TRY_CAST(a AS INTEGER) AS a, b, x::DOUBLE AS x FROM "
                   f"read_parquet('{tmp_path}/s.parquet') WHERE a IS NULL OR "
                   "TRY_CAST(a AS INTEGER) IS NOT NULL").arrow()
    kept = kept.read_all() if hasattr(kept, "read_all") else kept
    bad = con.sql(f"SELECT row_number() OVER () AS line, a FROM read_parquet("
                  f"'{tmp_path}/s.parquet') QUALIFY a IS NOT NULL AND "
                  "TRY_CAST(a AS INTEGER) IS NULL").fetchall()
    assert got == kept.num_rows
    assert_tables_equal(db.sql("SELECT * FROM t").to_arrow(), kept, check_row_order=True)
    assert db.sql("SELECT line, value FROM t_rejects").fetchall() == bad


def test_skip_json_lines(device: str, tmp_path: pathlib.Path) -> None:
    lines = ['{"a": 1, "b": "x"}', '{"a": oops}', "", '{"a": "two", "b": "y"}',
             '{"a": 3, "b": {"n": 1}}', '{"a": 4, "x": 2.5}', "[1, 2]", '{"a": "5"}',
             '{"zz": 1}']
    f = _write(tmp_path / "j.json", "\n".join(lines) + "\n")
    db = _db(device)
    with pytest.raises(XIOError, match=r"j\.json"):
        db.sql(f"COPY t FROM '{f}'")
    assert db.sql(f"COPY t FROM '{f}' (ON_ERROR 'skip')").rowcount == 3
    # the oracle: Python's json, a record loads when it is an object of known scalar keys
    # whose 'a' casts to an integer
    want, bad = [], []
    for number, text in enumerate(lines, 1):
        if not text:
            continue
        try:
            rec = json.loads(text)
        except ValueError:
            bad.append(number)
            continue
        ok = isinstance(rec, dict) and set(rec) <= {"a", "b", "x"} and \
            not any(isinstance(v, dict | list) for v in rec.values()) and \
            (rec.get("a") is None or str(rec["a"]).lstrip("-").isdigit())
        if ok:
            want.append((int(rec["a"]), rec.get("b"), rec.get("x")))
        else:
            bad.append(number)
    assert db.sql("SELECT * FROM t").fetchall() == want
    assert sorted(r[0] for r in db.sql("SELECT line FROM t_rejects").fetchall()) == bad


def test_skip_json_cast_failures_after_a_clean_parse(device: str, tmp_path: pathlib.Path) -> None:
    f = _write(tmp_path / "k.json", '{"a": "1"}\n\n{"a": "x"}\n{"a": "3"}\n')
    db = _db(device)
    assert db.sql(f"COPY t FROM '{f}' (ON_ERROR 'skip')").rowcount == 2
    assert db.sql("SELECT line, \"column\", value FROM t_rejects").fetchall() == [(3, "a", "x")]


def test_file_list_and_schema_disagreement(device: str, tmp_path: pathlib.Path) -> None:
    a = _write(tmp_path / "a.csv", "a,b,x\n1,x,1\n")
    b = _write(tmp_path / "b.csv", "a,b,x\n2,y,2\n")
    db = _db(device)
    assert db.sql(f"COPY t FROM '{b}', '{a}'").rowcount == 2  # a list keeps its order
    assert db.sql(f"COPY t FROM ('{a}', '{b}')").rowcount == 2
    assert db.sql("SELECT a FROM t").fetchall() == [(2,), (1,), (1,), (2,)]
    pq.write_table(pa.table({"a": [1]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"a": [2], "extra": [3]}), tmp_path / "2.parquet")
    with pytest.raises(XIOError, match=r"2\.parquet' has column 'extra'"):
        db.sql(f"COPY t FROM '{tmp_path}/*.parquet'")
    with pytest.raises(XIOError, match="no file matches the pattern"):
        db.sql(f"COPY t FROM '{tmp_path}/nothing*.csv' (ON_ERROR 'skip')")
    with pytest.raises(BindError, match="COPY ... TO takes one file"):
        db.sql(f"COPY t TO '{tmp_path}/o1.csv', '{tmp_path}/o2.csv'")


@pytest.mark.parametrize("seed", range(6))
def test_vectorized_record_scan_matches_csv_module(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pieces = ["1", "x", '"a,b"', '"two\nlines"', '""', '"q""q"', "", " ", '"\n\n"']
    rows = []
    for _ in range(200):
        k = int(rng.choice([3, 3, 3, 3, 2, 4, 0]))
        rows.append(",".join(str(rng.choice(pieces)) for _ in range(k)) if k else "")
    data = ("h1,h2,h3\n" + "\n".join(rows) + ("\n" if seed % 2 else "")).encode()
    kw = {"sep": ",", "quotechar": '"', "skip_rows": 0, "header": True}
    fast = rj._scan_records(data, kw, 3)
    slow = rj._python_records(data, kw, 3)
    assert fast is not None
    np.testing.assert_array_equal(fast[0], slow[0])
    assert [b[0] for b in fast[1]] == [b[0] for b in slow[1]]
    assert [b[2] for b in fast[1]] == [b[2] for b in slow[1]]


def test_skip_csv_stray_quote_matches_duckdb(device: str, tmp_path: pathlib.Path) -> None:
    # a quote inside an unquoted field is text: the quick newline scan miscounts records
    # there, and the csv-module scan takes over
    f = _write(tmp_path / "s.csv", 'a,b,x\n1,5"inch,2\nq,y,3\n4,w,4,4\n5,v,5\n')
    rejects = _check_against_duckdb(_db(device), f)
    assert rejects.column("value").to_pylist() == ["q", "4,w,4,4"]


def test_skip_csv_compressed_matches_duckdb(device: str, tmp_path: pathlib.Path) -> None:
    import gzip

    path = tmp_path / "z.csv.gz"
    path.write_bytes(gzip.compress(b"a,b,x\n1,x,1\n2,y\nzz,w,3\n4,v,4\n"))
    _check_against_duckdb(_db(device), str(path))
