"""The function registry: names, registration, errors."""

from __future__ import annotations

import pytest
import sqlglot

import xpdb
from xpdb.errors import BindError, NotSupportedError
from xpdb.kernels import expr as kx
from xpdb.sql import register_function
from xpdb.sql.functions import FUNCTIONS, function_name, is_aggregate


def _first(sql: str) -> sqlglot.exp.Expression:
    return sqlglot.parse_one(sql, dialect="duckdb").expressions[0]


def test_function_names() -> None:
    assert function_name(_first("SELECT upper(a)")) == "upper"
    assert function_name(_first("SELECT my_fn(a)")) == "my_fn"
    assert function_name(_first("SELECT stddev_pop(a)")) == "stddev_pop"
    assert is_aggregate(_first("SELECT sum(a)"))
    assert is_aggregate(_first("SELECT mean(a)"))
    assert not is_aggregate(_first("SELECT abs(a)"))


def test_register_function(device: str) -> None:
    register_function("twice", lambda c, ctx: kx.arith("mul", c, 2))
    try:
        db = xpdb.connect(device=device)
        assert db.sql("SELECT twice(x) FROM (VALUES (1), (4)) v(x)").fetchall() == [(2,), (8,)]
    finally:
        FUNCTIONS.pop("twice")


def test_unknown_function_suggests(device: str) -> None:
    db = xpdb.connect(device=device)
    with pytest.raises(BindError, match="did you mean 'upper'"):
        db.sql("SELECT uper('a')")


def test_aggregate_misplaced(device: str) -> None:
    db = xpdb.connect(device=device)
    with pytest.raises(BindError, match="not allowed"):
        db.sql("SELECT x FROM (VALUES (1)) v(x) GROUP BY sum(x)")


def test_constant_argument_required(device: str) -> None:
    db = xpdb.connect(device=device)
    with pytest.raises(NotSupportedError, match="constant"):
        db.sql("SELECT substring(s, n) FROM (VALUES ('abc', 2)) v(s, n)")
