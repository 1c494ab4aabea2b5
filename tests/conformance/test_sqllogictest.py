"""The sqllogictest runner (``benchmarks/conformance/sqllogictest.py``): parser and formatting
on inline texts, the corpus on DuckDB (a measured pass rate), and on xpdb when it has SQL.

A correctness test: it never looks at timings (the per-record timeout is a generous guard).
"""

from __future__ import annotations

import doctest
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest
import sqlglot

ROOT = Path(__file__).resolve().parents[2]
# CI keeps shared/ beside the clone; some checkouts hold it inside
CORPUS = next((p for p in (ROOT / "shared" / "conformance" / "sqllogictest",
                           ROOT.parent / "shared" / "conformance" / "sqllogictest")
               if p.is_dir()), ROOT.parent / "shared" / "conformance" / "sqllogictest")


def _load():
    name = "xpdb_bench_sqllogictest"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "benchmarks" / "conformance" / "sqllogictest.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


slt = _load()

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(),
                                  reason=f"sqllogictest corpus not found at {CORPUS}")
TIMEOUT = 30.0


def _md5(values: list[str]) -> str:
    return hashlib.md5("".join(v + "\n" for v in values).encode()).hexdigest()


class RowsEngine:
    """A fake engine answering fixed rows per SQL text; raises for unknown SQL."""

    name = "fake"

    def __init__(self, answers: dict[str, list[tuple] | None]) -> None:
        self.answers = answers
        self.seen: list[str] = []

    def execute(self, sql: str) -> list[tuple] | None:
        self.seen.append(sql)
        if sql not in self.answers:
            msg = f"no such statement: {sql!r}"
            raise RuntimeError(msg)
        return self.answers[sql]


# --------------------------------------------------------------------------- parser


def test_module_doctests() -> None:
    failed, _ = doctest.testmod(slt, verbose=False)
    assert failed == 0


def test_parse_records() -> None:
    text = """# a comment
hash-threshold 8

statement ok
CREATE TABLE t1(a INTEGER,
 b TEXT)

statement error
SELECT nope

skipif mysql # not compatible
query IT rowsort label-1
SELECT a, b
  FROM t1
----
1
x
2
(empty)

query I nosort
SELECT 1 WHERE 0
----

query R valuesort
SELECT a FROM t1
----
30 values hashing to 0123456789abcdef0123456789abcdef

onlyif mssql
halt

halt
"""
    recs = slt.parse(text)
    assert [r.kind for r in recs] == ["hash-threshold", "statement", "statement", "query",
                                      "query", "query", "halt", "halt"]
    assert recs[0].threshold == 8
    assert recs[1].sql == "CREATE TABLE t1(a INTEGER,\n b TEXT)"
    assert not recs[1].expect_error and recs[2].expect_error
    q = recs[3]
    assert (q.types, q.sort, q.label) == ("IT", "rowsort", "label-1")
    assert q.sql == "SELECT a, b\n  FROM t1"
    assert q.expected == ["1", "x", "2", "(empty)"]
    assert q.conditions == [("skipif", "mysql")]
    assert q.skip_reason() is None
    assert recs[4].expected == [] and recs[4].sql == "SELECT 1 WHERE 0"
    assert recs[5].expected_hash == (30, "0123456789abcdef0123456789abcdef")
    assert recs[5].expected is None
    assert recs[6].skip_reason() == "onlyif"
    assert recs[7].skip_reason() is None


def test_parse_query_without_separator_and_trailing_space() -> None:
    recs = slt.parse("statement ok \nINSERT INTO t1 VALUES(1)\n\nquery I rowsort\nSELECT 1\n")
    assert recs[0].kind == "statement" and not recs[0].expect_error
    assert recs[1].expected == [] and recs[1].sql == "SELECT 1"


@pytest.mark.parametrize(("conds", "reason"), [
    ([("skipif", "sqlite")], "skipif"),
    ([("skipif", "postgresql")], None),
    ([("onlyif", "sqlite")], None),
    ([("onlyif", "mysql")], "onlyif"),
    ([("skipif", "mysql"), ("onlyif", "mssql")], "onlyif"),
])
def test_guards(conds, reason) -> None:
    assert slt.Record("query", 1, conditions=conds).skip_reason() == reason


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(("value", "letter", "text"), [
    (None, "I", "NULL"), (None, "R", "NULL"), (None, "T", "NULL"),
    ("", "T", "(empty)"), ("a b", "T", "a b"), ("\u00e9t\u00e9", "T", "@t@"),
    (3, "I", "3"), (-7, "I", "-7"), (2.9, "I", "2"), (-2.9, "I", "-2"), (True, "I", "1"),
    (9223372036854775807, "I", "9223372036854775807"), ("12abc", "I", "12"), ("x", "I", "0"),
    (1, "R", "1.000"), (2.0 / 3.0, "R", "0.667"), (-0.0001, "R", "-0.000"),
    (1e20, "R", "100000000000000000000.000"), ("1.5", "R", "1.500"),
    (1.5, "T", "1.5"), (2.0, "T", "2.0"), (7, "T", "7"), (float("inf"), "T", "Inf"),
    (float("nan"), "I", "0"), (float("-inf"), "R", "-inf"),
])
def test_format_value(value, letter, text) -> None:
    assert slt.format_value(value, letter) == text


def test_sort_modes_and_hash() -> None:
    rows = slt.format_rows([(10, "b"), (2, None), (10, "a")], "IT")
    assert rows == [["10", "b"], ["2", "NULL"], ["10", "a"]]
    assert slt.sort_values(rows, "nosort") == ["10", "b", "2", "NULL", "10", "a"]
    # rows sort as strings, column by column: "10" < "2"
    assert slt.sort_values(rows, "rowsort") == ["10", "a", "10", "b", "2", "NULL"]
    assert slt.sort_values(rows, "valuesort") == ["10", "10", "2", "NULL", "a", "b"]
    assert slt.hash_values(["10", "a"]) == _md5(["10", "a"])
    assert slt.hash_values([]) == hashlib.md5(b"").hexdigest()


def _run_text(text: str, answers: dict) -> slt.FileResult:
    return slt.run_records(slt.parse(text), RowsEngine(answers))


def test_run_hash_and_values() -> None:
    values = [str(i) for i in range(12)]
    text = f"""statement ok
CREATE TABLE t(a INTEGER)

query I rowsort
SELECT a FROM t
----
12 values hashing to {_md5(sorted(values))}

query I nosort
SELECT a FROM t
----
12 values hashing to {_md5(values)}

query I valuesort
SELECT 1
----
1
"""
    answers = {"CREATE TABLE t(a INTEGER)": None, "SELECT a FROM t": [(i,) for i in range(12)],
               "SELECT 1": [(1,)]}
    res = _run_text(text, answers)
    assert (res.run, res.passed, res.failed) == (4, 4, 0)


def test_run_failures_errors_and_skips() -> None:
    text = """statement error
SELECT bad

statement error
SELECT 1

statement ok
SELECT bad

query I nosort
SELECT 1
----
2

query II nosort
SELECT 1
----
1

skipif sqlite
query I nosort
SELECT never
----
1

onlyif postgresql
query I nosort
SELECT never
----
1

query X nosort
SELECT 1
----
1

halt

query I nosort
SELECT never
----
1
"""
    engine = RowsEngine({"SELECT 1": [(1,)]})
    res = slt.run_records(slt.parse(text), engine)
    assert "SELECT never" not in engine.seen
    assert (res.run, res.passed, res.failed) == (5, 1, 4)
    assert dict(res.skipped) == {"skipif": 1, "onlyif": 1, "unsupported": 1}
    assert res.total == res.run + sum(res.skipped.values()) == 8
    lines = [f["line"] for f in res.failures]
    assert lines == [4, 7, 10, 15]
    assert res.failures[2]["expected"] == repr(["2"]) and res.failures[2]["got"] == repr(["1"])
    assert "columns" in res.failures[3]["why"]
    # a failing statement has the engine's error and no rows; a wrong result the reverse
    assert res.failures[0]["error"] is None and res.failures[0]["got"] is None
    assert res.failures[0]["kind"] == "statement succeeded"
    assert res.failures[1]["error"] and res.failures[1]["got"] is None
    assert res.failures[2]["error"] is None and res.failures[2]["kind"] == "wrong result"
    assert all(f["file"] == "<text>" for f in res.failures)


def test_every_failure_is_kept() -> None:
    text = "\n\n".join(f"query I nosort\nSELECT {i}\n----\n-1" for i in range(12))
    res = _run_text(text, {f"SELECT {i}": [(i,)] for i in range(12)})
    assert res.failed == len(res.failures) == 12
    assert [f["got"] for f in res.failures] == [repr([str(i)]) for i in range(12)]
    assert res.to_dict()["failures"] == res.failures


def test_labels_must_agree() -> None:
    text = """query I nosort label-a
SELECT 1
----
1

query I nosort label-a
SELECT 2
----
2

query I nosort label-b
SELECT 2
----
2
"""
    res = _run_text(text, {"SELECT 1": [(1,)], "SELECT 2": [(2,)]})
    assert (res.passed, res.failed) == (2, 1)
    assert "label-a" in res.failures[0]["why"]


def test_max_records_and_timeout_thread() -> None:
    text = "\n\n".join("query I nosort\nSELECT 1\n----\n1" for _ in range(10))
    res = slt.run_records(slt.parse(text), RowsEngine({"SELECT 1": [(1,)]}), max_records=3,
                          timeout=TIMEOUT)
    assert (res.run, res.passed) == (3, 3)


def test_timeout_does_not_stop_the_file() -> None:
    import threading

    release = threading.Event()

    class Slow(RowsEngine):
        def execute(self, sql):
            if sql == "SELECT slow":
                release.wait(60)
                msg = "interrupted"
                raise RuntimeError(msg)
            return super().execute(sql)

        def interrupt(self):
            release.set()

    text = "query I nosort\nSELECT slow\n----\n1\n\nquery I nosort\nSELECT 1\n----\n1\n"
    res = slt.run_records(slt.parse(text), Slow({"SELECT 1": [(1,)]}), timeout=0.2)
    assert (res.run, res.passed, res.failed) == (2, 1, 1)
    assert "timed out" in res.failures[0]["why"]


# --------------------------------------------------------------------------- bridge


def test_bridge_integer_division() -> None:
    pytest.importorskip("duckdb")
    eng = slt.DuckDBEngine()
    eng.execute("CREATE TABLE t1(a INTEGER, b INTEGER, r REAL)")
    eng.execute("INSERT INTO t1 VALUES(-7, 2, 1.0), (7, 0, 2.0)")
    rows = eng.execute("SELECT a/b, a/r, 7/2, -7/2, (a+1)/2 FROM t1 ORDER BY a")
    assert rows == [(-3, -7.0, 3, -3, -3), (None, 3.5, 3, -3, 4)]
    assert eng.execute("SELECT 1 IN (), NULL NOT IN ()") == [(False, True)]
    eng.execute("CREATE TABLE t2(x INTEGER)")
    eng.execute("INSERT INTO t2 VALUES(2)")
    assert eng.execute("SELECT 2 IN t2, 3 IN t2") == [(True, False)]


def test_bridge_nested_integer_division() -> None:
    # slt_good_2.test:42724: the inner division was left as DuckDB's float `/` because
    # the outer rewrite copied its operands before the inner one was rewritten
    bridge = slt.SqliteBridge("duckdb")
    bridge.translate("CREATE TABLE tab0(col0 INTEGER, col1 INTEGER)")
    out = bridge.translate("SELECT col0 / ( - 47 / 12 ), (col0 / 2) / (col1 / (3 / 2)) FROM tab0")
    tree = sqlglot.parse_one(out, read="duckdb")
    assert not list(tree.find_all(sqlglot.exp.Div)), out
    assert len(list(tree.find_all(sqlglot.exp.IntDiv))) == 6
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.execute("CREATE TABLE tab0(col0 INTEGER, col1 INTEGER)")
    con.execute("INSERT INTO tab0 VALUES (43, 7), (83, 9), (26, 5)")
    got = con.execute(out).fetchall()
    # SQLite's truncating division, computed in Python
    def div(a: int, b: int) -> int:
        q = abs(a) // abs(b)
        return q if (a < 0) == (b < 0) else -q
    want = [(div(a, div(-47, 12)), div(div(a, 2), div(b, div(3, 2))))
            for a, b in [(43, 7), (83, 9), (26, 5)]]
    assert got == want


# --------------------------------------------------------------------------- corpus


def _files() -> list[Path]:
    return sorted(CORPUS.rglob("*.test"))


# measured on DuckDB 1.5.5 with sqlglot 30.30 (see the runner's report); a small margin
SELECT1_RATE = 1.0
SLICE_RATE = 0.97
SLICE_CAP = 250


@needs_corpus
def test_duckdb_select1() -> None:
    pytest.importorskip("duckdb")
    res = slt.run_file(CORPUS / "select1.test", "duckdb", timeout=TIMEOUT)
    print(f"\nDuckDB select1.test: {res.passed}/{res.run} = {res.pass_rate:.1%}")
    assert res.run == res.passed + res.failed > 1000
    assert res.pass_rate >= SELECT1_RATE - 0.01, res.failures


@needs_corpus
def test_duckdb_slice(tmp_path) -> None:
    pytest.importorskip("duckdb")
    files = [f for f in _files() if f.name != "select1.test"]
    out = tmp_path / "r.json"
    argv = ["--engine", "duckdb", "--max-records", str(SLICE_CAP), "--timeout-per-record",
            str(TIMEOUT), "--out", str(out), *map(str, files)]
    assert slt.main(argv) == 0
    report = json.loads(out.read_text())
    total = report["total"]
    print(f"\nDuckDB slice ({SLICE_CAP} records/file): {total['passed']}/{total['run']} = "
          f"{total['pass_rate']:.1%}")
    assert total["run"] == total["passed"] + total["failed"]
    assert all(f["run"] + sum(f["skipped"].values()) <= SLICE_CAP for f in report["files"])
    assert total["pass_rate"] >= SLICE_RATE, [f["failures"][:2] for f in report["files"]]


def _xpdb_engine():
    try:
        return slt.XpdbEngine()
    except slt.EngineUnavailable as e:
        pytest.skip(str(e))


SIMPLE = """statement ok
CREATE TABLE t1(a INTEGER, b INTEGER, c TEXT)

statement ok
INSERT INTO t1 VALUES(1, 10, 'x')

statement ok
INSERT INTO t1 VALUES(2, NULL, '')

statement ok
INSERT INTO t1 VALUES(3, 30, 'z')

query I nosort
SELECT a FROM t1 ORDER BY a
----
1
2
3

query IIT rowsort
SELECT a, b, c FROM t1
----
1
10
x
2
NULL
(empty)
3
30
z

query I nosort
SELECT count(*) FROM t1 WHERE b > 5
----
2

query IR rowsort
SELECT a, a * 1.5 FROM t1 WHERE a <> 2
----
1
1.500
3
4.500

query I nosort
SELECT a / 2 FROM t1 ORDER BY a
----
0
1
1
"""


def test_xpdb_simple_records() -> None:
    engine = _xpdb_engine()
    res = slt.run_records(slt.parse(SIMPLE), engine, "simple", timeout=TIMEOUT)
    assert res.run == res.passed + res.failed == 9
    errors = [f for f in res.failures if not f["why"].startswith(("values differ", "label"))
              and "hashing" not in f["why"]]
    if errors:
        pytest.skip(f"xpdb's SQL cannot run these records yet: {errors}")
    assert res.failed == 0, res.failures


@needs_corpus
def test_xpdb_corpus_slice() -> None:
    _xpdb_engine()
    results = [slt.run_file(f, "xpdb", max_records=100, timeout=TIMEOUT) for f in _files()]
    total = slt.summarize(results)
    print(f"\nxpdb slice (100 records/file): {total['passed']}/{total['run']} = "
          f"{total['pass_rate']:.1%}\n{slt.format_table(results)}")
    assert total["run"] == total["passed"] + total["failed"]
    for r in results:
        assert r.total <= 100
