"""Parsing: error positions with a caret, and parameter binding through the syntax tree."""

from __future__ import annotations

import pytest

import xpdb
from xpdb.errors import ParseError
from xpdb.sql.parser import bind_parameters, parse


def test_parse_error_has_line_column_and_caret(device: str) -> None:
    db = xpdb.connect(device=device)
    with pytest.raises(ParseError) as info:
        db.sql("SELECT a,\n  b FROM t WHER x = 1 1")
    err = info.value
    assert err.line == 2
    assert err.column is not None
    text = str(err)
    assert "line 2" in text
    lines = text.split("\n")
    caret = lines[-1]
    assert caret.strip() == "^"
    assert lines[-2].strip() == "b FROM t WHER x = 1 1"
    pointed = lines[-2][caret.index("^")]
    assert pointed != " "


def test_parse_several_statements() -> None:
    assert [type(s).__name__ for s in parse("SELECT 1; SELECT 2;")] == ["Select", "Select"]


def test_bind_parameters_are_literals_not_text() -> None:
    tree = bind_parameters(parse("SELECT * FROM t WHERE s = ?")[0], ["x' OR '1'='1"])
    assert tree.sql() == "SELECT * FROM t WHERE s = 'x'' OR ''1''=''1'"


def test_bind_parameters_missing_value() -> None:
    with pytest.raises(ParseError, match="not bound"):
        bind_parameters(parse("SELECT ?, ?")[0], [1])


def test_execute_with_params(device: str) -> None:
    import datetime as dt

    db = xpdb.connect(device=device)
    db.sql("CREATE TABLE t (a INTEGER, s VARCHAR, d DATE)")
    db.execute("INSERT INTO t VALUES (?, ?, ?)", [1, "it's", dt.date(2024, 2, 29)])
    db.execute("INSERT INTO t VALUES ($1, $2, $3)", [2, None, None])
    res = db.execute("SELECT a, s, d FROM t WHERE a >= $1 ORDER BY a", [1])
    assert res.fetchall() == [(1, "it's", dt.date(2024, 2, 29)), (2, None, None)]
