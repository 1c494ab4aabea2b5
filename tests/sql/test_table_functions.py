"""read_csv / read_parquet / read_json in FROM, against DuckDB reading the same files."""

from __future__ import annotations

import datetime as dt
import math
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb.errors import BindError, NotSupportedError, XpdbError
from xpdb.errors import IOError as XIOError
from xpdb.sql import plan as p
from xpdb.sql.table_functions import format_of
from xpdb.testing import assert_tables_equal

from .conftest import Both

CSV = ("id,name,price,day,note\n"
       "1,Ann,2.5,2024-01-05,NA\n"
       "2,日本,,2024-02-29,\n"
       "3,\"Bob, Jr.\",-1e3,,\"q\"\"\"\n"
       "4,ñ,NaN,2023-12-31,x\n")


def _write(path: pathlib.Path, text: str) -> str:
    path.write_text(text, encoding="utf8")
    return str(path)


@pytest.fixture
def files(tmp_path: pathlib.Path) -> dict[str, str]:
    out = {"csv": _write(tmp_path / "people.csv", CSV),
           "semi": _write(tmp_path / "semi.csv", "a;b\n1;x\n2;y\n"),
           "nohead": _write(tmp_path / "nohead.csv", "1,x,2.5\n2,y,3.5\n"),
           "json": _write(tmp_path / "rows.json",
                          '{"k": 1, "s": "a", "f": 1.5}\n\n{"k": 2, "s": null}\n'
                          '{"k": 3, "s": "ü", "f": -2}\n')}
    (tmp_path / "parts").mkdir()
    for i in range(3):
        _write(tmp_path / "parts" / f"p{i}.csv", f"k,v\n{i},{i * 10}\n{i + 100},{i}\n")
        pq.write_table(pa.table({"k": pa.array([i, i + 10], pa.int64()),
                                 "s": [f"s{i}", None]}), tmp_path / "parts" / f"p{i}.parquet")
    out["parts"] = str(tmp_path / "parts")
    out["parquet"] = str(tmp_path / "parts" / "p0.parquet")
    return out


def test_read_csv_matches_duckdb(device: str, files: dict[str, str]) -> None:
    both = Both(device)
    f = files["csv"]
    both.check(f"SELECT * FROM read_csv('{f}')")
    both.check(f"SELECT * FROM read_csv('{f}', header = true, delim = ',') ORDER BY id")
    both.check(f"SELECT * FROM read_csv_auto('{f}')")
    both.check(f"SELECT * FROM read_csv('{files['semi']}', delim = ';')")
    both.check(f"SELECT * FROM read_csv('{files['semi']}', sep = ';', header = false)")
    both.check(f"SELECT * FROM read_csv('{files['nohead']}')")
    both.check(f"SELECT column1, column2 * 2 AS y FROM read_csv('{files['nohead']}')")


def test_read_csv_aliases_joins_subqueries(device: str, files: dict[str, str]) -> None:
    both = Both(device)
    f = files["csv"]
    both.check(f"SELECT x.i, x.n FROM read_csv('{f}') AS x(i, n) ORDER BY x.i")
    both.check(f"SELECT read_csv.name FROM read_csv('{f}') ORDER BY 1")
    both.check(f"SELECT o.id, o.amount, r.name FROM orders o JOIN read_csv('{f}') r "
               "ON o.id = r.id ORDER BY o.id")
    both.check(f"SELECT o.id, r.name FROM orders o LEFT JOIN read_csv('{f}') AS r "
               "ON o.id = r.id ORDER BY o.id")
    both.check(f"SELECT count(*) AS n, max(price) AS m FROM (SELECT * FROM read_csv('{f}') "
               "WHERE id > 1) s")
    both.check(f"WITH c AS (SELECT * FROM read_csv('{f}')) SELECT name FROM c WHERE id IN "
               f"(SELECT id FROM read_csv('{f}') WHERE day IS NOT NULL)")
    for con in (both.db, both.duck):
        con.sql(f"CREATE TABLE people AS SELECT * FROM read_csv('{f}')")
    both.check("SELECT * FROM people ORDER BY id")
    assert both.db.sql("DESCRIBE people").fetchall() == \
        both.duck.sql("SELECT column_name, column_type FROM (DESCRIBE people)").fetchall()


def test_read_csv_options(device: str, files: dict[str, str], tmp_path: pathlib.Path) -> None:
    both = Both(device)
    f = files["csv"]
    both.check(f"SELECT * FROM read_csv('{f}', nullstr = 'NA')")
    both.check(f"SELECT * FROM read_csv('{f}', types = {{'id': 'INTEGER', 'price': 'DOUBLE'}})")
    both.check(f"SELECT * FROM read_csv('{f}', names = ['a', 'b', 'c', 'd', 'e'])")
    both.check(f"SELECT * FROM read_csv('{files['nohead']}', columns = {{'a': 'INTEGER', "
               "'b': 'VARCHAR', 'c': 'DOUBLE'})")
    g = _write(tmp_path / "skip.csv", "junk line\na|b\n1|\"q|r\"\n")
    both.check(f"SELECT * FROM read_csv('{g}', skip = 1, delim = '|', header = true)")
    # a quoted empty field is the empty string (DuckDB's allow_quoted_nulls reads it as NULL)
    q = _write(tmp_path / "q.csv", 'a,b\n1,""\n2,\n')
    assert both.db.sql(f"SELECT * FROM read_csv('{q}')").fetchall() == [(1, ""), (2, None)]
    res = both.db.sql(f"SELECT * FROM read_csv('{f}', types = {{'id': 'SMALLINT'}})")
    assert str(res.types[0]) == "int16"


def test_read_csv_glob_and_list(device: str, files: dict[str, str]) -> None:
    both = Both(device)
    d = files["parts"]
    both.check(f"SELECT * FROM read_csv('{d}/p[01].csv')", ordered=True)
    both.check(f"SELECT * FROM read_csv(['{d}/p1.csv', '{d}/p0.csv'])", ordered=True)
    both.check(f"SELECT * FROM read_csv('{d}/p*.csv')")


def test_read_parquet(device: str, files: dict[str, str]) -> None:
    both = Both(device)
    d = files["parts"]
    both.check(f"SELECT * FROM read_parquet('{files['parquet']}')", ordered=True)
    both.check(f"SELECT * FROM read_parquet('{d}/*.parquet')", ordered=True)
    both.check(f"SELECT * FROM parquet_scan(['{d}/p2.parquet', '{d}/p0.parquet'])",
               ordered=True)
    both.check(f"SELECT s, sum(k) AS t FROM read_parquet('{d}/*.parquet') GROUP BY s")
    both.check(f"SELECT a.k, b.s FROM read_parquet('{d}/p1.parquet') a(k) "
               f"JOIN read_parquet('{d}/*.parquet') AS b ON a.k = b.k")


def test_read_json(device: str, files: dict[str, str], tmp_path: pathlib.Path) -> None:
    both = Both(device)
    f = files["json"]
    for fn in ("read_json", "read_json_auto", "read_ndjson", "read_ndjson_auto"):
        both.check(f"SELECT * FROM {fn}('{f}')", ordered=True)
    both.check(f"SELECT * FROM read_json('{f}', format = 'newline_delimited')")
    both.check(f"SELECT * FROM read_json('{f}', columns = {{'k': 'INTEGER', 's': 'VARCHAR'}})")
    ts = _write(tmp_path / "ts.json", '{"d": "2024-01-05", "t": "2024-01-05 10:00:00.25"}\n'
                '{"d": null, "t": "1969-12-31 23:59:59"}\n{"d": "1900-03-01", "t": null}\n')
    both.check(f"SELECT * FROM read_json('{ts}')", ordered=True)
    tcsv = _write(tmp_path / "ts.csv", "t,d\n2024-01-05 10:00:00,2024-01-05\n,1900-03-01\n")
    both.check(f"SELECT * FROM read_csv('{tcsv}')", ordered=True)
    for src in (ts, tcsv):
        fn = "read_json" if src.endswith("json") else "read_csv"
        sql = f"DESCRIBE SELECT * FROM {fn}('{src}')"
        assert both.db.sql(sql).fetchall() == [r[:2] for r in both.duck.sql(sql).fetchall()]
    arr = _write(tmp_path / "arr.json", '[{"a": 1, "b": "x"}, {"a": null, "b": "y"}]')
    both.check(f"SELECT * FROM read_json('{arr}')")
    both.check(f"SELECT * FROM read_json('{arr}', format = 'array')")


def test_plan_node(files: dict[str, str]) -> None:
    import sqlglot

    from xpdb.sql.planner import plan_query

    tree = sqlglot.parse_one(f"SELECT * FROM read_csv('{files['csv']}', header = false) AS "
                             "x(a)", dialect="duckdb")
    node = plan_query(tree)
    while not isinstance(node, p.TableFunction):
        node = node.child
    assert (node.name, node.alias, node.columns, list(node.options)) == \
        ("read_csv", "x", ["a"], ["header"])
    assert format_of("a.CSV.gz") == "csv"


def test_missing_file(device: str, files: dict[str, str], tmp_path: pathlib.Path) -> None:
    both = Both(device)
    missing = str(tmp_path / "peeple.csv")
    with pytest.raises(XIOError, match="peeple.csv' not found; did you mean .*people.csv"):
        both.db.sql(f"SELECT * FROM read_csv('{missing}')")
    with pytest.raises(XIOError, match=r"no file matches the pattern .*nothing\*\.parquet"):
        both.db.sql(f"SELECT * FROM read_parquet('{tmp_path}/nothing*.parquet')")
    with pytest.raises(XIOError, match="nope.json"):
        both.db.sql(f"SELECT * FROM read_json('{tmp_path}/nope.json')")


def test_bad_input(device: str, files: dict[str, str], tmp_path: pathlib.Path) -> None:
    both = Both(device)
    bad = _write(tmp_path / "bad.csv", "a,b\n1,x\n2,y\nabc,z\n")
    with pytest.raises(XIOError, match=r"bad\.csv:4: column 'a': value 'abc' is not a valid"):
        both.db.sql(f"SELECT * FROM read_csv('{bad}', types = {{'a': 'INTEGER'}})")
    ragged = _write(tmp_path / "ragged.csv", "a,b\n1,x\n2,y,3\n")
    with pytest.raises(XIOError, match=r"ragged\.csv:3: malformed CSV row"):
        both.db.sql(f"SELECT * FROM read_csv('{ragged}')")
    badjson = _write(tmp_path / "bad.json", '{"a": 1}\n{"a": oops}\n')
    with pytest.raises(XIOError, match=r"bad\.json"):
        both.db.sql(f"SELECT * FROM read_json('{badjson}')")
    f = files["csv"]
    with pytest.raises(NotSupportedError, match="option 'bogus' is not supported"):
        both.db.sql(f"SELECT * FROM read_csv('{f}', bogus = 1)")
    with pytest.raises(NotSupportedError, match="table function read_xlsx"):
        both.db.sql(f"SELECT * FROM read_xlsx('{f}')")
    with pytest.raises(NotSupportedError, match="constants"):
        both.db.sql(f"SELECT * FROM orders, read_csv('{f}', header = orders.id > 1)")
    with pytest.raises(BindError, match="5 columns but 6 names"):
        both.db.sql(f"SELECT * FROM read_csv('{f}') AS x(a, b, c, d, e, g)")
    with pytest.raises(BindError, match="unknown type 'NOTATYPE'"):
        both.db.sql(f"SELECT * FROM read_csv('{f}', types = {{'id': 'NOTATYPE'}})")
    with pytest.raises(XpdbError, match="format"):
        both.db.sql(f"SELECT * FROM read_json('{files['json']}', format = 'weird')")


# -- property: what COPY TO writes, read_* reads back as DuckDB does ------------------------
_INT = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
_FLOAT = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
_TEXT = st.one_of(st.none(), st.text(alphabet=st.characters(codec="utf-8",
                                                            exclude_categories=("Cs", "Cc")),
                                     max_size=6).map(lambda s: "s" + s))
_ROWS = st.lists(st.tuples(_INT, _FLOAT, _TEXT, st.one_of(st.none(), st.dates())), max_size=8)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_ROWS)
def test_parquet_roundtrip_property(device: str, tmp_path_factory: pytest.TempPathFactory,
                                    rows: list[tuple]) -> None:
    tb = pa.table({"i": pa.array([r[0] for r in rows], pa.int64()),
                   "f": pa.array([r[1] for r in rows], pa.float64()),
                   "s": pa.array([r[2] for r in rows], pa.string()),
                   "d": pa.array([r[3] for r in rows], pa.date32())})
    both = Both(device, {"src": tb})
    path = tmp_path_factory.mktemp("rt") / "x.parquet"
    n = both.db.sql(f"COPY src TO '{path}'").fetchall()
    assert n == [(len(rows),)]
    both.check(f"SELECT * FROM read_parquet('{path}')", ordered=True)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_ROWS, fmt=st.sampled_from(["csv", "json"]))
def test_text_roundtrip_property(device: str, tmp_path_factory: pytest.TempPathFactory,
                                 rows: list[tuple], fmt: str) -> None:
    # text formats infer types: keep every column's values typed as written
    rows = [(1, *r[1:]) for r in rows] + [(2**62, 0.5, "sx", dt.date(2020, 1, 1))]
    if fmt == "json":
        rows = [(r[0], None if r[1] is None or not math.isfinite(r[1]) else r[1], *r[2:])
                for r in rows]
    tb = pa.table({"i": pa.array([r[0] for r in rows], pa.int64()),
                   "f": pa.array([r[1] for r in rows], pa.float64()),
                   "s": pa.array([r[2] for r in rows], pa.string()),
                   "d": pa.array([r[3] for r in rows], pa.date32())})
    both = Both(device, {"src": tb})
    path = tmp_path_factory.mktemp("rt") / f"x.{fmt}"
    assert both.db.sql(f"COPY src TO '{path}'").rowcount == len(rows)
    types = "{'i': 'BIGINT', 'f': 'DOUBLE', 's': 'VARCHAR', 'd': 'DATE'}"
    opt = f"types = {types}" if fmt == "csv" else f"columns = {types}"
    both.check(f"SELECT * FROM read_{fmt}('{path}', {opt})", ordered=True)
    got = both.db.sql(f"SELECT * FROM read_{fmt}('{path}', {opt})").to_arrow()
    assert_tables_equal(got, tb)
