"""Statements, registration, the catalog and the failed-statement guarantee."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

import xpdb
from xpdb.errors import BindError, CastError, NotSupportedError, StorageError, XpdbError
from xpdb.table import Table
from xpdb.testing import assert_tables_equal


def test_connect_path_that_is_no_database(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(StorageError, match="not an xpdb database"):
        xpdb.connect(tmp_path)


def test_register_kinds(device: str) -> None:
    db = xpdb.connect(device=device)
    pdf = pd.DataFrame({"a": [1, 2], "s": ["x", "ü"]})
    db.register("p", pdf)
    db.register("a", pa.table({"a": [3]}))
    db.register("t", Table.from_pydict({"a": [4]}))
    db.register("f", xpdb.from_pandas(pd.DataFrame({"a": [5]})))
    res = db.sql("SELECT a FROM p UNION ALL SELECT a FROM a UNION ALL SELECT a FROM t "
                 "UNION ALL SELECT a FROM f ORDER BY a")
    assert res.fetchall() == [(1,), (2,), (3,), (4,), (5,)]
    assert db.table("p").to_pandas()["s"].tolist() == ["x", "ü"]
    assert db.table("p")._table.device is db.device
    with pytest.raises(XpdbError, match="cannot register"):
        db.register("bad", [1, 2])


def test_create_insert_select(both) -> None:
    for con in (both.db, both.duck):
        con.sql("CREATE TABLE t (a INTEGER, b VARCHAR, d DATE, x DOUBLE)")
        con.sql("INSERT INTO t VALUES (1, 'a', DATE '2024-01-01', 1.5), (2, NULL, NULL, NULL)")
        con.sql("INSERT INTO t (b, a) VALUES ('ç', 3)")
        con.sql("INSERT INTO t SELECT id, status, day, amount FROM orders WHERE id > 6")
    both.check("SELECT * FROM t ORDER BY a")
    assert both.db.table("t").dtypes["a"] == xpdb.types.int32


def test_insert_rowcount(device: str) -> None:
    db = xpdb.connect(device=device)
    db.sql("CREATE TABLE t (a BIGINT)")
    assert db.sql("INSERT INTO t VALUES (1), (2), (3)").rowcount == 3
    assert db.sql("DELETE FROM t WHERE a >= 2").rowcount == 2
    assert db.sql("SELECT * FROM t").fetchall() == [(1,)]


def test_create_table_as_and_drop(both) -> None:
    both.db.sql("CREATE TABLE s AS SELECT cust, sum(amount) AS total FROM orders GROUP BY cust")
    both.duck.sql("CREATE TABLE s AS SELECT cust, sum(amount) AS total FROM orders GROUP BY cust")
    both.check("SELECT * FROM s")
    with pytest.raises(XpdbError, match="already exists"):
        both.db.sql("CREATE TABLE s (a INTEGER)")
    both.db.sql("CREATE TABLE IF NOT EXISTS s (a INTEGER)")
    both.db.sql("CREATE OR REPLACE TABLE s (a INTEGER)")
    assert both.db.sql("SELECT * FROM s").columns == ["a"]
    both.db.sql("DROP TABLE s")
    both.db.sql("DROP TABLE IF EXISTS s")
    with pytest.raises(BindError):
        both.db.sql("DROP TABLE s")


def test_views(both) -> None:
    both.db.sql("CREATE VIEW paris AS SELECT * FROM customers WHERE city = 'Paris'")
    both.duck.sql("CREATE VIEW paris AS SELECT * FROM customers WHERE city = 'Paris'")
    both.check("SELECT p.name, o.id FROM paris p JOIN orders o ON p.cust = o.cust")
    both.db.sql("DROP VIEW paris")
    with pytest.raises(BindError):
        both.db.sql("SELECT * FROM paris")


def test_show_and_describe(device: str) -> None:
    db = xpdb.connect(device=device)
    db.sql("CREATE TABLE b (x INTEGER, y VARCHAR); CREATE TABLE a (d DATE)")
    assert db.sql("SHOW TABLES").fetchall() == [("a",), ("b",)]
    assert db.sql("DESCRIBE b").fetchall() == [("x", "INTEGER"), ("y", "VARCHAR")]
    assert db.sql("DESCRIBE SELECT x + 1.5 AS z, y FROM b").fetchall() == [("z", "DOUBLE"),
                                                                           ("y", "VARCHAR")]


def test_failed_insert_changes_nothing(device: str) -> None:
    db = xpdb.connect(device=device)
    db.sql("CREATE TABLE t (a INTEGER, d DATE)")
    db.sql("INSERT INTO t VALUES (1, '2024-01-01')")
    with pytest.raises(CastError):
        db.sql("INSERT INTO t VALUES (2, '2024-02-02'), (3, 'not a date')")
    assert db.sql("SELECT * FROM t").fetchall() == [(1, dt.date(2024, 1, 1))]


def test_failed_script_keeps_earlier_statements(device: str) -> None:
    db = xpdb.connect(device=device)
    with pytest.raises(BindError):
        db.sql("CREATE TABLE t (a INTEGER); INSERT INTO t SELECT nope FROM t")
    assert db.sql("SELECT count(*) FROM t").fetchall() == [(0,)]


def test_unsupported_statement(device: str) -> None:
    db = xpdb.connect(device=device)
    db.sql("CREATE TABLE t (a INTEGER)")
    with pytest.raises(NotSupportedError, match="ALTER"):
        db.sql("ALTER TABLE t ADD COLUMN b INTEGER")


def test_update_and_delete(both) -> None:
    for con in (both.db, both.duck):
        con.sql("CREATE TABLE t AS SELECT id, qty, status FROM orders")
        con.sql("UPDATE t SET qty = qty * 10, status = upper(status) WHERE id % 2 = 0")
        con.sql("UPDATE t SET qty = NULL WHERE status IS NULL")
        con.sql("DELETE FROM t WHERE id = 3")
    both.check("SELECT * FROM t ORDER BY id")
    assert both.db.sql("UPDATE t SET qty = 0 WHERE id > 5").rowcount == 3


def test_failed_update_changes_nothing(device: str) -> None:
    db = xpdb.connect(device=device)
    db.sql("CREATE TABLE t (a INTEGER, s VARCHAR)")
    db.sql("INSERT INTO t VALUES (1, '5'), (2, 'x')")
    with pytest.raises(CastError):
        db.sql("UPDATE t SET a = 7, s = 'ok' WHERE a = 1; UPDATE t SET s = 'y', a = CAST(s AS INTEGER)")
    # the first statement committed; the failed second one changed nothing
    assert db.sql("SELECT * FROM t ORDER BY a").fetchall() == [(2, "x"), (7, "ok")]


def test_lazy_export() -> None:
    assert "connect" in xpdb.__all__
    assert xpdb.connect is xpdb.sql.connect


def test_database_table_roundtrip(device: str) -> None:
    db = xpdb.connect(device=device)
    db.sql("CREATE TABLE t AS SELECT 1 AS a, 'x' AS s")
    assert_tables_equal(db.table("t"), pa.table({"a": [1], "s": ["x"]}))
